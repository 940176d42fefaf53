//! The persistent index (`origin URL → sha256, size, fetched_at, last_used` in sled) and the
//! cache directory it describes, so a restarted agent serves what it fetched before, even
//! with its coordinators and the image origin out of reach.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use super::ImageError;
use super::reference::{hex, parse_hex};

/// Prefix of the files a fill writes before it is verified.
pub(super) const TMP_PREFIX: &str = ".tmp-";

/// One cached image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The SHA-256 of the body, which names its file.
    pub sha256: [u8; 32],
    /// Its size in bytes.
    pub size: u64,
    /// When it was fetched, milliseconds since the Unix epoch.
    pub fetched_at: u64,
    /// When it was last served, milliseconds since the Unix epoch, made unique and increasing
    /// (see [`Clock`]) so LRU order has no ties.
    pub last_used: u64,
}

const ENCODED_LEN: usize = 32 + 8 * 3;

impl Entry {
    /// The name of its file in the cache directory.
    pub fn file_name(&self) -> String {
        hex(&self.sha256)
    }

    /// The sled value: the digest then three big-endian `u64`s.
    pub fn encode(&self) -> [u8; ENCODED_LEN] {
        let mut out = [0u8; ENCODED_LEN];
        out[..32].copy_from_slice(&self.sha256);
        out[32..40].copy_from_slice(&self.size.to_be_bytes());
        out[40..48].copy_from_slice(&self.fetched_at.to_be_bytes());
        out[48..].copy_from_slice(&self.last_used.to_be_bytes());
        out
    }

    /// The entry of a sled value, if it is one.
    pub fn decode(v: &[u8]) -> Option<Entry> {
        let v: &[u8; ENCODED_LEN] = v.try_into().ok()?;
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&v[i..i + 8]);
            u64::from_be_bytes(b)
        };
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(&v[..32]);
        Some(Entry {
            sha256,
            size: word(32),
            fetched_at: word(40),
            last_used: word(48),
        })
    }
}

/// Milliseconds since the Unix epoch (0 for a clock before it).
pub(super) fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Use stamps: wall-clock milliseconds, but each one later than the one before, so two uses
/// in one millisecond (or a clock stepped back) still order.
#[derive(Debug, Default)]
pub(super) struct Clock(u64);

impl Clock {
    /// Starts after every stamp already given out.
    pub fn after<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Self {
        Clock(entries.into_iter().map(|e| e.last_used).max().unwrap_or(0))
    }

    /// The next stamp.
    pub fn stamp(&mut self) -> u64 {
        self.0 = unix_millis().max(self.0.saturating_add(1));
        self.0
    }
}

/// Reads the index, keeping the entries whose file is present with the recorded size (the
/// others are removed: a crash between writing the index and renaming the file, or a file
/// deleted by hand), then removes unfinished fills and files no entry names.
///
/// Files are not re-hashed here: that would read every image at each start. They were
/// verified when written, and are only ever replaced by a rename.
pub(super) fn load(dir: &Path, tree: &sled::Tree) -> Result<HashMap<String, Entry>, ImageError> {
    let mut entries = HashMap::new();
    for item in tree.iter() {
        let (key, value) = item?;
        let url = std::str::from_utf8(&key).ok();
        let entry = Entry::decode(&value);
        let present = entry.is_some_and(|e| {
            std::fs::metadata(dir.join(e.file_name()))
                .is_ok_and(|m| m.is_file() && m.len() == e.size)
        });
        match (url, entry) {
            (Some(url), Some(entry)) if present => {
                entries.insert(url.to_owned(), entry);
            }
            _ => {
                tracing::warn!(
                    key = %String::from_utf8_lossy(&key),
                    "dropping an image index entry without its file"
                );
                tree.remove(&key)?;
            }
        }
    }
    sweep(dir, &entries)?;
    Ok(entries)
}

/// Removes unfinished fills and digest-named files no entry names. Other files are left
/// alone: the cache did not make them.
fn sweep(dir: &Path, entries: &HashMap<String, Entry>) -> Result<(), ImageError> {
    let named: HashSet<[u8; 32]> = entries.values().map(|e| e.sha256).collect();
    let listing =
        std::fs::read_dir(dir).map_err(ImageError::io(format!("listing {}", dir.display())))?;
    for item in listing {
        let item = item.map_err(ImageError::io(format!("listing {}", dir.display())))?;
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        let orphan = parse_hex::<32>(name).is_some_and(|sha| !named.contains(&sha));
        if name.starts_with(TMP_PREFIX) || orphan {
            tracing::info!(
                file = name,
                "removing an unfinished or unindexed image file"
            );
            std::fs::remove_file(item.path()).map_err(ImageError::io(format!(
                "removing {}",
                item.path().display()
            )))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_stamps_increase() {
        let e = Entry {
            sha256: [7; 32],
            size: 1 << 40,
            fetched_at: 3,
            last_used: u64::MAX,
        };
        assert_eq!(Entry::decode(&e.encode()), Some(e));
        assert_eq!(Entry::decode(&[0; 3]), None);
        let mut c = Clock::after([&Entry {
            last_used: u64::MAX - 5,
            ..e
        }]);
        let a = c.stamp();
        assert!(c.stamp() > a);
    }
}
