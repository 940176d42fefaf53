//! The rack agents over REST: `GET /apis/cairn/v1/agents` (registrations joined with the
//! leader's liveness), `DELETE /apis/cairn/v1/agents/{id}`, SMD's `POST /Inventory/Discover`
//! and `GET /Inventory/DiscoveryStatus`, and the internal endpoint followers use to tell the
//! leader an agent was heard from.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use cairn_protocols::agent::cabinet_name;
use cairn_protocols::{Problem, Xname};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ReadMode};
use super::state::{AppState, problem_from_peer};
use super::{Message, ResourceUri, deleted};
use crate::agents::{SeenRequest, leader_api_addr};
use crate::clock::{now_ms, rfc3339_ms};
use crate::inventory::{AgentCommand, Command, DiscoverRecord};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(remove))
        .routes(routes!(seen))
        .routes(routes!(discover))
        .routes(routes!(discovery_status))
        .routes(routes!(discovery_status_one))
}

/// Marks a request a follower forwarded, so it is answered where it lands.
const FORWARDED: &str = "x-cairn-forwarded";

/// One agent in `GET /apis/cairn/v1/agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentView {
    /// Its id.
    pub id: String,
    /// The cabinets it serves (`x1000`).
    pub scope: Vec<String>,
    /// The version it last announced.
    pub version: String,
    /// `connected` (heard from in the last 15 s) or `stale`.
    pub state: String,
    /// When the leader last heard from it (RFC 3339); null if this leader never has.
    pub last_seen: Option<String>,
    /// Reports waiting in its outbox, as its last heartbeat said (null: not told yet). A
    /// rack that was cut off drains it once it reaches the coordinators again.
    pub outbox_depth: Option<u64>,
    /// The desired-state revision it holds durably, as its last heartbeat said.
    pub desired_revision: Option<u64>,
    /// When it last registered (RFC 3339).
    pub registered: String,
    /// The highest report sequence number applied.
    pub last_report_seq: u64,
    /// Its own API, if it announced one.
    pub api_url: Option<String>,
    /// Its boot service, if it announced one.
    pub boot_url: Option<String>,
}

/// `GET /apis/cairn/v1/agents`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct AgentList {
    /// Every registered agent, by id.
    pub agents: Vec<AgentView>,
}

/// The registered agents with their liveness (answered by the leader, which alone knows it).
#[utoipa::path(get, path = "/apis/cairn/v1/agents", tag = "cairn",
    responses((status = 200, body = AgentList), (status = 503, body = Problem)))]
async fn list(State(s): State<AppState>, headers: HeaderMap) -> Result<Json<AgentList>, ApiError> {
    match leader_api_addr(&s) {
        Some((false, addr)) if !headers.contains_key(FORWARDED) => {
            let url = format!("http://{addr}/apis/cairn/v1/agents");
            let resp = s
                .http()
                .get(&url)
                .header(FORWARDED, "1")
                .send()
                .await
                .map_err(|e| {
                    ApiError::Unavailable(format!("leader at {addr} is unreachable: {e}"))
                })?;
            if !resp.status().is_success() {
                return Err(problem_from_peer(resp).await);
            }
            return resp.json().await.map(Json).map_err(|e| {
                ApiError::Internal(format!("leader sent an unreadable agent list: {e}"))
            });
        }
        None => {
            return Err(ApiError::Unavailable(
                "no Raft leader is known, and only the leader knows agent liveness".into(),
            ));
        }
        _ => {}
    }
    let registry = s.agents().clone();
    let agents = s
        .read(ReadMode::Linearizable, |inv| {
            inv.agents()
                .agents()
                .map(|a| {
                    let live = registry.get(&a.id);
                    AgentView {
                        id: a.id.clone(),
                        scope: a.scope.iter().copied().map(cabinet_name).collect(),
                        version: live
                            .as_ref()
                            .map_or_else(|| a.version.clone(), |l| l.version.clone()),
                        state: registry.state(&a.id).as_str().to_owned(),
                        outbox_depth: live.as_ref().and_then(|l| l.health).map(|h| h.outbox_depth),
                        desired_revision: live
                            .as_ref()
                            .and_then(|l| l.health)
                            .map(|h| h.desired_revision),
                        last_seen: live.map(|l| rfc3339_ms(l.last_seen_ms)),
                        registered: rfc3339_ms(a.registered_ms),
                        last_report_seq: a.last_seq,
                        api_url: a.endpoints.api_url.clone(),
                        boot_url: a.endpoints.boot_url.clone(),
                    }
                })
                .collect()
        })
        .await?;
    Ok(Json(AgentList { agents }))
}

/// Forget an agent: its cabinets can be registered by another one.
#[utoipa::path(delete, path = "/apis/cairn/v1/agents/{id}", tag = "cairn",
    params(("id" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn remove(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    let n = s
        .submit(Command::Agent(AgentCommand::Remove(id.clone())))
        .await?
        .count;
    s.agents().forget(&id);
    Ok(deleted(n))
}

/// Internal: a follower tells the leader an agent was heard from.
#[utoipa::path(post, path = "/apis/cairn/v1/internal/agents/seen", tag = "internal",
    request_body = SeenRequest, responses((status = 204), (status = 400, body = Problem)))]
async fn seen(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<SeenRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    cairn_protocols::agent::validate_agent_id(&body.id)
        .map_err(|e| ApiError::BadRequest(format!("id: {e}")))?;
    s.agents()
        .seen(&body.id, body.version.as_deref(), body.health);
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// SMD's `Discover.1.0.0_DiscoverInput`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DiscoverInput {
    /// RedfishEndpoint IDs to discover; empty: everything every agent serves.
    #[serde(default)]
    pub xnames: Vec<String>,
    /// Start even if an earlier discovery is still pending.
    #[serde(default)]
    pub force: bool,
}

/// Ask the agents whose scope holds the targets to discover now.
#[utoipa::path(post, path = "/hsm/v2/Inventory/Discover", tag = "Discover",
    request_body = DiscoverInput,
    responses((status = 200, body = Vec<ResourceUri>), (status = 400, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn discover(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<Json<Vec<ResourceUri>>, ApiError> {
    // SMD's body is optional; an empty one means everything.
    let input: DiscoverInput = if body.iter().all(u8::is_ascii_whitespace) {
        DiscoverInput::default()
    } else {
        cairn_protocols::from_json_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?
    };
    let mut targets = Vec::with_capacity(input.xnames.len());
    for (i, x) in input.xnames.iter().enumerate() {
        let x = Xname::parse(x).map_err(|e| ApiError::BadRequest(format!("xnames[{i}]: {e}")))?;
        if !targets.contains(&x) {
            targets.push(x);
        }
    }
    let missing = s
        .read(ReadMode::Linearizable, |inv| {
            targets
                .iter()
                .find(|x| inv.redfish_endpoint(x).is_none())
                .cloned()
        })
        .await?;
    if let Some(x) = missing {
        return Err(ApiError::NotFound(format!("no Redfish endpoint {x}")));
    }
    let applied = s
        .submit(Command::Agent(AgentCommand::Discover {
            targets,
            force: input.force,
            now_ms: now_ms(),
        }))
        .await?;
    Ok(Json(vec![ResourceUri {
        uri: format!("/hsm/v2/Inventory/DiscoveryStatus/{}", applied.revision),
    }]))
}

/// SMD's `DiscoveryStatus.1.0.0_DiscoveryStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DiscoveryStatus {
    /// The discover request's ID.
    #[serde(rename = "ID")]
    pub id: u64,
    /// `Pending`, `InProgress` or `Complete`.
    #[serde(rename = "Status")]
    pub status: String,
    /// When the status last changed (RFC 3339).
    #[serde(rename = "LastUpdateTime")]
    pub last_update_time: String,
    /// Targets, the agents asked and their progress, targets no agent serves.
    #[serde(rename = "Details")]
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

fn status_of(r: &DiscoverRecord) -> DiscoveryStatus {
    let agents: BTreeMap<&str, &str> = r
        .agents
        .iter()
        .map(|(id, done)| (id.as_str(), if *done { "Complete" } else { "Pending" }))
        .collect();
    DiscoveryStatus {
        id: r.id,
        status: r.status().to_owned(),
        last_update_time: rfc3339_ms(r.updated_ms),
        details: serde_json::json!({
            "Targets": r.targets,
            "Force": r.force,
            "Requested": rfc3339_ms(r.requested_ms),
            "Agents": agents,
            "Unassigned": r.unassigned,
        }),
    }
}

/// Every recent discover request's status (the last 64), oldest first.
#[utoipa::path(get, path = "/hsm/v2/Inventory/DiscoveryStatus", tag = "DiscoveryStatus",
    params(("stale" = Option<bool>, Query)),
    responses((status = 200, body = Vec<DiscoveryStatus>)))]
async fn discovery_status(
    State(s): State<AppState>,
    mode: ReadMode,
) -> Result<Json<Vec<DiscoveryStatus>>, ApiError> {
    let list = s
        .read(mode, |inv| {
            inv.agents().discover_requests().map(status_of).collect()
        })
        .await?;
    Ok(Json(list))
}

/// One discover request's status.
#[utoipa::path(get, path = "/hsm/v2/Inventory/DiscoveryStatus/{id}", tag = "DiscoveryStatus",
    params(("id" = u64, Path), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = DiscoveryStatus), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn discovery_status_one(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DiscoveryStatus>, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("id: {id:?} is not a positive integer")))?;
    s.read(mode, |inv| inv.agents().discover_request(id).map(status_of))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no discovery status {id}")))
}
