//! The inventory state machine alone, without Raft: applying the same commands gives the
//! same state everywhere, snapshots round-trip, the revision counts every command, and a
//! refused command changes nothing else.

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};

use cairn_coordinator::inventory::{
    BootCommand, Command, ComponentChange, GroupKind, Inventory, Outcome,
};
use cairn_protocols::{
    BootKey, BootParameters, CloudConfigFile, ClusterDefaults, Component, EthernetInterface,
    FileEncoding, Group, GroupData, HmsFlag, HmsState, InstanceInfo, IpAddressMapping, MacAddr,
    Members, PhoneHome, RedfishEndpoint, Xname,
};
use cairn_raft::StateMachine;
use proptest::prelude::*;

fn xname() -> impl Strategy<Value = Xname> {
    (0u32..4, 0u32..2).prop_map(|(s, n)| Xname::parse(&format!("x1000c0s{s}b0n{n}")).unwrap())
}

fn bmc() -> impl Strategy<Value = Xname> {
    (0u32..3).prop_map(|s| Xname::parse(&format!("x1000c0s{s}b0")).unwrap())
}

fn mac() -> impl Strategy<Value = MacAddr> {
    (0u8..5).prop_map(|i| MacAddr([0xa4, 0xbf, 0, 0, 0, i]))
}

fn ip() -> impl Strategy<Value = IpAddr> {
    (0u8..4).prop_map(|i| IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)))
}

fn mapping() -> impl Strategy<Value = IpAddressMapping> {
    (
        ip(),
        proptest::option::of(prop_oneof![Just("HMN"), Just("NMN")]),
    )
        .prop_map(|(ip, net)| IpAddressMapping {
            ip_address: ip,
            network: net.map(str::to_owned),
        })
}

fn state() -> impl Strategy<Value = HmsState> {
    proptest::sample::select(HmsState::ALL.to_vec())
}

fn flag() -> impl Strategy<Value = HmsFlag> {
    proptest::sample::select(HmsFlag::ALL.to_vec())
}

fn label() -> impl Strategy<Value = String> {
    prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(str::to_owned)
}

fn kind() -> impl Strategy<Value = GroupKind> {
    prop_oneof![Just(GroupKind::Group), Just(GroupKind::Partition)]
}

fn component() -> impl Strategy<Value = Component> {
    (
        xname(),
        state(),
        proptest::option::of(flag()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(prop_oneof![Just("Compute"), Just("Service")]),
        proptest::option::of(0i64..5),
    )
        .prop_map(|(id, state, flag, enabled, role, nid)| {
            let mut c = Component::new(id).with_state(state);
            c.flag = flag;
            c.enabled = enabled;
            c.role = role.map(str::to_owned);
            c.nid = nid;
            c
        })
}

fn interface() -> impl Strategy<Value = EthernetInterface> {
    (
        mac(),
        proptest::option::of(xname()),
        proptest::collection::vec(mapping(), 0..3),
        proptest::option::of("[a-z]{1,4}"),
    )
        .prop_map(|(mac, owner, ips, description)| {
            let mut i = EthernetInterface::new(mac);
            i.component_id = owner;
            i.ip_addresses = ips;
            i.description = description;
            i.last_update = Some("2026-01-01T00:00:00Z".into());
            i
        })
}

fn endpoint() -> impl Strategy<Value = RedfishEndpoint> {
    (
        bmc(),
        proptest::option::of(ip()),
        proptest::option::of(mac()),
    )
        .prop_map(|(id, ip, mac)| {
            let mut e = RedfishEndpoint::new(id);
            e.fqdn = Some(format!("{}.example", e.id));
            e.ip_address = ip;
            e.mac_addr = mac;
            e.password = Some("secret".into());
            e
        })
}

fn change() -> impl Strategy<Value = ComponentChange> {
    prop_oneof![
        (state(), proptest::option::of(flag()))
            .prop_map(|(state, flag)| ComponentChange::State { state, flag }),
        flag().prop_map(ComponentChange::Flag),
        any::<bool>().prop_map(ComponentChange::Enabled),
        "[a-z]{1,5}".prop_map(ComponentChange::SoftwareStatus),
        (
            prop_oneof![Just("Compute"), Just("Storage")],
            proptest::option::of(Just("Worker"))
        )
            .prop_map(|(r, s)| ComponentChange::Role {
                role: r.into(),
                sub_role: s.map(str::to_owned),
            }),
    ]
}

fn group() -> impl Strategy<Value = Group> {
    (
        label(),
        proptest::option::of(Just("ex".to_owned())),
        proptest::collection::vec(xname(), 0..3),
    )
        .prop_map(|(label, exclusive_group, ids)| Group {
            label,
            description: None,
            tags: None,
            exclusive_group,
            members: Members { ids },
        })
}

fn boot_key() -> impl Strategy<Value = BootKey> {
    prop_oneof![
        Just(BootKey::Default),
        Just(BootKey::Global),
        Just(BootKey::Role("Compute".into())),
        Just(BootKey::Unknown("x86_64".into())),
        xname().prop_map(BootKey::Node),
    ]
}

fn boot_parameters() -> impl Strategy<Value = BootParameters> {
    (
        proptest::collection::vec(boot_key(), 0..3),
        proptest::collection::vec(mac(), 0..2),
        proptest::collection::vec(0i64..6, 0..2),
        "[a-z=]{0,6}",
        proptest::option::of(Just("http://h/k")),
        proptest::option::of((0i64..3, "[a-z]{1,3}")),
    )
        .prop_map(|(hosts, macs, nids, params, kernel, meta)| {
            let mut bp = BootParameters {
                hosts,
                macs,
                nids,
                params,
                kernel: kernel.unwrap_or_default().to_owned(),
                ..Default::default()
            };
            bp.cloud_init.meta_data = meta.map(|(n, k)| {
                let mut m = serde_json::Map::new();
                m.insert(
                    k,
                    if n == 0 {
                        serde_json::Value::Null
                    } else {
                        n.into()
                    },
                );
                m
            });
            bp
        })
}

fn cloud_init_group() -> impl Strategy<Value = GroupData> {
    (
        label(),
        proptest::option::of("[a-z]{1,4}"),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(name, description, file, base64)| GroupData {
            name,
            description,
            meta_data: None,
            file: file.then(|| CloudConfigFile {
                content: "#cloud-config\npackages: [vim]\n".into(),
                filename: String::new(),
                encoding: if base64 {
                    FileEncoding::Base64
                } else {
                    FileEncoding::Plain
                },
            }),
        })
}

fn boot_command() -> impl Strategy<Value = BootCommand> {
    prop_oneof![
        2 => boot_parameters().prop_map(BootCommand::CreateParams),
        2 => boot_parameters().prop_map(BootCommand::PutParams),
        2 => boot_parameters().prop_map(BootCommand::PatchParams),
        1 => boot_parameters().prop_map(BootCommand::DeleteParams),
        1 => (proptest::option::of("[a-z]{1,4}"), proptest::option::of(1u32..5))
            .prop_map(|(cluster_name, nid_length)| BootCommand::SetClusterDefaults(
                ClusterDefaults { cluster_name, nid_length, ..Default::default() })),
        1 => cloud_init_group().prop_map(BootCommand::CreateCloudInitGroup),
        1 => cloud_init_group().prop_map(BootCommand::PutCloudInitGroup),
        1 => label().prop_map(BootCommand::DeleteCloudInitGroup),
        1 => (xname(), proptest::option::of("[a-z]{1,4}")).prop_map(|(id, local_hostname)| {
            BootCommand::PutInstanceInfo { id, info: InstanceInfo { local_hostname, ..Default::default() } }
        }),
        1 => (xname(), "[a-z]{0,4}").prop_map(|(id, hostname)| BootCommand::PhoneHome {
            id,
            report: PhoneHome { hostname, ..Default::default() },
            at: "2026-01-03T00:00:00Z".into(),
        }),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    let now = || Just("2026-01-02T00:00:00Z".to_owned());
    let iface_id = || mac().prop_map(|m| m.smd_id());
    prop_oneof![
        4 => (proptest::collection::vec(component(), 0..4), any::<bool>())
            .prop_map(|(components, force)| Command::UpsertComponents { components, force }),
        1 => (component(), any::<bool>())
            .prop_map(|(component, force)| Command::PutComponent { component, force }),
        2 => xname().prop_map(Command::DeleteComponent),
        1 => Just(Command::DeleteAllComponents),
        3 => (proptest::collection::vec(xname(), 0..3), change())
            .prop_map(|(ids, change)| Command::PatchComponents { ids, change }),
        1 => proptest::collection::vec((xname(), 0i64..9), 0..3).prop_map(Command::SetNids),
        3 => interface().prop_map(Command::CreateEthernetInterface),
        1 => (
            iface_id(),
            proptest::option::of("[a-z]{1,4}"),
            proptest::option::of(xname()),
            proptest::option::of(proptest::collection::vec(mapping(), 0..2)),
            now()
        )
            .prop_map(|(id, description, component_id, ip_addresses, now)| {
                Command::PatchEthernetInterface { id, description, component_id, ip_addresses, now }
            }),
        1 => iface_id().prop_map(Command::DeleteEthernetInterface),
        1 => Just(Command::DeleteAllEthernetInterfaces),
        2 => (iface_id(), mapping(), now())
            .prop_map(|(id, mapping, now)| Command::AddIpAddress { id, mapping, now }),
        1 => (iface_id(), ip(), proptest::option::of(Just("CAN".to_owned())), now())
            .prop_map(|(id, ip, network, now)| Command::SetIpNetwork { id, ip, network, now }),
        1 => (iface_id(), ip(), now()).prop_map(|(id, ip, now)| Command::DeleteIpAddress { id, ip, now }),
        2 => proptest::collection::vec(endpoint(), 1..3).prop_map(Command::CreateRedfishEndpoints),
        1 => endpoint().prop_map(Command::PutRedfishEndpoint),
        1 => bmc().prop_map(Command::DeleteRedfishEndpoint),
        3 => (kind(), group()).prop_map(|(kind, group)| Command::CreateGroup { kind, group }),
        1 => (kind(), label(), proptest::option::of("[a-z]{1,4}"))
            .prop_map(|(kind, label, description)| Command::PatchGroup {
                kind,
                label,
                description,
                tags: Some(vec!["t".into()]),
            }),
        1 => (kind(), label()).prop_map(|(kind, label)| Command::DeleteGroup { kind, label }),
        3 => (kind(), label(), xname())
            .prop_map(|(kind, label, id)| Command::AddMember { kind, label, id }),
        2 => (kind(), label(), proptest::collection::vec(xname(), 0..4))
            .prop_map(|(kind, label, ids)| Command::SetMembers { kind, label, ids }),
        2 => (kind(), label(), xname())
            .prop_map(|(kind, label, id)| Command::RemoveMember { kind, label, id }),
        6 => boot_command().prop_map(Command::Boot),
    ]
}

fn commands() -> impl Strategy<Value = Vec<Command>> {
    proptest::collection::vec(command(), 0..40)
}

/// The state without its revision, for "nothing but the revision changed".
fn records(inv: &Inventory) -> serde_json::Value {
    let mut v = serde_json::to_value(inv).unwrap();
    v.as_object_mut().unwrap().remove("revision");
    v
}

fn run(cmds: &[Command]) -> (Inventory, Vec<Outcome>) {
    let mut inv = Inventory::default();
    let outcomes = cmds.iter().map(|c| inv.apply(c.clone())).collect();
    (inv, outcomes)
}

fn restored(inv: &Inventory) -> Inventory {
    let bytes = StateMachine::snapshot(inv).unwrap();
    let mut fresh = Inventory::default();
    StateMachine::restore(&mut fresh, &bytes).unwrap();
    fresh
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn same_commands_same_state(cmds in commands()) {
        let (a, out_a) = run(&cmds);
        let (b, out_b) = run(&cmds);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(out_a, out_b);
        prop_assert_eq!(a.revision(), cmds.len() as u64);
    }

    #[test]
    fn revision_counts_and_refusals_change_nothing_else(cmds in commands()) {
        let mut inv = Inventory::default();
        for (i, cmd) in cmds.into_iter().enumerate() {
            let before = inv.clone();
            let outcome = inv.apply(cmd.clone());
            prop_assert_eq!(inv.revision(), before.revision() + 1);
            prop_assert_eq!(inv.revision(), i as u64 + 1);
            match outcome {
                Ok(applied) => prop_assert_eq!(applied.revision, inv.revision()),
                Err(e) => prop_assert_eq!(
                    records(&inv), records(&before), "{:?} failed ({}) but changed the state", cmd, e
                ),
            }
        }
    }

    #[test]
    fn snapshot_restores_an_identical_inventory(cmds in commands()) {
        let (inv, _) = run(&cmds);
        // Durable replicas stream the snapshot into a file: the same bytes.
        let mut streamed = Vec::new();
        StateMachine::write_snapshot(&inv, &mut streamed).unwrap();
        prop_assert_eq!(streamed, StateMachine::snapshot(&inv).unwrap());
        let copy = restored(&inv);
        prop_assert_eq!(&copy, &inv);
        // And the copy goes on exactly like the original.
        let mut a = inv;
        let mut b = copy;
        for cmd in cmds.iter().rev().take(5) {
            prop_assert_eq!(a.apply(cmd.clone()), b.apply(cmd.clone()));
        }
        prop_assert_eq!(a, b);
    }

    /// The derived lookups (NID, IP address, owner) agree with a scan of the records after
    /// any history, and member lists stay sorted (group lookups binary-search them).
    #[test]
    fn lookups_agree_with_the_records(cmds in commands()) {
        let (inv, _) = run(&cmds);
        for nid in 0..9 {
            let scanned = inv.components().find(|c| c.nid == Some(nid)).map(|c| &c.id);
            prop_assert_eq!(inv.component_by_nid(nid).map(|c| &c.id), scanned);
        }
        for i in 0u8..4 {
            let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, i));
            let mut scanned: Vec<&str> = inv
                .interfaces()
                .filter(|f| f.ip_addresses.iter().any(|m| m.ip_address == ip))
                .map(|f| f.id.as_str())
                .collect();
            scanned.sort_unstable();
            let indexed: Vec<&str> = inv.interfaces_by_ip(ip).map(|f| f.id.as_str()).collect();
            prop_assert_eq!(indexed, scanned);
            let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, i).to_ipv6_mapped());
            prop_assert_eq!(inv.node_by_ip(mapped), inv.node_by_ip(ip));
        }
        for c in inv.components() {
            let scanned: Vec<&str> = inv
                .interfaces()
                .filter(|f| f.component_id.as_ref() == Some(&c.id))
                .map(|f| f.id.as_str())
                .collect();
            let indexed: Vec<&str> = inv.interfaces_of(&c.id).map(|f| f.id.as_str()).collect();
            prop_assert_eq!(indexed, scanned);
        }
        for kind in [GroupKind::Group, GroupKind::Partition] {
            for g in inv.groups(kind) {
                prop_assert!(g.members.ids.is_sorted(), "{:?} {} unsorted", kind, g.label);
            }
        }
    }

    /// Commands travel through the Raft log as MessagePack and through the internal propose
    /// endpoint as JSON; both must give the same command back.
    #[test]
    fn commands_round_trip_on_the_wire(cmd in command()) {
        let bytes = rmp_serde::to_vec_named(&cmd).unwrap();
        let back: Command = rmp_serde::from_slice(&bytes).unwrap();
        prop_assert_eq!(&back, &cmd);
        let json = serde_json::to_vec(&cmd).unwrap();
        let back: Command = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(back, cmd);
    }
}

#[test]
fn fresh_inventory_snapshot_round_trips() {
    let inv = Inventory::default();
    assert_eq!(restored(&inv), inv);
    let mut garbage = Inventory::default();
    assert!(StateMachine::restore(&mut garbage, b"\xc1 not msgpack").is_err());
}

/// Regression: an interface or endpoint with an IP address did not decode from the Raft log
/// (the IP went out in MessagePack's binary form, and the SMD records read strings only).
#[test]
fn ip_addresses_survive_the_raft_log_and_snapshots() {
    let mut iface = EthernetInterface::new(MacAddr([0xa4, 0xbf, 1, 2, 3, 4]));
    iface.ip_addresses.push(IpAddressMapping {
        ip_address: "fd00::1".parse().unwrap(),
        network: Some("HMN".into()),
    });
    let mut ep = RedfishEndpoint::new(Xname::parse("x1000c0s0b0").unwrap());
    ep.ip_address = Some("10.0.0.1".parse().unwrap());
    let cmds = [
        Command::CreateEthernetInterface(iface.clone()),
        Command::CreateRedfishEndpoints(vec![ep.clone()]),
        Command::AddIpAddress {
            id: iface.id.clone(),
            mapping: IpAddressMapping {
                ip_address: "10.1.1.1".parse().unwrap(),
                network: None,
            },
            now: "t".into(),
        },
        Command::RegisterEndpoint {
            endpoint: ep,
            components: vec![],
            component_endpoints: vec![],
            interfaces: vec![iface],
            replace: true,
        },
    ];
    let mut inv = Inventory::default();
    for cmd in cmds {
        let back: Command = rmp_serde::from_slice(&rmp_serde::to_vec_named(&cmd).unwrap()).unwrap();
        assert_eq!(back, cmd);
        inv.apply(back).unwrap();
    }
    assert_eq!(restored(&inv), inv);
}

#[test]
fn refused_commands_leave_records_untouched() {
    let mut inv = Inventory::default();
    let node = Xname::parse("x1000c0s0b0n0").unwrap();
    inv.apply(Command::UpsertComponents {
        components: vec![Component::new(node.clone()).with_state(HmsState::On)],
        force: false,
    })
    .unwrap();
    let before = inv.clone();
    for cmd in [
        Command::DeleteComponent(Xname::parse("x1000c0s9b0n0").unwrap()),
        Command::PatchComponents {
            ids: vec![node.clone(), Xname::parse("x1000c0s9b0n0").unwrap()],
            change: ComponentChange::Enabled(false),
        },
        Command::SetNids(vec![
            (node.clone(), 1),
            (Xname::parse("x9c0s0b0n0").unwrap(), 2),
        ]),
        Command::AddMember {
            kind: GroupKind::Group,
            label: "nosuch".into(),
            id: node.clone(),
        },
        Command::CreateGroup {
            kind: GroupKind::Partition,
            group: Group {
                label: "p".into(),
                description: None,
                tags: None,
                exclusive_group: None,
                members: Members {
                    ids: vec![node.clone(), Xname::parse("x9c0s0b0n0").unwrap()],
                },
            },
        },
        Command::DeleteAllEthernetInterfaces,
    ] {
        let rev = inv.revision();
        assert!(inv.apply(cmd.clone()).is_err(), "{cmd:?}");
        assert_eq!(inv.revision(), rev + 1);
        assert_eq!(records(&inv), records(&before), "{cmd:?}");
    }
}

fn node_x(i: u32) -> Xname {
    Xname::parse(&format!("x1000c0s{i}b0n0")).unwrap()
}

/// Nodes 0 and 1 (NIDs 1, 2), node 0 with an interface on 10.0.0.1.
fn boot_inventory() -> Inventory {
    let mut inv = Inventory::default();
    let mut a = Component::new(node_x(0)).with_state(HmsState::Ready);
    a.nid = Some(1);
    let mut b = Component::new(node_x(1)).with_state(HmsState::Ready);
    b.nid = Some(2);
    inv.apply(Command::UpsertComponents {
        components: vec![a, b],
        force: false,
    })
    .unwrap();
    let mut iface = EthernetInterface::new(MacAddr([2, 0, 0, 0, 0, 1]));
    iface.component_id = Some(node_x(0));
    iface.ip_addresses.push(IpAddressMapping {
        ip_address: "10.0.0.1".parse().unwrap(),
        network: None,
    });
    inv.apply(Command::CreateEthernetInterface(iface)).unwrap();
    inv
}

fn params(json: serde_json::Value) -> BootParameters {
    serde_json::from_value(json).unwrap()
}

#[test]
fn boot_commands_follow_bss_semantics() {
    let mut inv = boot_inventory();
    let boot = |c| Command::Boot(c);
    inv.apply(boot(BootCommand::CreateParams(params(
        serde_json::json!({"hosts": ["Default"], "kernel": "http://h/k"}),
    ))))
    .unwrap();
    // MACs and NIDs resolve to their node when applied; one entry is shared by both.
    let applied = inv
        .apply(boot(BootCommand::PutParams(params(
            serde_json::json!({"macs": ["02:00:00:00:00:01"], "nids": [2], "params": "quiet"}),
        ))))
        .unwrap();
    assert_eq!(applied.count, 2);
    assert_eq!(
        inv.boot_entry(&BootKey::Node(node_x(1))).unwrap().params,
        "quiet"
    );
    // A NID nobody has: refused, nothing changes.
    let before = records(&inv);
    let e = inv
        .apply(boot(BootCommand::PutParams(params(
            serde_json::json!({"hosts": ["Compute"], "nids": [7]}),
        ))))
        .unwrap_err();
    assert_eq!(e.to_string(), "nids[0]: no node has NID 7");
    assert_eq!(records(&inv), before);
    // PATCH is copy-on-write: node 1's entry changes, node 0's (shared until now) does not.
    inv.apply(boot(BootCommand::PatchParams(params(
        serde_json::json!({"hosts": [node_x(1)], "kernel": "http://h/k2"}),
    ))))
    .unwrap();
    assert_eq!(
        inv.boot_entry(&BootKey::Node(node_x(1))).unwrap().kernel,
        "http://h/k2"
    );
    assert_eq!(
        inv.boot_entry(&BootKey::Node(node_x(0))).unwrap().kernel,
        ""
    );
    // Phone-home lands in the node's entry and the report list.
    inv.apply(boot(BootCommand::PhoneHome {
        id: node_x(0),
        report: PhoneHome {
            hostname: "n0".into(),
            ..Default::default()
        },
        at: "t".into(),
    }))
    .unwrap();
    assert_eq!(
        inv.boot_entry(&BootKey::Node(node_x(0)))
            .unwrap()
            .cloud_init
            .phone_home
            .hostname,
        "n0"
    );
    assert_eq!(inv.phone_home_reports().count(), 1);
    // Snapshots carry all of it, and the restored copy answers lookups alike.
    let copy = restored(&inv);
    assert_eq!(copy, inv);
    assert_eq!(
        copy.node_by_ip("10.0.0.1".parse().unwrap()),
        Some(&node_x(0))
    );
    assert_eq!(copy.node_by_nid(2), Some(&node_x(1)));
}

#[test]
fn an_address_two_nodes_claim_identifies_neither() {
    let mut inv = boot_inventory();
    let mut other = EthernetInterface::new(MacAddr([2, 0, 0, 0, 0, 2]));
    other.component_id = Some(node_x(1));
    other.ip_addresses.push(IpAddressMapping {
        ip_address: "10.0.0.1".parse().unwrap(),
        network: None,
    });
    inv.apply(Command::CreateEthernetInterface(other)).unwrap();
    assert_eq!(inv.node_by_ip("10.0.0.1".parse().unwrap()), None);
    inv.apply(Command::DeleteEthernetInterface("020000000002".into()))
        .unwrap();
    assert_eq!(
        inv.node_by_ip("10.0.0.1".parse().unwrap()),
        Some(&node_x(0))
    );
}
