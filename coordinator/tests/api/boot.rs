//! BSS on the coordinator: `/boot/v1/bootparameters` (POST/PUT/PATCH/DELETE/GET with BSS
//! semantics), the bootscript served from them (node → role → `Default`, unknown nodes,
//! `?json=1`), `/boot/v1/hosts` and `/boot/v1/service/*`, and every refusal.

use serde_json::{Value, json};

use crate::support::{App, node};

/// The MAC of test node `i`.
pub fn mac(i: u32) -> String {
    format!("02:00:00:00:00:{i:02x}")
}

/// The address of test node `i`.
pub fn ip(i: u32) -> String {
    format!("10.0.0.{}", i + 1)
}

/// Nodes 0..4 (NIDs 1..4): 0 and 1 Compute, 2 Service, 3 Compute but disabled; each with
/// one interface (`mac(i)`, `ip(i)`).
pub async fn fixture() -> App {
    let app = App::start().await;
    app.components(json!([
        {"ID": node(0), "State": "Ready", "NID": 1, "Role": "Compute"},
        {"ID": node(1), "State": "Ready", "NID": 2, "Role": "Compute"},
        {"ID": node(2), "State": "Ready", "NID": 3, "Role": "Service"},
        {"ID": node(3), "State": "Ready", "NID": 4, "Role": "Compute", "Enabled": false},
    ]))
    .await;
    for i in 0..4 {
        app.expect(
            "POST",
            "/hsm/v2/Inventory/EthernetInterfaces",
            Some(json!({"MACAddress": mac(i), "ComponentID": node(i),
                "IPAddresses": [{"IPAddress": ip(i), "Network": "nmn"}]})),
            201,
        )
        .await;
    }
    app
}

const PARAMS: &str = "/boot/v1/bootparameters";

fn entry(hosts: Value, kernel: &str) -> Value {
    json!({"hosts": hosts, "kernel": format!("http://10.1.0.1/{kernel}"),
        "initrd": format!("http://10.1.0.1/{kernel}.img"), "params": "console=ttyS0 quiet"})
}

/// POSTs the [`entry`] booting `kernel` for one host (a node, a role or `Default`).
async fn post_entry(app: &App, host: &str, kernel: &str) {
    app.expect("POST", PARAMS, Some(entry(json!([host]), kernel)), 201)
        .await;
}

/// The first host of each entry of a GET answer, in order.
fn first_hosts(entries: &Value) -> Vec<&str> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["hosts"][0].as_str().unwrap())
        .collect()
}

/// The bootscript (text) for a query string.
async fn script(app: &App, query: &str) -> String {
    let r = app
        .raw("GET", &format!("/boot/v1/bootscript?{query}"), None)
        .await;
    assert_eq!(r.status, 200, "bootscript?{query}: {}", r.body);
    assert!(
        r.content_type().starts_with("text/plain"),
        "{}",
        r.content_type()
    );
    r.body.as_str().expect("a text body").to_owned()
}

#[tokio::test]
async fn boot_parameters_follow_bss_semantics() {
    let app = fixture().await;
    post_entry(&app, "Default", "default").await;
    post_entry(&app, "compute", "compute").await;
    // MACs and NIDs select the nodes that have them; the entry is stored under the node.
    app.expect(
        "PUT",
        PARAMS,
        Some(json!({"macs": [mac(0)], "nids": [2], "kernel": "http://10.1.0.1/own"})),
        200,
    )
    .await;
    let all = app.get_ok(PARAMS).await;
    let hosts = first_hosts(&all);
    assert_eq!(
        hosts,
        [node(0).as_str(), node(1).as_str(), "Compute", "Default"]
    );
    assert_eq!(
        app.get_ok(&format!("{PARAMS}?name=compute")).await,
        json!([{"hosts": ["Compute"], "kernel": "http://10.1.0.1/compute",
            "initrd": "http://10.1.0.1/compute.img", "params": "console=ttyS0 quiet"}])
    );
    // Filters: repeatable, comma-separated, each entry once, in request order.
    let got = app
        .get_ok(&format!(
            "{PARAMS}?mac={}&nid=2,1&name=Default",
            mac(0).to_uppercase()
        ))
        .await;
    let hosts = first_hosts(&got);
    assert_eq!(hosts, ["Default", node(0).as_str(), node(1).as_str()]);

    // PATCH changes only what it names and merges cloud-init.
    app.expect(
        "PATCH",
        PARAMS,
        Some(json!({"hosts": [node(0)], "params": "quiet",
            "cloud-init": {"meta-data": {"a": 1, "b": {"c": 2}}}})),
        200,
    )
    .await;
    app.expect(
        "PATCH",
        PARAMS,
        Some(json!({"hosts": [node(0)], "cloud-init": {"meta-data": {"a": null, "b": {"d": 3}}}})),
        200,
    )
    .await;
    assert_eq!(
        app.get_ok(&format!("{PARAMS}?name={}", node(0))).await,
        json!([{"hosts": [node(0)], "kernel": "http://10.1.0.1/own", "params": "quiet",
            "cloud-init": {"meta-data": {"b": {"c": 2, "d": 3}}}}])
    );
    // PUT replaces the whole entry.
    app.expect(
        "PUT",
        PARAMS,
        Some(json!({"hosts": [node(0)], "params": "x"})),
        200,
    )
    .await;
    assert_eq!(
        app.get_ok(&format!("{PARAMS}?name={}", node(0))).await,
        json!([{"hosts": [node(0)], "params": "x"}])
    );
    // DELETE by NID, then the entry is gone.
    app.expect("DELETE", PARAMS, Some(json!({"nids": [1, 2]})), 200)
        .await;
    app.refuse(
        "GET",
        &format!("{PARAMS}?name={}&nid=2", node(0)),
        None,
        404,
        &["no boot parameters for", "nid=2"],
    )
    .await;
    assert_eq!(app.get_ok(PARAMS).await.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bootscript_resolves_node_then_role_then_default() {
    let app = fixture().await;
    post_entry(&app, "Default", "default").await;
    post_entry(&app, "Compute", "compute").await;
    post_entry(&app, &node(0), "own").await;

    // Node 0 by MAC: its own entry, with xname, nid, BOOTIF and the cloud-init source.
    let s = script(&app, &format!("mac={}", mac(0))).await;
    let mut lines = s.lines();
    assert_eq!(lines.next(), Some("#!ipxe"));
    assert_eq!(
        lines.next(),
        Some(
            "kernel --name kernel http://10.1.0.1/own initrd=initrd console=ttyS0 quiet \
             xname=x1000c0s0b0n0 nid=1 BOOTIF=01-02-00-00-00-00-00 \
             ds=nocloud-net;s=http://127.0.0.1:27779/cloud-init/ || goto boot_retry"
        )
    );
    assert_eq!(
        lines.next(),
        Some("initrd --name initrd http://10.1.0.1/own.img || goto boot_retry")
    );
    assert!(
        s.contains("chain http://127.0.0.1:27779/boot/v1/bootscript?mac=02:00:00:00:00:00&retry=1"),
        "{s}"
    );
    // Node 1 by name: its role's entry; node 2 (Service, no entry) by NID: Default.
    assert!(
        script(&app, &format!("name={}", node(1)))
            .await
            .contains("/compute ")
    );
    let s = script(&app, "nid=3").await;
    assert!(
        s.contains("http://10.1.0.1/default ") && s.contains("nid=3"),
        "{s}"
    );
    // The retry chain counts.
    assert!(
        script(&app, &format!("mac={}&retry=2", mac(1)))
            .await
            .contains("&retry=3")
    );

    // ?json=1: BSS's BootData.
    let j = app.get_ok("/boot/v1/bootscript?nid=1&json=1").await;
    assert_eq!(j["kernel"]["path"], "http://10.1.0.1/own");
    assert_eq!(j["initrd"]["path"], "http://10.1.0.1/own.img");
    let params = j["params"].as_str().unwrap();
    assert!(params.contains("xname=x1000c0s0b0n0 nid=1"), "{params}");

    // Deleting the node's entry falls back to its role.
    app.expect("DELETE", PARAMS, Some(json!({"hosts": [node(0)]})), 200)
        .await;
    assert!(
        script(&app, &format!("mac={}", mac(0)))
            .await
            .contains("/compute ")
    );
}

#[tokio::test]
async fn unknown_and_disabled_nodes() {
    let app = fixture().await;
    post_entry(&app, "Default", "default").await;
    // A MAC nobody has, and the disabled node: asked for their architecture first.
    for q in [
        "mac=02:ff:00:00:00:01".to_owned(),
        format!("name={}", node(3)),
    ] {
        let s = script(&app, &q).await;
        assert!(s.starts_with("#!ipxe\n"), "{s}");
        assert!(s.contains("arch=${buildarch}"), "{q}: {s}");
    }
    // With the architecture but no Unknown-<arch> entry: BSS's 404.
    app.refuse(
        "GET",
        "/boot/v1/bootscript?mac=02:ff:00:00:00:01&arch=x86_64",
        None,
        404,
        &["no configuration available for unknown hosts"],
    )
    .await;
    post_entry(&app, "Unknown-x86_64", "discovery").await;
    let s = script(&app, "mac=02:ff:00:00:00:01&arch=x86_64").await;
    assert!(s.contains("http://10.1.0.1/discovery "), "{s}");
    assert!(!s.contains("xname="), "{s}");
    // A node in the inventory but not by that NID is unknown too.
    let s = script(&app, "nid=99").await;
    assert!(s.contains("arch=${buildarch}"), "{s}");
}

#[tokio::test]
async fn hosts_and_service_status_have_bss_shapes() {
    let app = fixture().await;
    let hosts = app.get_ok("/boot/v1/hosts").await;
    assert_eq!(hosts.as_array().unwrap().len(), 4);
    let h = &hosts[0];
    assert_eq!(
        (
            &h["ID"],
            &h["Type"],
            &h["NID"],
            &h["Role"],
            &h["MAC"],
            &h["EndpointEnabled"]
        ),
        (
            &json!(node(0)),
            &json!("Node"),
            &json!(1),
            &json!("Compute"),
            &json!([mac(0)]),
            &json!(true)
        )
    );
    assert_eq!(hosts[3]["EndpointEnabled"], false);
    let one = app
        .get_ok(&format!("/boot/v1/hosts?mac={}&nid=3", mac(1)))
        .await;
    assert_eq!(one[0]["ID"], node(1));
    assert_eq!(one[1]["ID"], node(2));
    app.refuse(
        "GET",
        "/boot/v1/hosts?name=x9c0s0b0n0",
        None,
        404,
        &["x9c0s0b0n0"],
    )
    .await;
    app.refuse("GET", "/boot/v1/hosts?nid=two", None, 400, &["nid", "two"])
        .await;
    app.expect("POST", "/boot/v1/hosts", None, 204).await;

    assert_eq!(
        app.get_ok("/boot/v1/service/status").await,
        json!({"bss-status": "running"})
    );
    assert_eq!(
        app.get_ok("/boot/v1/service/hsm").await,
        json!({"bss-status-hsm": "connected"})
    );
    assert!(app.get_ok("/boot/v1/service/version").await["bss-version"].is_string());
    assert_eq!(
        app.get_ok("/boot/v1/service/storage/status").await,
        json!({"bss-storage-backend": {"name": "raft", "status": "connected"}})
    );
    let all = app.get_ok("/boot/v1/service/status/all").await;
    assert_eq!(all["bss-status"], "running");
    assert_eq!(all["bss-storage-backend"]["status"], "connected");
}

#[tokio::test]
async fn bad_boot_parameters_are_refused_naming_the_field() {
    let app = fixture().await;
    post_entry(&app, "Default", "default").await;
    let ok = |patch: Value| {
        let mut e = entry(json!([node(1)]), "k");
        for (k, v) in patch.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    for (body, mentions) in [
        (
            ok(json!({"params": "quiet\nchain http://evil/x"})),
            &["params", "newline"][..],
        ),
        (
            ok(json!({"params": "quiet || chain http://evil/x"})),
            &["params", "||"],
        ),
        (ok(json!({"params": "a ; shell"})), &["params", ";"]),
        (ok(json!({"params": "#!ipxe"})), &["params", "comment"]),
        (ok(json!({"params": "x=${net0/ip}"})), &["params", "${"]),
        (
            ok(json!({"kernel": "http://h/k\nboot"})),
            &["kernel", "newline"],
        ),
        (ok(json!({"kernel": "#!ipxe"})), &["kernel"]),
        (ok(json!({"kernel": "http://h/a b"})), &["kernel", "space"]),
        (ok(json!({"initrd": "s3://bucket/i"})), &["initrd", "s3"]),
        (ok(json!({"initrd": "http://h/${x}"})), &["initrd", "${"]),
        (
            ok(json!({"hosts": ["x1000c0s1b0"]})),
            &["hosts[0]", "NodeBMC"],
        ),
        (
            ok(json!({"hosts": ["frontend"]})),
            &["hosts[0]", "frontend"],
        ),
        (ok(json!({"hosts": ["x1000q0"]})), &["hosts[0]", "x1000q0"]),
        (
            ok(json!({"hosts": ["Unknown-x86 64"]})),
            &["hosts[0]", "architecture"],
        ),
        (ok(json!({"macs": ["02:00:00"]})), &["macs[0]", "02:00:00"]),
        (ok(json!({"nids": [-1]})), &["nids[0]", "negative"]),
        (ok(json!({"hosts": []})), &["hosts, macs, nids"]),
        (
            ok(json!({"hosts": [], "nids": [99]})),
            &["nids[0]", "no node has NID 99"],
        ),
        (
            ok(json!({"hosts": ["Default"]})),
            &["Default already has boot parameters"],
        ),
    ] {
        app.refuse("POST", PARAMS, Some(body), 400, mentions).await;
    }
    // Sizes: 413.
    app.refuse(
        "PUT",
        PARAMS,
        Some(ok(json!({"params": "a".repeat(5000)}))),
        413,
        &["params", "at most 4096"],
    )
    .await;
    app.refuse_raw(
        "PUT",
        PARAMS,
        Some(vec![b' '; (16 << 20) + 1]),
        413,
        &["larger than"],
    )
    .await;
    // Not JSON, or no JSON content type.
    app.refuse_raw("PUT", PARAMS, Some(b"{\"hosts\": [".to_vec()), 400, &[])
        .await;
    let req = axum::http::Request::builder()
        .method("PUT")
        .uri(PARAMS)
        .body(axum::body::Body::from(
            entry(json!(["Default"]), "k").to_string(),
        ))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Selectors that name nothing: 404 for PUT, PATCH and DELETE.
    app.refuse(
        "PUT",
        PARAMS,
        Some(ok(json!({"hosts": [], "macs": ["02:ff:ff:ff:ff:ff"]}))),
        404,
        &["macs[0]", "02:ff:ff:ff:ff:ff"],
    )
    .await;
    app.refuse(
        "PATCH",
        PARAMS,
        Some(json!({"hosts": ["Default", node(2)], "params": "x"})),
        404,
        &[&node(2), "has no boot parameters"],
    )
    .await;
    app.refuse(
        "DELETE",
        PARAMS,
        Some(json!({"hosts": ["Default", "Compute"]})),
        404,
        &["Compute"],
    )
    .await;
    app.refuse(
        "DELETE",
        PARAMS,
        Some(json!({})),
        400,
        &["hosts, macs, nids"],
    )
    .await;
    // Bad filters.
    app.refuse("GET", &format!("{PARAMS}?name=bad!"), None, 400, &["name"])
        .await;
    app.refuse(
        "GET",
        &format!("{PARAMS}?mac=zz"),
        None,
        400,
        &["mac", "zz"],
    )
    .await;
    app.refuse("GET", &format!("{PARAMS}?nid=x"), None, 400, &["nid"])
        .await;
    app.refuse(
        "GET",
        &format!("{PARAMS}?host=Default"),
        None,
        400,
        &["host"],
    )
    .await;
    // Bootscript queries.
    app.refuse(
        "GET",
        "/boot/v1/bootscript",
        None,
        400,
        &["Need a mac=, name=, or nid="],
    )
    .await;
    app.refuse("GET", "/boot/v1/bootscript?mac=nope", None, 400, &["mac"])
        .await;
    app.refuse(
        "GET",
        "/boot/v1/bootscript?nid=1&arch=x86%0a64",
        None,
        400,
        &["arch"],
    )
    .await;
}
