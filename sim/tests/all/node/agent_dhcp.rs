//! Virtual nodes against the rack agent's own DHCP server (`cairn_bootsvc::dhcp`) in relay
//! mode on loopback, as `cairn bench bootstorm` runs them; the HTTP side is the stand-in's.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use cairn_bootsvc::dhcp::{DhcpConfig, DhcpEvent, DhcpHosts, DhcpServer, Host};
use cairn_protocols::{MacAddr, Xname};
use cairn_sim::node::{self, BootTarget, NodeSpec};
use tokio::sync::mpsc;

use super::standin::{Quirks, RELAY, StandIn, TIMEOUT, lease_for};

/// The inventory as DHCP sees it: MAC → node with its address.
struct Inventory(HashMap<MacAddr, Host>);

impl DhcpHosts for Inventory {
    fn host(&self, mac: MacAddr) -> Option<Host> {
        self.0.get(&mac).cloned()
    }

    fn is_reserved(&self, ip: Ipv4Addr) -> bool {
        self.0.values().any(|h| h.ipv4.contains(&ip))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_unknown_and_firmware_nodes_boot_from_the_agents_dhcp_server() {
    let http = StandIn::start(Quirks {
        learn_from_bootscript: true,
        ..Quirks::default()
    })
    .await;
    let known: Vec<NodeSpec> = (0..100).map(super::spec).collect();
    let unknown: Vec<NodeSpec> = (1000..1020).map(super::spec).collect();
    let firmware = NodeSpec {
        ipxe: false,
        ..super::spec(2000)
    };
    let inventory = known
        .iter()
        .chain([&firmware])
        .enumerate()
        .map(|(i, n)| {
            let host = Host {
                xname: Xname::parse(&format!("x3000c0s{i}b0n0")).unwrap(),
                ipv4: vec![lease_for(n.mac)],
                hostname: format!("nid{i:04}"),
                enabled: true,
            };
            http.learn(lease_for(n.mac), n.mac);
            (n.mac, host)
        })
        .collect();

    let mut config = DhcpConfig::new(format!("http://{}", http.http));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.server_ip = Some(Ipv4Addr::new(127, 64, 0, 2));
    config.subnet = Some("127.64.0.0/16".parse().unwrap());
    let leases = sled::Config::new()
        .temporary(true)
        .open()
        .unwrap()
        .open_tree("leases")
        .unwrap();
    let (events, mut bound) = mpsc::channel(10_000);
    let server = DhcpServer::bind(config, Arc::new(Inventory(inventory)), leases, events)
        .await
        .unwrap();
    let target = BootTarget::new(server.local_addr(), RELAY)
        .with_retry(std::time::Duration::from_millis(200));
    let serving = tokio::spawn(server.serve());

    let specs: Vec<NodeSpec> = known.iter().chain(&unknown).copied().collect();
    let results = node::boot_all(specs, target.clone(), 16, TIMEOUT).await;
    let outcomes: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    for (spec, out) in known.iter().zip(&outcomes) {
        assert_eq!(out.ip, lease_for(spec.mac), "the inventory's address");
        let url = format!("http://{}/boot/v1/bootscript?mac={}", http.http, spec.mac);
        assert_eq!(out.bootfile, url);
    }
    // Firmware PXE is given the iPXE binary for its architecture, by TFTP; its script then
    // comes by MAC from the HTTP server the bench names.
    let out = node::boot(&firmware, &target.clone().with_http(http.http), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(out.bootfile, "ipxe.efi");
    serving.abort();

    // Unknown MACs got pool addresses, and fetched from the address the server bound.
    let mut bound_to = HashMap::new();
    while let Ok(event) = bound.try_recv() {
        if let DhcpEvent::Bound { mac, ip, .. } = event {
            bound_to.insert(mac, ip);
        }
    }
    let seen = http.seen(|s| s.http.clone());
    for (spec, out) in unknown.iter().zip(&outcomes[known.len()..]) {
        assert_eq!(bound_to.get(&spec.mac), Some(&out.ip));
        assert!(!known.iter().any(|k| lease_for(k.mac) == out.ip));
        let from_it = seen
            .iter()
            .filter(|(peer, _)| peer.ip() == std::net::IpAddr::V4(out.ip))
            .count();
        assert_eq!(
            from_it, 4,
            "{} fetched its four documents from {}",
            spec.mac, out.ip
        );
    }
}
