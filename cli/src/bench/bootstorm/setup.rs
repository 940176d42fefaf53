//! The storm's rack: `--nodes` nodes in one cabinet with static addresses on a loopback boot
//! subnet, loaded into the coordinators in bulk, and one agent (a `cairn agent` child process,
//! so that its CPU time and memory are its own) serving them DHCP in relay mode and HTTP.
//!
//! Addressing: the boot subnet is [`SUBNET`] (a /18 of 127.0.0.0/8, which Linux answers on
//! `lo` whole, so every node's address can be a socket's source without root); node `i` has
//! `127.64.0.0 + 1 + i`, the agent's services listen on [`SERVER_IP`] and the virtual nodes
//! relay their DHCP from [`RELAY_IP`], both in the subnet's last /24 where no node is.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use cairn_protocols::MacAddr;
use cairn_sim::node::mac_of;
use serde_json::{Value, json};

use crate::bench::nodes::{NodeRecord, load_nodes};
use crate::client::Client;
use crate::local_agent::LocalAgent;
use crate::local_cluster::{LocalCluster, wait_for};

/// The boot subnet.
pub const SUBNET: &str = "127.64.0.0/18";
/// Its network address.
const NETWORK: Ipv4Addr = Ipv4Addr::new(127, 64, 0, 0);
/// The agent's DHCP server identifier, DHCP and HTTP address.
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(127, 64, 63, 250);
/// The DHCP relay's address (giaddr; the virtual nodes' UDP source).
pub const RELAY_IP: Ipv4Addr = Ipv4Addr::new(127, 64, 63, 254);
/// The cabinet of every node, and the agent's scope.
pub const CABINET: u32 = 1000;
/// Most nodes: the last one's address stays below the subnet's last /24 (and 8 chassis × 256
/// slots × 8 nodes name them all).
pub const MAX_NODES: u32 = 63 * 256 - 1;

/// Typical operator params: the script comes to about 400 bytes, as in DESIGN.md's anchor.
const PARAMS: &str = "console=ttyS0,115200 ip=dhcp root=live:http://10.1.0.1/boot/images/compute/rootfs.squashfs rd.live.overlay.overlayfs=1 quiet";
/// Kernel and initrd URLs: valid, on a loopback port nothing listens on (the discard port),
/// so the agent's image prefetch fails at once and the storm measures no image traffic.
const IMAGES: &str = "http://127.0.0.1:9/images/compute";

/// Node `i`'s xname: 8 nodes per slot, 256 slots per chassis, 8 chassis.
pub fn xname(i: u32) -> String {
    format!("x{CABINET}c{}s{}b0n{}", i / 2048, (i / 8) % 256, i % 8)
}

/// Node `i`'s address.
pub fn ip(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(NETWORK) + 1 + i)
}

/// Node `i`'s boot MAC.
pub fn mac(i: u32) -> MacAddr {
    mac_of(i)
}

/// Where the agent listens, chosen before it starts.
#[derive(Debug, Clone, Copy)]
pub struct AgentAddrs {
    /// HTTP boot service.
    pub http: SocketAddr,
    /// DHCP (relay mode).
    pub dhcp: SocketAddr,
    /// The agent's own API (`GET /status`).
    pub api: SocketAddr,
}

impl AgentAddrs {
    /// Ports free right now on [`SERVER_IP`] (and 127.0.0.1 for the API).
    pub fn pick() -> anyhow::Result<AgentAddrs> {
        let tcp = |ip: Ipv4Addr| -> anyhow::Result<SocketAddr> {
            let l = std::net::TcpListener::bind((ip, 0))
                .with_context(|| format!("cannot bind {ip} (is 127.0.0.0/8 on lo?)"))?;
            Ok(SocketAddr::from((ip, l.local_addr()?.port())))
        };
        let udp = std::net::UdpSocket::bind((SERVER_IP, 0))?;
        Ok(AgentAddrs {
            http: tcp(SERVER_IP)?,
            dhcp: SocketAddr::from((SERVER_IP, udp.local_addr()?.port())),
            api: tcp(Ipv4Addr::LOCALHOST)?,
        })
    }
}

/// The agent's configuration file: HTTP boot, and DHCP in relay mode on the boot subnet.
pub fn agent_config(addrs: &AgentAddrs) -> String {
    format!(
        "[boot]\nlisten = \"{}\"\n\n[boot.dhcp]\nlisten = \"{}\"\nserver_ip = \"{SERVER_IP}\"\n\
         subnet = \"{SUBNET}\"\n",
        addrs.http, addrs.dhcp
    )
}

/// Start the agent: scope [`CABINET`], every replica as a coordinator, no BMCs.
pub fn spawn_agent(
    exe: &Path,
    dir: &Path,
    cluster: &LocalCluster,
    addrs: &AgentAddrs,
) -> anyhow::Result<LocalAgent> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let config = dir.join("agent.toml");
    std::fs::write(&config, agent_config(addrs))
        .with_context(|| format!("cannot write {}", config.display()))?;
    let mut flags: Vec<String> = cluster
        .replicas()
        .flat_map(|r| ["--coordinator".to_owned(), r.api_url()])
        .collect();
    flags.extend([
        "--config".to_owned(),
        config.display().to_string(),
        "--scope".to_owned(),
        format!("x{CABINET}"),
        "--api-listen".to_owned(),
        addrs.api.to_string(),
        "--rediscover-interval".to_owned(),
        "0s".to_owned(),
    ]);
    LocalAgent::spawn(exe, dir, "rack-bootstorm", &flags)
}

/// The agent's `/status`.
pub async fn agent_status(api: SocketAddr) -> anyhow::Result<Value> {
    let url = format!("http://{api}/status");
    Ok(reqwest::get(&url).await?.error_for_status()?.json().await?)
}

/// Wait until the agent holds all `nodes` in its desired state, failing early if it exits.
pub async fn wait_desired(
    agent: &mut LocalAgent,
    api: SocketAddr,
    nodes: u32,
    timeout: Duration,
) -> anyhow::Result<()> {
    wait_for(timeout, "the agent to hold every node", || {
        let alive = agent.check_running();
        async move {
            alive?;
            let Ok(s) = agent_status(api).await else {
                return Ok(None);
            };
            Ok((s["desired"]["nodes"].as_u64() == Some(u64::from(nodes))).then_some(()))
        }
    })
    .await
}

/// Wait until the agent's outbox is empty (the storm's boot events reached the
/// coordinators), so that one storm's aftermath does not run into the next.
pub async fn wait_drained(api: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    wait_for(timeout, "the agent's outbox to drain", || async move {
        let s = agent_status(api).await?;
        Ok((s["outbox"]["depth"].as_u64() == Some(0)).then_some(()))
    })
    .await
}

/// Load `nodes` nodes: components and boot parameters in bulk, interfaces (with their
/// address) a few at a time, cloud-init defaults, and one group with cloud-init data, so that
/// meta-data, user-data and vendor-data are all real documents.
pub async fn load(api: &str, nodes: u32) -> anyhow::Result<()> {
    let client = Client::with_timeout(api, false, Duration::from_secs(120))?;
    load_nodes(&client, u64::from(nodes), 64, |k| {
        // `count` is a u32, so every index is.
        let i = u32::try_from(k).unwrap_or(u32::MAX);
        NodeRecord {
            xname: xname(i),
            mac: mac(i).to_string(),
            ip: ip(i).to_string(),
        }
    })
    .await?;
    let boot = json!({"hosts": ["Compute"], "kernel": format!("{IMAGES}/vmlinuz"),
        "initrd": format!("{IMAGES}/initrd.img"), "params": PARAMS});
    client
        .post("/boot/v1/bootparameters", &boot)
        .await
        .context("loading boot parameters")?;
    client
        .post(
            "/cloud-init/admin/cluster-defaults",
            &json!({"cluster-name": "bootstorm", "short-name": "nid", "nid-length": 5,
                "base-url": format!("http://{SERVER_IP}/cloud-init"),
                "public-keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMLtQNuzGcMDatF+YVMMkuxbX2c5v2OxWftBhEVfFb+U ops@bench"]}),
        )
        .await
        .context("loading cloud-init defaults")?;
    let members: Vec<String> = (0..nodes).map(xname).collect();
    client
        .post(
            "/hsm/v2/groups",
            &json!({"label": "compute", "members": {"ids": members}}),
        )
        .await
        .context("loading the group")?;
    client
        .post(
            "/cloud-init/admin/groups",
            &json!({"name": "compute", "description": "compute nodes",
                "meta-data": {"slurm": "worker", "site": "bench"},
                "file": {"encoding": "plain",
                    "content": "#cloud-config\npackages:\n  - chrony\nruncmd:\n  - [systemctl, enable, --now, slurmd]\n"}}),
        )
        .await
        .context("loading the cloud-init group")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_distinct_and_inside_the_subnet() {
        // A /18: the top 18 bits are the network's.
        let inside = |a: Ipv4Addr| u32::from(a) >> 14 == u32::from(NETWORK) >> 14;
        let names: std::collections::BTreeSet<String> = (0..MAX_NODES).map(xname).collect();
        assert_eq!(names.len(), MAX_NODES as usize);
        for i in [0, 2047, 2048, MAX_NODES - 1] {
            crate::validate::xname(&xname(i)).expect("valid xname");
            assert!(inside(ip(i)) && ip(i) != NETWORK);
            assert!(ip(i) < Ipv4Addr::new(127, 64, 63, 0), "{}", ip(i));
        }
        assert_eq!(xname(0), "x1000c0s0b0n0");
        assert_eq!(xname(9), "x1000c0s1b0n1");
        assert_eq!(ip(0), Ipv4Addr::new(127, 64, 0, 1));
        assert_eq!(ip(255), Ipv4Addr::new(127, 64, 1, 0));
        assert!(inside(SERVER_IP) && inside(RELAY_IP));
        assert_eq!(SUBNET, format!("{NETWORK}/18"));
    }

    #[test]
    fn agent_config_is_relay_mode_dhcp_and_http() {
        let addrs = AgentAddrs {
            http: "127.64.63.250:8080".parse().expect("addr"),
            dhcp: "127.64.63.250:6767".parse().expect("addr"),
            api: "127.0.0.1:9000".parse().expect("addr"),
        };
        let text = agent_config(&addrs);
        let config = cairn_agent::config::AgentConfig::from_toml(&text).expect("valid config");
        assert_eq!(config.boot.listen, Some(addrs.http));
        let dhcp = config.boot.dhcp.expect("DHCP");
        assert_eq!(dhcp.listen, addrs.dhcp);
        assert_eq!(dhcp.interface, None, "relay mode");
        assert_eq!(dhcp.server_ip, Some(SERVER_IP));
        assert_eq!(dhcp.subnet, Some(SUBNET.parse().expect("subnet")));
    }
}
