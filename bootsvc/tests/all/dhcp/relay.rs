//! The server in relay mode on loopback (no root needed).

use std::net::Ipv4Addr;
use std::sync::Arc;

use cairn_bootsvc::dhcp::{DhcpEvent, LeaseKind};
use dhcproto::Encodable;
use dhcproto::v4::{DhcpOption, MessageType};

use super::support::{
    MemHosts, PATIENCE, Relay, Running, SERVER_IP, bootfile, mac, opt, relay_config,
};

const NODE_IP: Ipv4Addr = Ipv4Addr::new(10, 91, 0, 20);

fn inventory() -> Arc<MemHosts> {
    let h = Arc::new(MemHosts::default());
    h.add(mac(0, 1), "x3000c0s1b0n0", &[NODE_IP]);
    h.add(mac(0, 2), "x3000c0s2b0n0", &[]);
    h
}

#[tokio::test]
async fn boot_files_follow_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = Running::start(relay_config(), inventory(), dir.path()).await;
    let relay = Relay::new(srv.addr).await;

    let ipxe = DhcpOption::UserClass(b"iPXE".to_vec());
    let (offer, ack) = relay.handshake(mac(0, 1), &[ipxe]).await;
    for m in [&offer, &ack] {
        assert_eq!(m.yiaddr(), NODE_IP);
        assert_eq!(m.siaddr(), SERVER_IP);
        assert_eq!(
            bootfile(m).as_deref(),
            Some("http://10.91.0.1:8080/boot/v1/bootscript?mac=52:54:00:91:00:01")
        );
        assert_eq!(opt(m, 54), Some(&DhcpOption::ServerIdentifier(SERVER_IP)));
        assert_eq!(
            opt(m, 12),
            Some(&DhcpOption::Hostname("x3000c0s1b0n0".into()))
        );
        assert_eq!(opt(m, 3), Some(&DhcpOption::Router(vec![SERVER_IP])));
        assert_eq!(
            opt(m, 6),
            Some(&DhcpOption::DomainNameServer(vec![SERVER_IP]))
        );
        match opt(m, 175) {
            Some(DhcpOption::Unknown(u)) => assert_eq!(u.data(), &[176, 1, 1]),
            other => panic!("option 175: {other:?}"),
        }
    }
    assert_eq!(ack.opts().msg_type(), Some(MessageType::Ack));
    let ev = srv.event(|e| matches!(e, DhcpEvent::Bound { .. })).await;
    assert!(matches!(ev, DhcpEvent::Bound {
            ip, source: LeaseKind::Inventory, ipxe: true, xname: Some(_), ..
        } if ip == NODE_IP));

    for (arch, file) in [(0u16, "undionly.kpxe"), (7, "ipxe.efi"), (9, "ipxe.efi")] {
        let a = DhcpOption::ClientSystemArchitecture(arch.into());
        let (offer, ack) = relay.handshake(mac(0, 1), &[a]).await;
        assert_eq!(bootfile(&offer).as_deref(), Some(file), "arch {arch}");
        assert_eq!(bootfile(&ack).as_deref(), Some(file), "arch {arch}");
        // PXE ROMs read the `file` header field.
        assert_eq!(ack.fname().unwrap(), format!("{file}\0").as_bytes());
    }
    srv.stop().await;
}

#[tokio::test]
async fn unknown_macs_get_the_pool_and_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = Running::start(relay_config(), inventory(), dir.path()).await;
    let relay = Relay::new(srv.addr).await;
    let stranger = mac(9, 9);
    let vendor = DhcpOption::ClassIdentifier(b"PXEClient:Arch:00007:UNDI:003016".to_vec());
    let (offer, ack) = relay.handshake(stranger, &[vendor]).await;
    let ip = ack.yiaddr();
    assert_eq!(offer.yiaddr(), ip);
    assert!(ip >= Ipv4Addr::new(10, 91, 0, 191), "{ip} is in the pool");
    assert_eq!(opt(&ack, 51), Some(&DhcpOption::AddressLeaseTime(300)));
    assert_eq!(bootfile(&ack).as_deref(), Some("ipxe.efi"));
    let seen = srv.event(|e| matches!(e, DhcpEvent::MacSeen { .. })).await;
    assert!(matches!(seen, DhcpEvent::MacSeen {
            mac, ip: Some(i), arch: Some(7), ..
        } if mac == stranger && i == ip));
    let bound = srv.event(|e| matches!(e, DhcpEvent::Bound { .. })).await;
    assert!(matches!(
        bound,
        DhcpEvent::Bound {
            source: LeaseKind::Pool,
            xname: None,
            ..
        }
    ));
    // Asking again is not a new sighting. (A sighting is reported after the Bound of the
    // same request, so it would be queued by the time a later request is answered.)
    relay.handshake(stranger, &[]).await;
    relay.handshake(mac(0, 1), &[]).await;
    let later = srv
        .events_until(|e| matches!(e, DhcpEvent::Bound { mac: m, .. } if *m == mac(0, 1)))
        .await;
    assert!(
        !later.iter().any(|e| matches!(e, DhcpEvent::MacSeen { .. })),
        "{later:?}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn range_addresses_are_reported_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = inventory();
    let mut srv = Running::start(relay_config(), hosts.clone(), dir.path()).await;
    let relay = Relay::new(srv.addr).await;
    let (_, ack) = relay.handshake(mac(0, 2), &[]).await;
    let ip = ack.yiaddr();
    assert!(
        ip <= Ipv4Addr::new(10, 91, 0, 190) && ip != SERVER_IP,
        "{ip} is in the range"
    );
    assert_ne!(ip, NODE_IP, "never the inventory's address");
    let ev = srv
        .event(|e| matches!(e, DhcpEvent::RangeAssigned { .. }))
        .await;
    assert!(
        matches!(ev, DhcpEvent::RangeAssigned { mac: m, ip: i, ref xname, .. }
        if m == mac(0, 2) && i == ip && xname.as_str() == "x3000c0s2b0n0")
    );
    srv.stop().await;

    // Another agent process over the same store: the same address, without a new report.
    let mut srv = Running::start(relay_config(), hosts, dir.path()).await;
    let relay = Relay::new(srv.addr).await;
    let (offer, ack) = relay.handshake(mac(0, 2), &[]).await;
    assert_eq!((offer.yiaddr(), ack.yiaddr()), (ip, ip));
    let events = srv
        .events_until(|e| matches!(e, DhcpEvent::Bound { .. }))
        .await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, DhcpEvent::RangeAssigned { .. })),
        "{events:?}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_flood_of_unknown_macs_leaves_static_hosts_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = Running::start(relay_config(), inventory(), dir.path()).await;
    let flooder = Relay::new(srv.addr).await;
    for i in 0..5000u16 {
        let [a, b] = i.to_be_bytes();
        let m = flooder.message(
            MessageType::Discover,
            cairn_protocols::MacAddr([2, 0xee, 0, 0, a, b]),
            u32::from(i),
        );
        flooder.send_raw(&m.to_vec().unwrap()).await;
    }
    // Static hosts keep their addresses while the flood drains.
    let relay = Relay::new(srv.addr).await;
    let (_, ack) = relay.handshake(mac(0, 1), &[]).await;
    assert_eq!(ack.yiaddr(), NODE_IP);
    let (_, ack) = relay.handshake(mac(0, 2), &[]).await;
    let range_ip = ack.yiaddr();
    assert!(range_ip <= Ipv4Addr::new(10, 91, 0, 190));
    // The server answers in order, so the flood's replies are all in the flooder's socket by
    // now: every offer it got came from the pool.
    let mut buf = vec![0u8; 2048];
    let mut offers = 0;
    while let Ok((n, _)) = flooder.sock.try_recv_from(&mut buf) {
        let m = <dhcproto::v4::Message as dhcproto::Decodable>::from_bytes(&buf[..n]).unwrap();
        assert!(
            m.yiaddr() >= Ipv4Addr::new(10, 91, 0, 191),
            "{}",
            m.yiaddr()
        );
        offers += 1;
    }
    let c = srv.stats.snapshot();
    println!("after the flood: {offers} offers, {c:?}");
    assert!(
        offers <= 64,
        "the pool holds 64 addresses, {offers} offered"
    );
    let seen = srv
        .queued_events()
        .iter()
        .filter(|e| matches!(e, DhcpEvent::MacSeen { .. }))
        .count();
    assert!(seen as u64 <= c.received, "one report per MAC at most");
    // And a server that is still serving.
    let (_, ack) = relay.handshake(mac(0, 1), &[]).await;
    assert_eq!(ack.yiaddr(), NODE_IP);
    srv.stop().await;
}

#[tokio::test]
async fn malformed_packets_get_no_reply_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Running::start(relay_config(), inventory(), dir.path()).await;
    let relay = Relay::new(srv.addr).await;
    let good = relay
        .message(MessageType::Discover, mac(0, 1), 7)
        .to_vec()
        .unwrap();
    let options_at = 240;
    let mut bad: Vec<Vec<u8>> = vec![
        vec![],
        vec![0xff; 10],
        good[..239].to_vec(),
        // op = BOOTREPLY
        [&[2u8][..], &good[1..]].concat(),
        // hlen 200: the codec would slice chaddr out of bounds.
        [&good[..2], &[200u8][..], &good[3..]].concat(),
        // option 94 of length 1: the codec would debug-assert.
        [&good[..options_at], &[53, 1, 1, 94, 1, 0, 255][..]].concat(),
        // option 81 cut short, and an option running past the end.
        [&good[..options_at], &[53, 1, 1, 81, 1, 0, 255][..]].concat(),
        [&good[..options_at], &[53, 1, 1, 60, 250, b'x'][..]].concat(),
    ];
    // A long run of padding ending in an option cut short.
    bad.push(
        [
            &good[..options_at],
            &[53, 1, 1],
            &vec![0u8; 3000][..],
            &[12, 10, b'a'],
        ]
        .concat(),
    );
    for b in &bad {
        relay.send_raw(b).await;
    }
    // The server answers in order: a reply to the valid packet sent after the bad ones
    // comes first, so none of them was answered.
    let mut probe = relay.message(MessageType::Discover, mac(0, 1), 99);
    probe
        .opts_mut()
        .insert(DhcpOption::ClientSystemArchitecture(0.into()));
    relay.send_raw(&probe.to_vec().unwrap()).await;
    let mut buf = vec![0u8; 2048];
    let (n, _) = tokio::time::timeout(PATIENCE, relay.sock.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let first = <dhcproto::v4::Message as dhcproto::Decodable>::from_bytes(&buf[..n]).unwrap();
    assert_eq!(first.xid(), 99);
    let c = srv.stats.snapshot();
    assert_eq!(c.dropped_malformed, bad.len() as u64, "{c:?}");
    srv.stop().await;
}
