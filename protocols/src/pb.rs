//! Generated protobuf messages and gRPC code.

/// `proto/agent.proto`: the rack agents' `AgentService` (client and server) and its messages.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod agent {
    tonic::include_proto!("cairn.agent.v1");
}
