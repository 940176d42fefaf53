//! [`BootState`]: a [`BootSource`] with its validated [`BootConfig`], shared by the handlers.

use std::sync::Arc;

use axum::body::Bytes;
use cairn_protocols::FieldError;

use crate::cache::{AnswerCache, AnswerKey};

use crate::config::BootConfig;
use crate::ipxe::ScriptRenderer;
use crate::source::BootSource;

/// Where boot scripts send nodes for their kernel and initrd, instead of the origin URL the
/// boot data names: the rack agent answers with its image cache
/// ([`crate::images::ImageCache`]); without it (the coordinator), scripts name the origin.
pub trait ImageUrls: Send + Sync + 'static {
    /// The path, relative to the boot service's base URL (`chain_base_url`), serving
    /// `origin`; `None` to leave `origin` in the script. Must be a function of `origin` alone:
    /// rendered answers are kept per inventory revision.
    fn rewrite(&self, origin: &str) -> Option<String>;
}

/// A source and its config, cheap to clone (one `Arc`). Build one per host service and give
/// clones to [`crate::bss_router`] and [`crate::cloud_init_router`].
pub struct BootState<S> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    source: S,
    config: BootConfig,
    renderer: ScriptRenderer,
    cloud_init_base: String,
    answers: AnswerCache,
}

impl<S> Clone for BootState<S> {
    fn clone(&self) -> Self {
        BootState {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S: BootSource> BootState<S> {
    /// Checks `config` (its URLs end up in scripts) and precomputes the fixed script parts.
    pub fn new(source: S, config: BootConfig) -> Result<Self, FieldError> {
        Self::build(source, config, None)
    }

    /// As [`Self::new`], with scripts naming kernels and initrds where `urls` says.
    pub fn with_image_urls(
        source: S,
        config: BootConfig,
        urls: Arc<dyn ImageUrls>,
    ) -> Result<Self, FieldError> {
        Self::build(source, config, Some(urls))
    }

    fn build(
        source: S,
        config: BootConfig,
        urls: Option<Arc<dyn ImageUrls>>,
    ) -> Result<Self, FieldError> {
        config.validate()?;
        let mut renderer = ScriptRenderer::new(&config);
        if let Some(urls) = urls {
            renderer = renderer.with_image_urls(urls);
        }
        let cloud_init_base = config.cloud_init_base_url.trim_end_matches('/').to_owned();
        let answer_cache_entries = config.answer_cache_entries;
        Ok(BootState {
            inner: Arc::new(Inner {
                source,
                config,
                renderer,
                cloud_init_base,
                answers: AnswerCache::new(answer_cache_entries),
            }),
        })
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.inner.source
    }

    /// The config.
    pub fn config(&self) -> &BootConfig {
        &self.inner.config
    }

    /// The script renderer for this config.
    pub fn renderer(&self) -> &ScriptRenderer {
        &self.inner.renderer
    }

    /// The configured cloud-init base URL, without a trailing `/`.
    pub fn cloud_init_base(&self) -> &str {
        &self.inner.cloud_init_base
    }

    /// The answer for `key` stored at the source's current revision, else `render`'s (kept
    /// for the next request).
    pub(crate) async fn answer(
        &self,
        key: AnswerKey,
        render: impl Future<Output = Result<String, crate::BootError>>,
    ) -> Result<Bytes, crate::BootError> {
        let revision = self.inner.source.revision();
        if let Some(hit) = self.stored(revision, &key) {
            return Ok(hit);
        }
        Ok(self.keep(revision, key, render.await?))
    }

    /// The answer for `key` stored at `revision`, the source's revision read before anything
    /// else of this request (so no answer is ever labelled newer than its data).
    pub(crate) fn stored(&self, revision: Option<u64>, key: &AnswerKey) -> Option<Bytes> {
        self.inner.answers.get(revision?, key)
    }

    /// Keeps `answer`, rendered from data read at `revision` or later, when the source has
    /// revisions.
    pub(crate) fn keep(&self, revision: Option<u64>, key: AnswerKey, answer: String) -> Bytes {
        let answer = Bytes::from(answer);
        if let Some(revision) = revision {
            self.inner.answers.put(revision, key, answer.clone());
        }
        answer
    }
}
