//! Rendered answers kept for one revision of the source.
//!
//! A booting rack asks the same questions of the same data thousands of times; rendering
//! meta-data (YAML) or a script each time is most of the handler's cost. An answer is stored
//! under what it answers (the request's node selector, or the asking address) together with
//! the [`BootSource::revision`](crate::BootSource::revision) read *before* its data was
//! loaded, and served only while the source still reports that revision. Any change to the
//! source moves the revision on and drops every stored answer at once: simple, and boot data
//! changes far less often than nodes boot. Errors are never stored.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;

use crate::bootscript::BootscriptQuery;

/// Most answers kept; reaching it drops them all (a full cluster's answers refill it within
/// one boot round, and a flood of made-up queries cannot grow it).
pub const ANSWER_CACHE_CAPACITY: usize = 32 * 1024;

/// What a stored answer answers. Everything the answer depends on besides the source's data
/// is in the key, so one node's answer is never served to another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum AnswerKey {
    /// A bootscript (never `?json=1`) for this parsed query.
    Bootscript(BootscriptQuery),
    /// `meta-data` for the node at this address.
    MetaData(IpAddr),
    /// `user-data` for the node at this address.
    UserData(IpAddr),
    /// `vendor-data` for the node at this address.
    VendorData(IpAddr),
}

/// Answers stored for one revision, bounded by a capacity.
pub(crate) struct AnswerCache {
    capacity: usize,
    entries: Mutex<Entries>,
}

struct Entries {
    revision: u64,
    answers: HashMap<AnswerKey, Bytes>,
}

impl AnswerCache {
    /// An empty cache holding at most `capacity` answers.
    pub(crate) fn new(capacity: usize) -> Self {
        AnswerCache {
            capacity,
            entries: Mutex::new(Entries {
                revision: 0,
                answers: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // The map is only ever inserted into or cleared: a panic elsewhere cannot leave it
        // half-updated, so a poisoned lock is still sound to use.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer stored for `key` at exactly `revision`.
    pub(crate) fn get(&self, revision: u64, key: &AnswerKey) -> Option<Bytes> {
        let entries = self.lock();
        if entries.revision != revision {
            return None;
        }
        entries.answers.get(key).cloned()
    }

    /// Stores `answer`, rendered from data read at `revision` or later. An answer older than
    /// what is stored is dropped; a newer one replaces everything stored.
    pub(crate) fn put(&self, revision: u64, key: AnswerKey, answer: Bytes) {
        let mut entries = self.lock();
        if revision < entries.revision {
            return;
        }
        if revision > entries.revision || entries.answers.len() >= self.capacity {
            entries.answers.clear();
            entries.revision = revision;
        }
        entries.answers.insert(key, answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn answers_live_for_one_revision_and_one_key() {
        let c = AnswerCache::new(8);
        c.put(3, AnswerKey::MetaData(ip(1)), Bytes::from_static(b"one"));
        assert_eq!(
            c.get(3, &AnswerKey::MetaData(ip(1))).as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(c.get(3, &AnswerKey::MetaData(ip(2))), None);
        assert_eq!(c.get(3, &AnswerKey::UserData(ip(1))), None);
        assert_eq!(c.get(4, &AnswerKey::MetaData(ip(1))), None);
        // An answer rendered from older data does not displace newer ones.
        c.put(4, AnswerKey::MetaData(ip(2)), Bytes::from_static(b"two"));
        c.put(3, AnswerKey::MetaData(ip(1)), Bytes::from_static(b"old"));
        assert_eq!(c.get(4, &AnswerKey::MetaData(ip(1))), None);
        assert_eq!(c.get(3, &AnswerKey::MetaData(ip(1))), None);
        assert!(c.get(4, &AnswerKey::MetaData(ip(2))).is_some());
    }

    #[test]
    fn capacity_bounds_the_entries() {
        let c = AnswerCache::new(4);
        for i in 0..10 {
            c.put(1, AnswerKey::VendorData(ip(i)), Bytes::from_static(b"x"));
            assert!(c.lock().answers.len() <= 4);
        }
        assert!(c.get(1, &AnswerKey::VendorData(ip(9))).is_some());
    }
}
