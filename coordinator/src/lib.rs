//! Cairn's coordinator: the authoritative, Raft-replicated inventory and its REST API,
//! compatible with OpenCHAMI's SMD (`/hsm/v2`), plus Cairn's own cluster API (`/apis/cairn/v1`).
//!
//! A library first: [`start`] runs a replica and returns a [`Handle`]; the `cairn-coordinator`
//! binary and `cairn replica` only parse flags and call it.

pub mod agents;
pub mod api;
pub mod args;
pub mod clock;
pub mod config;
pub mod inventory;
pub mod net;
mod replica;
pub mod telemetry;

pub use args::ReplicaArgs;
pub use config::{Config, ConfigError};
pub use replica::{Endpoints, Handle, StartError, start};
