//! Xname parsing, normalization, hierarchy and error messages.

use cairn_protocols::{HmsType, Xname};

fn x(s: &str) -> Xname {
    Xname::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn err(s: &str) -> String {
    Xname::parse(s).expect_err(s).to_string()
}

#[test]
fn recognizes_every_level() {
    let cases = [
        ("s0", HmsType::System),
        ("x3000", HmsType::Cabinet),
        ("x3000m0", HmsType::CabinetPduController),
        ("x3000m0p1", HmsType::CabinetPdu),
        ("x3000m0p1v12", HmsType::CabinetPduPowerConnector),
        ("x3000m0p1j12", HmsType::CabinetPduOutlet),
        ("x3000b0", HmsType::CabinetBmc),
        ("x3000d1", HmsType::CabinetCdu),
        ("x3000e0", HmsType::Cec),
        ("x3000c0", HmsType::Chassis),
        ("x3000c0b0", HmsType::ChassisBmc),
        ("x3000c0s5", HmsType::ComputeModule),
        ("x3000c0r15", HmsType::RouterModule),
        ("x3000c0s5b0", HmsType::NodeBmc),
        ("x3000c0s5b0n0", HmsType::Node),
        ("x3000c0s5e0", HmsType::NodeEnclosure),
        ("x3000c0s5e0t1", HmsType::NodeEnclosurePowerSupply),
        ("x3000c0s5b0n0p1", HmsType::Processor),
        ("x3000c0s5b0n0d7", HmsType::Memory),
        ("x3000c0s5b0n0a3", HmsType::NodeAccel),
        ("x3000c0s5b0n0r1", HmsType::NodeAccelRiser),
        ("x3000c0s5b0n0f0", HmsType::NodeFpga),
        ("x3000c0s5b0n0h1", HmsType::NodeHsnNic),
        ("x3000c0s5b0n0i0", HmsType::NodeNic),
        ("x3000c0s5b0n0g1", HmsType::StorageGroup),
        ("x3000c0s5b0n0g1k2", HmsType::Drive),
        ("x3000c0s5b0n0v1", HmsType::VirtualNode),
        ("x3000c0r15b0", HmsType::RouterBmc),
        ("x3000c0r15a0", HmsType::HsnAsic),
        ("x3000c0r15a0l3", HmsType::HsnLink),
        ("x3000c0r15j7", HmsType::HsnConnector),
        ("x3000c0r15f0", HmsType::RouterFpga),
        ("x3000c0r15e0", HmsType::HsnBoard),
        ("x3000c0t2", HmsType::CmmRectifier),
        ("x3000c0f0", HmsType::CmmFpga),
        ("x3000c0w38", HmsType::MgmtSwitch),
        ("x3000c0h12", HmsType::MgmtHlSwitchEnclosure),
        ("x3000c0h12s1", HmsType::MgmtHlSwitch),
        ("d0", HmsType::Cdu),
        ("d0w1", HmsType::CduMgmtSwitch),
    ];
    for (s, t) in cases {
        let parsed = x(s);
        assert_eq!(parsed.hms_type(), t, "{s}");
        assert_eq!(parsed.as_str(), s);
    }
}

#[test]
fn normalizes_case_and_leading_zeros() {
    assert_eq!(x("X3000C0S05B0N0").as_str(), "x3000c0s5b0n0");
    assert_eq!(x("x0003000c00s005b0n0"), x("x3000c0s5b0n0"));
    assert_eq!(x("x000").as_str(), "x0");
    assert_eq!(x("S0").as_str(), "s0");
    assert_eq!(
        "x1c0s0b0".parse::<Xname>().map(|x| x.to_string()),
        Ok("x1c0s0b0".to_owned())
    );
}

#[test]
fn hierarchy_helpers() {
    let node = x("x3000c0s5b0n0");
    assert!(node.is_node());
    assert!(!node.is_bmc());
    assert_eq!(node.cabinet(), Some(3000));
    assert_eq!(node.parent(), Some(x("x3000c0s5b0")));
    assert!(x("x3000c0s5b0").is_bmc());
    assert_eq!(x("x3000").parent(), Some(x("s0")));
    assert_eq!(x("d3").parent(), Some(x("s0")));
    assert_eq!(x("s0").parent(), None);
    assert_eq!(x("d3").cabinet(), None);
    assert_eq!(x("x3000c0s5b0").child('n', 1), Ok(x("x3000c0s5b0n1")));
    assert!(x("x3000c0s5b0").child('q', 1).is_err());
    assert!(x("x3000c0").contains(&node));
    assert!(x("s0").contains(&node));
    assert!(node.contains(&node));
    assert!(
        !x("x300").contains(&node),
        "prefix of the number is not an ancestor"
    );
    assert!(!node.contains(&x("x3000c0s5b0")));
}

#[test]
fn natural_order() {
    let mut v = [
        x("x10c0"),
        x("x2c0s10b0"),
        x("x2c0s9b0"),
        x("x2c0"),
        x("d1"),
        x("s0"),
    ];
    v.sort();
    let s: Vec<_> = v.iter().map(Xname::as_str).collect();
    assert_eq!(s, ["d1", "s0", "x2c0", "x2c0s9b0", "x2c0s10b0", "x10c0"]);
}

#[test]
fn serde_as_validated_string() {
    assert_eq!(
        serde_json::to_string(&x("X1C0S0B0N0")).unwrap(),
        "\"x1c0s0b0n0\""
    );
    let back: Xname = serde_json::from_str("\"x1c0s0b0n0\"").unwrap();
    assert_eq!(back, x("x1c0s0b0n0"));
    let e = serde_json::from_str::<Xname>("\"x1c0s0q0\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid xname \"x1c0s0q0\""), "{e}");
    assert!(serde_json::from_str::<Xname>("42").is_err());
}

#[test]
fn errors_name_the_bad_part() {
    assert_eq!(
        err("x3000c0s5q0"),
        "invalid xname \"x3000c0s5q0\": unexpected \"q0\" after \"x3000c0s5\""
    );
    assert_eq!(
        err("x3000c0s5b0n"),
        "invalid xname \"x3000c0s5b0n\": expected a number after \"n\""
    );
    assert_eq!(
        err("x3000c0s999"),
        "invalid xname \"x3000c0s999\": slot number 999 out of range 0..=255"
    );
    assert!(err("x3000c9").contains("chassis number 9 out of range 0..=7"));
    assert!(err("x1000000").contains("cabinet number 1000000 out of range 0..=999999"));
    assert!(err("x99999999999999999999").contains("cabinet number 99999999999999999999"));
    assert!(err("s1").contains("system number 1 out of range 0..=0"));
    assert!(err("").ends_with(": empty"));
    assert!(
        err("node01").contains("unexpected \"n\" at the start"),
        "{}",
        err("node01")
    );
    assert!(err("x1c0s0b0n0 ").contains("unexpected \" \" after \"x1c0s0b0n0\""));
    assert!(err("x1c0s0b0n0x").contains("unexpected \"x\" after \"x1c0s0b0n0\""));
    assert!(err("s0c0").contains("unexpected \"c0\" after \"s0\""));
    assert!(err("x1-c0").contains("unexpected \"-\" after \"x1\""));
    assert!(err("X1C0S0Q0").contains("unexpected \"Q0\" after \"x1c0s0\""));
    assert!(err(&"x1".repeat(40)).contains("too long"));
    assert!(err("x1c0s0b0n0é").contains("\"é\""));
}
