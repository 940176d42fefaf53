//! A serializable summary of a replica's view of the cluster.

use serde::Serialize;

use openraft::ServerState;

use crate::typ::RaftMetrics;
use crate::{Node, NodeId};

/// The role of a member, as far as this replica knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MemberRole {
    /// The current leader.
    Leader,
    /// A voter following the known leader.
    Follower,
    /// A non-voting member that receives the log.
    Learner,
    /// This replica, campaigning for leadership.
    Candidate,
    /// A voter whose exact role is unknown (no leader is known).
    Voter,
}

/// One member of the cluster.
#[derive(Clone, Debug, Serialize)]
pub struct MemberStatus {
    /// Member id.
    pub id: NodeId,
    /// Member addresses.
    pub node: Node,
    /// Role as seen by this replica.
    pub role: MemberRole,
    /// Highest log index known replicated to the member (only on the leader).
    pub matched_index: Option<u64>,
    /// `last_log_index - matched_index` (only on the leader).
    pub lag: Option<u64>,
}

/// A replica's view of the cluster.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterStatus {
    /// This replica's id.
    pub id: NodeId,
    /// The known leader.
    pub leader: Option<NodeId>,
    /// Current term.
    pub term: u64,
    /// Voters and learners, by id.
    pub members: Vec<MemberStatus>,
    /// Index of the last log entry.
    pub last_log_index: Option<u64>,
    /// Index of the last entry known committed (this replica applies up to it).
    pub committed: Option<u64>,
    /// Index of the last entry applied to the state machine.
    pub last_applied: Option<u64>,
    /// Last log index included in the current snapshot.
    pub snapshot_index: Option<u64>,
    /// Last purged log index.
    pub purged_index: Option<u64>,
}

impl ClusterStatus {
    /// Builds the status from openraft metrics.
    ///
    /// openraft 0.9 does not publish the commit index. The leader computes it from its
    /// followers' matched indexes (the highest index a majority of voters holds); a follower
    /// reports its applied index, which trails the commit index it knows only by the entries
    /// being applied.
    pub fn from_metrics(m: &RaftMetrics) -> Self {
        let membership = m.membership_config.membership();
        let voters: std::collections::BTreeSet<NodeId> = membership.voter_ids().collect();
        let last_log = m.last_log_index;
        let members: Vec<MemberStatus> = membership
            .nodes()
            .map(|(id, node)| {
                let role = if !voters.contains(id) {
                    MemberRole::Learner
                } else if m.current_leader == Some(*id) {
                    MemberRole::Leader
                } else if *id == m.id && m.state == ServerState::Candidate {
                    MemberRole::Candidate
                } else if m.current_leader.is_some() {
                    MemberRole::Follower
                } else {
                    MemberRole::Voter
                };
                let matched_index = m
                    .replication
                    .as_ref()
                    .and_then(|r| r.get(id))
                    .and_then(|l| l.map(|l| l.index))
                    .or(if *id == m.id && m.replication.is_some() {
                        last_log
                    } else {
                        None
                    });
                let lag = m.replication.as_ref().map(|_| {
                    last_log
                        .unwrap_or(0)
                        .saturating_sub(matched_index.unwrap_or(0))
                });
                MemberStatus {
                    id: *id,
                    node: node.clone(),
                    role,
                    matched_index,
                    lag,
                }
            })
            .collect();
        let last_applied = m.last_applied.map(|l| l.index);
        let committed = match &m.replication {
            Some(_) => {
                let mut matched: Vec<u64> = members
                    .iter()
                    .filter(|s| voters.contains(&s.id))
                    .map(|s| s.matched_index.unwrap_or(0))
                    .collect();
                matched.sort_unstable_by(|a, b| b.cmp(a));
                matched.get(matched.len() / 2).copied().max(last_applied)
            }
            None => last_applied,
        };
        Self {
            id: m.id,
            leader: m.current_leader,
            term: m.current_term,
            members,
            last_log_index: last_log,
            committed,
            last_applied,
            snapshot_index: m.snapshot.map(|l| l.index),
            purged_index: m.purged.map(|l| l.index),
        }
    }
}
