//! Vendor shapes the shared mockups do not cover, written as small mockups the simulator
//! serves: systems reachable only through a Chassis (and a dangling link), trailing slashes,
//! paged collections, missing and wrongly typed optional fields, OEM blocks, MACs in other
//! spellings, and a chassis controller with no systems at all.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use cairn_agent::config::BmcConfig;
use cairn_agent::discovery::Namer;
use cairn_agent::discovery::Target;
use cairn_agent::redfish::{BmcAddress, Scheme};
use cairn_protocols::ComponentEndpointType;
use cairn_sim::{Layout, Mockup, SimConfig};
use serde_json::{Value, json};

use crate::{discover_all, discoverer, found, init, sim_credentials};

fn write(dir: &Path, path: &str, body: Value) {
    let file = dir.join(path.trim_start_matches('/')).join("index.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, serde_json::to_vec_pretty(&body).unwrap()).unwrap();
}

fn link(path: &str) -> Value {
    json!({ "@odata.id": path })
}

/// A blade BMC whose nodes are only linked from its enclosure.
fn blade(dir: &Path) {
    write(
        dir,
        "",
        json!({
            "RedfishVersion": "1.8.0", "UUID": "b1ade000-0000-4000-8000-000000000001",
            "Chassis": link("/redfish/v1/Chassis/"), "Managers": link("/redfish/v1/Managers/"),
            "Oem": {"Vendor": {"Anything": [1, {"deep": true}]}}
        }),
    );
    write(
        dir,
        "Chassis",
        json!({"Members": [
            link("/redfish/v1/Chassis/Enclosure/"), link("/redfish/v1/Chassis/Missing")
        ]}),
    );
    write(
        dir,
        "Chassis/Enclosure",
        json!({
            "Id": "Enclosure", "ChassisType": "Enclosure",
            "Power": link("/redfish/v1/Chassis/Enclosure/Power"),
            "Links": {"ComputerSystems": [
                link("/redfish/v1/Systems/Node1/"), link("/redfish/v1/Systems/Node0"),
                link("/redfish/v1/systems/node0/"), link("/redfish/v1/Systems/Gone")
            ]}
        }),
    );
    write(
        dir,
        "Systems/Node0",
        json!({
            "Id": "Node0", "PowerState": "On", "ProcessorSummary": "n/a",
            "MemorySummary": {"TotalSystemMemoryGiB": "512"},
            "Links": {"Chassis": [link("/redfish/v1/Chassis/Enclosure")]},
            "EthernetInterfaces": link("/redfish/v1/Systems/Node0/EthernetInterfaces/"),
            "Actions": {"#ComputerSystem.Reset": {
                "target": "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset/",
                "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "Nmi"]
            }, "Oem": {"#Vendor.Special": {"target": "/x"}}},
            "Oem": {"Vendor": {"Settings": link("/redfish/v1/Systems/Node0/Oem")}}
        }),
    );
    write(
        dir,
        "Systems/Node0/EthernetInterfaces",
        json!({
            "Members": [link("/redfish/v1/Systems/Node0/EthernetInterfaces/0")],
            "Members@odata.nextLink": "/redfish/v1/Systems/Node0/EthernetInterfaces/Page2"
        }),
    );
    write(
        dir,
        "Systems/Node0/EthernetInterfaces/Page2",
        json!({
            "Members": [link("/redfish/v1/Systems/Node0/EthernetInterfaces/1")]
        }),
    );
    write(
        dir,
        "Systems/Node0/EthernetInterfaces/0",
        json!({"MACAddress": "A4-BF-01-00-00-01"}),
    );
    write(
        dir,
        "Systems/Node0/EthernetInterfaces/1",
        json!({
            "MACAddress": "N/A", "PermanentMACAddress": "a4bf.0100.0002", "InterfaceEnabled": "true"
        }),
    );
    // Nothing but an Id: no power state, actions or interfaces.
    write(dir, "Systems/Node1", json!({"Id": "Node1"}));
    write(
        dir,
        "Managers",
        json!({"Members": [link("/redfish/v1/Managers/BMC/")]}),
    );
    write(
        dir,
        "Managers/BMC",
        json!({
            "Id": "BMC", "ManagerType": "EnclosureManager", "FirmwareVersion": 2,
            "EthernetInterfaces": link("/redfish/v1/Managers/BMC/EthernetInterfaces")
        }),
    );
    write(
        dir,
        "Managers/BMC/EthernetInterfaces",
        json!({"Members": [
            link("/redfish/v1/Managers/BMC/EthernetInterfaces/eth0")
        ]}),
    );
    write(
        dir,
        "Managers/BMC/EthernetInterfaces/eth0",
        json!({
            "MACAddress": "a4:bf:01:00:00:aa", "IPv4Addresses": [{"Address": "N/A"}]
        }),
    );
}

/// A chassis controller: managers and chassis, no systems.
fn controller(dir: &Path) {
    write(
        dir,
        "",
        json!({
            "RedfishVersion": "1.2.0",
            "Chassis": link("/redfish/v1/Chassis"), "Managers": link("/redfish/v1/Managers")
        }),
    );
    write(
        dir,
        "Chassis",
        json!({"Members": [link("/redfish/v1/Chassis/Enclosure")]}),
    );
    write(
        dir,
        "Chassis/Enclosure",
        json!({"Id": "Enclosure", "Links": {}}),
    );
    write(
        dir,
        "Managers",
        json!({"Members": [link("/redfish/v1/Managers/CMM")]}),
    );
    write(
        dir,
        "Managers/CMM",
        json!({"Id": "CMM", "ManagerType": "EnclosureManager"}),
    );
}

#[tokio::test]
async fn vendor_shapes_are_tolerated() {
    init();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("blade"), tmp.path().join("controller"));
    blade(&a);
    controller(&b);
    let sim = cairn_sim::start(
        SimConfig::builder()
            .count(2)
            .mockups([Mockup::load(&a).unwrap(), Mockup::load(&b).unwrap()])
            .layout(Layout::ConsecutiveAddresses {
                base: Ipv4Addr::new(127, 42, 9, 1),
                port: 0,
            })
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    // The controller is a chassis BMC, named through the map.
    let map = BTreeMap::from([("127.42.9.2".to_owned(), "x42c3b0".parse().unwrap())]);
    let namer = Namer::new(&[42], &["127.42.9.0/24".parse().unwrap()], &[443], &map);
    let targets = sim
        .bmcs()
        .iter()
        .map(|b| Target::new(BmcAddress::parse(b.url(), Scheme::Http).unwrap()));
    let (named, errors) = namer.plan(targets);
    assert!(errors.is_empty(), "{errors:?}");
    let d = discoverer(&BmcConfig::default(), None, Some(sim_credentials()));
    let reports = discover_all(&d, named).await;

    let blade = &reports[&"x42c0s1b0".parse().unwrap()];
    let (components, endpoints, interfaces) = found(blade);
    let ids: Vec<&str> = components.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["x42c0s1b0", "x42c0s1b0n0", "x42c0s1b0n1"]);
    let node0 = endpoints
        .iter()
        .find(|e| e.id.as_str() == "x42c0s1b0n0")
        .unwrap();
    assert_eq!(node0.odata_id.as_deref(), Some("/redfish/v1/Systems/Node0"));
    let info = node0.redfish_system_info.as_ref().unwrap();
    let reset = info
        .actions
        .as_ref()
        .and_then(|a| a.reset.as_ref())
        .unwrap();
    assert_eq!(
        reset.target,
        "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset/"
    );
    assert_eq!(reset.allowable_values, ["On", "ForceOff", "Nmi"]);
    assert_eq!(
        info.power_url.as_deref(),
        Some("/redfish/v1/Chassis/Enclosure/Power")
    );
    let node1 = endpoints
        .iter()
        .find(|e| e.id.as_str() == "x42c0s1b0n1")
        .unwrap();
    assert!(
        node1
            .redfish_system_info
            .as_ref()
            .unwrap()
            .actions
            .is_none()
    );
    let macs: Vec<(String, String)> = interfaces
        .iter()
        .map(|e| {
            let owner = e.component_id.as_ref().unwrap().to_string();
            (e.mac_address.to_string(), owner)
        })
        .collect();
    assert_eq!(
        macs,
        [
            ("a4:bf:01:00:00:aa".to_owned(), "x42c0s1b0".to_owned()),
            ("a4:bf:01:00:00:01".to_owned(), "x42c0s1b0n0".to_owned()),
            ("a4:bf:01:00:00:02".to_owned(), "x42c0s1b0n0".to_owned()),
        ]
    );

    let controller = &reports[&"x42c3b0".parse().unwrap()];
    let (components, endpoints, interfaces) = found(controller);
    assert_eq!(components.len(), 1);
    assert_eq!(components[0].id.as_str(), "x42c3b0");
    assert_eq!(endpoints.len(), 1);
    assert_eq!(
        endpoints[0].component_endpoint_type,
        ComponentEndpointType::Manager
    );
    assert!(interfaces.is_empty());
    sim.shutdown().await;
}
