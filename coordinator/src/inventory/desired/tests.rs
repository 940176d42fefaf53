//! The change log, and what a restored replica knows.

use super::*;

fn x(s: &str) -> Xname {
    Xname::parse(s).unwrap()
}

#[test]
fn the_log_answers_from_its_floor_on() {
    let mut log = DesiredLog::starting_at(10);
    assert_eq!(log.since(9), None);
    assert_eq!(log.since(10), Some(DesiredChanges::default()));
    log.record(
        11,
        Touch::Some {
            nodes: vec![x("x1c0s0b0n0")],
            shared: false,
        },
    );
    log.record(12, Touch::Nothing);
    log.record(
        13,
        Touch::Some {
            nodes: vec![x("x1c0s0b0n1")],
            shared: true,
        },
    );
    let all = log.since(10).unwrap();
    assert_eq!(all.nodes.len(), 2);
    assert!(all.shared);
    let late = log.since(11).unwrap();
    assert_eq!(late.nodes, BTreeSet::from([x("x1c0s0b0n1")]));
    assert_eq!(log.since(13), Some(DesiredChanges::default()));
    log.record(14, Touch::Everything);
    assert_eq!(log.since(13), None);
    assert_eq!(log.since(14), Some(DesiredChanges::default()));
}

/// A replica restored from a snapshot (a restart, or one sent by the leader) does not know
/// what changed before it: a Watch from an older revision gets the whole state.
#[test]
fn a_restored_replica_knows_changes_only_from_its_snapshot_on() {
    use cairn_protocols::agent::{AgentEndpoints, Registration};
    use cairn_raft::StateMachine as _;

    let mut inv = Inventory::default();
    let register = Command::Agent(AgentCommand::Register {
        registration: Registration {
            agent_id: "rack-1".into(),
            scope: [1].into(),
            version: "0".into(),
            endpoints: AgentEndpoints::default(),
        },
        now_ms: 1,
    });
    assert!(inv.apply(register).is_ok());
    let node = |id: &str| Command::DeleteComponent(x(id));
    let _ = inv.apply(node("x1c0s0b0n0"));
    let held = inv.revision();
    let _ = inv.apply(node("x1c0s0b0n1"));
    assert_eq!(
        inv.desired_changes_since(held).map(|c| c.nodes.len()),
        Some(1)
    );
    let snapshot = inv.snapshot().unwrap();
    let mut restored = Inventory::default();
    restored.restore(&snapshot).unwrap();
    assert_eq!(restored.desired_changes_since(held), None);
    assert_eq!(
        restored.desired_changes_since(restored.revision()),
        Some(DesiredChanges::default())
    );
}

#[test]
fn an_overflowing_log_starts_later() {
    let mut log = DesiredLog::starting_at(0);
    let many: Vec<Xname> = (0..LOG_NODES / 2 + 1)
        .map(|i| x(&format!("x1c0s{}b0n{}", i / 8 % 64, i % 8)))
        .collect();
    log.record(
        1,
        Touch::Some {
            nodes: many.clone(),
            shared: false,
        },
    );
    log.record(
        2,
        Touch::Some {
            nodes: many.clone(),
            shared: false,
        },
    );
    assert!(log.since(0).is_none());
    assert!(log.since(1).is_some());
}
