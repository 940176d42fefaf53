//! The coordinator's REST API driven in-process with `oneshot`, over a single-node in-memory
//! Raft replica: every endpoint, the bad inputs each one must refuse without changing
//! anything, and the OpenAPI document kept true to the router.

#![allow(clippy::unwrap_used)]

mod cluster;
mod components;
mod groups;
mod interfaces;
mod openapi;
mod redfish;
mod support;
