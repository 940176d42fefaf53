//! Virtual nodes (`cairn_sim::node`) against a stand-in for the rack agent in relay mode: a
//! DHCP responder built with dhcproto that answers relayed requests by unicast to their
//! source (as the agent's server does without root), and an axum server for the boot script
//! and cloud-init that knows nodes by their source address; then against the agent's own DHCP
//! server (`cairn_bootsvc::dhcp`) in relay mode.

mod agent_dhcp;
mod standin;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use cairn_protocols::MacAddr;
use cairn_sim::node::{self, FailReason, NodeSpec, Step};

use standin::{Quirks, StandIn, TIMEOUT, lease_for};

fn spec(index: u32) -> NodeSpec {
    NodeSpec::new(node::mac_of(index))
}

#[tokio::test]
async fn a_relayed_node_leases_then_fetches_everything_from_its_leased_address_on_one_connection() {
    let agent = StandIn::start(Quirks::default()).await;
    let node = spec(1);
    let out = node::boot(&node, &agent.target(), TIMEOUT).await.unwrap();

    let ip = lease_for(node.mac);
    assert_eq!(out.ip, ip);
    let url = format!("http://{}/boot/v1/bootscript?mac={}", agent.http, node.mac);
    assert_eq!(out.bootfile, url);
    assert!(out.script.starts_with("#!ipxe\nkernel "), "{}", out.script);
    assert_eq!(out.times.total(), {
        let t = out.times;
        t.dhcp + t.bootscript + t.meta_data + t.user_data + t.vendor_data
    });
    let http = agent.seen(|s| s.http.clone());
    let paths: Vec<&str> = http.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            &format!("/boot/v1/bootscript?mac={}", node.mac),
            "/cloud-init/meta-data",
            "/cloud-init/user-data",
            "/cloud-init/vendor-data",
        ]
    );
    let peers: HashSet<SocketAddr> = http.iter().map(|(peer, _)| *peer).collect();
    assert_eq!(peers.len(), 1, "one keep-alive connection: {peers:?}");
    assert_eq!(http[0].0.ip(), IpAddr::V4(ip), "from the leased address");
    assert_eq!(agent.seen(|s| s.discovers[&node.mac]), 1);
}

#[tokio::test]
async fn replies_to_other_transactions_or_clients_and_garbage_are_skipped() {
    let agent = StandIn::start(Quirks {
        decoys: true,
        ..Quirks::default()
    })
    .await;
    let node = spec(2);
    let out = node::boot(&node, &agent.target(), TIMEOUT).await.unwrap();
    assert_eq!(out.ip, lease_for(node.mac));
}

#[tokio::test]
async fn a_lost_discover_is_sent_again() {
    let agent = StandIn::start(Quirks {
        drop_first_discover: true,
        ..Quirks::default()
    })
    .await;
    let node = spec(3);
    let out = node::boot(&node, &agent.target(), TIMEOUT).await.unwrap();
    assert_eq!(out.ip, lease_for(node.mac));
    assert_eq!(agent.seen(|s| s.discovers[&node.mac]), 2);
}

#[tokio::test]
async fn a_nak_fails_the_request_step_with_the_servers_message() {
    let node = spec(4);
    let agent = StandIn::start(Quirks {
        nak: HashSet::from([node.mac]),
        ..Quirks::default()
    })
    .await;
    let err = node::boot(&node, &agent.target(), TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!((err.mac, err.step), (node.mac, Step::Request));
    assert!(
        matches!(&err.reason, FailReason::Nak(m) if m == "not on this network"),
        "{err}"
    );
}

#[tokio::test]
async fn silence_fails_the_discover_step_when_the_time_is_up() {
    let node = spec(5);
    let agent = StandIn::start(Quirks {
        silent: HashSet::from([node.mac]),
        ..Quirks::default()
    })
    .await;
    let target = agent.target().with_retry(Duration::from_millis(20));
    let err = node::boot(&node, &target, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err.step, Step::Discover);
    assert!(
        matches!(err.reason, FailReason::Timeout { ignored: None }),
        "{err}"
    );
}

#[tokio::test]
async fn an_offer_without_a_server_identifier_is_not_taken_and_the_timeout_says_why() {
    let agent = StandIn::start(Quirks {
        no_server_id: true,
        ..Quirks::default()
    })
    .await;
    let target = agent.target().with_retry(Duration::from_millis(20));
    let err = node::boot(&spec(6), &target, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert_eq!(err.step, Step::Discover);
    let text = err.to_string();
    assert!(text.contains("option 54"), "{text}");
}

#[tokio::test]
async fn an_http_error_fails_its_step() {
    let node = spec(7);
    let agent = StandIn::start(Quirks {
        script_fails: HashSet::from([node.mac]),
        ..Quirks::default()
    })
    .await;
    let err = node::boot(&node, &agent.target(), TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(err.step, Step::Bootscript);
    assert!(
        matches!(err.reason, FailReason::Status { status: 500, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn missing_vendor_data_is_no_vendor_data() {
    let agent = StandIn::start(Quirks {
        no_vendor_data: true,
        ..Quirks::default()
    })
    .await;
    node::boot(&spec(8), &agent.target(), TIMEOUT)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_server_closing_each_connection_is_reconnected_to_from_the_same_address() {
    let agent = StandIn::start(Quirks {
        close: true,
        ..Quirks::default()
    })
    .await;
    let node = spec(9);
    node::boot(&node, &agent.target(), TIMEOUT).await.unwrap();
    let http = agent.seen(|s| s.http.clone());
    assert_eq!(http.len(), 4);
    assert!(
        http.iter()
            .all(|(peer, _)| peer.ip() == IpAddr::V4(lease_for(node.mac)))
    );
}

#[tokio::test]
async fn a_node_before_ipxe_fetches_its_script_by_mac_from_the_given_server() {
    let agent = StandIn::start(Quirks::default()).await;
    let node = NodeSpec {
        ipxe: false,
        ..spec(10)
    };
    // The boot file is a binary to fetch by TFTP: without an HTTP server there is no script.
    let err = node::boot(&node, &agent.target(), TIMEOUT)
        .await
        .unwrap_err();
    assert_eq!(err.step, Step::Bootscript);
    assert!(err.to_string().contains("\"ipxe.efi\""), "{err}");

    let target = agent.target().with_http(agent.http);
    let out = node::boot(&node, &target, TIMEOUT).await.unwrap();
    assert_eq!(out.bootfile, "ipxe.efi");
    let first = agent.seen(|s| s.http[0].1.clone());
    assert_eq!(first, format!("/boot/v1/bootscript?mac={}", node.mac));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_all_boots_every_node_in_order_at_most_so_many_at_once() {
    let agent = StandIn::start(Quirks::default()).await;
    let specs: Vec<NodeSpec> = (100..600).map(spec).collect();
    let macs: Vec<MacAddr> = specs.iter().map(|s| s.mac).collect();
    let results = node::boot_all(specs, agent.target(), 32, TIMEOUT).await;
    assert_eq!(results.len(), macs.len());
    for (mac, result) in macs.iter().zip(&results) {
        let out = result.as_ref().unwrap();
        assert_eq!(out.ip, lease_for(*mac));
    }
    let (most, leased) = agent.seen(|s| (s.most_booting, s.leased.len()));
    assert!(most <= 32, "{most} nodes booted at once");
    assert_eq!(leased, macs.len());
}
