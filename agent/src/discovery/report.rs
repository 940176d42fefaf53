//! Turning a crawl into the [`EndpointDiscovery`] reported to the coordinator.
//!
//! Found: Components (the BMC, `Ready`; its nodes `<bmc>n<i>`, `On`/`Off` from PowerState, or
//! `Populated` when unknown, with `Arch` when the processor model makes it evident),
//! ComponentEndpoints (the BMC's Manager and each node's ComputerSystem, with the reset action
//! exactly as declared) and EthernetInterfaces (the BMC's MAC with the IP it was reached at,
//! then every node MAC; one record per MAC). Discovery reports facts only: `Enabled`, `Role`
//! and `NID` are left to the operator and the coordinator.
//!
//! The BMC's own MAC is, among the Manager interfaces (the first `ManagerType: BMC` manager's
//! first): the one whose IPv4 address is the address discovery reached, else the first enabled
//! one with a routable IPv4 address, else the first enabled one with a MAC.

use std::net::IpAddr;
use std::time::SystemTime;

use cairn_protocols::{
    Component, ComponentEndpoint, ComponentEndpointType, ComputerSystemActions, DiscoveryInfo,
    DiscoveryOutcome, DiscoveryStatus, EndpointDiscovery, EthernetInterface, EthernetNicInfo,
    HmsArch, HmsFlag, HmsState, IpAddressMapping, MacAddr, ManagerActions, RedfishEndpoint,
    RedfishManagerInfo, RedfishSystemInfo, ResetAction, Xname,
};

use super::NamedTarget;
use super::crawl::CrawlError;
use super::inventory::{BmcInventory, ManagerInventory, NicInventory, ResetInfo, SystemInventory};

/// The report for `target`, crawled at `attempted`.
pub fn build(
    target: &NamedTarget,
    crawled: Result<BmcInventory, CrawlError>,
    attempted: SystemTime,
) -> EndpointDiscovery {
    let at = humantime::format_rfc3339_seconds(attempted).to_string();
    match crawled {
        Ok(inventory) => match found(target, &inventory, &at) {
            Ok(d) => d,
            Err(detail) => failed(
                target,
                DiscoveryStatus::ChildVerificationFailed,
                detail,
                &at,
            ),
        },
        Err(e) => failed(target, e.discovery_status(), e.detail(), &at),
    }
}

/// A failure report: only the endpoint and its `DiscoveryInfo`.
pub fn failed(
    target: &NamedTarget,
    status: DiscoveryStatus,
    detail: String,
    at: &str,
) -> EndpointDiscovery {
    let mut endpoint = base_endpoint(target);
    endpoint.discovery_info = Some(DiscoveryInfo {
        last_discovery_attempt: Some(at.to_owned()),
        last_discovery_status: Some(status.as_str().to_owned()),
        redfish_version: None,
        last_discovery_detail: None,
    });
    EndpointDiscovery {
        endpoint,
        outcome: DiscoveryOutcome::failed(status, detail),
    }
}

fn base_endpoint(target: &NamedTarget) -> RedfishEndpoint {
    let mut endpoint = RedfishEndpoint::new(target.xname.clone());
    endpoint.fqdn = Some(target.address.fqdn());
    endpoint.ip_address = target.address.ip();
    endpoint
}

fn found(target: &NamedTarget, inv: &BmcInventory, at: &str) -> Result<EndpointDiscovery, String> {
    let bmc = &target.xname;
    let fqdn = target.address.fqdn();
    let reached = target.address.ip();
    let manager = primary_manager(&inv.managers);
    let bmc_nic = manager.and_then(|m| bmc_interface(m, &inv.managers, reached));

    let mut components = vec![bmc_component(bmc)];
    let mut endpoints = Vec::new();
    let mut interfaces: Vec<EthernetInterface> = Vec::new();
    interfaces.extend(bmc_nic.and_then(|nic| interface(nic, bmc, reached)));
    if let Some(m) = manager {
        endpoints.push(manager_endpoint(bmc, &fqdn, m, bmc_nic));
    }
    for (i, system) in inv.systems.iter().enumerate() {
        let number = u32::try_from(i).unwrap_or(u32::MAX);
        let node = bmc.child('n', number).map_err(|e| {
            format!(
                "{bmc} is a {}: system {} cannot be named as a node ({e})",
                bmc.hms_type(),
                system.odata_id
            )
        })?;
        components.push(node_component(&node, system));
        endpoints.push(system_endpoint(bmc, &node, &fqdn, system));
        interfaces.extend(
            system
                .interfaces
                .iter()
                .filter_map(|n| interface(n, &node, None)),
        );
    }
    // One record per MAC (NICs listed twice, VLAN interfaces): the first owner keeps it.
    let mut seen = std::collections::HashSet::new();
    interfaces.retain(|e| seen.insert(e.mac_address));

    let mut endpoint = base_endpoint(target);
    endpoint.uuid = inv.uuid.clone();
    endpoint.mac_addr = bmc_nic.and_then(|n| n.mac);
    endpoint.discovery_info = Some(DiscoveryInfo {
        last_discovery_attempt: Some(at.to_owned()),
        last_discovery_status: Some(DiscoveryStatus::DiscoverOk.as_str().to_owned()),
        redfish_version: inv.redfish_version.clone(),
        last_discovery_detail: None,
    });
    Ok(EndpointDiscovery {
        endpoint,
        outcome: DiscoveryOutcome::Found {
            components,
            component_endpoints: endpoints,
            interfaces,
        },
    })
}

fn bmc_component(bmc: &Xname) -> Component {
    let mut c = Component::new(bmc.clone()).with_state(HmsState::Ready);
    c.flag = Some(HmsFlag::Ok);
    c
}

fn node_component(node: &Xname, system: &SystemInventory) -> Component {
    let mut c = Component::new(node.clone()).with_state(power_state(system.power_state.as_deref()));
    c.flag = Some(HmsFlag::Ok);
    c.arch = system.processor_model.as_deref().and_then(arch);
    c
}

/// Redfish PowerState → HMS state: a transition counts as the state it leaves.
pub fn power_state(power: Option<&str>) -> HmsState {
    match power {
        Some(p) if p.eq_ignore_ascii_case("On") || p.eq_ignore_ascii_case("PoweringOff") => {
            HmsState::On
        }
        Some(p) if p.eq_ignore_ascii_case("Off") || p.eq_ignore_ascii_case("PoweringOn") => {
            HmsState::Off
        }
        _ => HmsState::Populated,
    }
}

/// The architecture a processor model names, if it names one.
pub fn arch(model: &str) -> Option<HmsArch> {
    const X86: &[&str] = &["intel", "xeon", "amd", "epyc", "opteron", "x86", "x86_64"];
    const ARM: &[&str] = &[
        "arm", "aarch64", "ampere", "altra", "neoverse", "grace", "thunderx", "a64fx", "kunpeng",
    ];
    let lower = model.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let has = |names: &[&str]| words.iter().any(|w| names.contains(w));
    match (has(X86), has(ARM)) {
        (true, false) => Some(HmsArch::X86),
        (false, true) => Some(HmsArch::Arm),
        _ => None,
    }
}

fn primary_manager(managers: &[ManagerInventory]) -> Option<&ManagerInventory> {
    managers
        .iter()
        .find(|m| {
            m.manager_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("BMC"))
        })
        .or_else(|| managers.first())
}

fn bmc_interface<'a>(
    primary: &'a ManagerInventory,
    all: &'a [ManagerInventory],
    reached: Option<IpAddr>,
) -> Option<&'a NicInventory> {
    let candidates: Vec<&NicInventory> = primary
        .interfaces
        .iter()
        .chain(
            all.iter()
                .filter(|m| m.odata_id != primary.odata_id)
                .flat_map(|m| &m.interfaces),
        )
        .filter(|n| n.mac.is_some())
        .collect();
    let matching = candidates.iter().find(|n| match reached {
        Some(IpAddr::V4(ip)) => n.ipv4.contains(&ip),
        _ => false,
    });
    let routable = || {
        candidates.iter().find(|n| {
            n.is_enabled()
                && n.ipv4
                    .iter()
                    .any(|ip| !ip.is_link_local() && !ip.is_loopback())
        })
    };
    let enabled = || candidates.iter().find(|n| n.is_enabled());
    matching.or_else(routable).or_else(enabled).copied()
}

fn interface(nic: &NicInventory, owner: &Xname, ip: Option<IpAddr>) -> Option<EthernetInterface> {
    let mac: MacAddr = nic.mac?;
    let mut e = EthernetInterface::new(mac);
    e.component_id = Some(owner.clone());
    e.r#type = Some(owner.hms_type());
    e.description = nic
        .description
        .clone()
        .or_else(|| nic.name.clone())
        .filter(|d| !d.trim().is_empty());
    e.ip_addresses = ip
        .map(|ip| IpAddressMapping {
            ip_address: ip,
            network: None,
        })
        .into_iter()
        .collect();
    Some(e)
}

fn nic_info(nic: &NicInventory) -> EthernetNicInfo {
    EthernetNicInfo {
        redfish_id: nic.id.clone(),
        odata_id: Some(nic.odata_id.clone()),
        description: nic.description.clone(),
        fqdn: nic.fqdn.clone(),
        hostname: nic.host_name.clone(),
        interface_enabled: nic.enabled,
        mac_address: nic.mac_address.clone(),
        permanent_mac_address: nic.permanent_mac_address.clone(),
    }
}

fn reset_action(reset: &ResetInfo) -> ResetAction {
    ResetAction {
        allowable_values: reset.allowable_values.clone(),
        target: reset.target.clone(),
        action_info: reset.action_info.clone(),
    }
}

fn endpoint_base(
    id: &Xname,
    bmc: &Xname,
    fqdn: &str,
    kind: ComponentEndpointType,
    redfish_type: &str,
    odata_id: &str,
) -> ComponentEndpoint {
    ComponentEndpoint {
        r#type: Some(id.hms_type()),
        id: id.clone(),
        domain: None,
        fqdn: None,
        redfish_type: Some(redfish_type.to_owned()),
        redfish_subtype: None,
        enabled: Some(true),
        component_endpoint_type: kind,
        mac_addr: None,
        uuid: None,
        odata_id: Some(odata_id.to_owned()),
        redfish_endpoint_id: Some(bmc.clone()),
        redfish_endpoint_fqdn: Some(fqdn.to_owned()),
        redfish_url: Some(format!("{fqdn}{odata_id}")),
        redfish_system_info: None,
        redfish_manager_info: None,
        redfish_chassis_info: None,
        redfish_pdu_info: None,
        redfish_outlet_info: None,
    }
}

fn manager_endpoint(
    bmc: &Xname,
    fqdn: &str,
    m: &ManagerInventory,
    nic: Option<&NicInventory>,
) -> ComponentEndpoint {
    let mut ce = endpoint_base(
        bmc,
        bmc,
        fqdn,
        ComponentEndpointType::Manager,
        "Manager",
        &m.odata_id,
    );
    ce.redfish_subtype = m.manager_type.clone();
    ce.uuid = m.uuid.clone();
    ce.mac_addr = nic.and_then(|n| n.mac);
    ce.redfish_manager_info = Some(RedfishManagerInfo {
        name: m.name.clone(),
        actions: m.reset.as_ref().map(|r| ManagerActions {
            reset: Some(reset_action(r)),
        }),
        ethernet_nic_info: m.interfaces.iter().map(nic_info).collect(),
    });
    ce
}

fn system_endpoint(
    bmc: &Xname,
    node: &Xname,
    fqdn: &str,
    s: &SystemInventory,
) -> ComponentEndpoint {
    let mut ce = endpoint_base(
        node,
        bmc,
        fqdn,
        ComponentEndpointType::ComputerSystem,
        "ComputerSystem",
        &s.odata_id,
    );
    ce.redfish_subtype = s.system_type.clone();
    ce.uuid = s.uuid.clone();
    ce.mac_addr = s.interfaces.iter().find_map(|n| n.mac);
    ce.redfish_system_info = Some(RedfishSystemInfo {
        name: s.name.clone(),
        actions: s.reset.as_ref().map(|r| ComputerSystemActions {
            reset: Some(reset_action(r)),
        }),
        ethernet_nic_info: s.interfaces.iter().map(nic_info).collect(),
        power_url: s.power_url.clone(),
        power_control: Vec::new(),
    });
    ce
}

#[cfg(test)]
mod tests;
