//! Boot serving at the rack through a partition, on loopback: the agent receives its rack's
//! desired state, serves scripts and cloud-init from it, keeps serving when every coordinator
//! is gone and after its own restart while cut off, and drains its outbox (boot events,
//! phone-homes) once the coordinators are back, each report applied once.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use cairn_agent::runtime::{Handle, LinkState};
use cairn_tests::wait_for;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Rack, wait_agent};

/// The test's loopback network and cabinet.
const NET: u8 = 21;

fn node(i: u8) -> String {
    format!("x{NET}c0s{i}b0n0")
}

fn mac(i: u8) -> String {
    format!("02:00:00:00:{NET:02x}:{i:02x}")
}

/// A MAC the inventory does not know.
const UNKNOWN_MAC: &str = "02:00:00:00:99:01";

/// The node's address: cloud-init identifies nodes by it.
fn ip(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 44, NET, i)
}

/// An image server: the kernel and initrd every Compute node boots.
async fn origin() -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let app = axum::Router::new()
        .route("/compute/vmlinuz", axum::routing::get(|| async { KERNEL }))
        .route(
            "/compute/initrd",
            axum::routing::get(|| async { "initrd bytes" }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}

/// The kernel the origin serves.
const KERNEL: &str = "a kernel, as far as this test is concerned";

/// Three nodes with addresses, boot parameters for the Compute role (images from `origin`)
/// and one node of its own.
async fn inventory(rack: &Rack, origin: SocketAddr) -> anyhow::Result<()> {
    let components: Vec<Value> = (1..=3)
        .map(|i| json!({"ID": node(i), "State": "Ready", "Role": "Compute", "NID": i}))
        .collect();
    let (s, b) = rack
        .send(
            Method::POST,
            "/hsm/v2/State/Components",
            &json!({"Components": components}),
        )
        .await?;
    anyhow::ensure!(s == 204, "components: {s} {b}");
    for i in 1..=3 {
        let body = json!({"MACAddress": mac(i), "ComponentID": node(i),
                          "IPAddresses": [{"IPAddress": ip(i).to_string()}]});
        let (s, b) = rack
            .send(Method::POST, "/hsm/v2/Inventory/EthernetInterfaces", &body)
            .await?;
        anyhow::ensure!(s == 201, "interface {i}: {s} {b}");
    }
    for body in [
        json!({"hosts": ["Compute"], "kernel": format!("http://{origin}/compute/vmlinuz"),
               "initrd": format!("http://{origin}/compute/initrd"), "params": "console=ttyS0"}),
        json!({"hosts": [node(3)], "kernel": format!("http://{origin}/compute/vmlinuz"),
               "params": "special=1"}),
    ] {
        let (s, b) = rack
            .send(Method::POST, "/boot/v1/bootparameters", &body)
            .await?;
        anyhow::ensure!(s == 201, "bootparameters: {s} {b}");
    }
    Ok(())
}

/// An HTTP client whose requests come from node `i`'s address.
fn client_of(i: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(ip(i)))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client")
}

async fn get(i: u8, boot: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    let resp = client_of(i)
        .get(format!("http://{boot}{path}"))
        .send()
        .await?;
    Ok((resp.status().as_u16(), resp.text().await?))
}

/// Node `i` fetches its script, its kernel when it comes from the rack's cache, and its
/// meta-data; the script and meta-data must name it.
async fn boots(i: u8, boot: SocketAddr, kernel: &str) -> anyhow::Result<()> {
    let (s, script) = get(i, boot, &format!("/boot/v1/bootscript?mac={}", mac(i))).await?;
    anyhow::ensure!(s == 200, "script of node {i}: {s} {script}");
    anyhow::ensure!(script.contains(kernel), "node {i}'s script: {script}");
    let url = script
        .lines()
        .find_map(|l| l.strip_prefix("kernel --name kernel "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default();
    if let Some(path) = url.strip_prefix(&format!("http://{boot}")) {
        anyhow::ensure!(path.starts_with("/boot/v1/images/"), "{url}");
        let (s, body) = get(i, boot, path).await?;
        anyhow::ensure!(s == 200 && body == KERNEL, "kernel of node {i}: {s} {body}");
    }
    anyhow::ensure!(script.contains(&format!("xname={}", node(i))), "{script}");
    let (s, meta) = get(i, boot, "/cloud-init/meta-data").await?;
    anyhow::ensure!(s == 200, "meta-data of node {i}: {s} {meta}");
    anyhow::ensure!(meta.contains(&node(i)), "node {i}'s meta-data: {meta}");
    Ok(())
}

async fn phone_home(i: u8, boot: SocketAddr) -> anyhow::Result<u16> {
    let resp = client_of(i)
        .post(format!("http://{boot}/cloud-init/phone-home/{}", node(i)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("hostname=nid{i:06}&instance_id={}", node(i)))
        .send()
        .await?;
    Ok(resp.status().as_u16())
}

/// The rack's DHCP relay address (giaddr), inside the boot subnet.
fn relay_ip() -> Ipv4Addr {
    Ipv4Addr::new(127, 44, NET, 254)
}

/// An agent serving HTTP on loopback and DHCP in relay mode for 127.44.NET.0/24: without
/// root, the simulated nodes reach it as a relay would.
async fn start(rack: &Rack) -> anyhow::Result<Handle> {
    let mut config = rack.agent_config("rack-boot", "agent");
    config.bmc.subnets.clear();
    config.boot.listen = Some("127.0.0.1:0".parse()?);
    let mut dhcp = cairn_bootsvc::dhcp::DhcpConfig::new("");
    dhcp.listen = SocketAddr::from((Ipv4Addr::new(127, 44, NET, 250), 0));
    dhcp.server_ip = Some(Ipv4Addr::new(127, 44, NET, 250));
    dhcp.subnet = Some(format!("127.44.{NET}.0/24").parse()?);
    config.boot.dhcp = Some(dhcp);
    rack.start_agent(config).await
}

/// A simulated node with this MAC boots through the agent: DHCP (relayed), its script and
/// its cloud-init data from the address it leased.
async fn sim_boot(agent: &Handle, mac: &str) -> anyhow::Result<cairn_sim::node::BootOutcome> {
    let dhcp = agent.boot_addrs().dhcp.expect("DHCP runs");
    let target =
        cairn_sim::node::BootTarget::new(dhcp, relay_ip()).with_retry(Duration::from_millis(500));
    let spec = cairn_sim::node::NodeSpec::new(mac.parse()?);
    Ok(cairn_sim::node::boot(&spec, &target, Duration::from_secs(20)).await?)
}

#[tokio::test]
async fn a_cut_off_rack_keeps_booting_and_drains_its_outbox() -> anyhow::Result<()> {
    let mut rack = Rack::without_bmcs(NET, 1).await?;
    let (origin, origin_task) = origin().await?;
    inventory(&rack, origin).await?;
    let agent = start(&rack).await?;
    wait_for(
        "the rack's desired state",
        Duration::from_secs(30),
        || async { (agent.rack().read().node_count() == 3).then_some(()) },
    )
    .await?;
    let boot = agent.boot_addr().expect("HTTP boot runs");
    // The script names the rack's cache, which fills from the origin.
    boots(1, boot, "/boot/v1/images/").await?;
    boots(3, boot, "special=1").await?;

    // Cut off: every coordinator is gone, and the image server too.
    rack.cluster.kill(1);
    origin_task.abort();
    wait_agent(&agent, "the agent autonomous", |s| {
        s.coordinator.state == LinkState::Autonomous
    })
    .await?;
    boots(2, boot, "/boot/v1/images/").await?;
    assert_eq!(phone_home(2, boot).await?, 200);
    // Through DHCP too: the inventory's address, then script and cloud-init from it.
    let booted = sim_boot(&agent, &mac(2)).await?;
    assert_eq!(booted.ip, ip(2));
    assert!(booted.script.contains(&node(2)), "{}", booted.script);
    // A MAC nobody knows gets a pool address, and is reported once the rack reconnects.
    let stranger = sim_boot(&agent, UNKNOWN_MAC).await;
    assert!(
        stranger.is_err(),
        "an unknown node gets no script of its own"
    );

    // Restarted while cut off: it serves from disk.
    agent.kill().await;
    let agent = start(&rack).await?;
    assert_eq!(
        agent.rack().read().node_count(),
        3,
        "the desired state is on disk"
    );
    let boot = agent.boot_addr().expect("HTTP boot runs");
    boots(1, boot, "/boot/v1/images/").await?;
    boots(3, boot, "special=1").await?;
    let waiting = agent.status().outbox.depth;
    assert!(
        waiting > 0,
        "boot events and the phone-home wait in the outbox"
    );

    // The coordinators come back: the outbox drains, every report applied once.
    rack.cluster.restart(1).await?;
    wait_agent(&agent, "the outbox drained", |s| {
        s.coordinator.state == LinkState::Connected && s.outbox.depth == 0
    })
    .await?;
    let boots_seen = wait_for(
        "boots in the inventory",
        Duration::from_secs(30),
        || async {
            let (s, b) = rack.get("/apis/cairn/v1/boots").await.ok()?;
            let list = b["boots"].as_array()?.clone();
            // The three nodes, and the unknown MAC's DHCP lease.
            (s == 200 && list.len() == 4).then_some(list)
        },
    )
    .await?;
    for b in boots_seen.iter().filter(|b| b["ID"].is_string()) {
        assert_eq!(b["Steps"]["script"]["Agent"], "rack-boot", "{b}");
        assert!(b["Steps"]["image"]["AtMs"].as_u64().is_some(), "{b}");
        assert!(b["Steps"]["cloud-init"]["AtMs"].as_u64().is_some(), "{b}");
    }
    let seen = wait_for(
        "the unknown MAC in the inventory",
        Duration::from_secs(30),
        || async {
            let (s, b) = rack
                .get("/hsm/v2/Inventory/EthernetInterfaces/020000009901")
                .await
                .ok()?;
            (s == 200).then_some(b)
        },
    )
    .await?;
    assert!(seen["ComponentID"].is_null(), "{seen}");
    let dhcp_seen = &boots_seen
        .iter()
        .find(|b| b["ID"] == node(2).as_str())
        .expect("node 2's boots")["Steps"]["dhcp"];
    assert_eq!(dhcp_seen["IPAddress"], ip(2).to_string(), "{dhcp_seen}");
    let (_, ph) = rack.get("/cloud-init/admin/phone-home").await?;
    assert_eq!(ph[0]["id"], node(2).as_str(), "{ph}");
    assert_eq!(ph[0]["report"]["hostname"], "nid000002", "{ph}");
    let (_, agents) = rack.get("/apis/cairn/v1/agents").await?;
    let a = &agents["agents"][0];
    assert!(
        a["desired_revision"].as_u64().is_some() || a["desired_revision"].is_null(),
        "{a}"
    );
    agent.shutdown().await;
    Ok(())
}

/// Compute nodes without interfaces.
async fn add_nodes(rack: &Rack, xnames: &[String]) -> anyhow::Result<()> {
    let components: Vec<Value> = xnames
        .iter()
        .map(|x| json!({"ID": x, "State": "Ready", "Role": "Compute"}))
        .collect();
    let (s, b) = rack
        .send(
            Method::POST,
            "/hsm/v2/State/Components",
            &json!({"Components": components}),
        )
        .await?;
    anyhow::ensure!(s == 204, "components: {s} {b}");
    Ok(())
}

#[tokio::test]
async fn the_rack_follows_changes_and_forgets_deleted_nodes() -> anyhow::Result<()> {
    let net = NET + 1;
    let rack = Rack::without_bmcs(net, 1).await?;
    let x = |i: u8| format!("x{net}c0s{i}b0n0");
    add_nodes(&rack, &[x(1), x(2)]).await?;
    let mut config = rack.agent_config("rack-follow", "agent");
    config.bmc.subnets.clear();
    config.boot.listen = Some("127.0.0.1:0".parse()?);
    let agent = rack.start_agent(config).await?;
    wait_for("two nodes", Duration::from_secs(30), || async {
        (agent.rack().read().node_count() == 2).then_some(())
    })
    .await?;
    let (s, b) = rack
        .send(
            Method::DELETE,
            &format!("/hsm/v2/State/Components/{}", x(2)),
            &Value::Null,
        )
        .await?;
    assert_eq!(s, 200, "{b}");
    wait_for("one node", Duration::from_secs(30), || async {
        (agent.rack().read().node_count() == 1).then_some(())
    })
    .await?;
    agent.shutdown().await;
    Ok(())
}

/// The leader dies while the agent watches: the agent reopens its stream on another replica,
/// which carries on from the revision the agent holds (no second full state), and changes
/// made after the failover reach the rack.
#[tokio::test]
async fn a_leader_change_costs_the_rack_a_reconnect_not_a_full_state() -> anyhow::Result<()> {
    let net = NET + 2;
    let x = |i: u8| format!("x{net}c0s{i}b0n0");
    let mut rack = Rack::without_bmcs(net, 3).await?;
    add_nodes(&rack, &[x(1), x(2)]).await?;
    let mut config = rack.agent_config("rack-failover", "agent");
    config.bmc.subnets.clear();
    let agent = rack.start_agent(config).await?;
    let first = wait_agent(&agent, "the desired state", |s| s.desired.nodes == 2).await?;
    assert_eq!(
        first.desired.full_updates, 2,
        "loading an empty cache, then the first stream"
    );

    let leader = rack.cluster.leader().await?;
    rack.cluster.kill(leader);
    let dead = rack.cluster.api_url(leader);
    rack.cluster.leader().await?;
    add_nodes(&rack, &[x(3)]).await?;
    let after = wait_agent(&agent, "the new node at the rack", |s| {
        s.desired.nodes == 3 && s.coordinator.url != dead
    })
    .await?;
    assert_eq!(
        after.desired.full_updates, first.desired.full_updates,
        "the new stream resumed from the revision held"
    );
    assert!(after.desired.revision > first.desired.revision);
    agent.shutdown().await;
    Ok(())
}
