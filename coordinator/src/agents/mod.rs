//! The coordinator's side of the rack agents: `AgentService` over gRPC (served on the REST
//! listener, see [`crate::api::service`]), the Watch stream that hands each agent the work of
//! its scope, agent liveness in the leader's memory, and the leader's clock for power
//! transitions (deadlines, expiry). The protocol itself is documented in
//! `protocols/proto/agent.proto`.

mod desired;
mod registry;
mod service;
mod status;
pub mod timers;
mod watch;
pub mod work;

pub use registry::{AgentHealth, AgentState, HEARTBEAT_INTERVAL, Liveness, Registry, STALE_AFTER};
pub use service::{AgentGrpc, LEADER_SEEN_PATH, SeenRequest, leader_api_addr};
