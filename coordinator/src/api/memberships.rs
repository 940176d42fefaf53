//! `/hsm/v2/memberships`: the groups and partition of each component.

use axum::Json;
use axum::extract::State;
use cairn_protocols::{Membership, Problem, Xname};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiPath, QueryPairs, ReadMode};
use super::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(memberships))
        .routes(routes!(membership))
}

/// Group and partition memberships of components (same filters as components).
#[utoipa::path(get, path = "/hsm/v2/memberships", tag = "Membership",
    params(("id" = Option<Vec<String>>, Query), ("type" = Option<String>, Query), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = Vec<Membership>), (status = 400, body = Problem)))]
async fn memberships(
    State(s): State<AppState>,
    mode: ReadMode,
    q: QueryPairs,
) -> Result<Json<Vec<Membership>>, ApiError> {
    let filter = crate::inventory::ComponentFilter::from_pairs(q.iter())?;
    let list = s
        .read(mode, |inv| {
            let selected: std::collections::BTreeSet<Xname> =
                filter.select(inv).into_iter().map(|c| c.id).collect();
            inv.memberships()
                .into_iter()
                .filter(|m| selected.contains(&m.id))
                .collect()
        })
        .await?;
    Ok(Json(list))
}

/// The memberships of one component.
#[utoipa::path(get, path = "/hsm/v2/memberships/{xname}", tag = "Membership", params(("xname" = String, Path)),
    responses((status = 200, body = Membership), (status = 404, body = Problem)))]
async fn membership(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Membership>, ApiError> {
    let id = Xname::parse(&id)?;
    s.read(mode, |inv| {
        inv.component(&id).is_some().then(|| inv.membership(&id))
    })
    .await?
    .map(Json)
    .ok_or_else(|| ApiError::NotFound(format!("no component {id}")))
}
