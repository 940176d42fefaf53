//! The demo's racks boot their nodes: each agent serves DHCP, iPXE scripts and cloud-init
//! from its copy of the rack's desired state, to simulated nodes (`cairn_sim::node`) that
//! lease an address, fetch their script and their cloud-init data from it. Then one rack is
//! cut off from the coordinators: its nodes still boot, and once it is back its outbox of
//! boot events drains into the inventory.
//!
//! Without root, DHCP runs in relay mode: each agent's server listens on a loopback address of
//! its rack's boot network (`127.78.<rack>.0/24`), and the simulated nodes reach it as a
//! DHCP relay would, from `127.78.<rack>.254`.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use cairn_sim::node::{BootSummary, BootTarget, NodeSpec, boot_all};
use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};

use super::sample::{CABINETS, NODES_PER_BMC, SLOTS, Sample};
use super::scenario::step;
use crate::client::Client;
use crate::cmd::HSM;
use crate::local_cluster::wait_for;

/// Nodes booting at once per rack.
const CONCURRENCY: usize = 32;

/// Where one rack's agent serves its boot network (chosen before the agent starts).
#[derive(Debug, Clone)]
pub struct BootNet {
    /// The cabinet.
    pub cabinet: u32,
    /// Its index in [`CABINETS`]: the third octet of its boot network.
    pub index: u8,
    /// The agent's HTTP boot service.
    pub http: SocketAddr,
    /// The agent's DHCP server (relay mode).
    pub dhcp: SocketAddr,
    /// The agent's own API (`GET /status`).
    pub api: SocketAddr,
}

impl BootNet {
    /// Free loopback ports for cabinet number `index` of [`CABINETS`].
    pub fn pick(index: usize) -> anyhow::Result<BootNet> {
        let octet = u8::try_from(index).context("too many cabinets")?;
        let server = Ipv4Addr::new(127, 78, octet, 250);
        Ok(BootNet {
            cabinet: CABINETS[index],
            index: octet,
            http: free(Ipv4Addr::LOCALHOST, true)?,
            dhcp: free(server, false)?,
            api: free(Ipv4Addr::LOCALHOST, true)?,
        })
    }

    fn relay(&self) -> Ipv4Addr {
        Ipv4Addr::new(127, 78, self.index, 254)
    }

    /// The agent's configuration file: HTTP boot and DHCP in relay mode.
    pub fn write_config(&self, path: &Path) -> anyhow::Result<()> {
        let server = Ipv4Addr::new(127, 78, self.index, 250);
        let toml = format!(
            "[boot]\nlisten = \"{}\"\n\n[boot.dhcp]\nlisten = \"{}\"\nserver_ip = \"{server}\"\nsubnet = \"127.78.{}.0/24\"\n",
            self.http, self.dhcp, self.index
        );
        std::fs::write(path, toml).with_context(|| format!("cannot write {}", path.display()))
    }

    async fn status(&self) -> anyhow::Result<Value> {
        let url = format!("http://{}/status", self.api);
        Ok(reqwest::get(&url).await?.error_for_status()?.json().await?)
    }
}

/// A port free right now on `ip` (TCP when `tcp`, else UDP). The agent binds it a moment
/// later; nothing else on a demo machine competes for ports in 127.78.0.0/16.
fn free(ip: Ipv4Addr, tcp: bool) -> anyhow::Result<SocketAddr> {
    let addr = SocketAddr::from((ip, 0));
    let port = if tcp {
        std::net::TcpListener::bind(addr)?.local_addr()?.port()
    } else {
        std::net::UdpSocket::bind(addr)?.local_addr()?.port()
    };
    Ok(SocketAddr::from((ip, port)))
}

/// The node interfaces of cabinet `index` in the sample, with their address on the rack's boot
/// network (`127.78.<index>.<n>`, n = 1..=32).
fn boot_addresses(sample: &Sample, index: u8) -> Vec<(String, String, Ipv4Addr)> {
    let prefix = format!("x{}c", CABINETS[usize::from(index)]);
    sample
        .interfaces
        .iter()
        .filter_map(|i| {
            let node = i["ComponentID"].as_str()?;
            let mac = i["MACAddress"].as_str()?;
            (node.starts_with(&prefix) && node.contains('n'))
                .then(|| (node.to_owned(), mac.to_owned()))
        })
        .enumerate()
        .filter_map(|(k, (node, mac))| {
            let host = u8::try_from(k + 1).ok()?;
            Some((node, mac, Ipv4Addr::new(127, 78, index, host)))
        })
        .collect()
}

/// Give every node an address on its rack's boot network, through the API.
async fn assign(client: &Client, sample: &Sample, nets: &[BootNet]) -> anyhow::Result<usize> {
    let all: Vec<(String, Value)> = nets
        .iter()
        .flat_map(|net| boot_addresses(sample, net.index))
        .map(|(_, mac, ip)| {
            let id = mac.replace(':', "");
            (
                format!("{HSM}/Inventory/EthernetInterfaces/{id}/IPAddresses"),
                json!({"IPAddress": ip.to_string(), "Network": "rack-boot"}),
            )
        })
        .collect();
    futures::stream::iter(&all)
        .map(|(path, body)| client.post(path, body))
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(all.len())
}

/// Boot every node of a rack through its agent.
async fn boot_rack(sample: &Sample, net: &BootNet) -> BootSummary {
    let specs: Vec<NodeSpec> = boot_addresses(sample, net.index)
        .iter()
        .filter_map(|(_, mac, _)| mac.parse().ok().map(NodeSpec::new))
        .collect();
    let target = BootTarget::new(net.dhcp, net.relay()).with_retry(Duration::from_millis(500));
    let results = boot_all(specs, target, CONCURRENCY, Duration::from_secs(20)).await;
    BootSummary::of(&results)
}

fn check(summary: &BootSummary, net: &BootNet) -> anyhow::Result<()> {
    anyhow::ensure!(
        summary.booted == summary.nodes && summary.nodes == (SLOTS * NODES_PER_BMC) as usize,
        "rack x{}: {} of {} nodes booted: {:?}",
        net.cabinet,
        summary.booted,
        summary.nodes,
        summary.sample_errors
    );
    Ok(())
}

fn describe(summary: &BootSummary) -> String {
    format!(
        "{} nodes: DHCP, iPXE script, meta-data, user-data, vendor-data; whole boot p50 {} ms, p99 {} ms",
        summary.booted,
        summary.total.p50.as_millis(),
        summary.total.p99.as_millis()
    )
}

/// The whole boot part of the demo, printed step by step. `cut_off` is the partition of the
/// last rack's agent.
pub async fn run(
    client: &Client,
    sample: &Sample,
    nets: &[BootNet],
    cut_off: &super::partition::Partition,
) -> anyhow::Result<()> {
    let n = step(
        "gave every node an address on its rack's boot network (127.78.<rack>.0/24)",
        assign(client, sample, nets),
    )
    .await?;
    println!("  {n} addresses; the agents received them with their racks' desired state");
    let (first, last) = match nets {
        [first, .., last] => (first, last),
        _ => anyhow::bail!("the demo needs two racks"),
    };
    // The addresses reach the agents through their Watch streams: wait until a node boots.
    wait_for(
        Duration::from_secs(20),
        "the racks to hold the new addresses",
        || async {
            for net in nets {
                let s = net.status().await?;
                if s["desired"]["nodes"].as_u64() != Some(u64::from(SLOTS * NODES_PER_BMC)) {
                    return Ok(None);
                }
            }
            let probe = boot_rack(sample, first).await;
            Ok((probe.booted == probe.nodes).then_some(()))
        },
    )
    .await?;
    for net in nets {
        let summary = step(
            &format!("rack-x{} booted its nodes from its own cache", net.cabinet),
            async {
                let s = boot_rack(sample, net).await;
                check(&s, net)?;
                Ok(s)
            },
        )
        .await?;
        println!("  {}", describe(&summary));
    }

    cut_off.cut();
    let since = step(
        &format!(
            "cut rack-x{} off from every coordinator: it noticed and works on its own",
            last.cabinet
        ),
        wait_for(
            Duration::from_secs(30),
            "the agent to go autonomous",
            || async {
                let s = last.status().await?;
                Ok((s["coordinator"]["state"] == "autonomous")
                    .then(|| s["coordinator"]["since_ms"].as_u64().unwrap_or_default()))
            },
        ),
    )
    .await?;
    println!(
        "  its status: autonomous since {}",
        cairn_coordinator::clock::rfc3339_ms(since)
    );
    let summary = step(
        &format!("rack-x{}'s nodes still booted, cut off", last.cabinet),
        async {
            let s = boot_rack(sample, last).await;
            check(&s, last)?;
            Ok(s)
        },
    )
    .await?;
    println!("  {}", describe(&summary));
    let waiting = last.status().await?["outbox"]["depth"]
        .as_u64()
        .unwrap_or(0);
    println!("  its outbox holds {waiting} reports (boot events) for the coordinators");

    cut_off.restore();
    step(
        &format!("reconnected rack-x{}: its outbox drained", last.cabinet),
        wait_for(Duration::from_secs(30), "the outbox to drain", || async {
            let s = last.status().await?;
            Ok(
                (s["coordinator"]["state"] == "connected" && s["outbox"]["depth"] == 0)
                    .then_some(()),
            )
        }),
    )
    .await?;
    let boots = client.get("/apis/cairn/v1/boots", &[]).await?;
    let agent = format!("rack-x{}", last.cabinet);
    let from_cut = boots["boots"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|b| b["Steps"]["cloud-init"]["Agent"] == agent.as_str())
                .count()
        })
        .unwrap_or(0);
    println!(
        "  the inventory shows the boots of {from_cut} nodes served by {agent} (`GET /apis/cairn/v1/boots`)"
    );
    Ok(())
}
