//! The rack agent end to end: real `cairn-coordinator` processes, a farm of simulated BMCs
//! (`cairn-sim`, in this process) and the agent (`cairn_agent::runtime`, as a library; once as
//! the `cairn-agent` binary), checked through the coordinators' REST APIs (SMD inventory, PCS
//! transitions and power status) and the agent's own status.
//!
//! Each test owns a /24 of loopback addresses, `127.43.<net>.0/24`, and cabinet `x<net>`: its
//! BMC `i` listens on `127.43.<net>.<i+1>:8000` (plain HTTP) and is discovered by a scan of that
//! /24 as `x<net>c0s<i+1>b0`, its systems as `...n0`, `...n1`.

mod boot;
mod discovery;
mod failover;
mod power;
mod restart;
mod sushy;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use cairn_agent::config::AgentConfig;
use cairn_agent::redfish::Scheme;
use cairn_agent::runtime::{AgentStatus, Handle};
use cairn_sim::{Layout, SimConfig, SimConfigBuilder};
use cairn_tests::{Cluster, wait_for};
use reqwest::Method;
use serde_json::{Value, json};

/// The port of every simulated BMC.
const BMC_PORT: u16 = 8000;

/// Logs to the test output (`RUST_LOG` to see more) and the crypto provider.
fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,cairn_agent=info".into()),
        )
        .with_test_writer()
        .try_init();
}

/// A coordinator cluster, a farm of simulated BMCs and a place for agents' data.
struct Rack {
    cluster: Cluster,
    sim: Option<cairn_sim::Handle>,
    dir: tempfile::TempDir,
    net: u8,
}

impl Rack {
    /// `replicas` coordinators and `bmcs` simulated BMCs (2 nodes each, off) as `tweak` adjusts.
    async fn start(
        net: u8,
        replicas: usize,
        bmcs: u32,
        tweak: impl FnOnce(SimConfigBuilder) -> SimConfigBuilder,
    ) -> anyhow::Result<Rack> {
        let builder = SimConfig::builder()
            .count(bmcs)
            .first_index(u32::from(net) * 16)
            .layout(Layout::ConsecutiveAddresses {
                base: Ipv4Addr::new(127, 43, net, 1),
                port: BMC_PORT,
            });
        let mut rack = Rack::without_bmcs(net, replicas).await?;
        rack.sim = Some(cairn_sim::start(tweak(builder).build()?).await?);
        Ok(rack)
    }

    /// `replicas` coordinators, no simulated BMCs (the test brings its own).
    async fn without_bmcs(net: u8, replicas: usize) -> anyhow::Result<Rack> {
        init();
        let cluster = Cluster::builder().coordinators(replicas).start().await?;
        Ok(Rack {
            cluster,
            sim: None,
            dir: tempfile::Builder::new()
                .prefix("cairn-agent-e2e-")
                .tempdir()?,
            net,
        })
    }

    fn sim(&self) -> &cairn_sim::Handle {
        self.sim.as_ref().expect("the simulator runs")
    }

    fn cabinet(&self) -> u32 {
        u32::from(self.net)
    }

    /// BMC `i`'s xname.
    fn bmc(&self, i: usize) -> String {
        format!("x{}c0s{}b0", self.net, i + 1)
    }

    /// Node `n` of BMC `i`.
    fn node(&self, i: usize, n: usize) -> String {
        format!("{}n{n}", self.bmc(i))
    }

    /// Every node of the farm.
    fn nodes(&self) -> Vec<String> {
        (0..self.sim().bmcs().len())
            .flat_map(|i| (0..self.sim().bmcs()[i].system_count()).map(move |n| (i, n)))
            .map(|(i, n)| self.node(i, n))
            .collect()
    }

    /// A data directory for an agent.
    fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// An agent serving this rack's cabinet, scanning its /24, talking to every replica.
    fn agent_config(&self, id: &str, data: &str) -> AgentConfig {
        let mut c = AgentConfig {
            agent_id: Some(id.to_owned()),
            scope: vec![self.cabinet()],
            coordinators: self
                .cluster
                .ids()
                .into_iter()
                .map(|r| self.cluster.api_url(r))
                .collect(),
            data_dir: Some(self.data_dir(data)),
            ..AgentConfig::default()
        };
        c.bmc.subnets = vec![
            format!("127.43.{}.0/24", self.net)
                .parse()
                .expect("a subnet"),
        ];
        c.bmc.ports = vec![BMC_PORT];
        c.bmc.schemes = vec![Scheme::Http];
        c.bmc.username = Some("admin".into());
        c.bmc.password_file = Some(self.password_file());
        c.bmc.connect_timeout_ms = 500;
        c.bmc.request_timeout_ms = 3_000;
        c.power.confirm_poll_ms = 100;
        c.power.status_interval_ms = 500;
        c
    }

    fn password_file(&self) -> PathBuf {
        let path = self.dir.path().join("bmc-password");
        if !path.exists() {
            std::fs::write(&path, "password\n").expect("writing the password file");
        }
        path
    }

    async fn start_agent(&self, config: AgentConfig) -> anyhow::Result<Handle> {
        Ok(cairn_agent::runtime::start(config).await?)
    }

    async fn get(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        for id in self.cluster.running() {
            if let Ok(r) = self.cluster.get(id, path).await {
                return Ok(r);
            }
        }
        anyhow::bail!("no replica answered GET {path}")
    }

    async fn send(&self, method: Method, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        for id in self.cluster.running() {
            if let Ok(r) = self.cluster.send(id, method.clone(), path, body).await {
                return Ok(r);
            }
        }
        anyhow::bail!("no replica answered {method} {path}")
    }

    /// Waits until the inventory holds every node of the farm with its interfaces.
    async fn wait_discovered(&self) -> anyhow::Result<()> {
        let want = self.nodes();
        wait_for(
            "every node in the inventory",
            Duration::from_secs(30),
            || async {
                let (status, body) = self.get("/hsm/v2/State/Components?type=Node").await.ok()?;
                let have: Vec<&str> = body["Components"]
                    .as_array()?
                    .iter()
                    .filter_map(|c| c["ID"].as_str())
                    .collect();
                (status == 200 && want.iter().all(|n| have.contains(&n.as_str()))).then_some(())
            },
        )
        .await
    }

    /// Starts a PCS transition; returns its id.
    async fn transition(&self, operation: &str, nodes: &[String]) -> anyhow::Result<String> {
        let location: Vec<Value> = nodes.iter().map(|x| json!({ "xname": x })).collect();
        let body =
            json!({ "operation": operation, "taskDeadlineMinutes": 2, "location": location });
        let (status, answer) = self
            .send(Method::POST, "/power-control/v1/transitions", &body)
            .await?;
        anyhow::ensure!(status == 200, "POST transitions: {status} {answer}");
        answer["transitionID"]
            .as_str()
            .map(str::to_owned)
            .context("no transitionID")
    }

    /// Whether every task of transition `id` reads in-progress right now (`None`: unreadable).
    async fn all_in_progress(&self, id: &str) -> Option<bool> {
        let (_, t) = self
            .get(&format!("/power-control/v1/transitions/{id}"))
            .await
            .ok()?;
        Some(
            t["tasks"]
                .as_array()?
                .iter()
                .all(|t| t["taskStatus"] == "in-progress"),
        )
    }

    /// Waits until every task of transition `id` is in progress.
    async fn wait_in_progress(&self, id: &str) -> anyhow::Result<()> {
        wait_for(
            "every task in progress",
            Duration::from_secs(30),
            || async { self.all_in_progress(id).await?.then_some(()) },
        )
        .await
        .map(|_| ())
    }

    /// Waits until a transition is completed (or aborted); returns its tasks by xname.
    async fn finished(&self, id: &str) -> anyhow::Result<Vec<(String, String, String)>> {
        let path = format!("/power-control/v1/transitions/{id}");
        let done = wait_for(
            "the transition to finish",
            Duration::from_secs(150),
            || async {
                let (status, body) = self.get(&path).await.ok()?;
                let s = body["transitionStatus"].as_str()?;
                (status == 200 && (s == "completed" || s == "aborted")).then_some(body)
            },
        )
        .await?;
        let mut tasks: Vec<(String, String, String)> = done["tasks"]
            .as_array()
            .context("no tasks")?
            .iter()
            .map(|t| {
                let s = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
                (s("xname"), s("taskStatus"), s("error"))
            })
            .collect();
        tasks.sort();
        Ok(tasks)
    }

    /// Waits until the coordinators' power status shows `state` for every node of `nodes`.
    async fn wait_power_status(&self, nodes: &[String], state: &str) -> anyhow::Result<()> {
        wait_for(
            &format!("power-status {state} for {nodes:?}"),
            Duration::from_secs(30),
            || async {
                let (_, body) = self.get("/power-control/v1/power-status").await.ok()?;
                let entries = body["status"].as_array()?;
                nodes
                    .iter()
                    .all(|n| {
                        entries.iter().any(|e| {
                            e["xname"] == n.as_str()
                                && e["powerState"] == state
                                && e["managementState"] == "available"
                        })
                    })
                    .then_some(())
            },
        )
        .await
    }

    /// The simulator's PowerState of node `n` of BMC `i`.
    fn sim_state(&self, i: usize, n: usize) -> cairn_sim::PowerState {
        self.sim().bmcs()[i]
            .power_state(n)
            .expect("the system exists")
    }
}

/// Waits until the agent's status satisfies `check`.
async fn wait_agent(
    agent: &Handle,
    what: &str,
    check: impl Fn(&AgentStatus) -> bool,
) -> anyhow::Result<AgentStatus> {
    wait_for(what, Duration::from_secs(30), || async {
        let s = agent.status();
        check(&s).then_some(s)
    })
    .await
}

/// Copies a closed agent data directory (what a backup or a disk image would hold).
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
