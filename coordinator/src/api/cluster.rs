//! Cairn's own API: cluster status and membership (`/apis/cairn/v1/cluster`), health probes,
//! and the two internal endpoints followers use to reach the leader.

use axum::Json;
use axum::extract::State;
use cairn_protocols::Problem;
use cairn_raft::{MemberRole, Node, NodeId, WriteError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::state::{AppState, ReadIndex, problem_from_peer, write_error};
use crate::inventory::{Command, Outcome};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(add_member))
        .routes(routes!(remove_member))
        .routes(routes!(propose))
        .routes(routes!(read_index))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// One member as the cluster API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// Raft node id.
    pub id: u64,
    /// Raft gRPC address.
    pub raft_addr: String,
    /// REST API address.
    pub api_addr: String,
    /// `leader`, `follower`, `candidate` or `learner`.
    pub role: String,
    /// Highest log index known replicated there (reported by the leader only).
    pub matched_index: Option<u64>,
    /// Entries behind the leader's log (reported by the leader only).
    pub lag: Option<u64>,
}

/// `GET /apis/cairn/v1/cluster`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClusterView {
    /// The answering replica's id.
    pub id: u64,
    /// The leader's id, if one is known.
    pub leader: Option<u64>,
    /// Current term.
    pub term: u64,
    /// Voters and learners.
    pub members: Vec<MemberView>,
    /// Last log index applied here.
    pub last_applied: Option<u64>,
    /// Highest committed index known here.
    pub committed: Option<u64>,
    /// Last index covered by this replica's snapshot.
    pub snapshot_index: Option<u64>,
    /// Inventory revision here.
    pub revision: u64,
}

/// Body of `POST /apis/cairn/v1/cluster/members`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    /// The new replica's Raft id.
    pub id: u64,
    /// Its Raft gRPC address (`host:port`).
    pub raft_addr: String,
    /// Its REST API address (`host:port`).
    pub api_addr: String,
}

fn role_name(r: MemberRole) -> &'static str {
    match r {
        MemberRole::Leader => "leader",
        MemberRole::Follower => "follower",
        MemberRole::Candidate => "candidate",
        MemberRole::Learner => "learner",
        _ => "voter",
    }
}

/// The cluster as this replica sees it.
pub fn view(s: &AppState) -> ClusterView {
    let st = s.replica().status();
    ClusterView {
        id: st.id,
        leader: st.leader,
        term: st.term,
        members: st
            .members
            .iter()
            .map(|m| MemberView {
                id: m.id,
                raft_addr: m.node.raft_addr.clone(),
                api_addr: m.node.api_addr.clone(),
                role: role_name(m.role).to_owned(),
                matched_index: m.matched_index,
                lag: m.lag,
            })
            .collect(),
        last_applied: st.last_applied,
        committed: st.committed,
        snapshot_index: st.snapshot_index,
        revision: s.replica().read(|inv| inv.revision()),
    }
}

/// Cluster status.
#[utoipa::path(get, path = "/apis/cairn/v1/cluster", tag = "cairn", responses((status = 200, body = ClusterView)))]
async fn status(State(s): State<AppState>) -> Json<ClusterView> {
    Json(view(&s))
}

fn valid_addr(what: &str, addr: &str) -> Result<(), ApiError> {
    let ok = addr
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "{what} {addr:?}: expected host:port"
        )))
    }
}

/// How long a forwarded membership change may take: adding a voter waits for it to catch up.
const MEMBERSHIP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Run a membership change here if leader, else send the same request to the leader.
async fn on_leader<T: Serialize>(
    s: &AppState,
    local: Result<(), WriteError>,
    method: reqwest::Method,
    path: &str,
    body: Option<&T>,
) -> Result<(), ApiError> {
    match local {
        Ok(()) => Ok(()),
        Err(WriteError::ForwardToLeader {
            leader: Some(leader),
            ..
        }) => {
            let url = format!("http://{}{path}", leader.api_addr);
            let mut req = s.http().request(method, &url).timeout(MEMBERSHIP_TIMEOUT);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(|e| {
                ApiError::Unavailable(format!("leader at {} is unreachable: {e}", leader.api_addr))
            })?;
            if resp.status().is_success() {
                return Ok(());
            }
            Err(problem_from_peer(resp).await)
        }
        Err(e) => Err(write_error(e)),
    }
}

/// Add a replica: as a learner until it has caught up, then as a voter.
#[utoipa::path(post, path = "/apis/cairn/v1/cluster/members", tag = "cairn", request_body = AddMember,
    responses((status = 200, body = ClusterView), (status = 400, body = Problem), (status = 409, body = Problem), (status = 503, body = Problem)))]
async fn add_member(
    State(s): State<AppState>,
    ApiJson(m): ApiJson<AddMember>,
) -> Result<Json<ClusterView>, ApiError> {
    if m.id == 0 {
        return Err(ApiError::BadRequest("id: must be at least 1".into()));
    }
    valid_addr("raft_addr", &m.raft_addr)?;
    valid_addr("api_addr", &m.api_addr)?;
    let node = Node {
        raft_addr: m.raft_addr.clone(),
        api_addr: m.api_addr.clone(),
    };
    let known = s
        .replica()
        .status()
        .members
        .into_iter()
        .find(|x| x.id == m.id);
    if let Some(x) = known {
        if x.node == node && x.role != MemberRole::Learner {
            return Ok(Json(view(&s)));
        }
        if x.node != node {
            return Err(ApiError::Conflict(format!(
                "node id {} is already a member at raft {} / api {}; remove it first",
                m.id, x.node.raft_addr, x.node.api_addr
            )));
        }
    }
    tracing::info!(id = m.id, raft = %m.raft_addr, "adding replica");
    let local = s.replica().add_voter(m.id, node).await;
    on_leader(
        &s,
        local,
        reqwest::Method::POST,
        "/apis/cairn/v1/cluster/members",
        Some(&m),
    )
    .await?;
    Ok(Json(view(&s)))
}

/// Remove a replica from the cluster.
#[utoipa::path(delete, path = "/apis/cairn/v1/cluster/members/{id}", tag = "cairn", params(("id" = u64, Path)),
    responses((status = 200, body = ClusterView), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn remove_member(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<NodeId>,
) -> Result<Json<ClusterView>, ApiError> {
    if !s.replica().status().members.iter().any(|m| m.id == id) {
        return Err(ApiError::NotFound(format!("node {id} is not a member")));
    }
    tracing::info!(id, "removing replica");
    let local = s.replica().remove_member(id).await;
    on_leader::<()>(
        &s,
        local,
        reqwest::Method::DELETE,
        &format!("/apis/cairn/v1/cluster/members/{id}"),
        None,
    )
    .await?;
    Ok(Json(view(&s)))
}

/// Internal: a follower's forwarded command, run on the leader.
#[utoipa::path(post, path = "/apis/cairn/v1/internal/propose", tag = "internal",
    responses((status = 200, description = "the replicated outcome"), (status = 503, body = Problem)))]
async fn propose(
    State(s): State<AppState>,
    ApiJson(cmd): ApiJson<Command>,
) -> Result<Json<Outcome>, ApiError> {
    // One hop only: if leadership moved meanwhile, the follower's caller retries.
    match s.replica().write(&cmd).await {
        Ok(outcome) => Ok(Json(outcome)),
        Err(WriteError::ForwardToLeader { .. }) => Err(ApiError::Unavailable(
            "not the leader any more; retry".into(),
        )),
        Err(e) => Err(write_error(e)),
    }
}

/// Internal: the leader confirms it still leads and returns an index covering every
/// acknowledged write; the follower then waits until it has applied that far.
#[utoipa::path(post, path = "/apis/cairn/v1/internal/read-index", tag = "internal",
    responses((status = 200, body = ReadIndex), (status = 503, body = Problem)))]
async fn read_index(State(s): State<AppState>) -> Result<Json<ReadIndex>, ApiError> {
    Ok(Json(s.local_read_index().await?))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "cairn", responses((status = 200, description = "alive")))]
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready to serve: this replica knows a leader, so writes and linearizable reads can proceed.
pub(super) fn ensure_ready(s: &AppState) -> Result<(), ApiError> {
    match s.replica().status().leader {
        Some(_) => Ok(()),
        None => Err(ApiError::Unavailable(
            "no Raft leader is known (election in progress, or no quorum)".into(),
        )),
    }
}

/// Readiness: a leader is known.
#[utoipa::path(get, path = "/readyz", tag = "cairn", responses((status = 200, description = "ready"), (status = 503, body = Problem)))]
async fn readyz(State(s): State<AppState>) -> Result<&'static str, ApiError> {
    ensure_ready(&s)?;
    Ok("ready\n")
}
