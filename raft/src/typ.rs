//! The openraft type configuration, declared once, and aliases used by the rest of the crate.

use std::io::Cursor;

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::{Node, NodeId};

/// The Raft log payload: a batch of encoded application commands (each the MessagePack of an
/// `S::Command`), applied in order. openraft 0.9 appends and flushes each client write on its
/// own, so one entry carrying every write queued meanwhile is what lets one fsync serve many.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRequest(pub Vec<ByteBuf>);

/// The encoded responses (MessagePack of each `S::Response`) of a batch, in command order.
///
/// Blank and membership entries produce an empty response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppResponse(pub Vec<ByteBuf>);

openraft::declare_raft_types!(
    /// The openraft type configuration of Cairn.
    pub TypeConfig:
        D = AppRequest,
        R = AppResponse,
        NodeId = NodeId,
        Node = Node,
        SnapshotData = Cursor<Vec<u8>>,
);

/// The openraft handle of one replica.
pub type Raft = openraft::Raft<TypeConfig>;
/// A Raft log entry.
pub type Entry = openraft::Entry<TypeConfig>;
/// A log id (leader term + index).
pub type LogId = openraft::LogId<NodeId>;
/// A vote.
pub type Vote = openraft::Vote<NodeId>;
/// Storage error as openraft wants it.
pub type StorageError = openraft::StorageError<NodeId>;
/// Snapshot metadata.
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, Node>;
/// A snapshot (meta + data).
pub type Snapshot = openraft::Snapshot<TypeConfig>;
/// The membership as of some log id.
pub type StoredMembership = openraft::StoredMembership<NodeId, Node>;
/// The log state (last purged, last log).
pub type LogState = openraft::LogState<TypeConfig>;
/// Metrics published by a replica.
pub type RaftMetrics = openraft::RaftMetrics<NodeId, Node>;
/// An RPC error returned by a network client, with the remote error type `E`.
pub type RpcError<E = openraft::error::Infallible> =
    openraft::error::RPCError<NodeId, Node, openraft::error::RaftError<NodeId, E>>;
/// Append-entries request.
pub type AppendEntriesRequest = openraft::raft::AppendEntriesRequest<TypeConfig>;
/// Append-entries response.
pub type AppendEntriesResponse = openraft::raft::AppendEntriesResponse<NodeId>;
/// Vote request.
pub type VoteRequest = openraft::raft::VoteRequest<NodeId>;
/// Vote response.
pub type VoteResponse = openraft::raft::VoteResponse<NodeId>;
/// Install-snapshot request (one chunk).
pub type InstallSnapshotRequest = openraft::raft::InstallSnapshotRequest<TypeConfig>;
/// Install-snapshot response.
pub type InstallSnapshotResponse = openraft::raft::InstallSnapshotResponse<NodeId>;

/// Wraps any displayable error into a storage IO error.
pub(crate) fn io_err(e: impl std::fmt::Display) -> openraft::AnyError {
    openraft::AnyError::error(e.to_string())
}
