//! The running agent (`cairn_agent::runtime`) with no coordinator to talk to: it discovers its
//! BMCs anyway, says it is autonomous, and keeps every report in its sled outbox, which
//! survives the agent's stop. (End-to-end tests with real coordinators are in `tests/`.)
//!
//! Simulated BMCs on 127.42.100.0/24, port 18000.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use cairn_agent::config::AgentConfig;
use cairn_agent::runtime::{AgentStatus, Handle, LinkState, Store};
use cairn_protocols::pb::agent::report_item::Body;
use cairn_sim::{Layout, SimConfig};

use crate::init;

async fn wait(agent: &Handle, what: &str, check: impl Fn(&AgentStatus) -> bool) -> AgentStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = agent.status();
        if check(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {s:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn cut_off_from_the_coordinators_it_discovers_and_keeps_its_reports() {
    init();
    let sim = cairn_sim::start(
        SimConfig::builder()
            .count(2)
            .layout(Layout::ConsecutiveAddresses {
                base: Ipv4Addr::new(127, 42, 100, 1),
                port: 18000,
            })
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("pw");
    std::fs::write(&password, "password\n").unwrap();
    let mut config = AgentConfig::from_toml(&format!(
        r#"
        agent_id = "rack-100"
        scope = [100]
        # Nothing listens there: the agent never gets through.
        coordinators = ["http://127.0.0.1:9"]
        data_dir = "{}"
        api_listen = "127.0.0.1:0"
        [bmc]
        subnets = ["127.42.100.0/24"]
        ports = [18000]
        schemes = ["http"]
        username = "admin"
        password_file = "{}"
        [power]
        status_interval_ms = 200
        "#,
        dir.path().join("data").display(),
        password.display()
    ))
    .unwrap();
    config.bmc.connect_timeout_ms = 500;
    let agent = cairn_agent::runtime::start(config.clone()).await.unwrap();
    let s = wait(&agent, "a discovery run and polled power states", |s| {
        s.discovery.runs >= 1 && s.power.nodes_polled == 4 && s.outbox.depth >= 2
    })
    .await;
    assert_eq!((s.discovery.found, s.discovery.failed), (2, 0));
    assert_eq!(s.coordinator.state, LinkState::Autonomous);
    assert!(!s.coordinator.registered);
    assert!(s.coordinator.last_error.is_some(), "{s:?}");

    let api = agent.api_addr().unwrap();
    let body: serde_json::Value = reqwest::get(format!("http://{api}/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["coordinator"]["state"], "autonomous");
    assert_eq!(body["agent_id"], "rack-100");
    agent.shutdown().await;

    // The reports are on disk, in order: the discovery of both BMCs first.
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let first = store.first_report().unwrap().unwrap();
    assert_eq!(first.seq, 1);
    let discovered: Vec<String> = first
        .items
        .iter()
        .filter_map(|i| match &i.body {
            Some(Body::Discovery(d)) => {
                let v: serde_json::Value =
                    serde_json::from_slice(&d.endpoint_discovery_json).unwrap();
                Some(v["Endpoint"]["ID"].as_str().unwrap().to_owned())
            }
            _ => None,
        })
        .collect();
    assert_eq!(discovered.len(), 2, "{first:?}");
    assert!(
        discovered.contains(&"x100c0s1b0".to_owned()),
        "{discovered:?}"
    );
    assert!(!format!("{first:?}").contains("password"));
    assert!(store.outbox_depth() >= 2);
    drop(store);

    // Started again, it picks up where it was: the outbox is still there, numbering goes on.
    let agent = cairn_agent::runtime::start(config).await.unwrap();
    let s = agent.status();
    assert!(s.outbox.depth >= 2 && s.outbox.next_seq > 2, "{s:?}");
    agent.shutdown().await;
    sim.shutdown().await;
}
