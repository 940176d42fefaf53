//! `/hsm/v2/Inventory/RedfishEndpoints` in its three POST forms (single, list, Magellan),
//! PUT, PATCH, DELETE with its cascade, and `/hsm/v2/Inventory/ComponentEndpoints`.

use serde_json::{Value, json};

use crate::support::App;

const BASE: &str = "/hsm/v2/Inventory/RedfishEndpoints";
const CEPS: &str = "/hsm/v2/Inventory/ComponentEndpoints";

/// Magellan's `SchemaVersion: 1` payload (BEHAVIOUR.md §2.3) for BMC `x1000c0s0b0` with two
/// systems.
fn magellan() -> Value {
    json!({"ID": "x1000c0s0b0", "Type": "", "Name": "", "FQDN": "172.16.0.101", "User": "root",
        "Password": "s3cret", "MACRequired": true, "RediscoverOnUpdate": false,
        "MACAddr": "aa:bb:cc:00:00:01", "SchemaVersion": 1,
        "Systems": [
            {"uri": "https://172.16.0.101/redfish/v1/Systems/1", "uuid": "uuid-1",
             "manufacturer": "Acme", "system_type": "Physical", "name": "Node 1", "model": "M",
             "serial": "S1", "bios_version": "1.0",
             "ethernet_interfaces": [
                {"uri": "https://172.16.0.101/redfish/v1/Systems/1/EthernetInterfaces/1",
                 "mac": "AA:BB:CC:00:01:01", "ip": "172.16.1.1", "name": "eth0",
                 "description": "onboard", "enabled": true},
                {"uri": "https://172.16.0.101/redfish/v1/Systems/1/EthernetInterfaces/2",
                 "mac": "aa:bb:cc:00:01:02", "ip": "", "name": "eth1", "enabled": false}],
             "network_interfaces": [{"uri": "…", "name": "nic", "adapter": {"manufacturer": "Mellanox", "model": "CX6", "serial": "X"}}],
             "power": {"state": "On", "power_control_ids": ["/redfish/v1/Chassis/1/Power#/PowerControl/0"]},
             "processor_count": 2, "processor_type": "EPYC", "memory_total": 256,
             "trusted_modules": ["TPM2_0 7.2"], "chassis_sku": "sku", "chassis_serial": "cs",
             "actions": ["On", "ForceOff", "GracefulShutdown"],
             "links": {"chassis": ["/redfish/v1/Chassis/1"]}},
            {"uri": "https://172.16.0.101/redfish/v1/Systems/2", "uuid": "uuid-2",
             "ethernet_interfaces": [{"mac": "aa:bb:cc:00:02:01"}],
             "power": {"state": "Off"}, "actions": null}],
        "Managers": [{"uri": "https://172.16.0.101/redfish/v1/Managers/1", "uuid": "mgr-uuid",
            "name": "BMC", "type": "BMC", "firmware_version": "2.0",
            "ethernet_interfaces": [{"mac": "aa:bb:cc:00:00:01", "ip": "172.16.0.101", "name": "bmc0"}],
            "actions": ["ForceRestart"], "command_shell": ["SSH"]}]})
}

fn plain(id: &str) -> Value {
    json!({"ID": id, "FQDN": format!("{id}.example"), "User": "root", "Password": "hunter2",
        "MACAddr": "AA-BB-CC-DD-EE-01", "IPAddress": "10.1.1.1"})
}

/// No GET may ever show a password.
async fn no_passwords(app: &App) {
    let mut bodies = vec![app.get_ok(BASE).await];
    for ep in bodies[0]["RedfishEndpoints"].as_array().unwrap().clone() {
        let id = ep["ID"].as_str().unwrap();
        bodies.push(app.get_ok(&format!("{BASE}/{id}")).await);
    }
    bodies.push(app.get_ok(CEPS).await);
    for b in bodies {
        let text = b.to_string();
        assert!(!text.contains("Password"), "{text}");
        assert!(
            !text.contains("s3cret") && !text.contains("hunter2"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn single_and_list_posts() {
    let app = App::start().await;
    let r = app
        .expect("POST", BASE, Some(plain("x1000c0s1b0")), 201)
        .await;
    assert_eq!(r, json!([{"URI": format!("{BASE}/x1000c0s1b0")}]));
    let r = app
        .expect(
            "POST",
            BASE,
            Some(json!({"RedfishEndpoints": [plain("x1000c0s2b0"), {"ID": "X1000C0S3B0", "Hostname": "bmc3"}]})),
            201,
        )
        .await;
    assert_eq!(
        r,
        json!([{"URI": format!("{BASE}/x1000c0s2b0")}, {"URI": format!("{BASE}/x1000c0s3b0")}])
    );
    let one = app.get_ok(&format!("{BASE}/x1000c0s1b0")).await;
    assert_eq!(
        one,
        json!({"ID": "x1000c0s1b0", "Type": "NodeBMC", "FQDN": "x1000c0s1b0.example", "Enabled": true,
            "User": "root", "MACAddr": "aa:bb:cc:dd:ee:01", "IPAddress": "10.1.1.1"})
    );
    // FQDN falls back to the hostname.
    assert_eq!(
        app.get_ok(&format!("{BASE}/x1000c0s3b0/")).await["FQDN"],
        "bmc3"
    );
    // The password is stored, never shown.
    let stored = app.state();
    assert_eq!(
        stored["redfish_endpoints"]["x1000c0s1b0"]["Password"],
        "hunter2"
    );
    no_passwords(&app).await;

    let all = app.get_ok(BASE).await;
    let list = |b: &Value| -> Vec<String> {
        b["RedfishEndpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["ID"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(list(&all), ["x1000c0s1b0", "x1000c0s2b0", "x1000c0s3b0"]);
    for (q, want) in [
        ("id=x1000c0s2b0", vec!["x1000c0s2b0"]),
        ("fqdn=bmc3", vec!["x1000c0s3b0"]),
        (
            "type=NodeBMC",
            vec!["x1000c0s1b0", "x1000c0s2b0", "x1000c0s3b0"],
        ),
        ("type=ChassisBMC", vec![]),
        ("macaddr=aabbccddee01", vec!["x1000c0s1b0", "x1000c0s2b0"]),
        ("ipaddress=10.1.1.1", vec!["x1000c0s1b0", "x1000c0s2b0"]),
    ] {
        assert_eq!(
            list(&app.get_ok(&format!("{BASE}?{q}")).await),
            want,
            "?{q}"
        );
    }
    app.refuse("GET", &format!("{BASE}?id=bmc"), None, 400, &["bmc"])
        .await;
    app.refuse("GET", &format!("{BASE}?macaddr=xx"), None, 400, &["xx"])
        .await;
}

#[tokio::test]
async fn post_refusals() {
    let app = App::start().await;
    app.expect("POST", BASE, Some(plain("x1000c0s1b0")), 201)
        .await;
    // Duplicates: single, or anywhere in a list (then nothing of the list is created).
    app.refuse(
        "POST",
        BASE,
        Some(plain("x1000c0s1b0")),
        409,
        &["x1000c0s1b0"],
    )
    .await;
    app.refuse(
        "POST",
        BASE,
        Some(json!({"RedfishEndpoints": [plain("x1000c0s5b0"), plain("x1000c0s1b0")]})),
        409,
        &["x1000c0s1b0"],
    )
    .await;
    let mut mag = magellan();
    mag["ID"] = json!("x1000c0s1b0");
    app.refuse("POST", BASE, Some(mag), 409, &["x1000c0s1b0"])
        .await;

    let cases = [
        (json!({"ID": "x1000c0s5q0", "FQDN": "a"}), vec!["ID", "q0"]),
        (json!({"FQDN": "a"}), vec!["ID"]),
        (
            json!({"ID": "x1000c0s5b0", "FQDN": "a", "Type": "Node"}),
            vec!["Type", "Node"],
        ),
        (
            json!({"ID": "x1000c0s5b0", "FQDN": "a", "Type": "Gadget"}),
            vec!["Type", "Gadget"],
        ),
        (json!({"ID": "x1000c0s5b0"}), vec!["x1000c0s5b0", "FQDN"]),
        (
            json!({"ID": "x1000c0s5b0", "FQDN": "a", "MACAddr": "aa:bb"}),
            vec!["MACAddr", "aa:bb"],
        ),
        (
            json!({"ID": "x1000c0s5b0", "FQDN": "a", "IPAddress": "300.1.1.1"}),
            vec!["IPAddress", "300.1.1.1"],
        ),
        (
            json!({"ID": "x1000c0s5b0", "FQDN": "a", "Enabled": "yes"}),
            vec!["Enabled"],
        ),
        (
            json!({"RedfishEndpoints": []}),
            vec!["RedfishEndpoints", "empty"],
        ),
        (
            json!({"RedfishEndpoints": [{"ID": "x1000c0s5b0", "FQDN": "a"}, {"ID": "x1000c0s6b0"}]}),
            vec!["RedfishEndpoints[1]"],
        ),
        (
            json!({"RedfishEndpoints": [{"ID": "x1000c0s5b0", "FQDN": "a"}, {"ID": "bad", "FQDN": "a"}]}),
            vec!["RedfishEndpoints[1].ID"],
        ),
        (json!(["x1000c0s5b0"]), vec!["JSON object"]),
    ];
    for (body, mentions) in cases {
        app.refuse("POST", BASE, Some(body), 400, &mentions).await;
    }
    app.refuse_raw("POST", BASE, Some(b"{\"ID\":".to_vec()), 400, &[])
        .await;
    // Magellan payloads with a bad part anywhere create nothing at all.
    let mut bad_mac = magellan();
    bad_mac["Systems"][1]["ethernet_interfaces"][0]["mac"] = json!("not-a-mac");
    app.refuse("POST", BASE, Some(bad_mac), 400, &["Systems[1]", "mac"])
        .await;
    let mut bad_ip = magellan();
    bad_ip["Systems"][0]["ethernet_interfaces"][0]["ip"] = json!("1.2.3.4.5");
    app.refuse(
        "POST",
        BASE,
        Some(bad_ip),
        400,
        &["Systems[0]", "1.2.3.4.5"],
    )
    .await;
    let mut bad_schema = magellan();
    bad_schema["SchemaVersion"] = json!("one");
    app.refuse("POST", BASE, Some(bad_schema), 400, &["SchemaVersion"])
        .await;
    let mut node_id = magellan();
    node_id["ID"] = json!("x1000c0s0b0n0");
    app.refuse("POST", BASE, Some(node_id), 400, &[]).await;
    let mut bad_systems = magellan();
    bad_systems["Systems"] = json!({"uri": "x"});
    app.refuse("POST", BASE, Some(bad_systems), 400, &["Systems"])
        .await;
}

#[tokio::test]
async fn magellan_registers_everything_at_once() {
    let app = App::start().await;
    let rev = app.revision();
    let r = app.expect("POST", BASE, Some(magellan()), 201).await;
    assert_eq!(r, json!([{"URI": format!("{BASE}/x1000c0s0b0")}]));
    // One replicated command for the whole registration.
    assert_eq!(app.revision(), rev + 1);

    let ep = app.get_ok(&format!("{BASE}/x1000c0s0b0")).await;
    assert_eq!(ep["Type"], "NodeBMC");
    assert_eq!(ep["FQDN"], "172.16.0.101");
    assert_eq!(ep["MACAddr"], "aa:bb:cc:00:00:01");
    assert_eq!(ep["MacRequired"], true);
    assert_eq!(ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK");

    // Components: the BMC and one node per system.
    let comps = app.get_ok("/hsm/v2/State/Components").await;
    let comps: Vec<(String, String, String)> = comps["Components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["ID"].as_str().unwrap().to_owned(),
                c["Type"].as_str().unwrap().to_owned(),
                c["State"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> = [
        ("x1000c0s0b0", "NodeBMC", "Ready"),
        ("x1000c0s0b0n0", "Node", "On"),
        ("x1000c0s0b0n1", "Node", "Off"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(comps, want);

    // Component endpoints: both systems and the manager, tied to the BMC.
    let ceps = app.get_ok(CEPS).await;
    let ceps = ceps["ComponentEndpoints"].as_array().unwrap();
    let by_id = |id: &str| ceps.iter().find(|c| c["ID"] == id).unwrap().clone();
    assert_eq!(ceps.len(), 3, "{ceps:?}");
    let n0 = by_id("x1000c0s0b0n0");
    assert_eq!(n0["RedfishEndpointID"], "x1000c0s0b0");
    assert_eq!(
        n0["ComponentEndpointType"],
        "ComponentEndpointComputerSystem"
    );
    assert_eq!(n0["RedfishType"], "ComputerSystem");
    assert_eq!(n0["OdataID"], "/redfish/v1/Systems/1");
    assert_eq!(n0["UUID"], "uuid-1");
    assert_eq!(n0["MACAddr"], "aa:bb:cc:00:01:01");
    assert_eq!(
        n0["RedfishSystemInfo"]["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"],
        json!(["On", "ForceOff", "GracefulShutdown"])
    );
    assert_eq!(
        n0["RedfishSystemInfo"]["Actions"]["#ComputerSystem.Reset"]["target"],
        "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"
    );
    let mgr = by_id("x1000c0s0b0");
    assert_eq!(mgr["ComponentEndpointType"], "ComponentEndpointManager");
    assert_eq!(mgr["UUID"], "mgr-uuid");
    assert_eq!(by_id("x1000c0s0b0n1")["OdataID"], "/redfish/v1/Systems/2");
    assert_eq!(
        app.get_ok(&format!("{CEPS}/x1000c0s0b0n1")).await,
        by_id("x1000c0s0b0n1")
    );
    for (q, n) in [
        ("redfish_ep=x1000c0s0b0", 3),
        ("type=Node", 2),
        ("type=NodeBMC", 1),
        ("redfish_type=Manager", 1),
        ("id=x1000c0s0b0n0&id=x1000c0s0b0n1", 2),
        ("redfish_ep=x1000c0s9b0", 0),
    ] {
        let got = app.get_ok(&format!("{CEPS}?{q}")).await;
        assert_eq!(
            got["ComponentEndpoints"].as_array().unwrap().len(),
            n,
            "?{q}"
        );
    }
    app.refuse("GET", &format!("{CEPS}?id=nope"), None, 400, &["nope"])
        .await;

    // Ethernet interfaces: the nodes' and the BMC's, owned accordingly.
    let ifaces = app.get_ok("/hsm/v2/Inventory/EthernetInterfaces").await;
    let owners: Vec<(String, String)> = ifaces
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["ID"].as_str().unwrap().to_owned(),
                i["ComponentID"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("aabbcc000001", "x1000c0s0b0"),
        ("aabbcc000101", "x1000c0s0b0n0"),
        ("aabbcc000102", "x1000c0s0b0n0"),
        ("aabbcc000201", "x1000c0s0b0n1"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(owners, want);
    let eth0 = app
        .get_ok("/hsm/v2/Inventory/EthernetInterfaces/aabbcc000101")
        .await;
    assert_eq!(eth0["IPAddresses"], json!([{"IPAddress": "172.16.1.1"}]));
    assert_eq!(eth0["Description"], "onboard");
    assert_eq!(eth0["Type"], "Node");

    no_passwords(&app).await;
    assert_eq!(
        app.state()["redfish_endpoints"]["x1000c0s0b0"]["Password"],
        "s3cret"
    );

    // Magellan `send --force-update`: PUT the same payload; operators' changes survive.
    app.expect(
        "PATCH",
        "/hsm/v2/State/Components/x1000c0s0b0n0/NID",
        Some(json!({"NID": 17})),
        204,
    )
    .await;
    let mut again = magellan();
    again["Systems"][0]["power"]["state"] = json!("Off");
    let r = app
        .expect("PUT", &format!("{BASE}/x1000c0s0b0"), Some(again), 200)
        .await;
    assert!(r.get("Password").is_none(), "{r}");
    let n0 = app.get_ok("/hsm/v2/State/Components/x1000c0s0b0n0").await;
    assert_eq!((&n0["State"], &n0["NID"]), (&json!("Off"), &json!(17)));
}

#[tokio::test]
async fn put_patch_delete() {
    let app = App::start().await;
    app.expect("POST", BASE, Some(magellan()), 201).await;
    let url = format!("{BASE}/x1000c0s0b0");

    // PATCH merges; the password is kept unless given, and never returned.
    let r = app
        .expect(
            "PATCH",
            &url,
            Some(json!({"Enabled": false, "User": "admin"})),
            200,
        )
        .await;
    assert_eq!(
        (&r["Enabled"], &r["User"], &r["FQDN"]),
        (&json!(false), &json!("admin"), &json!("172.16.0.101"))
    );
    assert!(r.get("Password").is_none(), "{r}");
    assert_eq!(app.get_ok(&url).await, r);
    assert_eq!(
        app.state()["redfish_endpoints"]["x1000c0s0b0"]["Password"],
        "s3cret"
    );
    app.expect("PATCH", &url, Some(json!({"Password": "n3w"})), 200)
        .await;
    assert_eq!(
        app.state()["redfish_endpoints"]["x1000c0s0b0"]["Password"],
        "n3w"
    );
    no_passwords(&app).await;

    for (body, mentions) in [
        (json!({"ID": "x1000c0s1b0"}), vec!["x1000c0s1b0"]),
        (json!({"Enabled": "no"}), vec!["Enabled"]),
        (json!({"MACAddr": "nope"}), vec!["MACAddr"]),
        (json!({"Type": "Node"}), vec!["Type"]),
        (json!({"FQDN": "", "Hostname": ""}), vec!["FQDN"]),
        (json!([1]), vec!["object"]),
    ] {
        app.refuse("PATCH", &url, Some(body), 400, &mentions).await;
    }
    app.refuse(
        "PATCH",
        &format!("{BASE}/x1000c0s9b0"),
        Some(json!({"Enabled": true})),
        404,
        &["x1000c0s9b0"],
    )
    .await;
    app.refuse(
        "PATCH",
        &format!("{BASE}/x1000c0s9q"),
        Some(json!({"Enabled": true})),
        400,
        &["x1000c0s9q"],
    )
    .await;

    // PUT replaces (plain form); creates when absent.
    let r = app
        .expect(
            "PUT",
            &format!("{BASE}/x1000c0s4b0"),
            Some(plain("x1000c0s4b0")),
            200,
        )
        .await;
    assert_eq!(r["ID"], "x1000c0s4b0");
    assert!(r.get("Password").is_none(), "{r}");
    assert_eq!(
        app.state()["redfish_endpoints"]["x1000c0s4b0"]["Password"],
        "hunter2"
    );
    app.expect(
        "PUT",
        &format!("{BASE}/x1000c0s4b0"),
        Some(json!({"ID": "x1000c0s4b0", "Hostname": "h4"})),
        200,
    )
    .await;
    let four = app.get_ok(&format!("{BASE}/x1000c0s4b0")).await;
    assert_eq!((&four["FQDN"], four.get("User")), (&json!("h4"), None));
    for (path, body, mentions) in [
        (
            "x1000c0s4b0",
            plain("x1000c0s5b0"),
            vec!["x1000c0s5b0", "x1000c0s4b0"],
        ),
        (
            "x1000c0s4b0",
            json!({"RedfishEndpoints": [plain("x1000c0s4b0")]}),
            vec!["RedfishEndpoints"],
        ),
        ("x1000c0s4b0", json!({"ID": "x1000c0s4b0"}), vec!["FQDN"]),
        (
            "x1000c0s4b0",
            json!({"ID": "x1000c0s4b0", "FQDN": "a", "Type": "Cabinet"}),
            vec!["Type"],
        ),
        ("x1000c0s4x0", plain("x1000c0s4b0"), vec!["x1000c0s4x0"]),
    ] {
        app.refuse("PUT", &format!("{BASE}/{path}"), Some(body), 400, &mentions)
            .await;
    }
    let mut other = magellan();
    other["ID"] = json!("x1000c0s6b0");
    app.refuse("PUT", &url, Some(other), 400, &["x1000c0s6b0"])
        .await;

    // DELETE cascades to the endpoint's component endpoints (not to components/interfaces).
    let d = app.expect("DELETE", &url, None, 200).await;
    assert_eq!(d, json!({"code": 0, "message": "deleted 1 entry"}));
    app.refuse("GET", &url, None, 404, &["x1000c0s0b0"]).await;
    assert_eq!(app.get_ok(CEPS).await, json!({"ComponentEndpoints": []}));
    assert_eq!(
        app.get_ok("/hsm/v2/State/Components").await["Components"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    app.refuse("DELETE", &url, None, 404, &["x1000c0s0b0"])
        .await;
    app.refuse("DELETE", &format!("{BASE}/bmc"), None, 400, &["bmc"])
        .await;
    app.refuse("GET", &format!("{BASE}/bmc"), None, 400, &["bmc"])
        .await;

    app.expect("DELETE", BASE, None, 200).await;
    assert_eq!(app.get_ok(BASE).await, json!({"RedfishEndpoints": []}));
    app.refuse("DELETE", BASE, None, 404, &[]).await;
}

#[tokio::test]
async fn component_endpoint_deletes() {
    let app = App::start().await;
    app.expect("POST", BASE, Some(magellan()), 201).await;
    let d = app
        .expect("DELETE", &format!("{CEPS}/X1000C0S0B0N1"), None, 200)
        .await;
    assert_eq!(d["code"], 0);
    app.refuse(
        "GET",
        &format!("{CEPS}/x1000c0s0b0n1"),
        None,
        404,
        &["x1000c0s0b0n1"],
    )
    .await;
    app.refuse(
        "DELETE",
        &format!("{CEPS}/x1000c0s0b0n1"),
        None,
        404,
        &["x1000c0s0b0n1"],
    )
    .await;
    app.refuse("DELETE", &format!("{CEPS}/n1"), None, 400, &["n1"])
        .await;
    app.refuse("GET", &format!("{CEPS}/n1"), None, 400, &["n1"])
        .await;
    let d = app.expect("DELETE", CEPS, None, 200).await;
    assert_eq!(d, json!({"code": 0, "message": "deleted 2 entries"}));
    app.refuse("DELETE", CEPS, None, 404, &[]).await;
    // The Redfish endpoint itself stays.
    app.get_ok(&format!("{BASE}/x1000c0s0b0")).await;
}
