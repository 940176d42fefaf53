//! Cairn's own API: cluster status and membership checks, health, metrics, the internal
//! endpoints, and limits that apply to every route.

use serde_json::json;

use crate::support::App;

#[tokio::test]
async fn cluster_status() {
    let app = App::start().await;
    app.nodes([0]).await;
    let v = app.get_ok("/apis/cairn/v1/cluster").await;
    assert_eq!(v["id"], 1);
    assert_eq!(v["leader"], 1);
    assert!(v["term"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(
        v["members"],
        json!([{"id": 1, "raft_addr": "127.0.0.1:1", "api_addr": "127.0.0.1:2", "role": "leader",
            "matched_index": v["members"][0]["matched_index"], "lag": v["members"][0]["lag"]}])
    );
    assert_eq!(v["revision"], app.revision());
    assert!(v["last_applied"].as_u64().unwrap() >= 2, "{v}");
    assert_eq!(app.get_ok("/apis/cairn/v1/cluster/").await["id"], 1);
}

#[tokio::test]
async fn membership_changes_refused() {
    let app = App::start().await;
    let url = "/apis/cairn/v1/cluster/members";
    for (body, mentions) in [
        (
            json!({"id": 0, "raft_addr": "h:1", "api_addr": "h:2"}),
            vec!["id"],
        ),
        (
            json!({"id": 2, "raft_addr": "h", "api_addr": "h:2"}),
            vec!["raft_addr"],
        ),
        (
            json!({"id": 2, "raft_addr": "h:1", "api_addr": ":2"}),
            vec!["api_addr"],
        ),
        (
            json!({"id": 2, "raft_addr": "h:1", "api_addr": "h:0"}),
            vec!["api_addr"],
        ),
        (json!({"id": 2, "raft_addr": "h:1"}), vec!["api_addr"]),
        (
            json!({"id": "two", "raft_addr": "h:1", "api_addr": "h:2"}),
            vec!["id"],
        ),
        (
            json!({"id": 2, "raft_addr": "h:1", "api_addr": "h:2", "extra": 1}),
            vec!["extra"],
        ),
        (
            json!({"id": 1, "raft_addr": "other:1", "api_addr": "other:2"}),
            vec!["already a member"],
        ),
    ] {
        let want = if body["id"] == 1 { 409 } else { 400 };
        app.refuse("POST", url, Some(body), want, &mentions).await;
    }
    // Re-adding this very member is a no-op.
    let v = app
        .expect(
            "POST",
            url,
            Some(json!({"id": 1, "raft_addr": "127.0.0.1:1", "api_addr": "127.0.0.1:2"})),
            200,
        )
        .await;
    assert_eq!(v["members"].as_array().unwrap().len(), 1);
    app.refuse("DELETE", &format!("{url}/7"), None, 404, &["7"])
        .await;
    app.refuse("DELETE", &format!("{url}/seven"), None, 400, &[])
        .await;
    assert_eq!(
        app.get_ok("/apis/cairn/v1/cluster").await["members"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn internal_endpoints() {
    let app = App::start().await;
    let rev = app.revision();
    let out = app
        .expect(
            "POST",
            "/apis/cairn/v1/internal/propose",
            Some(json!({"UpsertComponents": {"components": [{"ID": "x1000c0s0b0n0", "State": "On"}], "force": false}})),
            200,
        )
        .await;
    assert_eq!(out, json!({"Ok": {"revision": rev + 1, "count": 1}}));
    let out = app
        .expect(
            "POST",
            "/apis/cairn/v1/internal/propose",
            Some(json!({"DeleteComponent": "x1000c0s9b0n0"})),
            200,
        )
        .await;
    assert!(out["Err"]["NotFound"].is_string(), "{out}");
    app.refuse(
        "POST",
        "/apis/cairn/v1/internal/propose",
        Some(json!({"Explode": {}})),
        400,
        &[],
    )
    .await;
    let ri = app
        .expect("POST", "/apis/cairn/v1/internal/read-index", None, 200)
        .await;
    assert!(ri["applied"].as_u64().unwrap() >= 3, "{ri}");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = App::start().await;
    let r = app.raw("GET", "/healthz", None).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, Some("ok\n")));
    let r = app.raw("GET", "/readyz", None).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, Some("ready\n")));
    let r = app.raw("GET", "/healthz/", None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn metrics() {
    let app = App::start().await;
    app.get_ok("/hsm/v2/State/Components").await;
    app.get_ok("/hsm/v2/State/Components/").await;
    app.refuse(
        "GET",
        "/hsm/v2/State/Components/x1000c0s0b0n0",
        None,
        404,
        &[],
    )
    .await;
    let r = app.raw("GET", "/metrics", None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.content_type().starts_with("text/plain"),
        "{}",
        r.content_type()
    );
    let text = r.body.as_str().expect("text").to_owned();
    let has = |needle: &str| assert!(text.contains(needle), "/metrics lacks {needle}:\n{text}");
    has("# TYPE cairn_raft_term gauge");
    has("cairn_raft_is_leader 1");
    has("cairn_raft_leader 1");
    has("cairn_inventory_revision ");
    has("# TYPE cairn_http_requests counter");
    // Counted by matched route, never by raw path; the trailing-slash request counts too.
    has(
        r#"cairn_http_requests_total{method="GET",route="/hsm/v2/State/Components",status="200"} 2"#,
    );
    has(
        r#"cairn_http_requests_total{method="GET",route="/hsm/v2/State/Components/{xname}",status="404"} 1"#,
    );
    has("cairn_http_request_duration_seconds_bucket{");
    assert!(!text.contains("x1000c0s0b0n0"), "{text}");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = App::start().await;
    app.nodes([0]).await;
    // Valid JSON just over the limit: a component list padded with spaces.
    let mut body = br#"{"Components":[{"ID":"x1000c0s1b0n0","State":"On"}]"#.to_vec();
    body.resize(cairn_coordinator::api::BODY_LIMIT + 16, b' ');
    body.push(b'}');
    app.refuse_raw(
        "POST",
        "/hsm/v2/State/Components",
        Some(body.clone()),
        413,
        &["MiB"],
    )
    .await;
    app.refuse_raw(
        "POST",
        "/hsm/v2/Inventory/RedfishEndpoints",
        Some(body.clone()),
        413,
        &[],
    )
    .await;
    app.refuse_raw(
        "PATCH",
        "/hsm/v2/State/Components/BulkStateData",
        Some(body),
        413,
        &[],
    )
    .await;
    // Just under the limit is fine.
    let mut ok = br#"{"Components":[{"ID":"x1000c0s1b0n0","State":"On"}]"#.to_vec();
    ok.resize(cairn_coordinator::api::BODY_LIMIT - 16, b' ');
    ok.push(b'}');
    let r = app.raw("POST", "/hsm/v2/State/Components", Some(ok)).await;
    assert_eq!(r.status, 204, "{}", r.body);
}

#[tokio::test]
async fn smd_service_endpoints_answer_like_smd() {
    let app = App::start().await;
    let ready = app.get_ok("/hsm/v2/service/ready").await;
    assert_eq!(ready["code"], 0);
    let r = app.raw("GET", "/hsm/v2/service/liveness", None).await;
    assert_eq!(r.status, 204);
    let all = app.get_ok("/hsm/v2/service/values").await;
    for key in [
        "Arch", "Class", "Flag", "NetType", "Role", "SubRole", "State", "Type",
    ] {
        assert!(
            all[key].as_array().is_some_and(|v| !v.is_empty()),
            "{key}: {all}"
        );
    }
    assert!(
        all["State"]
            .as_array()
            .is_some_and(|v| v.contains(&"Ready".into()))
    );
    let roles = app.get_ok("/hsm/v2/service/values/role").await;
    assert_eq!(roles.as_object().map(|o| o.len()), Some(1));
    assert!(
        roles["Role"]
            .as_array()
            .is_some_and(|v| v.contains(&"Compute".into()))
    );
    app.refuse(
        "GET",
        "/hsm/v2/service/values/colour",
        None,
        404,
        &["colour"],
    )
    .await;
}
