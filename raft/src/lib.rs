//! Raft replication for Cairn.
//!
//! `cairn-raft` runs one replica of an application [`StateMachine`] replicated with
//! [openraft](https://docs.rs/openraft/0.9) (storage v2). The openraft types are concrete
//! (see [`typ`]): commands and responses travel as opaque MessagePack bytes, and
//! [`Replica<S>`] is the generic, typed layer on top.
//!
//! * Logs live in sled ([`Storage::Sled`]) or in memory ([`Storage::Memory`], for tests).
//! * The application state lives in memory; snapshots are the bytes of
//!   [`StateMachine::snapshot`] and, with sled, are persisted so a restart restores them.
//! * Replicas talk over gRPC ([`Transport::Grpc`], see [`grpc`]) or, in tests, through an
//!   in-process [`Router`] with per-link fault injection.

// openraft's own error types (`StorageError`, `ConfigError`) are large, and the storage traits
// dictate them; boxing them at our private helpers would only move the copies around.
#![allow(clippy::result_large_err)]

mod batcher;
mod config;
mod error;
pub mod grpc;
mod mem_store;
mod read_barrier;
mod replica;
mod router;
mod sled_store;
mod sm_store;
mod snapshot_persist;
mod status;
pub mod typ;

#[cfg(test)]
mod store_tests;

use std::fmt::{self, Debug, Display};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use batcher::MAX_ENTRY_BYTES;
pub use config::{RaftConfig, Storage, Transport};
pub use error::{BoxError, RaftError, SnapshotError, WriteError};
pub use grpc::{RaftGrpcService, RaftServiceServer};
pub use openraft;
pub use replica::Replica;
pub use router::{Fault, Router};
pub use status::{ClusterStatus, MemberRole, MemberStatus};
pub use typ::TypeConfig;

/// Identifier of a replica in the Raft cluster.
pub type NodeId = u64;

/// A member's addresses, stored in the Raft membership.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Node {
    /// `host:port` of the replica-to-replica Raft gRPC listener.
    pub raft_addr: String,
    /// `host:port` of the replica's client-facing API listener.
    pub api_addr: String,
}

impl Node {
    /// Builds a node from its two addresses.
    pub fn new(raft_addr: impl Into<String>, api_addr: impl Into<String>) -> Self {
        Self {
            raft_addr: raft_addr.into(),
            api_addr: api_addr.into(),
        }
    }
}

impl Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "raft={} api={}", self.raft_addr, self.api_addr)
    }
}

/// The application state machine replicated by Raft.
///
/// `apply` must be pure and deterministic: every replica applies the same commands in the
/// same order and must end in the same state.
pub trait StateMachine: Send + Sync + 'static {
    /// A state-changing command, proposed with [`Replica::write`].
    type Command: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static;
    /// The result of applying a command, returned to the writer.
    type Response: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static;

    /// Applies one committed command.
    fn apply(&mut self, cmd: Self::Command) -> Self::Response;

    /// Serializes the whole state (for snapshots).
    fn snapshot(&self) -> Result<Vec<u8>, SnapshotError>;

    /// Writes the bytes of [`StateMachine::snapshot`] to `out`. Durable replicas stream their
    /// snapshots into a file through this, so a state machine that can serialize as it goes
    /// should override it: the default builds the whole snapshot in memory first.
    fn write_snapshot(&self, out: &mut dyn std::io::Write) -> Result<(), SnapshotError> {
        let data = self.snapshot()?;
        out.write_all(&data)
            .map_err(|e| SnapshotError(e.to_string()))
    }

    /// Replaces the whole state from bytes made by [`StateMachine::snapshot`].
    fn restore(&mut self, data: &[u8]) -> Result<(), SnapshotError>;
}
