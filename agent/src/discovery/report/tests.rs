use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::redfish::{BmcAddress, Scheme};

fn nic(path: &str, mac: &str, ips: &[&str], enabled: bool) -> NicInventory {
    NicInventory {
        odata_id: path.to_owned(),
        id: path.rsplit('/').next().map(str::to_owned),
        name: None,
        description: Some(format!("NIC {path}")),
        mac_address: Some(mac.to_owned()),
        permanent_mac_address: None,
        mac: MacAddr::parse(mac).ok(),
        enabled: Some(enabled),
        state: None,
        ipv4: ips.iter().map(|ip| ip.parse().unwrap()).collect(),
        host_name: None,
        fqdn: None,
    }
}

fn system(path: &str, power: &str, macs: &[&str]) -> SystemInventory {
    SystemInventory {
        odata_id: path.to_owned(),
        id: None,
        name: Some(path.to_owned()),
        uuid: None,
        system_type: Some("Physical".into()),
        manufacturer: None,
        model: None,
        serial_number: None,
        bios_version: None,
        power_state: Some(power.to_owned()),
        processor_count: Some(2),
        processor_model: Some("AMD EPYC 7702 64-Core Processor".into()),
        memory_gib: None,
        reset: Some(ResetInfo {
            target: format!("{path}/Actions/ComputerSystem.Reset"),
            allowable_values: vec!["On".into(), "ForceOff".into()],
            action_info: None,
        }),
        interfaces: macs
            .iter()
            .enumerate()
            .map(|(i, m)| nic(&format!("{path}/EthernetInterfaces/{i}"), m, &[], true))
            .collect(),
        chassis: Vec::new(),
        power_url: None,
    }
}

fn inventory() -> BmcInventory {
    BmcInventory {
        redfish_version: Some("1.6.0".into()),
        uuid: Some("u-1".into()),
        vendor: None,
        product: None,
        systems: vec![
            system(
                "/redfish/v1/Systems/Node0",
                "On",
                &["02:00:00:00:01:00", "02:00:00:00:01:00"],
            ),
            system(
                "/redfish/v1/Systems/Node1",
                "PoweringOn",
                &["02:00:00:00:02:00"],
            ),
        ],
        managers: vec![ManagerInventory {
            odata_id: "/redfish/v1/Managers/BMC".into(),
            id: None,
            name: Some("Manager".into()),
            uuid: None,
            manager_type: Some("BMC".into()),
            firmware_version: Some("1.0".into()),
            model: None,
            reset: None,
            interfaces: vec![
                nic("/m/usb0", "02:00:00:00:00:09", &["169.254.0.17"], true),
                nic("/m/eth0", "02:00:00:00:00:01", &["10.1.0.5"], true),
            ],
        }],
        chassis: Vec::new(),
    }
}

fn target(address: &str) -> NamedTarget {
    NamedTarget {
        xname: "x1000c0s5b0".parse().unwrap(),
        address: BmcAddress::parse(address, Scheme::Https).unwrap(),
        credentials: None,
    }
}

fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

#[test]
fn found_report_is_complete_and_valid() {
    let d = build(&target("10.1.0.5"), Ok(inventory()), at());
    d.validate().unwrap();
    assert_eq!(d.endpoint.fqdn.as_deref(), Some("10.1.0.5"));
    assert_eq!(
        d.endpoint.mac_addr.unwrap().to_string(),
        "02:00:00:00:00:01"
    );
    assert!(d.endpoint.user.is_none() && d.endpoint.password.is_none());
    let info = d.endpoint.discovery_info.as_ref().unwrap();
    assert_eq!(info.last_discovery_status.as_deref(), Some("DiscoverOK"));
    assert_eq!(
        info.last_discovery_attempt.as_deref(),
        Some("2027-01-15T08:00:00Z")
    );
    assert_eq!(info.redfish_version.as_deref(), Some("1.6.0"));
    let DiscoveryOutcome::Found {
        components,
        component_endpoints,
        interfaces,
    } = &d.outcome
    else {
        panic!("{d:?}")
    };
    let states: Vec<_> = components
        .iter()
        .map(|c| (c.id.to_string(), c.state.unwrap(), c.arch))
        .collect();
    assert_eq!(
        states,
        [
            ("x1000c0s5b0".into(), HmsState::Ready, None),
            ("x1000c0s5b0n0".into(), HmsState::On, Some(HmsArch::X86)),
            ("x1000c0s5b0n1".into(), HmsState::Off, Some(HmsArch::X86)),
        ]
    );
    let reset = component_endpoints[1]
        .redfish_system_info
        .as_ref()
        .and_then(|i| i.actions.as_ref())
        .and_then(|a| a.reset.as_ref())
        .unwrap();
    assert_eq!(
        reset.target,
        "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset"
    );
    assert_eq!(reset.allowable_values, ["On", "ForceOff"]);
    assert_eq!(
        component_endpoints[1].redfish_url.as_deref(),
        Some("10.1.0.5/redfish/v1/Systems/Node0")
    );
    let macs: Vec<_> = interfaces
        .iter()
        .map(|e| {
            (
                e.mac_address.to_string(),
                e.component_id.clone().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        macs,
        [
            ("02:00:00:00:00:01".into(), "x1000c0s5b0".into()),
            ("02:00:00:00:01:00".into(), "x1000c0s5b0n0".into()),
            ("02:00:00:00:02:00".into(), "x1000c0s5b0n1".into()),
        ]
    );
    assert_eq!(
        interfaces[0].ip_addresses[0].ip_address.to_string(),
        "10.1.0.5"
    );
}

#[test]
fn bmc_mac_falls_back_to_a_routable_enabled_interface() {
    // Reached at an address no interface reports (NAT, a simulator): not the link-local usb0.
    let d = build(&target("127.0.0.5:8443"), Ok(inventory()), at());
    assert_eq!(
        d.endpoint.mac_addr.unwrap().to_string(),
        "02:00:00:00:00:01"
    );
    assert_eq!(d.endpoint.fqdn.as_deref(), Some("127.0.0.5:8443"));
}

#[test]
fn a_bmc_without_systems_is_found_with_only_itself() {
    let mut inv = inventory();
    inv.systems.clear();
    let d = build(&target("10.1.0.5"), Ok(inv), at());
    d.validate().unwrap();
    let DiscoveryOutcome::Found { components, .. } = &d.outcome else {
        panic!()
    };
    assert_eq!(components.len(), 1);
}

#[test]
fn systems_under_a_bmc_that_cannot_hold_nodes_fail_the_report() {
    let mut t = target("10.1.0.5");
    t.xname = "x1000c0b0".parse().unwrap();
    let d = build(&t, Ok(inventory()), at());
    d.validate().unwrap();
    let DiscoveryOutcome::Failed { status, detail } = &d.outcome else {
        panic!("{d:?}")
    };
    assert_eq!(status, "ChildVerificationFailed");
    assert!(detail.contains("ChassisBMC"), "{detail}");
}

#[test]
fn crawl_errors_become_failures_without_records() {
    let d = build(&target("10.1.0.5"), Err(CrawlError::NotRedfish), at());
    d.validate().unwrap();
    assert_eq!(d.outcome.status(), "EndpointInvalid");
    assert!(d.endpoint.mac_addr.is_none());
}

#[test]
fn power_and_arch_mapping() {
    assert_eq!(power_state(Some("on")), HmsState::On);
    assert_eq!(power_state(Some("PoweringOff")), HmsState::On);
    assert_eq!(power_state(Some("Off")), HmsState::Off);
    assert_eq!(power_state(None), HmsState::Populated);
    assert_eq!(
        arch("Multi-Core Intel(R) Xeon(R) processor 7xxx Series"),
        Some(HmsArch::X86)
    );
    assert_eq!(arch("Ampere(R) Altra(R) Processor"), Some(HmsArch::Arm));
    assert_eq!(arch("Central Processor"), None);
    assert_eq!(arch("Charming CPU"), None);
}
