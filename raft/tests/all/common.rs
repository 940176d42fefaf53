//! Test fixtures: a tiny KV state machine and an in-process cluster.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cairn_raft::{
    Node, NodeId, RaftConfig, Replica, Router, SnapshotError, StateMachine, Storage, Transport,
    WriteError,
};
use serde::{Deserialize, Serialize};

/// A KV map plus a counter of applied commands.
#[derive(Default, Debug)]
pub struct Kv {
    pub map: BTreeMap<String, String>,
    pub applied: u64,
}

/// KV commands; both return the previous value.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Cmd {
    Set { key: String, value: String },
    Delete { key: String },
}

impl StateMachine for Kv {
    type Command = Cmd;
    type Response = Option<String>;

    fn apply(&mut self, cmd: Cmd) -> Option<String> {
        self.applied += 1;
        match cmd {
            Cmd::Set { key, value } => self.map.insert(key, value),
            Cmd::Delete { key } => self.map.remove(&key),
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        rmp_serde::to_vec(&(&self.map, self.applied)).map_err(|e| SnapshotError(e.to_string()))
    }

    fn restore(&mut self, data: &[u8]) -> Result<(), SnapshotError> {
        let (map, applied) =
            rmp_serde::from_slice(data).map_err(|e| SnapshotError(e.to_string()))?;
        self.map = map;
        self.applied = applied;
        Ok(())
    }
}

pub fn set(key: impl Into<String>, value: impl Into<String>) -> Cmd {
    Cmd::Set {
        key: key.into(),
        value: value.into(),
    }
}

pub fn node(id: NodeId) -> Node {
    Node::new(format!("node-{id}"), format!("api-{id}"))
}

/// Short timings for tests.
pub fn config(id: NodeId, node: Node, storage: Storage) -> RaftConfig {
    let mut c = RaftConfig::new(id, node, storage);
    c.heartbeat_interval = Duration::from_millis(50);
    c.election_timeout_min = Duration::from_millis(150);
    c.election_timeout_max = Duration::from_millis(300);
    c.op_timeout = Duration::from_secs(1);
    c.catch_up_timeout = Duration::from_secs(10);
    c
}

/// Polls `f` every 10 ms until it returns `Some`, or fails after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An in-process cluster on a [`Router`].
pub struct Cluster {
    pub router: Router,
    pub replicas: BTreeMap<NodeId, Replica<Kv>>,
}

impl Cluster {
    /// Starts `n` in-memory replicas (ids 1..=n) with `tweak` applied to each config, and
    /// initializes the cluster on replica 1.
    pub async fn start(n: u64, tweak: impl Fn(&mut RaftConfig)) -> anyhow::Result<Self> {
        let mut c = Self {
            router: Router::new(),
            replicas: BTreeMap::new(),
        };
        for id in 1..=n {
            c.start_replica(id, &tweak).await?;
        }
        let members = (1..=n).map(|id| (id, node(id))).collect();
        c.get(1).initialize(members).await?;
        c.wait_leader(None).await?;
        Ok(c)
    }

    /// Starts one more in-memory replica on the router (not yet a member).
    pub async fn start_replica(
        &mut self,
        id: NodeId,
        tweak: impl Fn(&mut RaftConfig),
    ) -> anyhow::Result<()> {
        let mut cfg = config(id, node(id), Storage::Memory);
        tweak(&mut cfg);
        let r = Replica::start(
            cfg,
            Kv::default(),
            Transport::InProcess(self.router.clone()),
        )
        .await?;
        self.replicas.insert(id, r);
        Ok(())
    }

    pub fn get(&self, id: NodeId) -> &Replica<Kv> {
        &self.replicas[&id]
    }

    /// Waits until all replicas in `among` (default: all) agree on one leader among them.
    pub async fn wait_leader(&self, among: Option<&[NodeId]>) -> anyhow::Result<NodeId> {
        let ids: Vec<NodeId> = among
            .map(<[_]>::to_vec)
            .unwrap_or_else(|| self.replicas.keys().copied().collect());
        wait_for("a leader", Duration::from_secs(10), || {
            let leaders: Vec<Option<NodeId>> =
                ids.iter().map(|id| self.get(*id).status().leader).collect();
            let first = leaders[0];
            let agreed =
                first.filter(|l| ids.contains(l) && leaders.iter().all(|x| *x == Some(*l)));
            let is_leader = agreed
                .filter(|l| self.get(*l).metrics().borrow().state == openraft::ServerState::Leader);
            async move { is_leader }
        })
        .await
    }

    /// Writes through whichever replica is leader, retrying until `timeout`.
    pub async fn write(&self, cmd: &Cmd) -> anyhow::Result<Option<String>> {
        write_retry(&self.replicas, cmd, Duration::from_secs(10)).await
    }

    /// Waits until replica `id` has applied at least `n` commands.
    pub async fn wait_applied(&self, id: NodeId, n: u64) -> anyhow::Result<()> {
        wait_for_applied(self.get(id), n).await
    }
}

pub async fn wait_for_applied(r: &Replica<Kv>, n: u64) -> anyhow::Result<()> {
    wait_for(
        &format!("replica {} to apply {n}", r.id()),
        Duration::from_secs(10),
        || {
            let ok = r.read(|kv| kv.applied >= n);
            async move { ok.then_some(()) }
        },
    )
    .await
}

/// Writes `cmd`, following `ForwardToLeader` and retrying `Unavailable`, until `timeout`.
pub async fn write_retry(
    replicas: &BTreeMap<NodeId, Replica<Kv>>,
    cmd: &Cmd,
    timeout: Duration,
) -> anyhow::Result<Option<String>> {
    let deadline = Instant::now() + timeout;
    let mut target = *replicas.keys().next().context("no replicas")?;
    loop {
        let r = replicas.get(&target).context("unknown replica")?;
        match r.write(cmd).await {
            Ok(v) => return Ok(v),
            Err(WriteError::ForwardToLeader {
                leader_id: Some(l), ..
            }) if replicas.contains_key(&l) => target = l,
            Err(WriteError::ForwardToLeader { .. } | WriteError::Unavailable(_)) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e.into()),
        }
        if Instant::now() > deadline {
            bail!("write did not succeed within {timeout:?}");
        }
    }
}
