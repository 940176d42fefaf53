//! `/hsm/v2/State/Components`: listing with filters, bulk create with Force, the single and
//! NID forms, the queries, every PATCH form, and what each refuses.

use serde_json::{Value, json};

use crate::support::App;

const BASE: &str = "/hsm/v2/State/Components";

fn ids(body: &Value) -> Vec<String> {
    body["Components"]
        .as_array()
        .expect("a Components array")
        .iter()
        .map(|c| c["ID"].as_str().unwrap().to_owned())
        .collect()
}

async fn fixture() -> App {
    let app = App::start().await;
    app.components(json!([
        {"ID": "x1000c0s0b0n0", "State": "Ready", "Flag": "OK", "Role": "compute",
         "SubRole": "worker", "NID": 1, "Arch": "X86", "Class": "River", "Enabled": true,
         "SoftwareStatus": "booted"},
        {"ID": "x1000c0s1b0n0", "State": "Off", "Flag": "Warning", "Role": "Management",
         "NID": 2, "Arch": "ARM", "Class": "Mountain", "Enabled": false},
        {"ID": "x1000c0s2b0n0", "State": "On", "NID": 3},
        {"ID": "x1000c0s0b0", "State": "Ready"}
    ]))
    .await;
    app
}

#[tokio::test]
async fn create_then_get_one_and_list() {
    let app = fixture().await;
    let c = app.get_ok(&format!("{BASE}/x1000c0s0b0n0")).await;
    assert_eq!(
        c,
        json!({"ID": "x1000c0s0b0n0", "Type": "Node", "State": "Ready", "Flag": "OK",
            "Enabled": true, "SoftwareStatus": "booted", "Role": "Compute", "SubRole": "Worker",
            "NID": 1, "Arch": "X86", "Class": "River"})
    );
    // Derived defaults for a record created with only ID and State.
    let bmc = app.get_ok(&format!("{BASE}/X1000C0S0B0")).await;
    assert_eq!(
        bmc,
        json!({"ID": "x1000c0s0b0", "Type": "NodeBMC", "State": "Ready", "Flag": "OK", "Enabled": true})
    );
    let all = app.get_ok(BASE).await;
    assert_eq!(
        ids(&all),
        [
            "x1000c0s0b0",
            "x1000c0s0b0n0",
            "x1000c0s1b0n0",
            "x1000c0s2b0n0"
        ]
    );
    // Trailing slash, as SMD's StripSlashes.
    assert_eq!(app.get_ok(&format!("{BASE}/")).await, all);
    assert_eq!(
        app.get_ok(&format!("{BASE}/x1000c0s2b0n0/")).await["NID"],
        3
    );
    // Stale reads see the same.
    assert_eq!(app.get_ok(&format!("{BASE}?stale=true")).await, all);
}

#[tokio::test]
async fn get_filters() {
    let app = fixture().await;
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "blue", "members": {"ids": ["x1000c0s0b0n0", "x1000c0s2b0n0"]}})),
        201,
    )
    .await;
    app.expect(
        "POST",
        "/hsm/v2/partitions",
        Some(json!({"name": "p1", "members": {"ids": ["x1000c0s2b0n0", "x1000c0s1b0n0"]}})),
        201,
    )
    .await;
    let cases: &[(&str, &[&str])] = &[
        (
            "id=x1000c0s1b0n0&id=X1000C0S2B0N0",
            &["x1000c0s1b0n0", "x1000c0s2b0n0"],
        ),
        ("type=NodeBMC", &["x1000c0s0b0"]),
        ("type=node&state=on", &["x1000c0s2b0n0"]),
        (
            "state=Ready&state=Off",
            &["x1000c0s0b0", "x1000c0s0b0n0", "x1000c0s1b0n0"],
        ),
        ("flag=Warning", &["x1000c0s1b0n0"]),
        ("role=Compute", &["x1000c0s0b0n0"]),
        ("role=management", &["x1000c0s1b0n0"]),
        ("subrole=Worker", &["x1000c0s0b0n0"]),
        ("enabled=false", &["x1000c0s1b0n0"]),
        (
            "enabled=true&type=Node",
            &["x1000c0s0b0n0", "x1000c0s2b0n0"],
        ),
        ("softwarestatus=booted", &["x1000c0s0b0n0"]),
        ("nid=1&nid=3", &["x1000c0s0b0n0", "x1000c0s2b0n0"]),
        ("nid_start=2", &["x1000c0s1b0n0", "x1000c0s2b0n0"]),
        ("nid_end=2", &["x1000c0s0b0n0", "x1000c0s1b0n0"]),
        ("nid_start=2&nid_end=2", &["x1000c0s1b0n0"]),
        ("arch=ARM", &["x1000c0s1b0n0"]),
        ("class=River", &["x1000c0s0b0n0"]),
        ("group=blue", &["x1000c0s0b0n0", "x1000c0s2b0n0"]),
        ("partition=p1", &["x1000c0s1b0n0", "x1000c0s2b0n0"]),
        ("group=blue&partition=p1", &["x1000c0s2b0n0"]),
        ("group=BLUE", &["x1000c0s0b0n0", "x1000c0s2b0n0"]),
        ("partition=P1", &["x1000c0s1b0n0", "x1000c0s2b0n0"]),
        ("group=nosuch", &[]),
        ("state=Halt", &[]),
    ];
    for (q, want) in cases {
        let got = app.get_ok(&format!("{BASE}?{q}")).await;
        assert_eq!(ids(&got), *want, "?{q}");
    }
    // Projections keep ID and Type plus the named fields.
    let s = app
        .get_ok(&format!("{BASE}?id=x1000c0s1b0n0&stateonly=true"))
        .await;
    assert_eq!(
        s["Components"][0],
        json!({"ID": "x1000c0s1b0n0", "Type": "Node", "State": "Off", "Flag": "Warning"})
    );
    let f = app
        .get_ok(&format!("{BASE}?id=x1000c0s1b0n0&flagonly=true"))
        .await;
    assert_eq!(
        f["Components"][0],
        json!({"ID": "x1000c0s1b0n0", "Type": "Node", "Flag": "Warning"})
    );
    let r = app
        .get_ok(&format!("{BASE}?id=x1000c0s0b0n0&roleonly=true"))
        .await;
    assert_eq!(
        r["Components"][0],
        json!({"ID": "x1000c0s0b0n0", "Type": "Node", "Role": "Compute", "SubRole": "Worker"})
    );
    let n = app
        .get_ok(&format!("{BASE}?id=x1000c0s0b0n0&nidonly=true"))
        .await;
    assert_eq!(
        n["Components"][0],
        json!({"ID": "x1000c0s0b0n0", "Type": "Node", "NID": 1})
    );
}

#[tokio::test]
async fn get_refuses_bad_filters() {
    let app = fixture().await;
    for (q, mentions) in [
        ("colour=red", vec!["colour", "unknown filter"]),
        ("state=Sideways", vec!["state", "Sideways"]),
        ("type=Toaster", vec!["type", "Toaster"]),
        ("flag=Meh", vec!["flag", "Meh"]),
        ("arch=Z80", vec!["arch", "Z80"]),
        ("class=Valley", vec!["class", "Valley"]),
        ("enabled=maybe", vec!["enabled", "maybe"]),
        ("nid=abc", vec!["nid", "abc"]),
        ("nid_start=x", vec!["nid_start"]),
        ("nid_end=1.5", vec!["nid_end"]),
        ("id=x1000c0s0q0", vec!["id", "q0"]),
        ("stateonly=perhaps", vec!["stateonly"]),
    ] {
        app.refuse("GET", &format!("{BASE}?{q}"), None, 400, &mentions)
            .await;
    }
}

#[tokio::test]
async fn post_force_semantics() {
    let app = fixture().await;
    // Without Force: State, Flag, Arch and Class of an existing component stay; the others
    // (Enabled, SoftwareStatus, Role, NID) change.
    app.components(
        json!([{"ID": "x1000c0s0b0n0", "State": "Off", "Flag": "Alert",
        "Arch": "ARM", "Class": "Hill", "Enabled": false, "SoftwareStatus": "dead",
        "Role": "Storage", "NID": 10}]),
    )
    .await;
    let c = app.get_ok(&format!("{BASE}/x1000c0s0b0n0")).await;
    assert_eq!(
        (&c["State"], &c["Flag"], &c["Arch"], &c["Class"]),
        (
            &json!("Ready"),
            &json!("OK"),
            &json!("X86"),
            &json!("River")
        )
    );
    assert_eq!(
        (&c["Enabled"], &c["SoftwareStatus"], &c["Role"], &c["NID"]),
        (&json!(false), &json!("dead"), &json!("Storage"), &json!(10))
    );
    // A role without a subrole clears the subrole.
    assert!(c.get("SubRole").is_none(), "{c}");
    // With Force they change too.
    app.expect(
        "POST",
        BASE,
        Some(
            json!({"Components": [{"ID": "x1000c0s0b0n0", "State": "Off", "Flag": "Alert",
            "Arch": "ARM", "Class": "Hill"}], "Force": true}),
        ),
        204,
    )
    .await;
    let c = app.get_ok(&format!("{BASE}/x1000c0s0b0n0")).await;
    assert_eq!(
        (&c["State"], &c["Flag"], &c["Arch"], &c["Class"]),
        (
            &json!("Off"),
            &json!("Alert"),
            &json!("ARM"),
            &json!("Hill")
        )
    );
    // Read-only fields are ignored.
    app.components(
        json!([{"ID": "x1000c0s5b0n0", "State": "On", "Locked": true,
        "ReservationDisabled": true}]),
    )
    .await;
    let c = app.get_ok(&format!("{BASE}/x1000c0s5b0n0")).await;
    assert!(
        c.get("Locked").is_none() && c.get("ReservationDisabled").is_none(),
        "{c}"
    );
}

#[tokio::test]
async fn post_refuses_bad_bodies() {
    let app = fixture().await;
    let cases: Vec<(Vec<u8>, Vec<&str>)> = vec![
        (b"{\"Components\": [".to_vec(), vec![]),
        (b"not json".to_vec(), vec![]),
        (b"[]".to_vec(), vec![]),
        (
            json_bytes(json!({"Components": []})),
            vec!["Components", "empty"],
        ),
        (json_bytes(json!({})), vec!["Components"]),
        (
            json_bytes(
                json!({"Components": [{"ID": "x1000c0s9b0n0", "State": "On"},
                {"ID": "x1000c0s9q0", "State": "On"}]}),
            ),
            vec!["Components[1].ID", "q0"],
        ),
        (
            json_bytes(json!({"Components": [{"ID": "x1000c0s9b0n0", "State": "Sideways"}]})),
            vec!["Components[0].State", "Sideways"],
        ),
        (
            json_bytes(
                json!({"Components": [{"ID": "x1000c0s9b0n0", "State": "On", "NID": "abc"}]}),
            ),
            vec!["Components[0].NID"],
        ),
        (
            json_bytes(
                json!({"Components": [{"ID": "x1000c0s9b0n0", "State": "On", "Enabled": "yes"}]}),
            ),
            vec!["Components[0].Enabled"],
        ),
        (
            json_bytes(
                json!({"Components": [{"ID": "x1000c0s9b0n0", "State": "On", "Type": "NodeBMC"}]}),
            ),
            vec!["Components[0].Type", "NodeBMC"],
        ),
        (
            json_bytes(json!({"Components": [{"ID": "x1000c0s9b0n0"}]})),
            vec!["Components[0].State"],
        ),
        (
            json_bytes(
                json!({"Components": [{"ID": "x1000c0s9b0n0", "State": "On", "Role": "Chef"}]}),
            ),
            vec!["Role", "Chef"],
        ),
        (
            json_bytes(json!({"Components": [{"ID": "x1000c0s9b0n0", "State": "On",
                "Role": "Compute", "SubRole": "Sous"}]})),
            vec!["SubRole", "Sous"],
        ),
        (
            json_bytes(
                json!({"Components": [{"ID": "x1000c0s9b0n0", "State": "On"}], "Force": "yes"}),
            ),
            vec!["Force"],
        ),
    ];
    for (body, mentions) in cases {
        app.refuse_raw("POST", BASE, Some(body), 400, &mentions)
            .await;
    }
    // The good first element of a refused list was not created.
    app.refuse(
        "GET",
        &format!("{BASE}/x1000c0s9b0n0"),
        None,
        404,
        &["x1000c0s9b0n0"],
    )
    .await;
    // A JSON body without a JSON content type.
    let req = axum::http::Request::post(BASE)
        .body(axum::body::Body::from(json_bytes(
            json!({"Components": [{"ID": "x1000c0s9b0n0", "State": "On"}]}),
        )))
        .unwrap();
    let before = app.state();
    let r = app.send(req).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(app.state(), before);
}

pub fn json_bytes(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn put_get_delete_one() {
    let app = fixture().await;
    let url = format!("{BASE}/x1000c0s7b0n0");
    app.expect(
        "PUT",
        &url,
        Some(json!({"Component": {"ID": "X1000C0S7B0N0", "State": "On", "NID": 70}})),
        204,
    )
    .await;
    assert_eq!(app.get_ok(&url).await["NID"], 70);
    // PUT without Force keeps the state of an existing component; with Force it changes.
    app.expect(
        "PUT",
        &url,
        Some(json!({"Component": {"ID": "x1000c0s7b0n0", "State": "Off"}})),
        204,
    )
    .await;
    assert_eq!(app.get_ok(&url).await["State"], "On");
    app.expect(
        "PUT",
        &url,
        Some(json!({"Component": {"ID": "x1000c0s7b0n0", "State": "Off"}, "Force": true})),
        204,
    )
    .await;
    assert_eq!(app.get_ok(&url).await["State"], "Off");

    app.refuse(
        "PUT",
        &url,
        Some(json!({"Component": {"ID": "x1000c0s8b0n0", "State": "On"}})),
        400,
        &["x1000c0s8b0n0", "x1000c0s7b0n0"],
    )
    .await;
    app.refuse(
        "PUT",
        &url,
        Some(json!({"Component": {"ID": "x1000c0s7b0n0", "State": "On", "Type": "Cabinet"}})),
        400,
        &["Type", "Cabinet"],
    )
    .await;
    app.refuse(
        "PUT",
        &url,
        Some(json!({"ID": "x1000c0s7b0n0", "State": "On"})),
        400,
        &["Component"],
    )
    .await;
    app.refuse(
        "PUT",
        &format!("{BASE}/x1000c0s7b0z0"),
        Some(json!({"Component": {"ID": "x1000c0s7b0n0", "State": "On"}})),
        400,
        &["x1000c0s7b0z0", "z0"],
    )
    .await;

    let gone = app.expect("DELETE", &url, None, 200).await;
    assert_eq!(gone, json!({"code": 0, "message": "deleted 1 entry"}));
    app.refuse("GET", &url, None, 404, &["x1000c0s7b0n0"]).await;
    app.refuse("DELETE", &url, None, 404, &["x1000c0s7b0n0"])
        .await;
    app.refuse(
        "GET",
        &format!("{BASE}/x1000c0s7b0n0n0"),
        None,
        400,
        &["n0"],
    )
    .await;
    app.refuse("DELETE", &format!("{BASE}/blade7"), None, 400, &["blade7"])
        .await;
}

#[tokio::test]
async fn delete_all() {
    let app = fixture().await;
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "g", "members": {"ids": ["x1000c0s0b0n0"]}})),
        201,
    )
    .await;
    let r = app.expect("DELETE", BASE, None, 200).await;
    assert_eq!(r, json!({"code": 0, "message": "deleted 4 entries"}));
    assert_eq!(app.get_ok(BASE).await, json!({"Components": []}));
    // Memberships went with the components; the group stays.
    assert_eq!(
        app.get_ok("/hsm/v2/groups/g").await["members"],
        json!({"ids": []})
    );
    app.refuse("DELETE", BASE, None, 404, &[]).await;
}

#[tokio::test]
async fn by_nid() {
    let app = fixture().await;
    assert_eq!(
        app.get_ok(&format!("{BASE}/ByNID/2")).await["ID"],
        "x1000c0s1b0n0"
    );
    app.refuse("GET", &format!("{BASE}/ByNID/99"), None, 404, &["99"])
        .await;
    app.refuse("GET", &format!("{BASE}/ByNID/two"), None, 400, &["two"])
        .await;
}

#[tokio::test]
async fn post_query_forms() {
    let app = fixture().await;
    let got = app
        .expect(
            "POST",
            &format!("{BASE}/Query"),
            Some(
                json!({"ComponentIDs": ["x1000c0s0b0n0", "x1000c0s1b0n0", "x1000c0s2b0n0"],
                "state": ["Ready", "On"]}),
            ),
            200,
        )
        .await;
    assert_eq!(ids(&got), ["x1000c0s0b0n0", "x1000c0s2b0n0"]);
    let got = app
        .expect(
            "POST",
            &format!("{BASE}/Query"),
            Some(json!({"type": "Node", "enabled": false, "stateonly": true})),
            200,
        )
        .await;
    assert_eq!(
        got,
        json!({"Components": [{"ID": "x1000c0s1b0n0", "Type": "Node", "State": "Off", "Flag": "Warning"}]})
    );
    app.refuse(
        "POST",
        &format!("{BASE}/Query"),
        Some(json!({"state": ["Sideways"]})),
        400,
        &["state", "Sideways"],
    )
    .await;
    app.refuse(
        "POST",
        &format!("{BASE}/Query"),
        Some(json!({"colour": "red"})),
        400,
        &["colour"],
    )
    .await;
    app.refuse(
        "POST",
        &format!("{BASE}/Query"),
        Some(json!(["x1000c0s0b0n0"])),
        400,
        &["object"],
    )
    .await;
    app.refuse(
        "POST",
        &format!("{BASE}/Query"),
        Some(json!({"ComponentIDs": [{"ID": "x"}]})),
        400,
        &["ComponentIDs"],
    )
    .await;
    app.refuse_raw(
        "POST",
        &format!("{BASE}/Query"),
        Some(b"{".to_vec()),
        400,
        &[],
    )
    .await;

    let got = app
        .expect(
            "POST",
            &format!("{BASE}/ByNID/Query"),
            Some(json!({"NIDRanges": ["1", "3-5"]})),
            200,
        )
        .await;
    assert_eq!(ids(&got), ["x1000c0s0b0n0", "x1000c0s2b0n0"]);
    let got = app
        .expect(
            "POST",
            &format!("{BASE}/ByNID/Query"),
            Some(json!({"NIDRanges": ["1-2"], "nidonly": true})),
            200,
        )
        .await;
    assert_eq!(
        got,
        json!({"Components": [{"ID": "x1000c0s0b0n0", "Type": "Node", "NID": 1},
            {"ID": "x1000c0s1b0n0", "Type": "Node", "NID": 2}]})
    );
    app.refuse(
        "POST",
        &format!("{BASE}/ByNID/Query"),
        Some(json!({"NIDRanges": ["one-two"]})),
        400,
        &["NIDRanges"],
    )
    .await;
    app.refuse(
        "POST",
        &format!("{BASE}/ByNID/Query"),
        Some(json!({"NIDRanges": "1-2"})),
        400,
        &["NIDRanges"],
    )
    .await;
}

#[tokio::test]
async fn single_patches() {
    let app = fixture().await;
    let url = format!("{BASE}/x1000c0s2b0n0");
    let patch = |what: &'static str, body: Value| {
        let app = &app;
        let url = format!("{url}/{what}");
        async move { app.expect("PATCH", &url, Some(body), 204).await }
    };
    patch("StateData", json!({"State": "Standby", "Flag": "Alert"})).await;
    let c = app.get_ok(&url).await;
    assert_eq!(
        (&c["State"], &c["Flag"]),
        (&json!("Standby"), &json!("Alert"))
    );
    // A StateData without Flag resets it to OK.
    patch("StateData", json!({"State": "halt"})).await;
    let c = app.get_ok(&url).await;
    assert_eq!((&c["State"], &c["Flag"]), (&json!("Halt"), &json!("OK")));
    patch("FlagOnly", json!({"Flag": "Locked"})).await;
    assert_eq!(app.get_ok(&url).await["Flag"], "Locked");
    patch("Enabled", json!({"Enabled": false})).await;
    assert_eq!(app.get_ok(&url).await["Enabled"], false);
    patch("SoftwareStatus", json!({"SoftwareStatus": "AdminDown"})).await;
    assert_eq!(app.get_ok(&url).await["SoftwareStatus"], "AdminDown");
    patch("Role", json!({"Role": "application", "SubRole": "uan"})).await;
    let c = app.get_ok(&url).await;
    assert_eq!(
        (&c["Role"], &c["SubRole"]),
        (&json!("Application"), &json!("UAN"))
    );
    patch("Role", json!({"Role": "Compute"})).await;
    assert!(app.get_ok(&url).await.get("SubRole").is_none());
    patch("NID", json!({"NID": 42})).await;
    assert_eq!(app.get_ok(&url).await["NID"], 42);

    // Refusals: unknown component, bad xname, bad bodies.
    let missing = format!("{BASE}/x1000c0s9b0n0");
    let bad = format!("{BASE}/x1000c0s9b0n0p");
    for (what, good, wrong, mention) in [
        (
            "StateData",
            json!({"State": "On"}),
            json!({"State": "Sideways"}),
            "Sideways",
        ),
        (
            "FlagOnly",
            json!({"Flag": "OK"}),
            json!({"Flag": "Purple"}),
            "Purple",
        ),
        (
            "Enabled",
            json!({"Enabled": true}),
            json!({"Enabled": "yes"}),
            "Enabled",
        ),
        (
            "SoftwareStatus",
            json!({"SoftwareStatus": "x"}),
            json!({"SoftwareStatus": 5}),
            "SoftwareStatus",
        ),
        (
            "Role",
            json!({"Role": "Compute"}),
            json!({"Role": "Chef"}),
            "Chef",
        ),
        ("NID", json!({"NID": 5}), json!({"NID": "abc"}), "NID"),
    ] {
        app.refuse(
            "PATCH",
            &format!("{missing}/{what}"),
            Some(good.clone()),
            404,
            &["x1000c0s9b0n0"],
        )
        .await;
        app.refuse(
            "PATCH",
            &format!("{bad}/{what}"),
            Some(good),
            400,
            &["x1000c0s9b0n0p"],
        )
        .await;
        app.refuse(
            "PATCH",
            &format!("{url}/{what}"),
            Some(wrong),
            400,
            &[mention],
        )
        .await;
        app.refuse_raw(
            "PATCH",
            &format!("{url}/{what}"),
            Some(b"{".to_vec()),
            400,
            &[],
        )
        .await;
        app.refuse("PATCH", &format!("{url}/{what}"), Some(json!({})), 400, &[])
            .await;
    }
    app.refuse(
        "PATCH",
        &format!("{url}/Role"),
        Some(json!({"Role": "Compute", "SubRole": "Chef"})),
        400,
        &["SubRole", "Chef"],
    )
    .await;
}

#[tokio::test]
async fn bulk_patches() {
    let app = fixture().await;
    let two = json!(["x1000c0s0b0n0", "x1000c0s1b0n0"]);
    let bulk = |what: &'static str, body: Value| {
        let app = &app;
        async move {
            app.expect("PATCH", &format!("{BASE}/{what}"), Some(body), 204)
                .await
        }
    };
    bulk(
        "BulkStateData",
        json!({"ComponentIDs": two, "State": "Standby"}),
    )
    .await;
    bulk(
        "BulkFlagOnly",
        json!({"ComponentIDs": two, "Flag": "Alert"}),
    )
    .await;
    bulk(
        "BulkEnabled",
        json!({"ComponentIDs": two, "Enabled": false}),
    )
    .await;
    bulk(
        "BulkSoftwareStatus",
        json!({"ComponentIDs": two, "SoftwareStatus": "DvsDown"}),
    )
    .await;
    bulk(
        "BulkRole",
        json!({"ComponentIDs": two, "Role": "Service", "SubRole": "Gateway"}),
    )
    .await;
    bulk(
        "BulkNID",
        json!({"Components": [{"ID": "x1000c0s0b0n0", "NID": 100}, {"ID": "x1000c0s1b0n0", "NID": 101}]}),
    )
    .await;
    let got = app
        .get_ok(&format!("{BASE}?id=x1000c0s0b0n0&id=x1000c0s1b0n0"))
        .await;
    for (c, nid) in got["Components"].as_array().unwrap().iter().zip([100, 101]) {
        assert_eq!(
            (
                &c["State"],
                &c["Flag"],
                &c["Enabled"],
                &c["SoftwareStatus"],
                &c["Role"],
                &c["SubRole"],
                &c["NID"]
            ),
            (
                &json!("Standby"),
                &json!("Alert"),
                &json!(false),
                &json!("DvsDown"),
                &json!("Service"),
                &json!("Gateway"),
                &json!(nid)
            ),
            "{c}"
        );
    }
    // One unknown id: nothing changes at all (404).
    let mixed = json!(["x1000c0s2b0n0", "x1000c0s9b0n0"]);
    for (what, body) in [
        (
            "BulkStateData",
            json!({"ComponentIDs": mixed, "State": "Off"}),
        ),
        (
            "BulkFlagOnly",
            json!({"ComponentIDs": mixed, "Flag": "Alert"}),
        ),
        (
            "BulkEnabled",
            json!({"ComponentIDs": mixed, "Enabled": false}),
        ),
        (
            "BulkSoftwareStatus",
            json!({"ComponentIDs": mixed, "SoftwareStatus": "x"}),
        ),
        (
            "BulkRole",
            json!({"ComponentIDs": mixed, "Role": "Storage"}),
        ),
        (
            "BulkNID",
            json!({"Components": [{"ID": "x1000c0s2b0n0", "NID": 7}, {"ID": "x1000c0s9b0n0", "NID": 8}]}),
        ),
    ] {
        app.refuse(
            "PATCH",
            &format!("{BASE}/{what}"),
            Some(body),
            404,
            &["x1000c0s9b0n0"],
        )
        .await;
    }
    // Empty lists, bad ids and bad values: 400.
    for (what, body, mentions) in [
        (
            "BulkStateData",
            json!({"ComponentIDs": [], "State": "Off"}),
            vec!["empty"],
        ),
        (
            "BulkFlagOnly",
            json!({"ComponentIDs": [], "Flag": "OK"}),
            vec!["empty"],
        ),
        (
            "BulkEnabled",
            json!({"ComponentIDs": [], "Enabled": true}),
            vec!["empty"],
        ),
        (
            "BulkSoftwareStatus",
            json!({"ComponentIDs": [], "SoftwareStatus": "x"}),
            vec!["empty"],
        ),
        (
            "BulkRole",
            json!({"ComponentIDs": [], "Role": "Compute"}),
            vec!["empty"],
        ),
        ("BulkNID", json!({"Components": []}), vec!["empty"]),
        (
            "BulkStateData",
            json!({"ComponentIDs": ["x1000c0s0b0n0", "nodeA"], "State": "Off"}),
            vec!["ComponentIDs[1]", "nodeA"],
        ),
        (
            "BulkStateData",
            json!({"ComponentIDs": two, "State": "Sideways"}),
            vec!["State", "Sideways"],
        ),
        (
            "BulkFlagOnly",
            json!({"ComponentIDs": two, "Flag": 1}),
            vec!["Flag"],
        ),
        (
            "BulkEnabled",
            json!({"ComponentIDs": two, "Enabled": "yes"}),
            vec!["Enabled"],
        ),
        (
            "BulkRole",
            json!({"ComponentIDs": two, "Role": "Chef"}),
            vec!["Chef"],
        ),
        (
            "BulkNID",
            json!({"Components": [{"ID": "x1000c0s0b0n0", "NID": "abc"}]}),
            vec!["Components[0].NID"],
        ),
        (
            "BulkNID",
            json!({"Components": [{"ID": "x1000c0s0b0n0"}]}),
            vec!["NID"],
        ),
        (
            "BulkStateData",
            json!({"State": "Off"}),
            vec!["ComponentIDs"],
        ),
    ] {
        app.refuse(
            "PATCH",
            &format!("{BASE}/{what}"),
            Some(body),
            400,
            &mentions,
        )
        .await;
    }
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let app = fixture().await;
    app.refuse("GET", "/hsm/v2/State/Nothing", None, 404, &[])
        .await;
    app.refuse("GET", "/nope", None, 404, &[]).await;
    app.refuse(
        "GET",
        "/hsm/v2/State/Components/x1000c0s0b0n0/Bogus",
        None,
        404,
        &[],
    )
    .await;
    let r = app.raw("PUT", BASE, Some(b"{}".to_vec())).await;
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.body["status"], 405, "a problem body: {}", r.body);
    assert!(
        r.body["detail"].as_str().is_some_and(|d| d.contains("PUT")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_write_too_large_for_one_log_entry_is_refused_with_413() {
    let app = App::start().await;
    // Within the HTTP body limit, but more than one Raft log entry may carry: replicating it
    // could not fit in a heartbeat, so it is refused, saying how to split it.
    let pad = "s".repeat(200);
    let list: Vec<Value> = (0..12_000)
        .map(|i| {
            json!({"ID": format!("x{}c0s{}b0n{}", 1000 + i / 512, (i / 2) % 256, i % 2),
                   "State": "On", "SoftwareStatus": pad})
        })
        .collect();
    app.refuse(
        "POST",
        BASE,
        Some(json!({ "Components": list })),
        413,
        &["split the request"],
    )
    .await;
}
