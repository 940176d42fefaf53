//! The PATCH forms of `/hsm/v2/State/Components`: one field family for one component, or
//! the `Bulk*` forms for many. All ids must exist or nothing changes.

use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::{
    BulkEnabled, BulkFlagOnly, BulkNid, BulkRole, BulkSoftwareStatus, BulkStateData, PatchEnabled,
    PatchFlagOnly, PatchNid, PatchRole, PatchSoftwareStatus, PatchStateData, Problem, Xname,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::components::{parse_id, role_change};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::state::AppState;
use crate::inventory::{Command, ComponentChange};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(patch_state))
        .routes(routes!(patch_flag))
        .routes(routes!(patch_enabled))
        .routes(routes!(patch_software_status))
        .routes(routes!(patch_role))
        .routes(routes!(patch_nid))
        .routes(routes!(bulk_state))
        .routes(routes!(bulk_flag))
        .routes(routes!(bulk_enabled))
        .routes(routes!(bulk_software_status))
        .routes(routes!(bulk_role))
        .routes(routes!(bulk_nid))
}

async fn patch(
    s: &AppState,
    ids: Vec<Xname>,
    change: ComponentChange,
) -> Result<StatusCode, ApiError> {
    if ids.is_empty() {
        return Err(ApiError::BadRequest("ComponentIDs: empty list".into()));
    }
    s.submit(Command::PatchComponents { ids, change }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a component's state (and flag).
#[utoipa::path(patch, path = "/hsm/v2/State/Components/{xname}/StateData", tag = "Component",
    params(("xname" = String, Path)), request_body = PatchStateData,
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_state(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchStateData>,
) -> Result<StatusCode, ApiError> {
    patch(
        &s,
        vec![parse_id(&id)?],
        ComponentChange::State {
            state: b.state,
            flag: b.flag,
        },
    )
    .await
}

/// Set a component's flag.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/{xname}/FlagOnly", tag = "Component",
    params(("xname" = String, Path)), request_body = PatchFlagOnly,
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_flag(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchFlagOnly>,
) -> Result<StatusCode, ApiError> {
    patch(&s, vec![parse_id(&id)?], ComponentChange::Flag(b.flag)).await
}

/// Enable or disable a component.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/{xname}/Enabled", tag = "Component",
    params(("xname" = String, Path)), request_body = PatchEnabled,
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_enabled(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchEnabled>,
) -> Result<StatusCode, ApiError> {
    patch(
        &s,
        vec![parse_id(&id)?],
        ComponentChange::Enabled(b.enabled),
    )
    .await
}

/// Set a component's software status.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/{xname}/SoftwareStatus", tag = "Component",
    params(("xname" = String, Path)), request_body = PatchSoftwareStatus,
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_software_status(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchSoftwareStatus>,
) -> Result<StatusCode, ApiError> {
    patch(
        &s,
        vec![parse_id(&id)?],
        ComponentChange::SoftwareStatus(b.software_status),
    )
    .await
}

/// Set a component's role and subrole.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/{xname}/Role", tag = "Component",
    params(("xname" = String, Path)), request_body = PatchRole,
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_role(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchRole>,
) -> Result<StatusCode, ApiError> {
    patch(
        &s,
        vec![parse_id(&id)?],
        role_change(&b.role, b.sub_role.as_deref())?,
    )
    .await
}

/// Set a component's NID.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/{xname}/NID", tag = "Component",
    params(("xname" = String, Path)), request_body = PatchNid,
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_nid(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchNid>,
) -> Result<StatusCode, ApiError> {
    s.submit(Command::SetNids(vec![(parse_id(&id)?, b.nid)]))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the state of many components at once.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/BulkStateData", tag = "Component",
    request_body = BulkStateData, responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn bulk_state(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<BulkStateData>,
) -> Result<StatusCode, ApiError> {
    patch(
        &s,
        b.component_ids,
        ComponentChange::State {
            state: b.state,
            flag: b.flag,
        },
    )
    .await
}

/// Set the flag of many components.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/BulkFlagOnly", tag = "Component",
    request_body = BulkFlagOnly, responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn bulk_flag(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<BulkFlagOnly>,
) -> Result<StatusCode, ApiError> {
    patch(&s, b.component_ids, ComponentChange::Flag(b.flag)).await
}

/// Enable or disable many components.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/BulkEnabled", tag = "Component",
    request_body = BulkEnabled, responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn bulk_enabled(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<BulkEnabled>,
) -> Result<StatusCode, ApiError> {
    patch(&s, b.component_ids, ComponentChange::Enabled(b.enabled)).await
}

/// Set the software status of many components.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/BulkSoftwareStatus", tag = "Component",
    request_body = BulkSoftwareStatus, responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn bulk_software_status(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<BulkSoftwareStatus>,
) -> Result<StatusCode, ApiError> {
    patch(
        &s,
        b.component_ids,
        ComponentChange::SoftwareStatus(b.software_status),
    )
    .await
}

/// Set the role of many components.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/BulkRole", tag = "Component",
    request_body = BulkRole, responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn bulk_role(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<BulkRole>,
) -> Result<StatusCode, ApiError> {
    let change = role_change(&b.role, b.sub_role.as_deref())?;
    patch(&s, b.component_ids, change).await
}

/// Set the NIDs of many components.
#[utoipa::path(patch, path = "/hsm/v2/State/Components/BulkNID", tag = "Component",
    request_body = BulkNid, responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn bulk_nid(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<BulkNid>,
) -> Result<StatusCode, ApiError> {
    if b.components.is_empty() {
        return Err(ApiError::BadRequest("Components: empty list".into()));
    }
    s.submit(Command::SetNids(
        b.components.into_iter().map(|c| (c.id, c.nid)).collect(),
    ))
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
