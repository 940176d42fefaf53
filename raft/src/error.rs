//! Errors of the replica API, and their mapping from openraft errors.

use openraft::error::{
    CheckIsLeaderError, ClientWriteError, Fatal, ForwardToLeader, RaftError as OrError,
};

use crate::{Node, NodeId};

/// A boxed error kept as the `source` of a [`RaftError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Failure of a state-machine snapshot or restore.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state machine snapshot failed: {0}")]
pub struct SnapshotError(pub String);

/// Errors of replica lifecycle and administration calls.
#[derive(Debug, thiserror::Error)]
pub enum RaftError {
    /// Opening or using the log / snapshot storage failed.
    #[error("raft storage failed")]
    Storage(#[source] BoxError),
    /// Serving or reaching the Raft RPC transport failed.
    #[error("raft transport failed")]
    Transport(#[source] BoxError),
    /// The Raft core stopped or hit a fatal error.
    #[error("raft core stopped or failed")]
    Fatal(#[source] BoxError),
    /// The configuration is invalid.
    #[error("invalid raft configuration")]
    Config(#[source] BoxError),
    /// `initialize` was refused (e.g. this node is not among the members).
    #[error("raft initialization refused")]
    Initialize(#[source] BoxError),
}

/// Errors of writes, linearizable reads and membership changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// Not the leader; the caller forwards. `None` when no leader is known.
    #[error("not the leader; forward to leader {leader_id:?}")]
    ForwardToLeader {
        /// The leader's id, if known.
        leader_id: Option<NodeId>,
        /// The leader's addresses, if known.
        leader: Option<Node>,
    },
    /// No quorum, shutting down or timed out: retry later (HTTP 503).
    #[error("raft unavailable: {0}")]
    Unavailable(String),
    /// Encoding / decoding failed, or a fatal storage error.
    #[error("raft internal error: {0}")]
    Internal(String),
    /// Membership change refused (unknown node, change in progress, ...).
    #[error("membership change refused: {0}")]
    Membership(String),
    /// The encoded command is larger than one log entry may be (HTTP 413).
    #[error(
        "the command is {bytes} bytes encoded, more than the {limit}-byte limit of one log entry"
    )]
    TooLarge {
        /// Its encoded size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

impl WriteError {
    fn forward(f: ForwardToLeader<NodeId, Node>) -> Self {
        WriteError::ForwardToLeader {
            leader_id: f.leader_id,
            leader: f.leader_node,
        }
    }
}

impl From<Fatal<NodeId>> for WriteError {
    fn from(f: Fatal<NodeId>) -> Self {
        match f {
            Fatal::Stopped => WriteError::Unavailable("raft stopped".into()),
            other => WriteError::Internal(other.to_string()),
        }
    }
}

impl From<OrError<NodeId, ClientWriteError<NodeId, Node>>> for WriteError {
    fn from(e: OrError<NodeId, ClientWriteError<NodeId, Node>>) -> Self {
        match e {
            OrError::APIError(ClientWriteError::ForwardToLeader(f)) => Self::forward(f),
            OrError::APIError(ClientWriteError::ChangeMembershipError(m)) => {
                WriteError::Membership(m.to_string())
            }
            OrError::Fatal(f) => f.into(),
        }
    }
}

impl From<OrError<NodeId, CheckIsLeaderError<NodeId, Node>>> for WriteError {
    fn from(e: OrError<NodeId, CheckIsLeaderError<NodeId, Node>>) -> Self {
        match e {
            OrError::APIError(CheckIsLeaderError::ForwardToLeader(f)) => Self::forward(f),
            OrError::APIError(CheckIsLeaderError::QuorumNotEnough(q)) => {
                WriteError::Unavailable(q.to_string())
            }
            OrError::Fatal(f) => f.into(),
        }
    }
}

impl From<Fatal<NodeId>> for RaftError {
    fn from(f: Fatal<NodeId>) -> Self {
        RaftError::Fatal(Box::new(f))
    }
}

impl<E> From<OrError<NodeId, E>> for RaftError
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(e: OrError<NodeId, E>) -> Self {
        match e {
            OrError::APIError(api) => RaftError::Initialize(Box::new(api)),
            OrError::Fatal(f) => f.into(),
        }
    }
}
