//! Three real `cairn-coordinator` processes on loopback: failover, catch-up (log and
//! snapshot), full restarts and loss of quorum. Run serially (see .config/nextest.toml).

use std::time::{Duration, Instant};

use cairn_tests::{Cluster, wait_for};
use reqwest::Method;
use serde_json::{Value, json};

fn node(cab: u32, slot: u32, n: u32) -> String {
    format!("x{cab}c0s{slot}b0n{n}")
}

fn components(cab: u32, slots: std::ops::Range<u32>) -> Value {
    let list: Vec<Value> = slots
        .flat_map(|s| (0..2).map(move |n| json!({"ID": node(cab, s, n), "State": "Off", "Role": "Compute", "NID": s * 2 + n + 1})))
        .collect();
    json!({ "Components": list })
}

async fn count(c: &Cluster, id: u64, stale: bool) -> Option<usize> {
    let path = if stale {
        "/hsm/v2/State/Components?stale=true"
    } else {
        "/hsm/v2/State/Components"
    };
    let (status, body) = c.get(id, path).await.ok()?;
    (status == 200).then(|| body["Components"].as_array().map_or(0, Vec::len))
}

/// Write until some running replica accepts it, returning how long that took.
async fn write_until_accepted(c: &Cluster, body: &Value) -> anyhow::Result<Duration> {
    let start = Instant::now();
    wait_for(
        "a write to be accepted",
        Duration::from_secs(15),
        || async {
            for id in c.running() {
                if let Ok((204, _)) = c
                    .send(id, Method::POST, "/hsm/v2/State/Components", body)
                    .await
                {
                    return Some(());
                }
            }
            None
        },
    )
    .await?;
    Ok(start.elapsed())
}

#[tokio::test]
async fn writes_through_a_follower_survive_leader_loss_and_the_old_leader_catches_up()
-> anyhow::Result<()> {
    let mut c = Cluster::builder().coordinators(3).start().await?;
    let leader = c.leader().await?;
    let follower = c
        .ids()
        .into_iter()
        .find(|&i| i != leader)
        .expect("a follower");

    let (status, body) = c
        .send(
            follower,
            Method::POST,
            "/hsm/v2/State/Components",
            &components(1000, 0..8),
        )
        .await?;
    assert_eq!(status, 204, "write through follower {follower}: {body}");
    // Linearizable reads on every replica see the acknowledged write at once.
    for id in c.ids() {
        assert_eq!(count(&c, id, false).await, Some(16), "replica {id}");
    }

    c.kill(leader);
    let took = write_until_accepted(&c, &components(1001, 0..4)).await?;
    eprintln!("leader {leader} SIGKILLed: writes accepted again after {took:?}");
    let new_leader = c.leader().await?;
    assert_ne!(new_leader, leader);
    assert_eq!(count(&c, new_leader, false).await, Some(24));

    c.restart(leader).await?;
    wait_for(
        "the restarted replica to catch up",
        Duration::from_secs(20),
        || async { (count(&c, leader, true).await == Some(24)).then_some(()) },
    )
    .await?;
    let (_, one) = c
        .get(
            leader,
            &format!("/hsm/v2/State/Components/{}?stale=true", node(1001, 3, 1)),
        )
        .await?;
    assert_eq!(one["Role"], "Compute");
    Ok(())
}

#[tokio::test]
async fn a_replica_behind_the_compacted_log_catches_up_by_snapshot() -> anyhow::Result<()> {
    let mut c = Cluster::builder()
        .coordinators(3)
        .snapshot_every(20, 2)
        .start()
        .await?;
    let leader = c.leader().await?;
    let lagging = c
        .ids()
        .into_iter()
        .find(|&i| i != leader)
        .expect("a follower");
    c.kill(lagging);

    // Many small writes, so the log is compacted several times while the follower is away.
    for cab in 0..60 {
        let (status, body) = c
            .send(
                leader,
                Method::POST,
                "/hsm/v2/State/Components",
                &components(cab, 0..2),
            )
            .await?;
        assert_eq!(status, 204, "{body}");
    }
    let leader_view = c.cluster_status(leader).await?;
    assert!(
        leader_view["snapshot_index"].as_u64().unwrap_or(0) > 0,
        "leader compacted: {leader_view}"
    );

    c.restart(lagging).await?;
    wait_for(
        "the lagging replica to catch up",
        Duration::from_secs(30),
        || async { (count(&c, lagging, true).await == Some(240)).then_some(()) },
    )
    .await?;
    let view = c.cluster_status(lagging).await?;
    assert!(
        view["snapshot_index"].as_u64().unwrap_or(0) > 0,
        "caught up through an installed snapshot: {view}"
    );
    Ok(())
}

#[tokio::test]
async fn stopping_and_starting_the_whole_cluster_keeps_every_acknowledged_write()
-> anyhow::Result<()> {
    let mut c = Cluster::builder().coordinators(3).start().await?;
    let mut acknowledged = 0;
    for cab in 0..10 {
        let target = c.ids()[cab as usize % 3];
        let (status, _) = c
            .send(
                target,
                Method::POST,
                "/hsm/v2/State/Components",
                &components(cab, 0..5),
            )
            .await?;
        if status == 204 {
            acknowledged += 10;
        }
    }
    assert_eq!(acknowledged, 100);
    let (status, _) = c
        .send(
            c.leader().await?,
            Method::POST,
            "/hsm/v2/groups",
            &json!({"label": "blue", "members": {"ids": [node(3, 1, 0)]}}),
        )
        .await?;
    assert_eq!(status, 201);

    for id in c.ids() {
        c.kill(id);
    }
    for id in c.ids() {
        c.restart(id).await?;
    }
    let leader = c.leader().await?;
    assert_eq!(count(&c, leader, false).await, Some(100));
    let (status, group) = c.get(leader, "/hsm/v2/groups/blue").await?;
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["members"]["ids"], json!([node(3, 1, 0)]));
    Ok(())
}

#[tokio::test]
async fn without_a_quorum_writes_fail_fast_with_503() -> anyhow::Result<()> {
    let mut c = Cluster::builder().coordinators(3).start().await?;
    let leader = c.leader().await?;
    let followers: Vec<u64> = c.ids().into_iter().filter(|&i| i != leader).collect();
    // Keep one follower and lose the leader and the other follower: no majority remains.
    c.kill(leader);
    c.kill(followers[1]);
    let survivor = followers[0];

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    for attempt in 0..3 {
        let resp = client
            .post(format!("{}/hsm/v2/State/Components", c.api_url(survivor)))
            .json(&components(7, 0..1))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("attempt {attempt}: no answer within 5 s: {e}"))?;
        assert_eq!(resp.status().as_u16(), 503, "attempt {attempt}");
        let problem: Value = resp.json().await?;
        assert_eq!(problem["status"], 503);
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    // A linearizable read cannot be served either; a stale one can.
    let resp = client
        .get(format!("{}/hsm/v2/State/Components", c.api_url(survivor)))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(count(&c, survivor, true).await, Some(0));

    // The same when the lone survivor is the old leader.
    let mut c = Cluster::builder().coordinators(3).start().await?;
    let leader = c.leader().await?;
    for id in c.ids().into_iter().filter(|&i| i != leader) {
        c.kill(id);
    }
    let resp = client
        .post(format!("{}/hsm/v2/State/Components", c.api_url(leader)))
        .json(&components(8, 0..1))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("isolated leader: no answer within 5 s: {e}"))?;
    assert_eq!(resp.status().as_u16(), 503);
    Ok(())
}
