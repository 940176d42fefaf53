//! Ethernet interfaces and Redfish endpoints, including the atomic registration of everything
//! discovered behind a BMC.

use cairn_protocols::{Component, ComponentEndpoint, EthernetInterface, RedfishEndpoint, Xname};

use super::apply::upsert_components;
use super::command::ApplyError;
use super::state::Inventory;

pub(super) fn create_interface(
    inv: &mut Inventory,
    mut iface: EthernetInterface,
) -> Result<usize, ApplyError> {
    if inv.interfaces.contains_key(&iface.id) {
        return Err(ApplyError::Conflict(format!(
            "Ethernet interface {} ({}) already exists",
            iface.id, iface.mac_address
        )));
    }
    iface.r#type = iface.component_id.as_ref().map(Xname::hms_type);
    inv.interfaces.insert(iface.id.clone(), iface);
    Ok(1)
}

pub(super) fn interface_mut<'a>(
    inv: &'a mut Inventory,
    id: &str,
) -> Result<&'a mut EthernetInterface, ApplyError> {
    inv.interfaces
        .get_mut(id)
        .ok_or_else(|| ApplyError::NotFound(format!("no Ethernet interface {id}")))
}

pub(super) fn create_endpoints(
    inv: &mut Inventory,
    endpoints: Vec<RedfishEndpoint>,
) -> Result<usize, ApplyError> {
    for ep in &endpoints {
        if inv.redfish_endpoints.contains_key(&ep.id) {
            return Err(ApplyError::Conflict(format!(
                "Redfish endpoint {} already exists",
                ep.id
            )));
        }
    }
    let n = endpoints.len();
    for ep in endpoints {
        inv.redfish_endpoints.insert(ep.id.clone(), ep);
    }
    Ok(n)
}

pub(super) fn register_endpoint(
    inv: &mut Inventory,
    endpoint: RedfishEndpoint,
    components: Vec<Component>,
    component_endpoints: Vec<ComponentEndpoint>,
    interfaces: Vec<EthernetInterface>,
    replace: bool,
) -> Result<usize, ApplyError> {
    if !replace && inv.redfish_endpoints.contains_key(&endpoint.id) {
        return Err(ApplyError::Conflict(format!(
            "Redfish endpoint {} already exists (use PUT to update it)",
            endpoint.id
        )));
    }
    let n = 1 + components.len() + component_endpoints.len() + interfaces.len();
    inv.redfish_endpoints.insert(endpoint.id.clone(), endpoint);
    // Rediscovery updates what discovery owns and keeps what operators set (role, NID...).
    upsert_components(inv, components, true)?;
    for ce in component_endpoints {
        inv.component_endpoints.insert(ce.id.clone(), ce);
    }
    merge_interfaces(inv, interfaces);
    Ok(n)
}

/// Discovered interfaces: new MACs are created; known ones get their new owner and any new
/// address, and keep their description and the addresses operators added.
pub(super) fn merge_interfaces(inv: &mut Inventory, interfaces: Vec<EthernetInterface>) {
    for mut iface in interfaces {
        iface.r#type = iface.component_id.as_ref().map(Xname::hms_type);
        match inv.interfaces.get_mut(&iface.id) {
            Some(existing) => {
                existing.component_id = iface.component_id;
                existing.r#type = iface.r#type;
                if existing.description.is_none() {
                    existing.description = iface.description;
                }
                for m in iface.ip_addresses {
                    if !existing
                        .ip_addresses
                        .iter()
                        .any(|e| e.ip_address == m.ip_address)
                    {
                        existing.ip_addresses.push(m);
                    }
                }
                existing.last_update = iface.last_update;
            }
            None => {
                inv.interfaces.insert(iface.id.clone(), iface);
            }
        }
    }
}
