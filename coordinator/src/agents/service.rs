//! `AgentService`: the gRPC face of the coordinator for rack agents. Register and Report are
//! Raft commands, so any replica takes them (`AppState::submit` forwards to the leader);
//! liveness is the leader's memory, so a follower passes "agent seen" on to the leader.

use cairn_protocols::agent::{MAX_REPORT_BYTES, Registration, Report, validate_agent_id};
use cairn_protocols::pb::agent as pb;
use cairn_protocols::pb::agent::agent_service_server::{AgentService, AgentServiceServer};
use prost::Message;
use serde::{Deserialize, Serialize};
use tonic::{Request, Response, Status};

use super::registry::{AgentHealth, HEARTBEAT_INTERVAL};
use super::status::{invalid, unregistered};
use super::watch::{self, WorkStream};
use crate::api::extract::ReadMode;
use crate::api::{ApiError, AppState};
use crate::clock::now_ms;
use crate::inventory::{AgentCommand, Command};

/// Where a follower tells the leader an agent was heard from.
pub const LEADER_SEEN_PATH: &str = "/apis/cairn/v1/internal/agents/seen";

/// Body of [`LEADER_SEEN_PATH`].
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeenRequest {
    /// The agent.
    pub id: String,
    /// The version it announced, if this call announced one.
    #[serde(default)]
    pub version: Option<String>,
    /// Its outbox depth and desired-state revision, if this call told them (a heartbeat).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub health: Option<AgentHealth>,
}

/// Largest message accepted from an agent (a report is at most 1 MiB; room for framing).
const MAX_MESSAGE: usize = MAX_REPORT_BYTES + (64 << 10);

/// The leader's API address, and whether it is this replica.
pub fn leader_api_addr(state: &AppState) -> Option<(bool, String)> {
    let st = state.replica().status();
    let leader = st.leader?;
    let addr = st
        .members
        .iter()
        .find(|m| m.id == leader)?
        .node
        .api_addr
        .clone();
    Some((leader == st.id, addr))
}

/// The `AgentService` implementation over a replica's handler state.
#[derive(Clone)]
pub struct AgentGrpc {
    state: AppState,
}

impl AgentGrpc {
    /// The service, wrapped for tonic with Cairn's message size limits.
    pub fn server(state: AppState) -> AgentServiceServer<AgentGrpc> {
        AgentServiceServer::new(AgentGrpc { state })
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(usize::MAX)
    }

    /// Record that `id` was heard from: here when this replica leads, else on the leader
    /// (in the background: liveness must never slow an agent's call down).
    fn seen(&self, id: &str, version: Option<&str>, health: Option<AgentHealth>) {
        match leader_api_addr(&self.state) {
            Some((true, _)) | None => self.state.agents().seen(id, version, health),
            Some((false, addr)) => {
                let http = self.state.http_client();
                let body = SeenRequest {
                    id: id.to_owned(),
                    version: version.map(str::to_owned),
                    health,
                };
                tokio::spawn(async move {
                    let url = format!("http://{addr}{LEADER_SEEN_PATH}");
                    if let Err(e) = http.post(&url).json(&body).send().await {
                        tracing::debug!(%url, error = %e, "cannot tell the leader an agent was seen");
                    }
                });
            }
        }
    }

    fn heartbeat_ms() -> u32 {
        u32::try_from(HEARTBEAT_INTERVAL.as_millis()).unwrap_or(u32::MAX)
    }
}

/// A write's error, with "this agent has no registration" told apart.
fn write_status(agent: &str, e: ApiError) -> Status {
    match e {
        ApiError::NotFound(_) => unregistered(agent),
        other => other.into(),
    }
}

#[tonic::async_trait]
impl AgentService for AgentGrpc {
    async fn register(
        &self,
        req: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        let registration = Registration::try_from(req.into_inner()).map_err(invalid)?;
        let id = registration.agent_id.clone();
        let version = registration.version.clone();
        tracing::info!(agent = %id, scope = ?registration.scope, %version, "agent registers");
        self.state
            .submit(Command::Agent(AgentCommand::Register {
                registration,
                now_ms: now_ms(),
            }))
            .await?;
        let last = self
            .state
            .read(ReadMode::Linearizable, |inv| {
                inv.agents().agent(&id).map_or(0, |a| a.last_seq)
            })
            .await?;
        self.seen(&id, Some(&version), None);
        Ok(Response::new(pb::RegisterResponse {
            last_applied_seq: last,
            heartbeat_interval_ms: Self::heartbeat_ms(),
        }))
    }

    async fn heartbeat(
        &self,
        req: Request<pb::HeartbeatRequest>,
    ) -> Result<Response<pb::HeartbeatResponse>, Status> {
        let m = req.into_inner();
        validate_agent_id(&m.agent_id).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let registered = self
            .state
            .read(ReadMode::Linearizable, |inv| {
                inv.agents().agent(&m.agent_id).is_some()
            })
            .await?;
        if registered {
            let health = AgentHealth {
                outbox_depth: m.outbox_depth,
                desired_revision: m.desired_revision,
            };
            self.seen(&m.agent_id, Some(&m.version), Some(health));
        }
        Ok(Response::new(pb::HeartbeatResponse {
            registered,
            heartbeat_interval_ms: Self::heartbeat_ms(),
        }))
    }

    async fn report(
        &self,
        req: Request<pb::ReportRequest>,
    ) -> Result<Response<pb::ReportResponse>, Status> {
        let m = req.into_inner();
        let size = m.encoded_len();
        if size > MAX_REPORT_BYTES {
            return Err(Status::invalid_argument(format!(
                "report of {size} bytes, at most {MAX_REPORT_BYTES}: send fewer items per report"
            )));
        }
        let report = Report::try_from(m).map_err(invalid)?;
        let (agent, seq) = (report.agent_id.clone(), report.seq);
        // Seqs only grow, so what this replica has applied already is certainly a duplicate;
        // anything else goes to the leader, whose apply is the authority.
        let applied = self
            .state
            .replica()
            .read(|inv| inv.agents().agent(&agent).map(|a| a.last_seq));
        if applied.is_some_and(|last| seq <= last) {
            self.seen(&agent, None, None);
            return Ok(Response::new(pb::ReportResponse {
                seq,
                duplicate: true,
            }));
        }
        let items = report.items.len();
        let outcome = self
            .state
            .submit(Command::Agent(AgentCommand::Report {
                report,
                now_ms: now_ms(),
            }))
            .await
            .map_err(|e| write_status(&agent, e))?;
        let duplicate = outcome.count == 0;
        tracing::debug!(%agent, seq, items, duplicate, "report applied");
        self.seen(&agent, None, None);
        Ok(Response::new(pb::ReportResponse { seq, duplicate }))
    }

    type WatchStream = WorkStream;

    async fn watch(&self, req: Request<pb::WatchRequest>) -> Result<Response<WorkStream>, Status> {
        let m = req.into_inner();
        validate_agent_id(&m.agent_id).map_err(|e| Status::invalid_argument(e.to_string()))?;
        tracing::info!(
            agent = %m.agent_id,
            discover_after = m.discover_after,
            desired_after = m.desired_after,
            "agent watches"
        );
        Ok(Response::new(watch::start(
            self.state.clone(),
            m.agent_id,
            m.discover_after,
            m.desired_after,
        )))
    }
}
