//! The agent's durable state, in sled (this is the only module that touches sled):
//!
//! - `outbox`: reports not yet acknowledged, by sequence number (big-endian keys, so sled's
//!   order is the sending order), each the encoded `ReportRequest` without its agent id;
//! - `tasks`: the power tasks the agent has started or finished (see `power::record`), so a
//!   restart resumes them and never runs one twice;
//! - `meta`: counters, such as the next report sequence number;
//! - `desired`: the rack's desired state, and the revision it is current to (see `desired`);
//! - trees lent to the boot services for their own records (DHCP leases, the image index).
//!
//! [`Store::commit`] writes any mix of the three in one transaction and flushes it to disk before
//! returning: what the agent promised (a report, a task's progress) survives a crash.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cairn_protocols::pb::agent as pb;
use prost::Message;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

/// The sled directory inside the agent's data directory.
const DB_DIR: &str = "agent.sled";

/// `meta` key: the sequence number the next report gets.
const NEXT_SEQ: &str = "next_seq";

/// `meta` key: 1 once the directory's numbering was checked against a registration.
const SYNCED: &str = "synced";

/// Page cache; the agent's state is small.
const CACHE_BYTES: u64 = 16 << 20;

/// How long a busy store is retried at open, and how often.
const OPEN_RETRY: std::time::Duration = std::time::Duration::from_secs(5);
const OPEN_RETRY_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// The store failed. Display says which operation; the source has sled's reason.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened (in use by another agent, unreadable, ...).
    #[error("cannot open the agent state in {path}")]
    Open {
        /// The sled directory.
        path: PathBuf,
        /// sled's reason.
        #[source]
        source: sled::Error,
    },
    /// A read or write failed.
    #[error("agent state: {op} failed")]
    Io {
        /// What was being done.
        op: &'static str,
        /// sled's reason.
        #[source]
        source: sled::Error,
    },
    /// A stored outbox entry does not decode (written by an incompatible version, or damaged).
    #[error("agent state: outbox entry {seq} is unreadable")]
    Corrupt {
        /// The entry's sequence number.
        seq: u64,
        /// The decoder's reason.
        #[source]
        source: prost::DecodeError,
    },
}

fn io(op: &'static str) -> impl FnOnce(sled::Error) -> StoreError {
    move |source| StoreError::Io { op, source }
}

/// A failed transaction (the closures never abort on their own) as a store error.
fn tx_error(op: &'static str) -> impl FnOnce(TransactionError<()>) -> StoreError {
    move |e| match e {
        TransactionError::Storage(source) => StoreError::Io { op, source },
        TransactionError::Abort(()) => StoreError::Io {
            op,
            source: sled::Error::ReportableBug("transaction aborted".into()),
        },
    }
}

/// A change to the `tasks` tree: `Some` stores the value, `None` deletes the key.
pub type TaskWrite = (String, Option<Vec<u8>>);

/// What one [`Store::commit`] writes, all or nothing.
#[derive(Debug, Default)]
pub struct Commit {
    /// Report items, appended to the outbox as one report (none: no report).
    pub items: Vec<pb::ReportItem>,
    /// Task records to store or delete.
    pub tasks: Vec<TaskWrite>,
    /// Counters to raise (a counter never goes down).
    pub counters: Vec<(&'static str, u64)>,
}

/// The agent's durable state (see the module docs).
#[derive(Debug)]
pub struct Store {
    db: sled::Db,
    outbox: sled::Tree,
    tasks: sled::Tree,
    meta: sled::Tree,
    desired: sled::Tree,
    /// Serializes commits so sequence numbers are handed out in outbox order.
    commit_lock: Mutex<()>,
}

impl Store {
    /// Opens (or creates) the store under `data_dir`. A store just closed in this process may
    /// still be locked for a moment (sled's flusher thread lets go of it after the last handle
    /// is dropped), so an I/O error (sled reports the lock as one) is retried for a few
    /// seconds before it is returned.
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(DB_DIR);
        let deadline = tokio::time::Instant::now() + OPEN_RETRY;
        let db = loop {
            match sled::Config::new()
                .path(&path)
                .cache_capacity(CACHE_BYTES)
                .open()
            {
                Ok(db) => break db,
                Err(sled::Error::Io(e)) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(StoreError::Open {
                            path,
                            source: sled::Error::Io(e),
                        });
                    }
                    tracing::debug!(error = %e, "agent state busy, retrying");
                    tokio::time::sleep(OPEN_RETRY_EVERY).await;
                }
                Err(source) => return Err(StoreError::Open { path, source }),
            }
        };
        let tree = |name: &str| {
            db.open_tree(name).map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })
        };
        Ok(Store {
            outbox: tree("outbox")?,
            tasks: tree("tasks")?,
            meta: tree("meta")?,
            desired: tree("desired")?,
            db,
            commit_lock: Mutex::new(()),
        })
    }

    /// Writes `commit` in one transaction and flushes it. Returns the new report's sequence
    /// number, if it had items.
    pub async fn commit(&self, commit: Commit) -> Result<Option<u64>, StoreError> {
        let seq = self.write(&commit)?;
        // Concurrent commits share one flush: whoever flushes after a write covers it.
        self.db.flush_async().await.map_err(io("flush"))?;
        Ok(seq)
    }

    fn write(&self, c: &Commit) -> Result<Option<u64>, StoreError> {
        let _guard = self
            .commit_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let result =
            (&self.outbox, &self.tasks, &self.meta).transaction(|(outbox, tasks, meta)| {
                let mut seq = None;
                if !c.items.is_empty() {
                    let next = read_u64(meta.get(NEXT_SEQ)?.as_deref()).max(1);
                    let report = pb::ReportRequest {
                        agent_id: String::new(),
                        seq: next,
                        items: c.items.clone(),
                    };
                    outbox.insert(&next.to_be_bytes(), report.encode_to_vec())?;
                    meta.insert(NEXT_SEQ, &(next + 1).to_be_bytes())?;
                    seq = Some(next);
                }
                for (key, value) in &c.tasks {
                    match value {
                        Some(v) => tasks.insert(key.as_bytes(), v.as_slice())?,
                        None => tasks.remove(key.as_bytes())?,
                    };
                }
                for (key, value) in &c.counters {
                    if read_u64(meta.get(key)?.as_deref()) < *value {
                        meta.insert(*key, &value.to_be_bytes())?;
                    }
                }
                Ok::<_, ConflictableTransactionError<()>>(seq)
            });
        result.map_err(tx_error("commit"))
    }

    /// The oldest unacknowledged report (its agent id empty).
    pub fn first_report(&self) -> Result<Option<pb::ReportRequest>, StoreError> {
        let Some((key, value)) = self.outbox.first().map_err(io("outbox read"))? else {
            return Ok(None);
        };
        let seq = read_u64(Some(&key));
        pb::ReportRequest::decode(value.as_ref())
            .map(Some)
            .map_err(|source| StoreError::Corrupt { seq, source })
    }

    /// The waiting reports from the oldest on, merged into one report of at most `max_items`
    /// items and `max_bytes` of items, numbered with the highest merged seq (its agent id
    /// empty). Returns the report and how many outbox entries it merges.
    ///
    /// Merging is exactly-once because the merged entries are the oldest waiting ones, in seq
    /// order, and the coordinator applies a report at once or not at all: once the merged report
    /// is applied, every merged entry is at or below the agent's last applied seq. The sender
    /// must resend exactly the same report until it is acknowledged or refused (a different
    /// range under a higher seq would apply the first range again), and after a restart
    /// [`Store::registered`] drops what the coordinator reports as applied.
    ///
    /// A first entry that does not decode is an error ([`StoreError::Corrupt`]); a later one ends
    /// the merge, to be met as the first entry next time. The oldest entry is always taken,
    /// even if it exceeds the limits on its own.
    pub fn merged_report(
        &self,
        max_items: usize,
        max_bytes: usize,
    ) -> Result<Option<(pb::ReportRequest, usize)>, StoreError> {
        let mut merged: Option<(pb::ReportRequest, usize)> = None;
        let mut bytes = 0;
        for entry in self.outbox.iter() {
            let (key, value) = entry.map_err(io("outbox read"))?;
            let seq = read_u64(Some(&key));
            let report = match pb::ReportRequest::decode(value.as_ref()) {
                Ok(r) => r,
                Err(source) if merged.is_none() => {
                    return Err(StoreError::Corrupt { seq, source });
                }
                Err(_) => break,
            };
            // Field tag and length prefix of each repeated item.
            let size: usize = report.items.iter().map(|i| i.encoded_len() + 8).sum();
            match &mut merged {
                None => {
                    bytes = size;
                    merged = Some((report, 1));
                }
                Some((m, n)) => {
                    if m.items.len() + report.items.len() > max_items || bytes + size > max_bytes {
                        break;
                    }
                    bytes += size;
                    m.items.extend(report.items);
                    m.seq = seq;
                    *n += 1;
                }
            }
        }
        Ok(merged)
    }

    /// Drops every report up to and including `seq` (a merged report was acknowledged, or
    /// refused for good). Not flushed, like [`Store::remove_report`].
    pub fn remove_reports_through(&self, seq: u64) -> Result<usize, StoreError> {
        let keys: Vec<sled::IVec> = self
            .outbox
            .range(..=seq.to_be_bytes())
            .keys()
            .collect::<Result<_, _>>()
            .map_err(io("outbox read"))?;
        for key in &keys {
            self.outbox.remove(key).map_err(io("outbox remove"))?;
        }
        Ok(keys.len())
    }

    /// Drops report `seq` from the outbox (acknowledged, or refused for good). Not flushed: if
    /// the removal is lost in a crash, the report is sent again and acknowledged as a duplicate.
    pub fn remove_report(&self, seq: u64) -> Result<(), StoreError> {
        self.outbox
            .remove(seq.to_be_bytes())
            .map(|_| ())
            .map_err(io("outbox remove"))
    }

    /// Reports waiting to be acknowledged.
    pub fn outbox_depth(&self) -> usize {
        self.outbox.len()
    }

    /// The sequence number the next report gets.
    pub fn next_seq(&self) -> Result<u64, StoreError> {
        let raw = self.meta.get(NEXT_SEQ).map_err(io("meta read"))?;
        Ok(read_u64(raw.as_deref()).max(1))
    }

    /// After registering: number the next report above what the coordinator has applied.
    ///
    /// A data directory that never saw a registration (new, or replaced after a disk loss) may
    /// hold reports numbered from 1 although the coordinator has applied higher numbers from
    /// this agent: sent as they are, they would be taken for duplicates and lost. So the first
    /// registration of a data directory renumbers its waiting reports above `last_applied`,
    /// in order. Later ones raise the counter and drop the waiting reports at or below
    /// `last_applied`: this directory's numbers are then known to be the agent's own, so such a
    /// report was applied (alone or merged) and its acknowledgement lost. Sending it again
    /// merged with newer reports under a higher seq would apply it twice. Returns how many
    /// reports were renumbered.
    pub async fn registered(&self, last_applied: u64) -> Result<usize, StoreError> {
        let renumbered = self.sync_numbering(last_applied)?;
        self.db.flush_async().await.map_err(io("flush"))?;
        Ok(renumbered)
    }

    fn sync_numbering(&self, last_applied: u64) -> Result<usize, StoreError> {
        let _guard = self
            .commit_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let synced = read_u64(self.meta.get(SYNCED).map_err(io("meta read"))?.as_deref()) == 1;
        let pending: Vec<(sled::IVec, sled::IVec)> = if synced {
            Vec::new()
        } else {
            self.outbox
                .iter()
                .collect::<Result<_, _>>()
                .map_err(io("outbox read"))?
        };
        let stale = pending
            .first()
            .is_some_and(|(k, _)| read_u64(Some(k)) <= last_applied);
        let applied: Vec<sled::IVec> = if synced {
            self.outbox
                .range(..=last_applied.to_be_bytes())
                .keys()
                .collect::<Result<_, _>>()
                .map_err(io("outbox read"))?
        } else {
            Vec::new()
        };
        let result = (&self.outbox, &self.meta).transaction(|(outbox, meta)| {
            for key in &applied {
                outbox.remove(key)?;
            }
            let mut next = read_u64(meta.get(NEXT_SEQ)?.as_deref())
                .max(1)
                .max(last_applied.saturating_add(1));
            if stale {
                for (key, value) in &pending {
                    outbox.remove(key)?;
                    let mut report = match pb::ReportRequest::decode(value.as_ref()) {
                        Ok(r) => r,
                        // Unreadable entries are left for the sender to report and drop.
                        Err(_) => {
                            outbox.insert(key, value)?;
                            continue;
                        }
                    };
                    report.seq = next;
                    outbox.insert(&next.to_be_bytes(), report.encode_to_vec())?;
                    next += 1;
                }
            }
            meta.insert(NEXT_SEQ, &next.to_be_bytes())?;
            meta.insert(SYNCED, &1u64.to_be_bytes())?;
            Ok::<_, ConflictableTransactionError<()>>(())
        });
        result.map_err(tx_error("renumber"))?;
        Ok(if stale { pending.len() } else { 0 })
    }

    /// A counter's value (0 when never set).
    pub fn counter(&self, key: &str) -> Result<u64, StoreError> {
        let raw = self.meta.get(key).map_err(io("meta read"))?;
        Ok(read_u64(raw.as_deref()))
    }

    /// Every stored task record, by key.
    pub fn tasks(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.tasks
            .iter()
            .map(|entry| {
                let (k, v) = entry.map_err(io("tasks read"))?;
                Ok((String::from_utf8_lossy(&k).into_owned(), v.to_vec()))
            })
            .collect()
    }
}

mod desired;

pub use desired::DesiredLoad;

/// A big-endian u64 (0 when absent or short).
fn read_u64(raw: Option<&[u8]>) -> u64 {
    raw.and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocols::pb::agent::report_item::Body;

    fn done(id: u64) -> pb::ReportItem {
        pb::ReportItem {
            body: Some(Body::DiscoverDone(pb::DiscoverDone { request_id: id })),
        }
    }

    fn items(n: u64) -> Commit {
        Commit {
            items: (1..=n).map(done).collect(),
            ..Commit::default()
        }
    }

    #[tokio::test]
    async fn reports_survive_a_reopen_in_order() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).await.unwrap();
            assert_eq!(s.commit(items(1)).await.unwrap(), Some(1));
            assert_eq!(s.commit(items(2)).await.unwrap(), Some(2));
            assert_eq!(s.commit(Commit::default()).await.unwrap(), None);
            assert_eq!(s.outbox_depth(), 2);
        }
        let s = Store::open(dir.path()).await.unwrap();
        let first = s.first_report().unwrap().unwrap();
        assert_eq!((first.seq, first.items.len()), (1, 1));
        s.remove_report(1).unwrap();
        let next = s.first_report().unwrap().unwrap();
        assert_eq!((next.seq, next.items.len()), (2, 2));
        assert_eq!(s.next_seq().unwrap(), 3);
    }

    #[tokio::test]
    async fn the_sequence_only_grows() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).await.unwrap();
        assert_eq!(s.registered(41).await.unwrap(), 0);
        assert_eq!(s.commit(items(1)).await.unwrap(), Some(42));
        s.registered(10).await.unwrap();
        assert_eq!(s.next_seq().unwrap(), 43);
    }

    #[tokio::test]
    async fn a_new_directory_renumbers_its_reports_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).await.unwrap();
        s.commit(items(1)).await.unwrap();
        s.commit(items(2)).await.unwrap();
        // The coordinator applied up to 50 from an earlier life of this agent.
        assert_eq!(s.registered(50).await.unwrap(), 2);
        let first = s.first_report().unwrap().unwrap();
        assert_eq!((first.seq, first.items.len()), (51, 1));
        s.remove_report(51).unwrap();
        assert_eq!(s.first_report().unwrap().unwrap().seq, 52);
        assert_eq!(s.commit(items(1)).await.unwrap(), Some(53));
        // Registered before: a waiting report at or below last_applied was applied already.
        assert_eq!(s.registered(52).await.unwrap(), 0);
        assert_eq!(s.first_report().unwrap().unwrap().seq, 53);
        assert_eq!(s.registered(60).await.unwrap(), 0);
        assert!(s.first_report().unwrap().is_none());
        assert_eq!(s.next_seq().unwrap(), 61);
    }

    #[tokio::test]
    async fn waiting_reports_merge_within_the_limits() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).await.unwrap();
        assert!(s.merged_report(10, 1 << 20).unwrap().is_none());
        for n in [2, 3, 4, 1] {
            s.commit(items(n)).await.unwrap();
        }
        let (r, n) = s.merged_report(9, 1 << 20).unwrap().unwrap();
        assert_eq!((r.seq, r.items.len(), n), (3, 9, 3));
        let (r, n) = s.merged_report(100, 1 << 20).unwrap().unwrap();
        assert_eq!((r.seq, r.items.len(), n), (4, 10, 4));
        // The oldest entry goes even when it alone is over the limits.
        let (r, n) = s.merged_report(1, 1).unwrap().unwrap();
        assert_eq!((r.seq, r.items.len(), n), (1, 2, 1));
        assert_eq!(s.remove_reports_through(3).unwrap(), 3);
        let (r, n) = s.merged_report(100, 1 << 20).unwrap().unwrap();
        assert_eq!((r.seq, r.items.len(), n), (4, 1, 1));
    }

    /// A merged report applied, then a crash before its entries were removed: more reports
    /// arrive, and after the restart the registration's last applied seq drops the applied
    /// entries, so the next merge cannot carry them again under a higher seq.
    #[tokio::test]
    async fn an_applied_merge_is_not_resent_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).await.unwrap();
            s.registered(0).await.unwrap();
            s.commit(items(1)).await.unwrap();
            s.commit(items(2)).await.unwrap();
            let (sent, n) = s.merged_report(100, 1 << 20).unwrap().unwrap();
            assert_eq!((sent.seq, n), (2, 2));
            // The coordinator applies seq 2; the agent dies before removing entries 1 and 2.
        }
        let s = Store::open(dir.path()).await.unwrap();
        s.commit(items(4)).await.unwrap();
        s.registered(2).await.unwrap();
        let (r, n) = s.merged_report(100, 1 << 20).unwrap().unwrap();
        assert_eq!((r.seq, r.items.len(), n), (3, 4, 1));
    }

    #[tokio::test]
    async fn tasks_and_reports_commit_together() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).await.unwrap();
        let mut c = items(1);
        c.tasks.push(("t/x1".into(), Some(b"a".to_vec())));
        c.counters.push(("discover_after", 7));
        s.commit(c).await.unwrap();
        assert_eq!(s.tasks().unwrap(), [("t/x1".to_owned(), b"a".to_vec())]);
        assert_eq!(s.counter("discover_after").unwrap(), 7);
        s.commit(Commit {
            tasks: vec![("t/x1".into(), None)],
            counters: vec![("discover_after", 3)],
            ..Commit::default()
        })
        .await
        .unwrap();
        assert!(s.tasks().unwrap().is_empty());
        assert_eq!(s.counter("discover_after").unwrap(), 7);
    }
}
