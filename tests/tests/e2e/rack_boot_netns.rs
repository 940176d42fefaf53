//! Issue 5's rack boot scenario in network namespaces, with real clients (root only; skips with
//! the reason otherwise): three coordinator replicas in one namespace, the `cairn-agent` binary
//! in another with an uplink to them and the rack's boot bridge, nodes on that bridge.
//!
//! Connected, busybox udhcpc and ISC dhclient (`dhcp-client.sh`) lease a node's inventory
//! address from the agent's DHCP, and the node fetches its script, its kernel from the agent's
//! cache and its cloud-init meta-data; a QEMU iPXE node boots the kernel through the agent.
//! Then the uplink is cut and the image origin stopped: another QEMU node, another DHCP node and
//! a MAC the inventory does not know (a pool address) boot from the agent alone; the agent is
//! restarted while cut off and serves from its store. Once the link is back, the outbox drains,
//! every report applied once, and the inventory shows the boots served while cut off and the
//! MAC seen.

mod site;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use cairn_agent::runtime::LinkState;
use cairn_tests::netns::{self, NodeNs, RackNet};
use cairn_tests::peers::{self, PeerRun};
use cairn_tests::{Cluster, wait_for};
use reqwest::Method;
use serde_json::{Value, json};

use crate::boot_fixture;
use site::{AGENT_ID, BOOT_HTTP, Clients, POOL};

const TEST: &str = "rack_boot_netns";
const SCRIPTS: &[&str] = &["dhcp-client.sh", "ipxe-boot.sh", "ipxe-kernel-assets.sh"];
const TOOLS: &[&str] = &[
    "qemu-system-x86_64",
    "busybox",
    "dhclient",
    "curl",
    "python3",
    "cpio",
    "/usr/lib/ipxe/qemu/efi-virtio.rom",
    "/usr/share/seabios/bios-256k.bin",
    "/usr/lib/ipxe/undionly.kpxe",
];

/// A node of the inventory: `x1000c0s<n>b0n0`, NID `n`, address `10.91.0.<50 + n>`.
#[derive(Clone, Copy)]
struct Node {
    n: u8,
    mac: &'static str,
}

impl Node {
    fn xname(self) -> String {
        format!("x1000c0s{}b0n0", self.n)
    }

    fn ip(self) -> Ipv4Addr {
        Ipv4Addr::new(10, 91, 0, 50 + self.n)
    }
}

/// DHCP clients while connected.
const N1: Node = Node {
    n: 1,
    mac: "52:54:00:91:00:01",
};
/// QEMU iPXE while connected.
const Q1: Node = Node {
    n: 2,
    mac: "52:54:00:91:00:02",
};
/// QEMU iPXE while cut off.
const Q2: Node = Node {
    n: 3,
    mac: "52:54:00:91:00:03",
};
/// DHCP clients while cut off.
const N2: Node = Node {
    n: 4,
    mac: "52:54:00:91:00:04",
};
/// DHCP clients after the agent's restart, still cut off.
const N3: Node = Node {
    n: 5,
    mac: "52:54:00:91:00:05",
};
const NODES: [Node; 5] = [N1, Q1, Q2, N2, N3];
/// A MAC the inventory does not know (booted while cut off).
const STRANGER: &str = "52:54:00:91:00:99";

#[tokio::test]
async fn a_rack_in_its_own_network_boots_real_clients_through_a_cut_uplink_and_a_restart()
-> anyhow::Result<()> {
    if !netns::require_root() {
        return Ok(());
    }
    let Some(peers) = peers::require(TEST, SCRIPTS, TOOLS) else {
        return Ok(());
    };
    let started = Instant::now();
    // Built (or found up to date) before anything runs, so the scenario's phases are timed
    // without a build in them.
    cairn_tests::agent_binary()?;
    let work = boot_fixture::workdir(TEST)?;
    let assets = crate::ipxe_peer::kernel_assets(&peers, work.path()).await?;
    let net = RackNet::create()?;
    let mut cluster = Cluster::builder()
        .coordinators(3)
        .netns(net.co_ns(), &net.co_addrs())
        .start()
        .await?;
    let clients = Clients {
        peers,
        work: work.path().to_owned(),
        agent_ns: net.agent_ns().to_owned(),
    };
    let outcome = scenario(&net, &cluster, &clients, &assets).await;
    if outcome.is_err() {
        if let Some(dir) = cluster.keep_files() {
            eprintln!(
                "coordinator logs: {}/replica-*/replica-*.log",
                dir.display()
            );
        }
        dump_logs(work.path());
        boot_fixture::keep(work);
    } else {
        eprintln!("{TEST} took {:.1?}", started.elapsed());
    }
    outcome
}

/// The scenario (see the module docs); every process it starts is stopped when it returns.
async fn scenario(
    net: &RackNet,
    cluster: &Cluster,
    clients: &Clients,
    assets: &Path,
) -> anyhow::Result<()> {
    let work = clients.work.as_path();
    let t0 = Instant::now();
    let phase = |what: &str| eprintln!("[{:>5.1}s] {what}", t0.elapsed().as_secs_f64());
    let kernel_size = std::fs::metadata(assets.join("vmlinuz"))?.len();
    let mut origin = site::Origin::start(net, assets, work).await?;
    inventory(cluster, &origin.url).await?;
    let status = site::StatusProbe::start(net)?;
    let mut agent = site::start_agent(net, cluster, work, 0)?;
    status
        .wait(
            "the agent connected, holding the rack's nodes",
            Duration::from_secs(60),
            |s| s.coordinator.state == LinkState::Connected && s.desired.nodes == NODES.len(),
        )
        .await?;
    phase("agent connected, holding the rack");

    // Connected: DHCP clients and a QEMU node, side by side.
    let n1 = net.add_node(N1.mac)?;
    let (q1, n1_booted) = tokio::join!(
        clients.qemu(Q1.mac, "q1"),
        boot_netns_node(clients, &n1, N1, Some(kernel_size))
    );
    n1_booted?;
    check_qemu_boot(&q1?, Q1)?;
    // Nothing in flight when the link goes: whatever the coordinators apply afterwards was
    // written while the rack was cut off.
    let before = status
        .wait("the outbox drained", Duration::from_secs(30), |s| {
            s.outbox.depth == 0 && s.outbox.last_acked_seq + 1 == s.outbox.next_seq
        })
        .await?;
    wait_boots(cluster, &[(N1, STEPS_ALL), (Q1, STEPS_IPXE)], 0).await?;
    phase("connected boots done and in the inventory");

    // Cut off, and the image origin gone: the agent serves from what it holds.
    let cut_ms = now_ms();
    net.cut_uplink()?;
    origin.proc.kill();
    status
        .wait("the agent autonomous", Duration::from_secs(45), |s| {
            s.coordinator.state == LinkState::Autonomous
        })
        .await?;
    phase("cut off: the agent is autonomous");
    let n2 = net.add_node(N2.mac)?;
    let stranger = net.add_node(STRANGER)?;
    let (q2, cut_off) = tokio::join!(clients.qemu(Q2.mac, "q2"), async {
        boot_netns_node(clients, &n2, N2, Some(kernel_size)).await?;
        let leases = clients.dhcp(&stranger, "stranger").await?;
        let pooled = leases
            .udhcpc
            .filter(|ip| (POOL.0..=POOL.1).contains(ip) && leases.dhclient == Some(*ip));
        anyhow::ensure!(
            pooled.is_some(),
            "the unknown MAC got no pool address from both clients:\n{}",
            leases.output
        );
        anyhow::Ok(pooled)
    });
    let stranger_ip = cut_off?;
    check_qemu_boot(&q2?, Q2)?;
    phase("cut-off boots done");

    // Restarted while cut off (SIGTERM, as a service manager stops it: boot events are queued
    // for the disk without waiting for it, so a SIGKILL may take the last milliseconds' with
    // it by design). It serves from its store.
    let exit = agent.terminate(Duration::from_secs(30)).await?;
    anyhow::ensure!(exit.success(), "cairn-agent exited with {exit}");
    agent = site::start_agent(net, cluster, work, 1)?;
    let restarted = status
        .wait("the restarted agent", Duration::from_secs(30), |_| true)
        .await?;
    anyhow::ensure!(
        restarted.desired.nodes == NODES.len()
            && restarted.coordinator.state == LinkState::Autonomous
            && restarted.outbox.depth > 0
            && restarted.outbox.next_seq > before.outbox.next_seq,
        "the restarted agent does not hold the rack and its waiting reports: {restarted:?}"
    );
    let n3 = net.add_node(N3.mac)?;
    boot_netns_node(clients, &n3, N3, None).await?;
    anyhow::ensure!(agent.exited().is_none(), "the restarted agent exited");
    phase("restarted agent served a node");

    // The link is back: the outbox drains.
    let restore_ms = now_ms();
    net.restore_uplink()?;
    // Exactly once: the coordinators apply a report only if its seq is above the highest
    // they applied for the agent (anything resent under an old seq is acknowledged as a
    // duplicate and changes nothing), and the agent numbers its reports on from its store
    // across restarts. So the replay applied every report once, and lost none, when the
    // coordinators' high-water mark is the agent's last seq and the agent holds
    // acknowledgements for all of them.
    let (drained, seen) = wait_for(
        "the outbox replayed, the coordinators at the agent's last seq",
        Duration::from_secs(90),
        || async {
            let s = status.get().await?;
            let a = agent_record(cluster).await?;
            let last = s.outbox.next_seq.checked_sub(1)?;
            (s.coordinator.state == LinkState::Connected
                && s.outbox.depth == 0
                && s.outbox.last_acked_seq == last
                && a["state"] == "connected"
                && a["last_report_seq"] == last)
                .then_some((s, a))
        },
    )
    .await?;
    phase("uplink restored, outbox replayed");
    eprintln!("drained: {:?}; coordinators: {seen}", drained.outbox);
    assert_eq!(drained.outbox.refused, 0, "{:?}", drained.outbox);
    // The link was cut with nothing in flight and dropped every packet while down, so no
    // report the restarted agent holds had reached the coordinators: each was applied on its
    // first delivery, and none was resent as already applied.
    assert_eq!(drained.outbox.duplicates, 0, "{:?}", drained.outbox);

    // The boots served while cut off, in the inventory, as the agent served them.
    wait_boots(
        cluster,
        &[(Q2, STEPS_IPXE), (N2, STEPS_ALL), (N3, STEPS_RESTARTED)],
        cut_ms,
    )
    .await?;
    let boots = get(cluster, "/apis/cairn/v1/boots").await?;
    let record = boots["boots"]
        .as_array()
        .and_then(|l| l.iter().find(|b| b["MACAddress"] == STRANGER))
        .unwrap_or_else(|| panic!("no boot record of {STRANGER}: {boots}"));
    assert!(record["ID"].is_null(), "{record}");
    check_steps(record, &["dhcp"], cut_ms, restore_ms)
        .unwrap_or_else(|e| panic!("{STRANGER}: {e}"));
    assert_eq!(
        record["Steps"]["dhcp"]["IPAddress"],
        stranger_ip.map(|ip| ip.to_string()).unwrap_or_default(),
        "{record}"
    );
    for (node, steps) in [(Q2, STEPS_IPXE), (N2, STEPS_ALL), (N3, STEPS_RESTARTED)] {
        let r = boot_record(&boots, node).unwrap_or_else(|| panic!("{}: {boots}", node.xname()));
        check_steps(r, steps, cut_ms, restore_ms)
            .unwrap_or_else(|e| panic!("{} booted while cut off: {e}", node.xname()));
    }
    let id = STRANGER.replace(':', "");
    let iface = get(
        cluster,
        &format!("/hsm/v2/Inventory/EthernetInterfaces/{id}"),
    )
    .await?;
    assert!(iface["ComponentID"].is_null(), "{iface}");
    assert_eq!(
        iface["IPAddresses"][0]["IPAddress"],
        stranger_ip.map(|ip| ip.to_string()).unwrap_or_default(),
        "{iface}"
    );

    phase("inventory shows the cut-off boots");
    agent.terminate(Duration::from_secs(30)).await?;
    Ok(())
}

/// The steps each kind of boot leaves: DHCP, the script, the kernel (and initrd) from the
/// cache, cloud-init meta-data. QEMU's initrd does not ask for cloud-init data; the node after
/// the restart fetches no image.
const STEPS_ALL: &[&str] = &["dhcp", "script", "image", "cloud-init"];
const STEPS_IPXE: &[&str] = &["dhcp", "script", "image"];
const STEPS_RESTARTED: &[&str] = &["dhcp", "script", "cloud-init"];

/// A node on the bridge leases its inventory address from both DHCP clients, then from that
/// address fetches its script, the kernel the script names (from the agent's cache, when
/// `kernel_size` is given) and its cloud-init meta-data.
async fn boot_netns_node(
    clients: &Clients,
    ns: &NodeNs,
    node: Node,
    kernel_size: Option<u64>,
) -> anyhow::Result<()> {
    let x = node.xname();
    let leases = clients.dhcp(ns, &x).await?;
    anyhow::ensure!(
        leases.both_got(node.ip()),
        "{x}: udhcpc {:?}, dhclient {:?}, want {} from 10.91.0.1:\n{}",
        leases.udhcpc,
        leases.dhclient,
        node.ip(),
        leases.output
    );
    let url = format!("http://{BOOT_HTTP}/boot/v1/bootscript?mac={}", node.mac);
    let (code, script) = site::get(ns, &url).await?;
    anyhow::ensure!(
        code == 200 && script.contains(&format!("xname={x}")) && script.contains("console=ttyS0"),
        "{x}'s script: {code}\n{script}"
    );
    if let Some(size) = kernel_size {
        let kernel = script
            .lines()
            .find_map(|l| l.strip_prefix("kernel --name kernel "))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_default();
        anyhow::ensure!(
            kernel.starts_with(&format!("http://{BOOT_HTTP}/boot/v1/images/")),
            "{x}'s script does not name the rack's cache:\n{script}"
        );
        let (code, got) = site::get_size(ns, kernel).await?;
        anyhow::ensure!(
            code == 200 && got == size,
            "{x}'s kernel from {kernel}: {code}, {got} of {size} bytes"
        );
    }
    let (code, meta) = site::get(ns, &format!("http://{BOOT_HTTP}/cloud-init/meta-data")).await?;
    anyhow::ensure!(
        code == 200 && meta.contains(&x),
        "{x}'s meta-data: {code}\n{meta}"
    );
    Ok(())
}

/// The QEMU node booted the kernel through the agent: DHCP, the script, then the kernel and
/// initrd from the agent's cache; the kernel saw the node's command line.
fn check_qemu_boot(run: &PeerRun, node: Node) -> anyhow::Result<()> {
    let cmdline = run.output.lines().find_map(|l| {
        l.split_once("RP-CMDLINE: ")
            .map(|(_, c)| c.trim().to_owned())
    });
    // iPXE prints each URL it fetches (its "ok" follows the progress dots, on a line of its
    // own); the kernel booting is what says both fetches succeeded.
    let cache = format!("http://{BOOT_HTTP}/boot/v1/images/");
    let fetched = |name: &str| {
        run.output
            .lines()
            .any(|l| l.contains(&cache) && l.contains(&format!("/{name}")))
    };
    let from_cache = fetched("vmlinuz") && fetched("initrd.gz");
    let words: Vec<&str> = cmdline
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let x = format!("xname={}", node.xname());
    anyhow::ensure!(
        run.ok() && from_cache && words.contains(&x.as_str()) && words.contains(&"console=ttyS0"),
        "QEMU node {} did not boot through the agent (kernel and initrd from the cache: {from_cache}, \
         command line: {cmdline:?}):\n{}",
        node.mac,
        run.output
    );
    Ok(())
}

/// The rack's nodes and interfaces, and boot parameters for role Compute from the origin.
async fn inventory(cluster: &Cluster, origin: &str) -> anyhow::Result<()> {
    let components: Vec<Value> = NODES
        .iter()
        .map(|n| json!({"ID": n.xname(), "State": "Ready", "Role": "Compute", "NID": n.n}))
        .collect();
    send(
        cluster,
        "/hsm/v2/State/Components",
        json!({"Components": components}),
    )
    .await?;
    for n in NODES {
        let body = json!({"MACAddress": n.mac, "ComponentID": n.xname(),
                          "IPAddresses": [{"IPAddress": n.ip().to_string()}]});
        send(cluster, "/hsm/v2/Inventory/EthernetInterfaces", body).await?;
    }
    let body = json!({"hosts": ["Compute"], "kernel": format!("{origin}/vmlinuz"),
                      "initrd": format!("{origin}/initrd.gz"), "params": "console=ttyS0"});
    send(cluster, "/boot/v1/bootparameters", body).await?;
    Ok(())
}

/// POSTs to the leader; insists on a 2xx.
async fn send(cluster: &Cluster, path: &str, body: Value) -> anyhow::Result<Value> {
    let leader = cluster.leader().await?;
    let (status, answer) = cluster.send(leader, Method::POST, path, &body).await?;
    anyhow::ensure!(
        (200..300).contains(&status),
        "POST {path} {body}: {status} {answer}"
    );
    Ok(answer)
}

/// `GET path` from the first replica that answers 200.
async fn get(cluster: &Cluster, path: &str) -> anyhow::Result<Value> {
    for id in cluster.running() {
        if let Ok((200, body)) = cluster.get(id, path).await {
            return Ok(body);
        }
    }
    anyhow::bail!("no replica answered GET {path} with 200")
}

/// The agent as `GET /apis/cairn/v1/agents` shows it.
async fn agent_record(cluster: &Cluster) -> Option<Value> {
    let list = get(cluster, "/apis/cairn/v1/agents").await.ok()?;
    list["agents"]
        .as_array()?
        .iter()
        .find(|a| a["id"] == AGENT_ID)
        .cloned()
}

fn boot_record(boots: &Value, node: Node) -> Option<&Value> {
    boots["boots"]
        .as_array()?
        .iter()
        .find(|b| b["ID"] == node.xname().as_str())
}

/// Each of `steps` was served by the agent between `from_ms` and `to_ms`.
fn check_steps(record: &Value, steps: &[&str], from_ms: u64, to_ms: u64) -> Result<(), String> {
    for step in steps {
        let s = &record["Steps"][step];
        let at = s["AtMs"].as_u64().unwrap_or_default();
        if s["Agent"] != AGENT_ID || !(from_ms..=to_ms).contains(&at) {
            return Err(format!(
                "step {step} not served by {AGENT_ID} in [{from_ms}, {to_ms}]: {record}"
            ));
        }
    }
    Ok(())
}

/// Waits until the inventory shows each node's steps, served by the agent since `since_ms`.
async fn wait_boots(
    cluster: &Cluster,
    want: &[(Node, &[&str])],
    since_ms: u64,
) -> anyhow::Result<()> {
    let last = std::sync::Mutex::new(Value::Null);
    wait_for(
        "the boots in the inventory",
        Duration::from_secs(30),
        || async {
            let boots = get(cluster, "/apis/cairn/v1/boots").await.ok()?;
            let all = want.iter().all(|(node, steps)| {
                boot_record(&boots, *node)
                    .is_some_and(|r| check_steps(r, steps, since_ms, u64::MAX).is_ok())
            });
            *last.lock().unwrap() = boots;
            all.then_some(())
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}; boots: {}", last.lock().unwrap()))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Prints the tail of every log of a failed run (agent, origin, clients, serial consoles).
fn dump_logs(work: &Path) {
    let Ok(entries) = std::fs::read_dir(work) else {
        return;
    };
    let mut logs: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    for log in logs {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(150)..];
        eprintln!(
            "--- {} (last {} lines):\n{}",
            log.display(),
            tail.len(),
            tail.join("\n")
        );
    }
}
