use super::*;
use crate::from_json_slice;

#[test]
fn cluster_defaults_keys() {
    let d: ClusterDefaults = from_json_slice(
        br#"{"cloud_provider":"openchami","cluster-name":"demo","short-name":"nid",
            "nid-length":3,"public-keys":["ssh-ed25519 AAAA u@h"],"base-url":"http://h:8081/cloud-init",
            "region":"","user-data":"prefix\n"}"#,
    )
    .unwrap();
    assert_eq!(d.region, None);
    let e = d.validate().unwrap_err();
    assert!(
        e.to_string()
            .starts_with("user-data: must start with a #cloud-config line"),
        "{e}"
    );
    let d = ClusterDefaults {
        user_data: None,
        ..d
    };
    d.validate().unwrap();
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        serde_json::json!({"cloud_provider":"openchami","cluster-name":"demo","short-name":"nid",
            "nid-length":3,"public-keys":["ssh-ed25519 AAAA u@h"],"base-url":"http://h:8081/cloud-init"})
    );
}

#[test]
fn base_url_rules() {
    validate_base_url("base-url", "https://h/cloud-init").unwrap();
    for bad in [
        "ftp://h/",
        "http://",
        "http://h/\n#evil",
        "http://h/a b",
        "/cloud-init",
    ] {
        assert!(validate_base_url("base-url", bad).is_err(), "{bad:?}");
    }
}

#[test]
fn group_file_round_trips_in_its_encoding() {
    let json = br#"{"name":"compute","description":"d","file":{"content":"I2Nsb3VkLWNvbmZpZwo=","filename":"c.yaml","encoding":"base64"}}"#;
    let g: GroupData = from_json_slice(json).unwrap();
    g.validate().unwrap();
    assert_eq!(g.cloud_config(), Some("#cloud-config\n"));
    let back: serde_json::Value = serde_json::to_value(&g).unwrap();
    assert_eq!(back["file"]["content"], "I2Nsb3VkLWNvbmZpZwo=");
    let plain: GroupData =
        from_json_slice(br##"{"name":"io","file":{"content":"#!/bin/sh\necho\n"}}"##).unwrap();
    plain.validate().unwrap();
    assert_eq!(plain.cloud_config(), None);
    assert_eq!(
        plain.file.as_ref().map(|f| f.encoding),
        Some(FileEncoding::Plain)
    );
}

#[test]
fn group_errors_name_fields() {
    let e = from_json_slice::<GroupData>(
        br#"{"name":"g","file":{"content":"!!","encoding":"base64"}}"#,
    )
    .unwrap_err();
    assert!(
        e.to_string().starts_with("file: content: invalid base64"),
        "{e}"
    );
    let e =
        from_json_slice::<GroupData>(br#"{"name":"g","file":{"content":"x","encoding":"rot13"}}"#)
            .unwrap_err();
    assert!(
        e.to_string().starts_with("file.encoding: unknown variant"),
        "{e}"
    );
    let g: GroupData = from_json_slice(br#"{"name":"Bad Name","file":{"content":"x"}}"#).unwrap();
    assert_eq!(g.validate().unwrap_err().field, "name");
    let g = GroupData {
        name: "g".into(),
        file: Some(CloudConfigFile {
            content: "#cloud-config\n- a\n".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(g.validate().unwrap_err().field, "file.content");
    let g = GroupData {
        name: "g".into(),
        file: Some(CloudConfigFile {
            content: format!("#cloud-config\n#{}\n", "x".repeat(MAX_GROUP_FILE_LEN)),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(g.validate().unwrap_err().status(), 413);
}

#[test]
fn instance_info_keys_and_checks() {
    let i: InstanceInfo = from_json_slice(
        br##"{"id":"x3000c0s1b0n1","instance-id":"i-1","local-hostname":"compute-1",
            "cloud-init-base-url":"http://h/ci","public-keys":["k1"],
            "user-data":"#cloud-config\nruncmd: [[echo, hi]]\n"}"##,
    )
    .unwrap();
    i.validate().unwrap();
    assert_eq!(i.id.as_ref().map(|x| x.as_str()), Some("x3000c0s1b0n1"));
    let bad = InstanceInfo {
        hostname: Some("a\nb".into()),
        ..i.clone()
    };
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .starts_with("hostname: newline")
    );
    let many = InstanceInfo {
        public_keys: vec!["k".into(); MAX_PUBLIC_KEYS + 1],
        ..i
    };
    assert_eq!(many.validate().unwrap_err().status(), 413);
}

#[test]
fn phone_home_form_fields() {
    let p: PhoneHome = serde_json::from_value(serde_json::json!({
        "pub_key_rsa":"ssh-rsa AAA","instance_id":"i-1","hostname":"n1","fqdn":"n1.example"}))
    .unwrap();
    p.validate().unwrap();
    assert!(!p.is_empty());
    let bad = PhoneHome {
        hostname: "a\rb".into(),
        ..p
    };
    assert_eq!(bad.validate().unwrap_err().field, "hostname");
}
