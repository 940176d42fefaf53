//! The rack network harness (`cairn_tests::netns`) itself: the topology carries what the boot
//! tests need (pings both ways, DHCP broadcasts from real clients over the bridge, coordinators
//! reachable from the agent's namespace), cutting the uplink partitions the agent from the
//! coordinators but not from its nodes, restoring heals it, and dropping removes everything.
//! Root only: skips with the reason otherwise.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cairn_tests::netns::{self, RackNet};
use cairn_tests::{Cluster, peers, wait_for};

/// How long a link just set up may take to carry a first ping.
const LINK_UP: Duration = Duration::from_secs(10);

/// One `busybox ping` (1 s answer timeout) from inside a namespace.
fn ping(mut cmd: Command, to: Ipv4Addr) -> bool {
    cmd.args(["ping", "-c1", "-W1", &to.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Polls until a ping from `ns` to `to` is answered.
async fn pings(ns: &str, to: Ipv4Addr) -> anyhow::Result<()> {
    wait_for(&format!("{ns} to ping {to}"), LINK_UP, || async {
        ping(netns::command_in(ns, "busybox"), to).then_some(())
    })
    .await
}

/// A successful `GET url` from inside `ns`, given up after 2 s without an answer. (curl:
/// Debian 12's `busybox wget -T` crashes.)
fn get_ok(ns: &str, url: &str) -> bool {
    netns::command_in(ns, "curl")
        .args(["-sf", "--noproxy", "*", "-m", "2", "-o", "/dev/null", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn have_tools(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| !peers::on_path(t))
        .collect();
    if missing.is_empty() {
        return true;
    }
    println!(
        "SKIP {test}: missing {} (bash .ci/test-deps installs them)",
        missing.join(", ")
    );
    false
}

#[tokio::test]
async fn rack_net_pings_across_and_its_uplink_cut_partitions_only_the_coordinators()
-> anyhow::Result<()> {
    if !netns::require_root() || !have_tools("rack_net_partition", &["busybox"]) {
        return Ok(());
    }
    let net = RackNet::create()?;
    let names = [net.co_ns().to_owned(), net.agent_ns().to_owned()];
    let node = net.add_node("52:54:00:91:00:01")?;
    let node_ns = node.name().to_owned();
    node.add_addr("10.91.0.50/24")?;
    let node_ip = Ipv4Addr::new(10, 91, 0, 50);
    let co = net.co_addrs();

    pings(&node_ns, net.boot_addr()).await?;
    pings(net.agent_ns(), node_ip).await?;
    for addr in co {
        pings(net.agent_ns(), addr).await?;
    }
    pings(net.co_ns(), net.agent_uplink_addr()).await?;

    net.cut_uplink()?;
    assert!(
        !ping(net.command_in(net.agent_ns(), "busybox"), co[0]),
        "the agent still reaches the coordinators with its uplink cut"
    );
    // The rack itself is untouched: the agent can keep serving its nodes.
    assert!(ping(node.command("busybox"), net.boot_addr()));

    net.restore_uplink()?;
    pings(net.agent_ns(), co[0]).await?;

    drop(node);
    assert!(!netns::exists(&node_ns), "{node_ns} left after its drop");
    drop(net);
    let left = netns::list_namespaces()?;
    for ns in names.iter().chain([&node_ns]) {
        assert!(!left.contains(ns), "{ns} left after the drop: {left:?}");
    }
    Ok(())
}

/// A stand-in DHCP server (dnsmasq) on the bridge, killed on drop.
struct Dnsmasq {
    child: Child,
    log: std::path::PathBuf,
}

impl Dnsmasq {
    async fn start(net: &RackNet, dir: &Path, mac: &str, ip: Ipv4Addr) -> anyhow::Result<Dnsmasq> {
        let log = dir.join("dnsmasq.log");
        let file = std::fs::File::create(&log)?;
        let child = net
            .command_in(net.agent_ns(), "dnsmasq")
            .args([
                "--no-daemon",
                "--conf-file=/dev/null",
                "--port=0",
                "--bind-interfaces",
                "--log-dhcp",
            ])
            .arg(format!("--interface={}", net.bridge()))
            .arg("--dhcp-range=10.91.0.100,10.91.0.150,255.255.255.0,10m")
            .arg(format!("--dhcp-host={mac},{ip}"))
            .arg(format!(
                "--dhcp-boot=http://{}:8080/boot.ipxe,bootsrv,{}",
                net.boot_addr(),
                net.boot_addr()
            ))
            .arg(format!("--dhcp-leasefile={}", dir.join("leases").display()))
            .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()?;
        let server = Dnsmasq { child, log };
        wait_for("dnsmasq to serve DHCP", Duration::from_secs(10), || async {
            server.output().contains("DHCP, IP range").then_some(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}; dnsmasq said:\n{}", server.output()))?;
        Ok(server)
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn rack_net_carries_dhcp_from_real_clients_to_a_server_on_the_bridge() -> anyhow::Result<()> {
    let test = "rack_net_dhcp";
    if !netns::require_root() {
        return Ok(());
    }
    let Some(peers) = peers::require(
        test,
        &["dhcp-client.sh"],
        &["busybox", "dhclient", "dnsmasq", "python3"],
    ) else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let net = RackNet::create()?;
    let mac = "52:54:00:91:00:07";
    let leased = Ipv4Addr::new(10, 91, 0, 42);
    let node = net.add_node(mac)?;
    let server = Dnsmasq::start(&net, dir.path(), mac, leased).await?;

    let run = peers::run_script(
        &peers,
        "dhcp-client.sh",
        &[node.name(), node.iface(), "both"],
        &[("DHCP_APPLY", "1")],
        &dir.path().join("dhcp-client.log"),
        Duration::from_secs(60),
    )
    .await?;
    println!("{}", run.output);
    let bootfile = format!("http://{}:8080/boot.ipxe", net.boot_addr());
    let lines: Vec<&str> = run.output.lines().map(str::trim).collect();
    let got = |line: &str| lines.contains(&line);
    assert!(
        run.ok()
            && got(&format!("ip={leased}"))
            && got(&format!("new_ip_address={leased}"))
            && run.output.contains(&bootfile),
        "no lease for both clients, or not the one configured;\n--- dnsmasq:\n{}",
        server.output()
    );
    // DHCP_APPLY configured the leased address: the node is on the rack network.
    pings(node.name(), net.boot_addr()).await?;
    Ok(())
}

#[tokio::test]
async fn coordinators_in_their_namespace_serve_the_test_through_forwarders_and_the_agent_over_the_uplink()
-> anyhow::Result<()> {
    if !netns::require_root() || !have_tools("rack_net_cluster", &["curl"]) {
        return Ok(());
    }
    let net = RackNet::create()?;
    let cluster = Cluster::builder()
        .coordinators(3)
        .netns(net.co_ns(), &net.co_addrs())
        .start()
        .await?;
    let leader = cluster.leader().await?;
    for id in cluster.ids() {
        let inside = cluster.ns_api_addr(id);
        assert_eq!(
            inside.ip(),
            net.co_addrs()[(id - 1) as usize],
            "replica {id} listens where it was told"
        );
        assert_ne!(
            cluster.api_addr(id),
            inside,
            "the test goes through a forwarder"
        );
        let (status, _) = cluster.get(id, "/apis/cairn/v1/cluster").await?;
        assert_eq!(status, 200);
    }

    let url = |addr: SocketAddr| format!("http://{addr}/apis/cairn/v1/cluster");
    let leader_url = url(cluster.ns_api_addr(leader));
    wait_for(
        "the agent namespace to reach the leader",
        LINK_UP,
        || async { get_ok(net.agent_ns(), &leader_url).then_some(()) },
    )
    .await?;
    net.cut_uplink()?;
    assert!(
        !get_ok(net.agent_ns(), &leader_url),
        "the API answered the agent namespace across a cut uplink"
    );
    // The coordinators themselves are unaffected.
    assert_eq!(cluster.get(leader, "/apis/cairn/v1/cluster").await?.0, 200);
    net.restore_uplink()?;
    wait_for(
        "the agent namespace to reach the leader again",
        LINK_UP,
        || async { get_ok(net.agent_ns(), &leader_url).then_some(()) },
    )
    .await?;
    Ok(())
}
