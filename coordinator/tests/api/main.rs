//! The coordinator's REST API driven in-process with `oneshot`, over a single-node in-memory
//! Raft replica: every endpoint, the bad inputs each one must refuse without changing
//! anything, and the OpenAPI document kept true to the router.

#![allow(clippy::unwrap_used)]

mod agent_state;
mod agents;
mod boot;
mod boot_cache;
mod cloud_init;
mod cluster;
mod components;
mod desired;
mod groups;
mod grpc;
mod interfaces;
mod openapi;
mod power;
mod rack;
mod redfish;
mod support;
