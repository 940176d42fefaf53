//! PCS's vocabularies ↔ the proto enums.

use super::PbError;
use crate::pb::agent as pb;
use crate::power::{ManagementState, PowerOperation, PowerState, TaskStatus};

impl From<PowerOperation> for pb::PowerOperation {
    fn from(op: PowerOperation) -> Self {
        match op {
            PowerOperation::On => pb::PowerOperation::On,
            PowerOperation::Off => pb::PowerOperation::Off,
            PowerOperation::SoftOff => pb::PowerOperation::SoftOff,
            PowerOperation::SoftRestart => pb::PowerOperation::SoftRestart,
            PowerOperation::HardRestart => pb::PowerOperation::HardRestart,
            PowerOperation::Init => pb::PowerOperation::Init,
            PowerOperation::ForceOff => pb::PowerOperation::ForceOff,
        }
    }
}

/// The operation in a raw enum field (`UNSPECIFIED` and unknown numbers are errors).
pub(crate) fn operation(field: &str, raw: i32) -> Result<PowerOperation, PbError> {
    match pb::PowerOperation::try_from(raw) {
        Ok(pb::PowerOperation::On) => Ok(PowerOperation::On),
        Ok(pb::PowerOperation::Off) => Ok(PowerOperation::Off),
        Ok(pb::PowerOperation::SoftOff) => Ok(PowerOperation::SoftOff),
        Ok(pb::PowerOperation::SoftRestart) => Ok(PowerOperation::SoftRestart),
        Ok(pb::PowerOperation::HardRestart) => Ok(PowerOperation::HardRestart),
        Ok(pb::PowerOperation::Init) => Ok(PowerOperation::Init),
        Ok(pb::PowerOperation::ForceOff) => Ok(PowerOperation::ForceOff),
        Ok(pb::PowerOperation::Unspecified) | Err(_) => {
            Err(PbError::new(field, format!("no power operation ({raw})")))
        }
    }
}

impl From<TaskStatus> for pb::TaskStatus {
    fn from(s: TaskStatus) -> Self {
        match s {
            TaskStatus::New => pb::TaskStatus::New,
            TaskStatus::InProgress => pb::TaskStatus::InProgress,
            TaskStatus::Failed => pb::TaskStatus::Failed,
            TaskStatus::Succeeded => pb::TaskStatus::Succeeded,
            TaskStatus::Unsupported => pb::TaskStatus::Unsupported,
        }
    }
}

/// The task status in a raw enum field (`UNSPECIFIED` and unknown numbers are errors).
pub(crate) fn task_status(field: &str, raw: i32) -> Result<TaskStatus, PbError> {
    match pb::TaskStatus::try_from(raw) {
        Ok(pb::TaskStatus::New) => Ok(TaskStatus::New),
        Ok(pb::TaskStatus::InProgress) => Ok(TaskStatus::InProgress),
        Ok(pb::TaskStatus::Failed) => Ok(TaskStatus::Failed),
        Ok(pb::TaskStatus::Succeeded) => Ok(TaskStatus::Succeeded),
        Ok(pb::TaskStatus::Unsupported) => Ok(TaskStatus::Unsupported),
        Ok(pb::TaskStatus::Unspecified) | Err(_) => {
            Err(PbError::new(field, format!("no task status ({raw})")))
        }
    }
}

impl From<PowerState> for pb::PowerState {
    fn from(s: PowerState) -> Self {
        match s {
            PowerState::On => pb::PowerState::On,
            PowerState::Off => pb::PowerState::Off,
            PowerState::Undefined => pb::PowerState::Undefined,
        }
    }
}

/// The power state in a raw enum field.
pub(crate) fn power_state(field: &str, raw: i32) -> Result<PowerState, PbError> {
    match pb::PowerState::try_from(raw) {
        Ok(pb::PowerState::On) => Ok(PowerState::On),
        Ok(pb::PowerState::Off) => Ok(PowerState::Off),
        Ok(pb::PowerState::Undefined) => Ok(PowerState::Undefined),
        Err(_) => Err(PbError::new(field, format!("no power state ({raw})"))),
    }
}

impl From<ManagementState> for pb::ManagementState {
    fn from(s: ManagementState) -> Self {
        match s {
            ManagementState::Available => pb::ManagementState::Available,
            ManagementState::Unavailable => pb::ManagementState::Unavailable,
        }
    }
}

/// The management state in a raw enum field.
pub(crate) fn management_state(field: &str, raw: i32) -> Result<ManagementState, PbError> {
    match pb::ManagementState::try_from(raw) {
        Ok(pb::ManagementState::Available) => Ok(ManagementState::Available),
        Ok(pb::ManagementState::Unavailable) => Ok(ManagementState::Unavailable),
        Err(_) => Err(PbError::new(field, format!("no management state ({raw})"))),
    }
}
