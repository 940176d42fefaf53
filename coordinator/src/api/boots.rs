//! `GET /apis/cairn/v1/boots`: the boot steps rack agents served, per node (or per MAC the
//! inventory did not know), including those served while the rack was cut off and reported
//! from its outbox afterwards.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiPath, ReadMode};
use super::state::AppState;
use crate::inventory::BootRecord;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(one))
}

/// `GET /apis/cairn/v1/boots`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct BootList {
    /// Nodes by xname, then MACs no node had.
    pub boots: Vec<BootRecord>,
}

/// Every node's latest boot steps.
#[utoipa::path(get, path = "/apis/cairn/v1/boots", tag = "cairn",
    responses((status = 200, body = BootList), (status = 503, body = cairn_protocols::Problem)))]
async fn list(State(s): State<AppState>) -> Result<Json<BootList>, ApiError> {
    let boots = s
        .read(ReadMode::Linearizable, |inv| {
            inv.boot_records().cloned().collect()
        })
        .await?;
    Ok(Json(BootList { boots }))
}

/// One node's (or MAC's) latest boot steps.
#[utoipa::path(get, path = "/apis/cairn/v1/boots/{id}", tag = "cairn",
    params(("id" = String, Path, description = "a node xname or a MAC (aa:bb:cc:dd:ee:ff)")),
    responses((status = 200, body = BootRecord), (status = 404, body = cairn_protocols::Problem)))]
async fn one(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BootRecord>, ApiError> {
    // Keys are normalized xnames or lower-case colon MACs; accept other spellings.
    let key = match cairn_protocols::Xname::parse(&id) {
        Ok(x) => x.to_string(),
        Err(_) => match id.parse::<cairn_protocols::MacAddr>() {
            Ok(m) => m.to_string(),
            Err(_) => {
                return Err(ApiError::BadRequest(format!(
                    "id: {id:?} is neither an xname nor a MAC address"
                )));
            }
        },
    };
    s.read(ReadMode::Linearizable, |inv| inv.boot_record(&key).cloned())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no boot recorded for {key}")))
}
