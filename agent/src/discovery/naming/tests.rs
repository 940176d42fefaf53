use super::*;
use crate::redfish::Scheme;

fn addr(s: &str) -> BmcAddress {
    BmcAddress::parse(s, Scheme::Https).unwrap()
}

fn namer(scope: &[u32], subnets: &[&str], ports: &[u16], map: &[(&str, &str)]) -> Namer {
    let subnets: Vec<IpNet> = subnets.iter().map(|s| s.parse().unwrap()).collect();
    let map = map
        .iter()
        .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
        .collect();
    Namer::new(scope, &subnets, ports, &map)
}

fn name(n: &Namer, a: &str) -> String {
    n.name(&addr(a)).unwrap().to_string()
}

#[test]
fn documented_example() {
    let n = namer(&[1000, 1001], &["10.1.0.0/24", "10.1.1.0/24"], &[443], &[]);
    assert_eq!(name(&n, "10.1.0.17"), "x1000c0s17b0");
    assert_eq!(name(&n, "10.1.1.5"), "x1001c0s5b0");
}

#[test]
fn large_subnets_fill_chassis_then_cabinets() {
    let n = namer(
        &[7, 8, 9],
        &["10.0.0.0/20", "10.0.16.0/24"],
        &[443, 8443],
        &[],
    );
    assert_eq!(name(&n, "10.0.0.1"), "x7c0s1b0");
    assert_eq!(name(&n, "10.0.1.2:8443"), "x7c1s2b1");
    assert_eq!(name(&n, "10.0.7.255"), "x7c7s255b0");
    assert_eq!(name(&n, "10.0.8.0"), "x8c0s0b0");
    // The second subnet starts at the third cabinet, after the /20's two.
    assert_eq!(name(&n, "10.0.16.9"), "x9c0s9b0");
    // An unlisted port is b0.
    assert_eq!(name(&n, "10.0.0.1:5000"), "x7c0s1b0");
}

#[test]
fn names_are_stable_whatever_else_is_configured_later_in_order() {
    let a = namer(&[1], &["127.0.5.0/24"], &[443], &[]);
    let b = namer(
        &[1, 2],
        &["127.0.5.0/24", "127.0.6.0/24"],
        &[443, 8000],
        &[],
    );
    for ip in ["127.0.5.1", "127.0.5.200"] {
        assert_eq!(name(&a, ip), name(&b, ip));
    }
}

#[test]
fn the_map_and_xname_host_names_win() {
    let n = namer(
        &[1000],
        &["10.1.0.0/24"],
        &[443],
        &[
            ("10.1.0.5", "x1000c3s1b0"),
            ("10.1.0.5:8443", "x1000c3s1b1"),
            ("BMC7.example", "x1000c0s7b0"),
        ],
    );
    assert_eq!(name(&n, "10.1.0.5"), "x1000c3s1b0");
    assert_eq!(name(&n, "10.1.0.5:8443"), "x1000c3s1b1");
    assert_eq!(name(&n, "bmc7.example"), "x1000c0s7b0");
    assert_eq!(name(&n, "x1000c2s4b0.bmc.example"), "x1000c2s4b0");
    assert_eq!(name(&n, "10.1.0.6"), "x1000c0s6b0");
}

#[test]
fn out_of_scope_and_unnamed_addresses_are_refused() {
    let n = namer(
        &[1000],
        &["10.1.0.0/20"],
        &[443],
        &[("10.9.9.9", "x2000c0s1b0")],
    );
    assert!(matches!(
        n.name(&addr("10.1.8.1")),
        Err(NamingError::BeyondScope {
            index: 1,
            cabinets: 1,
            ..
        })
    ));
    assert!(matches!(
        n.name(&addr("10.9.9.9")),
        Err(NamingError::OutOfScope { .. })
    ));
    assert!(matches!(
        n.name(&addr("x2000c0s1b0")),
        Err(NamingError::OutOfScope { .. })
    ));
    let err = n.name(&addr("192.168.0.1")).unwrap_err();
    assert!(matches!(err, NamingError::Unnamed { .. }));
    assert!(
        err.to_string()
            .starts_with("https://192.168.0.1:443: no name"),
        "{err}"
    );
    // Without a scope nothing can be derived.
    let none = namer(&[], &["10.1.0.0/24"], &[443], &[]);
    assert!(matches!(
        none.name(&addr("10.1.0.1")),
        Err(NamingError::BeyondScope { cabinets: 0, .. })
    ));
}

#[test]
fn plan_drops_repeated_addresses_and_refuses_repeated_names() {
    let n = namer(
        &[1],
        &["127.0.0.0/24"],
        &[443],
        &[("127.0.0.9", "x1c0s1b0")],
    );
    let t = |a: &str, x: Option<&str>| Target {
        address: addr(a),
        xname: x.map(|x| x.parse().unwrap()),
        credentials: None,
    };
    let (named, errors) = n.plan([
        t("127.0.0.1", None),
        t("http://127.0.0.1:443", None),
        t("127.0.0.9", None),
        t("127.0.0.2", Some("x1c0s9b0")),
        t("10.0.0.1", None),
    ]);
    let names: Vec<_> = named.iter().map(|t| t.xname.to_string()).collect();
    assert_eq!(names, ["x1c0s1b0", "x1c0s9b0"]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        matches!(&errors[0], NamingError::Duplicate { xname, .. } if xname.as_str() == "x1c0s1b0")
    );
    assert!(matches!(&errors[1], NamingError::Unnamed { .. }));
}
