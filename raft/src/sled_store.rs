//! Everything that touches sled: the durable Raft log store and snapshot persistence.
//!
//! Layout of one sled database:
//! * tree `logs`: big-endian `u64` index → MessagePack `Entry`;
//! * tree `meta`: `vote`, `committed`, `last_purged` → MessagePack values;
//! * tree `snapshot`: `meta` → MessagePack `SnapshotMeta`, `file` → the name of the file in
//!   `state-snapshots/` holding the state-machine bytes (see [`SnapshotPersist`]).
//!
//! Votes, truncations and purges are flushed (fsync) before they return. Appends use group
//! commit: they return once in sled's memory, and one flusher task acknowledges them to
//! openraft after a flush that covers every append queued meanwhile. openraft 0.9 appends each
//! client write separately, so an inline flush per append would serialize the leader behind one
//! fsync per write.

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::time::Duration;

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{OptionalSend, RaftLogReader, StorageIOError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::RaftError;
use crate::snapshot_persist::SnapshotPersist;
use crate::typ::{Entry, LogId, LogState, StorageError, TypeConfig, Vote, io_err};

/// sled page cache size. The log is read near its tail (replication, apply) and snapshots live
/// in files, so a small cache costs little and keeps replicas lean.
const CACHE_CAPACITY: u64 = 16 * 1024 * 1024;
/// How long to wait for a previous instance (same process) to release the database lock.
const OPEN_RETRY: Duration = Duration::from_secs(5);

const KEY_VOTE: &[u8] = b"vote";
const KEY_COMMITTED: &[u8] = b"committed";
const KEY_LAST_PURGED: &[u8] = b"last_purged";

/// Opens (or creates) the sled database in `dir`.
///
/// Retries for a while if the database is still locked by a replica of this process that is
/// shutting down.
pub(crate) async fn open(
    dir: &Path,
) -> Result<(SledLogStore, SnapshotPersist, SledHandle), RaftError> {
    let deadline = tokio::time::Instant::now() + OPEN_RETRY;
    let db = loop {
        let res = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_CAPACITY)
            .open();
        match res {
            Ok(db) => break db,
            Err(sled::Error::Io(e)) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(error = %e, "sled database busy, retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(RaftError::Storage(Box::new(e))),
        }
    };
    let tree = |name: &str| {
        db.open_tree(name)
            .map_err(|e| RaftError::Storage(Box::new(e)))
    };
    let log = SledLogStore {
        db: db.clone(),
        logs: tree("logs")?,
        meta: tree("meta")?,
        flusher: spawn_flusher(db.clone()),
    };
    let snap = SnapshotPersist::new(db.clone(), tree("snapshot")?, dir);
    Ok((log, snap, SledHandle(db)))
}

/// A handle kept by the replica to flush and release the database at shutdown.
pub(crate) struct SledHandle(sled::Db);

impl SledHandle {
    /// Flushes everything to disk.
    pub(crate) async fn flush(&self) -> Result<(), RaftError> {
        self.0
            .flush_async()
            .await
            .map(|_| ())
            .map_err(|e| RaftError::Storage(Box::new(e)))
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, rmp_serde::encode::Error> {
    rmp_serde::to_vec_named(v)
}

fn decode<T: DeserializeOwned>(b: &[u8]) -> Result<T, rmp_serde::decode::Error> {
    rmp_serde::from_slice(b)
}

fn key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

fn bound(b: Bound<&u64>) -> Bound<[u8; 8]> {
    match b {
        Bound::Included(i) => Bound::Included(key(*i)),
        Bound::Excluded(i) => Bound::Excluded(key(*i)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Acknowledges appends in order, one flush for all that are waiting. Ends when every log
/// store clone (the senders) is dropped.
fn spawn_flusher(db: sled::Db) -> mpsc::UnboundedSender<LogFlushed<TypeConfig>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<LogFlushed<TypeConfig>>();
    tokio::spawn(async move {
        let mut waiting = Vec::new();
        while rx.recv_many(&mut waiting, 4096).await > 0 {
            let flushed = db.flush_async().await;
            for callback in waiting.drain(..) {
                callback.log_io_completed(match &flushed {
                    Ok(_) => Ok(()),
                    Err(e) => Err(std::io::Error::other(e.to_string())),
                });
            }
        }
    });
    tx
}

/// The durable Raft log store. Clones share the same database and flusher.
#[derive(Clone)]
pub(crate) struct SledLogStore {
    db: sled::Db,
    logs: sled::Tree,
    meta: sled::Tree,
    flusher: mpsc::UnboundedSender<LogFlushed<TypeConfig>>,
}

impl SledLogStore {
    fn get_meta<T: DeserializeOwned>(&self, k: &[u8]) -> Result<Option<T>, StorageError> {
        let read = |e: &dyn std::fmt::Display| StorageError::from(StorageIOError::read(io_err(e)));
        match self.meta.get(k).map_err(|e| read(&e))? {
            None => Ok(None),
            Some(v) => decode(&v).map(Some).map_err(|e| read(&e)),
        }
    }

    fn put_meta<T: Serialize>(&self, k: &[u8], v: &T) -> Result<(), StorageError> {
        let write =
            |e: &dyn std::fmt::Display| StorageError::from(StorageIOError::write(io_err(e)));
        let bytes = encode(v).map_err(|e| write(&e))?;
        self.meta.insert(k, bytes).map_err(|e| write(&e))?;
        Ok(())
    }

    async fn flush(&self) -> Result<(), StorageError> {
        self.db
            .flush_async()
            .await
            .map(|_| ())
            .map_err(|e| StorageIOError::write_logs(io_err(e)).into())
    }

    /// Removes every log whose index is in `range`.
    fn remove_range(&self, range: (Bound<[u8; 8]>, Bound<[u8; 8]>)) -> Result<(), StorageError> {
        let err = |e: sled::Error| StorageError::from(StorageIOError::write_logs(io_err(e)));
        let mut batch = sled::Batch::default();
        for item in self.logs.range(range) {
            let (k, _) = item.map_err(err)?;
            batch.remove(k);
        }
        self.logs.apply_batch(batch).map_err(err)
    }
}

impl RaftLogReader<TypeConfig> for SledLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let err =
            |e: &dyn std::fmt::Display| StorageError::from(StorageIOError::read_logs(io_err(e)));
        let r = (bound(range.start_bound()), bound(range.end_bound()));
        let mut out = Vec::new();
        for item in self.logs.range(r) {
            let (_, v) = item.map_err(|e| err(&e))?;
            out.push(decode::<Entry>(&v).map_err(|e| err(&e))?);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for SledLogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState, StorageError> {
        let err =
            |e: &dyn std::fmt::Display| StorageError::from(StorageIOError::read_logs(io_err(e)));
        let last_purged_log_id: Option<LogId> = self.get_meta(KEY_LAST_PURGED)?;
        let last = match self.logs.last().map_err(|e| err(&e))? {
            Some((_, v)) => Some(decode::<Entry>(&v).map_err(|e| err(&e))?.log_id),
            None => None,
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id: last.or(last_purged_log_id),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        self.put_meta(KEY_VOTE, vote)?;
        self.db
            .flush_async()
            .await
            .map(|_| ())
            .map_err(|e| StorageIOError::write_vote(io_err(e)).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        self.get_meta(KEY_VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // Not flushed on its own (the next append's flush carries it): a stale value only means
        // re-learning it from the leader. The one place it would matter, reads on a leader
        // restored in its old term, is fenced in `read_barrier::for_raft`.
        self.put_meta(KEY_COMMITTED, &committed)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.get_meta::<Option<LogId>>(KEY_COMMITTED)?.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut batch = sled::Batch::default();
        for e in entries {
            let bytes =
                encode(&e).map_err(|err| StorageIOError::write_log_entry(e.log_id, io_err(err)))?;
            batch.insert(&key(e.log_id.index), bytes);
        }
        if let Err(e) = self.logs.apply_batch(batch) {
            let err: StorageError = StorageIOError::write_logs(io_err(e)).into();
            callback.log_io_completed(Err(std::io::Error::other(err.to_string())));
            return Err(err);
        }
        if let Err(mpsc::error::SendError(callback)) = self.flusher.send(callback) {
            let err = std::io::Error::other("the log flusher has stopped");
            callback.log_io_completed(Err(err));
        }
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.remove_range((Bound::Included(key(log_id.index)), Bound::Unbounded))?;
        self.flush().await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        // Record the purge point first, so a crash mid-purge never loses it.
        self.put_meta(KEY_LAST_PURGED, &log_id)?;
        self.flush().await?;
        self.remove_range((Bound::Unbounded, Bound::Included(key(log_id.index))))
    }
}
