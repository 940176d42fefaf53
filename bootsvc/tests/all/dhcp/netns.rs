//! As root: the server on a bridge inside a network namespace (interface mode: bound to the
//! device, broadcasting replies), serving busybox udhcpc and ISC dhclient running in another
//! namespace through the peers' `dhcp-client.sh`.

use std::error::Error as _;
use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use cairn_bootsvc::dhcp::{DhcpConfig, DhcpEvent, DhcpServer, LeaseKind};

use super::support::{MemHosts, PATIENCE};

const NODE_MAC: &str = "52:54:00:91:00:01";
const NODE_IP: Ipv4Addr = Ipv4Addr::new(10, 91, 0, 50);

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().unwrap();
    assert!(st.success(), "ip {}", args.join(" "));
}

/// An agent namespace with bridge `rack0` (10.91.0.1/24) and a node namespace whose `eth0`
/// is a port of it. Both namespaces are deleted on drop.
struct Topology {
    agent: String,
    node: String,
}

impl Topology {
    fn create() -> Topology {
        let pid = std::process::id();
        let t = Topology {
            agent: format!("cdhcp-ag-{pid}"),
            node: format!("cdhcp-n-{pid}"),
        };
        let (ag, n) = (t.agent.as_str(), t.node.as_str());
        ip(&["netns", "add", ag]);
        ip(&["netns", "add", n]);
        ip(&["-n", ag, "link", "set", "lo", "up"]);
        ip(&["-n", n, "link", "set", "lo", "up"]);
        ip(&["-n", ag, "link", "add", "rack0", "type", "bridge"]);
        ip(&["-n", ag, "addr", "add", "10.91.0.1/24", "dev", "rack0"]);
        ip(&["-n", ag, "link", "set", "rack0", "up"]);
        ip(&[
            "link", "add", "n1p", "netns", ag, "type", "veth", "peer", "name", "eth0", "netns", n,
        ]);
        ip(&["-n", ag, "link", "set", "n1p", "master", "rack0"]);
        ip(&["-n", ag, "link", "set", "n1p", "up"]);
        ip(&["-n", n, "link", "set", "eth0", "address", NODE_MAC]);
        t
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for ns in [&self.node, &self.agent] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn peers_dir() -> PathBuf {
    std::env::var_os("CAIRN_PEERS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers"),
        PathBuf::from,
    )
}

#[test]
fn udhcpc_and_dhclient_get_the_inventory_address_on_a_bridge() {
    if !rustix::process::geteuid().is_root() {
        println!("skipped: needs root to create network namespaces");
        return;
    }
    let script = peers_dir().join("dhcp-client.sh");
    if !script.exists() {
        println!(
            "skipped: {} not found (set CAIRN_PEERS_DIR)",
            script.display()
        );
        return;
    }
    let topo = Topology::create();
    let hosts = Arc::new(MemHosts::default());
    hosts.add(
        cairn_protocols::MacAddr::parse(NODE_MAC).unwrap(),
        "x3000c0s1b0n0",
        &[NODE_IP],
    );
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().to_owned();
    let ns_path = format!("/run/netns/{}", topo.agent);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ev_tx, mut ev_rx) = tokio::sync::mpsc::channel(1000);

    // A socket belongs to the namespace of the thread that creates it: this thread moves into
    // the agent's namespace and runs the server there.
    let server = std::thread::spawn(move || {
        let ns = File::open(&ns_path).unwrap();
        rustix::thread::move_into_link_name_space(
            ns.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let mut c = DhcpConfig::new("http://10.91.0.1:8080");
            c.interface = Some("rack0".into());
            c.router = Some(Ipv4Addr::new(10, 91, 0, 1));
            let db = sled::open(db_path).unwrap();
            let bound = DhcpServer::bind(c, hosts, db.open_tree("dhcp").unwrap(), ev_tx).await;
            let server = match bound {
                Ok(s) => {
                    ready_tx.send(Ok(s.server_ip())).unwrap();
                    s
                }
                Err(e) => {
                    ready_tx
                        .send(Err(format!("{e}: {:?}", e.source())))
                        .unwrap();
                    return;
                }
            };
            tokio::select! {
                () = server.serve() => {}
                _ = stop_rx => {}
            }
        });
    });
    let server_ip = ready_rx.recv_timeout(PATIENCE).unwrap().unwrap();
    assert_eq!(server_ip, Ipv4Addr::new(10, 91, 0, 1), "taken from rack0");

    let out = Command::new(&script)
        .args([topo.node.as_str(), "eth0", "both"])
        .env("DHCP_VENDOR", "PXEClient:Arch:00000:UNDI:002001")
        .env("DHCP_TIMEOUT", "20")
        .output()
        .unwrap();
    let _ = stop_tx.send(());
    server.join().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "a client got no lease");
    let has = |line: &str| text.lines().any(|l| l.trim() == line);
    // busybox udhcpc
    assert!(has("ip=10.91.0.50"), "udhcpc address");
    assert!(has("siaddr(next-server)=10.91.0.1"), "udhcpc next-server");
    assert!(has("bootfile=undionly.kpxe") || has("boot_file=undionly.kpxe"));
    assert!(has("opt175=b00101"), "option 175.176 = 1");
    // ISC dhclient
    assert!(has("new_ip_address=10.91.0.50"), "dhclient address");
    assert!(has("new_next_server=10.91.0.1"), "dhclient next-server");
    assert!(has("new_bootfile_name=undionly.kpxe") || has("new_filename=undionly.kpxe"));

    let mut bound = 0;
    while let Ok(ev) = ev_rx.try_recv() {
        if let DhcpEvent::Bound {
            ip, source, arch, ..
        } = ev
        {
            assert_eq!((ip, source, arch), (NODE_IP, LeaseKind::Inventory, Some(0)));
            bound += 1;
        }
    }
    assert!(bound >= 2, "one ACK per client");
    drop(topo);
}
