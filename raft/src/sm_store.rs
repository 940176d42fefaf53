//! The openraft state-machine store wrapping the application [`StateMachine`].
//!
//! The application state lives in memory behind an `RwLock`, shared with [`crate::Replica`]
//! for reads. Snapshots are `StateMachine::snapshot` bytes; with sled they are streamed into a
//! file through `StateMachine::write_snapshot` (see [`SnapshotPersist`]) and restored on start.

use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::Mutex;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, RaftSnapshotBuilder, StorageIOError};
use serde_bytes::ByteBuf;

use crate::StateMachine;
use crate::snapshot_persist::SnapshotPersist;
use crate::typ::{
    AppResponse, Entry, LogId, SnapshotMeta, StorageError, StoredMembership, TypeConfig, io_err,
};

/// The applied state: the application state plus what openraft needs beside it.
pub(crate) struct Applied<S> {
    pub(crate) sm: S,
    pub(crate) last_applied: Option<LogId>,
    pub(crate) last_membership: StoredMembership,
}

/// Shared handle on the applied state.
pub(crate) type SharedState<S> = Arc<RwLock<Applied<S>>>;

pub(crate) fn read_lock<S>(s: &RwLock<Applied<S>>) -> RwLockReadGuard<'_, Applied<S>> {
    // Poisoning means a panic in `apply`; the state is still the last consistent one we have.
    s.read().unwrap_or_else(|e| e.into_inner())
}

fn write_lock<S>(s: &RwLock<Applied<S>>) -> RwLockWriteGuard<'_, Applied<S>> {
    s.write().unwrap_or_else(|e| e.into_inner())
}

/// Where the current snapshot is kept.
struct SnapshotSlot {
    meta: Option<SnapshotMeta>,
    /// Bytes kept in memory only without persistence (a file holds them otherwise).
    data: Option<Vec<u8>>,
}

/// The state-machine store given to openraft. Clones share everything.
pub(crate) struct SmStore<S: StateMachine> {
    state: SharedState<S>,
    slot: Arc<Mutex<SnapshotSlot>>,
    persist: Option<Arc<SnapshotPersist>>,
    snapshot_seq: Arc<AtomicU64>,
}

impl<S: StateMachine> Clone for SmStore<S> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            slot: self.slot.clone(),
            persist: self.persist.clone(),
            snapshot_seq: self.snapshot_seq.clone(),
        }
    }
}

impl<S: StateMachine> SmStore<S> {
    /// Wraps `sm`; with `persist`, restores the persisted snapshot if there is one.
    pub(crate) fn new(mut sm: S, persist: Option<SnapshotPersist>) -> Result<Self, StorageError> {
        let mut slot = SnapshotSlot {
            meta: None,
            data: None,
        };
        let mut last_applied = None;
        let mut last_membership = StoredMembership::default();
        if let Some(p) = &persist
            && let (Some(meta), Some(data)) = (p.load_meta()?, p.load_data()?)
        {
            sm.restore(&data)
                .map_err(|e| StorageIOError::read_snapshot(Some(meta.signature()), io_err(e)))?;
            last_applied = meta.last_log_id;
            last_membership = meta.last_membership.clone();
            tracing::info!(snapshot = %meta, "restored state machine from persisted snapshot");
            slot.meta = Some(meta);
        }
        Ok(Self {
            state: Arc::new(RwLock::new(Applied {
                sm,
                last_applied,
                last_membership,
            })),
            slot: Arc::new(Mutex::new(slot)),
            persist: persist.map(Arc::new),
            snapshot_seq: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The shared applied state (for reads).
    pub(crate) fn state(&self) -> SharedState<S> {
        self.state.clone()
    }

    /// Makes `meta`/`data` the current snapshot (persisting it first when durable), unless a
    /// newer snapshot is already current (a build racing with an install).
    async fn set_current(&self, meta: SnapshotMeta, data: Vec<u8>) -> Result<(), StorageError> {
        // Held across the save so readers never see meta and data of different snapshots.
        let mut slot = self.slot.lock().await;
        if let Some(cur) = &slot.meta
            && cur.last_log_id > meta.last_log_id
        {
            tracing::info!(current = %cur, skipped = %meta, "newer snapshot already current");
            return Ok(());
        }
        slot.data = match &self.persist {
            Some(p) => {
                let (persist, m) = (p.clone(), meta.clone());
                blocking(move || {
                    persist.write_file(|w| {
                        w.write_all(&data)
                            .map_err(|e| crate::SnapshotError(e.to_string()))?;
                        Ok(m)
                    })
                })
                .await?;
                p.commit(&meta).await?;
                None
            }
            None => Some(data),
        };
        slot.meta = Some(meta);
        Ok(())
    }

    /// Streams the current state into a snapshot file and makes it current (durable replicas):
    /// no copy of the state is ever held in memory.
    async fn build_persisted(
        &self,
        persist: Arc<SnapshotPersist>,
        seq: u64,
    ) -> Result<SnapshotMeta, StorageError> {
        // Held from before the file is written until it is current: an install or a reader
        // never meets a half-made snapshot, and no file is removed while being written.
        let mut slot = self.slot.lock().await;
        let (state, p) = (self.state.clone(), persist.clone());
        // The state is read-locked (holding up apply) only while it is encoded into the file's
        // buffer, not across the disk sync.
        let (meta, bytes) = blocking(move || {
            p.write_file(|w| {
                let st = read_lock(&state);
                st.sm.write_snapshot(w)?;
                Ok(snapshot_meta(&st, seq))
            })
        })
        .await?;
        if let Some(cur) = &slot.meta
            && cur.last_log_id > meta.last_log_id
        {
            tracing::info!(current = %cur, skipped = %meta, "newer snapshot already current");
            persist.discard(&meta, cur).await;
            return Ok(meta);
        }
        persist.commit(&meta).await?;
        slot.meta = Some(meta.clone());
        slot.data = None;
        tracing::info!(snapshot = %meta, bytes, "built snapshot");
        Ok(meta)
    }
}

/// The meta of a snapshot of `st`, the `seq`-th built by this process.
fn snapshot_meta<S>(st: &Applied<S>, seq: u64) -> SnapshotMeta {
    let snapshot_id = match st.last_applied {
        Some(l) => format!("{}-{}-{}", l.leader_id, l.index, seq),
        None => format!("none-{seq}"),
    };
    SnapshotMeta {
        last_log_id: st.last_applied,
        last_membership: st.last_membership.clone(),
        snapshot_id,
    }
}

/// Runs blocking file work (snapshot files) off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StorageError::from(StorageIOError::write_snapshot(None, io_err(e))))?
}

fn apply_one<S: StateMachine>(
    st: &mut Applied<S>,
    entry: Entry,
) -> Result<AppResponse, StorageError> {
    let responses = match entry.payload {
        EntryPayload::Blank => AppResponse::default(),
        EntryPayload::Membership(m) => {
            st.last_membership = StoredMembership::new(Some(entry.log_id), m);
            AppResponse::default()
        }
        EntryPayload::Normal(batch) => {
            // Decode the whole batch first: a command this version cannot read must stop the
            // replica before any of the entry is applied, never half-way through it.
            let cmds = batch
                .0
                .iter()
                .map(|encoded| rmp_serde::from_slice::<S::Command>(encoded))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    let why = format!(
                        "log entry {} holds a command this replica cannot decode \
                         (is it older than the leader? upgrade it): {e}",
                        entry.log_id
                    );
                    StorageIOError::apply(entry.log_id, io_err(why))
                })?;
            let mut responses = Vec::with_capacity(cmds.len());
            for cmd in cmds {
                let resp = st.sm.apply(cmd);
                let bytes = rmp_serde::to_vec_named(&resp)
                    .map_err(|e| StorageIOError::apply(entry.log_id, io_err(e)))?;
                responses.push(ByteBuf::from(bytes));
            }
            AppResponse(responses)
        }
    };
    st.last_applied = Some(entry.log_id);
    Ok(responses)
}

impl<S: StateMachine> RaftSnapshotBuilder<TypeConfig> for SmStore<S> {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let seq = self.snapshot_seq.fetch_add(1, Ordering::Relaxed);
        if let Some(persist) = self.persist.clone() {
            let meta = self.build_persisted(persist, seq).await?;
            // openraft keeps only the meta of a snapshot it asked for; the bytes are in the
            // file, read back when a follower needs them.
            return Ok(Snapshot {
                meta,
                snapshot: Box::new(Cursor::new(Vec::new())),
            });
        }
        let (data, meta) = {
            let st = read_lock(&self.state);
            let data = st
                .sm
                .snapshot()
                .map_err(|e| StorageIOError::write_snapshot(None, io_err(e)))?;
            (data, snapshot_meta(&st, seq))
        };
        self.set_current(meta.clone(), data.clone()).await?;
        tracing::info!(snapshot = %meta, bytes = data.len(), "built snapshot");
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl<S: StateMachine> RaftStateMachine<TypeConfig> for SmStore<S> {
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let st = read_lock(&self.state);
        Ok((st.last_applied, st.last_membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<AppResponse>, StorageError>
    where
        I: IntoIterator<Item = Entry> + openraft::OptionalSend,
        I::IntoIter: openraft::OptionalSend,
    {
        let mut st = write_lock(&self.state);
        entries.into_iter().map(|e| apply_one(&mut st, e)).collect()
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        {
            let mut st = write_lock(&self.state);
            st.sm
                .restore(&data)
                .map_err(|e| StorageIOError::read_snapshot(Some(meta.signature()), io_err(e)))?;
            st.last_applied = meta.last_log_id;
            st.last_membership = meta.last_membership.clone();
        }
        tracing::info!(snapshot = %meta, bytes = data.len(), "installed snapshot");
        self.set_current(meta.clone(), data).await
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let slot = self.slot.lock().await;
        let Some(meta) = slot.meta.clone() else {
            return Ok(None);
        };
        let data = match (&slot.data, &self.persist) {
            (Some(d), _) => d.clone(),
            (None, Some(p)) => p.load_data()?.unwrap_or_default(),
            (None, None) => return Ok(None),
        };
        Ok(Some(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        }))
    }
}
