//! `/hsm/v2/groups`, `/hsm/v2/partitions` and `/hsm/v2/memberships`. Groups and partitions
//! share one implementation; the thin annotated wrappers exist so each route is documented.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::{
    Group, GroupPatch, MemberId, Members, Membership, Partition, Problem, Xname, normalize_label,
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
        .routes(routes!(list_partitions, create_partition))
        .routes(routes!(partition_names))
        .routes(routes!(get_partition, patch_partition, delete_partition))
        .routes(routes!(
            partition_members,
            add_partition_member,
            set_partition_members
        ))
        .routes(routes!(remove_partition_member))
        .routes(routes!(memberships))
        .routes(routes!(membership))
}

fn base(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Group => "/hsm/v2/groups",
        GroupKind::Partition => "/hsm/v2/partitions",
    }
}

fn label(raw: &str) -> Result<String, ApiError> {
    normalize_label(raw).map_err(|e| ApiError::BadRequest(e.to_string()))
}

fn to_partition(g: Group) -> Partition {
    Partition {
        name: g.label,
        description: g.description,
        tags: g.tags,
        members: g.members,
    }
}

async fn list(
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

async fn create(
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

async fn get(s: &AppState, kind: GroupKind, mode: ReadMode, raw: &str) -> Result<Group, ApiError> {
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

async fn patch(
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

async fn delete(s: &AppState, kind: GroupKind, raw: &str) -> Result<Json<Message>, ApiError> {
    Ok(deleted(
        s.submit(Command::DeleteGroup {
            kind,
            label: label(raw)?,
        })
        .await?
        .count,
    ))
}

async fn add_member(
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

async fn set_members(
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

async fn remove_member(
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
