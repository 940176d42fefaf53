//! The agents over REST (`/apis/cairn/v1/agents`, SMD's Discover and DiscoveryStatus) and
//! what each agent's Watch stream carries: only its own scope's BMCs and credentials.

use cairn_coordinator::agents::work::Delivered;
use cairn_protocols::agent::{ReportItem, WorkBatch, WorkItem};
use serde_json::json;

use crate::rack::{ALL_RESETS, bmc, rack, register, report};
use crate::support::App;

const AGENTS: &str = "/apis/cairn/v1/agents";

#[tokio::test]
async fn the_list_joins_registrations_and_liveness() {
    let app = App::start().await;
    assert_eq!(app.get_ok(AGENTS).await, json!({"agents": []}));
    register(&app, "rack-1", &[1000, 1001]).await;
    let list = app.get_ok(AGENTS).await;
    let a = &list["agents"][0];
    assert_eq!(a["id"], "rack-1");
    assert_eq!(a["scope"], json!(["x1000", "x1001"]));
    assert_eq!(a["state"], "stale");
    assert_eq!(a["last_seen"], serde_json::Value::Null);
    assert_eq!(a["version"], "0.1.0");
    assert_eq!(a["last_report_seq"], 0);

    app.state.agents().seen("rack-1", Some("0.2.0"), None);
    report(&app, "rack-1", 5, vec![]).await.unwrap();
    let a = app.get_ok(AGENTS).await["agents"][0].clone();
    assert_eq!(a["state"], "connected");
    assert_eq!(a["version"], "0.2.0");
    assert!(a["last_seen"].as_str().unwrap().ends_with('Z'), "{a}");
    assert_eq!(a["last_report_seq"], 5);

    let r = app
        .expect("DELETE", &format!("{AGENTS}/rack-1"), None, 200)
        .await;
    assert_eq!(r["code"], 0);
    assert_eq!(app.get_ok(AGENTS).await, json!({"agents": []}));
    app.refuse(
        "DELETE",
        &format!("{AGENTS}/rack-1"),
        None,
        404,
        &["rack-1"],
    )
    .await;
    app.refuse(
        "POST",
        "/apis/cairn/v1/internal/agents/seen",
        Some(json!({"id": "no spaces allowed"})),
        400,
        &["id"],
    )
    .await;
}

#[tokio::test]
async fn discover_asks_the_agents_whose_scope_holds_the_targets() {
    let app = App::start().await;
    rack(&app, "rack-1", 1000, 2, 1, ALL_RESETS).await;
    rack(&app, "rack-2", 2000, 1, 1, ALL_RESETS).await;
    let r = app
        .expect(
            "POST",
            "/hsm/v2/Inventory/Discover",
            Some(json!({"xnames": [bmc(1000, 1)], "force": false})),
            200,
        )
        .await;
    let uri = r[0]["URI"].as_str().unwrap().to_owned();
    assert!(uri.starts_with("/hsm/v2/Inventory/DiscoveryStatus/"), "{r}");
    let id: u64 = uri.rsplit('/').next().unwrap().parse().unwrap();
    let st = app.get_ok(&uri).await;
    assert_eq!(st["ID"], id);
    assert_eq!(st["Status"], "Pending");
    assert_eq!(st["Details"]["Agents"], json!({"rack-1": "Pending"}));

    // Only rack-1 is asked, for its own BMC.
    let work = |agent: &str| -> WorkBatch {
        app.state
            .replica()
            .read(|inv| Delivered::new(0, 0).full(inv, agent))
            .unwrap()
    };
    let discover = |b: &WorkBatch| -> Vec<(u64, Vec<String>)> {
        b.items
            .iter()
            .filter_map(|i| match i {
                WorkItem::Discover(d) => {
                    Some((d.id, d.targets.iter().map(ToString::to_string).collect()))
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(discover(&work("rack-1")), [(id, vec![bmc(1000, 1)])]);
    assert!(discover(&work("rack-2")).is_empty());

    app.refuse(
        "POST",
        "/hsm/v2/Inventory/Discover",
        Some(json!({})),
        409,
        &["force"],
    )
    .await;
    let everything = app.raw("POST", "/hsm/v2/Inventory/Discover", None).await;
    assert_eq!(everything.status, 409, "{}", everything.body);
    let r = app
        .expect(
            "POST",
            "/hsm/v2/Inventory/Discover",
            Some(json!({"force": true})),
            200,
        )
        .await;
    let all_uri = r[0]["URI"].as_str().unwrap().to_owned();
    let all = app.get_ok(&all_uri).await;
    assert_eq!(
        all["Details"]["Agents"],
        json!({"rack-1": "Pending", "rack-2": "Pending"})
    );

    let all_id: u64 = all["ID"].as_u64().unwrap();
    report(
        &app,
        "rack-1",
        2,
        vec![
            ReportItem::DiscoverDone(id),
            ReportItem::DiscoverDone(all_id),
        ],
    )
    .await
    .unwrap();
    assert_eq!(app.get_ok(&uri).await["Status"], "Complete");
    assert_eq!(app.get_ok(&all_uri).await["Status"], "InProgress");
    report(&app, "rack-2", 2, vec![ReportItem::DiscoverDone(all_id)])
        .await
        .unwrap();
    assert_eq!(app.get_ok(&all_uri).await["Status"], "Complete");
    let list = app.get_ok("/hsm/v2/Inventory/DiscoveryStatus").await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    // A stream that already has request `id` is not sent it again.
    let later = app
        .state
        .replica()
        .read(|inv| Delivered::new(id, 0).full(inv, "rack-1"))
        .unwrap();
    assert_eq!(discover(&later), [(all_id, vec![])]);

    app.refuse(
        "POST",
        "/hsm/v2/Inventory/Discover",
        Some(json!({"xnames": ["x1000c0s0"], "force": true})),
        404,
        &["x1000c0s0"],
    )
    .await;
    app.refuse(
        "POST",
        "/hsm/v2/Inventory/Discover",
        Some(json!({"xnames": ["bmc-1"]})),
        400,
        &["xnames[0]"],
    )
    .await;
    app.refuse_raw(
        "POST",
        "/hsm/v2/Inventory/Discover",
        Some(b"[1,".to_vec()),
        400,
        &[],
    )
    .await;
    app.refuse(
        "GET",
        "/hsm/v2/Inventory/DiscoveryStatus/x",
        None,
        400,
        &["id"],
    )
    .await;
    app.refuse(
        "GET",
        "/hsm/v2/Inventory/DiscoveryStatus/99999",
        None,
        404,
        &["99999"],
    )
    .await;
}

#[tokio::test]
async fn credentials_reach_only_the_agent_of_their_cabinet() {
    let app = App::start().await;
    rack(&app, "rack-1", 1000, 1, 1, ALL_RESETS).await;
    register(&app, "rack-2", &[2000]).await;
    app.expect(
        "PATCH",
        &format!("/hsm/v2/Inventory/RedfishEndpoints/{}", bmc(1000, 0)),
        Some(json!({"User": "admin", "Password": "s3cret"})),
        200,
    )
    .await;
    let read = |agent: &str, d: &mut Delivered, full: bool| -> WorkBatch {
        app.state
            .replica()
            .read(|inv| {
                if full {
                    d.full(inv, agent)
                } else {
                    d.delta(inv, agent)
                }
            })
            .unwrap()
    };
    let endpoints = |b: &WorkBatch| -> Vec<(String, String, String, bool)> {
        b.items
            .iter()
            .filter_map(|i| match i {
                WorkItem::Endpoint(e) => Some((
                    e.id.to_string(),
                    e.username.clone(),
                    e.password.clone(),
                    e.removed,
                )),
                _ => None,
            })
            .collect()
    };
    let (mut one, mut two) = (Delivered::new(0, 0), Delivered::new(0, 0));
    let b = read("rack-1", &mut one, true);
    assert!(b.full);
    assert_eq!(
        endpoints(&b),
        [(bmc(1000, 0), "admin".into(), "s3cret".into(), false)]
    );
    assert!(endpoints(&read("rack-2", &mut two, true)).is_empty());
    assert!(
        read("rack-1", &mut one, false).items.is_empty(),
        "nothing changed"
    );

    app.expect(
        "PATCH",
        &format!("/hsm/v2/Inventory/RedfishEndpoints/{}", bmc(1000, 0)),
        Some(json!({"Password": "n3w"})),
        200,
    )
    .await;
    assert_eq!(
        endpoints(&read("rack-1", &mut one, false)),
        [(bmc(1000, 0), "admin".into(), "n3w".into(), false)]
    );
    assert!(read("rack-2", &mut two, false).items.is_empty());

    // No GET shows a password.
    for uri in [
        "/hsm/v2/Inventory/RedfishEndpoints".to_owned(),
        format!("/hsm/v2/Inventory/RedfishEndpoints/{}", bmc(1000, 0)),
        AGENTS.to_owned(),
    ] {
        let text = app.get_ok(&uri).await.to_string();
        assert!(
            !text.contains("n3w") && !text.contains("Password"),
            "{uri}: {text}"
        );
    }

    app.expect(
        "DELETE",
        &format!("/hsm/v2/Inventory/RedfishEndpoints/{}", bmc(1000, 0)),
        None,
        200,
    )
    .await;
    assert_eq!(
        endpoints(&read("rack-1", &mut one, false)),
        [(bmc(1000, 0), String::new(), String::new(), true)]
    );
}

#[tokio::test]
async fn a_new_stream_resends_open_tasks_with_their_status() {
    use cairn_protocols::power::{PowerState, TaskStatus};

    use crate::rack::result;

    let app = App::start().await;
    rack(&app, "rack-1", 1000, 1, 2, ALL_RESETS).await;
    let id = app.start_transition("init", &[bmc(1000, 0)]).await;
    report(
        &app,
        "rack-1",
        2,
        vec![result(&id, "x1000c0s0b0n0", TaskStatus::InProgress, None)],
    )
    .await
    .unwrap();
    // What an agent restarted now receives: both tasks, the started one marked so.
    let tasks = |b: &WorkBatch| -> Vec<(String, TaskStatus)> {
        b.items
            .iter()
            .filter_map(|i| match i {
                WorkItem::PowerTask(t) => Some((t.xname.to_string(), t.status)),
                _ => None,
            })
            .collect()
    };
    let fresh = || {
        app.state
            .replica()
            .read(|inv| Delivered::new(0, 0).full(inv, "rack-1"))
            .unwrap()
    };
    assert_eq!(
        tasks(&fresh()),
        [
            ("x1000c0s0b0n0".to_owned(), TaskStatus::InProgress),
            ("x1000c0s0b0n1".to_owned(), TaskStatus::New)
        ]
    );
    report(
        &app,
        "rack-1",
        3,
        vec![result(
            &id,
            "x1000c0s0b0n1",
            TaskStatus::Succeeded,
            Some(PowerState::On),
        )],
    )
    .await
    .unwrap();
    assert_eq!(
        tasks(&fresh()),
        [("x1000c0s0b0n0".to_owned(), TaskStatus::InProgress)]
    );
    app.expect(
        "DELETE",
        &format!("/power-control/v1/transitions/{id}"),
        None,
        202,
    )
    .await;
    let after_abort = fresh();
    assert!(
        after_abort
            .items
            .contains(&WorkItem::PowerAbort(id.clone())),
        "{after_abort:?}"
    );
    assert_eq!(tasks(&after_abort).len(), 1);
    report(
        &app,
        "rack-1",
        4,
        vec![result(&id, "x1000c0s0b0n0", TaskStatus::Failed, None)],
    )
    .await
    .unwrap();
    let done = fresh();
    assert!(
        tasks(&done).is_empty() && !done.items.contains(&WorkItem::PowerAbort(id)),
        "{done:?}"
    );
}
