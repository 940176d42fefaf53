//! SMD's public service endpoints: health as SMD reports it, and the enumerations clients use
//! to validate input (`/hsm/v2/service/values/...`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::{HmsArch, HmsClass, HmsFlag, HmsState, HmsType, NetType, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Message;
use super::components::{ROLES, SUBROLES};
use super::error::ApiError;
use super::extract::ApiPath;
use super::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ready))
        .routes(routes!(liveness))
        .routes(routes!(values))
        .routes(routes!(values_of))
}

/// The SMD name of each enumeration, with its values.
fn all_values() -> BTreeMap<&'static str, Vec<&'static str>> {
    fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| name(*v)).collect()
    }
    BTreeMap::from([
        ("Arch", names(HmsArch::ALL, HmsArch::as_str)),
        ("Class", names(HmsClass::ALL, HmsClass::as_str)),
        ("Flag", names(HmsFlag::ALL, HmsFlag::as_str)),
        ("NetType", names(NetType::ALL, NetType::as_str)),
        ("Role", ROLES.to_vec()),
        ("SubRole", SUBROLES.to_vec()),
        ("State", names(HmsState::ALL, HmsState::as_str)),
        ("Type", names(HmsType::ALL, HmsType::as_str)),
    ])
}

/// Ready when a leader is known (SMD answers this when its database is reachable).
#[utoipa::path(get, path = "/hsm/v2/service/ready", tag = "service",
    responses((status = 200, body = Message), (status = 503, body = Problem)))]
async fn ready(State(s): State<AppState>) -> Result<Json<Message>, ApiError> {
    super::cluster::ensure_ready(&s)?;
    Ok(Json(Message {
        code: 0,
        message: "HSM is healthy".into(),
    }))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/hsm/v2/service/liveness", tag = "service", responses((status = 204)))]
async fn liveness() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Every enumeration's values.
#[utoipa::path(get, path = "/hsm/v2/service/values", tag = "service",
    responses((status = 200, body = BTreeMap<String, Vec<String>>)))]
async fn values() -> Json<BTreeMap<&'static str, Vec<&'static str>>> {
    Json(all_values())
}

/// One enumeration's values: `arch`, `class`, `flag`, `nettype`, `role`, `subrole`, `state`
/// or `type`.
#[utoipa::path(get, path = "/hsm/v2/service/values/{kind}", tag = "service",
    params(("kind" = String, Path)),
    responses((status = 200, body = BTreeMap<String, Vec<String>>), (status = 404, body = Problem)))]
async fn values_of(
    ApiPath(kind): ApiPath<String>,
) -> Result<Json<BTreeMap<&'static str, Vec<&'static str>>>, ApiError> {
    all_values()
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&kind))
        .map(|(name, list)| Json(BTreeMap::from([(name, list)])))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no value list {kind:?} (arch, class, flag, nettype, role, subrole, state, type)"
            ))
        })
}
