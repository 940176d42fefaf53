//! PCS transitions executed by the agent on simulated BMCs whose power changes land after a
//! delay: per-target status, the simulators' PowerState and the coordinators' power status
//! agree; a BMC that refuses resets fails its targets only, one that recovers is retried; an
//! abort stops what runs.

use std::time::Duration;

use cairn_sim::{FailReset, Fault, PowerState};
use cairn_tests::wait_for;
use reqwest::Method;
use serde_json::json;

use super::{Rack, wait_agent};

fn all_succeeded(tasks: &[(String, String, String)]) {
    for (x, status, error) in tasks {
        assert_eq!(status, "succeeded", "{x}: {error}");
    }
}

#[tokio::test]
async fn on_off_and_restart_across_bmcs() -> anyhow::Result<()> {
    let rack = Rack::start(3, 1, 3, |b| b.power_delay(Duration::from_millis(400))).await?;
    let agent = rack
        .start_agent(rack.agent_config("rack-3", "agent"))
        .await?;
    rack.wait_discovered().await?;
    let nodes = rack.nodes();
    assert_eq!(nodes.len(), 6);

    let on = rack.transition("on", &nodes).await?;
    let tasks = rack.finished(&on).await?;
    assert_eq!(tasks.len(), 6);
    all_succeeded(&tasks);
    for i in 0..3 {
        for n in 0..2 {
            assert_eq!(rack.sim_state(i, n), PowerState::On, "{}", rack.node(i, n));
        }
    }
    rack.wait_power_status(&nodes, "on").await?;

    // Nodes already on: succeeded without a reset.
    let before = rack.sim().bmcs()[0].system_status(0).map(|s| s.resets);
    let again = rack.transition("on", &nodes[..2]).await?;
    all_succeeded(&rack.finished(&again).await?);
    assert_eq!(
        rack.sim().bmcs()[0].system_status(0).map(|s| s.resets),
        before
    );

    let boots: Vec<u64> = (0..3)
        .map(|i| rack.sim().bmcs()[i].system_status(0).map_or(0, |s| s.boots))
        .collect();
    let restart = rack.transition("hard-restart", &nodes).await?;
    all_succeeded(&rack.finished(&restart).await?);
    for (i, before) in boots.iter().enumerate() {
        let status = rack.sim().bmcs()[i].system_status(0).expect("system 0");
        assert_eq!(status.power_state, PowerState::On);
        assert!(
            status.boots > *before,
            "{} did not boot again",
            rack.node(i, 0)
        );
    }

    let off = rack.transition("off", &nodes).await?;
    all_succeeded(&rack.finished(&off).await?);
    for i in 0..3 {
        for n in 0..2 {
            assert_eq!(rack.sim_state(i, n), PowerState::Off, "{}", rack.node(i, n));
        }
    }
    rack.wait_power_status(&nodes, "off").await?;
    // Soft-restart needs the node on: failed, with PCS's reason, and nothing sent.
    let soft = rack.transition("soft-restart", &nodes[..1]).await?;
    let tasks = rack.finished(&soft).await?;
    assert_eq!(tasks[0].1, "failed");
    assert!(tasks[0].2.contains("wrong power state"), "{tasks:?}");
    wait_agent(&agent, "the outbox to drain", |s| s.outbox.depth == 0).await?;
    agent.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_bmc_refusing_resets_fails_only_its_nodes() -> anyhow::Result<()> {
    let rack = Rack::start(4, 1, 3, |b| b.power_delay(Duration::from_millis(200))).await?;
    let agent = rack
        .start_agent(rack.agent_config("rack-4", "agent"))
        .await?;
    rack.wait_discovered().await?;
    rack.sim().bmcs()[1].add_fault(Fault::FailReset(FailReset::Error500));
    let nodes = rack.nodes();
    let on = rack.transition("on", &nodes).await?;
    let tasks = rack.finished(&on).await?;
    for (x, status, error) in &tasks {
        if x.starts_with(&rack.bmc(1)) {
            assert_eq!(status, "failed", "{x}");
            assert!(error.contains("500"), "{x}: {error}");
        } else {
            assert_eq!(status, "succeeded", "{x}: {error}");
        }
    }
    assert_eq!(rack.sim_state(1, 0), PowerState::Off);
    assert_eq!(rack.sim_state(0, 0), PowerState::On);
    agent.shutdown().await;
    Ok(())
}

/// A BMC that answers 500 to the first reset and then recovers: the agent retries, and the
/// node is reset exactly once.
#[tokio::test]
async fn a_reset_failing_for_a_while_is_retried() -> anyhow::Result<()> {
    let rack = Rack::start(10, 1, 1, |b| b.power_delay(Duration::from_millis(200))).await?;
    let agent = rack
        .start_agent(rack.agent_config("rack-10", "agent"))
        .await?;
    rack.wait_discovered().await?;
    let bmc = &rack.sim().bmcs()[0];
    bmc.add_fault(Fault::FailReset(FailReset::Error500));
    let resets = bmc.system_status(0).map(|s| s.resets);
    let node = rack.node(0, 0);
    let on = rack.transition("on", std::slice::from_ref(&node)).await?;
    // IN_PROGRESS is reported before the reset goes out: by the time the coordinators show
    // it, the first POST has (almost always) met the fault.
    let path = format!("/power-control/v1/transitions/{on}");
    wait_for("the task to start", Duration::from_secs(60), || async {
        let (_, body) = rack.get(&path).await.ok()?;
        let started = body["tasks"]
            .as_array()?
            .iter()
            .any(|t| t["taskStatus"] == "in-progress" || t["taskStatus"] == "succeeded");
        started.then_some(())
    })
    .await?;
    bmc.set_faults(Vec::new());
    all_succeeded(&rack.finished(&on).await?);
    assert_eq!(rack.sim_state(0, 0), PowerState::On);
    assert_eq!(
        bmc.system_status(0).map(|s| s.resets),
        resets.map(|r| r + 1)
    );
    agent.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_abort_stops_running_tasks_and_reports_the_real_state() -> anyhow::Result<()> {
    // Power never lands within the test: the tasks wait until the abort.
    let rack = Rack::start(5, 1, 1, |b| b.power_delay(Duration::from_secs(600))).await?;
    let agent = rack
        .start_agent(rack.agent_config("rack-5", "agent"))
        .await?;
    rack.wait_discovered().await?;
    let nodes = rack.nodes();
    let on = rack.transition("on", &nodes).await?;
    rack.wait_in_progress(&on).await?;
    let path = format!("/power-control/v1/transitions/{on}");
    let (code, body) = rack.send(Method::DELETE, &path, &json!({})).await?;
    assert_eq!(code, 202, "{body}");
    let tasks = rack.finished(&on).await?;
    for (x, status, error) in &tasks {
        assert_eq!(status, "failed", "{x}");
        assert!(
            error.contains("aborted") && error.contains("Off"),
            "{x}: {error}"
        );
    }
    wait_agent(&agent, "the aborted tasks to stop", |s| {
        s.power.tasks_running == 0
    })
    .await?;
    agent.shutdown().await;
    Ok(())
}

/// The coordinators vanish mid-transition: the agent finishes the tasks it holds (the BMCs
/// reach the wanted state), queues the results, and reports them when the coordinators are
/// back, which then complete the transition.
#[tokio::test]
async fn a_cut_off_agent_finishes_the_tasks_it_holds() -> anyhow::Result<()> {
    let mut rack = Rack::start(11, 1, 2, |b| b.power_delay(Duration::from_secs(2))).await?;
    let agent = rack
        .start_agent(rack.agent_config("rack-11", "agent"))
        .await?;
    rack.wait_discovered().await?;
    let nodes = rack.nodes();
    let on = rack.transition("on", &nodes).await?;
    rack.wait_in_progress(&on).await?;

    rack.cluster.kill(1);
    wait_for(
        "every node on, cut off",
        Duration::from_secs(30),
        || async {
            let on = (0..2).all(|i| (0..2).all(|n| rack.sim_state(i, n) == PowerState::On));
            on.then_some(())
        },
    )
    .await?;
    wait_agent(&agent, "the results queued", |s| {
        s.power.tasks_running == 0 && s.outbox.depth > 0
    })
    .await?;

    rack.cluster.restart(1).await?;
    all_succeeded(&rack.finished(&on).await?);
    wait_agent(&agent, "the outbox drained", |s| s.outbox.depth == 0).await?;
    agent.shutdown().await;
    Ok(())
}
