//! Partitions and faulty links.

use std::time::{Duration, Instant};

use cairn_raft::{Fault, WriteError};

use super::common::{Cluster, set, wait_for_applied};

#[tokio::test]
async fn isolated_leader_is_replaced_and_catches_up() -> anyhow::Result<()> {
    let c = Cluster::start(3, |_| {}).await?;
    let old = c.wait_leader(None).await?;
    c.write(&set("a", "1")).await?;

    c.router.isolate(old);
    let others: Vec<u64> = (1..=3).filter(|id| *id != old).collect();
    let new = c.wait_leader(Some(&others)).await?;
    assert_ne!(new, old);
    c.get(new).write(&set("b", "2")).await?;
    c.get(new).write(&set("c", "3")).await?;

    // The old leader cannot commit: it fails within the bound, it never hangs.
    let t = Instant::now();
    let res = c.get(old).write(&set("lost", "x")).await;
    assert!(
        matches!(
            res,
            Err(WriteError::Unavailable(_) | WriteError::ForwardToLeader { .. })
        ),
        "{res:?}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
    let t = Instant::now();
    let res = c.get(old).ensure_linearizable().await;
    assert!(res.is_err(), "{res:?}");
    assert!(t.elapsed() < Duration::from_secs(3));

    c.router.heal_all();
    let leader = c.wait_leader(None).await?;
    assert_ne!(leader, old, "the old leader's log is behind; it cannot win");
    wait_for_applied(c.get(old), 3).await?;
    c.get(old).read(|kv| {
        assert_eq!(kv.map.get("b").map(String::as_str), Some("2"));
        assert_eq!(kv.map.get("c").map(String::as_str), Some("3"));
        assert!(
            !kv.map.contains_key("lost"),
            "uncommitted entry of the old term must be dropped"
        );
    });
    for r in c.replicas.values() {
        r.shutdown().await?;
    }
    Ok(())
}

#[tokio::test]
async fn dropped_and_delayed_links_still_commit() -> anyhow::Result<()> {
    let c = Cluster::start(3, |_| {}).await?;
    let leader = c.wait_leader(None).await?;
    let mut followers = (1..=3).filter(|id| *id != leader);
    let (f1, f2) = (followers.next().unwrap_or(0), followers.next().unwrap_or(0));

    // f1 loses everything from the leader; the link to f2 is slow but within the RPC ttl.
    c.router.set_fault(leader, f1, Fault::Drop);
    c.router
        .set_fault(leader, f2, Fault::Delay(Duration::from_millis(15)));
    c.router
        .set_fault(f2, leader, Fault::Delay(Duration::from_millis(15)));
    for i in 0..20 {
        c.write(&set(format!("k{i}"), "v")).await?;
    }
    // A majority (whoever leads now, and one follower) has everything.
    super::common::wait_for("a majority to apply 20", Duration::from_secs(5), || {
        let n = c
            .replicas
            .values()
            .filter(|r| r.read(|kv| kv.applied) >= 20)
            .count();
        async move { (n >= 2).then_some(()) }
    })
    .await?;

    // Heal: everyone converges.
    c.router.heal_all();
    c.wait_leader(None).await?;
    c.write(&set("after", "heal")).await?;
    for id in 1..=3 {
        c.wait_applied(id, 21).await?;
        c.get(id).read(|kv| assert_eq!(kv.map.len(), 21));
    }

    // Unreachable on both directions of one link behaves like a partial partition.
    let leader = c.wait_leader(None).await?;
    let other = (1..=3).find(|id| *id != leader).unwrap_or(0);
    c.router.set_fault(leader, other, Fault::Unreachable);
    c.router.set_fault(other, leader, Fault::Unreachable);
    c.write(&set("partial", "1")).await?;
    c.router.heal_all();
    for id in 1..=3 {
        c.wait_applied(id, 22).await?;
    }
    for r in c.replicas.values() {
        r.shutdown().await?;
    }
    Ok(())
}
