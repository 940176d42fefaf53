//! Durable snapshots: the state-machine bytes in a file of their own, the meta in sled.
//!
//! A snapshot is the whole state (about 22 MB for 100,000 nodes). Built in memory and stored as
//! a sled value, it took a buffer of up to twice its size and two more full copies (the batch,
//! then sled's tree, where it stayed resident while current) every `snapshot_logs_since_last`
//! entries: most of a replica's memory beyond its records, and, freed again each time, most of
//! its heap fragmentation. Here the state machine streams it into a file
//! ([`crate::StateMachine::write_snapshot`]), which costs no memory once written and is read
//! only when a follower needs the snapshot or the replica restarts.
//!
//! Crash safety: the file is written under a temporary name, synced and renamed, then sled's
//! `meta` and `file` keys are switched to it in one batch and flushed, and only then are other
//! files removed. A crash at any point leaves the previous meta naming a complete file.
//! Databases written before this layout keep their snapshot under the `data` key; it is read
//! from there until the next snapshot replaces it.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use openraft::StorageIOError;

use crate::SnapshotError;
use crate::typ::{SnapshotMeta, StorageError, io_err};

/// Directory (inside the sled directory) holding the snapshot files.
const DIR: &str = "state-snapshots";
const KEY_META: &[u8] = b"meta";
const KEY_FILE: &[u8] = b"file";
/// Where databases of the earlier layout keep the snapshot bytes.
const KEY_LEGACY_DATA: &[u8] = b"data";
/// The file a snapshot is written to before it is named (writers are serialized by the
/// store's snapshot lock, so one name does).
const TMP_NAME: &str = "building.tmp";
/// The state machine serializes in many small writes; they reach the file in blocks this big.
const WRITE_BUFFER: usize = 256 * 1024;

/// Persists the current snapshot: meta in sled tree `snapshot`, bytes in a file.
pub(crate) struct SnapshotPersist {
    db: sled::Db,
    tree: sled::Tree,
    dir: PathBuf,
}

/// The file name of a snapshot: its id, restricted to characters safe in any file system.
fn file_name(meta: &SnapshotMeta) -> String {
    let id: String = meta
        .snapshot_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("snapshot-{id}.bin")
}

/// Creates `path`, fills it through a buffer, syncs it and returns what `fill` returned and
/// the file's size. `fill` returns before the sync, so whatever it locks is not held across
/// the disk flush.
fn write_synced(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<SnapshotMeta, SnapshotError>,
) -> Result<(SnapshotMeta, u64), Box<dyn std::error::Error>> {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, std::fs::File::create(path)?);
    let meta = fill(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok((meta, file.metadata()?.len()))
}

impl SnapshotPersist {
    /// Uses tree `snapshot` of `db` and the snapshot directory inside `sled_dir`.
    pub(crate) fn new(db: sled::Db, tree: sled::Tree, sled_dir: &Path) -> Self {
        SnapshotPersist {
            db,
            tree,
            dir: sled_dir.join(DIR),
        }
    }

    /// Writes a snapshot file through `fill`, which returns the meta of what it wrote, and
    /// returns that meta and the file's size. The file is complete and durable when this
    /// returns (temporary name, sync, rename to the meta's name, directory sync), but not
    /// current until [`SnapshotPersist::commit`]. Blocking: run it on a blocking thread.
    pub(crate) fn write_file(
        &self,
        fill: impl FnOnce(&mut dyn Write) -> Result<SnapshotMeta, SnapshotError>,
    ) -> Result<(SnapshotMeta, u64), StorageError> {
        let err = |e: &dyn std::fmt::Display| {
            StorageError::from(StorageIOError::write_snapshot(None, io_err(e)))
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| err(&e))?;
        let tmp = self.dir.join(TMP_NAME);
        let written = write_synced(&tmp, fill);
        if written.is_err() {
            // Best effort: a leftover would only cost disk space until the next commit.
            let _ = std::fs::remove_file(&tmp);
        }
        let (meta, size) = written.map_err(|e| err(&e))?;
        let name = file_name(&meta);
        std::fs::rename(&tmp, self.dir.join(&name)).map_err(|e| err(&e))?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| err(&e))?;
        Ok((meta, size))
    }

    /// Makes the file written for `meta` the current snapshot, then removes every other one.
    pub(crate) async fn commit(&self, meta: &SnapshotMeta) -> Result<(), StorageError> {
        let err = |e: &dyn std::fmt::Display| {
            StorageError::from(StorageIOError::write_snapshot(
                Some(meta.signature()),
                io_err(e),
            ))
        };
        let name = file_name(meta);
        let meta_bytes = rmp_serde::to_vec_named(meta).map_err(|e| err(&e))?;
        let mut batch = sled::Batch::default();
        batch.insert(KEY_META, meta_bytes);
        batch.insert(KEY_FILE, name.as_bytes());
        batch.remove(KEY_LEGACY_DATA);
        self.tree.apply_batch(batch).map_err(|e| err(&e))?;
        self.db.flush_async().await.map_err(|e| err(&e))?;
        self.remove_others(&name).await;
        Ok(())
    }

    /// Removes the file written for `meta` when it did not become current (a newer snapshot
    /// was installed meanwhile), unless it is the current one's.
    pub(crate) async fn discard(&self, meta: &SnapshotMeta, current: &SnapshotMeta) {
        let name = file_name(meta);
        if name == file_name(current) {
            return;
        }
        if let Err(e) = tokio::fs::remove_file(self.dir.join(&name)).await {
            tracing::warn!(file = name, error = %e, "cannot remove a superseded snapshot");
        }
    }

    /// Removes every file of the directory but `keep`: older snapshots and temporary files
    /// left by a crash. Failing costs disk space only, so it is logged, not returned.
    async fn remove_others(&self, keep: &str) {
        let result = async {
            let mut entries = tokio::fs::read_dir(&self.dir).await?;
            while let Some(e) = entries.next_entry().await? {
                if e.file_name() != keep {
                    tokio::fs::remove_file(e.path()).await?;
                }
            }
            std::io::Result::Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot remove old snapshots");
        }
    }

    /// The stored snapshot's meta, if any.
    pub(crate) fn load_meta(&self) -> Result<Option<SnapshotMeta>, StorageError> {
        let err = |e: &dyn std::fmt::Display| {
            StorageError::from(StorageIOError::read_snapshot(None, io_err(e)))
        };
        match self.tree.get(KEY_META).map_err(|e| err(&e))? {
            None => Ok(None),
            Some(v) => rmp_serde::from_slice(&v).map(Some).map_err(|e| err(&e)),
        }
    }

    /// The stored snapshot's state-machine bytes, if any.
    pub(crate) fn load_data(&self) -> Result<Option<Vec<u8>>, StorageError> {
        let err = |e: &dyn std::fmt::Display| {
            StorageError::from(StorageIOError::read_snapshot(None, io_err(e)))
        };
        if let Some(name) = self.tree.get(KEY_FILE).map_err(|e| err(&e))? {
            let name = std::str::from_utf8(&name).map_err(|e| err(&e))?;
            let path = self.dir.join(name);
            let data =
                std::fs::read(&path).map_err(|e| err(&format!("{}: {e}", path.display())))?;
            return Ok(Some(data));
        }
        self.tree
            .get(KEY_LEGACY_DATA)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| err(&e))
    }
}

#[cfg(test)]
mod tests {
    use openraft::{CommittedLeaderId, LogId};

    use super::*;
    use crate::typ::StoredMembership;

    fn meta(index: u64, id: &str) -> SnapshotMeta {
        SnapshotMeta {
            last_log_id: Some(LogId::new(CommittedLeaderId::new(2, 1), index)),
            last_membership: StoredMembership::default(),
            snapshot_id: id.to_owned(),
        }
    }

    async fn save(snap: &SnapshotPersist, meta: &SnapshotMeta, data: &[u8]) -> anyhow::Result<()> {
        let (written, size) = snap.write_file(|w| {
            w.write_all(data)
                .map_err(|e| SnapshotError(e.to_string()))?;
            Ok(meta.clone())
        })?;
        assert_eq!((&written, size), (meta, data.len() as u64));
        snap.commit(meta).await?;
        Ok(())
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.join(DIR))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[tokio::test]
    async fn survives_reopen_and_keeps_one_file() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        {
            let (_log, snap, _h) = crate::sled_store::open(dir.path()).await?;
            assert!(snap.load_meta()?.is_none() && snap.load_data()?.is_none());
            save(&snap, &meta(7, "T2-N1-7-0"), b"first").await?;
            save(&snap, &meta(9, "T2/N1 9.1"), b"second").await?;
        }
        assert_eq!(files(dir.path()), ["snapshot-T2_N1_9_1.bin"]);
        let (_log, snap, _h) = crate::sled_store::open(dir.path()).await?;
        assert_eq!(snap.load_meta()?, Some(meta(9, "T2/N1 9.1")));
        assert_eq!(snap.load_data()?.as_deref(), Some(&b"second"[..]));
        Ok(())
    }

    #[tokio::test]
    async fn reads_the_earlier_layout_until_replaced() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let (_log, snap, _h) = crate::sled_store::open(dir.path()).await?;
        snap.tree
            .insert(KEY_META, rmp_serde::to_vec_named(&meta(3, "old"))?)?;
        snap.tree.insert(KEY_LEGACY_DATA, &b"legacy"[..])?;
        assert_eq!(snap.load_data()?.as_deref(), Some(&b"legacy"[..]));
        save(&snap, &meta(4, "new"), b"current").await?;
        assert!(snap.tree.get(KEY_LEGACY_DATA)?.is_none());
        assert_eq!(snap.load_data()?.as_deref(), Some(&b"current"[..]));
        Ok(())
    }

    #[tokio::test]
    async fn a_missing_file_is_an_error() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let (_log, snap, _h) = crate::sled_store::open(dir.path()).await?;
        save(&snap, &meta(5, "gone"), b"bytes").await?;
        std::fs::remove_file(dir.path().join(DIR).join("snapshot-gone.bin"))?;
        assert!(snap.load_data().is_err());
        Ok(())
    }

    #[tokio::test]
    async fn a_superseded_file_is_discarded_and_a_failed_fill_leaves_nothing() -> anyhow::Result<()>
    {
        let dir = tempfile::tempdir()?;
        let (_log, snap, _h) = crate::sled_store::open(dir.path()).await?;
        let current = meta(8, "current");
        save(&snap, &current, b"kept").await?;
        let late = meta(6, "late");
        snap.write_file(|w| {
            w.write_all(b"late")
                .map_err(|e| SnapshotError(e.to_string()))?;
            Ok(late.clone())
        })?;
        snap.discard(&late, &current).await;
        snap.discard(&current, &current).await;
        assert_eq!(files(dir.path()), ["snapshot-current.bin"]);
        let failed = snap.write_file(|_| Err(SnapshotError("no".into())));
        assert!(failed.is_err());
        assert_eq!(files(dir.path()), ["snapshot-current.bin"]);
        assert_eq!(snap.load_meta()?, Some(current));
        assert_eq!(snap.load_data()?.as_deref(), Some(&b"kept"[..]));
        Ok(())
    }
}
