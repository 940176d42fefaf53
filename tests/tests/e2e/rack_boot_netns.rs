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

mod records;
mod site;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use cairn_agent::runtime::LinkState;
use cairn_tests::netns::{self, NodeNs, RackNet};
use cairn_tests::peers::{self, PeerRun};
use cairn_tests::{Cluster, wait_for};

use crate::boot_fixture;
use records::{agent_record, boot_record, check_steps, get, inventory, wait_boots};
use site::{BOOT_HTTP, Clients, POOL, now_ms};

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
    let setup = |what: &str| eprintln!("[setup {:>5.1}s] {what}", started.elapsed().as_secs_f64());
    setup("cairn-agent built");
    let work = boot_fixture::workdir(TEST)?;
    let assets = crate::ipxe_peer::kernel_assets(&peers, work.path()).await?;
    setup("kernel and initrd ready");
    let net = RackNet::create()?;
    let mut cluster = Cluster::builder()
        .coordinators(3)
        .netns(net.co_ns(), &net.co_addrs())
        .start()
        .await?;
    setup("three replicas in the coordinators' namespace");
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
        site::dump_logs(work.path());
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
    let images = Images::of(assets)?;
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
        boot_netns_node(clients, &n1, N1, Some(&images))
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
        boot_netns_node(clients, &n2, N2, Some(&images)).await?;
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
    // The link was cut with nothing in flight and dropped every packet while down, so no
    // report the restarted agent holds had reached the coordinators: each was applied on its
    // first delivery, none was resent as already applied, none refused.
    anyhow::ensure!(
        drained.outbox.duplicates == 0 && drained.outbox.refused == 0,
        "reports resent or refused: {:?}",
        drained.outbox
    );

    // The boots served while cut off, in the inventory, as the agent served them.
    let cut_off = [(Q2, STEPS_IPXE), (N2, STEPS_ALL), (N3, STEPS_RESTARTED)];
    wait_boots(cluster, &cut_off, cut_ms).await?;
    let boots = get(cluster, "/apis/cairn/v1/boots").await?;
    for (node, steps) in cut_off {
        let r = boot_record(&boots, node).context("no boot record")?;
        check_steps(r, steps, cut_ms, restore_ms)
            .with_context(|| format!("{} booted while cut off", node.xname()))?;
    }
    let stranger_ip = stranger_ip.map(|ip| ip.to_string()).unwrap_or_default();
    let record = boots["boots"]
        .as_array()
        .and_then(|l| l.iter().find(|b| b["MACAddress"] == STRANGER))
        .with_context(|| format!("no boot record of {STRANGER}: {boots}"))?;
    check_steps(record, &["dhcp"], cut_ms, restore_ms)?;
    anyhow::ensure!(
        record["ID"].is_null() && record["Steps"]["dhcp"]["IPAddress"] == stranger_ip.as_str(),
        "{STRANGER} leased {stranger_ip} as no node: {record}"
    );
    let id = STRANGER.replace(':', "");
    let iface = get(
        cluster,
        &format!("/hsm/v2/Inventory/EthernetInterfaces/{id}"),
    )
    .await?;
    anyhow::ensure!(
        iface["ComponentID"].is_null()
            && iface["IPAddresses"][0]["IPAddress"] == stranger_ip.as_str(),
        "{STRANGER} seen with {stranger_ip}, no component: {iface}"
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

/// The sizes of the origin's kernel and initrd.
struct Images {
    kernel: u64,
    initrd: u64,
}

impl Images {
    fn of(assets: &Path) -> anyhow::Result<Images> {
        Ok(Images {
            kernel: std::fs::metadata(assets.join("vmlinuz"))?.len(),
            initrd: std::fs::metadata(assets.join("initrd.gz"))?.len(),
        })
    }
}

/// A node on the bridge leases its inventory address from both DHCP clients, then from that
/// address fetches its script, the kernel and initrd the script names (from the agent's
/// cache, when `images` says what they are) and its cloud-init meta-data.
async fn boot_netns_node(
    clients: &Clients,
    ns: &NodeNs,
    node: Node,
    images: Option<&Images>,
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
    if let Some(images) = images {
        for (command, size) in [
            ("kernel --name kernel ", images.kernel),
            ("initrd --name initrd ", images.initrd),
        ] {
            let url = script
                .lines()
                .find_map(|l| l.strip_prefix(command))
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or_default();
            anyhow::ensure!(
                url.starts_with(&format!("http://{BOOT_HTTP}/boot/v1/images/")),
                "{x}'s script does not name the rack's cache for `{command}`:\n{script}"
            );
            let (code, got) = site::get_size(ns, url).await?;
            anyhow::ensure!(
                code == 200 && got == size,
                "{x}'s {url}: {code}, {got} of {size} bytes"
            );
        }
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
