//! `/power-control/v1`: transitions from creation to completion as agents report, target
//! expansion and the targets that cannot run, abort, deadlines, power-status, the probes, and
//! the bad inputs each route refuses without changing anything.

use cairn_coordinator::agents::timers::tick_once;
use cairn_coordinator::clock::now_ms;
use cairn_protocols::power::{ManagementState, PowerState, TaskStatus};
use serde_json::{Value, json};

use crate::rack::{ALL_RESETS, bmc, rack, register, report, result, sample};
use crate::support::App;

const PCS: &str = "/power-control/v1";

async fn transition(app: &App, id: &str) -> Value {
    app.get_ok(&format!("{PCS}/transitions/{id}")).await
}

fn task<'a>(t: &'a Value, node: &str) -> &'a Value {
    t["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["xname"] == node)
        .unwrap_or_else(|| panic!("no task for {node} in {t}"))
}

/// Asserts that `node`'s task in transition `t` ended `status` with an error naming `why`.
fn assert_task_error(t: &Value, node: &str, status: &str, why: &str) {
    let k = task(t, node);
    assert_eq!(k["taskStatus"], status, "{t}");
    let error = k["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(why),
        "{node}: {error:?} should mention {why:?}"
    );
}

#[tokio::test]
async fn a_transition_follows_its_agents_results() {
    let app = App::start().await;
    rack(&app, "rack-1", 1000, 2, 2, ALL_RESETS).await;
    let r = app
        .raw(
            "POST",
            &format!("{PCS}/transitions"),
            Some(
                serde_json::to_vec(&json!({"operation": "ON", "taskDeadlineMinutes": 3,
                    "location": [{"xname": "x1000c0s0b0n0"}, {"xname": bmc(1000, 1), "deputyKey": "k"}]}))
                .unwrap(),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["transitionID"].as_str().unwrap().to_owned();
    assert_eq!(r.body["operation"], "On");
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("{PCS}/transitions/{id}")
    );

    let t = transition(&app, &id).await;
    assert_eq!(t["transitionStatus"], "new");
    assert_eq!(t["operation"], "On");
    assert_eq!(
        t["taskCounts"],
        json!({"total": 3, "new": 3, "in-progress": 0, "failed": 0, "succeeded": 0, "un-supported": 0})
    );
    assert!(t["createTime"].as_str().unwrap().ends_with('Z'), "{t}");
    assert!(t["automaticExpirationTime"].as_str().is_some(), "{t}");
    let nodes = ["x1000c0s0b0n0", "x1000c0s1b0n0", "x1000c0s1b0n1"];
    for n in nodes {
        assert_eq!(task(&t, n)["taskStatus"], "new", "{t}");
    }

    report(
        &app,
        "rack-1",
        2,
        vec![result(&id, nodes[0], TaskStatus::InProgress, None)],
    )
    .await
    .unwrap();
    let t = transition(&app, &id).await;
    assert_eq!(t["transitionStatus"], "in-progress");
    assert_eq!(t["taskCounts"]["in-progress"], 1);

    report(
        &app,
        "rack-1",
        3,
        vec![
            result(&id, nodes[0], TaskStatus::Succeeded, Some(PowerState::On)),
            result(&id, nodes[1], TaskStatus::Failed, None),
            result(&id, nodes[2], TaskStatus::Succeeded, Some(PowerState::On)),
        ],
    )
    .await
    .unwrap();
    let t = transition(&app, &id).await;
    assert_eq!(t["transitionStatus"], "completed", "{t}");
    assert_eq!(
        t["taskCounts"],
        json!({"total": 3, "new": 0, "in-progress": 0, "failed": 1, "succeeded": 2, "un-supported": 0})
    );
    assert_eq!(task(&t, nodes[1])["error"], "BMC answered 500");
    assert!(task(&t, nodes[0]).get("error").is_none(), "{t}");
    // A late result for a finished task changes nothing.
    report(
        &app,
        "rack-1",
        4,
        vec![result(&id, nodes[1], TaskStatus::Succeeded, None)],
    )
    .await
    .unwrap();
    assert_eq!(transition(&app, &id).await, t);

    let list = app.get_ok(&format!("{PCS}/transitions")).await;
    let listed = &list["transitions"][0];
    assert_eq!(listed["transitionID"], id.as_str());
    assert_eq!(listed["taskCounts"]["succeeded"], 2);
    assert!(listed.get("tasks").is_none(), "{list}");

    // The results' power states feed power-status and the components' State.
    let ps = app
        .get_ok(&format!("{PCS}/power-status?xname={}", nodes[0]))
        .await;
    let entry = &ps["status"][0];
    assert_eq!(entry["powerState"], "on");
    assert_eq!(entry["managementState"], "available");
    assert_eq!(entry["error"], "");
    assert!(entry["lastUpdated"].as_str().is_some(), "{ps}");
    assert_eq!(
        entry["supportedPowerTransitions"].as_array().unwrap().len(),
        7
    );
    let c = app
        .get_ok(&format!("/hsm/v2/State/Components/{}", nodes[0]))
        .await;
    assert_eq!(c["State"], "On");
}

#[tokio::test]
async fn targets_expand_and_those_that_cannot_run_end_at_once() {
    let app = App::start().await;
    rack(&app, "rack-1", 1000, 2, 2, ALL_RESETS).await;
    // A BMC without GracefulShutdown; a node with no endpoint; a cabinet without an agent.
    register(&app, "rack-2", &[2000]).await;
    report(
        &app,
        "rack-2",
        1,
        vec![cairn_protocols::agent::ReportItem::Discovery(
            crate::rack::found(&bmc(2000, 0), 1, &["On", "ForceOff"]),
        )],
    )
    .await
    .unwrap();
    app.components(json!([{"ID": "x1000c0s7b0n0", "State": "Ready"}, {"ID": "x3000c0s0b0n0", "State": "Ready"}])).await;
    app.expect(
        "POST",
        "/hsm/v2/groups",
        Some(json!({"label": "blue", "members": {"ids": ["x1000c0s1b0n1", "x2000c0s0b0n0"]}})),
        201,
    )
    .await;

    let id = app
        .start_transition(
            "soft-off",
            &["x1000c0s0b0", "blue", "x1000c0s7b0n0", "x3000"],
        )
        .await;
    let t = transition(&app, &id).await;
    let tasks: Vec<&str> = t["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["xname"].as_str().unwrap())
        .collect();
    assert_eq!(
        tasks,
        [
            "x1000c0s0b0n0",
            "x1000c0s0b0n1",
            "x1000c0s1b0n1",
            "x1000c0s7b0n0",
            "x2000c0s0b0n0",
            "x3000c0s0b0n0"
        ]
    );
    assert_eq!(task(&t, "x1000c0s0b0n0")["taskStatus"], "new");
    assert_task_error(&t, "x2000c0s0b0n0", "unsupported", "GracefulShutdown");
    assert_eq!(
        task(&t, "x2000c0s0b0n0")["taskStatusDescription"],
        "Component does not support the specified transition operation, Soft-Off"
    );
    assert_task_error(&t, "x1000c0s7b0n0", "failed", "no component endpoint");
    assert_task_error(&t, "x3000c0s0b0n0", "failed", "cabinet x3000");
    assert_eq!(t["taskCounts"]["un-supported"], 1);
    assert_eq!(t["taskCounts"]["failed"], 2);
    // Tasks already ended count as progress, as in PCS.
    assert_eq!(t["transitionStatus"], "in-progress");
}

#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let app = App::start().await;
    rack(&app, "rack-1", 1000, 1, 1, ALL_RESETS).await;
    let tr = format!("{PCS}/transitions");
    let node = json!([{"xname": "x1000c0s0b0n0"}]);
    app.refuse(
        "POST",
        &tr,
        Some(json!({"operation": "reboot", "location": node})),
        400,
        &["operation", "reboot"],
    )
    .await;
    app.refuse(
        "POST",
        &tr,
        Some(json!({"location": node})),
        400,
        &["operation"],
    )
    .await;
    app.refuse(
        "POST",
        &tr,
        Some(json!({"operation": "on", "location": []})),
        400,
        &["location"],
    )
    .await;
    app.refuse(
        "POST",
        &tr,
        Some(json!({"operation": "on", "location": [{"xname": "x1000c0s0b0n0"}, {"xname": "x1000c0s5b0n0"}]})),
        400,
        &["location[1].xname", "unknown xname x1000c0s5b0n0"],
    )
    .await;
    app.refuse(
        "POST",
        &tr,
        Some(json!({"operation": "on", "location": [{"xname": "x9c0"}]})),
        400,
        &["unknown xname x9c0"],
    )
    .await;
    app.refuse(
        "POST",
        &tr,
        Some(json!({"operation": "on", "location": [{"xname": "no such group!"}]})),
        400,
        &["location[0].xname", "no group"],
    )
    .await;
    app.refuse(
        "POST",
        &tr,
        Some(json!({"operation": "on", "taskDeadlineMinutes": -2, "location": node})),
        400,
        &["taskDeadlineMinutes"],
    )
    .await;
    app.refuse(
        "POST",
        &tr,
        Some(json!({"operation": "on", "location": "x1000c0s0b0n0"})),
        400,
        &["location"],
    )
    .await;
    app.refuse_raw("POST", &tr, Some(b"{\"operation\": ".to_vec()), 400, &[])
        .await;
    app.refuse(
        "GET",
        &format!("{tr}/not-a-uuid"),
        None,
        400,
        &["transitionID"],
    )
    .await;
    let unknown = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    app.refuse(
        "GET",
        &format!("{tr}/{unknown}"),
        None,
        404,
        &["does not exist"],
    )
    .await;
    app.refuse(
        "DELETE",
        &format!("{tr}/{unknown}"),
        None,
        404,
        &["does not exist"],
    )
    .await;
    app.refuse(
        "DELETE",
        &format!("{tr}/nope"),
        None,
        400,
        &["transitionID"],
    )
    .await;
    let ps = format!("{PCS}/power-status");
    app.refuse(
        "GET",
        &format!("{ps}?powerStateFilter=sideways"),
        None,
        400,
        &["powerStateFilter", "sideways"],
    )
    .await;
    app.refuse(
        "GET",
        &format!("{ps}?managementStateFilter=maybe"),
        None,
        400,
        &["managementStateFilter"],
    )
    .await;
    app.refuse(
        "GET",
        &format!("{ps}?xname=x1000q"),
        None,
        400,
        &["xname", "x1000q"],
    )
    .await;
    app.refuse(
        "POST",
        &ps,
        Some(json!({"xnames": ["x1000c0s0b0n0"]})),
        400,
        &["xnames"],
    )
    .await;
    assert_eq!(app.get_ok(&tr).await, json!({"transitions": []}));
}

#[tokio::test]
async fn abort_fails_what_has_not_started_and_waits_for_the_rest() {
    let app = App::start().await;
    rack(&app, "rack-1", 1000, 1, 2, ALL_RESETS).await;
    let tr = format!("{PCS}/transitions");

    let id = app.start_transition("off", &["x1000c0s0b0"]).await;
    let r = app.expect("DELETE", &format!("{tr}/{id}"), None, 202).await;
    assert_eq!(r, json!({"abortStatus": "Accepted - abort initiated"}));
    let t = transition(&app, &id).await;
    assert_eq!(t["transitionStatus"], "aborted", "{t}");
    assert_eq!(t["taskCounts"]["failed"], 2);
    assert_eq!(
        task(&t, "x1000c0s0b0n0")["taskStatusDescription"],
        "Transition aborted"
    );
    app.expect("DELETE", &format!("{tr}/{id}"), None, 202).await;

    let id = app.start_transition("hard-restart", &["x1000c0s0b0"]).await;
    report(
        &app,
        "rack-1",
        2,
        vec![result(&id, "x1000c0s0b0n0", TaskStatus::InProgress, None)],
    )
    .await
    .unwrap();
    app.expect("DELETE", &format!("{tr}/{id}"), None, 202).await;
    let t = transition(&app, &id).await;
    assert_eq!(t["transitionStatus"], "abort-signaled", "{t}");
    assert_eq!(task(&t, "x1000c0s0b0n0")["taskStatus"], "in-progress");
    assert_eq!(task(&t, "x1000c0s0b0n1")["taskStatus"], "failed");
    report(
        &app,
        "rack-1",
        3,
        vec![result(
            &id,
            "x1000c0s0b0n0",
            TaskStatus::Succeeded,
            Some(PowerState::On),
        )],
    )
    .await
    .unwrap();
    assert_eq!(transition(&app, &id).await["transitionStatus"], "aborted");

    let id = app.start_transition("on", &["x1000c0s0b0n0"]).await;
    report(
        &app,
        "rack-1",
        4,
        vec![result(&id, "x1000c0s0b0n0", TaskStatus::Succeeded, None)],
    )
    .await
    .unwrap();
    app.refuse(
        "DELETE",
        &format!("{tr}/{id}"),
        None,
        400,
        &["already finished"],
    )
    .await;
}

#[tokio::test]
async fn deadlines_fail_open_tasks_and_records_expire() {
    let app = App::start().await;
    rack(&app, "rack-1", 1000, 1, 2, ALL_RESETS).await;
    let id = app.start_transition("init", &["x1000c0s0b0"]).await;
    report(
        &app,
        "rack-1",
        2,
        vec![result(&id, "x1000c0s0b0n1", TaskStatus::InProgress, None)],
    )
    .await
    .unwrap();
    let now = now_ms();
    assert!(
        !tick_once(&app.state, now).await.unwrap(),
        "nothing is due yet"
    );
    let five_min = 5 * 60 * 1000;
    assert!(tick_once(&app.state, now + five_min + 1000).await.unwrap());
    let t = transition(&app, &id).await;
    assert_eq!(t["transitionStatus"], "completed", "{t}");
    assert_eq!(t["taskCounts"]["failed"], 2);
    assert_task_error(
        &t,
        "x1000c0s0b0n0",
        "failed",
        "before the rack agent started",
    );
    assert_task_error(
        &t,
        "x1000c0s0b0n1",
        "failed",
        "before the transition was confirmed",
    );
    assert!(!tick_once(&app.state, now + five_min + 2000).await.unwrap());
    // Records live 24 hours.
    assert!(tick_once(&app.state, now + 25 * 3600 * 1000).await.unwrap());
    app.expect("GET", &format!("{PCS}/transitions/{id}"), None, 404)
        .await;

    // -1: no deadline at all.
    let r = app
        .expect(
            "POST",
            &format!("{PCS}/transitions"),
            Some(json!({"operation": "on", "taskDeadlineMinutes": -1, "location": [{"xname": "x1000c0s0b0n0"}]})),
            200,
        )
        .await;
    let id = r["transitionID"].as_str().unwrap();
    assert!(tick_once(&app.state, now + 3600 * 1000).await.is_ok());
    assert_eq!(transition(&app, id).await["transitionStatus"], "new");
}

#[tokio::test]
async fn power_status_reports_what_agents_polled() {
    let app = App::start().await;
    rack(&app, "rack-1", 1000, 1, 3, &["On", "ForceOff"]).await;
    let now = now_ms();
    report(
        &app,
        "rack-1",
        2,
        vec![
            sample(
                "x1000c0s0b0n0",
                PowerState::On,
                ManagementState::Available,
                now,
            ),
            sample(
                "x1000c0s0b0n1",
                PowerState::Off,
                ManagementState::Available,
                now,
            ),
            sample(
                "x1000c0s0b0n2",
                PowerState::Undefined,
                ManagementState::Unavailable,
                now,
            ),
            // An older sample than the one held is ignored.
            sample(
                "x1000c0s0b0n0",
                PowerState::Off,
                ManagementState::Available,
                now - 1000,
            ),
        ],
    )
    .await
    .unwrap();
    let ps = format!("{PCS}/power-status");
    let all = app.get_ok(&ps).await;
    let states: Vec<(&str, &str)> = all["status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["xname"].as_str().unwrap(),
                e["powerState"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("x1000c0s0b0n0", "on"),
            ("x1000c0s0b0n1", "off"),
            ("x1000c0s0b0n2", "undefined")
        ]
    );
    assert_eq!(
        all["status"][0]["supportedPowerTransitions"],
        json!(["On", "Force-Off"])
    );

    let on = app.get_ok(&format!("{ps}?powerStateFilter=ON")).await;
    assert_eq!(on["status"].as_array().unwrap().len(), 1);
    let down = app
        .get_ok(&format!("{ps}?managementStateFilter=unavailable"))
        .await;
    assert_eq!(down["status"][0]["xname"], "x1000c0s0b0n2");
    let some = app
        .get_ok(&format!(
            "{ps}?xname=x1000c0s0b0n1&xname=x1000c0s0b0n0,x1000c0s9b0n0"
        ))
        .await;
    let names: Vec<&str> = some["status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["xname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x1000c0s0b0n1", "x1000c0s0b0n0", "x1000c0s9b0n0"]);
    assert_eq!(
        some["status"][2]["error"],
        "Component not found in component map."
    );

    let posted = app
        .expect(
            "POST",
            &ps,
            Some(json!({"xname": ["x1000c0s0b0n0", "x1000c0s0b0n1"], "powerStateFilter": "off"})),
            200,
        )
        .await;
    assert_eq!(posted["status"].as_array().unwrap().len(), 1);
    assert_eq!(posted["status"][0]["xname"], "x1000c0s0b0n1");
    let c = app.get_ok("/hsm/v2/State/Components/x1000c0s0b0n0").await;
    assert_eq!(c["State"], "On");
}

#[tokio::test]
async fn probes_answer_as_pcs_does() {
    let app = App::start().await;
    app.expect("GET", &format!("{PCS}/liveness"), None, 204)
        .await;
    app.expect("GET", &format!("{PCS}/readiness"), None, 204)
        .await;
    let h = app.get_ok(&format!("{PCS}/health")).await;
    for key in [
        "KvStore",
        "DistLocking",
        "StateManager",
        "Vault",
        "TaskRunner",
    ] {
        assert!(h[key].as_str().is_some(), "{key} missing from {h}");
    }
}
