//! A power task as the agent keeps it in its store: the task, the revision it arrived with, and
//! how far it got. Written before each reset is sent and after each is confirmed, so an agent
//! restarted mid-transition carries on from the step it was at and never sends a step twice.

use cairn_protocols::Xname;
use cairn_protocols::agent::PowerTask;
use cairn_protocols::power::{PowerOperation, PowerPlan, PowerState, PowerStep, TaskStatus};
use serde::{Deserialize, Serialize};

/// A task's identity: (transition, node).
pub type TaskKey = (String, Xname);

/// The store key of a task.
pub fn store_key(key: &TaskKey) -> String {
    format!("{}/{}", key.0, key.1)
}

/// What the agent remembers of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task.
    pub task: StoredTask,
    /// The Watch revision it first arrived with.
    pub revision: u64,
    /// How far it got.
    pub progress: Progress,
}

/// How far a task got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Progress {
    /// Reported in progress; `step` is the first step not yet confirmed.
    Started {
        /// The planned resets.
        steps: Vec<StoredStep>,
        /// The step under way.
        step: usize,
        /// When its reset was sent (Unix ms); `None`: maybe not yet.
        sent_ms: Option<u64>,
        /// Whether its escalation (ForceOff after a graceful window) was sent.
        escalated: bool,
    },
    /// Its final status is in the outbox.
    Finished {
        /// The final status.
        status: TaskStatus,
    },
}

impl TaskRecord {
    /// The record as stored.
    pub fn encode(&self) -> Vec<u8> {
        // A derived Serialize of owned data into memory cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A stored record.
    pub fn decode(bytes: &[u8]) -> Result<TaskRecord, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// [`PowerTask`] as stored (its fields mean what they mean there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTask {
    /// The transition.
    pub transition_id: String,
    /// The node.
    pub xname: Xname,
    /// What to do.
    pub operation: PowerOperation,
    /// The node's BMC.
    pub bmc: Xname,
    /// The BMC's FQDN as the coordinators store it.
    pub bmc_fqdn: String,
    /// The ComputerSystem's path.
    pub system_path: String,
    /// The `#ComputerSystem.Reset` target.
    pub reset_target: String,
    /// The ResetTypes the BMC allows.
    pub allowed_reset_types: Vec<String>,
    /// When the task fails unless confirmed (Unix ms).
    pub deadline_ms: Option<u64>,
    /// Whether to confirm by polling PowerState.
    pub confirm: bool,
    /// When the transition was created (Unix ms).
    pub created_ms: u64,
}

impl StoredTask {
    /// Its key.
    pub fn key(&self) -> TaskKey {
        (self.transition_id.clone(), self.xname.clone())
    }
}

impl From<PowerTask> for StoredTask {
    fn from(t: PowerTask) -> Self {
        StoredTask {
            transition_id: t.transition_id,
            xname: t.xname,
            operation: t.operation,
            bmc: t.bmc,
            bmc_fqdn: t.bmc_fqdn,
            system_path: t.system_path,
            reset_target: t.reset_target,
            allowed_reset_types: t.allowed_reset_types,
            deadline_ms: t.deadline_ms,
            confirm: t.confirm,
            created_ms: t.created_ms,
        }
    }
}

/// [`PowerStep`] as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredStep {
    /// The ResetType to send.
    pub reset_type: String,
    /// The PowerState that confirms it.
    pub expect: PowerState,
    /// The ResetType to send after the graceful window.
    pub escalate: Option<String>,
}

impl StoredStep {
    /// Whether the reset restarts the node: its expected state (On) is also the state it
    /// started from, so reading On does not show that it was sent.
    pub fn restarts(&self) -> bool {
        let r = self.reset_type.to_ascii_lowercase();
        r.contains("restart") || r.contains("cycle")
    }
}

impl From<PowerStep> for StoredStep {
    fn from(s: PowerStep) -> Self {
        StoredStep {
            reset_type: s.reset_type,
            expect: s.expect,
            escalate: s.escalate,
        }
    }
}

/// The steps of a plan, as stored.
pub fn steps(plan: PowerPlan) -> Vec<StoredStep> {
    plan.steps.into_iter().map(StoredStep::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let record = TaskRecord {
            task: StoredTask {
                transition_id: "7d4c".into(),
                xname: "x1000c0s0b0n1".parse().unwrap(),
                operation: PowerOperation::HardRestart,
                bmc: "x1000c0s0b0".parse().unwrap(),
                bmc_fqdn: "10.0.0.1".into(),
                system_path: "/redfish/v1/Systems/2".into(),
                reset_target: "/redfish/v1/Systems/2/Actions/ComputerSystem.Reset".into(),
                allowed_reset_types: vec!["On".into(), "ForceOff".into()],
                deadline_ms: Some(9),
                confirm: true,
                created_ms: 1,
            },
            revision: 12,
            progress: Progress::Started {
                steps: vec![StoredStep {
                    reset_type: "ForceOff".into(),
                    expect: PowerState::Off,
                    escalate: None,
                }],
                step: 0,
                sent_ms: Some(5),
                escalated: false,
            },
        };
        assert_eq!(TaskRecord::decode(&record.encode()).unwrap(), record);
        assert_eq!(store_key(&record.task.key()), "7d4c/x1000c0s0b0n1");
    }
}
