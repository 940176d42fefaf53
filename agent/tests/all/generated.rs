//! Generated (DMTF-shaped) simulated BMCs: everything found, named as documented.

use std::collections::BTreeSet;

use cairn_agent::config::BmcConfig;
use cairn_agent::discovery::{DiscoveryRun, same_result};
use cairn_protocols::{ComponentEndpointType, HmsState, MacAddr};
use cairn_sim::{Layout, PowerState, ResetType, SimConfig};

use crate::{discover_all, discoverer, found, init, name_bmcs, sim_credentials, subnet};

#[tokio::test]
async fn every_system_mac_and_reset_type_is_found_and_named() {
    init();
    let net = subnet(1);
    let config = SimConfig::builder()
        .count(3)
        .systems(12)
        .nics(2)
        .reset_types([
            ResetType::On,
            ResetType::ForceOff,
            ResetType::GracefulRestart,
        ])
        .layout(Layout::ConsecutiveAddresses {
            base: std::net::Ipv4Addr::new(127, 42, 1, 1),
            port: 0,
        })
        .build()
        .unwrap();
    let sim = cairn_sim::start(config).await.unwrap();
    sim.bmc(1).unwrap().set_power_state(10, PowerState::On);
    let d = discoverer(&BmcConfig::default(), None, Some(sim_credentials()));
    let reports = discover_all(&d, name_bmcs(&sim, 42, net)).await;
    assert_eq!(reports.len(), 3);

    for (i, bmc) in sim.bmcs().iter().enumerate() {
        let info = bmc.info();
        // 127.42.1.<i+1> → slot i+1 of chassis 0 of the scope's cabinet.
        let xname = format!("x42c0s{}b0", i + 1);
        let report = &reports[&xname.parse().unwrap()];
        let (components, endpoints, interfaces) = found(report);
        assert_eq!(report.endpoint.fqdn.as_deref(), Some(&bmc.url()[7..]));
        assert_eq!(
            report.endpoint.mac_addr.map(|m| m.to_string()),
            info.mac.clone()
        );
        let ids: Vec<String> = components.iter().map(|c| c.id.to_string()).collect();
        let mut expected_ids = vec![xname.clone()];
        expected_ids.extend((0..12).map(|n| format!("{xname}n{n}")));
        assert_eq!(ids, expected_ids);

        for (n, system) in info.systems.iter().enumerate() {
            // Node10 is n10: nodes are numbered in natural order of their paths.
            let node = format!("{xname}n{n}");
            let ce = endpoints
                .iter()
                .find(|e| e.id.as_str() == node)
                .unwrap_or_else(|| panic!("no endpoint for {node}"));
            assert_eq!(
                ce.component_endpoint_type,
                ComponentEndpointType::ComputerSystem
            );
            assert_eq!(ce.odata_id.as_deref(), Some(system.path.as_str()));
            assert_eq!(ce.uuid, system.uuid);
            let reset = ce
                .redfish_system_info
                .as_ref()
                .and_then(|i| i.actions.as_ref())
                .and_then(|a| a.reset.as_ref())
                .unwrap();
            assert_eq!(Some(&reset.target), system.reset_target.as_ref());
            assert_eq!(reset.allowable_values, system.reset_types);
            let macs: BTreeSet<String> = interfaces
                .iter()
                .filter(|e| e.component_id.as_ref().map(|c| c.as_str()) == Some(node.as_str()))
                .map(|e| e.mac_address.to_string())
                .collect();
            let expected: BTreeSet<String> = system
                .macs
                .iter()
                .map(|m| MacAddr::parse(m).unwrap().to_string())
                .collect();
            assert_eq!(macs, expected, "{node}");
            let state = components
                .iter()
                .find(|c| c.id.as_str() == node)
                .unwrap()
                .state;
            let want = if i == 1 && n == 10 {
                HmsState::On
            } else {
                HmsState::Off
            };
            assert_eq!(state, Some(want), "{node}");
        }
        let manager = endpoints
            .iter()
            .find(|e| e.component_endpoint_type == ComponentEndpointType::Manager)
            .unwrap();
        assert_eq!(manager.id.as_str(), xname);
        // The BMC's MAC carries the address it was reached at.
        let bmc_iface = interfaces
            .iter()
            .find(|e| e.component_id.as_ref().map(|c| c.as_str()) == Some(xname.as_str()))
            .unwrap();
        assert_eq!(bmc_iface.ip_addresses[0].ip_address, bmc.addr().ip(),);
        // Credentials never travel in a report.
        let json = serde_json::to_string(report).unwrap();
        assert!(!json.contains(&info.password), "{json}");
        // A Basic-auth crawl leaves no session behind.
        assert_eq!(bmc.sessions(), 0);
    }

    // Re-discovery gives the same names and records: nothing changes, nothing duplicates.
    let again = discover_all(&d, name_bmcs(&sim, 42, net)).await;
    let mut run = DiscoveryRun::default();
    for (xname, report) in &again {
        let line = run.record(report, reports.get(xname));
        assert!(!line.changed, "{xname} changed");
        assert!(same_result(report, &reports[xname]));
    }
    assert_eq!((run.found, run.changed, run.failed), (3, 0, 0));
    sim.shutdown().await;
}

#[tokio::test]
async fn https_with_the_simulators_ca() {
    init();
    let config = SimConfig::builder()
        .count(2)
        .tls(true)
        .layout(cairn_sim::Layout::ConsecutiveAddresses {
            base: std::net::Ipv4Addr::new(127, 42, 2, 1),
            port: 0,
        })
        .build()
        .unwrap();
    let sim = cairn_sim::start(config).await.unwrap();
    assert!(sim.bmc(0).unwrap().url().starts_with("https://"));
    let d = discoverer(&BmcConfig::default(), sim.ca_pem(), Some(sim_credentials()));
    let reports = discover_all(&d, name_bmcs(&sim, 42, subnet(2))).await;
    for report in reports.values() {
        let (components, _, interfaces) = found(report);
        assert_eq!(components.len(), 3);
        assert_eq!(interfaces.len(), 3);
    }

    // Without the CA the certificate is refused, and that is what the report says.
    let untrusting = discoverer(&BmcConfig::default(), None, Some(sim_credentials()));
    let reports = discover_all(&untrusting, name_bmcs(&sim, 42, subnet(2))).await;
    for report in reports.values() {
        let (status, detail) = crate::failure(report);
        assert_eq!(status, "HTTPsGetFailed");
        assert!(detail.contains("certificate"), "{detail}");
    }
    sim.shutdown().await;
}
