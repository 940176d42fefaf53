//! Discovery lands in the inventory: the agent scans its /24, crawls every simulated BMC and
//! reports; the coordinators then serve the nodes, their MACs and the BMCs over SMD's REST API.
//! A discover request (`POST /hsm/v2/Inventory/Discover`) runs again and completes; credentials
//! an operator sets on a RedfishEndpoint reach the agent and are used, and never read back.

use std::collections::BTreeSet;
use std::time::Duration;

use cairn_protocols::MacAddr;
use cairn_tests::wait_for;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Rack, wait_agent};

#[tokio::test]
async fn discovery_lands_in_the_inventory_and_answers_discover_requests() -> anyhow::Result<()> {
    let rack = Rack::start(1, 1, 3, |b| b).await?;
    let mut config = rack.agent_config("rack-1", "agent");
    config.api_listen = Some("127.0.0.1:0".parse()?);
    let agent = rack.start_agent(config).await?;
    rack.wait_discovered().await?;

    // Every MAC the simulator serves, on the node that has it.
    for (i, bmc) in rack.sim().bmcs().iter().enumerate() {
        for (n, system) in bmc.info().systems.iter().enumerate() {
            let node = rack.node(i, n);
            let want: BTreeSet<MacAddr> = system
                .macs
                .iter()
                .map(|m| MacAddr::parse(m))
                .collect::<Result<_, _>>()?;
            let (status, body) = rack
                .get(&format!(
                    "/hsm/v2/Inventory/EthernetInterfaces?ComponentID={node}"
                ))
                .await?;
            assert_eq!(status, 200, "{body}");
            let have: BTreeSet<MacAddr> = body
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e["MACAddress"].as_str())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
                .into_iter()
                .map(MacAddr::parse)
                .collect::<Result<_, _>>()?;
            assert_eq!(have, want, "{node}");
        }
        let (status, ep) = rack
            .get(&format!(
                "/hsm/v2/Inventory/RedfishEndpoints/{}",
                rack.bmc(i)
            ))
            .await?;
        assert_eq!(status, 200, "{ep}");
        assert_eq!(
            ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
            "{ep}"
        );
    }

    // The coordinators list the agent; its own API says it is connected.
    let (_, agents) = rack.get("/apis/cairn/v1/agents").await?;
    assert!(agents.to_string().contains("rack-1"), "{agents}");
    let api = agent.api_addr().expect("the agent serves its API");
    let client = reqwest::Client::new();
    let healthz = client.get(format!("http://{api}/healthz")).send().await?;
    assert_eq!(healthz.status(), 200);
    let status: Value = wait_for(
        "the agent's outbox to drain",
        Duration::from_secs(30),
        || {
            let client = client.clone();
            async move {
                let s: Value = client
                    .get(format!("http://{api}/status"))
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                (s["coordinator"]["state"] == "connected" && s["outbox"]["depth"] == 0).then_some(s)
            }
        },
    )
    .await?;
    assert_eq!(
        status["scope"],
        json!([format!("x{}", rack.net)]),
        "{status}"
    );
    assert_eq!(status["discovery"]["found"], 3, "{status}");

    // Discover on request: the status goes to Complete once the agent reports DiscoverDone.
    let runs = agent.status().discovery.runs;
    let (code, uris) = rack
        .send(Method::POST, "/hsm/v2/Inventory/Discover", &json!({}))
        .await?;
    assert_eq!(code, 200, "{uris}");
    let uri = uris[0]["URI"].as_str().unwrap_or_default().to_owned();
    wait_for(
        "the discover request to complete",
        Duration::from_secs(30),
        || async {
            let (_, s) = rack.get(&uri).await.ok()?;
            (s["Status"] == "Complete").then_some(())
        },
    )
    .await?;
    assert!(agent.status().discovery.runs > runs);

    // An operator gives BMC 0 its own credentials; the BMC is changed to accept only those.
    rack.sim().bmcs()[0].set_credentials(cairn_sim::Credentials::new("ops", "per-bmc-secret"));
    let bmc = rack.bmc(0);
    let (code, body) = rack
        .send(
            Method::PATCH,
            &format!("/hsm/v2/Inventory/RedfishEndpoints/{bmc}"),
            &json!({ "User": "ops", "Password": "per-bmc-secret" }),
        )
        .await?;
    assert!(code < 300, "PATCH: {code} {body}");
    let (code, uris) = rack
        .send(
            Method::POST,
            "/hsm/v2/Inventory/Discover",
            &json!({ "xnames": [bmc] }),
        )
        .await?;
    assert_eq!(code, 200, "{uris}");
    let uri = uris[0]["URI"].as_str().unwrap_or_default().to_owned();
    wait_for(
        "the targeted discovery to complete",
        Duration::from_secs(30),
        || async {
            let (_, s) = rack.get(&uri).await.ok()?;
            (s["Status"] == "Complete").then_some(())
        },
    )
    .await?;
    let (_, ep) = rack
        .get(&format!("/hsm/v2/Inventory/RedfishEndpoints/{bmc}"))
        .await?;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    assert!(!ep.to_string().contains("per-bmc-secret"), "{ep}");
    let s = wait_agent(&agent, "the outbox to drain", |s| s.outbox.depth == 0).await?;
    assert_eq!(s.outbox.refused, 0);
    agent.shutdown().await;
    Ok(())
}

/// The `cairn-agent` binary, started by a script's flags alone, discovers the rack.
#[tokio::test]
async fn the_binary_runs_from_flags_alone() -> anyhow::Result<()> {
    let rack = Rack::start(2, 1, 2, |b| b).await?;
    let binary = cairn_tests::agent_binary()?;
    let log = rack.dir.path().join("agent.log");
    let mut command = std::process::Command::new(binary);
    command
        .args(["--agent-id", "rack-2", "--scope", &format!("x{}", rack.net)])
        .args(["--coordinator", &rack.cluster.api_url(1)])
        .arg("--data-dir")
        .arg(rack.data_dir("binary"))
        .args(["--bmc-subnet", &format!("127.43.{}.0/24", rack.net)])
        .args(["--bmc-port", "8000", "--bmc-username", "admin"])
        .arg("--bmc-password-file")
        .arg(rack.password_file())
        .args(["--rediscover-interval", "1h", "--api-listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(std::fs::File::create(&log)?)
        .stderr(std::fs::File::options().append(true).open(&log)?);
    let mut child = KillOnDrop(command.spawn()?);
    let found = rack.wait_discovered().await;
    if found.is_err() {
        let _ = child.0.kill();
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        eprintln!("cairn-agent output:\n{output}");
    }
    found?;
    // SIGTERM: a graceful stop.
    let pid = child.0.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()?;
    let status = wait_for("cairn-agent to exit", Duration::from_secs(20), || {
        let exited = child.0.try_wait().ok().flatten();
        async move { exited }
    })
    .await?;
    assert!(status.success(), "cairn-agent exited with {status}");
    Ok(())
}

/// Kills a child process left running by a failing test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
