//! BSS's `/boot/v1/hosts` (its view of SMD's nodes) and `/boot/v1/service/*` health, in BSS's
//! shapes. Cairn's BSS and SMD share one replicated inventory, so the "HSM connection" is
//! always up and `POST /hosts` (BSS: refresh the SMD cache now) has nothing to do.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::{Component, HmsType, MacAddr, Problem};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::boot_params::Selectors;
use super::error::ApiError;
use super::extract::{QueryPairs, ReadMode};
use super::state::AppState;
use crate::inventory::Inventory;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hosts, refresh_hosts))
        .routes(routes!(status))
        .routes(routes!(status_all))
        .routes(routes!(version))
        .routes(routes!(hsm))
        .routes(routes!(storage))
}

/// BSS's `Component`: a node with its MACs, as BSS caches it from SMD.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BssHost {
    /// The node's xname.
    #[serde(rename = "ID")]
    #[schema(value_type = String)]
    pub id: cairn_protocols::Xname,
    /// Always `Node`.
    #[serde(rename = "Type")]
    pub r#type: String,
    /// SMD state.
    #[serde(rename = "State", skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// SMD flag.
    #[serde(rename = "Flag", skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// SMD `Enabled` (absent counts as enabled).
    #[serde(rename = "Enabled")]
    pub enabled: bool,
    /// Role.
    #[serde(rename = "Role", skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Sub-role.
    #[serde(rename = "SubRole", skip_serializing_if = "Option::is_none")]
    pub sub_role: Option<String>,
    /// NID.
    #[serde(rename = "NID", skip_serializing_if = "Option::is_none")]
    pub nid: Option<i64>,
    /// Network type.
    #[serde(rename = "NetType", skip_serializing_if = "Option::is_none")]
    pub net_type: Option<String>,
    /// Architecture.
    #[serde(rename = "Arch", skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Hardware class.
    #[serde(rename = "Class", skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Reservations disabled.
    #[serde(rename = "ReservationDisabled")]
    pub reservation_disabled: bool,
    /// Locked.
    #[serde(rename = "Locked")]
    pub locked: bool,
    /// The node's FQDN from its component endpoint, when discovered.
    #[serde(rename = "FQDN")]
    pub fqdn: String,
    /// MACs of its Ethernet interfaces.
    #[serde(rename = "MAC")]
    #[schema(value_type = Vec<String>)]
    pub mac: Vec<MacAddr>,
    /// Whether boot serving treats it as bootable: Cairn's bootscript serves a node whose
    /// component is enabled (BSS reads this from the Redfish endpoint).
    #[serde(rename = "EndpointEnabled")]
    pub endpoint_enabled: bool,
}

fn host(inv: &Inventory, c: &Component) -> BssHost {
    let enabled = c.enabled.unwrap_or(true);
    BssHost {
        id: c.id.clone(),
        r#type: HmsType::Node.as_str().to_owned(),
        state: c.state.map(|s| s.as_str().to_owned()),
        flag: c.flag.map(|f| f.as_str().to_owned()),
        enabled,
        role: c.role.clone(),
        sub_role: c.sub_role.clone(),
        nid: c.nid,
        net_type: c.net_type.map(|n| n.as_str().to_owned()),
        arch: c.arch.map(|a| a.as_str().to_owned()),
        class: c.class.map(|k| k.as_str().to_owned()),
        reservation_disabled: c.reservation_disabled.unwrap_or(false),
        locked: c.locked.unwrap_or(false),
        fqdn: inv
            .component_endpoint(&c.id)
            .and_then(|ce| ce.fqdn.clone())
            .unwrap_or_default(),
        mac: inv.interfaces_of(&c.id).map(|i| i.mac_address).collect(),
        endpoint_enabled: enabled,
    }
}

/// The nodes as BSS knows them; with `name`, `mac` or `nid` (repeatable, comma-separated)
/// only those, once per reference, and 404 naming the first unknown one.
#[utoipa::path(get, path = "/boot/v1/hosts", tag = "bss",
    params(("name" = Option<String>, Query), ("mac" = Option<String>, Query),
        ("nid" = Option<i64>, Query), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = Vec<BssHost>), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
async fn hosts(
    State(s): State<AppState>,
    mode: ReadMode,
    q: QueryPairs,
) -> Result<Json<Vec<BssHost>>, ApiError> {
    let sel = Selectors::parse(&q)?;
    s.read(mode, |inv| {
        if sel.is_empty() {
            return Ok(inv
                .components()
                .filter(|c| c.id.hms_type() == HmsType::Node)
                .map(|c| host(inv, c))
                .collect());
        }
        let mut out = Vec::new();
        for name in &sel.names {
            let node = name
                .node()
                .and_then(|x| inv.component(x))
                .ok_or_else(|| ApiError::NotFound(format!("unknown host name {name}")))?;
            out.push(host(inv, node));
        }
        for mac in &sel.macs {
            let node = inv
                .node_by_mac(mac)
                .and_then(|x| inv.component(x))
                .ok_or_else(|| ApiError::NotFound(format!("unknown MAC address {mac}")))?;
            out.push(host(inv, node));
        }
        for nid in &sel.nids {
            let node = inv
                .node_by_nid(*nid)
                .and_then(|x| inv.component(x))
                .ok_or_else(|| ApiError::NotFound(format!("unknown NID {nid}")))?;
            out.push(host(inv, node));
        }
        Ok(out)
    })
    .await?
    .map(Json)
}

/// BSS refreshes its SMD cache here; Cairn's view is always current: 204.
#[utoipa::path(post, path = "/boot/v1/hosts", tag = "bss", responses((status = 204)))]
async fn refresh_hosts() -> StatusCode {
    StatusCode::NO_CONTENT
}

fn version_value() -> Value {
    json!(env!("CARGO_PKG_VERSION"))
}

/// The storage backend's status: the replicated log is usable when a leader is known.
fn storage_value(s: &AppState) -> (bool, Value) {
    let ok = super::cluster::ensure_ready(s).is_ok();
    let status = if ok { "connected" } else { "error" };
    (ok, json!({"name": "raft", "status": status}))
}

/// Liveness, as BSS reports it.
#[utoipa::path(get, path = "/boot/v1/service/status", tag = "bss",
    responses((status = 200, body = Object, example = json!({"bss-status": "running"}))))]
async fn status() -> Json<Value> {
    Json(json!({"bss-status": "running"}))
}

/// The running version.
#[utoipa::path(get, path = "/boot/v1/service/version", tag = "bss",
    responses((status = 200, body = Object, example = json!({"bss-version": "0.1.0"}))))]
async fn version() -> Json<Value> {
    Json(json!({"bss-version": version_value()}))
}

/// The connection to HSM: the same replicated inventory, always connected.
#[utoipa::path(get, path = "/boot/v1/service/hsm", tag = "bss",
    responses((status = 200, body = Object, example = json!({"bss-status-hsm": "connected"}))))]
async fn hsm() -> Json<Value> {
    Json(json!({"bss-status-hsm": "connected"}))
}

/// The storage backend: connected while a Raft leader is known, else 500 as BSS answers.
#[utoipa::path(get, path = "/boot/v1/service/storage/status", tag = "bss",
    responses((status = 200, body = Object), (status = 500, body = Object)))]
async fn storage(State(s): State<AppState>) -> (StatusCode, Json<Value>) {
    let (ok, v) = storage_value(&s);
    (code(ok), Json(json!({"bss-storage-backend": v})))
}

/// Everything above in one object; 500 when a check fails.
#[utoipa::path(get, path = "/boot/v1/service/status/all", tag = "bss",
    responses((status = 200, body = Object), (status = 500, body = Object)))]
async fn status_all(State(s): State<AppState>) -> (StatusCode, Json<Value>) {
    let (ok, storage) = storage_value(&s);
    (
        code(ok),
        Json(json!({
            "bss-status": "running",
            "bss-storage-backend": storage,
            "bss-status-hsm": "connected",
            "bss-version": version_value(),
        })),
    )
}

fn code(ok: bool) -> StatusCode {
    if ok {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}
