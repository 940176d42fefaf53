//! Network namespaces for the rack boot tests: coordinators in one namespace, the rack agent in
//! another joined to it by an uplink veth, a boot bridge in the agent's namespace, and one
//! namespace per node with its `eth0` on that bridge.
//!
//! ```text
//!  co ns                      agent ns                                node ns
//!  up0 10.90.0.1-3/24 ─veth─ up1 10.90.0.10/24
//!                            rack0 (bridge) 10.91.0.1/24 ── nKp ─veth─ eth0 (the node's MAC)
//! ```
//!
//! Everything is torn down on drop, also when the test panics. Namespace names carry the test
//! process's PID and a counter, so test binaries and tests running at once never collide, and
//! [`RackNet::create`] removes namespaces left behind by test processes that no longer exist
//! (killed before their drops ran). Interface names are fixed (`up0`, `up1`, `rack0`, `nKp`,
//! `eth0`): each lives only in namespaces its [`RackNet`] owns, created there directly, so they
//! cannot clash.
//!
//! Cutting the uplink sets the coordinator side of the veth down: the agent's side loses
//! carrier and its packets to the coordinators are silently dropped, as in a real partition
//! (TCP connects time out rather than fail fast).
//!
//! Processes run in a namespace through `ip netns exec NS program args`
//! ([`RackNet::command_in`]); `ip` execs the program, so the child's PID is the program's own and
//! killing the child kills it. The test process itself stays in the root namespace: to reach a
//! server inside one it uses a [`Forwarder`].

use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Context;
use cairn_protocols::MacAddr;
use ipnet::Ipv4Net;

mod forward;
mod node;

pub use forward::Forwarder;
pub use node::NodeNs;

/// Prefix of every namespace this module creates: `cnt-<pid>-<counter>-<role>`.
const PREFIX: &str = "cnt-";
/// Where `ip netns` keeps its named namespaces.
const NETNS_DIR: &str = "/run/netns";

/// The coordinators' side of the uplink veth (in the coordinator namespace).
pub const UPLINK_CO: &str = "up0";
/// The agent's side of the uplink veth (in the agent namespace).
pub const UPLINK_AGENT: &str = "up1";
/// The rack boot bridge (in the agent namespace).
pub const BRIDGE: &str = "rack0";
/// A node's interface (in its own namespace).
pub const NODE_IFACE: &str = "eth0";

/// Whether the network-namespace tests can run here: root and the `ip` command (iproute2).
/// When not, prints `SKIP <test>: <reason>` and returns false; the test then returns early.
pub fn require_root() -> bool {
    let reason = if !rustix::process::geteuid().is_root() {
        "not root (network namespaces need root)"
    } else if !crate::peers::on_path("ip") {
        "no ip command (iproute2; bash .ci/test-deps installs it)"
    } else {
        return true;
    };
    // libtest names each test's thread after the test.
    let current = std::thread::current();
    let test = current
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("this test");
    println!("SKIP {test}: {reason}");
    false
}

/// Runs `ip` with `args`; a failure names the command and carries its stderr.
fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running ip (iproute2)")?;
    anyhow::ensure!(
        out.status.success(),
        "ip {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// Runs `ip -n ns args`.
fn ip_in(ns: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut all = vec!["-n", ns];
    all.extend_from_slice(args);
    ip(&all)
}

/// Writes a sysctl of namespace `ns` through its `/proc/sys` (only a process inside the
/// namespace sees the namespace's values). A key that does not exist there is left alone: it
/// belongs to a protocol this kernel runs without (IPv6 disabled), which the tests then do not
/// use either.
fn sysctl_in(ns: &str, path: &str, value: &str) -> anyhow::Result<()> {
    let out = command_in(ns, "sh")
        .args([
            "-c",
            r#"[ ! -e "$2" ] || echo "$1" > "$2""#,
            "sh",
            value,
            path,
        ])
        .stdin(Stdio::null())
        .output()
        .context("running sh in a namespace")?;
    anyhow::ensure!(
        out.status.success(),
        "setting {path} = {value} in netns {ns} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// `ip netns exec ns program`: add the arguments, then spawn or run it.
pub fn command_in(ns: &str, program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns]).arg(program);
    cmd
}

/// Names of the namespaces `ip netns list` shows.
pub fn list_namespaces() -> anyhow::Result<Vec<String>> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .stdin(Stdio::null())
        .output()
        .context("running ip netns list")?;
    anyhow::ensure!(
        out.status.success(),
        "ip netns list failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    // Lines are "name" or "name (id: N)".
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// Whether namespace `ns` exists (by name).
pub fn exists(ns: &str) -> bool {
    Path::new(NETNS_DIR).join(ns).exists()
}

/// Deletes a namespace by name, ignoring a missing one: for drops.
fn delete_namespace(ns: &str) {
    if exists(ns)
        && let Err(e) = ip(&["netns", "del", ns])
    {
        eprintln!("netns teardown: {e:#}");
    }
}

/// Removes the namespaces of earlier test processes that are gone (killed before they could
/// clean up), so that they do not pile up on a developer's machine.
fn sweep_stale() {
    let Ok(names) = list_namespaces() else { return };
    for name in names {
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            delete_namespace(&name);
        }
    }
}

/// `cnt-<pid>-<n>`, unique within this machine while this process lives.
fn unique_base() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{PREFIX}{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The rack topology: a coordinator namespace, an agent namespace with the uplink and the boot
/// bridge, and node namespaces added on demand. Dropping it deletes both namespaces (the veths
/// and the bridge go with them); nodes are deleted by dropping their [`NodeNs`].
pub struct RackNet {
    base: String,
    co: String,
    agent: String,
    nodes: AtomicU32,
}

impl RackNet {
    /// Builds the topology. Needs root ([`require_root`]).
    pub fn create() -> anyhow::Result<RackNet> {
        sweep_stale();
        let base = unique_base();
        // Built before anything exists, so that a failure half-way tears down what was made.
        let net = RackNet {
            co: format!("{base}-co"),
            agent: format!("{base}-ag"),
            base,
            nodes: AtomicU32::new(0),
        };
        net.build()
            .with_context(|| format!("building the rack network {}", net.base))?;
        Ok(net)
    }

    fn build(&self) -> anyhow::Result<()> {
        let (co, ag) = (self.co.as_str(), self.agent.as_str());
        ip(&["netns", "add", co])?;
        ip(&["netns", "add", ag])?;
        ip_in(co, &["link", "set", "lo", "up"])?;
        ip_in(ag, &["link", "set", "lo", "up"])?;
        ip(&[
            "link",
            "add",
            UPLINK_CO,
            "netns",
            co,
            "type",
            "veth",
            "peer",
            "name",
            UPLINK_AGENT,
            "netns",
            ag,
        ])?;
        for addr in self.co_addrs() {
            ip_in(
                co,
                &["addr", "add", &format!("{addr}/24"), "dev", UPLINK_CO],
            )?;
        }
        let uplink = format!("{}/24", self.agent_uplink_addr());
        ip_in(ag, &["addr", "add", &uplink, "dev", UPLINK_AGENT])?;
        ip_in(co, &["link", "set", UPLINK_CO, "up"])?;
        ip_in(ag, &["link", "set", UPLINK_AGENT, "up"])?;
        // The bridge sends router advertisements from its link-local address: no DAD delay
        // before that address is usable. Must precede the bridge, which copies the default.
        sysctl_in(ag, "/proc/sys/net/ipv6/conf/default/accept_dad", "0")?;
        // A non-root agent may then bind the DHCP and TFTP ports in its namespace.
        sysctl_in(ag, "/proc/sys/net/ipv4/ip_unprivileged_port_start", "0")?;
        ip_in(ag, &["link", "add", BRIDGE, "type", "bridge"])?;
        // Router solicitations and advertisements are multicast: always flood them.
        ip_in(
            ag,
            &[
                "link",
                "set",
                BRIDGE,
                "type",
                "bridge",
                "mcast_snooping",
                "0",
            ],
        )?;
        let boot = format!("{}/{}", self.boot_addr(), self.boot_subnet().prefix_len());
        ip_in(ag, &["addr", "add", &boot, "dev", BRIDGE])?;
        ip_in(ag, &["link", "set", BRIDGE, "up"])?;
        Ok(())
    }

    /// The coordinators' namespace.
    pub fn co_ns(&self) -> &str {
        &self.co
    }

    /// The agent's namespace (uplink and boot bridge).
    pub fn agent_ns(&self) -> &str {
        &self.agent
    }

    /// The boot bridge's name, in [`agent_ns`](Self::agent_ns).
    pub fn bridge(&self) -> &str {
        BRIDGE
    }

    /// The agent's uplink interface, in [`agent_ns`](Self::agent_ns).
    pub fn agent_uplink(&self) -> &str {
        UPLINK_AGENT
    }

    /// One address per coordinator replica, on the coordinators' side of the uplink.
    pub fn co_addrs(&self) -> [Ipv4Addr; 3] {
        [
            Ipv4Addr::new(10, 90, 0, 1),
            Ipv4Addr::new(10, 90, 0, 2),
            Ipv4Addr::new(10, 90, 0, 3),
        ]
    }

    /// The agent's address on the uplink.
    pub fn agent_uplink_addr(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 90, 0, 10)
    }

    /// The agent's address on the boot bridge (the DHCP server identifier, the HTTP host).
    pub fn boot_addr(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 91, 0, 1)
    }

    /// The boot network.
    pub fn boot_subnet(&self) -> Ipv4Net {
        Ipv4Net::new_assert(Ipv4Addr::new(10, 91, 0, 0), 24)
    }

    /// Adds a node: a namespace whose [`NODE_IFACE`] has `mac` and is a port of the bridge.
    /// The interface is up and has no IPv4 address (DHCP's job, or [`NodeNs::add_addr`]).
    /// `mac`: a [`MacAddr`] or any text [`MacAddr::parse`] takes.
    pub fn add_node(&self, mac: impl std::fmt::Display) -> anyhow::Result<NodeNs> {
        let mac = MacAddr::parse(&mac.to_string())?;
        let k = self.nodes.fetch_add(1, Ordering::Relaxed) + 1;
        NodeNs::create(
            format!("{}-n{k}", self.base),
            format!("n{k}p"),
            mac,
            &self.agent,
        )
    }

    /// Partitions the agent from the coordinators: the coordinators' side of the uplink goes
    /// down (the agent's side loses carrier; its packets are dropped).
    pub fn cut_uplink(&self) -> anyhow::Result<()> {
        ip_in(&self.co, &["link", "set", UPLINK_CO, "down"])
    }

    /// Heals [`cut_uplink`](Self::cut_uplink); addresses and routes come back as they were.
    pub fn restore_uplink(&self) -> anyhow::Result<()> {
        ip_in(&self.co, &["link", "set", UPLINK_CO, "up"])
    }

    /// `ip netns exec ns program`: add the arguments, then spawn or run it.
    pub fn command_in(&self, ns: &str, program: impl AsRef<OsStr>) -> Command {
        command_in(ns, program)
    }
}

impl Drop for RackNet {
    fn drop(&mut self) {
        delete_namespace(&self.agent);
        delete_namespace(&self.co);
    }
}
