//! [`BootState`]: a [`BootSource`] with its validated [`BootConfig`], shared by the handlers.

use std::sync::Arc;

use cairn_protocols::FieldError;

use crate::config::BootConfig;
use crate::ipxe::ScriptRenderer;
use crate::source::BootSource;

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
        config.validate()?;
        let renderer = ScriptRenderer::new(&config);
        let cloud_init_base = config.cloud_init_base_url.trim_end_matches('/').to_owned();
        Ok(BootState {
            inner: Arc::new(Inner {
                source,
                config,
                renderer,
                cloud_init_base,
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
}
