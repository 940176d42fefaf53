//! Misbehaving BMCs: each fails with a clear status and detail, reports no records, and does
//! not disturb the healthy BMCs crawled beside it.

use cairn_agent::config::BmcConfig;
use cairn_agent::discovery::DiscoveryRun;
use cairn_sim::{Credentials, Fault, Layout, SimConfig};

use crate::{discover_all, discoverer, failure, found, init, name_bmcs, sim_credentials, subnet};

#[tokio::test]
async fn each_fault_fails_its_bmc_alone() {
    init();
    let config = SimConfig::builder()
        .count(7)
        .layout(Layout::ConsecutiveAddresses {
            base: std::net::Ipv4Addr::new(127, 42, 4, 1),
            port: 0,
        })
        .build()
        .unwrap();
    let sim = cairn_sim::start(config).await.unwrap();
    let bmc = |i: usize| sim.bmc(i).unwrap();
    bmc(0).set_credentials(Credentials::new("admin", "changed"));
    bmc(1).set_faults([Fault::Hang]);
    // The service root and the Systems collection answer, then the BMC dies.
    bmc(2).set_faults([Fault::DieAfter(2)]);
    bmc(3).set_faults([Fault::MalformedJson("/redfish/v1/Systems/Node1".into())]);
    bmc(4).set_faults([Fault::Status500("/redfish/v1/Managers*".into())]);
    // bmc 5 and 6 are healthy.

    let settings = BmcConfig {
        request_timeout_ms: 1_000,
        ..BmcConfig::default()
    };
    let d = discoverer(&settings, None, Some(sim_credentials()));
    let reports = discover_all(&d, name_bmcs(&sim, 42, subnet(4))).await;
    let report = |slot: u32| &reports[&format!("x42c0s{slot}b0").parse().unwrap()];

    let cases = [
        (1, "HTTPsGetFailed", "credentials refused (HTTP 401)"),
        (2, "HTTPsGetFailed", "no answer within 1000 ms"),
        (3, "HTTPsGetFailed", "connection"),
        (
            4,
            "EPResponseFailedDecode",
            "GET /redfish/v1/Systems/Node1: malformed JSON",
        ),
        (5, "HTTPsGetFailed", "HTTP 500"),
    ];
    for (slot, want_status, want_detail) in cases {
        let r = report(slot);
        let (status, detail) = failure(r);
        assert_eq!(status, want_status, "slot {slot}: {detail}");
        assert!(detail.contains(want_detail), "slot {slot}: {detail}");
        // The endpoint is recorded with its status and nothing else learned from the BMC.
        let info = r.endpoint.discovery_info.as_ref().unwrap();
        assert_eq!(info.last_discovery_status.as_deref(), Some(want_status));
        assert!(r.endpoint.mac_addr.is_none() && r.endpoint.uuid.is_none());
    }
    for slot in [6, 7] {
        let (components, _, _) = found(report(slot));
        assert_eq!(components.len(), 3);
    }
    let mut run = DiscoveryRun::default();
    for r in reports.values() {
        run.record(r, None);
    }
    assert_eq!((run.found, run.failed), (2, 5));

    // Healed, the same BMCs are found on the next run.
    bmc(0).set_credentials(cairn_sim::Credentials::default());
    for i in 1..5 {
        bmc(i).set_faults([]);
    }
    let reports = discover_all(&d, name_bmcs(&sim, 42, subnet(4))).await;
    for r in reports.values() {
        found(r);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bmc_slower_than_its_crawl_limit_fails() {
    init();
    let config = SimConfig::builder()
        .count(1)
        .layout(Layout::ConsecutiveAddresses {
            base: std::net::Ipv4Addr::new(127, 42, 5, 1),
            port: 0,
        })
        .build()
        .unwrap();
    let sim = cairn_sim::start(config).await.unwrap();
    sim.bmc(0).unwrap().set_faults([Fault::Hang]);
    // The request limit is generous; the whole-BMC limit is what runs out.
    let settings = BmcConfig {
        request_timeout_ms: 60_000,
        bmc_timeout_ms: 500,
        ..BmcConfig::default()
    };
    let d = discoverer(&settings, None, Some(sim_credentials()));
    let reports = discover_all(&d, name_bmcs(&sim, 42, subnet(5))).await;
    let (status, detail) = failure(reports.values().next().unwrap());
    assert_eq!(status, "HTTPsGetFailed");
    assert!(detail.contains("did not finish within 500 ms"), "{detail}");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_answer_over_the_size_limit_fails_cleanly() {
    init();
    let config = SimConfig::builder()
        .layout(Layout::ConsecutiveAddresses {
            base: std::net::Ipv4Addr::new(127, 42, 10, 1),
            port: 0,
        })
        .build()
        .unwrap();
    let sim = cairn_sim::start(config).await.unwrap();
    let settings = BmcConfig {
        max_response_bytes: 64,
        ..BmcConfig::default()
    };
    let d = discoverer(&settings, None, Some(sim_credentials()));
    let reports = discover_all(&d, name_bmcs(&sim, 42, subnet(10))).await;
    let (status, detail) = failure(reports.values().next().unwrap());
    assert_eq!(status, "HTTPsGetFailed");
    assert!(
        detail.contains("GET /redfish/v1/: response larger than 64 bytes"),
        "{detail}"
    );
    sim.shutdown().await;
}
