//! Basic 3-replica behaviour: election, replication, forwarding, status.

use std::time::Duration;

use cairn_raft::{MemberRole, WriteError};

use super::common::{Cluster, node, set};

#[tokio::test]
async fn three_replicas_replicate_and_forward() -> anyhow::Result<()> {
    let c = Cluster::start(3, |_| {}).await?;
    let leader = c.wait_leader(None).await?;
    let l = c.get(leader);
    for i in 0..10 {
        assert_eq!(l.write(&set(format!("k{i}"), "v")).await?, None);
    }
    assert_eq!(l.write(&set("k0", "w")).await?, Some("v".to_string()));
    for id in 1..=3 {
        c.wait_applied(id, 11).await?;
        c.get(id).read(|kv| assert_eq!(kv.map.len(), 10));
    }

    // Linearizable read on the leader.
    l.ensure_linearizable().await?;
    assert_eq!(
        l.read(|kv| kv.map.get("k0").cloned()),
        Some("w".to_string())
    );

    // A follower refuses writes and reads, pointing at the leader.
    let follower = (1..=3).find(|id| *id != leader).unwrap_or(1);
    for res in [
        c.get(follower).write(&set("x", "y")).await.map(|_| ()),
        c.get(follower).ensure_linearizable().await,
    ] {
        match res {
            Err(WriteError::ForwardToLeader {
                leader_id: Some(id),
                leader: Some(n),
            }) => {
                assert_eq!(id, leader);
                assert_eq!(n, node(leader));
            }
            other => panic!("expected ForwardToLeader, got {other:?}"),
        }
    }

    // Status on the leader.
    let st = l.status();
    assert_eq!(st.leader, Some(leader));
    assert_eq!(st.members.len(), 3);
    for m in &st.members {
        let role = if m.id == leader {
            MemberRole::Leader
        } else {
            MemberRole::Follower
        };
        assert_eq!(m.role, role, "member {}", m.id);
        assert_eq!(m.node, node(m.id));
    }
    let last = st.last_log_index.unwrap_or(0);
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let st = l.status();
            if st
                .members
                .iter()
                .all(|m| m.matched_index == Some(last) && m.lag == Some(0))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await?;
    let fst = c.get(follower).status();
    assert!(fst.members.iter().all(|m| m.matched_index.is_none()));

    // initialize is a no-op once initialized.
    assert!(c.get(2).is_initialized().await?);
    c.get(2).initialize([(2, node(2))].into()).await?;
    c.wait_leader(None).await?;

    for r in c.replicas.values() {
        r.shutdown().await?;
    }
    Ok(())
}

#[tokio::test]
async fn concurrent_writes_are_batched_and_each_gets_its_own_response() -> anyhow::Result<()> {
    let c = Cluster::start(3, |_| {}).await?;
    let leader = c.wait_leader(None).await?;
    let before = c.get(leader).status().last_applied.unwrap_or(0);
    let writers: Vec<_> = (0..300)
        .map(|i| {
            let l = c.get(leader).clone();
            tokio::spawn(async move { l.write(&set("same", i.to_string())).await })
        })
        .collect();
    // Every write replaces the previous value: the previous values returned, plus the final
    // value, are each value exactly once (and one None for the first write).
    let mut seen = Vec::new();
    for w in writers {
        seen.push(w.await??);
    }
    let last = c.get(leader).read(|kv| kv.map.get("same").cloned());
    seen.push(last);
    assert_eq!(
        seen.iter().filter(|v| v.is_none()).count(),
        1,
        "one first write"
    );
    let mut values: Vec<u32> = seen
        .iter()
        .flatten()
        .map(|v| v.parse())
        .collect::<Result<_, _>>()?;
    values.sort_unstable();
    assert_eq!(values, (0..300).collect::<Vec<_>>());
    let entries = c.get(leader).status().last_applied.unwrap_or(0) - before;
    assert!(
        entries < 300,
        "300 concurrent writes took {entries} log entries: not batched"
    );
    Ok(())
}
