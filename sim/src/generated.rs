//! Resources of a generated BMC, built on request from its index and live state: DMTF-shaped
//! enough for a discovery crawl (service root, Systems, Managers, Chassis, EthernetInterfaces,
//! the reset action) and cheap enough that a thousand BMCs hold no JSON at rest.

use std::net::IpAddr;
use std::time::Instant;

use serde_json::{Value, json};

use crate::bmc::{Bmc, SimSystem};
use crate::config::Generated;
use crate::ids;

const MANAGER: &str = "/redfish/v1/Managers/BMC";
const CHASSIS: &str = "/redfish/v1/Chassis/Enclosure";

fn link(path: impl AsRef<str>) -> Value {
    json!({ "@odata.id": path.as_ref() })
}

fn collection(path: &str, ty: &str, name: &str, members: Vec<String>) -> Value {
    json!({
        "@odata.id": path,
        "@odata.type": format!("#{ty}.{ty}"),
        "Name": name,
        "Members@odata.count": members.len(),
        "Members": members.iter().map(link).collect::<Vec<_>>(),
    })
}

/// The resource at `path` (normalized: no trailing slash), if the BMC has one.
pub(crate) fn resource(bmc: &Bmc, spec: &Generated, path: &str) -> Option<Value> {
    let rest = path.strip_prefix("/redfish/v1")?;
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let system = |id: &str| bmc.systems.iter().position(|s| s.id == id);
    match segments.as_slice() {
        [] => Some(service_root(bmc)),
        ["Systems"] => Some(collection(
            "/redfish/v1/Systems",
            "ComputerSystemCollection",
            "Computer System Collection",
            bmc.systems.iter().map(|s| s.path.clone()).collect(),
        )),
        ["Systems", id] => system(id).map(|i| computer_system(bmc, i)),
        ["Systems", id, "EthernetInterfaces"] => system(id).map(|i| {
            let path = format!("{}/EthernetInterfaces", bmc.systems[i].path);
            let members = (0..spec.nics).map(|n| format!("{path}/eth{n}")).collect();
            collection(
                &path,
                "EthernetInterfaceCollection",
                "Ethernet Interfaces",
                members,
            )
        }),
        ["Systems", id, "EthernetInterfaces", nic] => {
            let i = system(id)?;
            let n: u8 = nic.strip_prefix("eth")?.parse().ok()?;
            system_nic(bmc, i, n)
        }
        ["Managers"] => Some(collection(
            "/redfish/v1/Managers",
            "ManagerCollection",
            "Manager Collection",
            vec![MANAGER.into()],
        )),
        ["Managers", "BMC"] => Some(manager(bmc)),
        ["Managers", "BMC", "EthernetInterfaces"] => Some(collection(
            &format!("{MANAGER}/EthernetInterfaces"),
            "EthernetInterfaceCollection",
            "Manager Ethernet Interfaces",
            vec![format!("{MANAGER}/EthernetInterfaces/eth0")],
        )),
        ["Managers", "BMC", "EthernetInterfaces", "eth0"] => Some(manager_nic(bmc)),
        ["Chassis"] => Some(collection(
            "/redfish/v1/Chassis",
            "ChassisCollection",
            "Chassis Collection",
            vec![CHASSIS.into()],
        )),
        ["Chassis", "Enclosure"] => Some(chassis(bmc)),
        ["SessionService"] => Some(json!({
            "@odata.id": "/redfish/v1/SessionService",
            "@odata.type": "#SessionService.v1_1_8.SessionService",
            "Id": "SessionService",
            "Name": "Session Service",
            "ServiceEnabled": true,
            "SessionTimeout": 1800,
            "Sessions": link("/redfish/v1/SessionService/Sessions"),
        })),
        _ => None,
    }
}

fn service_root(bmc: &Bmc) -> Value {
    json!({
        "@odata.id": "/redfish/v1",
        "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
        "Id": "RootService",
        "Name": "Root Service",
        "RedfishVersion": "1.15.0",
        "UUID": ids::bmc_uuid(bmc.index),
        "Vendor": "Cairn",
        "Product": "cairn-sim",
        "Systems": link("/redfish/v1/Systems"),
        "Chassis": link("/redfish/v1/Chassis"),
        "Managers": link("/redfish/v1/Managers"),
        "SessionService": link("/redfish/v1/SessionService"),
        "Links": { "Sessions": link("/redfish/v1/SessionService/Sessions") },
    })
}

fn computer_system(bmc: &Bmc, i: usize) -> Value {
    let s: &SimSystem = &bmc.systems[i];
    let system = u8::try_from(i).unwrap_or(u8::MAX);
    let boot = s.power.boot();
    json!({
        "@odata.id": s.path,
        "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
        "Id": s.id,
        "Name": format!("Simulated node {i} of BMC {}", bmc.index),
        "SystemType": "Physical",
        "UUID": s.uuid,
        "Manufacturer": "Cairn",
        "Model": "SimNode 2",
        "SerialNumber": ids::system_serial(bmc.index, system),
        "BiosVersion": "SIM.1.4.2",
        "PowerState": s.power.power_state(Instant::now()),
        "Status": { "State": "Enabled", "Health": "OK" },
        "ProcessorSummary": { "Count": 2, "CoreCount": 128, "LogicalProcessorCount": 256,
            "Model": "Simulated 64-core CPU" },
        "MemorySummary": { "TotalSystemMemoryGiB": 512, "Status": { "State": "Enabled" } },
        "Boot": {
            "BootSourceOverrideTarget": boot.target,
            "BootSourceOverrideEnabled": boot.enabled,
            "BootSourceOverrideMode": boot.mode,
            "BootSourceOverrideTarget@Redfish.AllowableValues": s.boot_targets,
        },
        "EthernetInterfaces": link(format!("{}/EthernetInterfaces", s.path)),
        "Actions": {
            "#ComputerSystem.Reset": {
                "target": s.reset_target,
                "ResetType@Redfish.AllowableValues": s.reset_types,
            }
        },
        "Links": {
            "Chassis": [link(CHASSIS)],
            "ManagedBy": [link(MANAGER)],
        },
    })
}

fn system_nic(bmc: &Bmc, i: usize, nic: u8) -> Option<Value> {
    let s = bmc.systems.get(i)?;
    let mac = s.macs.get(usize::from(nic))?;
    Some(json!({
        "@odata.id": format!("{}/EthernetInterfaces/eth{nic}", s.path),
        "@odata.type": "#EthernetInterface.v1_12_0.EthernetInterface",
        "Id": format!("eth{nic}"),
        "Name": format!("Ethernet interface {nic}"),
        "MACAddress": mac,
        "PermanentMACAddress": mac,
        "SpeedMbps": 100000,
        "LinkStatus": "LinkUp",
        "InterfaceEnabled": true,
        "Status": { "State": "Enabled", "Health": "OK" },
    }))
}

fn manager(bmc: &Bmc) -> Value {
    json!({
        "@odata.id": MANAGER,
        "@odata.type": "#Manager.v1_19_0.Manager",
        "Id": "BMC",
        "Name": "Simulated BMC",
        "ManagerType": "BMC",
        "UUID": ids::bmc_uuid(bmc.index),
        "Model": "cairn-sim",
        "FirmwareVersion": concat!("cairn-sim ", env!("CARGO_PKG_VERSION")),
        "PowerState": "On",
        "Status": { "State": "Enabled", "Health": "OK" },
        "EthernetInterfaces": link(format!("{MANAGER}/EthernetInterfaces")),
        "Links": {
            "ManagerForServers": bmc.systems.iter().map(|s| link(&s.path)).collect::<Vec<_>>(),
            "ManagerForChassis": [link(CHASSIS)],
        },
    })
}

fn manager_nic(bmc: &Bmc) -> Value {
    let ipv4: Vec<Value> = match bmc.addr.ip() {
        IpAddr::V4(ip) => vec![json!({
            "Address": ip.to_string(),
            "SubnetMask": "255.255.255.0",
            "AddressOrigin": "Static",
        })],
        IpAddr::V6(_) => Vec::new(),
    };
    let ipv6: Vec<Value> = match bmc.addr.ip() {
        IpAddr::V6(ip) => vec![json!({ "Address": ip.to_string(), "PrefixLength": 64 })],
        IpAddr::V4(_) => Vec::new(),
    };
    json!({
        "@odata.id": format!("{MANAGER}/EthernetInterfaces/eth0"),
        "@odata.type": "#EthernetInterface.v1_12_0.EthernetInterface",
        "Id": "eth0",
        "Name": "Manager Ethernet Interface",
        "MACAddress": ids::bmc_mac(bmc.index),
        "PermanentMACAddress": ids::bmc_mac(bmc.index),
        "InterfaceEnabled": true,
        "IPv4Addresses": ipv4,
        "IPv6Addresses": ipv6,
        "Status": { "State": "Enabled", "Health": "OK" },
    })
}

fn chassis(bmc: &Bmc) -> Value {
    json!({
        "@odata.id": CHASSIS,
        "@odata.type": "#Chassis.v1_25_0.Chassis",
        "Id": "Enclosure",
        "Name": "Simulated enclosure",
        "ChassisType": "Enclosure",
        "Manufacturer": "Cairn",
        "SerialNumber": format!("CSIM{:08}", bmc.index),
        "PowerState": "On",
        "Status": { "State": "Enabled", "Health": "OK" },
        "Links": {
            "ComputerSystems": bmc.systems.iter().map(|s| link(&s.path)).collect::<Vec<_>>(),
            "ManagedBy": [link(MANAGER)],
        },
    })
}
