//! Power control as OpenCHAMI's PCS (`/power-control/v1`) defines it: operations, power and
//! management states, task and transition statuses, the PCS JSON records ([`rest`]) and the
//! rules mapping an operation onto the Redfish `ResetType`s a BMC allows ([`plan`]), shared by
//! the coordinator (which checks support when a transition is created) and the agent (which
//! executes it).

pub mod plan;
pub mod rest;

use std::str::FromStr;

pub use plan::{
    GRACEFUL_WINDOW, PlanError, PowerPlan, PowerStep, graceful_window, plan, supported_operations,
    supports,
};
pub use rest::{
    AbortResponse, HealthResponse, Location, PowerStatusAll, PowerStatusEntry, PowerStatusQuery,
    TaskCounts, TaskData, TransitionCreate, TransitionDetail, TransitionList, TransitionStart,
    TransitionSummary,
};

/// Why a string is not a value of one of PCS's vocabularies. Display names the vocabulary and
/// lists the accepted values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?} (one of {accepted})")]
pub struct UnknownPowerValue {
    /// Which vocabulary, e.g. "Operation type".
    pub what: &'static str,
    /// The rejected input.
    pub value: String,
    /// The accepted values, comma separated.
    pub accepted: &'static str,
}

/// Declares a PCS vocabulary: parsing is case-insensitive, output uses PCS's spelling.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// PCS's spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownPowerValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
                    .ok_or_else(|| UnknownPowerValue {
                        what: $what,
                        value: s.to_owned(),
                        accepted: concat!($($text, ", "),+).trim_end_matches(", "),
                    })
            }
        }

        $crate::enums::text_enum_impls!($name, [$($text),+]);
    };
}

vocabulary!(
    /// A PCS power operation. Requests may spell it in any case (`soft-off`); responses use
    /// PCS's capitalized form (`Soft-Off`).
    PowerOperation, "Operation type", {
        /// Power on.
        On => "On",
        /// GracefulShutdown, then ForceOff if the node is not off in time.
        Off => "Off",
        /// GracefulRestart (or ForceRestart, or Off then On); the node must be on.
        SoftRestart => "Soft-Restart",
        /// Off (graceful, then forced) then On; the node must be on.
        HardRestart => "Hard-Restart",
        /// Like Hard-Restart, but a node that is off is simply powered on.
        Init => "Init",
        /// ForceOff.
        ForceOff => "Force-Off",
        /// GracefulShutdown only.
        SoftOff => "Soft-Off",
    }
);

vocabulary!(
    /// A component's power state as PCS reports it.
    PowerState, "power state", {
        /// Powered on.
        On => "on",
        /// Powered off.
        Off => "off",
        /// Unknown or unreadable.
        Undefined => "undefined",
    }
);

vocabulary!(
    /// Whether a component's management controller answers commands.
    ManagementState, "management state", {
        /// The BMC answers.
        Available => "available",
        /// The BMC does not answer (or was never reached).
        Unavailable => "unavailable",
    }
);

vocabulary!(
    /// The status of one target of a transition.
    TaskStatus, "task status", {
        /// Not started yet.
        New => "new",
        /// Started by its agent.
        InProgress => "in-progress",
        /// Ended without reaching the wanted state.
        Failed => "failed",
        /// Reached (and, unless told not to, confirmed) the wanted state.
        Succeeded => "succeeded",
        /// The component cannot do this operation.
        Unsupported => "unsupported",
    }
);

vocabulary!(
    /// The status of a whole transition, derived from its tasks.
    TransitionStatus, "transition status", {
        /// No task has started.
        New => "new",
        /// Some task has started and some is still open.
        InProgress => "in-progress",
        /// Every task has ended.
        Completed => "completed",
        /// Aborted, and every task has ended.
        Aborted => "aborted",
        /// Abort requested; some started task is still open.
        AbortSignaled => "abort-signaled",
    }
);

impl TaskStatus {
    /// Whether the task has ended (failed, succeeded or unsupported).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskStatus::Failed | TaskStatus::Succeeded | TaskStatus::Unsupported
        )
    }
}

impl PowerOperation {
    /// The power state the operation leaves a node in.
    pub fn target_state(self) -> PowerState {
        match self {
            PowerOperation::Off | PowerOperation::SoftOff | PowerOperation::ForceOff => {
                PowerState::Off
            }
            _ => PowerState::On,
        }
    }
}

/// The transition status PCS shows for these task statuses.
pub fn transition_status(
    abort_signaled: bool,
    tasks: impl IntoIterator<Item = TaskStatus>,
) -> TransitionStatus {
    let (mut open, mut started) = (false, false);
    for t in tasks {
        open |= !t.is_final();
        started |= t != TaskStatus::New;
    }
    match (abort_signaled, open) {
        (true, true) => TransitionStatus::AbortSignaled,
        (true, false) => TransitionStatus::Aborted,
        (false, false) => TransitionStatus::Completed,
        (false, true) if started => TransitionStatus::InProgress,
        (false, true) => TransitionStatus::New,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_parse_in_any_case_and_print_as_pcs() {
        for (input, want) in [
            ("on", PowerOperation::On),
            ("OFF", PowerOperation::Off),
            ("soft-off", PowerOperation::SoftOff),
            ("Soft-Restart", PowerOperation::SoftRestart),
            ("hard-restart", PowerOperation::HardRestart),
            ("init", PowerOperation::Init),
            ("Force-Off", PowerOperation::ForceOff),
        ] {
            assert_eq!(input.parse::<PowerOperation>(), Ok(want));
        }
        assert_eq!(PowerOperation::SoftOff.to_string(), "Soft-Off");
        let err = "reboot".parse::<PowerOperation>().unwrap_err().to_string();
        assert!(
            err.contains("\"reboot\"") && err.contains("Force-Off"),
            "{err}"
        );
        assert_eq!(
            serde_json::to_string(&TaskStatus::InProgress)
                .ok()
                .as_deref(),
            Some("\"in-progress\"")
        );
    }

    #[test]
    fn transition_status_follows_its_tasks() {
        use TaskStatus::*;
        assert_eq!(transition_status(false, [New, New]), TransitionStatus::New);
        assert_eq!(
            transition_status(false, [New, Succeeded]),
            TransitionStatus::InProgress
        );
        assert_eq!(
            transition_status(false, [Failed, Unsupported]),
            TransitionStatus::Completed
        );
        assert_eq!(
            transition_status(true, [InProgress, Failed]),
            TransitionStatus::AbortSignaled
        );
        assert_eq!(transition_status(true, [Failed]), TransitionStatus::Aborted);
        assert_eq!(transition_status(false, []), TransitionStatus::Completed);
    }
}
