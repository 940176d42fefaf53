//! Applying one BMC's discovery result (already validated by
//! `EndpointDiscovery::validate`): `Found` replaces what discovery owns behind the BMC and
//! keeps what operators set; `Failed` records the status and nothing else, so a BMC with bad
//! credentials never leaves half-registered nodes (OpenCHAMI magellan#10).

use std::net::{IpAddr, SocketAddr};

use cairn_protocols::{
    Component, DiscoveryInfo, DiscoveryOutcome, EndpointDiscovery, HmsFlag, HmsState,
    RedfishEndpoint,
};

use super::apply_endpoints::merge_interfaces;
use super::state::Inventory;

/// Applies infallibly: every check ran before the report was proposed, so nothing can leave a
/// report half-applied. Returns how many records changed.
pub(super) fn apply_discovery(inv: &mut Inventory, d: EndpointDiscovery) -> usize {
    let EndpointDiscovery {
        endpoint: mut found,
        outcome,
    } = d;
    let bmc = found.id.clone();
    found.r#type = Some(bmc.hms_type());
    // Never from a report, but credentials must not come from anywhere but an operator.
    found.user = None;
    found.password = None;
    let (components, component_endpoints, interfaces) = match outcome {
        DiscoveryOutcome::Failed { detail, .. } => {
            let info = found.discovery_info.get_or_insert_with(Default::default);
            info.last_discovery_detail = Some(detail);
            match inv.redfish_endpoints.get_mut(&bmc) {
                Some(ep) => ep.discovery_info = merge_info(ep.discovery_info.take(), found),
                None => {
                    found.enabled = found.enabled.or(Some(true));
                    inv.redfish_endpoints.insert(bmc, found);
                }
            }
            return 1;
        }
        DiscoveryOutcome::Found {
            components,
            component_endpoints,
            interfaces,
        } => {
            if let Some(info) = &mut found.discovery_info {
                info.last_discovery_detail = None;
            }
            (components, component_endpoints, interfaces)
        }
    };
    let n = 1 + components.len() + component_endpoints.len() + interfaces.len();
    let endpoint = match inv.redfish_endpoints.remove(&bmc) {
        Some(old) => merge_endpoint(old, found),
        None => RedfishEndpoint {
            enabled: found.enabled.or(Some(true)),
            ..found
        },
    };
    inv.redfish_endpoints.insert(bmc.clone(), endpoint);
    for c in components {
        merge_component(inv, c);
    }
    // The BMC's systems and managers are exactly what this crawl found: a system that is gone
    // loses its endpoint (its component and interfaces stay, as in SMD).
    inv.component_endpoints.retain(|id, ce| {
        ce.redfish_endpoint_id.as_ref() != Some(&bmc)
            || component_endpoints.iter().any(|n| &n.id == id)
    });
    for ce in component_endpoints {
        inv.component_endpoints.insert(ce.id.clone(), ce);
    }
    merge_interfaces(inv, interfaces);
    n
}

/// A failed crawl keeps the Redfish version learnt by an earlier successful one.
fn merge_info(old: Option<DiscoveryInfo>, found: RedfishEndpoint) -> Option<DiscoveryInfo> {
    let mut info = found.discovery_info.unwrap_or_default();
    if info.redfish_version.is_none() {
        info.redfish_version = old.and_then(|o| o.redfish_version);
    }
    Some(info)
}

/// Whether an FQDN is an address (which discovery refreshes) rather than a name an operator
/// chose (which it keeps).
fn is_address(fqdn: &str) -> bool {
    let host = fqdn
        .split_once("://")
        .map_or(fqdn, |(_, rest)| rest)
        .trim_end_matches('/');
    host.parse::<IpAddr>().is_ok() || host.parse::<SocketAddr>().is_ok()
}

/// Discovery owns the identity it observed (UUID, MAC, address, DiscoveryInfo); operators own
/// credentials and settings (User, Password, Enabled, UseSSDP, MACRequired,
/// RediscoverOnUpdate, TemplateID) and the names they gave.
fn merge_endpoint(old: RedfishEndpoint, found: RedfishEndpoint) -> RedfishEndpoint {
    let refresh_fqdn = old.fqdn.as_deref().is_none_or(is_address);
    RedfishEndpoint {
        id: old.id,
        r#type: found.r#type,
        name: old.name.or(found.name),
        hostname: old.hostname.or(found.hostname),
        domain: old.domain.or(found.domain),
        fqdn: if refresh_fqdn {
            found.fqdn.or(old.fqdn)
        } else {
            old.fqdn
        },
        enabled: old.enabled,
        uuid: found.uuid.or(old.uuid),
        user: old.user,
        password: old.password,
        use_ssdp: old.use_ssdp,
        mac_required: old.mac_required,
        mac_addr: found.mac_addr.or(old.mac_addr),
        ip_address: found.ip_address.or(old.ip_address),
        rediscover_on_update: old.rediscover_on_update,
        template_id: old.template_id,
        discovery_info: found.discovery_info,
    }
}

/// A rediscovered component keeps Role, SubRole, NID, Enabled and SoftwareStatus; discovery
/// updates what it observes. A node reported On that is Ready (or Standby, Halt) stays so:
/// those states imply power.
fn merge_component(inv: &mut Inventory, mut c: Component) {
    let Some(existing) = inv.components.get_mut(&c.id) else {
        c.r#type = Some(c.id.hms_type());
        c.flag = c.flag.or(Some(HmsFlag::Ok));
        c.enabled = c.enabled.or(Some(true));
        inv.components.insert(c.id.clone(), c);
        return;
    };
    existing.r#type = Some(c.id.hms_type());
    existing.state = match (existing.state, c.state) {
        (Some(s @ (HmsState::Ready | HmsState::Standby | HmsState::Halt)), Some(HmsState::On)) => {
            Some(s)
        }
        (old, new) => new.or(old),
    };
    existing.flag = c.flag.or(existing.flag);
    existing.subtype = c.subtype.or(existing.subtype.take());
    existing.net_type = c.net_type.or(existing.net_type);
    existing.arch = c.arch.or(existing.arch);
    existing.class = c.class.or(existing.class);
}
