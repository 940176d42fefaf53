//! `/hsm/v2/partitions`: like groups, but a component sits in at most one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::{Group, GroupPatch, MemberId, Members, Partition, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, QueryPairs, ReadMode};
use super::groups::{
    add_member, create, delete, get, list, patch, remove_member, set_members, to_partition,
};
use super::state::AppState;
use super::{Message, ResourceUri};
use crate::inventory::GroupKind;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_partitions, create_partition))
        .routes(routes!(partition_names))
        .routes(routes!(get_partition, patch_partition, delete_partition))
        .routes(routes!(
            partition_members,
            add_partition_member,
            set_partition_members
        ))
        .routes(routes!(remove_partition_member))
}

/// List partitions.
#[utoipa::path(get, path = "/hsm/v2/partitions", tag = "Partition",
    params(("partition" = Option<String>, Query), ("tag" = Option<String>, Query), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = Vec<Partition>), (status = 400, body = Problem)))]
async fn list_partitions(
    State(s): State<AppState>,
    mode: ReadMode,
    q: QueryPairs,
) -> Result<Json<Vec<Partition>>, ApiError> {
    Ok(Json(
        list(&s, GroupKind::Partition, mode, &q)
            .await?
            .into_iter()
            .map(to_partition)
            .collect(),
    ))
}

/// Create a partition.
#[utoipa::path(post, path = "/hsm/v2/partitions", tag = "Partition", request_body = Partition,
    responses((status = 201, body = Vec<ResourceUri>), (status = 400, body = Problem), (status = 409, body = Problem)))]
async fn create_partition(
    State(s): State<AppState>,
    ApiJson(p): ApiJson<Partition>,
) -> Result<(StatusCode, Json<Vec<ResourceUri>>), ApiError> {
    let g = Group {
        label: p.name,
        description: p.description,
        tags: p.tags,
        exclusive_group: None,
        members: p.members,
    };
    create(&s, GroupKind::Partition, g).await
}

/// All partition names.
#[utoipa::path(get, path = "/hsm/v2/partitions/names", tag = "Partition", responses((status = 200, body = Vec<String>)))]
async fn partition_names(
    State(s): State<AppState>,
    mode: ReadMode,
) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(
        s.read(mode, |inv| {
            inv.groups(GroupKind::Partition)
                .map(|g| g.label.clone())
                .collect()
        })
        .await?,
    ))
}

/// One partition.
#[utoipa::path(get, path = "/hsm/v2/partitions/{partition_name}", tag = "Partition", params(("partition_name" = String, Path)),
    responses((status = 200, body = Partition), (status = 404, body = Problem)))]
async fn get_partition(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(l): ApiPath<String>,
) -> Result<Json<Partition>, ApiError> {
    Ok(Json(to_partition(
        get(&s, GroupKind::Partition, mode, &l).await?,
    )))
}

/// Change a partition's description or tags.
#[utoipa::path(patch, path = "/hsm/v2/partitions/{partition_name}", tag = "Partition", params(("partition_name" = String, Path)),
    request_body = GroupPatch, responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_partition(
    State(s): State<AppState>,
    ApiPath(l): ApiPath<String>,
    ApiJson(p): ApiJson<GroupPatch>,
) -> Result<StatusCode, ApiError> {
    patch(&s, GroupKind::Partition, &l, p).await
}

/// Delete a partition.
#[utoipa::path(delete, path = "/hsm/v2/partitions/{partition_name}", tag = "Partition", params(("partition_name" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_partition(
    State(s): State<AppState>,
    ApiPath(l): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    delete(&s, GroupKind::Partition, &l).await
}

/// A partition's members.
#[utoipa::path(get, path = "/hsm/v2/partitions/{partition_name}/members", tag = "Partition", params(("partition_name" = String, Path)),
    responses((status = 200, body = Members), (status = 404, body = Problem)))]
async fn partition_members(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(l): ApiPath<String>,
) -> Result<Json<Members>, ApiError> {
    Ok(Json(get(&s, GroupKind::Partition, mode, &l).await?.members))
}

/// Add a member to a partition.
#[utoipa::path(post, path = "/hsm/v2/partitions/{partition_name}/members", tag = "Partition", params(("partition_name" = String, Path)),
    request_body = MemberId, responses((status = 201, body = Vec<ResourceUri>), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn add_partition_member(
    State(s): State<AppState>,
    ApiPath(l): ApiPath<String>,
    ApiJson(m): ApiJson<MemberId>,
) -> Result<(StatusCode, Json<Vec<ResourceUri>>), ApiError> {
    add_member(&s, GroupKind::Partition, &l, m.id).await
}

/// Replace a partition's members.
#[utoipa::path(put, path = "/hsm/v2/partitions/{partition_name}/members", tag = "Partition", params(("partition_name" = String, Path)),
    request_body = Members, responses((status = 200, body = Members), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn set_partition_members(
    State(s): State<AppState>,
    ApiPath(l): ApiPath<String>,
    ApiJson(m): ApiJson<Members>,
) -> Result<Json<Members>, ApiError> {
    set_members(&s, GroupKind::Partition, &l, m).await
}

/// Remove a member from a partition.
#[utoipa::path(delete, path = "/hsm/v2/partitions/{partition_name}/members/{xname_id}", tag = "Partition",
    params(("partition_name" = String, Path), ("xname_id" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn remove_partition_member(
    State(s): State<AppState>,
    ApiPath((l, id)): ApiPath<(String, String)>,
) -> Result<Json<Message>, ApiError> {
    remove_member(&s, GroupKind::Partition, &l, &id).await
}
