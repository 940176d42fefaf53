//! The openraft state-machine store wrapping the application [`StateMachine`].
//!
//! The application state lives in memory behind an `RwLock`, shared with [`crate::Replica`]
//! for reads. Snapshots are `StateMachine::snapshot` bytes; with sled they are persisted (see
//! [`SnapshotPersist`]) and restored on start.

use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::Mutex;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, RaftSnapshotBuilder, StorageIOError};
use serde_bytes::ByteBuf;

use crate::StateMachine;
use crate::sled_store::SnapshotPersist;
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
    /// Bytes kept in memory only without persistence (sled keeps them on disk otherwise).
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
    async fn set_current(&self, meta: SnapshotMeta, data: &[u8]) -> Result<(), StorageError> {
        // Held across the save so readers never see meta and data of different snapshots.
        let mut slot = self.slot.lock().await;
        if let Some(cur) = &slot.meta
            && cur.last_log_id > meta.last_log_id
        {
            tracing::info!(current = %cur, skipped = %meta, "newer snapshot already current");
            return Ok(());
        }
        let data = match &self.persist {
            Some(p) => {
                p.save(&meta, data).await?;
                None
            }
            None => Some(data.to_vec()),
        };
        slot.meta = Some(meta);
        slot.data = data;
        Ok(())
    }
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
        let (data, last_log_id, last_membership) = {
            let st = read_lock(&self.state);
            let data = st
                .sm
                .snapshot()
                .map_err(|e| StorageIOError::write_snapshot(None, io_err(e)))?;
            (data, st.last_applied, st.last_membership.clone())
        };
        let seq = self.snapshot_seq.fetch_add(1, Ordering::Relaxed);
        let snapshot_id = match last_log_id {
            Some(l) => format!("{}-{}-{}", l.leader_id, l.index, seq),
            None => format!("none-{seq}"),
        };
        let meta = SnapshotMeta {
            last_log_id,
            last_membership,
            snapshot_id,
        };
        self.set_current(meta.clone(), &data).await?;
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
        self.set_current(meta.clone(), &data).await
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
