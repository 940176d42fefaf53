//! The inventory state machine: every record SMD keeps, changed only by [`Command`]s that
//! Raft has committed. `apply` is pure: the same commands in the same order give the same
//! state on every replica, and the revision counts every applied command.

mod apply;
mod apply_endpoints;
mod apply_sets;
mod command;
mod query;
mod state;

pub use command::{Applied, ApplyError, Command, ComponentChange, GroupKind, Outcome};
pub use query::{ComponentFilter, FilterError};
pub use state::Inventory;
