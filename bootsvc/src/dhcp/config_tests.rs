use super::*;

fn relay(subnet: &str) -> DhcpConfig {
    let mut c = DhcpConfig::new("http://10.91.0.1:8080/");
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.server_ip = Some("10.91.0.1".parse().unwrap());
    c.subnet = Some(subnet.parse().unwrap());
    c
}

#[test]
fn defaults_split_the_subnet() {
    let r = relay("10.91.0.0/24").resolve().unwrap();
    assert_eq!(
        r.range,
        AddrRange::new([10, 91, 0, 1].into(), [10, 91, 0, 190].into())
    );
    assert_eq!(
        r.pool,
        Some(AddrRange::new(
            [10, 91, 0, 191].into(),
            [10, 91, 0, 254].into()
        ))
    );
    assert_eq!(r.boot_url, "http://10.91.0.1:8080");
    assert!(!r.assignable("10.91.0.1".parse().unwrap()));
    assert!(!r.assignable("10.91.0.255".parse().unwrap()));
    assert!(r.assignable("10.91.0.2".parse().unwrap()));
    let small = relay("10.91.0.0/30");
    let mut small = small;
    small.server_ip = Some("10.91.0.2".parse().unwrap());
    let r = small.resolve().unwrap();
    assert_eq!(r.range.len(), 1);
    assert_eq!(r.pool.unwrap().len(), 1);
}

#[test]
fn bad_settings_name_their_field() {
    let field = |c: DhcpConfig| c.validate().unwrap_err().field;
    let mut c = relay("10.91.0.0/24");
    c.server_ip = None;
    assert_eq!(field(c), "server_ip");
    let mut c = relay("10.91.0.0/24");
    c.router = Some("10.92.0.1".parse().unwrap());
    assert_eq!(field(c), "router");
    let mut c = relay("10.91.0.0/24");
    c.pool = Some(AddrRange::new(
        [10, 91, 0, 100].into(),
        [10, 91, 0, 200].into(),
    ));
    assert_eq!(field(c), "pool");
    let mut c = relay("10.91.0.0/24");
    c.range = Some(AddrRange::new([10, 91, 1, 1].into(), [10, 91, 1, 9].into()));
    assert_eq!(field(c), "range");
    let mut c = relay("10.91.0.0/31");
    c.server_ip = Some("10.91.0.0".parse().unwrap());
    assert_eq!(field(c), "subnet");
    let mut c = relay("10.91.0.0/24");
    c.boot_url = "tftp://x".into();
    assert_eq!(field(c), "boot_url");
    let mut c = relay("10.91.0.0/24");
    c.boot_url = format!("http://h/{}", "a".repeat(200));
    assert!(c.validate().unwrap_err().too_large);
    let mut c = relay("10.91.0.0/24");
    c.bootfiles.bios = "a b".into();
    assert_eq!(field(c), "bootfiles.bios");
    let mut c = relay("10.91.0.0/24");
    c.pool_lease_secs = 7200;
    assert_eq!(field(c), "pool_lease_secs");
    let mut c = relay("10.91.0.0/24");
    c.interface = Some("a-very-long-interface".into());
    assert_eq!(field(c), "interface");
    let mut c = relay("10.91.0.0/24");
    c.domain = Some("bad domain".into());
    assert_eq!(field(c), "domain");
    let mut c = relay("10.91.0.0/24");
    c.listen = "[::1]:67".parse().unwrap();
    assert_eq!(field(c), "listen");
}

#[test]
fn toml_rejects_unknown_keys_and_fills_defaults() {
    let e = toml::from_str::<DhcpConfig>("boot_url='http://h'\nlease=3").unwrap_err();
    assert!(e.to_string().contains("unknown field `lease`"), "{e}");
    let c: DhcpConfig = toml::from_str(
        "boot_url='http://h'\nserver_ip='10.0.0.1'\nsubnet='10.0.0.0/24'\n\
         pool={first='10.0.0.200',last='10.0.0.250'}\nbootfiles={efi_x64='snponly.efi'}",
    )
    .unwrap();
    c.validate().unwrap();
    assert_eq!(c.bootfiles.for_arch(9), Some("snponly.efi"));
    assert_eq!(c.bootfiles.for_arch(0), Some("undionly.kpxe"));
    assert_eq!(c.bootfiles.for_arch(0x0b), None);
    assert_eq!(c.listen, "0.0.0.0:67".parse().unwrap());
    assert!(c.pool_enabled);
}

#[test]
fn missing_interface_is_an_error() {
    let mut c = DhcpConfig::new("http://h");
    c.interface = Some("cairn-nope0".into());
    let e = c.resolve().unwrap_err();
    assert!(matches!(e, DhcpError::Interface { .. }), "{e}");
}

#[test]
fn ranges_read_as_text_or_tables() {
    let c: DhcpConfig = toml::from_str(
        r#"
        boot_url = "http://10.91.0.1:8080"
        range = "10.91.0.100-10.91.0.199"
        pool = { first = "10.91.0.200", last = "10.91.0.250" }
        "#,
    )
    .unwrap();
    assert_eq!(
        c.range,
        Some(AddrRange::new(
            [10, 91, 0, 100].into(),
            [10, 91, 0, 199].into()
        ))
    );
    assert_eq!(
        c.pool.map(|p| p.to_string()).as_deref(),
        Some("10.91.0.200-10.91.0.250")
    );
    for bad in ["10.91.0.100", "10.91.0.1-x", "a-b"] {
        let text = format!("boot_url = \"http://10.91.0.1:8080\"\nrange = \"{bad}\"\n");
        let err = toml::from_str::<DhcpConfig>(&text).unwrap_err().to_string();
        assert!(err.contains(bad), "{err}");
    }
}
