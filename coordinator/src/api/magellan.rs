//! Turning Magellan's `SchemaVersion: 1` payload into the records SMD creates from it: the
//! BMC's and nodes' Components, their ComponentEndpoints and EthernetInterfaces. Done before
//! proposing, so the replicated command is plain data and `apply` stays simple.

use cairn_protocols::{
    Component, ComponentEndpoint, ComponentEndpointType, ComputerSystemActions, EthernetInterface,
    EthernetNicInfo, HmsFlag, HmsState, IpAddressMapping, MagellanEndpoint,
    MagellanEthernetInterface, RedfishEndpoint, RedfishSystemInfo, ResetAction, Xname,
};

use super::error::ApiError;
use crate::inventory::Command;

/// The path part of a Redfish URI (`https://bmc/redfish/v1/Systems/1` → `/redfish/v1/Systems/1`).
fn odata_id(uri: &str) -> String {
    match uri.find("/redfish/") {
        Some(i) => uri[i..].trim_end_matches('/').to_owned(),
        None => uri.to_owned(),
    }
}

fn interfaces(
    list: &[MagellanEthernetInterface],
    owner: &Xname,
    at: &str,
    now: &str,
) -> Result<Vec<EthernetInterface>, ApiError> {
    let mut out = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let Some(mac) = e.mac_addr() else { continue };
        let mac = mac.map_err(|err| {
            ApiError::BadRequest(format!("{at}.ethernet_interfaces[{i}].mac: {err}"))
        })?;
        let mut iface = EthernetInterface::new(mac);
        iface.component_id = Some(owner.clone());
        iface.description = e
            .description
            .clone()
            .or_else(|| e.name.clone())
            .filter(|d| !d.is_empty());
        iface.last_update = Some(now.to_owned());
        if let Some(ip) = e.ip.as_deref().map(str::trim).filter(|ip| !ip.is_empty()) {
            let ip = ip.parse().map_err(|_| {
                ApiError::BadRequest(format!(
                    "{at}.ethernet_interfaces[{i}].ip: {ip:?} is not an IP address"
                ))
            })?;
            iface.ip_addresses.push(IpAddressMapping {
                ip_address: ip,
                network: None,
            });
        }
        out.push(iface);
    }
    Ok(out)
}

fn component_endpoint(
    id: &Xname,
    bmc: &Xname,
    kind: ComponentEndpointType,
    fqdn: &str,
    odata: Option<String>,
) -> ComponentEndpoint {
    ComponentEndpoint {
        r#type: Some(id.hms_type()),
        id: id.clone(),
        domain: None,
        fqdn: Some(fqdn.to_owned()),
        redfish_type: Some(
            match kind {
                ComponentEndpointType::Manager => "Manager",
                ComponentEndpointType::Chassis => "Chassis",
                _ => "ComputerSystem",
            }
            .to_owned(),
        ),
        redfish_subtype: None,
        enabled: Some(true),
        component_endpoint_type: kind,
        mac_addr: None,
        uuid: None,
        redfish_url: odata.as_ref().map(|o| format!("{fqdn}{o}")),
        odata_id: odata,
        redfish_endpoint_id: Some(bmc.clone()),
        redfish_endpoint_fqdn: Some(fqdn.to_owned()),
        redfish_system_info: None,
        redfish_manager_info: None,
        redfish_chassis_info: None,
        redfish_pdu_info: None,
        redfish_outlet_info: None,
    }
}

/// Build the atomic registration command for a Magellan payload.
pub(super) fn register(m: MagellanEndpoint, replace: bool, now: &str) -> Result<Command, ApiError> {
    let mut endpoint: RedfishEndpoint = m.endpoint;
    let bmc = endpoint.id.clone();
    endpoint.r#type = Some(bmc.hms_type());
    let fqdn = endpoint
        .fqdn
        .clone()
        .or_else(|| endpoint.ip_address.map(|ip| ip.to_string()))
        .unwrap_or_default();
    endpoint.discovery_info = Some(cairn_protocols::DiscoveryInfo {
        last_discovery_attempt: Some(now.to_owned()),
        last_discovery_status: Some("DiscoverOK".into()),
        redfish_version: endpoint.discovery_info.and_then(|d| d.redfish_version),
        last_discovery_detail: None,
    });

    let mut components = vec![Component::new(bmc.clone()).with_state(HmsState::Ready)];
    let mut endpoints = Vec::new();
    let mut ifaces = Vec::new();
    for (i, sys) in m.systems.iter().enumerate() {
        let at = format!("Systems[{i}]");
        let node = bmc
            .child('n', u32::try_from(i).unwrap_or(u32::MAX))
            .map_err(|e| {
                ApiError::BadRequest(format!("{at}: BMC {bmc} cannot hold node {i}: {e}"))
            })?;
        let state = match sys.power.as_ref().and_then(|p| p.state.as_deref()) {
            Some(s) if s.eq_ignore_ascii_case("on") => HmsState::On,
            Some(s) if s.eq_ignore_ascii_case("off") => HmsState::Off,
            _ => HmsState::Populated,
        };
        let mut c = Component::new(node.clone()).with_state(state);
        c.flag = Some(HmsFlag::Ok);
        c.enabled = Some(true);
        components.push(c);

        let odata = sys.uri.as_deref().map(odata_id).unwrap_or_default();
        let sys_ifaces = interfaces(&sys.ethernet_interfaces, &node, &at, now)?;
        let mut ce = component_endpoint(
            &node,
            &bmc,
            ComponentEndpointType::ComputerSystem,
            &fqdn,
            Some(odata.clone()),
        );
        ce.uuid = sys.uuid.clone();
        ce.mac_addr = sys_ifaces.first().map(|e| e.mac_address);
        ce.redfish_system_info = Some(RedfishSystemInfo {
            name: sys.name.clone(),
            actions: Some(ComputerSystemActions {
                reset: Some(ResetAction {
                    allowable_values: sys.actions.clone(),
                    target: format!("{odata}/Actions/ComputerSystem.Reset"),
                    action_info: None,
                }),
            }),
            ethernet_nic_info: sys
                .ethernet_interfaces
                .iter()
                .map(|e| EthernetNicInfo {
                    redfish_id: e.name.clone(),
                    odata_id: e.uri.as_deref().map(odata_id),
                    description: e.description.clone(),
                    interface_enabled: e.enabled,
                    mac_address: e.mac.clone(),
                    ..EthernetNicInfo::default()
                })
                .collect(),
            power_url: sys
                .power
                .as_ref()
                .and_then(|p| p.power_control_ids.first())
                .map(|p| odata_id(p)),
            power_control: Vec::new(),
        });
        endpoints.push(ce);
        ifaces.extend(sys_ifaces);
    }
    for (i, mgr) in m.managers.iter().enumerate() {
        ifaces.extend(interfaces(
            &mgr.ethernet_interfaces,
            &bmc,
            &format!("Managers[{i}]"),
            now,
        )?);
        if i == 0 {
            let mut ce = component_endpoint(
                &bmc,
                &bmc,
                ComponentEndpointType::Manager,
                &fqdn,
                mgr.uri.as_deref().map(odata_id),
            );
            ce.uuid = mgr.uuid.clone();
            endpoints.push(ce);
        }
    }
    // A MAC seen twice in one payload (a shared NIC) is one interface.
    ifaces.sort_by(|a, b| a.id.cmp(&b.id));
    ifaces.dedup_by(|a, b| a.id == b.id);
    Ok(Command::RegisterEndpoint {
        endpoint,
        components,
        component_endpoints: endpoints,
        interfaces: ifaces,
        replace,
    })
}
