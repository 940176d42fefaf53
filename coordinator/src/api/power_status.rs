//! PCS's `power-status` (answered from the power states the rack agents poll and report) and
//! its service probes (`liveness`, `readiness`, `health`).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::power::{
    HealthResponse, ManagementState, PowerState, PowerStatusAll, PowerStatusEntry,
    PowerStatusQuery, supported_operations,
};
use cairn_protocols::{Problem, Xname};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, QueryPairs, ReadMode};
use super::state::AppState;
use crate::agents::work::reset_info;
use crate::clock::rfc3339_ms;
use crate::inventory::Inventory;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_status, post_status))
        .routes(routes!(liveness))
        .routes(routes!(readiness))
        .routes(routes!(health))
}

/// A validated power-status request.
struct Filter {
    xnames: Vec<Xname>,
    power: Option<PowerState>,
    management: Option<ManagementState>,
}

impl Filter {
    fn parse(
        xnames: &[&str],
        power: Option<&str>,
        management: Option<&str>,
    ) -> Result<Filter, ApiError> {
        let xnames = xnames
            .iter()
            .flat_map(|x| x.split(','))
            .filter(|x| !x.trim().is_empty())
            .map(|x| {
                Xname::parse(x.trim()).map_err(|e| ApiError::BadRequest(format!("xname: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let power = power
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<PowerState>()
                    .map_err(|e| ApiError::BadRequest(format!("powerStateFilter: {e}")))
            })
            .transpose()?;
        let management = match management.map(str::trim) {
            // PCS reads "undefined" as no filter.
            None | Some("") => None,
            Some(m) if m.eq_ignore_ascii_case("undefined") => None,
            Some(m) => Some(
                m.parse::<ManagementState>()
                    .map_err(|e| ApiError::BadRequest(format!("managementStateFilter: {e}")))?,
            ),
        };
        Ok(Filter {
            xnames,
            power,
            management,
        })
    }

    /// The entries, in request order (every node, in xname order, when none was named).
    /// Named components Cairn knows nothing about get an entry with PCS's error, whatever
    /// the filters, as PCS does.
    fn answer(&self, inv: &Inventory) -> PowerStatusAll {
        let all: Vec<Xname>;
        let names = if self.xnames.is_empty() {
            let mut nodes: BTreeSet<Xname> = inv
                .components()
                .map(|c| c.id.clone())
                .filter(Xname::is_node)
                .collect();
            nodes.extend(inv.power().statuses().map(|(x, _)| x.clone()));
            all = nodes.into_iter().collect();
            &all
        } else {
            &self.xnames
        };
        let mut status = Vec::with_capacity(names.len());
        for x in names {
            let entry = entry(inv, x);
            let known = entry.error != NOT_FOUND;
            let keep = !known
                || (self.power.is_none_or(|p| p == entry.power_state)
                    && self.management.is_none_or(|m| m == entry.management_state));
            if keep {
                status.push(entry);
            }
        }
        PowerStatusAll { status }
    }
}

/// PCS's error for a component it has never heard of.
const NOT_FOUND: &str = "Component not found in component map.";

fn entry(inv: &Inventory, x: &Xname) -> PowerStatusEntry {
    let mut e = PowerStatusEntry {
        xname: x.to_string(),
        power_state: PowerState::Undefined,
        management_state: ManagementState::Unavailable,
        error: String::new(),
        supported_power_transitions: Vec::new(),
        last_updated: None,
    };
    if !inv.knows(x) {
        e.error = NOT_FOUND.into();
        return e;
    }
    if !x.is_node() {
        e.error = format!(
            "power state is kept for nodes only, not a {}; ask for its nodes",
            x.hms_type()
        );
        return e;
    }
    if let Ok(r) = reset_info(inv, x) {
        e.supported_power_transitions = supported_operations(&r.allowed);
    }
    match inv.power().status_of(x) {
        Some(s) => {
            e.power_state = s.power_state;
            e.management_state = s.management_state;
            e.error = s.error.clone();
            e.last_updated = Some(rfc3339_ms(s.observed_ms));
        }
        None => e.error = "no power state reported yet by a rack agent".into(),
    }
    e
}

/// Power states of components (`xname` repeated or comma-separated; none: every node).
#[utoipa::path(get, path = "/power-control/v1/power-status", tag = "power-status",
    params(("xname" = Option<Vec<String>>, Query), ("powerStateFilter" = Option<String>, Query),
        ("managementStateFilter" = Option<String>, Query), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = PowerStatusAll), (status = 400, body = Problem)))]
async fn get_status(
    State(s): State<AppState>,
    mode: ReadMode,
    q: QueryPairs,
) -> Result<Json<PowerStatusAll>, ApiError> {
    let filter = Filter::parse(
        &q.all("xname"),
        q.all("powerStateFilter").first().copied(),
        q.all("managementStateFilter").first().copied(),
    )?;
    Ok(Json(s.read(mode, |inv| filter.answer(inv)).await?))
}

/// Power states of components, the filters in the body.
#[utoipa::path(post, path = "/power-control/v1/power-status", tag = "power-status",
    request_body = PowerStatusQuery,
    responses((status = 200, body = PowerStatusAll), (status = 400, body = Problem)))]
async fn post_status(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiJson(body): ApiJson<PowerStatusQuery>,
) -> Result<Json<PowerStatusAll>, ApiError> {
    let xnames: Vec<&str> = body.xname.iter().map(String::as_str).collect();
    let filter = Filter::parse(
        &xnames,
        body.power_state_filter.as_deref(),
        body.management_state_filter.as_deref(),
    )?;
    Ok(Json(s.read(mode, |inv| filter.answer(inv)).await?))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/power-control/v1/liveness", tag = "power-status",
    responses((status = 204)))]
async fn liveness() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Readiness: a Raft leader is known, so transitions can be recorded.
#[utoipa::path(get, path = "/power-control/v1/readiness", tag = "power-status",
    responses((status = 204), (status = 503, body = Problem)))]
async fn readiness(State(s): State<AppState>) -> Result<StatusCode, ApiError> {
    super::cluster::ensure_ready(&s)?;
    Ok(StatusCode::NO_CONTENT)
}

/// What PCS's dependencies are, in Cairn.
#[utoipa::path(get, path = "/power-control/v1/health", tag = "power-status",
    responses((status = 200, body = HealthResponse)))]
async fn health(State(s): State<AppState>) -> Json<HealthResponse> {
    let st = s.replica().status();
    let store = match st.leader {
        Some(l) => format!("connected, responsive (Raft leader {l})"),
        None => "no Raft leader known".to_owned(),
    };
    let (agents, connected) = s.replica().read(|inv| {
        let ids: Vec<String> = inv.agents().agents().map(|a| a.id.clone()).collect();
        let connected = ids
            .iter()
            .filter(|id| s.agents().state(id) == crate::agents::AgentState::Connected)
            .count();
        (ids.len(), connected)
    });
    Json(HealthResponse {
        kv_store: store.clone(),
        dist_locking: "not needed (transitions are Raft commands)".into(),
        state_manager: format!("{store}; the inventory is in this process"),
        vault: "not used (BMC credentials are kept in the replicated inventory)".into(),
        task_runner: format!(
            "{agents} rack agents registered, {connected} connected (as seen by this replica)"
        ),
    })
}
