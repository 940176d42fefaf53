//! How power commands, task results and power samples change the inventory.

use cairn_protocols::agent::{PowerSample, PowerTaskResult};
use cairn_protocols::power::{ManagementState, PowerState, TaskStatus};
use cairn_protocols::{HmsState, Xname};

use super::command::ApplyError;
use super::power::{PowerCommand, PowerStatusRecord, PowerTaskRecord, TransitionRecord};
use super::state::Inventory;

pub(super) fn apply(inv: &mut Inventory, cmd: PowerCommand) -> Result<usize, ApplyError> {
    match cmd {
        PowerCommand::Create {
            id,
            operation,
            created_ms,
            deadline_ms,
            confirm,
            expires_ms,
            tasks,
        } => {
            if inv.power.transitions.contains_key(&id) {
                return Err(ApplyError::Conflict(format!(
                    "transition {id} already exists"
                )));
            }
            if tasks.is_empty() {
                return Err(ApplyError::Invalid(
                    "a transition needs at least one target".into(),
                ));
            }
            let n = tasks.len();
            let record = TransitionRecord {
                id: id.clone(),
                operation,
                created_ms,
                deadline_ms,
                confirm,
                expires_ms,
                abort_signaled: false,
                tasks: tasks.into_iter().map(|t| (t.xname, t.task)).collect(),
            };
            inv.power.transitions.insert(id, record);
            Ok(n)
        }
        PowerCommand::Abort { id } => abort(inv, &id),
        PowerCommand::Tick { now_ms } => Ok(tick(inv, now_ms)),
    }
}

fn abort(inv: &mut Inventory, id: &str) -> Result<usize, ApplyError> {
    let t = inv
        .power
        .transitions
        .get_mut(id)
        .ok_or_else(|| ApplyError::NotFound(format!("TransitionID {id} does not exist")))?;
    if t.abort_signaled {
        return Ok(0);
    }
    if !t.is_open() {
        return Err(ApplyError::Invalid(
            "Transition is already finished and cannot be aborted.".into(),
        ));
    }
    t.abort_signaled = true;
    // Tasks the agent has not reported as started are stopped here and now, so an abort ends
    // even if the agent is gone; started ones wait for their agent (or their deadline).
    let mut n = 1;
    for task in t.tasks.values_mut() {
        if task.status == TaskStatus::New {
            *task = PowerTaskRecord {
                status: TaskStatus::Failed,
                description: "Transition aborted".into(),
                error: "aborted before the rack agent started it".into(),
            };
            n += 1;
        }
    }
    Ok(n)
}

fn tick(inv: &mut Inventory, now_ms: u64) -> usize {
    let mut n = 0;
    for t in inv.power.transitions.values_mut() {
        if t.deadline_ms.is_none_or(|d| d > now_ms) {
            continue;
        }
        for task in t.tasks.values_mut() {
            let error = match task.status {
                TaskStatus::New => "deadline passed before the rack agent started the task",
                TaskStatus::InProgress => "deadline passed before the transition was confirmed",
                _ => continue,
            };
            *task = PowerTaskRecord {
                status: TaskStatus::Failed,
                description: "Failed to achieve transition".into(),
                error: error.into(),
            };
            n += 1;
        }
    }
    let before = inv.power.transitions.len();
    inv.power.transitions.retain(|_, t| t.expires_ms > now_ms);
    n + (before - inv.power.transitions.len())
}

/// An agent's task result: ignored when the transition or task is unknown or already final.
pub(super) fn apply_result(inv: &mut Inventory, r: PowerTaskResult, now_ms: u64) -> usize {
    let Some(task) = inv
        .power
        .transitions
        .get_mut(&r.transition_id)
        .and_then(|t| t.tasks.get_mut(&r.xname))
    else {
        return 0;
    };
    if task.status.is_final() {
        return 0;
    }
    task.status = r.status;
    if !r.description.is_empty() || r.status.is_final() {
        task.description = r.description;
    }
    task.error = r.error;
    if let Some(state) = r.power_state {
        apply_sample(
            inv,
            PowerSample {
                xname: r.xname,
                power_state: state,
                management_state: ManagementState::Available,
                error: String::new(),
                observed_ms: r.observed_ms.unwrap_or(now_ms),
            },
        );
    }
    1
}

/// A polled power state: kept unless a newer one is held; On/Off also update the
/// component's State, as SMD does on power events.
pub(super) fn apply_sample(inv: &mut Inventory, s: PowerSample) -> usize {
    if inv
        .power
        .status
        .get(&s.xname)
        .is_some_and(|held| held.observed_ms > s.observed_ms)
    {
        return 0;
    }
    sync_component_state(inv, &s.xname, s.power_state);
    inv.power.status.insert(
        s.xname,
        PowerStatusRecord {
            power_state: s.power_state,
            management_state: s.management_state,
            error: s.error,
            observed_ms: s.observed_ms,
        },
    );
    1
}

fn sync_component_state(inv: &mut Inventory, id: &Xname, power: PowerState) {
    let Some(c) = inv.components.get_mut(id) else {
        return;
    };
    let next = match (power, c.state) {
        // On, Standby, Halt and Ready all imply power: keep the finer state.
        (
            PowerState::On,
            None | Some(HmsState::Off | HmsState::Unknown | HmsState::Empty | HmsState::Populated),
        ) => HmsState::On,
        (PowerState::Off, _) => HmsState::Off,
        _ => return,
    };
    c.state = Some(next);
}
