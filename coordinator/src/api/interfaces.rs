//! `/hsm/v2/Inventory/EthernetInterfaces`: which MAC belongs to which component, with its IPs.

use std::net::IpAddr;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cairn_protocols::{
    EthernetInterface, EthernetInterfacePatch, HmsType, IpAddressMapping, IpAddressPatch, MacAddr,
    Problem, Xname,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, QueryPairs, ReadMode};
use super::state::AppState;
use super::{Message, ResourceUri, deleted, now_rfc3339};
use crate::inventory::Command;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create, delete_all))
        .routes(routes!(get_one, patch_one, delete_one))
        .routes(routes!(list_ips, add_ip))
        .routes(routes!(patch_ip, delete_ip))
}

/// An interface id from a path: SMD's MAC-without-separators, or any MAC spelling.
fn iface_id(raw: &str) -> Result<String, ApiError> {
    Ok(MacAddr::parse(raw)
        .map_err(|e| ApiError::BadRequest(format!("interface id {raw:?}: {e}")))?
        .smd_id())
}

fn parse_ip(raw: &str) -> Result<IpAddr, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::BadRequest(format!("{raw:?} is not an IP address")))
}

struct IfaceFilter {
    macs: Vec<String>,
    ips: Vec<IpAddr>,
    networks: Vec<String>,
    components: Vec<Xname>,
    types: Vec<HmsType>,
}

impl IfaceFilter {
    fn parse(q: &QueryPairs) -> Result<Self, ApiError> {
        let mut f = IfaceFilter {
            macs: vec![],
            ips: vec![],
            networks: vec![],
            components: vec![],
            types: vec![],
        };
        for (k, v) in q.iter() {
            match k.to_ascii_lowercase().as_str() {
                "macaddress" => f.macs.push(MacAddr::parse(v)?.smd_id()),
                "ipaddress" => f.ips.push(parse_ip(v)?),
                "network" => f.networks.push(v.to_owned()),
                "componentid" => f.components.push(Xname::parse(v)?),
                "type" => f.types.push(
                    v.parse()
                        .map_err(|e| ApiError::BadRequest(format!("type: {e}")))?,
                ),
                "stale" => {}
                other => {
                    return Err(ApiError::BadRequest(format!(
                        "query parameter {other:?}: unknown filter"
                    )));
                }
            }
        }
        Ok(f)
    }

    fn matches(&self, i: &EthernetInterface) -> bool {
        (self.macs.is_empty() || self.macs.contains(&i.id))
            && (self.ips.is_empty()
                || i.ip_addresses
                    .iter()
                    .any(|m| self.ips.contains(&m.ip_address)))
            && (self.networks.is_empty()
                || i.ip_addresses.iter().any(|m| {
                    m.network
                        .as_ref()
                        .is_some_and(|n| self.networks.contains(n))
                }))
            && (self.components.is_empty()
                || i.component_id
                    .as_ref()
                    .is_some_and(|c| self.components.contains(c)))
            && (self.types.is_empty() || i.r#type.is_some_and(|t| self.types.contains(&t)))
    }
}

/// List Ethernet interfaces, filtered.
#[utoipa::path(get, path = "/hsm/v2/Inventory/EthernetInterfaces", tag = "ComponentEthernetInterfaces",
    params(("MACAddress" = Option<String>, Query), ("IPAddress" = Option<String>, Query),
        ("Network" = Option<String>, Query), ("ComponentID" = Option<String>, Query), ("Type" = Option<String>, Query),
        ("stale" = Option<bool>, Query)),
    responses((status = 200, body = Vec<EthernetInterface>), (status = 400, body = Problem)))]
async fn list(
    State(s): State<AppState>,
    mode: ReadMode,
    q: QueryPairs,
) -> Result<Json<Vec<EthernetInterface>>, ApiError> {
    let f = IfaceFilter::parse(&q)?;
    Ok(Json(
        s.read(mode, |inv| {
            inv.interfaces().filter(|i| f.matches(i)).cloned().collect()
        })
        .await?,
    ))
}

/// Create an Ethernet interface.
#[utoipa::path(post, path = "/hsm/v2/Inventory/EthernetInterfaces", tag = "ComponentEthernetInterfaces",
    request_body = EthernetInterface,
    responses((status = 201, body = ResourceUri), (status = 400, body = Problem), (status = 409, body = Problem)))]
async fn create(
    State(s): State<AppState>,
    ApiJson(mut iface): ApiJson<EthernetInterface>,
) -> Result<(StatusCode, Json<ResourceUri>), ApiError> {
    iface.normalize_id();
    iface.last_update = Some(now_rfc3339());
    let uri = format!("/hsm/v2/Inventory/EthernetInterfaces/{}", iface.id);
    s.submit(Command::CreateEthernetInterface(iface)).await?;
    Ok((StatusCode::CREATED, Json(ResourceUri { uri })))
}

/// Delete every Ethernet interface.
#[utoipa::path(delete, path = "/hsm/v2/Inventory/EthernetInterfaces", tag = "ComponentEthernetInterfaces",
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_all(State(s): State<AppState>) -> Result<Json<Message>, ApiError> {
    Ok(deleted(
        s.submit(Command::DeleteAllEthernetInterfaces).await?.count,
    ))
}

/// One Ethernet interface.
#[utoipa::path(get, path = "/hsm/v2/Inventory/EthernetInterfaces/{ethInterfaceID}", tag = "ComponentEthernetInterfaces",
    params(("ethInterfaceID" = String, Path)),
    responses((status = 200, body = EthernetInterface), (status = 404, body = Problem)))]
async fn get_one(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<EthernetInterface>, ApiError> {
    let id = iface_id(&id)?;
    s.read(mode, |inv| inv.interface(&id).cloned())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no Ethernet interface {id}")))
}

/// Change an interface's description, owner or addresses.
#[utoipa::path(patch, path = "/hsm/v2/Inventory/EthernetInterfaces/{ethInterfaceID}", tag = "ComponentEthernetInterfaces",
    params(("ethInterfaceID" = String, Path)), request_body = EthernetInterfacePatch,
    responses((status = 200, body = EthernetInterface), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_one(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(p): ApiJson<EthernetInterfacePatch>,
) -> Result<Json<EthernetInterface>, ApiError> {
    let id = iface_id(&id)?;
    s.submit(Command::PatchEthernetInterface {
        id: id.clone(),
        description: p.description,
        component_id: p.component_id,
        ip_addresses: p.ip_addresses,
        now: now_rfc3339(),
    })
    .await?;
    get_one(State(s), ReadMode::Linearizable, ApiPath(id)).await
}

/// Delete one Ethernet interface.
#[utoipa::path(delete, path = "/hsm/v2/Inventory/EthernetInterfaces/{ethInterfaceID}", tag = "ComponentEthernetInterfaces",
    params(("ethInterfaceID" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_one(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Message>, ApiError> {
    Ok(deleted(
        s.submit(Command::DeleteEthernetInterface(iface_id(&id)?))
            .await?
            .count,
    ))
}

/// An interface's IP addresses.
#[utoipa::path(get, path = "/hsm/v2/Inventory/EthernetInterfaces/{ethInterfaceID}/IPAddresses", tag = "ComponentEthernetInterfaces",
    params(("ethInterfaceID" = String, Path)),
    responses((status = 200, body = Vec<IpAddressMapping>), (status = 404, body = Problem)))]
async fn list_ips(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<IpAddressMapping>>, ApiError> {
    let Json(iface) = get_one(State(s), mode, ApiPath(id)).await?;
    Ok(Json(iface.ip_addresses))
}

/// Add an IP address to an interface.
#[utoipa::path(post, path = "/hsm/v2/Inventory/EthernetInterfaces/{ethInterfaceID}/IPAddresses", tag = "ComponentEthernetInterfaces",
    params(("ethInterfaceID" = String, Path)), request_body = IpAddressMapping,
    responses((status = 201, body = ResourceUri), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn add_ip(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(mapping): ApiJson<IpAddressMapping>,
) -> Result<(StatusCode, Json<ResourceUri>), ApiError> {
    let id = iface_id(&id)?;
    let uri = format!(
        "/hsm/v2/Inventory/EthernetInterfaces/{id}/IPAddresses/{}",
        mapping.ip_address
    );
    s.submit(Command::AddIpAddress {
        id,
        mapping,
        now: now_rfc3339(),
    })
    .await?;
    Ok((StatusCode::CREATED, Json(ResourceUri { uri })))
}

/// Change the network name of one address.
#[utoipa::path(patch, path = "/hsm/v2/Inventory/EthernetInterfaces/{ethInterfaceID}/IPAddresses/{ipAddress}", tag = "ComponentEthernetInterfaces",
    params(("ethInterfaceID" = String, Path), ("ipAddress" = String, Path)), request_body = IpAddressPatch,
    responses((status = 200, body = IpAddressMapping), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn patch_ip(
    State(s): State<AppState>,
    ApiPath((id, ip)): ApiPath<(String, String)>,
    ApiJson(p): ApiJson<IpAddressPatch>,
) -> Result<Json<IpAddressMapping>, ApiError> {
    let (id, ip) = (iface_id(&id)?, parse_ip(&ip)?);
    s.submit(Command::SetIpNetwork {
        id,
        ip,
        network: p.network.clone(),
        now: now_rfc3339(),
    })
    .await?;
    Ok(Json(IpAddressMapping {
        ip_address: ip,
        network: p.network,
    }))
}

/// Remove one address from an interface.
#[utoipa::path(delete, path = "/hsm/v2/Inventory/EthernetInterfaces/{ethInterfaceID}/IPAddresses/{ipAddress}", tag = "ComponentEthernetInterfaces",
    params(("ethInterfaceID" = String, Path), ("ipAddress" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn delete_ip(
    State(s): State<AppState>,
    ApiPath((id, ip)): ApiPath<(String, String)>,
) -> Result<Json<Message>, ApiError> {
    let (id, ip) = (iface_id(&id)?, parse_ip(&ip)?);
    Ok(deleted(
        s.submit(Command::DeleteIpAddress {
            id,
            ip,
            now: now_rfc3339(),
        })
        .await?
        .count,
    ))
}
