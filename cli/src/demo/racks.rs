//! The demo's hardware: the sample's two cabinets as simulated racks — one `cairn-sim` farm of
//! Redfish BMCs per cabinet, in this process, with live power states that change
//! [`POWER_DELAY`] after a reset — and one rack agent per cabinet (`cairn agent`, a child
//! process). The sample's Redfish endpoints are pointed at the simulated BMCs, each with its
//! password, through the ordinary API; the agents discover them, then every node is powered on.

use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cairn_protocols::power::PowerOperation;
use cairn_sim::{Credentials, Layout, SimConfig};
use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::json;

use super::partition::Partition;
use super::rack_boot::BootNet;
use super::sample::{CABINETS, NODES_PER_BMC, SLOTS, Sample};
use crate::client::Client;
use crate::cmd::HSM;
use crate::cmd::discover::{self, Discovery};
use crate::cmd::discover_summary::{self, Inventory};
use crate::cmd::power::{Outcome, PCS, TransitionRequest, transition};
use crate::local_agent::{LocalAgent, wait_connected};
use crate::local_cluster::{LocalCluster, wait_for};
use crate::output::records;

/// How long a simulated node takes to show a new power state.
pub const POWER_DELAY: Duration = Duration::from_secs(1);

/// The BMCs' user name (the sample's endpoints already say `root`).
const USER: &str = "root";

/// Rows of the power result table the demo prints (the rest is one command away).
const SHOWN_ROWS: usize = 6;

/// The running racks: stopped when dropped (agents are killed, BMCs stop serving, the last
/// rack's link to the coordinators goes).
pub struct Racks {
    sims: Vec<cairn_sim::Handle>,
    agents: Vec<LocalAgent>,
    nets: Vec<BootNet>,
    partition: Option<Partition>,
}

impl Racks {
    /// How many simulated BMCs.
    pub fn bmcs(&self) -> usize {
        self.sims.iter().map(|s| s.bmcs().len()).sum()
    }
}

/// A password nobody chose: the demo's BMCs accept only it.
fn password() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("demo-{:016x}", h.finish())
}

/// Start one simulated farm per cabinet, each BMC on its own port of 127.0.0.1.
pub async fn start_bmcs(password: &str) -> anyhow::Result<Vec<cairn_sim::Handle>> {
    let mut sims = Vec::new();
    for (i, _) in CABINETS.iter().enumerate() {
        let config = SimConfig::builder()
            .count(SLOTS)
            .first_index(i as u32 * SLOTS)
            .layout(Layout::ConsecutivePorts {
                address: IpAddr::V4(Ipv4Addr::LOCALHOST),
                base_port: 0,
            })
            .systems(NODES_PER_BMC as u8)
            .power_delay(POWER_DELAY)
            .credentials(Credentials::new(USER, password))
            .build()?;
        sims.push(cairn_sim::start(config).await?);
    }
    Ok(sims)
}

/// Point the sample's endpoint `x<cab>c0s<slot>b0` at simulated BMC `slot` of that cabinet's
/// farm, with the BMC's password (which the coordinators hand only to that rack's agent).
pub async fn point_endpoints(
    client: &Client,
    sims: &[cairn_sim::Handle],
    password: &str,
) -> anyhow::Result<()> {
    let patches: Vec<(String, serde_json::Value)> = CABINETS
        .iter()
        .zip(sims)
        .flat_map(|(cab, sim)| {
            sim.bmcs().iter().enumerate().map(move |(slot, bmc)| {
                (
                    format!("{HSM}/Inventory/RedfishEndpoints/x{cab}c0s{slot}b0"),
                    json!({"FQDN": bmc.url(), "IPAddress": bmc.addr().ip().to_string(),
                        "User": USER, "Password": password}),
                )
            })
        })
        .collect();
    futures::stream::iter(&patches)
        .map(|(path, body)| client.patch(path, body))
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Start one agent per cabinet, serving its rack's boot network (`nets`). The last one talks
/// to the replicas through `partition`'s relays, the others directly.
pub fn start_agents(
    exe: &Path,
    dir: &Path,
    cluster: &LocalCluster,
    nets: &[BootNet],
    partition: &Partition,
) -> anyhow::Result<Vec<LocalAgent>> {
    let direct: Vec<String> = cluster.replicas().map(|r| r.api_url()).collect();
    let dir = dir.join("agents");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    nets.iter()
        .enumerate()
        .map(|(i, net)| {
            let id = format!("rack-x{}", net.cabinet);
            let config = dir.join(format!("{id}.toml"));
            net.write_config(&config)?;
            let urls = if i + 1 == nets.len() {
                partition.urls()
            } else {
                &direct[..]
            };
            let mut flags: Vec<String> = urls
                .iter()
                .flat_map(|u| ["--coordinator".to_owned(), u.clone()])
                .collect();
            flags.extend([
                "--config".to_owned(),
                config.display().to_string(),
                "--scope".to_owned(),
                format!("x{}", net.cabinet),
                "--api-listen".to_owned(),
                net.api.to_string(),
                // Discover at start and on request only, so the demo's output says what
                // happened when.
                "--rediscover-interval".to_owned(),
                "0s".to_owned(),
            ]);
            LocalAgent::spawn(exe, &dir, &id, &flags)
        })
        .collect()
}

/// The whole hardware part of the demo, printed step by step.
pub async fn run(
    cluster: &LocalCluster,
    client: &Client,
    sample: &Sample,
) -> anyhow::Result<Racks> {
    let exe = std::env::current_exe().context("cannot find the cairn executable")?;
    let password = password();
    let sims = super::scenario::step(
        &format!(
            "started {} simulated racks of Redfish BMCs (cairn-sim, in this process): {} BMCs, \
             {} nodes, power changes show after {} s",
            CABINETS.len(),
            CABINETS.len() as u32 * SLOTS,
            CABINETS.len() as u32 * SLOTS * NODES_PER_BMC,
            POWER_DELAY.as_secs()
        ),
        start_bmcs(&password),
    )
    .await?;
    let nets = (0..CABINETS.len())
        .map(BootNet::pick)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let replicas: Vec<std::net::SocketAddr> = cluster.replicas().map(|r| r.api_addr()).collect();
    let mut racks = Racks {
        sims,
        agents: Vec::new(),
        nets,
        partition: Some(Partition::start(&replicas).await?),
    };
    super::scenario::step(
        "pointed the sample's Redfish endpoints at them, each with its BMC password (PATCH)",
        point_endpoints(client, &racks.sims, &password),
    )
    .await?;
    let before = Inventory::read(client).await?;
    let partition = racks.partition.as_ref().context("the relays run")?;
    racks.agents = start_agents(&exe, cluster.dir(), cluster, &racks.nets, partition)?;
    let names: Vec<String> = racks.agents.iter().map(|a| a.id.clone()).collect();
    super::scenario::step(
        &format!(
            "started {} rack agents (`cairn agent`): {}; registered and connected",
            names.len(),
            names.join(", ")
        ),
        wait_connected(client, &mut racks.agents, Duration::from_secs(30)),
    )
    .await?;

    let found = super::scenario::step(
        "the agents discovered their racks (`cairn discover`)",
        discovered(client, &before, racks.bmcs()),
    )
    .await?;
    println!(
        "  {} (discovery {})",
        discover_summary::totals(&found.rows),
        found.id
    );

    let outcome = super::scenario::step(
        "powered every node on (`cairn power on x1000 x1001`)",
        power_on(client),
    )
    .await?;
    print_results(&outcome)?;
    let nodes = CABINETS.len() * (SLOTS * NODES_PER_BMC) as usize;
    super::scenario::step(
        "every node reports power on (`cairn power status`)",
        all_on(client, nodes),
    )
    .await?;
    super::rack_boot::run(client, sample, &racks.nets, partition).await?;
    Ok(racks)
}

/// Ask for a discovery and check that every BMC was found with its nodes.
async fn discovered(client: &Client, before: &Inventory, bmcs: usize) -> anyhow::Result<Discovery> {
    let d = discover::discover_since(client, before, &[], false, Duration::from_secs(60)).await?;
    discover::check(&d)?;
    let nodes: usize = d.rows.iter().map(|r| r.nodes).sum();
    let want = bmcs * NODES_PER_BMC as usize;
    anyhow::ensure!(
        d.rows.len() == bmcs && nodes == want,
        "expected {bmcs} BMCs and {want} nodes, discovery reported {} and {nodes}:\n{}",
        d.rows.len(),
        discover_summary::table(&d.rows)
    );
    Ok(d)
}

async fn power_on(client: &Client) -> anyhow::Result<Outcome> {
    let request = TransitionRequest {
        operation: PowerOperation::On,
        locations: CABINETS.iter().map(|c| format!("x{c}")).collect(),
        deadline_minutes: Some(1),
    };
    let started = Instant::now();
    let start = transition::start(client, &request).await?;
    let outcome = transition::follow(client, &start.transition_id, started).await?;
    transition::check(&outcome)?;
    Ok(outcome)
}

fn print_results(outcome: &Outcome) -> anyhow::Result<()> {
    let table = outcome.table()?;
    let lines: Vec<&str> = table.lines().collect();
    for line in lines.iter().take(SHOWN_ROWS + 1) {
        println!("  {line}");
    }
    let more = lines.len().saturating_sub(SHOWN_ROWS + 1);
    if more > 0 {
        println!(
            "  ... {more} more (`cairn power transitions {}`)",
            outcome.detail.summary.transition_id
        );
    }
    println!("  {}", outcome.summary());
    Ok(())
}

/// Wait until power-status says `nodes` nodes are on.
async fn all_on(client: &Client, nodes: usize) -> anyhow::Result<()> {
    wait_for(
        Duration::from_secs(15),
        "every node to report power on",
        || async {
            let v = client
                .post(
                    &format!("{PCS}/power-status"),
                    &json!({"powerStateFilter": "on"}),
                )
                .await?;
            Ok((records(&v, Some("status")).len() >= nodes).then_some(()))
        },
    )
    .await
}
