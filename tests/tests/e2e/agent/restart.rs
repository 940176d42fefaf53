//! An agent that stops and starts again: a transition under way is carried on from where it
//! was, sending no reset twice; a report whose acknowledgement was lost is applied once.

use std::time::Duration;

use cairn_sim::PowerState;
use cairn_tests::wait_for;
use reqwest::Method;
use serde_json::json;

use super::{Rack, copy_dir, wait_agent};

#[tokio::test]
async fn a_restart_mid_transition_resumes_without_sending_twice() -> anyhow::Result<()> {
    let rack = Rack::start(6, 1, 2, |b| b.power_delay(Duration::from_secs(3))).await?;
    let agent = rack
        .start_agent(rack.agent_config("rack-6", "agent"))
        .await?;
    rack.wait_discovered().await?;
    let nodes = rack.nodes();
    let on = rack.transition("on", &nodes).await?;
    // Every reset sent (the simulator counts them) and every task reported started.
    wait_for(
        "every task in progress",
        Duration::from_secs(30),
        || async {
            let started = rack.all_in_progress(&on).await?;
            let sent = (0..2).all(|i| {
                (0..2).all(|n| {
                    rack.sim().bmcs()[i]
                        .system_status(n)
                        .is_some_and(|s| s.resets == 1)
                })
            });
            (started && sent).then_some(())
        },
    )
    .await?;
    // A crash: the loops stop where they are.
    agent.kill().await;
    assert_eq!(
        rack.sim_state(0, 0),
        PowerState::Off,
        "the power change is still pending"
    );

    let agent = rack
        .start_agent(rack.agent_config("rack-6", "agent"))
        .await?;
    let tasks = rack.finished(&on).await?;
    for (x, status, error) in &tasks {
        assert_eq!(status, "succeeded", "{x}: {error}");
    }
    for i in 0..2 {
        for n in 0..2 {
            let s = rack.sim().bmcs()[i].system_status(n).expect("system");
            assert_eq!(s.power_state, PowerState::On, "{}", rack.node(i, n));
            assert_eq!(s.resets, 1, "{}: a reset was sent again", rack.node(i, n));
        }
    }
    wait_agent(&agent, "the outbox to drain", |s| s.outbox.depth == 0).await?;
    agent.shutdown().await;
    Ok(())
}

/// An agent that lost its data directory mid-transition: the coordinators hand it the tasks as
/// in progress, and it carries on from each node's PowerState; the reports its new directory
/// made before registering are numbered after the old ones, so none is taken for a duplicate.
#[tokio::test]
async fn a_lost_data_directory_carries_on_from_the_node_state() -> anyhow::Result<()> {
    let rack = Rack::start(9, 1, 1, |b| b.power_delay(Duration::from_secs(3))).await?;
    let agent = rack.start_agent(rack.agent_config("rack-9", "old")).await?;
    rack.wait_discovered().await?;
    let nodes = rack.nodes();
    let on = rack.transition("on", &nodes).await?;
    rack.wait_in_progress(&on).await?;
    agent.kill().await;

    let agent = rack.start_agent(rack.agent_config("rack-9", "new")).await?;
    for (x, status, error) in rack.finished(&on).await? {
        assert_eq!(status, "succeeded", "{x}: {error}");
    }
    for n in 0..2 {
        assert_eq!(rack.sim_state(0, n), PowerState::On);
    }
    let s = wait_agent(&agent, "the outbox to drain", |s| {
        s.outbox.depth == 0 && s.discovery.runs >= 1
    })
    .await?;
    assert_eq!((s.outbox.duplicates, s.outbox.refused), (0, 0), "{s:?}");
    agent.shutdown().await;
    Ok(())
}

/// A data directory whose outbox holds a report the coordinators have already applied (its
/// acknowledgement lost, here by restoring a copy of the directory): the registration's last
/// applied seq covers it, so it is dropped unsent (sent merged with newer reports under a
/// higher seq, it would apply again), and changes nothing.
#[tokio::test]
async fn a_report_replayed_with_the_same_sequence_is_applied_once() -> anyhow::Result<()> {
    let rack = Rack::start(7, 1, 1, |b| b).await?;
    let bmc = rack.bmc(0);
    let endpoint = format!("/hsm/v2/Inventory/RedfishEndpoints/{bmc}");

    // 1. Register once, with nothing to discover: the directory knows its numbering.
    let mut quiet = rack.agent_config("rack-7", "agent");
    quiet.bmc.subnets.clear();
    let agent = rack.start_agent(quiet.clone()).await?;
    wait_agent(&agent, "registration", |s| s.coordinator.registered).await?;
    agent.shutdown().await;

    // 2. Cut off from the coordinators, discover the BMC: the report waits in the outbox.
    let mut cut_off = rack.agent_config("rack-7", "agent");
    cut_off.coordinators = vec!["http://127.0.0.1:9".into()];
    let agent = rack.start_agent(cut_off).await?;
    let s = wait_agent(&agent, "a discovery report in the outbox", |s| {
        s.discovery.runs >= 1 && s.outbox.depth >= 1
    })
    .await?;
    let replayed_seq = s.outbox.next_seq - 1;
    agent.shutdown().await;
    copy_dir(&rack.data_dir("agent"), &rack.data_dir("copy"))?;

    // 3. Connected again: the report is sent and applied.
    let agent = rack
        .start_agent(rack.agent_config("rack-7", "agent"))
        .await?;
    wait_agent(&agent, "the outbox to drain", |s| {
        s.outbox.depth == 0 && s.outbox.last_acked_seq >= replayed_seq
    })
    .await?;
    let (code, _) = rack.get(&endpoint).await?;
    assert_eq!(code, 200);
    agent.shutdown().await;

    // 4. The operator deletes the BMC's endpoint.
    let (code, body) = rack.send(Method::DELETE, &endpoint, &json!({})).await?;
    assert!(code < 300, "DELETE: {code} {body}");

    // 5. The copy still holds that report: it is dropped as applied, and the endpoint stays
    // deleted (applying it again would recreate it).
    let mut from_copy = quiet;
    from_copy.data_dir = Some(rack.data_dir("copy"));
    let agent = rack.start_agent(from_copy).await?;
    let s = wait_agent(&agent, "the applied report to leave the outbox", |s| {
        s.coordinator.registered && s.outbox.depth == 0
    })
    .await?;
    assert_eq!(s.outbox.refused, 0);
    let (code, body) = rack.get(&endpoint).await?;
    assert_eq!(code, 404, "the replayed report was applied again: {body}");
    // New reports are numbered after everything the coordinators applied.
    assert!(s.outbox.next_seq > replayed_seq, "{s:?}");
    agent.shutdown().await;
    Ok(())
}
