//! Snapshots, log compaction and catch-up by snapshot install.

use std::time::Duration;

use super::common::{Cluster, set, wait_for};

#[tokio::test]
async fn lagging_follower_catches_up_by_snapshot() -> anyhow::Result<()> {
    let c = Cluster::start(3, |cfg| {
        cfg.snapshot_logs_since_last = 50;
        cfg.max_logs_kept_after_snapshot = 5;
    })
    .await?;
    let leader = c.wait_leader(None).await?;
    let lagging = (1..=3).find(|id| *id != leader).unwrap_or(0);
    c.router.isolate(lagging);
    let others: Vec<u64> = (1..=3).filter(|id| *id != lagging).collect();

    for i in 0..200 {
        c.write(&set(format!("k{i}"), format!("v{i}"))).await?;
    }
    let leader = c.wait_leader(Some(&others)).await?;
    // The leader snapshotted and purged past what the lagging follower has.
    let lag_last = c.get(lagging).status().last_log_index.unwrap_or(0);
    let purged = wait_for("leader to purge logs", Duration::from_secs(10), || {
        let st = c.get(leader).status();
        let ok = st.snapshot_index.is_some() && st.purged_index.is_some_and(|p| p > lag_last + 100);
        async move { ok.then_some(st.purged_index) }
    })
    .await?;
    assert!(c.get(lagging).status().snapshot_index.is_none());

    c.router.heal_all();
    c.wait_applied(lagging, 200).await?;
    let st = c.get(lagging).status();
    let snap = st.snapshot_index.unwrap_or(0);
    assert!(
        snap >= purged.unwrap_or(0),
        "follower must have installed a snapshot covering the purged logs: {st:?}"
    );
    let want = c.get(leader).read(|kv| kv.map.clone());
    c.get(lagging).read(|kv| assert_eq!(kv.map, want));

    // An explicit snapshot request builds one.
    let before = c.get(leader).status().snapshot_index;
    c.write(&set("one", "more")).await?;
    c.get(leader).trigger_snapshot().await?;
    wait_for("triggered snapshot", Duration::from_secs(5), || {
        let now = c.get(leader).status().snapshot_index;
        async move { (now > before).then_some(()) }
    })
    .await?;

    for r in c.replicas.values() {
        r.shutdown().await?;
    }
    Ok(())
}
