//! The Raft leader is killed while the agent is connected: the agent moves to a live replica
//! (its Watch stream reopens, its reports go through the new leader) and keeps working.

use std::time::Duration;

use cairn_sim::PowerState;

use super::{Rack, wait_agent};

#[tokio::test]
async fn the_agent_fails_over_when_the_leader_dies() -> anyhow::Result<()> {
    let mut rack = Rack::start(8, 3, 2, |b| b.power_delay(Duration::from_millis(200))).await?;
    let agent = rack
        .start_agent(rack.agent_config("rack-8", "agent"))
        .await?;
    rack.wait_discovered().await?;
    let nodes = rack.nodes();
    let on = rack.transition("on", &nodes).await?;
    for (x, status, error) in rack.finished(&on).await? {
        assert_eq!(status, "succeeded", "{x}: {error}");
    }

    let leader = rack.cluster.leader().await?;
    rack.cluster.kill(leader);
    let new_leader = rack.cluster.leader().await?;
    assert_ne!(new_leader, leader);

    // Work created after the failover reaches the agent and its results the new leader.
    let off = rack.transition("off", &nodes).await?;
    for (x, status, error) in rack.finished(&off).await? {
        assert_eq!(status, "succeeded", "{x}: {error}");
    }
    for i in 0..2 {
        assert_eq!(rack.sim_state(i, 0), PowerState::Off);
    }
    rack.wait_power_status(&nodes, "off").await?;
    let dead = rack.cluster.api_url(leader);
    let s = wait_agent(&agent, "the agent connected to a live replica", |s| {
        s.coordinator.registered && s.outbox.depth == 0 && s.coordinator.url != dead
    })
    .await?;
    assert_eq!(s.outbox.refused, 0);
    agent.shutdown().await;
    Ok(())
}
