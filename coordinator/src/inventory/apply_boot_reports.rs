//! How the boot-serving items of an agent's report change the inventory: boot steps served,
//! MACs seen by the rack's DHCP, addresses the rack gave known nodes, and phone-homes the
//! agent received while it served cloud-init.

use cairn_protocols::agent::{LeaseAssigned, MacSeen, PhoneHomeReport};
use cairn_protocols::{EthernetInterface, HmsType, IpAddressMapping};

use super::apply_boot::record_phone_home;
use super::index::interface_key;
use super::state::Inventory;

/// An unknown MAC becomes an EthernetInterface without a ComponentID, as SMD keeps the MACs
/// its DHCP sees, so an operator can find it and assign it. A MAC already known is left alone
/// (the agent only reports MACs its desired state lacked; the inventory may have learnt it
/// since).
pub(super) fn apply_mac_seen(inv: &mut Inventory, agent: &str, m: MacSeen) -> usize {
    let key = interface_key(&m.mac);
    if inv.interfaces.contains_key(&key) {
        return 0;
    }
    let mut iface = EthernetInterface::new(m.mac);
    iface.description = Some(match &m.vendor_class {
        Some(class) => format!("seen by DHCP on rack agent {agent} ({class})"),
        None => format!("seen by DHCP on rack agent {agent}"),
    });
    iface.ip_addresses =
        m.ip.map(|ip| IpAddressMapping {
            ip_address: ip,
            network: None,
        })
        .into_iter()
        .collect();
    iface.last_update = Some(crate::clock::rfc3339_ms(m.at_ms));
    inv.interfaces.insert(key, iface);
    1
}

/// The address the rack gave a known node becomes the interface's, so every agent (and this
/// one after a restart) gives the same. Ignored when the interface has an IPv4 address by
/// now (an operator's choice wins) or belongs to another node.
pub(super) fn apply_lease(inv: &mut Inventory, l: LeaseAssigned) -> usize {
    let Some(iface) = inv.interfaces.get_mut(&interface_key(&l.mac)) else {
        return 0;
    };
    let owner_ok =
        iface.component_id.as_ref() == Some(&l.xname) && l.xname.hms_type() == HmsType::Node;
    if !owner_ok || iface.ip_addresses.iter().any(|m| m.ip_address.is_ipv4()) {
        return 0;
    }
    iface.ip_addresses.push(IpAddressMapping {
        ip_address: l.ip,
        network: None,
    });
    iface.last_update = Some(crate::clock::rfc3339_ms(l.at_ms));
    1
}

/// A phone-home the agent received, stored as if the node had posted it to a replica.
pub(super) fn apply_phone_home(inv: &mut Inventory, p: PhoneHomeReport) -> usize {
    record_phone_home(inv, p.xname, p.report, crate::clock::rfc3339_ms(p.at_ms));
    1
}
