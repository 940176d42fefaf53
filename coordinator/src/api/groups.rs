//! `/hsm/v2/groups`, and the implementation it shares with `/hsm/v2/partitions`; the thin
//! annotated wrappers exist so each route is documented.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::{
    Group, GroupPatch, MemberId, Members, Partition, Problem, Xname, normalize_label,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, QueryPairs, ReadMode};
use super::state::AppState;
use super::{Message, ResourceUri, deleted};
use crate::inventory::{Command, GroupKind};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(group_labels))
        .routes(routes!(get_group, patch_group, delete_group))
        .routes(routes!(group_members, add_group_member, set_group_members))
        .routes(routes!(remove_group_member))
        .merge(super::partitions::routes())
        .merge(super::memberships::routes())
}

pub(super) fn base(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Group => "/hsm/v2/groups",
        GroupKind::Partition => "/hsm/v2/partitions",
    }
}

pub(super) fn label(raw: &str) -> Result<String, ApiError> {
    normalize_label(raw).map_err(|e| ApiError::BadRequest(e.to_string()))
}

pub(super) fn to_partition(g: Group) -> Partition {
    Partition {
        name: g.label,
        description: g.description,
        tags: g.tags,
        members: g.members,
    }
}

pub(super) async fn list(
    s: &AppState,
    kind: GroupKind,
    mode: ReadMode,
    q: &QueryPairs,
) -> Result<Vec<Group>, ApiError> {
    let key = if kind == GroupKind::Group {
        "group"
    } else {
        "partition"
    };
    let wanted = q
        .all(key)
        .into_iter()
        .map(label)
        .collect::<Result<Vec<_>, _>>()?;
    let tags = q.all("tag");
    s.read(mode, |inv| {
        inv.groups(kind)
            .filter(|g| wanted.is_empty() || wanted.contains(&g.label))
            .filter(|g| {
                tags.is_empty()
                    || g.tags
                        .as_ref()
                        .is_some_and(|t| t.iter().any(|t| tags.contains(&t.as_str())))
            })
            .cloned()
            .collect()
    })
    .await
}

pub(super) async fn create(
    s: &AppState,
    kind: GroupKind,
    mut group: Group,
) -> Result<(StatusCode, Json<Vec<ResourceUri>>), ApiError> {
    group.label = label(&group.label)?;
    if let Some(ex) = group.exclusive_group.take().filter(|e| !e.is_empty()) {
        group.exclusive_group = Some(label(&ex)?);
    }
    let uri = format!("{}/{}", base(kind), group.label);
    s.submit(Command::CreateGroup { kind, group }).await?;
    Ok((StatusCode::CREATED, Json(vec![ResourceUri { uri }])))
}

pub(super) async fn get(
    s: &AppState,
    kind: GroupKind,
    mode: ReadMode,
    raw: &str,
) -> Result<Group, ApiError> {
    let l = label(raw)?;
    s.read(mode, |inv| inv.group(kind, &l).cloned())
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no {} {l}",
                if kind == GroupKind::Group {
                    "group"
                } else {
                    "partition"
                }
            ))
        })
}

pub(super) async fn patch(
    s: &AppState,
    kind: GroupKind,
    raw: &str,
    p: GroupPatch,
) -> Result<StatusCode, ApiError> {
    s.submit(Command::PatchGroup {
        kind,
        label: label(raw)?,
        description: p.description,
        tags: p.tags,
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn delete(
    s: &AppState,
    kind: GroupKind,
    raw: &str,
) -> Result<Json<Message>, ApiError> {
    Ok(deleted(
        s.submit(Command::DeleteGroup {
            kind,
            label: label(raw)?,
        })
        .await?
        .count,
    ))
}

pub(super) async fn add_member(
    s: &AppState,
    kind: GroupKind,
    raw: &str,
    id: Xname,
) -> Result<(StatusCode, Json<Vec<ResourceUri>>), ApiError> {
    let l = label(raw)?;
    let uri = format!("{}/{l}/members/{id}", base(kind));
    s.submit(Command::AddMember { kind, label: l, id }).await?;
    Ok((StatusCode::CREATED, Json(vec![ResourceUri { uri }])))
}

pub(super) async fn set_members(
    s: &AppState,
    kind: GroupKind,
    raw: &str,
    m: Members,
) -> Result<Json<Members>, ApiError> {
    let l = label(raw)?;
    s.submit(Command::SetMembers {
        kind,
        label: l.clone(),
        ids: m.ids,
    })
    .await?;
    Ok(Json(
        get(s, kind, ReadMode::Linearizable, &l).await?.members,
    ))
}

pub(super) async fn remove_member(
    s: &AppState,
    kind: GroupKind,
    raw: &str,
    id: &str,
) -> Result<Json<Message>, ApiError> {
    let cmd = Command::RemoveMember {
        kind,
        label: label(raw)?,
        id: Xname::parse(id)?,
    };
    Ok(deleted(s.submit(cmd).await?.count))
}

/// List groups.
#[utoipa::path(get, path = "/hsm/v2/groups", tag = "Group",
    params(("group" = Option<String>, Query), ("tag" = Option<String>, Query), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = Vec<Group>), (status = 400, body = Problem)))]
async fn list_groups(
    State(s): State<AppState>,
    mode: ReadMode,
    q: QueryPairs,
) -> Result<Json<Vec<Group>>, ApiError> {
    Ok(Json(list(&s, GroupKind::Group, mode, &q).await?))
}

/// Create a group.
#[utoipa::path(post, path = "/hsm/v2/groups", tag = "Group", request_body = Group,
    responses((status = 201, body = Vec<ResourceUri>), (status = 400, body = Problem), (status = 409, body = Problem)))]
async fn create_group(
    State(s): State<AppState>,
    ApiJson(g): ApiJson<Group>,
) -> Result<(StatusCode, Json<Vec<ResourceUri>>), ApiError> {
    create(&s, GroupKind::Group, g).await
}

/// All group labels.
#[utoipa::path(get, path = "/hsm/v2/groups/labels", tag = "Group", responses((status = 200, body = Vec<String>)))]
async fn group_labels(
    State(s): State<AppState>,
    mode: ReadMode,
) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(
        s.read(mode, |inv| {
            inv.groups(GroupKind::Group)
                .map(|g| g.label.clone())
                .collect()
        })
        .await?,
    ))
}

/// One group.
#[utoipa::path(get, path = "/hsm/v2/groups/{group_label}", tag = "Group", params(("group_label" = String, Path)),
    responses((status = 200, body = Group), (status = 404, body = Problem)))]
async fn get_group(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(l): ApiPath<String>,
) -> Result<Json<Group>, ApiError> {
    Ok(Json(get(&s, GroupKind::Group, mode, &l).await?))
}

/// Change a group's description or tags.
#[utoipa::path(patch, path = "/hsm/v2/groups/{group_label}", tag = "Group", params(("group_label" = String, Path)),
    request_body = GroupPatch, responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_group(
    State(s): State<AppState>,
    ApiPath(l): ApiPath<String>,
    ApiJson(p): ApiJson<GroupPatch>,
) -> Result<StatusCode, ApiError> {
    patch(&s, GroupKind::Group, &l, p).await
}

/// Delete a group.
#[utoipa::path(delete, path = "/hsm/v2/groups/{group_label}", tag = "Group", params(("group_label" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_group(
    State(s): State<AppState>,
    ApiPath(l): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    delete(&s, GroupKind::Group, &l).await
}

/// A group's members.
#[utoipa::path(get, path = "/hsm/v2/groups/{group_label}/members", tag = "Group", params(("group_label" = String, Path)),
    responses((status = 200, body = Members), (status = 404, body = Problem)))]
async fn group_members(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(l): ApiPath<String>,
) -> Result<Json<Members>, ApiError> {
    Ok(Json(get(&s, GroupKind::Group, mode, &l).await?.members))
}

/// Add a member to a group.
#[utoipa::path(post, path = "/hsm/v2/groups/{group_label}/members", tag = "Group", params(("group_label" = String, Path)),
    request_body = MemberId, responses((status = 201, body = Vec<ResourceUri>), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn add_group_member(
    State(s): State<AppState>,
    ApiPath(l): ApiPath<String>,
    ApiJson(m): ApiJson<MemberId>,
) -> Result<(StatusCode, Json<Vec<ResourceUri>>), ApiError> {
    add_member(&s, GroupKind::Group, &l, m.id).await
}

/// Replace a group's members.
#[utoipa::path(put, path = "/hsm/v2/groups/{group_label}/members", tag = "Group", params(("group_label" = String, Path)),
    request_body = Members, responses((status = 200, body = Members), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn set_group_members(
    State(s): State<AppState>,
    ApiPath(l): ApiPath<String>,
    ApiJson(m): ApiJson<Members>,
) -> Result<Json<Members>, ApiError> {
    set_members(&s, GroupKind::Group, &l, m).await
}

/// Remove a member from a group.
#[utoipa::path(delete, path = "/hsm/v2/groups/{group_label}/members/{xname_id}", tag = "Group",
    params(("group_label" = String, Path), ("xname_id" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn remove_group_member(
    State(s): State<AppState>,
    ApiPath((l, id)): ApiPath<(String, String)>,
) -> Result<Json<Message>, ApiError> {
    remove_member(&s, GroupKind::Group, &l, &id).await
}
