//! OpenCHAMI cloud-init's admin API under `/cloud-init/admin`: cluster defaults, group data
//! (keyed by SMD group label; membership comes from the inventory's groups) and per-node
//! instance info, stored through Raft; plus Cairn's read-only view of phone-home reports.
//!
//! Differences from OpenCHAMI's server: a malformed body answers 400 naming the field (it
//! answers 422 for groups), deleting a group that does not exist answers 404, and group names
//! are lower-cased as SMD labels are.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use cairn_protocols::{ClusterDefaults, GroupData, HmsType, InstanceInfo, Problem, Xname};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ReadMode};
use super::state::AppState;
use crate::inventory::{BootCommand, Command, PhoneHomeRecord};

const GROUPS: &str = "/cloud-init/admin/groups";

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_defaults, set_defaults))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, put_group, delete_group))
        .routes(routes!(get_instance, put_instance))
        .routes(routes!(phone_home_reports))
}

/// A group name from a path or body: an SMD label, lower-cased.
fn group_name(raw: &str) -> Result<String, ApiError> {
    cairn_protocols::normalize_label(raw).map_err(|e| ApiError::BadRequest(format!("name: {e}")))
}

/// A node id from a path.
fn node_id(raw: &str) -> Result<Xname, ApiError> {
    let id = Xname::parse(raw).map_err(|e| ApiError::BadRequest(format!("id: {e}")))?;
    if id.hms_type() != HmsType::Node {
        return Err(ApiError::BadRequest(format!(
            "id: {id} is a {}, not a Node",
            id.hms_type()
        )));
    }
    Ok(id)
}

fn location(name: &str) -> Result<HeaderMap, ApiError> {
    let mut h = HeaderMap::new();
    let v = HeaderValue::from_str(&format!("{GROUPS}/{name}"))
        .map_err(|e| ApiError::Internal(format!("Location header: {e}")))?;
    h.insert(header::LOCATION, v);
    Ok(h)
}

/// Cluster-wide cloud-init defaults.
#[utoipa::path(get, path = "/cloud-init/admin/cluster-defaults", tag = "cloud-init",
    params(("stale" = Option<bool>, Query)), responses((status = 200, body = ClusterDefaults)))]
async fn get_defaults(
    State(s): State<AppState>,
    mode: ReadMode,
) -> Result<Json<ClusterDefaults>, ApiError> {
    Ok(Json(
        s.read(mode, |inv| (**inv.cloud_init_defaults()).clone())
            .await?,
    ))
}

/// Set cluster defaults: the fields given replace, those left out are kept.
#[utoipa::path(post, path = "/cloud-init/admin/cluster-defaults", tag = "cloud-init",
    request_body = ClusterDefaults,
    responses((status = 201), (status = 400, body = Problem), (status = 413, body = Problem)))]
async fn set_defaults(
    State(s): State<AppState>,
    ApiJson(d): ApiJson<ClusterDefaults>,
) -> Result<StatusCode, ApiError> {
    d.validate()?;
    s.submit(Command::Boot(BootCommand::SetClusterDefaults(d)))
        .await?;
    Ok(StatusCode::CREATED)
}

/// Every group's cloud-init data, by name.
#[utoipa::path(get, path = "/cloud-init/admin/groups", tag = "cloud-init",
    params(("stale" = Option<bool>, Query)),
    responses((status = 200, body = BTreeMap<String, GroupData>)))]
async fn list_groups(
    State(s): State<AppState>,
    mode: ReadMode,
) -> Result<Json<BTreeMap<String, GroupData>>, ApiError> {
    Ok(Json(
        s.read(mode, |inv| {
            inv.cloud_init_groups()
                .map(|g| (g.name.clone(), (**g).clone()))
                .collect()
        })
        .await?,
    ))
}

/// Add a group (named after an SMD group label); 409 if it exists.
#[utoipa::path(post, path = "/cloud-init/admin/groups", tag = "cloud-init",
    request_body = GroupData,
    responses((status = 201, headers(("Location" = String))), (status = 400, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem)))]
async fn create_group(
    State(s): State<AppState>,
    ApiJson(mut g): ApiJson<GroupData>,
) -> Result<(StatusCode, HeaderMap), ApiError> {
    g.name = group_name(&g.name)?;
    g.validate()?;
    let headers = location(&g.name)?;
    s.submit(Command::Boot(BootCommand::CreateCloudInitGroup(g)))
        .await?;
    Ok((StatusCode::CREATED, headers))
}

/// One group's cloud-init data.
#[utoipa::path(get, path = "/cloud-init/admin/groups/{id}", tag = "cloud-init",
    params(("id" = String, Path), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = GroupData), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
async fn get_group(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<GroupData>, ApiError> {
    let name = group_name(&id)?;
    s.read(mode, |inv| {
        inv.cloud_init_group(&name).map(|g| (**g).clone())
    })
    .await?
    .map(Json)
    .ok_or_else(|| ApiError::NotFound(format!("no cloud-init group {name}")))
}

/// Create or replace a group (the path names it).
#[utoipa::path(put, path = "/cloud-init/admin/groups/{id}", tag = "cloud-init",
    params(("id" = String, Path)), request_body = GroupData,
    responses((status = 201, headers(("Location" = String))), (status = 400, body = Problem),
        (status = 413, body = Problem)))]
async fn put_group(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, HeaderMap), ApiError> {
    let name = group_name(&id)?;
    // The path names the group; the body may repeat the name, or leave it out.
    let mut body = body;
    if let Some(obj) = body.as_object_mut() {
        obj.entry("name").or_insert_with(|| name.clone().into());
    }
    let mut g: GroupData =
        cairn_protocols::from_json_value(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if group_name(&g.name)? != name {
        return Err(ApiError::BadRequest(format!(
            "name: the body names {:?}, the path {name:?}",
            g.name
        )));
    }
    g.name = name;
    g.validate()?;
    let headers = location(&g.name)?;
    s.submit(Command::Boot(BootCommand::PutCloudInitGroup(g)))
        .await?;
    Ok((StatusCode::CREATED, headers))
}

/// Delete a group's cloud-init data (the SMD group is not touched).
#[utoipa::path(delete, path = "/cloud-init/admin/groups/{id}", tag = "cloud-init",
    params(("id" = String, Path)),
    responses((status = 200), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn delete_group(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let name = group_name(&id)?;
    s.submit(Command::Boot(BootCommand::DeleteCloudInitGroup(name)))
        .await?;
    Ok(StatusCode::OK)
}

/// A node's instance info.
#[utoipa::path(get, path = "/cloud-init/admin/instance-info/{id}", tag = "cloud-init",
    params(("id" = String, Path), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = InstanceInfo), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
async fn get_instance(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InstanceInfo>, ApiError> {
    let id = node_id(&id)?;
    s.read(mode, |inv| inv.instance_info(&id).map(|i| (**i).clone()))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no instance info for {id}")))
}

/// Replace a node's instance info (the path names the node).
#[utoipa::path(put, path = "/cloud-init/admin/instance-info/{id}", tag = "cloud-init",
    params(("id" = String, Path)), request_body = InstanceInfo,
    responses((status = 201), (status = 400, body = Problem), (status = 413, body = Problem)))]
async fn put_instance(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(info): ApiJson<InstanceInfo>,
) -> Result<StatusCode, ApiError> {
    let id = node_id(&id)?;
    if let Some(given) = info.id.as_ref().filter(|g| **g != id) {
        return Err(ApiError::BadRequest(format!(
            "id: the body names {given}, the path {id}"
        )));
    }
    info.validate()?;
    s.submit(Command::Boot(BootCommand::PutInstanceInfo { id, info }))
        .await?;
    Ok(StatusCode::CREATED)
}

/// Cairn extension: the last phone-home report of every node, in xname order.
#[utoipa::path(get, path = "/cloud-init/admin/phone-home", tag = "cloud-init",
    params(("stale" = Option<bool>, Query)),
    responses((status = 200, body = Vec<PhoneHomeRecord>)))]
async fn phone_home_reports(
    State(s): State<AppState>,
    mode: ReadMode,
) -> Result<Json<Vec<PhoneHomeRecord>>, ApiError> {
    Ok(Json(
        s.read(mode, |inv| inv.phone_home_reports().cloned().collect())
            .await?,
    ))
}
