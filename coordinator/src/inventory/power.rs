//! The replicated power records: PCS transitions with one task per target node, and the
//! newest power state each node's agent reported. Everything time-dependent (creation,
//! deadlines, expiry) is decided when a command is proposed, so applying stays deterministic.

use std::collections::{BTreeMap, BTreeSet};

use cairn_protocols::Xname;
use cairn_protocols::power::{
    ManagementState, PowerOperation, PowerState, TaskCounts, TaskStatus, TransitionStatus,
    transition_status,
};
use serde::{Deserialize, Serialize};

use super::state::Inventory;

/// One target of a transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerTaskRecord {
    /// PCS's status.
    pub status: TaskStatus,
    /// PCS's `taskStatusDescription`.
    pub description: String,
    /// PCS's `error`.
    pub error: String,
}

impl PowerTaskRecord {
    /// A task not started yet.
    pub fn new_task() -> PowerTaskRecord {
        PowerTaskRecord {
            status: TaskStatus::New,
            description: "Waiting for the rack agent".into(),
            error: String::new(),
        }
    }
}

/// A PCS transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionRecord {
    /// Its UUID.
    pub id: String,
    /// The operation.
    pub operation: PowerOperation,
    /// Creation time (Unix ms).
    pub created_ms: u64,
    /// When open tasks fail (Unix ms); `None`: no deadline.
    pub deadline_ms: Option<u64>,
    /// Whether agents confirm by polling PowerState (false for `taskDeadlineMinutes: 0`).
    pub confirm: bool,
    /// When the record is deleted (Unix ms).
    pub expires_ms: u64,
    /// Whether `DELETE` was called.
    pub abort_signaled: bool,
    /// One task per target node.
    pub tasks: BTreeMap<Xname, PowerTaskRecord>,
}

impl TransitionRecord {
    /// PCS's status, derived from the tasks.
    pub fn status(&self) -> TransitionStatus {
        transition_status(self.abort_signaled, self.tasks.values().map(|t| t.status))
    }

    /// Tasks per status.
    pub fn counts(&self) -> TaskCounts {
        TaskCounts::of(self.tasks.values().map(|t| t.status))
    }

    /// Whether some task is still new or in progress.
    pub fn is_open(&self) -> bool {
        self.tasks.values().any(|t| !t.status.is_final())
    }
}

/// The newest power state reported for a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerStatusRecord {
    /// Its power state.
    pub power_state: PowerState,
    /// Whether its BMC answered.
    pub management_state: ManagementState,
    /// Why the state is unknown (empty when known).
    pub error: String,
    /// When it was read (Unix ms).
    pub observed_ms: u64,
}

/// Every power record (absent from snapshots taken before power control existed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerRecords {
    pub(super) transitions: BTreeMap<String, TransitionRecord>,
    pub(super) status: BTreeMap<Xname, PowerStatusRecord>,
}

impl PowerRecords {
    /// Every transition, by id.
    pub fn transitions(&self) -> impl Iterator<Item = &TransitionRecord> {
        self.transitions.values()
    }

    /// One transition.
    pub fn transition(&self, id: &str) -> Option<&TransitionRecord> {
        self.transitions.get(id)
    }

    /// The newest power state reported for `node`.
    pub fn status_of(&self, node: &Xname) -> Option<&PowerStatusRecord> {
        self.status.get(node)
    }

    /// Every node with a reported power state.
    pub fn statuses(&self) -> impl Iterator<Item = (&Xname, &PowerStatusRecord)> {
        self.status.iter()
    }

    /// Whether a [`PowerCommand::Tick`] at `now_ms` would change anything: a deadline passed
    /// with tasks still open, or a record expired.
    pub fn tick_due(&self, now_ms: u64) -> bool {
        self.transitions.values().any(|t| {
            t.expires_ms <= now_ms || (t.deadline_ms.is_some_and(|d| d <= now_ms) && t.is_open())
        })
    }
}

impl Inventory {
    /// The transitions and the reported power states.
    pub fn power(&self) -> &PowerRecords {
        &self.power
    }

    /// The nodes at or beneath `x` that have a component or a component endpoint, in xname
    /// order (ranges of the ordered maps, not scans, except for the whole system `s0`).
    pub fn nodes_under(&self, x: &Xname) -> BTreeSet<Xname> {
        fn under<'a, V>(
            map: &'a BTreeMap<Xname, V>,
            x: &'a Xname,
        ) -> Box<dyn Iterator<Item = &'a Xname> + 'a> {
            if x.hms_type() == cairn_protocols::HmsType::System {
                Box::new(map.keys())
            } else {
                Box::new(map.range(x..).map(|(k, _)| k).take_while(|k| x.contains(k)))
            }
        }
        under(&self.components, x)
            .chain(under(&self.component_endpoints, x))
            .filter(|k| k.is_node())
            .cloned()
            .collect()
    }

    /// Whether anything is known about `x`: a component, a component endpoint, a Redfish
    /// endpoint or a reported power state.
    pub fn knows(&self, x: &Xname) -> bool {
        self.components.contains_key(x)
            || self.component_endpoints.contains_key(x)
            || self.redfish_endpoints.contains_key(x)
            || self.power.status.contains_key(x)
    }
}

/// A target as decided when the transition is proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTask {
    /// The node.
    pub xname: Xname,
    /// `New`, or already final when the node cannot be powered (no agent, ResetType missing).
    pub task: PowerTaskRecord,
}

/// A replicated change to the power records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PowerCommand {
    /// `POST /power-control/v1/transitions`.
    Create {
        /// Its UUID.
        id: String,
        /// The operation.
        operation: PowerOperation,
        /// Creation time (Unix ms).
        created_ms: u64,
        /// Deadline (Unix ms) or none.
        deadline_ms: Option<u64>,
        /// Whether to confirm by polling.
        confirm: bool,
        /// Record expiry (Unix ms).
        expires_ms: u64,
        /// The targets, in xname order.
        tasks: Vec<NewTask>,
    },
    /// `DELETE /power-control/v1/transitions/{id}`.
    Abort {
        /// The transition.
        id: String,
    },
    /// The leader's clock: fail open tasks past their deadline, delete expired records.
    Tick {
        /// The leader's time when proposing (Unix ms).
        now_ms: u64,
    },
}
