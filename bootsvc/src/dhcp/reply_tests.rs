use dhcproto::Decodable;
use dhcproto::v4::DhcpOption;

use super::*;
use crate::dhcp::packet::decode;
use crate::dhcp::testutil::{SERVER, bytes, mac, opt, request, resolved, with};

fn offer(bootfile: Option<String>) -> Answer {
    Answer {
        kind: MessageType::Offer,
        yiaddr: [10, 91, 0, 20].into(),
        lease_secs: Some(3600),
        hostname: Some("x3000c0s1b0n0".into()),
        bootfile,
        message: None,
    }
}

fn parse(b: &[u8]) -> Message {
    Message::from_bytes(b).unwrap()
}

#[test]
fn offers_carry_the_boot_options_and_the_file_field() {
    let mut cfg = resolved();
    cfg.dns = vec![[10, 91, 0, 1].into()];
    cfg.domain = Some("rack1.test".into());
    let req = decode(&bytes(&request(MessageType::Discover, mac(1)))).unwrap();
    let b = build(&req, &cfg, &offer(Some("undionly.kpxe".into()))).unwrap();
    assert!(b.len() >= 300);
    let m = parse(&b);
    assert_eq!(m.opcode(), Opcode::BootReply);
    assert_eq!(m.xid(), 0x1234_5678);
    assert_eq!(m.chaddr(), &mac(1).octets());
    assert_eq!(m.siaddr(), SERVER);
    assert_eq!(m.yiaddr(), Ipv4Addr::new(10, 91, 0, 20));
    assert_eq!(m.giaddr(), req.msg.giaddr());
    assert_eq!(m.fname().unwrap(), b"undionly.kpxe\0");
    assert_eq!(m.opts().msg_type(), Some(MessageType::Offer));
    assert_eq!(opt(&m, 54), Some(&DhcpOption::ServerIdentifier(SERVER)));
    assert_eq!(opt(&m, 51), Some(&DhcpOption::AddressLeaseTime(3600)));
    assert_eq!(opt(&m, 58), Some(&DhcpOption::Renewal(1800)));
    assert_eq!(opt(&m, 59), Some(&DhcpOption::Rebinding(3150)));
    assert_eq!(
        opt(&m, 1),
        Some(&DhcpOption::SubnetMask([255, 255, 255, 0].into()))
    );
    assert_eq!(opt(&m, 3), Some(&DhcpOption::Router(vec![SERVER])));
    assert_eq!(
        opt(&m, 6),
        Some(&DhcpOption::DomainNameServer(vec![SERVER]))
    );
    assert_eq!(
        opt(&m, 15),
        Some(&DhcpOption::DomainName("rack1.test".into()))
    );
    assert_eq!(
        opt(&m, 12),
        Some(&DhcpOption::Hostname("x3000c0s1b0n0".into()))
    );
    assert_eq!(
        opt(&m, 67),
        Some(&DhcpOption::BootfileName(b"undionly.kpxe".to_vec()))
    );
    match opt(&m, 175) {
        Some(DhcpOption::Unknown(u)) => assert_eq!(u.data(), &[176, 1, 1]),
        other => panic!("{other:?}"),
    }
    assert!(opt(&m, 52).is_none());
}

#[test]
fn long_boot_urls_go_in_the_option_only() {
    let req = decode(&bytes(&request(MessageType::Discover, mac(1)))).unwrap();
    let url = format!("http://10.91.0.1:8080/{}", "a".repeat(120));
    let m = parse(&build(&req, &resolved(), &offer(Some(url.clone()))).unwrap());
    assert_eq!(m.fname(), None);
    assert_eq!(
        opt(&m, 67),
        Some(&DhcpOption::BootfileName(url.into_bytes()))
    );
}

#[test]
fn relay_information_is_echoed_last_byte_for_byte() {
    let mut raw = bytes(&request(MessageType::Discover, mac(1)));
    let end = raw.iter().rposition(|x| *x == 255).unwrap();
    raw.truncate(end);
    // Sub-option 1 (circuit id) and an unknown sub-option 99 the codec would not keep as is.
    let info = [1, 2, 0xab, 0xcd, 99, 1, 7];
    raw.extend_from_slice(&[82, info.len() as u8]);
    raw.extend_from_slice(&info);
    raw.push(255);
    let req = decode(&raw).unwrap();
    let b = build(&req, &resolved(), &offer(None)).unwrap();
    let at = b
        .windows(2)
        .rposition(|w| w == [82, info.len() as u8])
        .unwrap();
    assert_eq!(&b[at + 2..at + 2 + info.len()], &info);
    assert_eq!(b[at + 2 + info.len()], 255, "option 82 is the last option");
}

#[test]
fn naks_carry_no_lease_and_go_out_broadcast() {
    let req = decode(&bytes(&request(MessageType::Request, mac(1)))).unwrap();
    let nak = Answer {
        kind: MessageType::Nak,
        yiaddr: Ipv4Addr::UNSPECIFIED,
        lease_secs: None,
        hostname: None,
        bootfile: None,
        message: Some("no"),
    };
    let m = parse(&build(&req, &resolved(), &nak).unwrap());
    assert_eq!(m.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.siaddr(), Ipv4Addr::UNSPECIFIED);
    assert!(
        m.flags().broadcast(),
        "relayed NAKs ask the relay to broadcast"
    );
    assert!(opt(&m, 51).is_none() && opt(&m, 67).is_none() && opt(&m, 175).is_none());
    assert_eq!(opt(&m, 56), Some(&DhcpOption::Message("no".into())));
}

#[test]
fn small_limits_drop_optional_options_first() {
    let mut cfg = resolved();
    cfg.dns = vec![[10, 91, 0, 1].into(); 8];
    cfg.domain = Some(format!("{}.test", "d".repeat(200)));
    let req = decode(&bytes(&request(MessageType::Discover, mac(1)))).unwrap();
    let url = format!("http://10.91.0.1:8080/{}", "a".repeat(150));
    let b = build(&req, &cfg, &offer(Some(url))).unwrap();
    assert!(b.len() <= 548, "{}", b.len());
    let m = parse(&b);
    assert!(opt(&m, 15).is_none(), "the domain went first");
    assert!(opt(&m, 67).is_some() && opt(&m, 54).is_some());
    // With room (option 57 = 1500), everything stays.
    let big = with(
        request(MessageType::Discover, mac(1)),
        DhcpOption::MaxMessageSize(1500),
    );
    let req = decode(&bytes(&big)).unwrap();
    let url = format!("http://10.91.0.1:8080/{}", "a".repeat(150));
    let m = parse(&build(&req, &cfg, &offer(Some(url))).unwrap());
    assert!(opt(&m, 15).is_some());
}

#[test]
fn destinations_follow_rfc_2131() {
    let src: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let bcast: SocketAddr = "255.255.255.255:68".parse().unwrap();
    let relayed = decode(&bytes(&request(MessageType::Discover, mac(1)))).unwrap();
    assert_eq!(destination(&relayed, MessageType::Offer, src), src);
    assert_eq!(destination(&relayed, MessageType::Nak, src), src);
    let mut m = request(MessageType::Request, mac(1));
    m.set_giaddr(Ipv4Addr::UNSPECIFIED);
    let direct = decode(&bytes(&m)).unwrap();
    assert_eq!(destination(&direct, MessageType::Ack, src), bcast);
    m.set_ciaddr(Ipv4Addr::new(10, 91, 0, 20));
    let renew = decode(&bytes(&m)).unwrap();
    assert_eq!(
        destination(&renew, MessageType::Ack, src),
        "10.91.0.20:68".parse().unwrap()
    );
    assert_eq!(destination(&renew, MessageType::Nak, src), bcast);
}
