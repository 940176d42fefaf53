//! Power transitions on OpenStack sushy-tools BMCs (`shared/peers/bmc-farm.sh`: HTTPS with a
//! self-signed certificate given to the agent as its CA file, HTTP Basic auth, power changes
//! landing 1 to 11 s after the reset): on, hard-restart and off across every system of three
//! BMCs end with every target succeeded, and the PowerState sushy reports (asked with curl, an
//! independent client) is the operation's.
//!
//! Discovery against sushy is checked in detail by the agent crate's own tests; here it is the
//! way in. Needs root (the farm installs sushy-tools on first use): skipped otherwise.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use cairn_agent::redfish::Scheme;
use cairn_tests::peers::{require, run_script};
use cairn_tests::wait_for;
use serde_json::Value;

use super::Rack;

const NET: u8 = 200;
const BMCS: usize = 3;
const PASSWORD: &str = "sushy-power-pw";

/// Stops the farm when the test ends, passing or not.
struct Farm {
    peers: PathBuf,
    dir: PathBuf,
}

impl Drop for Farm {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(self.peers.join("bmc-farm-stop.sh"))
            .env("BMC_FARM_DIR", &self.dir)
            .output();
    }
}

/// sushy's PowerState of a system, read with curl.
async fn power_state(url: &str, cert: &Path) -> anyhow::Result<String> {
    let out = tokio::process::Command::new("curl")
        .args(["-s", "-f", "-m", "20", "--cacert"])
        .arg(cert)
        .args(["-u", &format!("admin:{PASSWORD}"), url])
        .output()
        .await?;
    anyhow::ensure!(out.status.success(), "curl {url} failed");
    let v: Value = serde_json::from_slice(&out.stdout)?;
    v["PowerState"]
        .as_str()
        .map(str::to_owned)
        .context("no PowerState")
}

#[tokio::test]
async fn sushy_power_transitions_end_in_the_right_state() -> anyhow::Result<()> {
    let Some(peers) = require(
        "agent::sushy",
        &["bmc-farm.sh", "bmc-farm-stop.sh"],
        &["curl"],
    ) else {
        return Ok(());
    };
    let rack = Rack::without_bmcs(NET, 1).await?;
    let dir = rack.dir.path().join("farm");
    let farm = Farm {
        peers: peers.clone(),
        dir: dir.clone(),
    };
    let net = format!("127.43.{NET}");
    let auth = format!("admin:{PASSWORD}");
    let count = BMCS.to_string();
    let run = run_script(
        &peers,
        "bmc-farm.sh",
        &[&count],
        &[
            ("BMC_FARM_DIR", dir.to_str().context("farm dir")?),
            ("BMC_FARM_NET", &net),
            ("BMC_FARM_TLS", "1"),
            ("BMC_FARM_AUTH", &auth),
            ("BMC_FARM_KINDS", "sushy"),
        ],
        &rack.dir.path().join("farm.log"),
        Duration::from_secs(600),
    )
    .await?;
    anyhow::ensure!(run.ok(), "bmc-farm.sh failed:\n{}", run.output);
    let cert = dir.join("tls/cert.pem");

    std::fs::write(rack.password_file(), format!("{PASSWORD}\n"))?;
    let mut config = rack.agent_config("rack-sushy", "agent");
    config.bmc.subnets = vec![format!("{net}.0/24").parse()?];
    config.bmc.ports = vec![8443];
    config.bmc.schemes = vec![Scheme::Https];
    config.bmc.ca_file = Some(cert.clone());
    config.bmc.request_timeout_ms = 20_000;
    config.power.confirm_poll_ms = 500;
    let agent = rack.start_agent(config).await?;

    // Every system of every BMC, and where sushy serves it.
    let prefix = format!("x{NET}c0s");
    let nodes: Vec<(String, String)> = wait_for(
        "sushy's systems in the inventory",
        Duration::from_secs(120),
        || async {
            let (_, body) = rack
                .get("/hsm/v2/Inventory/ComponentEndpoints")
                .await
                .ok()?;
            let list: Vec<(String, String)> = body["ComponentEndpoints"]
                .as_array()?
                .iter()
                .filter(|c| c["ComponentEndpointType"] == "ComponentEndpointComputerSystem")
                .filter_map(|c| {
                    let id = c["ID"].as_str()?;
                    let url = c["RedfishURL"].as_str()?;
                    id.starts_with(&prefix)
                        .then(|| (id.to_owned(), format!("https://{url}")))
                })
                .collect();
            (list.len() >= 2 * BMCS).then_some(list)
        },
    )
    .await?;
    let xnames: Vec<String> = nodes.iter().map(|(x, _)| x.clone()).collect();

    // sushy's fake systems start off: every operation changes something.
    for (operation, want) in [("on", "On"), ("hard-restart", "On"), ("off", "Off")] {
        let id = rack.transition(operation, &xnames).await?;
        let tasks = rack.finished(&id).await?;
        assert_eq!(tasks.len(), xnames.len());
        for (x, status, error) in &tasks {
            assert_eq!(status, "succeeded", "{operation} {x}: {error}");
        }
        for (x, url) in &nodes {
            let state = power_state(url, &cert).await?;
            assert_eq!(state, want, "{operation}: {x} ({url})");
        }
        println!("sushy: {operation} of {} systems succeeded", xnames.len());
    }
    agent.shutdown().await;
    drop(farm);
    Ok(())
}
