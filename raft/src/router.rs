//! In-process transport with per-link fault injection, for fast partition tests.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use openraft::error::{RPCError, RemoteError, Timeout, Unreachable};
use openraft::network::RPCOption;
use openraft::{AnyError, RPCTypes, RaftNetwork, RaftNetworkFactory};

use crate::typ::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    Raft, RpcError, TypeConfig, VoteRequest, VoteResponse,
};
use crate::{Node, NodeId};

/// A fault injected on one directed link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The target is unreachable: RPCs fail at once (openraft backs off).
    Unreachable,
    /// Requests are silently lost: RPCs fail with a timeout after their TTL.
    Drop,
    /// Requests are delivered after this delay.
    Delay(Duration),
}

#[derive(Default)]
struct Inner {
    replicas: BTreeMap<NodeId, Raft>,
    faults: BTreeMap<(NodeId, NodeId), Fault>,
    isolated: BTreeSet<NodeId>,
}

/// Routes Raft RPCs between replicas of this process. Clones share the same routing table.
#[derive(Clone, Default)]
pub struct Router {
    inner: Arc<Mutex<Inner>>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("Router")
            .field("replicas", &inner.replicas.keys().collect::<Vec<_>>())
            .field("faults", &inner.faults)
            .field("isolated", &inner.isolated)
            .finish()
    }
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Injects `fault` on the link `from → to` (replacing any previous fault there).
    pub fn set_fault(&self, from: NodeId, to: NodeId, fault: Fault) {
        self.lock().faults.insert((from, to), fault);
    }

    /// Removes the fault on the link `from → to`.
    pub fn clear_fault(&self, from: NodeId, to: NodeId) {
        self.lock().faults.remove(&(from, to));
    }

    /// Makes every link to and from `id` unreachable.
    pub fn isolate(&self, id: NodeId) {
        self.lock().isolated.insert(id);
    }

    /// Removes every fault and isolation.
    pub fn heal_all(&self) {
        let mut inner = self.lock();
        inner.faults.clear();
        inner.isolated.clear();
    }

    /// Ids of the replicas currently registered.
    pub fn replica_ids(&self) -> Vec<NodeId> {
        self.lock().replicas.keys().copied().collect()
    }

    pub(crate) fn register(&self, id: NodeId, raft: Raft) {
        self.lock().replicas.insert(id, raft);
    }

    pub(crate) fn unregister(&self, id: NodeId) {
        self.lock().replicas.remove(&id);
    }

    pub(crate) fn factory(&self, id: NodeId) -> RouterFactory {
        RouterFactory {
            from: id,
            router: self.clone(),
        }
    }

    /// Applies the link's fault, then returns the target to call.
    async fn route<E: std::error::Error>(
        &self,
        from: NodeId,
        to: NodeId,
        action: RPCTypes,
        ttl: Duration,
    ) -> Result<Raft, RPCError<NodeId, Node, E>> {
        let (fault, target) = {
            let inner = self.lock();
            let fault = if inner.isolated.contains(&from) || inner.isolated.contains(&to) {
                Some(Fault::Unreachable)
            } else {
                inner.faults.get(&(from, to)).copied()
            };
            (fault, inner.replicas.get(&to).cloned())
        };
        match fault {
            Some(Fault::Unreachable) => {
                return Err(Unreachable::new(&AnyError::error(format!(
                    "link {from}->{to} is down"
                )))
                .into());
            }
            Some(Fault::Drop) => {
                tokio::time::sleep(ttl).await;
                let t = Timeout {
                    action,
                    id: from,
                    target: to,
                    timeout: ttl,
                };
                return Err(t.into());
            }
            Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
            None => {}
        }
        target.ok_or_else(|| {
            Unreachable::new(&AnyError::error(format!("replica {to} is not running"))).into()
        })
    }
}

/// The network factory of one replica on a [`Router`].
pub(crate) struct RouterFactory {
    from: NodeId,
    router: Router,
}

impl RaftNetworkFactory<TypeConfig> for RouterFactory {
    type Network = RouterNetwork;

    async fn new_client(&mut self, target: NodeId, _node: &Node) -> Self::Network {
        RouterNetwork {
            from: self.from,
            to: target,
            router: self.router.clone(),
        }
    }
}

/// A client for one directed link.
pub(crate) struct RouterNetwork {
    from: NodeId,
    to: NodeId,
    router: Router,
}

impl RaftNetwork<TypeConfig> for RouterNetwork {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse, RpcError> {
        let raft = self
            .router
            .route(
                self.from,
                self.to,
                RPCTypes::AppendEntries,
                option.hard_ttl(),
            )
            .await?;
        raft.append_entries(rpc)
            .await
            .map_err(|e| RemoteError::new(self.to, e).into())
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse, RpcError<openraft::error::InstallSnapshotError>> {
        let raft = self
            .router
            .route(
                self.from,
                self.to,
                RPCTypes::InstallSnapshot,
                option.hard_ttl(),
            )
            .await?;
        raft.install_snapshot(rpc)
            .await
            .map_err(|e| RemoteError::new(self.to, e).into())
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest,
        option: RPCOption,
    ) -> Result<VoteResponse, RpcError> {
        let raft = self
            .router
            .route(self.from, self.to, RPCTypes::Vote, option.hard_ttl())
            .await?;
        raft.vote(rpc)
            .await
            .map_err(|e| RemoteError::new(self.to, e).into())
    }
}
