//! `/hsm/v2/Inventory/RedfishEndpoints` and `/hsm/v2/Inventory/ComponentEndpoints`: the BMCs
//! and what was discovered behind them. Passwords are stored but never returned.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::{
    ComponentEndpoint, ComponentEndpointArray, Problem, RedfishEndpoint, RedfishEndpointArray,
    RedfishEndpointPost, Xname, parse_redfish_endpoint_post,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, QueryPairs, ReadMode};
use super::state::AppState;
use super::{Message, ResourceUri, deleted, magellan, now_rfc3339};
use crate::inventory::Command;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, post, delete_all))
        .routes(routes!(get_one, put_one, patch_one, delete_one))
        .routes(routes!(
            list_component_endpoints,
            delete_all_component_endpoints
        ))
        .routes(routes!(get_component_endpoint, delete_component_endpoint))
}

fn decode_error(e: cairn_protocols::DecodeError) -> ApiError {
    ApiError::BadRequest(e.to_string())
}

fn check_endpoint(ep: &mut RedfishEndpoint, at: &str) -> Result<(), ApiError> {
    ep.r#type = Some(super::derived_type(at, &ep.id, ep.r#type)?);
    if ep.fqdn.as_deref().is_none_or(str::is_empty)
        && ep.hostname.as_deref().is_none_or(str::is_empty)
        && ep.ip_address.is_none()
    {
        return Err(ApiError::BadRequest(format!(
            "{at}: endpoint {} needs FQDN, Hostname or IPAddress so it can be reached",
            ep.id
        )));
    }
    if ep.fqdn.as_deref().is_none_or(str::is_empty) {
        ep.fqdn = ep
            .hostname
            .clone()
            .or_else(|| ep.ip_address.map(|ip| ip.to_string()));
    }
    ep.enabled = ep.enabled.or(Some(true));
    Ok(())
}

fn uri_list(ids: impl IntoIterator<Item = Xname>) -> Json<Vec<ResourceUri>> {
    Json(
        ids.into_iter()
            .map(|id| ResourceUri {
                uri: format!("/hsm/v2/Inventory/RedfishEndpoints/{id}"),
            })
            .collect(),
    )
}

/// List Redfish endpoints (passwords redacted).
#[utoipa::path(get, path = "/hsm/v2/Inventory/RedfishEndpoints", tag = "RedfishEndpoint",
    params(("id" = Option<Vec<String>>, Query), ("fqdn" = Option<String>, Query), ("type" = Option<String>, Query),
        ("uuid" = Option<String>, Query), ("macaddr" = Option<String>, Query), ("ipaddress" = Option<String>, Query),
        ("laststatus" = Option<String>, Query), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = RedfishEndpointArray), (status = 400, body = Problem)))]
async fn list(
    State(s): State<AppState>,
    mode: ReadMode,
    q: QueryPairs,
) -> Result<Json<RedfishEndpointArray>, ApiError> {
    let ids = q
        .all("id")
        .into_iter()
        .map(Xname::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let fqdns = q.all("fqdn");
    let uuids = q.all("uuid");
    let types = q.all("type");
    let macs = q
        .all("macaddr")
        .into_iter()
        .map(cairn_protocols::MacAddr::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let ips = q.all("ipaddress");
    let statuses = q.all("laststatus");
    let endpoints = s
        .read(mode, |inv| {
            inv.redfish_endpoints()
                .filter(|e| ids.is_empty() || ids.contains(&e.id))
                .filter(|e| {
                    fqdns.is_empty() || e.fqdn.as_deref().is_some_and(|f| fqdns.contains(&f))
                })
                .filter(|e| {
                    uuids.is_empty() || e.uuid.as_deref().is_some_and(|u| uuids.contains(&u))
                })
                .filter(|e| {
                    types.is_empty()
                        || e.r#type.is_some_and(|t| {
                            types.iter().any(|w| w.eq_ignore_ascii_case(t.as_str()))
                        })
                })
                .filter(|e| macs.is_empty() || e.mac_addr.is_some_and(|m| macs.contains(&m)))
                .filter(|e| {
                    ips.is_empty()
                        || e.ip_address
                            .is_some_and(|ip| ips.contains(&ip.to_string().as_str()))
                })
                .filter(|e| {
                    statuses.is_empty()
                        || e.discovery_info
                            .as_ref()
                            .and_then(|d| d.last_discovery_status.as_deref())
                            .is_some_and(|st| statuses.contains(&st))
                })
                .map(RedfishEndpoint::redacted)
                .collect()
        })
        .await?;
    Ok(Json(RedfishEndpointArray {
        redfish_endpoints: endpoints,
    }))
}

/// Create Redfish endpoints: one, a `RedfishEndpoints` list, or a Magellan payload (which
/// also creates the components, component endpoints and interfaces behind the BMC, at once).
#[utoipa::path(post, path = "/hsm/v2/Inventory/RedfishEndpoints", tag = "RedfishEndpoint",
    request_body = RedfishEndpointArray,
    responses((status = 201, body = Vec<ResourceUri>), (status = 400, body = Problem), (status = 409, body = Problem)))]
async fn post(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Vec<ResourceUri>>), ApiError> {
    let cmd = match parse_redfish_endpoint_post(&body).map_err(decode_error)? {
        RedfishEndpointPost::Magellan(mut m) => {
            check_endpoint(&mut m.endpoint, "RedfishEndpoint")?;
            magellan::register(m, false, &now_rfc3339())?
        }
        RedfishEndpointPost::Single(mut ep) => {
            check_endpoint(&mut ep, "RedfishEndpoint")?;
            Command::CreateRedfishEndpoints(vec![ep])
        }
        RedfishEndpointPost::Array(a) => {
            if a.redfish_endpoints.is_empty() {
                return Err(ApiError::BadRequest("RedfishEndpoints: empty list".into()));
            }
            let mut eps = a.redfish_endpoints;
            for (i, ep) in eps.iter_mut().enumerate() {
                check_endpoint(ep, &format!("RedfishEndpoints[{i}]"))?;
            }
            Command::CreateRedfishEndpoints(eps)
        }
    };
    let ids: Vec<Xname> = match &cmd {
        Command::CreateRedfishEndpoints(eps) => eps.iter().map(|e| e.id.clone()).collect(),
        Command::RegisterEndpoint { endpoint, .. } => vec![endpoint.id.clone()],
        _ => Vec::new(),
    };
    s.submit(cmd).await?;
    Ok((StatusCode::CREATED, uri_list(ids)))
}

/// Delete every Redfish endpoint and component endpoint.
#[utoipa::path(delete, path = "/hsm/v2/Inventory/RedfishEndpoints", tag = "RedfishEndpoint",
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_all(State(s): State<AppState>) -> Result<Json<Message>, ApiError> {
    Ok(deleted(
        s.submit(Command::DeleteAllRedfishEndpoints).await?.count,
    ))
}

async fn stored(s: &AppState, mode: ReadMode, id: &Xname) -> Result<RedfishEndpoint, ApiError> {
    s.read(mode, |inv| inv.redfish_endpoint(id).cloned())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no Redfish endpoint {id}")))
}

/// One Redfish endpoint (password redacted).
#[utoipa::path(get, path = "/hsm/v2/Inventory/RedfishEndpoints/{xname}", tag = "RedfishEndpoint",
    params(("xname" = String, Path)),
    responses((status = 200, body = RedfishEndpoint), (status = 404, body = Problem)))]
async fn get_one(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RedfishEndpoint>, ApiError> {
    Ok(Json(
        stored(&s, mode, &Xname::parse(&id)?).await?.redacted(),
    ))
}

/// Create or replace one Redfish endpoint (plain or Magellan form).
#[utoipa::path(put, path = "/hsm/v2/Inventory/RedfishEndpoints/{xname}", tag = "RedfishEndpoint",
    params(("xname" = String, Path)), request_body = RedfishEndpoint,
    responses((status = 200, body = RedfishEndpoint), (status = 400, body = Problem)))]
async fn put_one(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<RedfishEndpoint>, ApiError> {
    let id = Xname::parse(&id)?;
    let (cmd, mut ep) = match parse_redfish_endpoint_post(&body).map_err(decode_error)? {
        RedfishEndpointPost::Magellan(mut m) => {
            check_endpoint(&mut m.endpoint, "RedfishEndpoint")?;
            let ep = m.endpoint.clone();
            (magellan::register(m, true, &now_rfc3339())?, ep)
        }
        RedfishEndpointPost::Single(mut ep) => {
            check_endpoint(&mut ep, "RedfishEndpoint")?;
            (Command::PutRedfishEndpoint(ep.clone()), ep)
        }
        RedfishEndpointPost::Array(_) => {
            return Err(ApiError::BadRequest(
                "PUT takes one RedfishEndpoint, not a RedfishEndpoints list".into(),
            ));
        }
    };
    if ep.id != id {
        return Err(ApiError::BadRequest(format!(
            "ID {} does not match the path's {id}",
            ep.id
        )));
    }
    s.submit(cmd).await?;
    ep.password = None;
    Ok(Json(ep))
}

/// Change some fields of a Redfish endpoint.
#[utoipa::path(patch, path = "/hsm/v2/Inventory/RedfishEndpoints/{xname}", tag = "RedfishEndpoint",
    params(("xname" = String, Path)), request_body = RedfishEndpoint,
    responses((status = 200, body = RedfishEndpoint), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_one(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<RedfishEndpoint>, ApiError> {
    let id = Xname::parse(&id)?;
    let patch = body
        .as_object()
        .ok_or_else(|| ApiError::BadRequest("expected a JSON object of fields to change".into()))?;
    let mut merged = serde_json::to_value(stored(&s, ReadMode::Linearizable, &id).await?)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(obj) = merged.as_object_mut() {
        for (k, v) in patch {
            obj.insert(k.clone(), v.clone());
        }
    }
    let mut ep: RedfishEndpoint =
        cairn_protocols::from_json_value(&merged).map_err(decode_error)?;
    if ep.id != id {
        return Err(ApiError::BadRequest(format!(
            "ID cannot change (path {id}, body {})",
            ep.id
        )));
    }
    check_endpoint(&mut ep, "RedfishEndpoint")?;
    s.submit(Command::PatchRedfishEndpoint(ep.clone())).await?;
    Ok(Json(ep.redacted()))
}

/// Delete one Redfish endpoint and its component endpoints.
#[utoipa::path(delete, path = "/hsm/v2/Inventory/RedfishEndpoints/{xname}", tag = "RedfishEndpoint",
    params(("xname" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_one(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    Ok(deleted(
        s.submit(Command::DeleteRedfishEndpoint(Xname::parse(&id)?))
            .await?
            .count,
    ))
}

/// List component endpoints.
#[utoipa::path(get, path = "/hsm/v2/Inventory/ComponentEndpoints", tag = "ComponentEndpoint",
    params(("id" = Option<Vec<String>>, Query), ("redfish_ep" = Option<String>, Query), ("type" = Option<String>, Query),
        ("redfish_type" = Option<String>, Query), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = ComponentEndpointArray), (status = 400, body = Problem)))]
async fn list_component_endpoints(
    State(s): State<AppState>,
    mode: ReadMode,
    q: QueryPairs,
) -> Result<Json<ComponentEndpointArray>, ApiError> {
    let ids = q
        .all("id")
        .into_iter()
        .map(Xname::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let eps = q
        .all("redfish_ep")
        .into_iter()
        .map(Xname::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let types = q.all("type");
    let rf_types = q.all("redfish_type");
    let list = s
        .read(mode, |inv| {
            inv.component_endpoints()
                .filter(|c| ids.is_empty() || ids.contains(&c.id))
                .filter(|c| {
                    eps.is_empty()
                        || c.redfish_endpoint_id
                            .as_ref()
                            .is_some_and(|e| eps.contains(e))
                })
                .filter(|c| {
                    types.is_empty()
                        || types
                            .iter()
                            .any(|t| t.eq_ignore_ascii_case(c.id.hms_type().as_str()))
                })
                .filter(|c| {
                    rf_types.is_empty()
                        || c.redfish_type
                            .as_deref()
                            .is_some_and(|t| rf_types.iter().any(|w| w.eq_ignore_ascii_case(t)))
                })
                .cloned()
                .collect()
        })
        .await?;
    Ok(Json(ComponentEndpointArray {
        component_endpoints: list,
    }))
}

/// Delete every component endpoint.
#[utoipa::path(delete, path = "/hsm/v2/Inventory/ComponentEndpoints", tag = "ComponentEndpoint",
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_all_component_endpoints(
    State(s): State<AppState>,
) -> Result<Json<Message>, ApiError> {
    Ok(deleted(
        s.submit(Command::DeleteAllComponentEndpoints).await?.count,
    ))
}

/// One component endpoint.
#[utoipa::path(get, path = "/hsm/v2/Inventory/ComponentEndpoints/{xname}", tag = "ComponentEndpoint",
    params(("xname" = String, Path)),
    responses((status = 200, body = ComponentEndpoint), (status = 404, body = Problem)))]
async fn get_component_endpoint(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ComponentEndpoint>, ApiError> {
    let id = Xname::parse(&id)?;
    s.read(mode, |inv| inv.component_endpoint(&id).cloned())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no component endpoint {id}")))
}

/// Delete one component endpoint.
#[utoipa::path(delete, path = "/hsm/v2/Inventory/ComponentEndpoints/{xname}", tag = "ComponentEndpoint",
    params(("xname" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_component_endpoint(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    Ok(deleted(
        s.submit(Command::DeleteComponentEndpoint(Xname::parse(&id)?))
            .await?
            .count,
    ))
}
