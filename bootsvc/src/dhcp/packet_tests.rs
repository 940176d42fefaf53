use dhcproto::v4::{DhcpOption, MessageType};
use proptest::prelude::*;

use super::*;
use crate::dhcp::testutil::{arch, bytes, mac, request, user_class_ipxe, with};

fn discover() -> Vec<u8> {
    bytes(&request(MessageType::Discover, mac(1)))
}

/// A valid DISCOVER's bytes with raw options appended before the End byte.
fn with_raw_options(raw: &[u8]) -> Vec<u8> {
    let mut b = discover();
    let end = b.iter().rposition(|x| *x == 255).unwrap();
    b.truncate(end);
    b.extend_from_slice(raw);
    b.push(255);
    b
}

#[test]
fn header_checks_name_the_reason() {
    assert_eq!(decode(&[1; 100]).unwrap_err(), Malformed::TooShort(100));
    let mut b = discover();
    b[0] = 2;
    assert_eq!(decode(&b).unwrap_err(), Malformed::NotRequest(2));
    let mut b = discover();
    b[236] = 0;
    assert_eq!(decode(&b).unwrap_err(), Malformed::BadCookie);
    let mut b = discover();
    b[2] = 17;
    assert_eq!(decode(&b).unwrap_err(), Malformed::BadHlen(17));
    let mut b = discover();
    b[1] = 32;
    b[2] = 0;
    assert_eq!(
        decode(&b).unwrap_err(),
        Malformed::NotEthernet { htype: 32, hlen: 0 }
    );
    let mut b = discover();
    b[28] = 0x01;
    assert!(matches!(decode(&b).unwrap_err(), Malformed::NotUnicast(_)));
    let mut b = discover();
    b[28..34].fill(0);
    assert!(matches!(decode(&b).unwrap_err(), Malformed::NotUnicast(_)));
    let b = with_raw_options(&[12, 200, b'a']);
    assert!(matches!(
        decode(&b).unwrap_err(),
        Malformed::Truncated { code: 12, .. }
    ));
    let mut b = discover();
    b.truncate(240);
    b.extend_from_slice(&[61]);
    assert!(matches!(
        decode(&b).unwrap_err(),
        Malformed::Truncated { code: 61, .. }
    ));
}

#[test]
fn lengths_the_codec_asserts_on_are_refused() {
    for (raw, code) in [
        (&[80u8, 1, 0][..], 80),
        (&[81, 1, 0], 81),
        (&[94, 2, 1, 2], 94),
        (&[151, 0], 151),
        (&[152, 3, 0, 0, 0], 152),
        (&[155, 5, 0, 0, 0, 0, 0], 155),
        (&[53, 2, 1, 1], 53),
        (&[57, 1, 5], 57),
        (&[93, 3, 0, 0, 7], 93),
        // Adjacent parts are concatenated (RFC 3396): 94 in two parts of 2 is 4 long.
        (&[94, 2, 1, 2, 94, 2, 3, 4], 94),
    ] {
        let err = decode(&with_raw_options(raw)).unwrap_err();
        assert!(
            matches!(err, Malformed::BadLength { code: c, .. } if c == code),
            "{raw:?}: {err}"
        );
    }
    // Parts separated by a pad are separate options, each fine.
    decode(&with_raw_options(&[94, 3, 1, 2, 3, 0, 94, 3, 1, 2, 3])).unwrap();
    // A well-formed RapidCommit and FQDN pass.
    decode(&with_raw_options(&[80, 0, 81, 3, 0, 0, 0])).unwrap();
}

#[test]
fn options_the_codec_cannot_read_are_reported() {
    // A bad option before option 93 would make the codec silently drop 93.
    let b = with_raw_options(&[3, 3, 1, 2, 3, 93, 2, 0, 7]);
    assert_eq!(decode(&b).unwrap_err(), Malformed::Undecodable(93));
    let mut m = request(MessageType::Discover, mac(1));
    m.set_opts(dhcproto::v4::DhcpOptions::new());
    assert_eq!(decode(&bytes(&m)).unwrap_err(), Malformed::NoMessageType);
}

#[test]
fn requests_yield_what_the_server_reads() {
    let m = with(
        with(
            with(request(MessageType::Discover, mac(7)), arch(7)),
            user_class_ipxe(),
        ),
        DhcpOption::MaxMessageSize(1500),
    );
    let r = decode(&bytes(&m)).unwrap();
    assert_eq!(r.mac, mac(7));
    assert_eq!(r.kind, MessageType::Discover);
    assert_eq!(r.arch, Some(7));
    assert!(r.ipxe);
    assert_eq!(r.max_reply, 1472);
    assert_eq!(r.relay_info, None);

    let m = with(
        request(MessageType::Request, mac(8)),
        DhcpOption::ClassIdentifier(b"PXEClient:Arch:00000:UNDI:002001".to_vec()),
    );
    let r = decode(&bytes(&m)).unwrap();
    assert_eq!(r.arch, Some(0));
    assert!(!r.ipxe);
    assert_eq!(r.max_reply, MIN_REPLY);
    assert_eq!(
        r.vendor_class.as_deref(),
        Some("PXEClient:Arch:00000:UNDI:002001")
    );

    // iPXE is also recognized by its own option 175; relay info is kept byte for byte.
    let r = decode(&with_raw_options(&[
        175, 3, 177, 1, 1, 82, 4, 1, 2, 0xab, 0xcd,
    ]))
    .unwrap();
    assert!(r.ipxe);
    assert_eq!(r.relay_info.as_deref(), Some(&[1, 2, 0xab, 0xcd][..]));
    // A tiny option 57 is raised to the 576-byte minimum.
    let r = decode(&with_raw_options(&[57, 2, 0, 100])).unwrap();
    assert_eq!(r.max_reply, MIN_REPLY);
}

fn valid_request() -> Vec<u8> {
    let m = with(
        with(
            with(request(MessageType::Request, mac(9)), arch(7)),
            user_class_ipxe(),
        ),
        DhcpOption::ParameterRequestList(vec![1.into(), 3.into(), 67.into()]),
    );
    with_raw_options_of(
        bytes(&m),
        &[
            81, 6, 0, 0, 0, 1, b'a', 0, 94, 3, 1, 3, 0, 82, 4, 1, 2, 3, 4, 121, 8, 24, 10, 0, 0,
            10, 0, 0, 1, 119, 4, 1, b'x', 0, 0, 97, 3, 0, 1, 2,
        ],
    )
}

fn with_raw_options_of(mut b: Vec<u8>, raw: &[u8]) -> Vec<u8> {
    let end = b.iter().rposition(|x| *x == 255).unwrap();
    b.truncate(end);
    b.extend_from_slice(raw);
    b.push(255);
    b
}

fn header() -> Vec<u8> {
    let mut b = discover();
    b.truncate(240);
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random datagrams never panic the screen or the codec (this is a debug build, where
    /// the codec's debug assertions are live).
    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = decode(&b);
    }

    /// A valid header followed by random option TLVs (any code, any length).
    #[test]
    fn random_options_never_panic(opts in proptest::collection::vec(
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..20)), 0..30)
    ) {
        let mut b = header();
        for (code, data) in &opts {
            b.push(*code);
            b.push(data.len() as u8);
            b.extend_from_slice(data);
        }
        let _ = decode(&b);
    }

    /// A valid request with bytes flipped, cut or inserted.
    #[test]
    fn mutated_requests_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..12),
        cut in any::<Option<usize>>(),
        insert in any::<Option<(usize, u8)>>(),
    ) {
        let mut b = valid_request();
        for (at, v) in flips {
            let n = b.len();
            b[at % n] = v;
        }
        if let Some((at, v)) = insert {
            let n = b.len();
            b.insert(at % n, v);
        }
        if let Some(cut) = cut {
            let n = b.len();
            b.truncate(cut % (n + 1));
        }
        let _ = decode(&b);
    }

    /// Whatever a screened packet claims, the decoded MAC is its first six chaddr bytes.
    #[test]
    fn decoded_mac_is_chaddr(mut m in any::<[u8; 6]>()) {
        m[0] = (m[0] & 0xfe) | 0x02;
        let mut b = valid_request();
        b[28..34].copy_from_slice(&m);
        let r = decode(&b).unwrap();
        prop_assert_eq!(r.mac, cairn_protocols::MacAddr(m));
    }
}
