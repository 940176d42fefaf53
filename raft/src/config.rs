//! Replica configuration.

use std::path::PathBuf;
use std::time::Duration;

use crate::{Node, NodeId, Router};

/// Where a replica keeps its Raft log and snapshot.
#[derive(Clone, Debug)]
pub enum Storage {
    /// Everything in memory: lost on restart (tests).
    Memory,
    /// One sled database in this directory (created if missing).
    Sled(PathBuf),
}

/// How replicas reach each other.
#[derive(Clone, Debug)]
pub enum Transport {
    /// gRPC to each member's `raft_addr` (see [`crate::grpc`]).
    Grpc,
    /// Direct in-process calls through a [`Router`] (tests, with fault injection).
    InProcess(Router),
}

/// Configuration of one replica.
#[derive(Clone, Debug)]
pub struct RaftConfig {
    /// This replica's id; stable across restarts.
    pub node_id: NodeId,
    /// This replica's advertised addresses.
    pub node: Node,
    /// Log and snapshot storage.
    pub storage: Storage,
    /// Leader heartbeat interval (default 100 ms). Also the append-entries RPC timeout.
    pub heartbeat_interval: Duration,
    /// Minimum election timeout (default 400 ms).
    pub election_timeout_min: Duration,
    /// Maximum election timeout (default 800 ms).
    pub election_timeout_max: Duration,
    /// Build a snapshot after this many logs since the last one (default 5 000).
    pub snapshot_logs_since_last: u64,
    /// Logs kept after a snapshot, for followers that lag a little (default 1 000).
    pub max_logs_kept_after_snapshot: u64,
    /// Bound on `write`, `ensure_linearizable` and membership steps (default 3 s); past it the
    /// call fails with [`crate::WriteError::Unavailable`].
    pub op_timeout: Duration,
    /// Bound on waiting for a new learner to catch up in `add_voter` (default 60 s).
    pub catch_up_timeout: Duration,
    /// Timeout of one snapshot chunk transfer + install (default 5 s).
    pub install_snapshot_timeout: Duration,
}

/// Log entries per AppendEntries RPC at most.
pub(crate) const MAX_PAYLOAD_ENTRIES: u64 = 8;

impl RaftConfig {
    /// A configuration with the default timings.
    pub fn new(node_id: NodeId, node: Node, storage: Storage) -> Self {
        Self {
            node_id,
            node,
            storage,
            heartbeat_interval: Duration::from_millis(100),
            election_timeout_min: Duration::from_millis(400),
            election_timeout_max: Duration::from_millis(800),
            snapshot_logs_since_last: 5_000,
            max_logs_kept_after_snapshot: 1_000,
            op_timeout: Duration::from_secs(3),
            catch_up_timeout: Duration::from_secs(60),
            install_snapshot_timeout: Duration::from_secs(5),
        }
    }

    /// The openraft configuration, validated.
    pub(crate) fn to_openraft(&self) -> Result<openraft::Config, openraft::ConfigError> {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        openraft::Config {
            cluster_name: "cairn".to_string(),
            heartbeat_interval: ms(self.heartbeat_interval),
            election_timeout_min: ms(self.election_timeout_min),
            election_timeout_max: ms(self.election_timeout_max),
            install_snapshot_timeout: ms(self.install_snapshot_timeout),
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(self.snapshot_logs_since_last),
            max_in_snapshot_log_to_keep: self.max_logs_kept_after_snapshot,
            // openraft bounds each AppendEntries by the heartbeat interval, and an entry is a
            // batch of writes (up to `batcher::MAX_BATCH_BYTES`): a lagging follower must be
            // able to take one payload well within that, or catching up would retry forever.
            max_payload_entries: MAX_PAYLOAD_ENTRIES,
            ..Default::default()
        }
        .validate()
    }
}
