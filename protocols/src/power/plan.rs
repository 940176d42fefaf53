//! From a PCS operation to Redfish resets: which `ResetType`s to POST, in which order, and
//! which `PowerState` confirms each, given what the BMC allows and the node's current state.
//! PCS's rules (BEHAVIOUR.md §5):
//!
//! | operation | steps | needs |
//! |---|---|---|
//! | On | On (or ForceOn) | — |
//! | Off | GracefulShutdown (or Off), then ForceOff if still on after the graceful window | GracefulShutdown or Off |
//! | Soft-Off | GracefulShutdown (or Off) | GracefulShutdown or Off |
//! | Force-Off | ForceOff | — |
//! | Soft-Restart | GracefulRestart, else ForceRestart, else Off then On | node On |
//! | Hard-Restart | Off then On | node On |
//! | Init | Off then On; a node that is off is just powered on | — |
//!
//! A node already in the operation's final state needs no step (On, Off, Soft-Off, Force-Off).
//! The coordinator calls [`supports`] when a transition is created (the state is not known
//! there) and the agent calls [`plan`] with the state it reads from the BMC.

use std::time::Duration;

use super::{PowerOperation, PowerState, TaskStatus};

/// Longest wait for a graceful shutdown before Off escalates to ForceOff.
pub const GRACEFUL_WINDOW: Duration = Duration::from_secs(60);

/// The ResetTypes assumed when a BMC declares none (it then refuses what it lacks).
const STANDARD: &[&str] = &[
    "On",
    "ForceOff",
    "GracefulShutdown",
    "GracefulRestart",
    "ForceRestart",
];

/// One reset: POST `{"ResetType": reset_type}` to the system's reset target, then wait until
/// its PowerState is `expect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerStep {
    /// The ResetType, spelled as the BMC declared it.
    pub reset_type: String,
    /// The PowerState that confirms the step.
    pub expect: PowerState,
    /// For a graceful power-off: the ResetType to send when `expect` is not reached within
    /// [`graceful_window`]; `None`: keep waiting until the deadline.
    pub escalate: Option<String>,
}

/// The resets for one node, in order. Empty: the node is already where the operation leads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PowerPlan {
    /// The steps.
    pub steps: Vec<PowerStep>,
}

impl PowerPlan {
    /// Whether nothing needs to be sent.
    pub fn is_noop(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Why an operation cannot run on a node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The BMC allows none of the ResetTypes a step needs: the task is `unsupported`.
    #[error("{operation} needs ResetType {needs}; the BMC allows {}", allowed_text(.allowed))]
    Unsupported {
        /// The operation.
        operation: PowerOperation,
        /// What was needed, e.g. "GracefulShutdown or Off".
        needs: &'static str,
        /// What the BMC allows.
        allowed: Vec<String>,
    },
    /// The operation does not start from the node's state: the task `failed`.
    #[error("{operation} needs the node On; it is {state}")]
    WrongState {
        /// The operation.
        operation: PowerOperation,
        /// The node's state.
        state: PowerState,
    },
}

fn allowed_text(allowed: &[String]) -> String {
    if allowed.is_empty() {
        "nothing".to_owned()
    } else {
        allowed.join(", ")
    }
}

impl PlanError {
    /// The task status this error ends the task with.
    pub fn task_status(&self) -> TaskStatus {
        match self {
            PlanError::Unsupported { .. } => TaskStatus::Unsupported,
            PlanError::WrongState { .. } => TaskStatus::Failed,
        }
    }

    /// PCS's `taskStatusDescription` for it.
    pub fn description(&self) -> String {
        match self {
            PlanError::Unsupported { operation, .. } => format!(
                "Component does not support the specified transition operation, {operation}"
            ),
            PlanError::WrongState { operation, .. } => {
                format!("Component must be in the On state for {operation}")
            }
        }
    }

    /// PCS's `error` for it, with the specifics.
    pub fn error(&self) -> String {
        match self {
            PlanError::Unsupported { .. } => {
                format!("Unsupported for transition operation: {self}")
            }
            PlanError::WrongState { .. } => {
                format!("Component is in the wrong power state: {self}")
            }
        }
    }
}

/// The BMC's spelling of `want` among `allowed` (case-insensitive); with nothing declared, the
/// standard values are assumed.
fn find(allowed: &[String], want: &str) -> Option<String> {
    if allowed.is_empty() {
        return STANDARD
            .iter()
            .find(|s| s.eq_ignore_ascii_case(want))
            .map(|s| (*s).to_owned());
    }
    allowed
        .iter()
        .find(|a| a.trim().eq_ignore_ascii_case(want))
        .map(|a| a.trim().to_owned())
}

/// Every step the operation takes from its usual starting state.
fn full_steps(op: PowerOperation, allowed: &[String]) -> Result<Vec<PowerStep>, PlanError> {
    let unsupported = |needs| PlanError::Unsupported {
        operation: op,
        needs,
        allowed: allowed.to_vec(),
    };
    let step = |reset_type, expect| PowerStep {
        reset_type,
        expect,
        escalate: None,
    };
    let on = || {
        find(allowed, "On")
            .or_else(|| find(allowed, "ForceOn"))
            .map(|r| step(r, PowerState::On))
            .ok_or_else(|| unsupported("On or ForceOn"))
    };
    let graceful = || {
        find(allowed, "GracefulShutdown")
            .or_else(|| find(allowed, "Off"))
            .ok_or_else(|| unsupported("GracefulShutdown or Off"))
    };
    let off = || -> Result<PowerStep, PlanError> {
        Ok(PowerStep {
            escalate: find(allowed, "ForceOff"),
            ..step(graceful()?, PowerState::Off)
        })
    };
    Ok(match op {
        PowerOperation::On => vec![on()?],
        PowerOperation::Off => vec![off()?],
        PowerOperation::SoftOff => vec![step(graceful()?, PowerState::Off)],
        PowerOperation::ForceOff => vec![
            find(allowed, "ForceOff")
                .map(|r| step(r, PowerState::Off))
                .ok_or_else(|| unsupported("ForceOff"))?,
        ],
        PowerOperation::SoftRestart => {
            match find(allowed, "GracefulRestart").or_else(|| find(allowed, "ForceRestart")) {
                Some(r) => vec![step(r, PowerState::On)],
                None => match (off(), on()) {
                    (Ok(off), Ok(on)) => vec![off, on],
                    _ => return Err(unsupported("GracefulRestart, ForceRestart, or Off and On")),
                },
            }
        }
        PowerOperation::HardRestart | PowerOperation::Init => vec![off()?, on()?],
    })
}

/// Whether a BMC allowing `allowed` can run `op` at all (whatever the node's state).
pub fn supports(op: PowerOperation, allowed: &[String]) -> Result<(), PlanError> {
    full_steps(op, allowed).map(|_| ())
}

/// The steps that take a node in state `current` through `op`.
pub fn plan(
    op: PowerOperation,
    allowed: &[String],
    current: PowerState,
) -> Result<PowerPlan, PlanError> {
    let mut steps = full_steps(op, allowed)?;
    match op {
        PowerOperation::On
        | PowerOperation::Off
        | PowerOperation::SoftOff
        | PowerOperation::ForceOff
            if current == op.target_state() =>
        {
            steps.clear();
        }
        PowerOperation::SoftRestart | PowerOperation::HardRestart if current != PowerState::On => {
            return Err(PlanError::WrongState {
                operation: op,
                state: current,
            });
        }
        PowerOperation::Init if current != PowerState::On => {
            steps.drain(..steps.len() - 1);
        }
        _ => {}
    }
    Ok(PowerPlan { steps })
}

/// PCS's `supportedPowerTransitions` for a BMC allowing `allowed`.
pub fn supported_operations(allowed: &[String]) -> Vec<PowerOperation> {
    PowerOperation::ALL
        .iter()
        .copied()
        .filter(|op| supports(*op, allowed).is_ok())
        .collect()
}

/// How long to wait for a graceful shutdown before escalating: [`GRACEFUL_WINDOW`], but never
/// more than half the time left before the task's deadline.
pub fn graceful_window(left_before_deadline: Option<Duration>) -> Duration {
    left_before_deadline.map_or(GRACEFUL_WINDOW, |left| GRACEFUL_WINDOW.min(left / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn resets(p: &PowerPlan) -> Vec<&str> {
        p.steps.iter().map(|s| s.reset_type.as_str()).collect()
    }

    #[test]
    fn off_is_graceful_then_forced() {
        let all = types(&["On", "ForceOff", "GracefulShutdown", "GracefulRestart"]);
        let p = plan(PowerOperation::Off, &all, PowerState::On).unwrap();
        assert_eq!(resets(&p), ["GracefulShutdown"]);
        assert_eq!(p.steps[0].escalate.as_deref(), Some("ForceOff"));
        assert!(
            plan(PowerOperation::Off, &all, PowerState::Off)
                .unwrap()
                .is_noop()
        );
        let soft = plan(PowerOperation::SoftOff, &all, PowerState::On).unwrap();
        assert_eq!(soft.steps[0].escalate, None);
    }

    #[test]
    fn the_bmcs_spelling_and_fallbacks_are_used() {
        let odd = types(&["forceon", "Off", "PushPowerButton"]);
        let p = plan(PowerOperation::HardRestart, &odd, PowerState::On).unwrap();
        assert_eq!(resets(&p), ["Off", "forceon"]);
        let p = plan(PowerOperation::Init, &odd, PowerState::Off).unwrap();
        assert_eq!(resets(&p), ["forceon"]);
        let p = plan(PowerOperation::SoftRestart, &odd, PowerState::On).unwrap();
        assert_eq!(resets(&p), ["Off", "forceon"]);
    }

    #[test]
    fn missing_reset_types_are_unsupported_and_wrong_states_fail() {
        let on_only = types(&["On"]);
        let err = plan(PowerOperation::SoftOff, &on_only, PowerState::On).unwrap_err();
        assert_eq!(err.task_status(), TaskStatus::Unsupported);
        assert!(
            err.error().contains("GracefulShutdown or Off"),
            "{}",
            err.error()
        );
        let err = plan(
            PowerOperation::SoftRestart,
            &types(&["GracefulRestart"]),
            PowerState::Off,
        )
        .unwrap_err();
        assert_eq!(err.task_status(), TaskStatus::Failed);
        assert_eq!(
            err.description(),
            "Component must be in the On state for Soft-Restart"
        );
    }

    #[test]
    fn supported_operations_follow_pcs() {
        let ops = supported_operations(&types(&["On", "ForceOff", "GracefulShutdown"]));
        assert_eq!(
            ops,
            [
                PowerOperation::On,
                PowerOperation::Off,
                PowerOperation::SoftRestart,
                PowerOperation::HardRestart,
                PowerOperation::Init,
                PowerOperation::ForceOff,
                PowerOperation::SoftOff,
            ]
        );
        assert_eq!(
            supported_operations(&types(&["ForceOff"])),
            [PowerOperation::ForceOff]
        );
        assert_eq!(supported_operations(&[]).len(), PowerOperation::ALL.len());
    }

    #[test]
    fn the_graceful_window_leaves_time_to_force() {
        assert_eq!(graceful_window(None), GRACEFUL_WINDOW);
        assert_eq!(
            graceful_window(Some(Duration::from_secs(30))),
            Duration::from_secs(15)
        );
    }
}
