//! What a crawl learned about one BMC, in Redfish terms (naming and SMD records come later).

use std::cmp::Ordering;
use std::net::Ipv4Addr;

use cairn_protocols::MacAddr;

use crate::redfish::model;

/// Everything discovery read from one BMC.
#[derive(Debug, Clone, PartialEq)]
pub struct BmcInventory {
    /// The service root's `RedfishVersion`.
    pub redfish_version: Option<String>,
    /// The service root's `UUID`.
    pub uuid: Option<String>,
    /// The service root's `Vendor`.
    pub vendor: Option<String>,
    /// The service root's `Product`.
    pub product: Option<String>,
    /// The systems (nodes), in node order (see [`node_order`]).
    pub systems: Vec<SystemInventory>,
    /// The managers, in collection order.
    pub managers: Vec<ManagerInventory>,
    /// The chassis that could be read, in collection order.
    pub chassis: Vec<ChassisInventory>,
}

/// A reset action as declared, with the allowed values resolved through `@Redfish.ActionInfo`
/// when the BMC does not list them inline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetInfo {
    /// Where to POST.
    pub target: String,
    /// Allowed `ResetType` values, exactly as declared (empty when the BMC does not say).
    pub allowable_values: Vec<String>,
    /// The `@Redfish.ActionInfo` link, if the BMC gave one.
    pub action_info: Option<String>,
}

/// One Ethernet interface of a system or manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicInventory {
    /// Resource path.
    pub odata_id: String,
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `MACAddress` as reported.
    pub mac_address: Option<String>,
    /// `PermanentMACAddress` as reported.
    pub permanent_mac_address: Option<String>,
    /// The usable MAC: `MACAddress`, else `PermanentMACAddress`, if valid and not all-zero or
    /// broadcast.
    pub mac: Option<MacAddr>,
    /// `InterfaceEnabled`.
    pub enabled: Option<bool>,
    /// `Status.State`.
    pub state: Option<String>,
    /// Valid, non-zero IPv4 addresses (`IPv4Addresses`, then `IPv4StaticAddresses`).
    pub ipv4: Vec<Ipv4Addr>,
    /// `HostName`.
    pub host_name: Option<String>,
    /// `FQDN`.
    pub fqdn: Option<String>,
}

impl NicInventory {
    /// From the decoded resource found at `odata_id`.
    pub fn from_model(odata_id: &str, e: model::EthernetInterface) -> NicInventory {
        let mac = [&e.mac_address, &e.permanent_mac_address]
            .into_iter()
            .flatten()
            .find_map(|text| usable_mac(text));
        let ipv4 = e
            .ipv4_addresses
            .iter()
            .chain(&e.ipv4_static_addresses)
            .filter_map(|a| a.address.as_deref()?.trim().parse::<Ipv4Addr>().ok())
            .filter(|ip| !ip.is_unspecified())
            .fold(Vec::new(), |mut acc, ip| {
                if !acc.contains(&ip) {
                    acc.push(ip);
                }
                acc
            });
        NicInventory {
            odata_id: odata_id.to_owned(),
            id: e.id,
            name: e.name,
            description: e.description,
            mac_address: e.mac_address,
            permanent_mac_address: e.permanent_mac_address,
            mac,
            enabled: e.interface_enabled,
            state: e.status.state,
            ipv4,
            host_name: e.host_name,
            fqdn: e.fqdn,
        }
    }

    /// Neither `InterfaceEnabled: false` nor `Status.State: Disabled`.
    pub fn is_enabled(&self) -> bool {
        self.enabled != Some(false)
            && !self
                .state
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("Disabled"))
    }
}

fn usable_mac(text: &str) -> Option<MacAddr> {
    let mac = MacAddr::parse(text.trim()).ok()?;
    let octets = mac.octets();
    (octets != [0; 6] && octets != [0xff; 6]).then_some(mac)
}

/// One ComputerSystem.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemInventory {
    /// Resource path, as linked.
    pub odata_id: String,
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `UUID`.
    pub uuid: Option<String>,
    /// `SystemType`.
    pub system_type: Option<String>,
    /// `Manufacturer`.
    pub manufacturer: Option<String>,
    /// `Model`.
    pub model: Option<String>,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
    /// `BiosVersion`.
    pub bios_version: Option<String>,
    /// `PowerState`.
    pub power_state: Option<String>,
    /// `ProcessorSummary.Count`.
    pub processor_count: Option<u32>,
    /// `ProcessorSummary.Model`.
    pub processor_model: Option<String>,
    /// `MemorySummary.TotalSystemMemoryGiB`.
    pub memory_gib: Option<f64>,
    /// `#ComputerSystem.Reset`.
    pub reset: Option<ResetInfo>,
    /// Ethernet interfaces, in collection order.
    pub interfaces: Vec<NicInventory>,
    /// `Links.Chassis`.
    pub chassis: Vec<String>,
    /// The `Power` resource of its first chassis that has one.
    pub power_url: Option<String>,
}

/// One Manager.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagerInventory {
    /// Resource path, as linked.
    pub odata_id: String,
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `UUID`.
    pub uuid: Option<String>,
    /// `ManagerType`.
    pub manager_type: Option<String>,
    /// `FirmwareVersion`.
    pub firmware_version: Option<String>,
    /// `Model`.
    pub model: Option<String>,
    /// `#Manager.Reset`.
    pub reset: Option<ResetInfo>,
    /// Ethernet interfaces, in collection order.
    pub interfaces: Vec<NicInventory>,
}

/// One Chassis.
#[derive(Debug, Clone, PartialEq)]
pub struct ChassisInventory {
    /// Resource path, as linked.
    pub odata_id: String,
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `ChassisType`.
    pub chassis_type: Option<String>,
    /// `Power` resource link.
    pub power_url: Option<String>,
    /// `Links.ComputerSystems`.
    pub systems: Vec<String>,
}

/// The key two links to the same resource share: lower case, no trailing slash.
pub fn link_key(link: &str) -> String {
    let path = match link.find("/redfish/") {
        Some(i) if i > 0 => &link[i..],
        _ => link,
    };
    let trimmed = path.trim_end_matches('/');
    let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
    trimmed.to_ascii_lowercase()
}

/// The order nodes are numbered in: natural order of their resource paths (`Node2` before
/// `Node10`, case and trailing slashes ignored), so the numbering does not depend on the order
/// a BMC happens to list its systems in.
pub fn node_order(a: &str, b: &str) -> Ordering {
    let (a, b) = (link_key(a), link_key(b));
    let mut x = a.as_bytes();
    let mut y = b.as_bytes();
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(&b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let (dx, rx) = split_digits(x);
                let (dy, ry) = split_digits(y);
                let ord = compare_numbers(dx, dy);
                if ord != Ordering::Equal {
                    return ord;
                }
                x = rx;
                y = ry;
            }
            (Some(p), Some(q)) => {
                if p != q {
                    return p.cmp(q);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    s.split_at(n)
}

/// Compares digit strings by value without parsing (they may be longer than any integer).
fn compare_numbers(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |s: &[u8]| -> usize { s.iter().take_while(|c| **c == b'0').count() };
    let (a, b) = (&a[strip(a)..], &b[strip(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_compare_without_case_or_trailing_slash() {
        assert_eq!(link_key("/redfish/v1/Systems/1/"), "/redfish/v1/systems/1");
        assert_eq!(
            link_key("https://bmc/redfish/v1/Systems/Self"),
            "/redfish/v1/systems/self"
        );
    }

    #[test]
    fn nodes_sort_naturally() {
        let mut v = vec![
            "/redfish/v1/Systems/Node10",
            "/redfish/v1/Systems/Node2/",
            "/redfish/v1/Systems/node1",
            "/redfish/v1/Systems/Node002a",
        ];
        v.sort_by(|a, b| node_order(a, b));
        assert_eq!(
            v,
            [
                "/redfish/v1/Systems/node1",
                "/redfish/v1/Systems/Node2/",
                "/redfish/v1/Systems/Node002a",
                "/redfish/v1/Systems/Node10",
            ]
        );
    }

    #[test]
    fn macs_fall_back_to_the_permanent_one_and_skip_placeholders() {
        let e: model::EthernetInterface = serde_json::from_str(
            r#"{"MACAddress": "00:00:00:00:00:00", "PermanentMACAddress": "a4-bf-01-28-90-aa",
                "IPv4Addresses": [{"Address": "N/A"}, {"Address": "0.0.0.0"},
                                  {"Address": "10.254.1.23"}],
                "IPv4StaticAddresses": [{"Address": "10.254.1.23"}],
                "InterfaceEnabled": true, "Status": {"State": "Disabled"}}"#,
        )
        .unwrap();
        let nic = NicInventory::from_model("/x", e);
        assert_eq!(nic.mac.unwrap().to_string(), "a4:bf:01:28:90:aa");
        assert_eq!(nic.ipv4, [Ipv4Addr::new(10, 254, 1, 23)]);
        assert!(!nic.is_enabled());
    }
}
