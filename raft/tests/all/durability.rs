//! sled durability: restart from disk, and a 3-replica cluster over real gRPC.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use cairn_raft::{Node, NodeId, Replica, Storage, Transport};
use tokio::net::TcpListener;

use super::common::{Kv, config, node, set, wait_for, wait_for_applied, write_retry};

async fn start_sled(
    id: NodeId,
    n: Node,
    dir: &std::path::Path,
    eager_snapshots: bool,
) -> anyhow::Result<Replica<Kv>> {
    let mut cfg = config(id, n, Storage::Sled(dir.to_path_buf()));
    if eager_snapshots {
        // Snapshot and purge eagerly so a restarted replica catches up by snapshot install.
        cfg.snapshot_logs_since_last = 8;
        cfg.max_logs_kept_after_snapshot = 0;
    }
    Ok(Replica::start(cfg, Kv::default(), Transport::Grpc).await?)
}

async fn wait_self_leader(r: &Replica<Kv>) -> anyhow::Result<()> {
    wait_for("single replica to lead", Duration::from_secs(10), || {
        let ok = r.status().leader == Some(r.id());
        async move { ok.then_some(()) }
    })
    .await
}

#[tokio::test]
async fn single_sled_replica_survives_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let r = start_sled(1, node(1), dir.path(), false).await?;
    assert!(!r.is_initialized().await?);
    r.initialize([(1, node(1))].into()).await?;
    wait_self_leader(&r).await?;
    for i in 0..20 {
        r.write(&set(format!("k{i}"), "v")).await?;
    }
    // Snapshot in the middle: the restart restores it, then replays the later logs.
    r.trigger_snapshot().await?;
    wait_for("snapshot", Duration::from_secs(5), || {
        let ok = r.status().snapshot_index.is_some();
        async move { ok.then_some(()) }
    })
    .await?;
    for i in 20..30 {
        r.write(&set(format!("k{i}"), "v")).await?;
    }
    r.shutdown().await?;
    drop(r);

    let r = start_sled(1, node(1), dir.path(), false).await?;
    assert!(r.is_initialized().await?);
    r.initialize([(1, node(1))].into()).await?; // no-op
    wait_self_leader(&r).await?;
    wait_for_applied(&r, 30).await?;
    r.read(|kv| {
        assert_eq!(kv.map.len(), 30);
        assert_eq!(kv.applied, 30, "no command applied twice");
    });
    assert_eq!(r.write(&set("k0", "w")).await?, Some("v".to_string()));
    r.shutdown().await?;
    Ok(())
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let mut last = None;
    for _ in 0..100 {
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(last.context("bind")?.into())
}

fn serve(r: &Replica<Kv>, l: TcpListener) -> tokio::task::JoinHandle<()> {
    let r = r.clone();
    tokio::spawn(async move {
        if let Err(e) = r.serve_grpc(l).await {
            eprintln!("serve_grpc failed: {e:?}");
        }
    })
}

#[tokio::test]
async fn grpc_sled_cluster_restarts_a_replica() -> anyhow::Result<()> {
    let dirs = [
        tempfile::tempdir()?,
        tempfile::tempdir()?,
        tempfile::tempdir()?,
    ];
    let mut listeners = Vec::new();
    let mut nodes = BTreeMap::new();
    for id in 1..=3u64 {
        let l = bind("127.0.0.1:0".parse()?).await?;
        nodes.insert(
            id,
            Node::new(l.local_addr()?.to_string(), format!("api-{id}")),
        );
        listeners.push(l);
    }
    let mut replicas = BTreeMap::new();
    let mut servers = BTreeMap::new();
    for ((id, n), l) in nodes.iter().zip(listeners) {
        let r = start_sled(*id, n.clone(), dirs[(*id - 1) as usize].path(), true).await?;
        servers.insert(*id, serve(&r, l));
        replicas.insert(*id, r);
    }
    replicas[&1].initialize(nodes.clone()).await?;
    for i in 0..10 {
        write_retry(
            &replicas,
            &set(format!("k{i}"), "v"),
            Duration::from_secs(10),
        )
        .await?;
    }

    // Stop a follower; the others keep committing.
    let leader = wait_for("leader", Duration::from_secs(5), || {
        let l = replicas[&1].status().leader;
        async move { l }
    })
    .await?;
    let victim = (1..=3).find(|id| *id != leader).unwrap_or(3);
    let r = replicas.remove(&victim).context("victim")?;
    let victim_last = r.status().last_log_index.unwrap_or(0);
    r.shutdown().await?;
    drop(r);
    if let Some(s) = servers.remove(&victim) {
        tokio::time::timeout(Duration::from_secs(5), s).await??;
    }
    for i in 10..30 {
        write_retry(
            &replicas,
            &set(format!("k{i}"), "v"),
            Duration::from_secs(10),
        )
        .await?;
    }
    // The leader purged logs the stopped replica lacks: it must catch up by a snapshot
    // sent over gRPC.
    wait_for("leader to purge", Duration::from_secs(5), || {
        let purged = replicas[&leader].status().purged_index;
        async move { (purged > Some(victim_last + 5)).then_some(()) }
    })
    .await?;

    // Restart it from its directory on the same address: it catches up.
    let n = nodes[&victim].clone();
    let l = bind(n.raft_addr.parse()?).await?;
    let r = start_sled(victim, n, dirs[(victim - 1) as usize].path(), true).await?;
    servers.insert(victim, serve(&r, l));
    replicas.insert(victim, r);
    write_retry(&replicas, &set("after", "restart"), Duration::from_secs(10)).await?;
    for r in replicas.values() {
        if let Err(e) = wait_for_applied(r, 31).await {
            for r in replicas.values() {
                eprintln!(
                    "{} applied={} {:?}",
                    r.id(),
                    r.read(|kv| kv.applied),
                    r.status()
                );
            }
            return Err(e);
        }
        r.read(|kv| assert_eq!(kv.map.len(), 31));
    }
    let st = replicas[&victim].status();
    assert!(
        st.snapshot_index >= Some(15),
        "restarted replica installed a snapshot: {st:?}"
    );
    for r in replicas.values() {
        r.shutdown().await?;
    }
    for (_, s) in servers {
        tokio::time::timeout(Duration::from_secs(5), s).await??;
    }
    Ok(())
}
