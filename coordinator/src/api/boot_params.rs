//! BSS `/boot/v1/bootparameters`: boot parameters by node, role, `Default`, `Global` and
//! `Unknown-<arch>`, stored through Raft.
//!
//! Semantics (BSS's, with its status codes): POST creates an entry for every selected key and
//! fails with 400 if any already has one; PUT creates or replaces; PATCH changes the given
//! `params`, `kernel`, `initrd` and merges `cloud-init` into existing entries (404 if one is
//! missing); DELETE removes entries (404 if one is missing). `macs` and `nids` select the
//! node that has them; unlike BSS, which then stores under the raw MAC or `nid<N>`, a MAC or
//! NID that no node has is refused. Every write is all-or-nothing.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::{BootKey, BootParameters, MacAddr, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, QueryPairs, ReadMode};
use super::state::AppState;
use crate::inventory::{BootCommand, Command, Inventory};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(
        get_params,
        create_params,
        put_params,
        patch_params,
        delete_params
    ))
}

/// The `name`, `mac` and `nid` filters of a GET: each repeatable and comma-separated.
#[derive(Debug, Default)]
pub(super) struct Selectors {
    pub(super) names: Vec<BootKey>,
    pub(super) macs: Vec<MacAddr>,
    pub(super) nids: Vec<i64>,
}

impl Selectors {
    /// Parse the query; other parameters than `stale` are refused so a typo never widens a
    /// query into "everything".
    pub(super) fn parse(q: &QueryPairs) -> Result<Self, ApiError> {
        let mut s = Selectors::default();
        for (key, value) in q.iter() {
            for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                match key {
                    "name" => s.names.push(BootKey::parse_field("name", v)?),
                    "mac" => s.macs.push(
                        MacAddr::parse(v).map_err(|e| ApiError::BadRequest(format!("mac: {e}")))?,
                    ),
                    "nid" => s.nids.push(v.parse().map_err(|_| {
                        ApiError::BadRequest(format!("nid: {v:?} is not an integer"))
                    })?),
                    "stale" => {}
                    other => {
                        return Err(ApiError::BadRequest(format!(
                            "query parameter {other:?}: unknown (name, mac, nid)"
                        )));
                    }
                }
            }
        }
        Ok(s)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.names.is_empty() && self.macs.is_empty() && self.nids.is_empty()
    }

    /// What was asked for, for a 404's message.
    pub(super) fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.names.iter().map(|n| format!("name={n}")));
        parts.extend(self.macs.iter().map(|m| format!("mac={m}")));
        parts.extend(self.nids.iter().map(|n| format!("nid={n}")));
        parts.join(", ")
    }
}

/// The stored entries the selectors name, in request order without repeats: `name` is a key,
/// `mac` and `nid` name the node that has them (its own entry only, as BSS).
fn select(inv: &Inventory, s: &Selectors) -> Vec<BootParameters> {
    let keys = s
        .names
        .iter()
        .cloned()
        .chain(
            s.macs
                .iter()
                .filter_map(|m| inv.node_by_mac(m))
                .map(|x| BootKey::Node(x.clone())),
        )
        .chain(
            s.nids
                .iter()
                .filter_map(|n| inv.node_by_nid(*n))
                .map(|x| BootKey::Node(x.clone())),
        );
    let mut seen = std::collections::BTreeSet::new();
    keys.filter(|k| seen.insert(k.clone()))
        .filter_map(|k| inv.boot_entry(&k).map(|e| e.to_parameters(k)))
        .collect()
}

/// A write's body, checked: selectors given, every field acceptable.
fn checked(bp: BootParameters) -> Result<BootParameters, ApiError> {
    if !bp.has_selectors() {
        return Err(ApiError::BadRequest(
            "hosts, macs, nids: give at least one node, role, Default, Global or Unknown-<arch> \
             (Cairn does not keep BSS's per-image parameters)"
                .into(),
        ));
    }
    bp.validate()?;
    Ok(bp)
}

/// Boot parameters: all of them, or those named by `name` (a node, role, `Default`, `Global`
/// or `Unknown-<arch>`), `mac` or `nid` (each repeatable or comma-separated).
#[utoipa::path(get, path = "/boot/v1/bootparameters", tag = "bss",
    params(("name" = Option<String>, Query), ("mac" = Option<String>, Query),
        ("nid" = Option<i64>, Query), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = Vec<BootParameters>), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
async fn get_params(
    State(s): State<AppState>,
    mode: ReadMode,
    q: QueryPairs,
) -> Result<Json<Vec<BootParameters>>, ApiError> {
    let sel = Selectors::parse(&q)?;
    if sel.is_empty() {
        return Ok(Json(
            s.read(mode, |inv| {
                inv.boot_entries()
                    .map(|(k, e)| e.to_parameters(k.clone()))
                    .collect()
            })
            .await?,
        ));
    }
    let found = s.read(mode, |inv| select(inv, &sel)).await?;
    if found.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no boot parameters for {}",
            sel.describe()
        )));
    }
    Ok(Json(found))
}

/// Create boot parameters for every selected key; 400 if any already has some.
#[utoipa::path(post, path = "/boot/v1/bootparameters", tag = "bss", request_body = BootParameters,
    responses((status = 201), (status = 400, body = Problem), (status = 413, body = Problem)))]
async fn create_params(
    State(s): State<AppState>,
    ApiJson(bp): ApiJson<BootParameters>,
) -> Result<StatusCode, ApiError> {
    s.submit(Command::Boot(BootCommand::CreateParams(checked(bp)?)))
        .await?;
    Ok(StatusCode::CREATED)
}

/// Create or replace the boot parameters of every selected key.
#[utoipa::path(put, path = "/boot/v1/bootparameters", tag = "bss", request_body = BootParameters,
    responses((status = 200), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem)))]
async fn put_params(
    State(s): State<AppState>,
    ApiJson(bp): ApiJson<BootParameters>,
) -> Result<StatusCode, ApiError> {
    s.submit(Command::Boot(BootCommand::PutParams(checked(bp)?)))
        .await?;
    Ok(StatusCode::OK)
}

/// Change the given fields of existing boot parameters (cloud-init is merged).
#[utoipa::path(patch, path = "/boot/v1/bootparameters", tag = "bss", request_body = BootParameters,
    responses((status = 200), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem)))]
async fn patch_params(
    State(s): State<AppState>,
    ApiJson(bp): ApiJson<BootParameters>,
) -> Result<StatusCode, ApiError> {
    s.submit(Command::Boot(BootCommand::PatchParams(checked(bp)?)))
        .await?;
    Ok(StatusCode::OK)
}

/// Delete the boot parameters of every selected key; 404 if one has none.
#[utoipa::path(delete, path = "/boot/v1/bootparameters", tag = "bss", request_body = BootParameters,
    responses((status = 200), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn delete_params(
    State(s): State<AppState>,
    ApiJson(bp): ApiJson<BootParameters>,
) -> Result<StatusCode, ApiError> {
    if !bp.has_selectors() {
        return Err(ApiError::BadRequest(
            "hosts, macs, nids: name the boot parameters to delete".into(),
        ));
    }
    s.submit(Command::Boot(BootCommand::DeleteParams(bp)))
        .await?;
    Ok(StatusCode::OK)
}
