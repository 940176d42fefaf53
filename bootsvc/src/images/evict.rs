//! Removing cached files: over the limit (least recently used first, never one a wanted
//! image is served from), or when a file turned out damaged.

use std::collections::{HashMap, HashSet};

use std::sync::atomic::Ordering;

use super::index::Entry;
use super::{ImageCache, ImageId, State, reference};

/// Bytes held: each file once, however many URLs name it.
pub(super) fn total_bytes(entries: &HashMap<String, Entry>) -> u64 {
    files(entries).values().map(|(size, _)| size).sum()
}

/// The files (by digest) to remove so that at most `max_bytes` stay, least recently used
/// first, never one in `protected` (the files the desired state's images are served from).
/// When the protected files alone exceed the limit they all stay: serving the desired state
/// matters more than the limit.
pub(super) fn plan(
    entries: &HashMap<String, Entry>,
    protected: &HashSet<[u8; 32]>,
    max_bytes: u64,
) -> Vec<[u8; 32]> {
    let files = files(entries);
    let mut total: u64 = files.values().map(|(size, _)| size).sum();
    if total <= max_bytes {
        return Vec::new();
    }
    let mut candidates: Vec<_> = files
        .into_iter()
        .filter(|(sha, _)| !protected.contains(sha))
        .collect();
    candidates.sort_by_key(|(sha, (_, last_used))| (*last_used, *sha));
    let mut out = Vec::new();
    for (sha, (size, _)) in candidates {
        if total <= max_bytes {
            break;
        }
        total -= size;
        out.push(sha);
    }
    out
}

/// Each file's size and latest use over the URLs naming it.
fn files(entries: &HashMap<String, Entry>) -> HashMap<[u8; 32], (u64, u64)> {
    let mut files: HashMap<[u8; 32], (u64, u64)> = HashMap::new();
    for e in entries.values() {
        let f = files.entry(e.sha256).or_insert((e.size, e.last_used));
        f.1 = f.1.max(e.last_used);
    }
    files
}

impl ImageCache {
    /// Drops `entry` of image `id` after its file turned out damaged, unless it was replaced
    /// meanwhile.
    pub(super) fn forget(&self, id: ImageId, entry: &Entry) {
        let mut st = self.lock();
        let Some(url) = st.wanted.get(&id).map(|i| i.url.clone()) else {
            return;
        };
        if st.entries.get(&url) == Some(entry) {
            st.entries.remove(&url);
            if let Err(e) = self.inner.index.remove(url.as_bytes()) {
                tracing::warn!(error = %e, "removing an image index entry failed");
            }
            self.remove_file_if_unused(&st, &entry.sha256);
        }
    }

    /// Removes files until the cache fits its limit, never one a wanted image is served from.
    pub(super) fn evict(&self, st: &mut State) {
        let protected: HashSet<[u8; 32]> = st
            .wanted
            .values()
            .filter_map(|i| st.entries.get(&i.url).filter(|e| i.accepts(e)))
            .map(|e| e.sha256)
            .collect();
        let doomed = plan(&st.entries, &protected, self.inner.max_bytes);
        if doomed.is_empty() {
            let total = total_bytes(&st.entries);
            if total > self.inner.max_bytes {
                tracing::warn!(
                    total,
                    max = self.inner.max_bytes,
                    "the wanted images alone exceed the image cache's limit; keeping them"
                );
            }
            return;
        }
        let doomed: HashSet<[u8; 32]> = doomed.into_iter().collect();
        let urls: Vec<String> = st
            .entries
            .iter()
            .filter(|(_, e)| doomed.contains(&e.sha256))
            .map(|(u, _)| u.clone())
            .collect();
        for url in urls {
            st.entries.remove(&url);
            if let Err(e) = self.inner.index.remove(url.as_bytes()) {
                tracing::warn!(error = %e, "removing an image index entry failed");
            }
        }
        for sha in &doomed {
            self.remove_file_if_unused(st, sha);
            self.inner
                .counters
                .evictions
                .fetch_add(1, Ordering::Relaxed);
        }
        tracing::info!(
            files = doomed.len(),
            "evicted images over the cache's limit"
        );
    }

    /// Removes the file with this digest unless an entry still names it.
    pub(super) fn remove_file_if_unused(&self, st: &State, sha: &[u8; 32]) {
        if st.entries.values().any(|e| &e.sha256 == sha) {
            return;
        }
        let path = self.inner.dir.join(reference::hex(sha));
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %path.display(), error = %e, "removing an image file failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sha: u8, size: u64, last_used: u64) -> Entry {
        Entry {
            sha256: [sha; 32],
            size,
            fetched_at: 0,
            last_used,
        }
    }

    #[test]
    fn least_recently_used_unprotected_files_go_first() {
        let entries: HashMap<String, Entry> = [
            ("a", entry(1, 10, 5)),
            ("b", entry(2, 10, 1)),
            ("c", entry(3, 10, 2)),
            ("d", entry(4, 10, 3)),
            // A second URL for c's content, used lately: c's file counts as recent.
            ("c2", entry(3, 10, 9)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(total_bytes(&entries), 40);
        let protected = HashSet::from([[2; 32]]);
        assert_eq!(plan(&entries, &protected, 40), Vec::<[u8; 32]>::new());
        assert_eq!(plan(&entries, &protected, 25), vec![[4; 32], [1; 32]]);
        // Only protected files left: they stay over the limit.
        let all = HashSet::from([[1; 32], [2; 32], [3; 32], [4; 32]]);
        assert!(plan(&entries, &all, 0).is_empty());
        assert_eq!(plan(&entries, &protected, 0).len(), 3);
    }
}
