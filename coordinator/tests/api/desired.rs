//! The desired-state part of an agent's Watch stream: the whole scope first, then only the
//! nodes and shared records changed since the revision the agent holds, a whole state again
//! when that revision is older than the replica's change log; and the boot-serving report
//! items (boot events, MACs seen, addresses given, phone-homes).

use cairn_coordinator::agents::work::Delivered;
use cairn_protocols::agent::{
    BootEvent, BootStep, LeaseAssigned, MacSeen, PhoneHomeReport, ReportItem, WorkBatch, WorkItem,
};
use cairn_protocols::desired::{DesiredItem, SharedRecord};
use cairn_protocols::{PhoneHome, Xname};
use serde_json::json;

use crate::rack::{register, report};
use crate::support::App;

fn x(s: &str) -> Xname {
    Xname::parse(s).unwrap()
}

/// Two nodes in cabinet 1000, one in 2000, each with an interface; boot parameters for one
/// node and the Compute role; a cloud-init group.
async fn inventory(app: &App) {
    app.expect(
        "POST",
        "/hsm/v2/State/Components",
        Some(json!({"Components": [
            {"ID": "x1000c0s0b0n0", "Role": "Compute", "NID": 1, "State": "Ready"},
            {"ID": "x1000c0s0b0n1", "Role": "Compute", "NID": 2, "State": "Ready"},
            {"ID": "x2000c0s0b0n0", "Role": "Compute", "NID": 3, "State": "Ready"},
        ]})),
        204,
    )
    .await;
    for (mac, node, ip) in [
        ("02:00:00:00:10:00", "x1000c0s0b0n0", Some("10.1.0.10")),
        ("02:00:00:00:10:01", "x1000c0s0b0n1", None),
        ("02:00:00:00:20:00", "x2000c0s0b0n0", Some("10.2.0.10")),
    ] {
        let ips = ip.map_or(json!([]), |ip| json!([{"IPAddress": ip}]));
        app.expect(
            "POST",
            "/hsm/v2/Inventory/EthernetInterfaces",
            Some(json!({"MACAddress": mac, "ComponentID": node, "IPAddresses": ips})),
            201,
        )
        .await;
    }
    app.expect(
        "POST",
        "/boot/v1/bootparameters",
        Some(json!({"hosts": ["x1000c0s0b0n0"], "kernel": "http://images/node0", "params": "a=1"})),
        201,
    )
    .await;
    app.expect(
        "POST",
        "/boot/v1/bootparameters",
        Some(json!({"hosts": ["Compute"], "kernel": "http://images/compute"})),
        201,
    )
    .await;
}

fn nodes(b: &WorkBatch) -> Vec<String> {
    b.items
        .iter()
        .filter_map(|i| match i {
            WorkItem::Desired(DesiredItem::Node(n)) => Some(n.xname.to_string()),
            WorkItem::Desired(DesiredItem::NodeRemoved(x)) => Some(format!("-{x}")),
            _ => None,
        })
        .collect()
}

fn shared(b: &WorkBatch) -> usize {
    b.items
        .iter()
        .filter(|i| matches!(i, WorkItem::Desired(DesiredItem::Shared(_))))
        .count()
}

#[tokio::test]
async fn the_stream_sends_the_scope_then_changes_since_a_revision() {
    let app = App::start().await;
    inventory(&app).await;
    register(&app, "rack-1", &[1000]).await;
    let watch = |after: u64| -> (WorkBatch, u64) {
        app.state.replica().read(|inv| {
            let mut d = Delivered::new(0, after);
            let b = d.full(inv, "rack-1").unwrap();
            (b, d.desired_at())
        })
    };

    // Nothing held: the whole scope (cabinet 1000 only) and every shared record.
    let (first, held) = watch(0);
    let mark = first.desired.unwrap();
    assert!(mark.full && mark.shared_replaced);
    assert_eq!(nodes(&first), ["x1000c0s0b0n0", "x1000c0s0b0n1"]);
    // The Compute entry and the cluster defaults.
    assert_eq!(shared(&first), 2);
    let n0 = first
        .items
        .iter()
        .find_map(|i| match i {
            WorkItem::Desired(DesiredItem::Node(n)) if n.xname == x("x1000c0s0b0n0") => Some(n),
            _ => None,
        })
        .unwrap();
    assert_eq!(n0.nid, Some(1));
    assert_eq!(
        n0.interfaces[0].ips,
        ["10.1.0.10".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(
        n0.boot_entry.as_ref().unwrap().kernel,
        "http://images/node0"
    );
    assert_eq!(held, mark.revision);

    // A revision this replica never reached (a cluster rebuilt since): the whole state.
    let (ahead, _) = watch(held + 1_000);
    assert!(ahead.desired.unwrap().full);
    assert_eq!(nodes(&ahead), ["x1000c0s0b0n0", "x1000c0s0b0n1"]);

    // Nothing changed since: a mark, no items.
    let (same, _) = watch(held);
    assert!(!same.desired.unwrap().full);
    assert!(nodes(&same).is_empty() && shared(&same) == 0);

    // A node of another cabinet changes: still nothing for rack-1.
    app.expect(
        "PATCH",
        "/hsm/v2/State/Components/x2000c0s0b0n0/Enabled",
        Some(json!({"Enabled": false})),
        204,
    )
    .await;
    assert!(nodes(&watch(held).0).is_empty());

    // One node of its scope changes, then a group gains the other: exactly those two.
    app.expect(
        "PATCH",
        "/hsm/v2/State/Components/x1000c0s0b0n0/Enabled",
        Some(json!({"Enabled": false})),
        204,
    )
    .await;
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "blue", "members": {"ids": ["x1000c0s0b0n1"]}})),
        201,
    )
    .await;
    let (changed, later) = watch(held);
    assert_eq!(nodes(&changed), ["x1000c0s0b0n0", "x1000c0s0b0n1"]);
    assert_eq!(shared(&changed), 0);
    assert!(later > held);

    // A deleted node is announced as removed; a cloud-init group brings all shared records.
    app.expect(
        "DELETE",
        "/hsm/v2/State/Components/x1000c0s0b0n1",
        None,
        200,
    )
    .await;
    app.expect(
        "POST",
        "/cloud-init/admin/groups",
        Some(json!({"name": "blue", "file": {"content": "#cloud-config\nruncmd: []\n", "encoding": "plain"}})),
        201,
    )
    .await;
    let (removed, _) = watch(later);
    assert_eq!(nodes(&removed), ["-x1000c0s0b0n1"]);
    let mark = removed.desired.unwrap();
    assert!(mark.shared_replaced && !mark.full);
    assert!(removed.items.iter().any(|i| matches!(
        i,
        WorkItem::Desired(DesiredItem::Shared(SharedRecord::GroupData(g))) if g.name == "blue"
    )));

    // A revision older than the replica's change log: the whole state again.
    app.expect("DELETE", "/hsm/v2/Inventory/EthernetInterfaces", None, 200)
        .await;
    let (compacted, _) = watch(later);
    let mark = compacted.desired.unwrap();
    assert!(mark.full, "a bulk delete starts the log over");
    assert_eq!(nodes(&compacted), ["x1000c0s0b0n0"]);
}

#[tokio::test]
async fn boot_reports_land_in_the_inventory_once() {
    let app = App::start().await;
    inventory(&app).await;
    register(&app, "rack-1", &[1000]).await;
    let items = vec![
        ReportItem::BootEvent(BootEvent {
            xname: Some(x("x1000c0s0b0n0")),
            mac: Some("02:00:00:00:10:00".parse().unwrap()),
            step: BootStep::Script,
            ip: Some("10.1.0.10".parse().unwrap()),
            at_ms: 1_700_000_000_000,
        }),
        ReportItem::MacSeen(MacSeen {
            mac: "02:00:00:00:99:99".parse().unwrap(),
            ip: Some("10.1.0.200".parse().unwrap()),
            vendor_class: Some("PXEClient:Arch:00007:UNDI:003016".into()),
            at_ms: 1_700_000_000_001,
        }),
        ReportItem::LeaseAssigned(LeaseAssigned {
            xname: x("x1000c0s0b0n1"),
            mac: "02:00:00:00:10:01".parse().unwrap(),
            ip: "10.1.0.100".parse().unwrap(),
            at_ms: 1_700_000_000_002,
        }),
        ReportItem::PhoneHome(PhoneHomeReport {
            xname: x("x1000c0s0b0n0"),
            report: PhoneHome {
                hostname: "nid000001".into(),
                ..PhoneHome::default()
            },
            at_ms: 1_700_000_000_003,
        }),
    ];
    report(&app, "rack-1", 1, items.clone()).await.unwrap();
    // Replayed after a reconnect: applied once.
    report(&app, "rack-1", 1, items).await.unwrap();

    let boots = app.get_ok("/apis/cairn/v1/boots").await;
    assert_eq!(boots["boots"].as_array().unwrap().len(), 1, "{boots}");
    let one = app.get_ok("/apis/cairn/v1/boots/x1000c0s0b0n0").await;
    assert_eq!(one["Steps"]["script"]["Agent"], "rack-1", "{one}");
    assert_eq!(one["Steps"]["script"]["IPAddress"], "10.1.0.10");
    app.refuse(
        "GET",
        "/apis/cairn/v1/boots/x1000c0s0b0n1",
        None,
        404,
        &["x1000c0s0b0n1"],
    )
    .await;

    let seen = app
        .get_ok("/hsm/v2/Inventory/EthernetInterfaces/020000009999")
        .await;
    assert!(seen["ComponentID"].is_null(), "{seen}");
    assert_eq!(seen["IPAddresses"][0]["IPAddress"], "10.1.0.200");
    assert!(seen["Description"].as_str().unwrap().contains("rack-1"));

    let leased = app
        .get_ok("/hsm/v2/Inventory/EthernetInterfaces/020000001001")
        .await;
    assert_eq!(leased["IPAddresses"], json!([{"IPAddress": "10.1.0.100"}]));

    let ph = app.get_ok("/cloud-init/admin/phone-home").await;
    assert_eq!(ph[0]["id"], "x1000c0s0b0n0", "{ph}");
    assert_eq!(ph[0]["report"]["hostname"], "nid000001", "{ph}");

    // The address given by the rack goes back to the agent with the node.
    let batch = app
        .state
        .replica()
        .read(|inv| Delivered::new(0, 0).full(inv, "rack-1").unwrap());
    let n1 = batch
        .items
        .iter()
        .find_map(|i| match i {
            WorkItem::Desired(DesiredItem::Node(n)) if n.xname == x("x1000c0s0b0n1") => Some(n),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        n1.interfaces[0].ips,
        ["10.1.0.100".parse::<std::net::IpAddr>().unwrap()]
    );
}
