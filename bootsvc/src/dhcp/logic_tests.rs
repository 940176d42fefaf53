use std::sync::Arc;

use dhcproto::v4::{DhcpOption, Message};

use super::*;
use crate::dhcp::packet::decode;
use crate::dhcp::testutil::{
    MemHosts, SERVER, arch, bytes, hosts, mac, request, requested, resolved, server_id, tree,
    user_class_ipxe, with,
};

const T0: u64 = 1_700_000_000_000;

fn logic(hosts: &Arc<MemHosts>) -> Logic {
    let cfg = resolved();
    let table = LeaseTable::load(tree(), &cfg).unwrap();
    Logic::new(cfg, hosts.clone(), table, T0)
}

fn run(l: &mut Logic, m: &Message, now: u64) -> Outcome {
    l.handle(&decode(&bytes(m)).unwrap(), now).unwrap()
}

fn discover(m: MacAddr) -> Message {
    request(MessageType::Discover, m)
}

fn select(m: MacAddr, ip: Ipv4Addr) -> Message {
    with(
        with(request(MessageType::Request, m), server_id(SERVER)),
        requested(ip),
    )
}

fn answer(o: &Outcome) -> &Answer {
    o.answer
        .as_ref()
        .unwrap_or_else(|| panic!("no answer: {o:?}"))
}

const NODE_IP: Ipv4Addr = Ipv4Addr::new(10, 91, 0, 20);

#[test]
fn inventory_hosts_get_their_address_and_boot_file() {
    let h = hosts();
    h.add(
        mac(1),
        "x3000c0s1b0n0",
        &[Ipv4Addr::new(192, 168, 0, 5), NODE_IP],
    );
    let mut l = logic(&h);
    let o = run(&mut l, &with(discover(mac(1)), arch(0)), T0);
    let a = answer(&o);
    assert_eq!(a.kind, MessageType::Offer);
    assert_eq!(a.yiaddr, NODE_IP, "the first address inside the subnet");
    assert_eq!(a.bootfile.as_deref(), Some("undionly.kpxe"));
    assert_eq!(a.hostname.as_deref(), Some("x3000c0s1b0n0"));
    assert_eq!(a.lease_secs, Some(3600));
    assert!(o.events.is_empty());

    let o = run(&mut l, &with(select(mac(1), NODE_IP), arch(7)), T0);
    assert_eq!(answer(&o).kind, MessageType::Ack);
    assert_eq!(answer(&o).bootfile.as_deref(), Some("ipxe.efi"));
    assert!(!o.flush, "inventory leases are not written");
    assert!(matches!(
        &o.events[..],
        [DhcpEvent::Bound {
            source: LeaseKind::Inventory,
            xname: Some(_),
            arch: Some(7),
            ..
        }]
    ));

    let o = run(&mut l, &with(discover(mac(1)), user_class_ipxe()), T0);
    assert_eq!(
        answer(&o).bootfile.as_deref(),
        Some("http://10.91.0.1:8080/boot/v1/bootscript?mac=52:54:00:91:00:01")
    );
    let o = run(&mut l, &with(discover(mac(1)), arch(9)), T0);
    assert_eq!(answer(&o).bootfile.as_deref(), Some("ipxe.efi"));
    let o = run(&mut l, &with(discover(mac(1)), arch(0x10)), T0);
    assert_eq!(answer(&o).bootfile, None);

    // Another address, in any state, is refused.
    let o = run(&mut l, &select(mac(1), Ipv4Addr::new(10, 91, 0, 21)), T0);
    assert_eq!(answer(&o).kind, MessageType::Nak);
    let reboot = with(
        request(MessageType::Request, mac(1)),
        requested([10, 91, 0, 21].into()),
    );
    assert_eq!(answer(&run(&mut l, &reboot, T0)).kind, MessageType::Nak);
    let reboot = with(request(MessageType::Request, mac(1)), requested(NODE_IP));
    assert_eq!(answer(&run(&mut l, &reboot, T0)).kind, MessageType::Ack);
}

#[test]
fn known_nodes_without_an_address_keep_one_from_the_range() {
    let h = hosts();
    h.add(mac(2), "x3000c0s2b0n0", &[]);
    // The inventory's address inside the range is never given to anyone else.
    h.add(mac(3), "x3000c0s3b0n0", &[Ipv4Addr::new(10, 91, 0, 1 + 1)]);
    let mut l = logic(&h);
    let ip = answer(&run(&mut l, &discover(mac(2)), T0)).yiaddr;
    assert_eq!(ip, Ipv4Addr::new(10, 91, 0, 3), ".1 is ours, .2 is mac 3's");
    let o = run(&mut l, &select(mac(2), ip), T0);
    assert_eq!(answer(&o).kind, MessageType::Ack);
    assert!(o.flush);
    assert!(matches!(&o.events[..], [
            DhcpEvent::RangeAssigned { ip: i, .. },
            DhcpEvent::Bound { source: LeaseKind::Range, .. },
        ] if *i == ip));
    // Until the report is delivered it is repeated; afterwards not.
    let mut renew = request(MessageType::Request, mac(2));
    renew.set_ciaddr(ip);
    let o = run(&mut l, &renew, T0 + 1000);
    assert!(!o.flush);
    assert_eq!(o.events.len(), 2);
    l.mark_reported(mac(2)).unwrap();
    let o = run(&mut l, &renew, T0 + 2000);
    assert!(matches!(&o.events[..], [DhcpEvent::Bound { .. }]));
    // Later the inventory records the address: the range binding gives way to it.
    h.add(mac(2), "x3000c0s2b0n0", &[ip]);
    let o = run(&mut l, &discover(mac(2)), T0 + 3000);
    assert_eq!(answer(&o).yiaddr, ip);
    assert!(l.leases.get(mac(2)).is_none());
}

#[test]
fn unknown_macs_get_the_pool_and_are_reported_once() {
    let h = hosts();
    let mut l = logic(&h);
    let vendor = DhcpOption::ClassIdentifier(b"PXEClient:Arch:00007:UNDI:003016".to_vec());
    let o = run(&mut l, &with(discover(mac(9)), vendor.clone()), T0);
    let a = answer(&o);
    assert!(l.cfg.pool.unwrap().contains(a.yiaddr));
    assert_eq!(a.lease_secs, Some(300));
    assert_eq!(
        a.bootfile.as_deref(),
        Some("ipxe.efi"),
        "arch from the vendor class"
    );
    let ip = a.yiaddr;
    assert!(matches!(&o.events[..], [
            DhcpEvent::MacSeen { ip: Some(i), arch: Some(7), vendor_class: Some(_), .. },
        ] if *i == ip));
    let o = run(&mut l, &select(mac(9), ip), T0);
    assert_eq!(answer(&o).kind, MessageType::Ack);
    assert!(o.flush);
    assert!(matches!(
        &o.events[..],
        [DhcpEvent::Bound {
            source: LeaseKind::Pool,
            xname: None,
            ..
        }]
    ));
    // Reported again only after a pool lease time.
    let o = run(&mut l, &discover(mac(9)), T0 + 299_000);
    assert!(o.events.is_empty());
    assert_eq!(answer(&o).yiaddr, ip, "the same address again");
    let o = run(&mut l, &discover(mac(9)), T0 + 301_000);
    assert_eq!(o.events.len(), 1);
}

#[test]
fn without_a_pool_unknown_macs_are_reported_but_not_answered() {
    let h = hosts();
    let mut c = crate::dhcp::testutil::config();
    c.pool_enabled = false;
    let cfg = c.resolve().unwrap();
    let table = LeaseTable::load(tree(), &cfg).unwrap();
    let mut l = Logic::new(cfg, h, table, T0);
    let o = run(&mut l, &discover(mac(9)), T0);
    assert!(o.answer.is_none());
    assert!(matches!(
        &o.events[..],
        [DhcpEvent::MacSeen { ip: None, .. }]
    ));
}

#[test]
fn a_flood_of_unknown_macs_stays_in_the_pool() {
    let h = hosts();
    h.add(mac(1), "x3000c0s1b0n0", &[NODE_IP]);
    h.add(mac(2), "x3000c0s2b0n0", &[]);
    let mut l = logic(&h);
    let pool = l.cfg.pool.unwrap();
    let (mut answered, mut limited) = (0, 0);
    for i in 0..5000u32 {
        let [_, _, a, b] = i.to_be_bytes();
        let m = MacAddr([0x02, 0xff, 0, 0, a, b]);
        // 50 ms apart: under the unknown-MAC budget, so every DISCOVER is considered.
        let now = T0 + u64::from(i) * 50;
        let o = run(&mut l, &discover(m), now);
        match (&o.answer, o.silence) {
            (Some(a), _) => {
                assert!(pool.contains(a.yiaddr), "{}", a.yiaddr);
                answered += 1;
                let o = run(&mut l, &select(m, a.yiaddr), now);
                assert_eq!(answer(&o).kind, MessageType::Ack);
            }
            (None, Some(Silence::Exhausted(LeaseKind::Pool))) => {}
            (None, Some(Silence::Limited(_))) => limited += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(answered >= pool.len(), "{answered}");
    assert_eq!(limited, 0);
    let end = T0 + 5000 * 50;
    assert_eq!(answer(&run(&mut l, &discover(mac(1)), end)).yiaddr, NODE_IP);
    let ip = answer(&run(&mut l, &discover(mac(2)), end)).yiaddr;
    assert!(l.cfg.range.contains(ip));
}

#[test]
fn requests_for_other_servers_or_unknown_records_are_not_answered() {
    let h = hosts();
    let mut l = logic(&h);
    let ip = answer(&run(&mut l, &discover(mac(9)), T0)).yiaddr;
    let other = with(
        with(
            request(MessageType::Request, mac(9)),
            server_id([10, 91, 0, 2].into()),
        ),
        requested(ip),
    );
    let o = run(&mut l, &other, T0);
    assert!(o.answer.is_none());
    assert!(l.leases.get(mac(9)).is_none(), "the offer is released");
    // INIT-REBOOT of an unknown MAC with an address we have no record of, taken elsewhere.
    let o = run(&mut l, &discover(mac(10)), T0);
    let taken = answer(&o).yiaddr;
    let reboot = with(request(MessageType::Request, mac(11)), requested(taken));
    assert!(run(&mut l, &reboot, T0).answer.is_none());
    // ... and one that is free is given back.
    let free = l.cfg.pool.unwrap().last;
    let reboot = with(request(MessageType::Request, mac(11)), requested(free));
    assert_eq!(answer(&run(&mut l, &reboot, T0)).yiaddr, free);
    // Relayed from outside the subnet: refused.
    let mut far = discover(mac(12));
    far.set_giaddr(Ipv4Addr::new(192, 168, 1, 1));
    assert!(matches!(
        run(&mut l, &far, T0).silence,
        Some(Silence::Refused(_))
    ));
}

#[test]
fn declined_addresses_are_reported_and_not_offered_again() {
    let h = hosts();
    h.add(mac(2), "x3000c0s2b0n0", &[]);
    let mut l = logic(&h);
    let ip = answer(&run(&mut l, &discover(mac(2)), T0)).yiaddr;
    run(&mut l, &select(mac(2), ip), T0);
    let decline = with(
        with(request(MessageType::Decline, mac(2)), server_id(SERVER)),
        requested(ip),
    );
    let o = run(&mut l, &decline, T0);
    assert!(o.answer.is_none());
    assert!(matches!(&o.events[..], [DhcpEvent::Declined { ip: i, .. }] if *i == ip));
    let next = answer(&run(&mut l, &discover(mac(2)), T0)).yiaddr;
    assert_ne!(next, ip);
}

#[test]
fn inform_is_answered_without_a_lease() {
    let h = hosts();
    let mut l = logic(&h);
    let mut m = request(MessageType::Inform, mac(5));
    m.set_ciaddr(Ipv4Addr::new(10, 91, 0, 99));
    let o = run(&mut l, &m, T0);
    let a = answer(&o);
    assert_eq!(
        (a.kind, a.yiaddr, a.lease_secs),
        (MessageType::Ack, Ipv4Addr::UNSPECIFIED, None)
    );
}

#[test]
fn a_pool_address_the_inventory_takes_is_given_up() {
    let h = hosts();
    let mut l = logic(&h);
    let ip = answer(&run(&mut l, &discover(mac(9)), T0)).yiaddr;
    run(&mut l, &select(mac(9), ip), T0);
    h.add(mac(1), "x3000c0s1b0n0", &[ip]);
    let mut renew = request(MessageType::Request, mac(9));
    renew.set_ciaddr(ip);
    assert_eq!(
        answer(&run(&mut l, &renew, T0 + 1000)).kind,
        MessageType::Nak
    );
    let next = answer(&run(&mut l, &discover(mac(9)), T0 + 2000)).yiaddr;
    assert_ne!(next, ip);
    assert_eq!(
        answer(&run(&mut l, &discover(mac(1)), T0 + 2000)).yiaddr,
        ip
    );
}
