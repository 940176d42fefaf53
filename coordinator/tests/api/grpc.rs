//! `AgentService` over a real socket, on the same listener as the REST API: an agent
//! registers, reports a discovery, receives on its Watch stream a power task created through
//! REST, reports the result, and the transition's status is visible through REST.

use std::time::Duration;

use cairn_coordinator::api;
use cairn_protocols::agent::{PowerTaskResult, Report, ReportItem, WorkBatch, WorkItem};
use cairn_protocols::pb::agent as pb;
use cairn_protocols::pb::agent::agent_service_client::AgentServiceClient;
use cairn_protocols::power::{PowerOperation, PowerState, TaskStatus};
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

use crate::rack::{ALL_RESETS, bmc, found, x};
use crate::support::App;

/// Bound on every wait for the coordinator (a deadline, not an expected duration).
const PATIENCE: Duration = Duration::from_secs(20);

async fn next(stream: &mut tonic::Streaming<pb::WorkBatch>) -> WorkBatch {
    let msg = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("a work batch in time")
        .expect("stream open")
        .expect("a message");
    WorkBatch::try_from(msg).unwrap()
}

/// The next batch with items (keepalives skipped).
async fn next_work(stream: &mut tonic::Streaming<pb::WorkBatch>) -> WorkBatch {
    loop {
        let b = next(stream).await;
        if !b.items.is_empty() {
            return b;
        }
    }
}

/// The registration of agent `agent_id` (version 0.1.0) for one cabinet-or-wider `scope`.
fn registration(agent_id: &str, scope: &str) -> pb::RegisterRequest {
    pb::RegisterRequest {
        agent_id: agent_id.into(),
        scope: vec![scope.into()],
        version: "0.1.0".into(),
        endpoints: None,
    }
}

/// Opens agent `agent_id`'s Watch stream from the start.
async fn watch(
    client: &mut AgentServiceClient<Channel>,
    agent_id: &str,
) -> tonic::Streaming<pb::WorkBatch> {
    client
        .watch(pb::WatchRequest {
            agent_id: agent_id.into(),
            discover_after: 0,
            desired_after: 0,
        })
        .await
        .unwrap()
        .into_inner()
}

fn report(seq: u64, items: Vec<ReportItem>) -> pb::ReportRequest {
    Report {
        agent_id: "rack-1".into(),
        seq,
        items,
    }
    .into()
}

#[tokio::test]
async fn an_agent_registers_watches_and_reports_over_grpc() {
    let app = App::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = api::service(app.state.clone());
    let server = tokio::spawn(async move { axum::serve(listener, service).await });
    let url = format!("http://{addr}");
    let channel = Channel::from_shared(url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = AgentServiceClient::new(channel);

    let reg = client
        .register(registration("rack-1", "x1000"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reg.last_applied_seq, 0);
    assert_eq!(reg.heartbeat_interval_ms, 5000);

    // Bad input, a taken cabinet, an unregistered reporter.
    let bad = client
        .register(registration("rack-2", "x1000c0"))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument, "{bad}");
    assert!(bad.message().contains("scope[0]"), "{bad}");
    let taken = client
        .register(registration("rack-2", "x1000"))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists, "{taken}");
    let stranger = client
        .report(pb::ReportRequest {
            agent_id: "rack-9".into(),
            seq: 1,
            items: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(stranger.code(), Code::FailedPrecondition, "{stranger}");

    // Discovery travels as SMD JSON inside the report; a replay is acknowledged, not applied.
    let discovery = ReportItem::Discovery(found(&bmc(1000, 0), 2, ALL_RESETS));
    let ack = client
        .report(report(1, vec![discovery.clone()]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((ack.seq, ack.duplicate), (1, false));
    let ack = client
        .report(report(1, vec![discovery]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((ack.seq, ack.duplicate), (1, true));
    let hb = client
        .heartbeat(pb::HeartbeatRequest {
            agent_id: "rack-1".into(),
            version: "0.1.1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(hb.registered);

    let mut stream = watch(&mut client, "rack-1").await;
    let first = next(&mut stream).await;
    assert!(first.full);
    let endpoints: Vec<_> = first
        .items
        .iter()
        .filter(|i| !matches!(i, WorkItem::Desired(_)))
        .collect();
    assert!(
        matches!(&endpoints[..], [WorkItem::Endpoint(e)] if e.id == x(&bmc(1000, 0))),
        "{first:?}"
    );
    // The rack's desired state comes whole with the first message.
    assert!(first.desired.is_some_and(|m| m.full), "{first:?}");

    // A transition created through REST reaches the agent as tasks.
    let id = app.start_transition("soft-restart", &[bmc(1000, 0)]).await;
    let work = next_work(&mut stream).await;
    assert!(!work.full);
    let tasks: Vec<_> = work
        .items
        .iter()
        .map(|i| match i {
            WorkItem::PowerTask(t) => t.clone(),
            other => panic!("expected power tasks, got {other:?}"),
        })
        .collect();
    assert_eq!(tasks.len(), 2);
    let t = &tasks[0];
    assert_eq!(
        (t.transition_id.as_str(), t.xname.as_str()),
        (id.as_str(), "x1000c0s0b0n0")
    );
    assert_eq!(t.operation, PowerOperation::SoftRestart);
    assert_eq!(t.bmc, x(&bmc(1000, 0)));
    assert_eq!(t.bmc_fqdn, "10.0.0.3");
    assert_eq!(t.system_path, "/redfish/v1/Systems/1");
    assert_eq!(
        t.reset_target,
        "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset"
    );
    assert_eq!(t.allowed_reset_types.len(), ALL_RESETS.len());
    assert!(t.deadline_ms.is_some() && t.confirm);
    assert_eq!(t.status, TaskStatus::New);

    let results = tasks
        .iter()
        .map(|t| {
            ReportItem::PowerResult(PowerTaskResult {
                transition_id: id.clone(),
                xname: t.xname.clone(),
                status: TaskStatus::Succeeded,
                description: "Transition confirmed, GracefulRestart".into(),
                error: String::new(),
                power_state: Some(PowerState::On),
                observed_ms: Some(cairn_coordinator::clock::now_ms()),
            })
        })
        .collect();
    let ack = client
        .report(report(2, results))
        .await
        .unwrap()
        .into_inner();
    assert!(!ack.duplicate);

    // REST on the same socket as gRPC.
    let http = cairn_coordinator::net::http_client(PATIENCE).unwrap();
    let t: Value = http
        .get(format!("{url}/power-control/v1/transitions/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["transitionStatus"], "completed", "{t}");
    assert_eq!(t["taskCounts"]["succeeded"], 2, "{t}");
    let agents: Value = http
        .get(format!("{url}/apis/cairn/v1/agents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(agents["agents"][0]["state"], "connected", "{agents}");
    assert_eq!(agents["agents"][0]["version"], "0.1.1", "{agents}");
    assert_eq!(agents["agents"][0]["last_report_seq"], 2, "{agents}");

    // An abort reaches the stream too.
    let id2 = app.start_transition("off", &["x1000c0s0b0n1"]).await;
    let work = next_work(&mut stream).await;
    assert!(
        matches!(&work.items[..], [WorkItem::PowerTask(t)] if t.transition_id == id2),
        "{work:?}"
    );
    let started = ReportItem::PowerResult(PowerTaskResult {
        transition_id: id2.clone(),
        xname: x("x1000c0s0b0n1"),
        status: TaskStatus::InProgress,
        description: "Applying transition, GracefulShutdown".into(),
        error: String::new(),
        power_state: None,
        observed_ms: None,
    });
    client.report(report(3, vec![started])).await.unwrap();
    app.expect(
        "DELETE",
        &format!("/power-control/v1/transitions/{id2}"),
        None,
        202,
    )
    .await;
    let work = next_work(&mut stream).await;
    assert_eq!(work.items, [WorkItem::PowerAbort(id2.clone())]);
    let t = app
        .get_ok(&format!("/power-control/v1/transitions/{id2}"))
        .await;
    assert_eq!(t["transitionStatus"], "abort-signaled");

    drop(stream);
    app.state.agents().close();
    server.abort();
}

#[tokio::test]
async fn a_replica_stops_with_watch_streams_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = cairn_coordinator::Config::new(1, dir.path());
    config.api_listen = "127.0.0.1:0".parse().unwrap();
    config.raft_listen = "127.0.0.1:0".parse().unwrap();
    config.bootstrap = true;
    let handle = cairn_coordinator::start(config).await.unwrap();
    let mut metrics = handle.replica().metrics();
    tokio::time::timeout(PATIENCE, metrics.wait_for(|m| m.current_leader == Some(1)))
        .await
        .expect("leads in time")
        .unwrap();
    let url = format!("http://{}", handle.endpoints().api);
    let mut client = AgentServiceClient::connect(url).await.unwrap();
    client
        .register(registration("rack-1", "x1000"))
        .await
        .unwrap();
    let mut stream = watch(&mut client, "rack-1").await;
    assert!(next(&mut stream).await.full);
    tokio::time::timeout(PATIENCE, handle.shutdown())
        .await
        .expect("a graceful stop does not wait for Watch streams")
        .unwrap();
    let end = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("the stream ends");
    assert!(!matches!(end, Ok(Some(_))), "{end:?}");
}

async fn replica(
    dir: &std::path::Path,
    id: u64,
    join: Option<String>,
) -> cairn_coordinator::Handle {
    let mut config = cairn_coordinator::Config::new(id, dir);
    config.api_listen = "127.0.0.1:0".parse().unwrap();
    config.raft_listen = "127.0.0.1:0".parse().unwrap();
    config.bootstrap = join.is_none();
    config.join = join;
    cairn_coordinator::start(config).await.unwrap()
}

#[tokio::test]
async fn followers_forward_agent_calls_and_serve_watch() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let leader = replica(dirs[0].path(), 1, None).await;
    let mut m = leader.replica().metrics();
    tokio::time::timeout(PATIENCE, m.wait_for(|m| m.current_leader == Some(1)))
        .await
        .expect("leads in time")
        .unwrap();
    let join = format!("http://{}", leader.endpoints().api);
    let mut followers = Vec::new();
    for (i, dir) in dirs[1..].iter().enumerate() {
        let f = replica(dir.path(), i as u64 + 2, Some(join.clone())).await;
        let mut m = f.replica().metrics();
        tokio::time::timeout(PATIENCE, m.wait_for(|m| m.current_leader == Some(1)))
            .await
            .expect("joins in time")
            .unwrap();
        followers.push(f);
    }
    let url = |h: &cairn_coordinator::Handle| format!("http://{}", h.endpoints().api);
    let mut on_2 = AgentServiceClient::connect(url(&followers[0]))
        .await
        .unwrap();
    let mut on_3 = AgentServiceClient::connect(url(&followers[1]))
        .await
        .unwrap();

    on_2.register(registration("rack-1", "x1000"))
        .await
        .unwrap();
    let discovery = ReportItem::Discovery(found(&bmc(1000, 0), 1, ALL_RESETS));
    let ack = on_3
        .report(report(1, vec![discovery]))
        .await
        .unwrap()
        .into_inner();
    assert!(!ack.duplicate);
    let mut stream = watch(&mut on_2, "rack-1").await;
    let first = next(&mut stream).await;
    assert!(first.full, "{first:?}");

    let http = cairn_coordinator::net::http_client(PATIENCE).unwrap();
    let created: Value = http
        .post(format!(
            "{}/power-control/v1/transitions",
            url(&followers[1])
        ))
        .json(&json!({"operation": "on", "location": [{"xname": "x1000c0s0b0n0"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["transitionID"].as_str().unwrap().to_owned();
    // The follower's stream sees the task once the follower has applied the transition (the
    // endpoint may arrive first if the discovery had not been applied there yet).
    let task = loop {
        let work = next_work(&mut stream).await;
        if let Some(t) = work.items.iter().find_map(|i| match i {
            WorkItem::PowerTask(t) => Some(t.clone()),
            _ => None,
        }) {
            break t;
        }
    };
    assert_eq!(
        (task.transition_id.as_str(), task.xname.as_str()),
        (id.as_str(), "x1000c0s0b0n0")
    );

    // Liveness heard by a follower lands on the leader; any replica lists it.
    on_3.heartbeat(pb::HeartbeatRequest {
        agent_id: "rack-1".into(),
        version: "0.1.2".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let give_up = tokio::time::Instant::now() + PATIENCE;
    loop {
        let list: Value = http
            .get(format!("{}/apis/cairn/v1/agents", url(&followers[0])))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if list["agents"][0]["version"] == "0.1.2" {
            assert_eq!(list["agents"][0]["state"], "connected", "{list}");
            break;
        }
        assert!(tokio::time::Instant::now() < give_up, "never heard: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(stream);
    for f in followers {
        f.shutdown().await.unwrap();
    }
    leader.shutdown().await.unwrap();
}
