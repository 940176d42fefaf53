//! [`Replica`]: one running member of the Raft cluster, generic over the state machine.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use openraft::storage::{RaftLogStorage, RaftStateMachine};
use openraft::{ChangeMembers, RaftNetworkFactory};
use tokio::sync::{Mutex, watch};
use tracing::Instrument;

use crate::batcher::Batcher;
use crate::config::{RaftConfig, Storage, Transport};
use crate::error::{RaftError, WriteError};
use crate::grpc::{GrpcNetworkFactory, RaftGrpcService, RaftServiceServer};
use crate::mem_store::MemLogStore;
use crate::read_barrier::{self, ReadBarrier};
use crate::router::Router;
use crate::sled_store::{self, SledHandle};
use crate::sm_store::{SharedState, SmStore, read_lock};
use crate::status::ClusterStatus;
use crate::typ::{Raft, TypeConfig};
use crate::{Node, NodeId, StateMachine};
use serde_bytes::ByteBuf;

struct Inner<S: StateMachine> {
    id: NodeId,
    raft: Raft,
    state: SharedState<S>,
    sled: Mutex<Option<SledHandle>>,
    router: Option<Router>,
    op_timeout: Duration,
    catch_up_timeout: Duration,
    reads: ReadBarrier,
    writes: Batcher,
    span: tracing::Span,
}

/// One running replica. Cheap to clone; clones share the replica.
pub struct Replica<S: StateMachine> {
    inner: Arc<Inner<S>>,
}

impl<S: StateMachine> Clone for Replica<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

enum LogChoice {
    Mem(MemLogStore),
    Sled(sled_store::SledLogStore),
}

async fn new_raft<N, SM>(
    id: NodeId,
    config: Arc<openraft::Config>,
    net: N,
    log: LogChoice,
    sm: SM,
) -> Result<Raft, openraft::error::Fatal<NodeId>>
where
    N: RaftNetworkFactory<TypeConfig>,
    SM: RaftStateMachine<TypeConfig>,
{
    async fn go<N, L, SM>(
        id: NodeId,
        config: Arc<openraft::Config>,
        net: N,
        log: L,
        sm: SM,
    ) -> Result<Raft, openraft::error::Fatal<NodeId>>
    where
        N: RaftNetworkFactory<TypeConfig>,
        L: RaftLogStorage<TypeConfig>,
        SM: RaftStateMachine<TypeConfig>,
    {
        Box::pin(Raft::new(id, config, net, log, sm)).await
    }
    match log {
        LogChoice::Mem(l) => go(id, config, net, l, sm).await,
        LogChoice::Sled(l) => go(id, config, net, l, sm).await,
    }
}

/// If this replica led before it stopped (its stored vote is its own, committed), the term it
/// led and its last log index: see `read_barrier::for_raft` for why reads need them.
async fn restored_leadership(
    id: NodeId,
    log: &mut LogChoice,
) -> Result<Option<(u64, u64)>, RaftError> {
    async fn from<L: RaftLogStorage<TypeConfig>>(
        id: NodeId,
        log: &mut L,
    ) -> Result<Option<(u64, u64)>, openraft::StorageError<NodeId>> {
        let Some(vote) = log.read_vote().await? else {
            return Ok(None);
        };
        if !(vote.committed && vote.leader_id.node_id == id) {
            return Ok(None);
        }
        let last = log
            .get_log_state()
            .await?
            .last_log_id
            .map_or(0, |l| l.index);
        Ok(Some((vote.leader_id.term, last)))
    }
    let res = match log {
        LogChoice::Mem(l) => from(id, l).await,
        LogChoice::Sled(l) => from(id, l).await,
    };
    res.map_err(|e| RaftError::Storage(Box::new(e)))
}

impl<S: StateMachine> Replica<S> {
    /// Starts a replica: opens storage (restoring the persisted snapshot with sled), starts
    /// openraft and, with [`Transport::InProcess`], registers on the router.
    ///
    /// A new replica is uninitialized: call [`Replica::initialize`] on one replica to form a
    /// cluster, or add it to an existing one with [`Replica::add_learner`] / `add_voter`.
    pub async fn start(cfg: RaftConfig, sm: S, transport: Transport) -> Result<Self, RaftError> {
        let id = cfg.node_id;
        let span = tracing::info_span!("raft", node = id);
        let config = cfg
            .to_openraft()
            .map_err(|e| RaftError::Config(Box::new(e)))?;
        let config = Arc::new(config);
        let (log, sm_store, sled) = match &cfg.storage {
            Storage::Memory => {
                let sm = SmStore::new(sm, None).map_err(|e| RaftError::Storage(Box::new(e)))?;
                (LogChoice::Mem(MemLogStore::default()), sm, None)
            }
            Storage::Sled(dir) => {
                let (log, persist, handle) = sled_store::open(dir).instrument(span.clone()).await?;
                let sm =
                    SmStore::new(sm, Some(persist)).map_err(|e| RaftError::Storage(Box::new(e)))?;
                (LogChoice::Sled(log), sm, Some(handle))
            }
        };
        let mut log = log;
        let restored = restored_leadership(id, &mut log).await?;
        let state = sm_store.state();
        let (raft, router) = match transport {
            Transport::Grpc => {
                let net = GrpcNetworkFactory::new(id);
                let raft = new_raft(id, config, net, log, sm_store)
                    .instrument(span.clone())
                    .await?;
                (raft, None)
            }
            Transport::InProcess(router) => {
                let net = router.factory(id);
                let raft = new_raft(id, config, net, log, sm_store)
                    .instrument(span.clone())
                    .await?;
                router.register(id, raft.clone());
                (raft, Some(router))
            }
        };
        span.in_scope(|| tracing::info!(node = %cfg.node, "raft replica started"));
        let writes = Batcher::spawn(raft.clone(), cfg.op_timeout, span.clone());
        let reads = read_barrier::for_raft(&raft, restored, cfg.op_timeout, span.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                id,
                raft,
                state,
                sled: Mutex::new(sled),
                router,
                op_timeout: cfg.op_timeout,
                catch_up_timeout: cfg.catch_up_timeout,
                reads,
                writes,
                span,
            }),
        })
    }

    /// This replica's id.
    pub fn id(&self) -> NodeId {
        self.inner.id
    }

    /// The underlying openraft handle (advanced use and tests).
    pub fn raft(&self) -> &openraft::Raft<TypeConfig> {
        &self.inner.raft
    }

    /// The tonic service to mount on the raft listener (the caller owns the listener), e.g.
    /// `tonic::transport::Server::builder().add_service(replica.grpc_service()).serve_with_incoming(..)`.
    pub fn grpc_service(&self) -> RaftServiceServer<RaftGrpcService> {
        RaftServiceServer::new(RaftGrpcService::new(self.inner.raft.clone()))
            .max_decoding_message_size(crate::grpc::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(crate::grpc::MAX_MESSAGE_BYTES)
    }

    /// Serves the raft gRPC on `listener` until the replica shuts down.
    pub async fn serve_grpc(&self, listener: tokio::net::TcpListener) -> Result<(), RaftError> {
        let incoming =
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        let mut metrics = self.metrics();
        let stopped = async move {
            // Ends when the replica shuts down (state Shutdown or the metrics sender dropped).
            loop {
                if metrics.borrow().state == openraft::ServerState::Shutdown
                    || metrics.changed().await.is_err()
                {
                    break;
                }
            }
        };
        tonic::transport::Server::builder()
            .add_service(self.grpc_service())
            .serve_with_incoming_shutdown(incoming, stopped)
            .instrument(self.inner.span.clone())
            .await
            .map_err(|e| RaftError::Transport(Box::new(e)))
    }

    /// Whether this replica belongs to an initialized cluster (has a membership or logs).
    pub async fn is_initialized(&self) -> Result<bool, RaftError> {
        Ok(self.inner.raft.is_initialized().await?)
    }

    /// Forms a new cluster with these members. A no-op if already initialized.
    pub async fn initialize(&self, members: BTreeMap<NodeId, Node>) -> Result<(), RaftError> {
        if self.is_initialized().await? {
            return Ok(());
        }
        match self
            .inner
            .raft
            .initialize(members)
            .instrument(self.inner.span.clone())
            .await
        {
            Ok(()) => Ok(()),
            // Lost a race with another initialize, or with a leader that already reached us.
            Err(openraft::error::RaftError::APIError(
                openraft::error::InitializeError::NotAllowed(_),
            )) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn bounded<T, E>(
        &self,
        what: &str,
        limit: Duration,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, WriteError>
    where
        WriteError: From<E>,
    {
        match tokio::time::timeout(limit, fut.instrument(self.inner.span.clone())).await {
            Ok(res) => res.map_err(WriteError::from),
            Err(_) => Err(WriteError::Unavailable(format!(
                "{what} timed out after {limit:?}"
            ))),
        }
    }

    /// Proposes a command; returns the state machine's response once committed and applied.
    ///
    /// On a follower this fails at once with [`WriteError::ForwardToLeader`]. A leader that
    /// cannot reach a quorum fails with [`WriteError::Unavailable`] after `op_timeout` (the
    /// entry may still commit later if the leader regains its quorum).
    pub async fn write(&self, cmd: &S::Command) -> Result<S::Response, WriteError> {
        let bytes = rmp_serde::to_vec_named(cmd)
            .map_err(|e| WriteError::Internal(format!("cannot encode command: {e}")))?;
        let resp = self.inner.writes.propose(ByteBuf::from(bytes)).await?;
        rmp_serde::from_slice(&resp)
            .map_err(|e| WriteError::Internal(format!("cannot decode response: {e}")))
    }

    /// Read-index barrier: once `Ok`, [`Replica::read`] sees every write acknowledged before
    /// the call. Only the leader can serve it; followers get `ForwardToLeader`. Concurrent
    /// calls share heartbeat rounds (see `read_barrier`).
    pub async fn ensure_linearizable(&self) -> Result<(), WriteError> {
        self.inner.reads.wait().await
    }

    /// Runs `f` on the local applied state (stale unless after `ensure_linearizable`).
    pub fn read<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        f(&read_lock(&self.inner.state).sm)
    }

    /// This replica's view of the cluster.
    pub fn status(&self) -> ClusterStatus {
        ClusterStatus::from_metrics(&self.inner.raft.metrics().borrow())
    }

    /// Adds `id` as a learner, waits until it caught up (bounded by `catch_up_timeout`), then
    /// promotes it to voter.
    pub async fn add_voter(&self, id: NodeId, node: Node) -> Result<(), WriteError> {
        self.bounded(
            "add learner",
            self.inner.catch_up_timeout,
            self.inner.raft.add_learner(id, node, true),
        )
        .await?;
        let voters = BTreeSet::from([id]);
        self.bounded(
            "promote voter",
            self.inner.op_timeout,
            self.inner
                .raft
                .change_membership(ChangeMembers::AddVoterIds(voters), false),
        )
        .await?;
        Ok(())
    }

    /// Adds `id` as a non-voting learner (returns once the membership change is committed).
    pub async fn add_learner(&self, id: NodeId, node: Node) -> Result<(), WriteError> {
        self.bounded(
            "add learner",
            self.inner.op_timeout,
            self.inner.raft.add_learner(id, node, false),
        )
        .await?;
        Ok(())
    }

    /// Removes `id` from the voters and learners.
    pub async fn remove_member(&self, id: NodeId) -> Result<(), WriteError> {
        let (is_voter, is_member) = {
            let m = self.inner.raft.metrics();
            let m = m.borrow();
            let membership = m.membership_config.membership();
            (
                membership.voter_ids().any(|v| v == id),
                membership.get_node(&id).is_some(),
            )
        };
        if !is_member {
            return Err(WriteError::Membership(format!("node {id} is not a member")));
        }
        let ids = BTreeSet::from([id]);
        let change = if is_voter {
            ChangeMembers::RemoveVoters(ids)
        } else {
            ChangeMembers::RemoveNodes(ids)
        };
        self.bounded(
            "remove member",
            self.inner.op_timeout,
            self.inner.raft.change_membership(change, false),
        )
        .await?;
        Ok(())
    }

    /// Asks openraft to build a snapshot now (returns before it is built; watch `metrics`).
    pub async fn trigger_snapshot(&self) -> Result<(), RaftError> {
        Ok(self.inner.raft.trigger().snapshot().await?)
    }

    /// Stops the replica: shuts openraft down, leaves the router, flushes and releases sled.
    pub async fn shutdown(&self) -> Result<(), RaftError> {
        let res = self
            .inner
            .raft
            .shutdown()
            .instrument(self.inner.span.clone())
            .await
            .map_err(|e| RaftError::Fatal(Box::new(e)));
        if let Some(router) = &self.inner.router {
            router.unregister(self.inner.id);
        }
        if let Some(handle) = self.inner.sled.lock().await.take() {
            handle.flush().await?;
        }
        self.inner
            .span
            .in_scope(|| tracing::info!("raft replica stopped"));
        res
    }

    /// Watch openraft's metrics.
    pub fn metrics(&self) -> watch::Receiver<openraft::RaftMetrics<NodeId, Node>> {
        self.inner.raft.metrics()
    }
}
