//! cloud-init on the coordinator: the admin API (`/cloud-init/admin/...`, stored through
//! Raft) and the node-facing routes served from it, the node identified by its source
//! address (and `X-Forwarded-For` only from trusted proxies), with every refusal.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use serde_json::json;

use crate::boot::{fixture, ip};
use crate::support::{App, Resp, node};

const DEFAULTS: &str = "/cloud-init/admin/cluster-defaults";
const GROUPS: &str = "/cloud-init/admin/groups";

/// `GET path` from `peer`, with an optional `X-Forwarded-For`.
async fn from(app: &App, method: &str, path: &str, peer: &str, xff: Option<&str>) -> Resp {
    let peer: SocketAddr = format!("{peer}:40001").parse().unwrap();
    let mut req = Request::builder().method(method).uri(path);
    if let Some(x) = xff {
        req = req.header("x-forwarded-for", x);
    }
    let mut req = req.body(Body::empty()).unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    app.send(req).await
}

fn text(r: &Resp) -> &str {
    r.body.as_str().unwrap_or_default()
}

#[tokio::test]
async fn cluster_defaults_merge_field_by_field() {
    let app = App::start().await;
    assert_eq!(app.get_ok(DEFAULTS).await, json!({}));
    app.expect(
        "POST",
        DEFAULTS,
        Some(json!({"cluster-name": "demo", "short-name": "nid", "nid-length": 3,
            "public-keys": ["ssh-ed25519 AAAA a@h"], "base-url": "http://10.1.0.1:27779/cloud-init"})),
        201,
    )
    .await;
    // Fields left out (or "", as Go clients send) are kept.
    app.expect(
        "POST",
        DEFAULTS,
        Some(json!({"region": "lab", "cluster-name": ""})),
        201,
    )
    .await;
    assert_eq!(
        app.get_ok(DEFAULTS).await,
        json!({"cluster-name": "demo", "short-name": "nid", "nid-length": 3, "region": "lab",
            "public-keys": ["ssh-ed25519 AAAA a@h"], "base-url": "http://10.1.0.1:27779/cloud-init"})
    );
    for (body, mentions) in [
        (json!({"base-url": "ftp://h/ci"}), &["base-url"][..]),
        (
            json!({"base-url": "http://h/ci\n#include http://evil"}),
            &["base-url"],
        ),
        (json!({"nid-length": 40}), &["nid-length"]),
        (
            json!({"cluster-name": "a\nb"}),
            &["cluster-name", "newline"],
        ),
        (
            json!({"user-data": "packages: [vim]"}),
            &["user-data", "#cloud-config"],
        ),
        (
            json!({"user-data": "#cloud-config\npackages: [vim\n"}),
            &["user-data", "invalid YAML"],
        ),
        (json!({"public-keys": "ssh-ed25519 AAAA"}), &["public-keys"]),
    ] {
        app.refuse("POST", DEFAULTS, Some(body), 400, mentions)
            .await;
    }
    app.refuse(
        "POST",
        DEFAULTS,
        Some(json!({"user-data": format!("#cloud-config\na: \"{}\"\n", "x".repeat(70_000))})),
        413,
        &["user-data"],
    )
    .await;
    app.refuse_raw("POST", DEFAULTS, Some(b"nope".to_vec()), 400, &[])
        .await;
}

#[tokio::test]
async fn groups_lifecycle_and_refusals() {
    let app = App::start().await;
    let compute = json!({"name": "Compute", "description": "compute nodes",
        "meta-data": {"slurm": "yes"},
        "file": {"content": "I2Nsb3VkLWNvbmZpZwpwYWNrYWdlczogW3ZpbV0K", "encoding": "base64"}});
    let r = app
        .raw("POST", GROUPS, Some(compute.to_string().into_bytes()))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.headers[header::LOCATION],
        "/cloud-init/admin/groups/compute"
    );
    app.refuse(
        "POST",
        GROUPS,
        Some(compute.clone()),
        409,
        &["compute", "already exists"],
    )
    .await;
    let got = app.get_ok(&format!("{GROUPS}/compute")).await;
    assert_eq!(got["name"], "compute");
    assert_eq!(got["file"]["encoding"], "base64");
    assert_eq!(got["file"]["content"], compute["file"]["content"]);
    app.expect(
        "PUT",
        &format!("{GROUPS}/io"),
        Some(json!({"file": {"content": "#!/bin/sh\necho io\n"}})),
        201,
    )
    .await;
    let all = app.get_ok(GROUPS).await;
    assert_eq!(
        all.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["compute", "io"]
    );
    assert_eq!(all["io"]["name"], "io");
    // PUT replaces.
    app.expect(
        "PUT",
        &format!("{GROUPS}/compute"),
        Some(json!({"name": "compute", "description": "new"})),
        201,
    )
    .await;
    assert_eq!(
        app.get_ok(&format!("{GROUPS}/compute")).await,
        json!({"name": "compute", "description": "new"})
    );
    app.expect("DELETE", &format!("{GROUPS}/io"), None, 200)
        .await;
    app.refuse("DELETE", &format!("{GROUPS}/io"), None, 404, &["io"])
        .await;
    app.refuse("GET", &format!("{GROUPS}/io"), None, 404, &["io"])
        .await;

    for (body, mentions) in [
        (json!({"name": "bad name"}), &["name"][..]),
        (json!({"name": ""}), &["name"]),
        (
            json!({"name": "g", "description": "a\nb"}),
            &["description"],
        ),
        (
            json!({"name": "g", "file": {"content": "packages: [vim]\n"}}),
            &["file.content", "header"],
        ),
        (
            json!({"name": "g", "file": {"content": "#cloud-config\nusers: [a\n"}}),
            &["file.content", "invalid YAML"],
        ),
        (
            json!({"name": "g", "file": {"content": "#cloud-config\n- a\n"}}),
            &["file.content", "mapping"],
        ),
        (
            json!({"name": "g", "file": {"content": "!!!", "encoding": "base64"}}),
            &["base64"],
        ),
        (
            json!({"name": "g", "file": {"content": "x", "encoding": "rot13"}}),
            &["encoding"],
        ),
        (json!({"name": "g", "meta-data": "x"}), &["meta-data"]),
    ] {
        app.refuse("POST", GROUPS, Some(body), 400, mentions).await;
    }
    app.refuse(
        "PUT",
        &format!("{GROUPS}/compute"),
        Some(json!({"name": "other"})),
        400,
        &["other", "compute"],
    )
    .await;
    app.refuse(
        "POST",
        GROUPS,
        Some(json!({"name": "big", "file": {"content": format!("#cloud-config\na: \"{}\"\n", "x".repeat(140_000))}})),
        413,
        &["file.content"],
    )
    .await;
}

#[tokio::test]
async fn instance_info_is_per_node() {
    let app = App::start().await;
    let path = format!("/cloud-init/admin/instance-info/{}", node(0));
    app.refuse("GET", &path, None, 404, &[&node(0)]).await;
    app.expect(
        "PUT",
        &path,
        Some(json!({"local-hostname": "login1", "public-keys": ["ssh-ed25519 BBBB b@h"]})),
        201,
    )
    .await;
    assert_eq!(
        app.get_ok(&path).await,
        json!({"id": node(0), "local-hostname": "login1", "public-keys": ["ssh-ed25519 BBBB b@h"]})
    );
    app.refuse(
        "PUT",
        "/cloud-init/admin/instance-info/x1000c0s0b0",
        Some(json!({})),
        400,
        &["id", "NodeBMC"],
    )
    .await;
    app.refuse(
        "PUT",
        "/cloud-init/admin/instance-info/nope",
        Some(json!({})),
        400,
        &["id", "nope"],
    )
    .await;
    app.refuse(
        "PUT",
        &path,
        Some(json!({"id": node(1)})),
        400,
        &[&node(1), &node(0)],
    )
    .await;
    app.refuse(
        "PUT",
        &path,
        Some(json!({"cloud-init-base-url": "http://h/ci x"})),
        400,
        &["cloud-init-base-url"],
    )
    .await;
    app.refuse(
        "PUT",
        &path,
        Some(json!({"user-data": "#!/bin/sh\nreboot\n"})),
        400,
        &["user-data", "#cloud-config"],
    )
    .await;
}

/// The fixture's nodes, SMD group `compute` = nodes 0 and 1, and cloud-init data for it.
async fn cloud_fixture(app: &App) {
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "compute", "members": {"ids": [node(0), node(1)]}})),
        201,
    )
    .await;
    app.expect(
        "POST",
        DEFAULTS,
        Some(json!({"cluster-name": "demo", "short-name": "nid",
            "public-keys": ["ssh-ed25519 AAAA a@h"],
            "user-data": "#cloud-config\npackages: [curl]\n"})),
        201,
    )
    .await;
    app.expect(
        "POST",
        GROUPS,
        Some(json!({"name": "compute", "description": "compute nodes",
            "meta-data": {"slurm_role": "worker"},
            "file": {"content": "#cloud-config\npackages: [vim]\nruncmd: [echo compute]\n"}})),
        201,
    )
    .await;
}

#[tokio::test]
async fn nodes_get_their_own_cloud_init_by_source_address() {
    let app = fixture().await;
    cloud_fixture(&app).await;

    let r = from(&app, "GET", "/cloud-init/meta-data", &ip(0), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let meta: serde_json::Value = serde_yaml_ng::from_str(text(&r)).unwrap();
    assert_eq!(meta["instance-id"], format!("i-{}", node(0)));
    assert_eq!(meta["local-hostname"], "nid0001");
    assert_eq!(meta["cluster-name"], "demo");
    let v1 = &meta["instance_data"]["v1"];
    assert_eq!(v1["local_ipv4"], ip(0));
    assert_eq!(v1["public_keys"], json!(["ssh-ed25519 AAAA a@h"]));
    assert_eq!(v1["vendor_data"]["nid"], 1);
    assert_eq!(v1["vendor_data"]["role"], "Compute");
    assert_eq!(
        v1["vendor_data"]["groups"]["compute"],
        json!({"Description": "compute nodes", "slurm_role": "worker"})
    );

    let r = from(&app, "GET", "/cloud-init/user-data", &ip(0), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let user = text(&r);
    assert!(user.starts_with("#cloud-config\n"), "{user}");
    let user: serde_json::Value = serde_yaml_ng::from_str(user).unwrap();
    assert_eq!(user["packages"], json!(["curl", "vim"]));

    let r = from(&app, "GET", "/cloud-init/vendor-data", &ip(0), None).await;
    assert_eq!(
        text(&r),
        "#include\nhttp://127.0.0.1:27779/cloud-init/compute.yaml\n"
    );
    let r = from(&app, "GET", "/cloud-init/compute.yaml", &ip(0), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(text(&r).contains("echo compute"), "{}", text(&r));

    // Node 2 is in no group: no group data, and compute.yaml is not its to read.
    let r = from(&app, "GET", "/cloud-init/vendor-data", &ip(2), None).await;
    assert_eq!(text(&r), "#include\n");
    let r = from(&app, "GET", "/cloud-init/compute.yaml", &ip(2), None).await;
    assert_eq!(r.status, 404, "{}", r.body);

    // Instance info overrides the defaults for that node only.
    app.expect(
        "PUT",
        &format!("/cloud-init/admin/instance-info/{}", node(0)),
        Some(json!({"local-hostname": "login1", "user-data": "#cloud-config\npackages: [tmux]\n"})),
        201,
    )
    .await;
    let r = from(&app, "GET", "/cloud-init/meta-data", &ip(0), None).await;
    assert!(text(&r).contains("local-hostname: login1"), "{}", text(&r));
    let r = from(&app, "GET", "/cloud-init/user-data", &ip(0), None).await;
    let user: serde_json::Value = serde_yaml_ng::from_str(text(&r)).unwrap();
    assert_eq!(user["packages"], json!(["curl", "vim", "tmux"]));
    let r = from(&app, "GET", "/cloud-init/meta-data", &ip(1), None).await;
    assert!(text(&r).contains("local-hostname: nid0002"), "{}", text(&r));
}

#[tokio::test]
async fn unknown_addresses_and_forwarded_for() {
    let app = fixture().await;
    cloud_fixture(&app).await;
    // Nobody has 10.9.9.9: 422, as OpenCHAMI answers.
    let r = from(&app, "GET", "/cloud-init/meta-data", "10.9.9.9", None).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.content_type(), "application/problem+json");
    // X-Forwarded-For from an untrusted peer is ignored.
    let r = from(
        &app,
        "GET",
        "/cloud-init/meta-data",
        "10.9.9.9",
        Some(&ip(0)),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // IPv4-mapped IPv6 (a dual-stack listener) is the IPv4 address.
    let r = from(
        &app,
        "GET",
        "/cloud-init/vendor-data",
        &format!("[::ffff:{}]", ip(0)),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A replica that trusts a proxy believes it.
    let base = "http://10.1.0.1:27779";
    let mut boot = cairn_bootsvc::BootConfig::new(base, format!("{base}/cloud-init"));
    boot.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let proxied = App::with_boot(boot).await;
    proxied
        .expect(
            "POST",
            "/hsm/v2/State/Components",
            Some(json!({"Components": [{"ID": node(0), "State": "Ready", "NID": 1}]})),
            204,
        )
        .await;
    proxied
        .expect(
            "POST",
            "/hsm/v2/Inventory/EthernetInterfaces",
            Some(
                json!({"MACAddress": "02:00:00:00:00:00", "ComponentID": node(0),
                "IPAddresses": [{"IPAddress": ip(0)}]}),
            ),
            201,
        )
        .await;
    let r = from(
        &proxied,
        "GET",
        "/cloud-init/meta-data",
        "127.0.0.1",
        Some(&ip(0)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let meta: serde_json::Value = serde_yaml_ng::from_str(text(&r)).unwrap();
    assert_eq!(meta["instance-id"], format!("i-{}", node(0)));
    // The configured URL is the one nodes are told about.
    assert_eq!(
        meta["instance_data"]["v1"]["vendor_data"]["cloud_init_base_url"],
        "http://10.1.0.1:27779/cloud-init"
    );
    // The client is the rightmost untrusted address: entries left of it prove nothing.
    let r = from(
        &proxied,
        "GET",
        "/cloud-init/meta-data",
        "127.0.0.1",
        Some(&format!("{}, 10.9.9.9", ip(0))),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = from(
        &proxied,
        "GET",
        "/cloud-init/meta-data",
        "127.0.0.1",
        Some("bogus"),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("X-Forwarded-For")
    );
}

#[tokio::test]
async fn phone_home_is_recorded_for_the_calling_node() {
    let app = fixture().await;
    app.expect(
        "PUT",
        "/boot/v1/bootparameters",
        Some(json!({"hosts": [node(0)], "kernel": "http://10.1.0.1/k"})),
        200,
    )
    .await;
    let post = |peer: &str, body: &str| {
        let peer: SocketAddr = format!("{peer}:40002").parse().unwrap();
        let mut req = Request::builder()
            .method("POST")
            .uri("/cloud-init/phone-home/i-whatever")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    };
    let form = "pub_key_ed25519=ssh-ed25519+CCCC+root%40n0&instance_id=i-x&hostname=nid0001&fqdn=nid0001.demo";
    let r = app.send(post(&ip(0), form)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let reports = app.get_ok("/cloud-init/admin/phone-home").await;
    assert_eq!(reports.as_array().unwrap().len(), 1);
    assert_eq!(reports[0]["id"], node(0));
    assert_eq!(
        reports[0]["report"]["pub_key_ed25519"],
        "ssh-ed25519 CCCC root@n0"
    );
    assert_eq!(reports[0]["report"]["hostname"], "nid0001");
    // BSS shows it in the node's own boot parameters.
    let bp = app
        .get_ok(&format!("/boot/v1/bootparameters?name={}", node(0)))
        .await;
    assert_eq!(bp[0]["cloud-init"]["phone-home"]["fqdn"], "nid0001.demo");

    // From an unknown address, or with a bad field: refused, nothing recorded.
    let before = app.state();
    let r = app.send(post("10.9.9.9", form)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = app.send(post(&ip(1), "hostname=a%0Ab")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("hostname"),
        "{}",
        r.body
    );
    assert_eq!(app.state(), before);
}
