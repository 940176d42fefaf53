//! The inventory state machine: every record SMD keeps, changed only by [`Command`]s that
//! Raft has committed. `apply` is pure: the same commands in the same order give the same
//! state on every replica, and the revision counts every applied command.

mod agents;
mod apply;
mod apply_agents;
mod apply_boot;
mod apply_boot_reports;
mod apply_discovery;
mod apply_endpoints;
mod apply_power;
mod apply_sets;
mod boot;
mod boot_events;
mod changes;
mod command;
mod desired;
mod index;
mod power;
mod query;
mod state;

pub use agents::{AgentCommand, AgentRecord, AgentRecords, DiscoverRecord};
pub use apply_agents::DISCOVER_BLOCKS_MS;
pub use boot::{BootCommand, BootRecords, PhoneHomeRecord};
pub use boot_events::{BootRecord, StepRecord};
pub use command::{Applied, ApplyError, Command, ComponentChange, GroupKind, Outcome};
pub use desired::DesiredChanges;
pub use power::{
    NewTask, PowerCommand, PowerRecords, PowerStatusRecord, PowerTaskRecord, TransitionRecord,
};
pub use query::{ComponentFilter, FilterError};
pub use state::Inventory;
