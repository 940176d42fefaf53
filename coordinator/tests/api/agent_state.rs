//! The agents' commands on the state machine alone, without Raft: a replayed report applies
//! once (also after a snapshot, i.e. on another leader), discovery keeps what operators set
//! and never duplicates, a failed discovery writes only its status, and scopes are exclusive.

use cairn_coordinator::inventory::{AgentCommand, ApplyError, Command, Inventory};
use cairn_protocols::agent::{Report, ReportItem};
use cairn_protocols::power::{ManagementState, PowerState};
use cairn_protocols::{Component, HmsState, RedfishEndpoint};
use cairn_raft::StateMachine;

use crate::rack::{ALL_RESETS, bmc, failed, found, registration, sample, x};

fn register(inv: &mut Inventory, id: &str, cabinets: &[u32]) -> Result<usize, ApplyError> {
    inv.apply(Command::Agent(AgentCommand::Register {
        registration: registration(id, cabinets),
        now_ms: 1,
    }))
    .map(|a| a.count)
}

fn report(inv: &mut Inventory, seq: u64, items: Vec<ReportItem>) -> Result<usize, ApplyError> {
    inv.apply(Command::Agent(AgentCommand::Report {
        report: Report {
            agent_id: "rack-1".into(),
            seq,
            items,
        },
        now_ms: 2,
    }))
    .map(|a| a.count)
}

/// The state without its revision (which counts every command, replays included).
fn records(inv: &Inventory) -> serde_json::Value {
    let mut v = serde_json::to_value(inv).unwrap();
    v.as_object_mut().unwrap().remove("revision");
    v
}

#[test]
fn a_replayed_report_applies_once_even_on_another_leader() {
    let mut inv = Inventory::default();
    assert!(matches!(
        report(&mut inv, 1, vec![]),
        Err(ApplyError::NotFound(_))
    ));
    register(&mut inv, "rack-1", &[1000]).unwrap();
    let on = || {
        vec![sample(
            "x1000c0s0b0n0",
            PowerState::On,
            ManagementState::Available,
            10,
        )]
    };
    assert!(report(&mut inv, 3, on()).unwrap() > 0);
    let after = records(&inv);
    assert_eq!(report(&mut inv, 3, on()).unwrap(), 0, "replay");
    assert_eq!(report(&mut inv, 2, on()).unwrap(), 0, "older seq");
    assert_eq!(records(&inv), after);

    // A new leader restored from a snapshot knows what was applied.
    let mut other = Inventory::default();
    other.restore(&inv.snapshot().unwrap()).unwrap();
    let off = vec![sample(
        "x1000c0s0b0n0",
        PowerState::Off,
        ManagementState::Available,
        20,
    )];
    assert_eq!(report(&mut other, 3, off.clone()).unwrap(), 0);
    assert_eq!(records(&other), after);
    assert!(report(&mut other, 4, off).unwrap() > 0);
    assert_eq!(other.agents().agent("rack-1").unwrap().last_seq, 4);
    // Re-registering keeps the applied seq.
    register(&mut other, "rack-1", &[1000, 1001]).unwrap();
    assert_eq!(other.agents().agent("rack-1").unwrap().last_seq, 4);
}

#[test]
fn rediscovery_keeps_operator_settings_and_never_duplicates() {
    let mut inv = Inventory::default();
    register(&mut inv, "rack-1", &[1000]).unwrap();
    let b = bmc(1000, 0);
    let mut ep = RedfishEndpoint::new(x(&b));
    ep.fqdn = Some("bmc0.example.org".into());
    ep.name = Some("rack 1 slot 0".into());
    ep.user = Some("admin".into());
    ep.password = Some("s3cret".into());
    ep.enabled = Some(true);
    inv.apply(Command::CreateRedfishEndpoints(vec![ep]))
        .unwrap();
    let mut node = Component::new(x("x1000c0s0b0n0")).with_state(HmsState::Ready);
    node.role = Some("Compute".into());
    node.nid = Some(17);
    inv.apply(Command::UpsertComponents {
        components: vec![node],
        force: false,
    })
    .unwrap();

    report(
        &mut inv,
        1,
        vec![ReportItem::Discovery(found(&b, 2, ALL_RESETS))],
    )
    .unwrap();
    let ep = inv.redfish_endpoint(&x(&b)).unwrap();
    assert_eq!(ep.user.as_deref(), Some("admin"));
    assert_eq!(ep.password.as_deref(), Some("s3cret"));
    assert_eq!(ep.name.as_deref(), Some("rack 1 slot 0"));
    assert_eq!(
        ep.fqdn.as_deref(),
        Some("bmc0.example.org"),
        "an operator's name stays"
    );
    assert_eq!(ep.uuid.as_deref(), Some("uuid-x1000c0s0b0"));
    assert_eq!(
        ep.discovery_info
            .as_ref()
            .unwrap()
            .last_discovery_status
            .as_deref(),
        Some("DiscoverOK")
    );
    let n0 = inv.component(&x("x1000c0s0b0n0")).unwrap();
    assert_eq!((n0.role.as_deref(), n0.nid), (Some("Compute"), Some(17)));
    assert_eq!(n0.state, Some(HmsState::Off), "discovery observed it off");
    let counts = |inv: &Inventory| {
        (
            inv.component_count(),
            inv.component_endpoints().count(),
            inv.interfaces().count(),
            inv.redfish_endpoints().count(),
        )
    };
    assert_eq!(counts(&inv), (3, 3, 3, 1));

    report(
        &mut inv,
        2,
        vec![ReportItem::Discovery(found(&b, 2, ALL_RESETS))],
    )
    .unwrap();
    assert_eq!(counts(&inv), (3, 3, 3, 1), "rediscovery duplicates nothing");
    // A node gone from the BMC loses its endpoint; its component and MAC stay, as in SMD.
    report(
        &mut inv,
        3,
        vec![ReportItem::Discovery(found(&b, 1, ALL_RESETS))],
    )
    .unwrap();
    assert_eq!(counts(&inv), (3, 2, 3, 1));
    assert!(inv.component_endpoint(&x("x1000c0s0b0n1")).is_none());
}

#[test]
fn a_failed_discovery_writes_only_its_status() {
    let mut inv = Inventory::default();
    register(&mut inv, "rack-1", &[1000]).unwrap();
    let new_bmc = bmc(1000, 4);
    report(&mut inv, 1, vec![ReportItem::Discovery(failed(&new_bmc))]).unwrap();
    let ep = inv.redfish_endpoint(&x(&new_bmc)).unwrap();
    let status = |ep: &RedfishEndpoint| {
        ep.discovery_info
            .as_ref()
            .and_then(|d| d.last_discovery_status.clone())
    };
    assert_eq!(status(ep).as_deref(), Some("HTTPsGetFailed"));
    assert_eq!(inv.component_count(), 0, "no half-registered nodes");
    assert_eq!(inv.component_endpoints().count(), 0);
    assert_eq!(inv.interfaces().count(), 0);

    let known = bmc(1000, 0);
    report(
        &mut inv,
        2,
        vec![ReportItem::Discovery(found(&known, 2, ALL_RESETS))],
    )
    .unwrap();
    let before = records(&inv);
    report(&mut inv, 3, vec![ReportItem::Discovery(failed(&known))]).unwrap();
    let ep = inv.redfish_endpoint(&x(&known)).unwrap();
    assert_eq!(status(ep).as_deref(), Some("HTTPsGetFailed"));
    assert_eq!(
        ep.discovery_info
            .as_ref()
            .unwrap()
            .redfish_version
            .as_deref(),
        Some("1.6.0")
    );
    assert_eq!(
        ep.fqdn.as_deref(),
        Some("10.0.0.3"),
        "only DiscoveryInfo changes"
    );
    // Everything else is as it was.
    let mut after = records(&inv);
    let mut before = before;
    for v in [&mut before, &mut after] {
        v["redfish_endpoints"][known.as_str()]
            .as_object_mut()
            .unwrap()
            .remove("DiscoveryInfo");
        v["agents"]["agents"]["rack-1"]["last_seq"] = 0.into();
    }
    assert_eq!(after, before);
}

#[test]
fn a_failure_says_why_until_the_next_success() {
    let mut inv = Inventory::default();
    register(&mut inv, "rack-1", &[1000]).unwrap();
    let bmc_id = bmc(1000, 0);
    let detail = |inv: &Inventory| {
        inv.redfish_endpoint(&x(&bmc_id))
            .and_then(|ep| ep.discovery_info.as_ref())
            .and_then(|d| d.last_discovery_detail.clone())
    };
    report(&mut inv, 1, vec![ReportItem::Discovery(failed(&bmc_id))]).unwrap();
    assert_eq!(
        detail(&inv).as_deref(),
        Some("GET /redfish/v1/Systems: 401 Unauthorized")
    );
    let json = serde_json::to_value(inv.redfish_endpoint(&x(&bmc_id)).unwrap()).unwrap();
    assert_eq!(
        json["DiscoveryInfo"]["LastDiscoveryDetail"],
        "GET /redfish/v1/Systems: 401 Unauthorized"
    );
    report(
        &mut inv,
        2,
        vec![ReportItem::Discovery(found(&bmc_id, 2, ALL_RESETS))],
    )
    .unwrap();
    assert_eq!(detail(&inv), None);
    let json = serde_json::to_value(inv.redfish_endpoint(&x(&bmc_id)).unwrap()).unwrap();
    assert!(json["DiscoveryInfo"].get("LastDiscoveryDetail").is_none());
}

#[test]
fn scopes_are_exclusive_and_out_of_scope_items_are_ignored() {
    let mut inv = Inventory::default();
    register(&mut inv, "rack-1", &[1000]).unwrap();
    let err = register(&mut inv, "rack-2", &[2000, 1000]).unwrap_err();
    assert!(
        matches!(&err, ApplyError::Conflict(m) if m.contains("x1000") && m.contains("rack-1")),
        "{err:?}"
    );
    assert!(inv.agents().agent("rack-2").is_none());
    report(
        &mut inv,
        1,
        vec![ReportItem::Discovery(found(&bmc(2000, 0), 1, ALL_RESETS))],
    )
    .unwrap();
    assert_eq!(inv.redfish_endpoints().count(), 0);
    assert_eq!(inv.agents().agent("rack-1").unwrap().last_seq, 1);
    inv.apply(Command::Agent(AgentCommand::Remove("rack-1".into())))
        .unwrap();
    register(&mut inv, "rack-2", &[2000, 1000]).unwrap();
}

#[test]
fn a_transition_of_ten_thousand_nodes_fits_one_raft_entry() {
    use cairn_coordinator::inventory::{NewTask, PowerCommand, PowerTaskRecord};
    use cairn_protocols::power::PowerOperation;

    let tasks: Vec<NewTask> = (0..10_000u32)
        .map(|i| NewTask {
            xname: x(&format!(
                "x{}c{}s{}b0n{}",
                1000 + i / 2500,
                (i % 2500) / 500,
                (i % 500) / 2,
                i % 2
            )),
            task: PowerTaskRecord::new_task(),
        })
        .collect();
    let cmd = Command::Power(PowerCommand::Create {
        id: "3fa85f64-5717-4562-b3fc-2c963f66afa6".into(),
        operation: PowerOperation::On,
        created_ms: 1,
        deadline_ms: Some(2),
        confirm: true,
        expires_ms: 3,
        tasks,
    });
    let bytes = rmp_serde::to_vec_named(&cmd).unwrap().len();
    assert!(
        bytes < cairn_raft::MAX_ENTRY_BYTES / 2,
        "{bytes} bytes for 10,000 targets"
    );
    let mut inv = Inventory::default();
    assert_eq!(inv.apply(cmd).unwrap().count, 10_000);
}
