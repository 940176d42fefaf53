//! Every vendor mockup of `shared/peers/mockups`, served by the simulator: the systems, MACs
//! and reset types discovery finds are those the mockup's own files hold. The expectations are
//! read from the JSON files here, independently of the agent's crawler.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cairn_agent::config::BmcConfig;
use cairn_protocols::{ComponentEndpointType, MacAddr};
use cairn_sim::{Layout, Mockup, SimConfig};
use serde_json::Value;

use crate::{discover_all, discoverer, found, init, name_bmcs, sim_credentials, subnet};

/// A system as the mockup's files describe it.
#[derive(Debug)]
struct ExpectedSystem {
    path: String,
    reset_target: Option<String>,
    reset_types: Vec<String>,
    /// `MACAddress` of each interface, as spelled.
    nic_macs: Vec<String>,
}

/// The file of a resource path: `/redfish/v1/Systems/1/` → `<dir>/Systems/1/index.json`.
fn file(dir: &Path, path: &str) -> PathBuf {
    let rel = path
        .trim_end_matches('/')
        .strip_prefix("/redfish/v1")
        .unwrap_or(path)
        .trim_start_matches('/');
    dir.join(rel).join("index.json")
}

fn read(dir: &Path, path: &str) -> Option<Value> {
    let text = std::fs::read_to_string(file(dir, path)).ok()?;
    serde_json::from_str(&text).ok()
}

fn links(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["@odata.id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn key(path: &str) -> String {
    path.trim_end_matches('/').to_ascii_lowercase()
}

fn expected_systems(dir: &Path) -> Vec<ExpectedSystem> {
    let root = read(dir, "/redfish/v1").unwrap();
    let mut paths: Vec<String> = root["Systems"]["@odata.id"]
        .as_str()
        .and_then(|p| read(dir, p))
        .map(|c| links(&c["Members"]))
        .unwrap_or_default();
    // Systems that only a chassis links to are nodes too.
    let chassis = root["Chassis"]["@odata.id"]
        .as_str()
        .and_then(|p| read(dir, p))
        .map(|c| links(&c["Members"]))
        .unwrap_or_default();
    for ch in chassis.iter().filter_map(|p| read(dir, p)) {
        for s in links(&ch["Links"]["ComputerSystems"]) {
            if !paths.iter().any(|p| key(p) == key(&s)) && read(dir, &s).is_some() {
                paths.push(s);
            }
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let s = read(dir, &path).unwrap();
            let reset = &s["Actions"]["#ComputerSystem.Reset"];
            let reset_types = match reset["ResetType@Redfish.AllowableValues"].as_array() {
                Some(values) => values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                None => reset["@Redfish.ActionInfo"]
                    .as_str()
                    .and_then(|p| read(dir, p))
                    .and_then(|info| {
                        info["Parameters"].as_array().and_then(|ps| {
                            ps.iter()
                                .find(|p| p["Name"] == "ResetType")
                                .map(|p| p["AllowableValues"].clone())
                        })
                    })
                    .and_then(|v| v.as_array().cloned())
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            let nic_macs = s["EthernetInterfaces"]["@odata.id"]
                .as_str()
                .and_then(|p| read(dir, p))
                .map(|c| links(&c["Members"]))
                .unwrap_or_default()
                .iter()
                .filter_map(|p| read(dir, p))
                .filter_map(|nic| nic["MACAddress"].as_str().map(str::to_owned))
                .collect();
            ExpectedSystem {
                path,
                reset_target: reset["target"].as_str().map(str::to_owned),
                reset_types,
                nic_macs,
            }
        })
        .collect()
}

/// The mockup sets, or `None` (with the reason printed) when `shared/` is not beside this
/// checkout and `CAIRN_PEERS_DIR` does not name it.
fn mockup_dirs() -> Option<Vec<PathBuf>> {
    let root = cairn_sim::shared_mockups_dir(env!("CARGO_MANIFEST_DIR"));
    let Ok(entries) = std::fs::read_dir(&root) else {
        eprintln!(
            "SKIP each_mockup_is_found_as_its_files_describe: no mockups at {} \
             (shared/ beside the checkout, or set CAIRN_PEERS_DIR)",
            root.display()
        );
        return None;
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("index.json").is_file())
        .collect();
    dirs.sort();
    Some(dirs)
}

#[tokio::test]
async fn each_mockup_is_found_as_its_files_describe() {
    init();
    let Some(dirs) = mockup_dirs() else { return };
    assert!(dirs.len() >= 4, "mockups missing: {dirs:?}");
    let mockups: Vec<_> = dirs.iter().map(|d| Mockup::load(d).unwrap()).collect();
    let config = SimConfig::builder()
        .count(mockups.len() as u32)
        .mockups(mockups.iter().cloned())
        .layout(Layout::ConsecutiveAddresses {
            base: std::net::Ipv4Addr::new(127, 42, 3, 1),
            port: 0,
        })
        .build()
        .unwrap();
    let sim = cairn_sim::start(config).await.unwrap();
    let d = discoverer(&BmcConfig::default(), None, Some(sim_credentials()));
    let reports = discover_all(&d, name_bmcs(&sim, 42, subnet(3))).await;

    for (i, dir) in dirs.iter().enumerate() {
        let name = dir.file_name().unwrap().to_string_lossy();
        let xname = format!("x42c0s{}b0", i + 1);
        let report = &reports[&xname.parse().unwrap()];
        let (components, endpoints, interfaces) = found(report);
        let expected = expected_systems(dir);
        assert!(!expected.is_empty(), "{name}: no systems in its files");
        assert_eq!(components.len(), expected.len() + 1, "{name}");

        let systems: Vec<_> = endpoints
            .iter()
            .filter(|e| e.component_endpoint_type == ComponentEndpointType::ComputerSystem)
            .collect();
        assert_eq!(systems.len(), expected.len(), "{name}");
        for want in &expected {
            let ce = systems
                .iter()
                .find(|e| e.odata_id.as_deref().map(key) == Some(key(&want.path)))
                .unwrap_or_else(|| panic!("{name}: {} not found", want.path));
            let info = ce.redfish_system_info.as_ref().unwrap();
            let reset = info.actions.as_ref().and_then(|a| a.reset.as_ref());
            assert_eq!(
                reset.map(|r| r.target.clone()),
                want.reset_target,
                "{name}: reset target"
            );
            assert_eq!(
                reset
                    .map(|r| r.allowable_values.clone())
                    .unwrap_or_default(),
                want.reset_types,
                "{name}: reset types"
            );
            let reported: Vec<String> = info
                .ethernet_nic_info
                .iter()
                .filter_map(|n| n.mac_address.clone())
                .collect();
            assert_eq!(reported, want.nic_macs, "{name}: NIC MACs as reported");
            // One EthernetInterface per distinct MAC, owned by this node.
            let owned: BTreeSet<MacAddr> = interfaces
                .iter()
                .filter(|e| e.component_id.as_ref() == Some(&ce.id))
                .map(|e| e.mac_address)
                .collect();
            let distinct: BTreeSet<MacAddr> = want
                .nic_macs
                .iter()
                .filter_map(|m| MacAddr::parse(m).ok())
                .collect();
            assert_eq!(owned, distinct, "{name}: node MACs");
        }
        // The BMC's MAC is one of its managers' interfaces.
        let bmc_mac = report
            .endpoint
            .mac_addr
            .unwrap_or_else(|| panic!("{name}: no BMC MAC"));
        let manager = endpoints
            .iter()
            .find(|e| e.component_endpoint_type == ComponentEndpointType::Manager)
            .unwrap();
        let manager_macs: Vec<MacAddr> = manager
            .redfish_manager_info
            .as_ref()
            .unwrap()
            .ethernet_nic_info
            .iter()
            .filter_map(|n| {
                n.mac_address
                    .as_deref()
                    .and_then(|m| MacAddr::parse(m).ok())
            })
            .collect();
        assert!(
            manager_macs.contains(&bmc_mac),
            "{name}: {bmc_mac} not in {manager_macs:?}"
        );
    }
    sim.shutdown().await;
}
