//! The rack agent's image cache: kernels and initrds fetched once from their origin, kept on
//! the agent's disk and served from there, so a rack keeps booting while its coordinators
//! (and the image origin) are out of reach.
//!
//! - Only the images the desired state names ([`ImageCache::set_wanted`]) are fetched or
//!   served: the cache is not an open proxy.
//! - Files are named by the SHA-256 of their content and only ever appear complete: a fill
//!   writes a temporary file, hashing as it goes, checks the size (`Content-Length`, the
//!   expected size) and digest (the expected one, `Repr-Digest`), syncs it, renames it and
//!   syncs the directory. A sled index (`URL → digest, size, fetched_at, last_used`) survives
//!   restarts.
//! - Concurrent requests for one image start one fill, in its own task so a client hanging
//!   up does not cancel it; the others wait for it and are then served from the file. A
//!   failure is answered to every waiter and the next request tries again.
//! - A cached image is served as long as it is wanted, without asking the origin again: an
//!   origin URL is taken to name immutable content. To change an image, change its URL or
//!   its `#sha256=`.
//! - Over `max_bytes`, files no wanted image is served from leave, least recently used first.
//!
//! Boot scripts name the cache through [`crate::state::ImageUrls`], which [`ImageCache`]
//! implements; [`images_router`] serves `GET`/`HEAD /boot/v1/images/{id}/{name}` with Range
//! and conditional requests (tower-http's `ServeFile`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Semaphore, watch};
use tracing::Instrument as _;

mod error;
mod evict;
mod fill;
mod flight;
mod http;
mod index;
mod reference;

pub use error::ImageError;
pub use http::images_router;
pub use reference::{ImageId, ImageRef};

use flight::{FillState, Flight, wait};
use index::{Clock, Entry};

/// Where images are served, under the boot service's base URL.
pub const IMAGES_PATH: &str = "/boot/v1/images";

/// Fills a prefetch runs at once: enough to overlap latency, few enough to spare the origin
/// and the uplink when a new image set reaches hundreds of racks.
const PREFETCH_CONCURRENCY: usize = 4;

/// The image cache. Cheap to clone (one `Arc`); every clone is the same cache.
#[derive(Clone)]
pub struct ImageCache {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    index: sled::Tree,
    client: reqwest::Client,
    max_bytes: u64,
    state: Mutex<State>,
    counters: Counters,
    tmp_seq: AtomicU64,
}

struct State {
    wanted: HashMap<ImageId, ImageRef>,
    /// By normalized origin URL, as in the index.
    entries: HashMap<String, Entry>,
    flights: HashMap<ImageId, Flight>,
    clock: Clock,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    joined: AtomicU64,
    fills: AtomicU64,
    fill_failures: AtomicU64,
    evictions: AtomicU64,
}

/// What the cache has done since it was opened, and holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CacheStats {
    /// Requests served from a file already cached.
    pub hits: u64,
    /// Requests that waited for a fill another request (or a prefetch) started.
    pub joined: u64,
    /// Fills that completed and verified.
    pub fills: u64,
    /// Fills that failed (unreachable origin, bad status, size or digest mismatch, I/O).
    pub fill_failures: u64,
    /// Files removed to stay under the size limit.
    pub evictions: u64,
    /// Bytes held, each file once.
    pub bytes_cached: u64,
    /// Files held.
    pub files: u64,
}

/// How a request proceeds: serve the cached file, or wait for a fill.
enum Begin {
    Hit(Entry),
    Wait(watch::Receiver<FillState>),
}

impl ImageCache {
    /// Opens the cache in `dir` (created if needed) with its index in `index`; `client`
    /// fetches from the origins, with its timeouts (set a connect and a read timeout: a fill
    /// waits as long as the client does). Entries whose file is missing, unfinished fills
    /// and unindexed files are removed.
    pub fn open(
        dir: PathBuf,
        index: sled::Tree,
        client: reqwest::Client,
        max_bytes: u64,
    ) -> Result<ImageCache, ImageError> {
        std::fs::create_dir_all(&dir)
            .map_err(ImageError::io(format!("creating {}", dir.display())))?;
        let entries = index::load(&dir, &index)?;
        tracing::info!(dir = %dir.display(), images = entries.len(), "image cache opened");
        Ok(ImageCache {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    wanted: HashMap::new(),
                    clock: Clock::after(entries.values()),
                    entries,
                    flights: HashMap::new(),
                }),
                dir,
                index,
                client,
                max_bytes,
                counters: Counters::default(),
                tmp_seq: AtomicU64::new(0),
            }),
        })
    }

    /// The images the desired state names now: only these may be fetched or served; the
    /// others become evictable (and are removed at once if the cache is over its limit).
    pub fn set_wanted(&self, images: impl IntoIterator<Item = ImageRef>) {
        let wanted: HashMap<ImageId, ImageRef> = images.into_iter().map(|i| (i.id(), i)).collect();
        let mut st = self.lock();
        st.wanted = wanted;
        self.evict(&mut st);
    }

    /// The path, relative to the boot service's base URL, under which `origin` is served:
    /// `/boot/v1/images/<id>/<file name>`; `None` if `origin` is not an http(s) URL.
    pub fn local_path(&self, origin: &str) -> Option<String> {
        let image = ImageRef::parse(origin).ok()?;
        Some(format!(
            "{IMAGES_PATH}/{}/{}",
            image.id(),
            image.file_name()
        ))
    }

    /// Starts filling every wanted image not yet cached (call after [`Self::set_wanted`]),
    /// at most a few at a time, in a background task of the current Tokio runtime.
    /// Requests for an image being prefetched wait for that fill.
    pub fn prefetch(&self) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::error!("image prefetch needs a Tokio runtime; nothing prefetched");
            return;
        };
        let this = self.clone();
        let run = async move {
            let ids: Vec<ImageId> = this.lock().wanted.keys().copied().collect();
            let permits = Arc::new(Semaphore::new(PREFETCH_CONCURRENCY));
            for id in ids {
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                    return;
                };
                // Cached or no longer wanted images need nothing.
                if let Ok(Begin::Wait(rx)) = this.begin(id, false) {
                    tokio::spawn(async move {
                        let _ = wait(rx, id).await;
                        drop(permit);
                    });
                }
            }
        };
        rt.spawn(run.instrument(tracing::info_span!("image_prefetch")));
    }

    /// Counters and current size.
    pub fn stats(&self) -> CacheStats {
        let c = &self.inner.counters;
        let st = self.lock();
        let files: HashSet<[u8; 32]> = st.entries.values().map(|e| e.sha256).collect();
        CacheStats {
            hits: c.hits.load(Ordering::Relaxed),
            joined: c.joined.load(Ordering::Relaxed),
            fills: c.fills.load(Ordering::Relaxed),
            fill_failures: c.fill_failures.load(Ordering::Relaxed),
            evictions: c.evictions.load(Ordering::Relaxed),
            bytes_cached: evict::total_bytes(&st.entries),
            files: u64::try_from(files.len()).unwrap_or(u64::MAX),
        }
    }

    /// The file to serve for `id`: cached, or after a fill (started here or joined).
    pub(crate) async fn open_image(&self, id: ImageId) -> Result<PathBuf, Arc<ImageError>> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let entry = match self.begin(id, true).map_err(Arc::new)? {
                Begin::Hit(e) => e,
                Begin::Wait(rx) => wait(rx, id).await?,
            };
            let path = self.inner.dir.join(entry.file_name());
            let found = tokio::fs::metadata(&path).await.and_then(|m| {
                if m.len() == entry.size {
                    Ok(())
                } else {
                    Err(std::io::Error::other("its size changed"))
                }
            });
            match found {
                Ok(()) => return Ok(path),
                // Removed or truncated behind the cache's back: forget it and fetch again.
                Err(e) if attempts < 2 => {
                    tracing::warn!(file = %path.display(), error = %e, "cached image file damaged");
                    self.forget(id, &entry);
                }
                Err(e) => {
                    return Err(Arc::new(ImageError::Io {
                        what: format!("reading {}", path.display()),
                        source: e,
                    }));
                }
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent between statements; a panic elsewhere does not void it.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides how a request for `id` proceeds; starts a fill if none fits.
    fn begin(&self, id: ImageId, request: bool) -> Result<Begin, ImageError> {
        let counters = &self.inner.counters;
        let mut st = self.lock();
        let image = st
            .wanted
            .get(&id)
            .cloned()
            .ok_or(ImageError::NotWanted(id))?;
        if let Some(entry) = st.entries.get(&image.url).copied()
            && image.accepts(&entry)
        {
            if !request {
                return Ok(Begin::Hit(entry));
            }
            counters.hits.fetch_add(1, Ordering::Relaxed);
            let touched = Entry {
                last_used: st.clock.stamp(),
                ..entry
            };
            st.entries.insert(image.url.clone(), touched);
            drop(st);
            // Only eviction order depends on it: a lost update costs nothing more.
            if let Err(e) = self
                .inner
                .index
                .insert(image.url.as_bytes(), &touched.encode()[..])
            {
                tracing::warn!(error = %e, "recording an image's use failed");
            }
            return Ok(Begin::Hit(touched));
        }
        if let Some(f) = st.flights.get(&id) {
            // A closed sender means the fill task died without an answer: start another.
            if f.image == image && f.rx.has_changed().is_ok() {
                if request {
                    counters.joined.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(Begin::Wait(f.rx.clone()));
            }
        }
        Ok(Begin::Wait(self.start_fill(&mut st, id, image)))
    }
}

impl crate::state::ImageUrls for ImageCache {
    fn rewrite(&self, origin: &str) -> Option<String> {
        self.local_path(origin)
    }
}

impl std::fmt::Debug for ImageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageCache")
            .field("dir", &self.inner.dir)
            .field("max_bytes", &self.inner.max_bytes)
            .finish_non_exhaustive()
    }
}
