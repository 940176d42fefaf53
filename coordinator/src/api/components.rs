//! `/hsm/v2/State/Components`: the component records, with SMD's filters and PATCH forms.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::{
    ByNidQuery, Component, ComponentArray, ComponentPut, ComponentsPost, Problem, Xname,
    parse_nid_range,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, QueryPairs, ReadMode};
use super::state::AppState;
use super::{Message, deleted};
use crate::inventory::{Command, ComponentChange, ComponentFilter};

/// Roles SMD knows by default; input is matched case-insensitively and stored in this spelling.
pub(super) const ROLES: &[&str] = &[
    "Compute",
    "Service",
    "System",
    "Application",
    "Storage",
    "Management",
];
/// Subroles SMD knows by default.
pub(super) const SUBROLES: &[&str] = &[
    "Master",
    "Worker",
    "Storage",
    "UAN",
    "Gateway",
    "LNETRouter",
    "Visualization",
    "UserDefined",
];

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, post, delete_all))
        .routes(routes!(get_one, put_one, delete_one))
        .routes(routes!(by_nid))
        .routes(routes!(query))
        .routes(routes!(by_nid_query))
        .merge(super::component_patch::routes())
}

fn normalize(value: &str, known: &[&str], what: &str) -> Result<String, ApiError> {
    known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(value))
        .map(|k| (*k).to_owned())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown {what} {value:?} (expected one of: {})",
                known.join(", ")
            ))
        })
}

pub(super) fn role_change(role: &str, sub_role: Option<&str>) -> Result<ComponentChange, ApiError> {
    Ok(ComponentChange::Role {
        role: normalize(role, ROLES, "Role")?,
        sub_role: sub_role
            .filter(|s| !s.is_empty())
            .map(|s| normalize(s, SUBROLES, "SubRole"))
            .transpose()?,
    })
}

/// Check a component from a request body and fill in what SMD derives; `at` names it in errors.
fn validate(mut c: Component, at: &str) -> Result<Component, ApiError> {
    let derived = super::derived_type(at, &c.id, c.r#type)?;
    if c.state.is_none() {
        return Err(ApiError::BadRequest(format!(
            "{at}.State: missing (required for component {})",
            c.id
        )));
    }
    c.r#type = Some(derived);
    if let Some(role) = c.role.take().filter(|r| !r.is_empty()) {
        c.role = Some(normalize(&role, ROLES, &format!("{at}.Role"))?);
    }
    if let Some(sub) = c.sub_role.take().filter(|r| !r.is_empty()) {
        c.sub_role = Some(normalize(&sub, SUBROLES, &format!("{at}.SubRole"))?);
    }
    // Read-only in SMD: set by the locking API, never by a component write.
    c.reservation_disabled = None;
    c.locked = None;
    Ok(c)
}

pub(super) fn parse_id(id: &str) -> Result<Xname, ApiError> {
    Ok(Xname::parse(id)?)
}

/// List components, filtered.
#[utoipa::path(get, path = "/hsm/v2/State/Components", tag = "Component",
    params(("id" = Option<Vec<String>>, Query, description = "xname (repeatable)"),
        ("type" = Option<String>, Query), ("state" = Option<String>, Query), ("flag" = Option<String>, Query),
        ("role" = Option<String>, Query), ("subrole" = Option<String>, Query), ("enabled" = Option<bool>, Query),
        ("softwarestatus" = Option<String>, Query), ("subtype" = Option<String>, Query),
        ("arch" = Option<String>, Query), ("class" = Option<String>, Query), ("nid" = Option<Vec<i64>>, Query),
        ("nid_start" = Option<i64>, Query), ("nid_end" = Option<i64>, Query), ("group" = Option<String>, Query),
        ("partition" = Option<String>, Query), ("stateonly" = Option<bool>, Query), ("flagonly" = Option<bool>, Query),
        ("roleonly" = Option<bool>, Query), ("nidonly" = Option<bool>, Query),
        ("stale" = Option<bool>, Query, description = "read this replica's state without a leader round trip")),
    responses((status = 200, body = ComponentArray), (status = 400, body = Problem), (status = 503, body = Problem)))]
async fn list(
    State(s): State<AppState>,
    mode: ReadMode,
    q: QueryPairs,
) -> Result<Json<ComponentArray>, ApiError> {
    let filter = ComponentFilter::from_pairs(q.iter())?;
    let components = s.read(mode, |inv| filter.select(inv)).await?;
    Ok(Json(ComponentArray { components }))
}

/// Create or update components.
#[utoipa::path(post, path = "/hsm/v2/State/Components", tag = "Component", request_body = ComponentsPost,
    responses((status = 204, description = "created or updated"), (status = 400, body = Problem), (status = 503, body = Problem)))]
async fn post(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<ComponentsPost>,
) -> Result<StatusCode, ApiError> {
    if body.components.is_empty() {
        return Err(ApiError::BadRequest("Components: empty list".into()));
    }
    let components = body
        .components
        .into_iter()
        .enumerate()
        .map(|(i, c)| validate(c, &format!("Components[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    s.submit(Command::UpsertComponents {
        components,
        force: body.force.unwrap_or(false),
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete every component.
#[utoipa::path(delete, path = "/hsm/v2/State/Components", tag = "Component",
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_all(State(s): State<AppState>) -> Result<Json<Message>, ApiError> {
    let applied = s.submit(Command::DeleteAllComponents).await?;
    Ok(deleted(applied.count))
}

/// One component.
#[utoipa::path(get, path = "/hsm/v2/State/Components/{xname}", tag = "Component",
    params(("xname" = String, Path)),
    responses((status = 200, body = Component), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn get_one(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Component>, ApiError> {
    let id = parse_id(&id)?;
    s.read(mode, |inv| inv.component(&id).cloned())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no component {id}")))
}

/// Create or update one component.
#[utoipa::path(put, path = "/hsm/v2/State/Components/{xname}", tag = "Component",
    params(("xname" = String, Path)), request_body = ComponentPut,
    responses((status = 204, description = "created or updated"), (status = 400, body = Problem)))]
async fn put_one(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ComponentPut>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    if body.component.id != id {
        return Err(ApiError::BadRequest(format!(
            "Component.ID {} does not match the path's {id}",
            body.component.id
        )));
    }
    let component = validate(body.component, "Component")?;
    s.submit(Command::PutComponent {
        component,
        force: body.force.unwrap_or(false),
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete one component (and its group and partition memberships).
#[utoipa::path(delete, path = "/hsm/v2/State/Components/{xname}", tag = "Component",
    params(("xname" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_one(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    let applied = s.submit(Command::DeleteComponent(parse_id(&id)?)).await?;
    Ok(deleted(applied.count))
}

/// The component with this NID.
#[utoipa::path(get, path = "/hsm/v2/State/Components/ByNID/{nid}", tag = "Component",
    params(("nid" = i64, Path)),
    responses((status = 200, body = Component), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn by_nid(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(nid): ApiPath<String>,
) -> Result<Json<Component>, ApiError> {
    let nid: i64 = nid
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("nid {nid:?} is not an integer")))?;
    s.read(mode, |inv| inv.component_by_nid(nid).cloned())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no component with NID {nid}")))
}

/// Components matching a filter given as a body.
#[utoipa::path(post, path = "/hsm/v2/State/Components/Query", tag = "Component",
    request_body = cairn_protocols::ComponentQuery,
    responses((status = 200, body = ComponentArray), (status = 400, body = Problem)))]
async fn query(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<ComponentArray>, ApiError> {
    let filter = ComponentFilter::from_json(&body)?;
    let components = s.read(mode, |inv| filter.select(inv)).await?;
    Ok(Json(ComponentArray { components }))
}

/// Components whose NID is in the given ranges.
#[utoipa::path(post, path = "/hsm/v2/State/Components/ByNID/Query", tag = "Component",
    request_body = ByNidQuery,
    responses((status = 200, body = ComponentArray), (status = 400, body = Problem)))]
async fn by_nid_query(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiJson(body): ApiJson<ByNidQuery>,
) -> Result<Json<ComponentArray>, ApiError> {
    let ranges = body
        .nid_ranges
        .iter()
        .map(|r| parse_nid_range(r).map_err(|e| ApiError::BadRequest(format!("NIDRanges: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(p) = &body.partition {
        pairs.push(("partition", p.clone()));
    }
    for (flag, set) in [
        ("stateonly", body.stateonly),
        ("flagonly", body.flagonly),
        ("roleonly", body.roleonly),
        ("nidonly", body.nidonly),
    ] {
        if set == Some(true) {
            pairs.push((flag, "true".into()));
        }
    }
    let filter = ComponentFilter::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))?;
    let components = s
        .read(mode, |inv| {
            filter
                .select(inv)
                .into_iter()
                .filter(|c| c.nid.is_some_and(|n| ranges.iter().any(|r| r.contains(&n))))
                .collect()
        })
        .await?;
    Ok(Json(ComponentArray { components }))
}
