//! Fills in flight: one per image, in its own task, its result announced to every request
//! waiting on it; and the commit that makes a verified download visible.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::watch;
use tracing::Instrument as _;

use super::error::chain;
use super::index::{self, Entry, TMP_PREFIX};
use super::{ImageCache, ImageError, ImageId, ImageRef, State, fill};

/// A fill under way, for the requests that join it.
pub(super) struct Flight {
    /// The image as wanted when the fill started: a request for a different expectation
    /// (the desired state changed its digest meanwhile) starts its own fill.
    pub image: ImageRef,
    pub rx: watch::Receiver<FillState>,
}

#[derive(Clone)]
pub(super) enum FillState {
    Pending,
    Ready(Entry),
    Failed(Arc<ImageError>),
}

impl ImageCache {
    pub(super) fn start_fill(
        &self,
        st: &mut State,
        id: ImageId,
        image: ImageRef,
    ) -> watch::Receiver<FillState> {
        let (tx, rx) = watch::channel(FillState::Pending);
        st.flights.insert(
            id,
            Flight {
                image: image.clone(),
                rx: rx.clone(),
            },
        );
        let this = self.clone();
        let mine = rx.clone();
        let span = tracing::info_span!("image_fill", url = %image.display_url(), %id);
        tokio::spawn(
            async move {
                let state = this.fill(id, &image, &mine).await;
                tx.send_replace(state);
            }
            .instrument(span),
        );
        rx
    }

    /// Runs one fill to its end; the flight is closed before the result is announced, so a
    /// request arriving after a failure starts afresh.
    async fn fill(
        &self,
        id: ImageId,
        image: &ImageRef,
        mine: &watch::Receiver<FillState>,
    ) -> FillState {
        tracing::info!("fetching image");
        let seq = self.inner.tmp_seq.fetch_add(1, Ordering::Relaxed);
        let tmp = self.inner.dir.join(format!("{TMP_PREFIX}{id}-{seq}"));
        let result = match fill::fetch(&self.inner.client, image, tmp, self.inner.max_bytes).await {
            Ok(fetched) => self.commit(id, image, fetched, mine).await,
            Err(e) => Err(e),
        };
        let counters = &self.inner.counters;
        match result {
            Ok(entry) => {
                counters.fills.fetch_add(1, Ordering::Relaxed);
                tracing::info!(size = entry.size, sha256 = %entry.file_name(), "image cached");
                FillState::Ready(entry)
            }
            Err(e) => {
                counters.fill_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %chain(&e), "image fill failed; nothing cached");
                end_flight(&mut self.lock(), id, mine);
                FillState::Failed(Arc::new(e))
            }
        }
    }

    /// Makes a verified download visible: rename, index, memory, all under the lock so
    /// eviction never sees half of it; then the durability syncs.
    async fn commit(
        &self,
        id: ImageId,
        image: &ImageRef,
        fetched: fill::Fetched,
        mine: &watch::Receiver<FillState>,
    ) -> Result<Entry, ImageError> {
        let inner = &self.inner;
        let entry = {
            let mut st = self.lock();
            let entry = Entry {
                sha256: fetched.sha256,
                size: fetched.size,
                fetched_at: index::unix_millis(),
                last_used: st.clock.stamp(),
            };
            let path = inner.dir.join(entry.file_name());
            fetched.tmp.persist(&path)?;
            if let Err(e) = inner
                .index
                .insert(image.url.as_bytes(), &entry.encode()[..])
            {
                self.remove_file_if_unused(&st, &entry.sha256);
                return Err(e.into());
            }
            let old = st.entries.insert(image.url.clone(), entry);
            if let Some(old) = old.filter(|o| o.sha256 != entry.sha256) {
                self.remove_file_if_unused(&st, &old.sha256);
            }
            end_flight(&mut st, id, mine);
            self.evict(&mut st);
            entry
        };
        // A crash before these leaves a file without an index entry, or an entry without its
        // file: `open` removes either.
        let dir = inner.dir.clone();
        let synced = tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r);
        if let Err(e) = synced {
            tracing::warn!(error = %e, "syncing the image directory failed");
        }
        if let Err(e) = inner.index.flush_async().await {
            tracing::warn!(error = %e, "flushing the image index failed");
        }
        Ok(entry)
    }
}

/// Closes the flight of `id` if it is still this fill's.
pub(super) fn end_flight(st: &mut State, id: ImageId, mine: &watch::Receiver<FillState>) {
    if st.flights.get(&id).is_some_and(|f| f.rx.same_channel(mine)) {
        st.flights.remove(&id);
    }
}

/// Waits for a fill's result.
pub(super) async fn wait(
    mut rx: watch::Receiver<FillState>,
    id: ImageId,
) -> Result<Entry, Arc<ImageError>> {
    let done = rx
        .wait_for(|s| !matches!(s, FillState::Pending))
        .await
        .map(|s| s.clone());
    match done {
        Ok(FillState::Ready(entry)) => Ok(entry),
        Ok(FillState::Failed(e)) => Err(e),
        Ok(FillState::Pending) | Err(_) => Err(Arc::new(ImageError::Aborted(id))),
    }
}
