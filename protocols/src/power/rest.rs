//! PCS's JSON records (`pcs.swagger.yaml`), key for key: what `/power-control/v1` takes and
//! answers. Unknown keys are ignored on input, as PCS's Go decoder does, except in the
//! power-status query, whose schema forbids them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ManagementState, PowerOperation, PowerState, TaskStatus, TransitionStatus};

/// `transition_create`: the body of `POST /transitions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TransitionCreate {
    /// The operation, in any case (`on`, `Soft-Off`, ...). Kept as text so a bad value is
    /// refused with PCS's own message.
    pub operation: String,
    /// Minutes each task may take: 5 when absent, 0 = do not wait for confirmation,
    /// -1 = wait as long as it takes.
    #[serde(
        rename = "taskDeadlineMinutes",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub task_deadline_minutes: Option<i64>,
    /// The targets.
    #[serde(default)]
    pub location: Vec<Location>,
}

/// `reserved_location`: one target of a transition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Location {
    /// A node, or a BMC, slot, chassis or cabinet xname (expanded to its nodes), or a group
    /// label (expanded to its member nodes).
    pub xname: String,
    /// A reservation deputy key (accepted and ignored: Cairn has no reservations).
    #[serde(rename = "deputyKey", default, skip_serializing_if = "Option::is_none")]
    pub deputy_key: Option<String>,
}

/// `transition_start_output`: the answer to `POST /transitions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TransitionStart {
    /// The new transition's ID (a UUID).
    #[serde(rename = "transitionID")]
    pub transition_id: String,
    /// The operation, in PCS's spelling.
    pub operation: PowerOperation,
}

/// `task_counts`: how many tasks are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaskCounts {
    /// All tasks.
    pub total: usize,
    /// Not started.
    pub new: usize,
    /// Started, not ended.
    #[serde(rename = "in-progress")]
    pub in_progress: usize,
    /// Failed.
    pub failed: usize,
    /// Succeeded.
    pub succeeded: usize,
    /// Not supported by the component.
    #[serde(rename = "un-supported")]
    pub unsupported: usize,
}

impl TaskCounts {
    /// Counts these statuses.
    pub fn of(statuses: impl IntoIterator<Item = TaskStatus>) -> TaskCounts {
        let mut c = TaskCounts::default();
        for s in statuses {
            c.total += 1;
            match s {
                TaskStatus::New => c.new += 1,
                TaskStatus::InProgress => c.in_progress += 1,
                TaskStatus::Failed => c.failed += 1,
                TaskStatus::Succeeded => c.succeeded += 1,
                TaskStatus::Unsupported => c.unsupported += 1,
            }
        }
        c
    }
}

/// `transitions_get`: one transition in `GET /transitions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TransitionSummary {
    /// The ID.
    #[serde(rename = "transitionID")]
    pub transition_id: String,
    /// When it was created (RFC 3339).
    #[serde(rename = "createTime")]
    pub create_time: String,
    /// When the record will be deleted (RFC 3339).
    #[serde(rename = "automaticExpirationTime")]
    pub automatic_expiration_time: String,
    /// Derived from the tasks.
    #[serde(rename = "transitionStatus")]
    pub transition_status: TransitionStatus,
    /// The operation.
    pub operation: PowerOperation,
    /// Tasks per status.
    #[serde(rename = "taskCounts")]
    pub task_counts: TaskCounts,
}

/// `transitions_getAll`: the answer to `GET /transitions`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct TransitionList {
    /// Oldest first.
    pub transitions: Vec<TransitionSummary>,
}

/// `transitions_getID`: the answer to `GET /transitions/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TransitionDetail {
    /// The summary fields.
    #[serde(flatten)]
    pub summary: TransitionSummary,
    /// One per target node, in xname order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskData>,
}

/// `transition_task_data`: one target's task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskData {
    /// The node.
    pub xname: String,
    /// Its status.
    #[serde(rename = "taskStatus")]
    pub task_status: TaskStatus,
    /// What happened, e.g. "Transition confirmed, On".
    #[serde(rename = "taskStatusDescription")]
    pub task_status_description: String,
    /// Why it failed; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// `transitions_abort`: the answer to `DELETE /transitions/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AbortResponse {
    /// "Accepted - abort initiated".
    #[serde(rename = "abortStatus")]
    pub abort_status: String,
}

/// `power_status`: one component's power state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PowerStatusEntry {
    /// The component.
    pub xname: String,
    /// `on`, `off` or `undefined`.
    #[serde(rename = "powerState")]
    pub power_state: PowerState,
    /// `available` when its BMC answers.
    #[serde(rename = "managementState")]
    pub management_state: ManagementState,
    /// Why the state is unknown; empty when it is known.
    pub error: String,
    /// The operations its BMC's ResetTypes allow.
    #[serde(rename = "supportedPowerTransitions")]
    pub supported_power_transitions: Vec<PowerOperation>,
    /// When the state was last read (RFC 3339); absent if it never was.
    #[serde(
        rename = "lastUpdated",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated: Option<String>,
}

/// `power_status_all`: the answer to `GET`/`POST /power-status`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct PowerStatusAll {
    /// One entry per component asked for (every node when none was named).
    pub status: Vec<PowerStatusEntry>,
}

/// `power_status_get`: the body of `POST /power-status`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerStatusQuery {
    /// Components to report; all nodes when absent.
    #[serde(default)]
    pub xname: Vec<String>,
    /// Only components in this power state.
    #[serde(
        rename = "powerStateFilter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub power_state_filter: Option<String>,
    /// Only components in this management state.
    #[serde(
        rename = "managementStateFilter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub management_state_filter: Option<String>,
}

/// `health_rsp`: PCS's dependency report, answered with what Cairn uses instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// Where transitions are stored.
    #[serde(rename = "KvStore")]
    pub kv_store: String,
    /// How instances coordinate.
    #[serde(rename = "DistLocking")]
    pub dist_locking: String,
    /// The inventory.
    #[serde(rename = "StateManager")]
    pub state_manager: String,
    /// Where BMC credentials live.
    #[serde(rename = "Vault")]
    pub vault: String,
    /// Who executes the tasks.
    #[serde(rename = "TaskRunner")]
    pub task_runner: String,
}
