//! The Cairn side: a 3-replica [`LocalCluster`] and the workloads over its REST API, one
//! keep-alive HTTP connection per worker, every request sent to the leader.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::{StreamExt, stream};
use serde_json::json;

use super::load::{Rng, closed_loop};
use super::rss::{dir_size, vm_rss};
use super::{InventoryArgs, Results, RssResult, Step, median, xname};
use crate::client::Client;
use crate::cmd::cluster::fetch_status;
use crate::local_cluster::{LocalCluster, wait_for};

const REPLICAS: u64 = 3;
const COMPONENTS: &str = "/hsm/v2/State/Components";
const INTERFACES: &str = "/hsm/v2/Inventory/EthernetInterfaces";

/// Run the asked-for steps; the memory step gets a fresh cluster of its own.
pub async fn run(args: &InventoryArgs, dir: &Path) -> anyhow::Result<Results> {
    let exe = std::env::current_exe().context("cannot find the cairn executable")?;
    let mut results = Results::default();
    if [Step::Writes, Step::Reads, Step::Failover]
        .iter()
        .any(|&s| args.wants(s))
    {
        let mut cluster = start(&exe, &dir.join("main")).await?;
        let outcome = steps(&mut cluster, args, &mut results).await;
        cluster.stop().await;
        outcome?;
    }
    if args.wants(Step::Rss) {
        let mut cluster = start(&exe, &dir.join("rss")).await?;
        let outcome = memory(&cluster, args).await;
        cluster.stop().await;
        results.rss = Some(outcome?);
        let _ = std::fs::remove_dir_all(dir.join("rss"));
    }
    Ok(results)
}

async fn start(exe: &Path, dir: &Path) -> anyhow::Result<LocalCluster> {
    eprintln!(
        "cairn: starting {REPLICAS} replicas under {}",
        dir.display()
    );
    let cluster = LocalCluster::start(exe, dir, REPLICAS, Duration::from_secs(30)).await?;
    cluster.wait_for_voters(REPLICAS as usize).await?;
    Ok(cluster)
}

async fn steps(
    cluster: &mut LocalCluster,
    args: &InventoryArgs,
    results: &mut Results,
) -> anyhow::Result<()> {
    if args.wants(Step::Writes) {
        for &workers in &args.clients {
            let leader = cluster.api_url(cluster.leader().await?)?;
            eprintln!("cairn: writes, {workers} clients");
            let stats = writes(&leader, args, workers).await?;
            eprintln!("  {stats:?}");
            results.writes.push(stats);
        }
    }
    if args.wants(Step::Reads) {
        let leader = cluster.api_url(cluster.leader().await?)?;
        eprintln!("cairn: loading {} records for reads", args.keys);
        preload(&leader, args).await?;
        eprintln!("cairn: linearizable reads, {} clients", args.read_clients);
        let stats = reads(&leader, args).await?;
        eprintln!("  {stats:?}");
        results.reads = Some(stats);
    }
    if args.wants(Step::Failover) {
        for i in 0..args.failovers {
            let took = failover(cluster, args).await?;
            eprintln!("cairn: failover {}: {took:.0} ms", i + 1);
            results.failover_ms.push(took);
        }
        eprintln!(
            "cairn: failover median {:.0} ms",
            median(&results.failover_ms)
        );
    }
    Ok(())
}

/// One HTTP client holding one keep-alive connection.
fn http(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(2))
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .build()?)
}

fn pad_for(record_bytes: usize) -> Arc<str> {
    let base = component_body(&xname(0), "").len();
    "s".repeat(record_bytes.saturating_sub(base)).into()
}

fn component_json(id: &str, pad: &str) -> serde_json::Value {
    json!({"ID": id, "State": "On", "SoftwareStatus": pad})
}

/// One upsert of about `record_bytes` (the padding is in `SoftwareStatus`).
fn component_body(id: &str, pad: &str) -> String {
    json!({"Components": [component_json(id, pad)], "Force": true}).to_string()
}

async fn post_ok(http: &reqwest::Client, url: &str, body: String) -> bool {
    let sent = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) => {
            let ok = r.status().is_success();
            ok && r.bytes().await.is_ok()
        }
        Err(_) => false,
    }
}

async fn writes(
    leader: &str,
    args: &InventoryArgs,
    workers: usize,
) -> anyhow::Result<super::Stats> {
    let clients: Arc<Vec<reqwest::Client>> = Arc::new(
        (0..workers)
            .map(|_| http(Duration::from_secs(10)))
            .collect::<anyhow::Result<_>>()?,
    );
    let url: Arc<str> = format!("{leader}{COMPONENTS}").into();
    let pad = pad_for(args.record_bytes);
    let keys = args.keys;
    Ok(
        closed_loop(workers, args.warmup(), args.duration(), move |w, seq| {
            let http = clients[w].clone();
            let url = Arc::clone(&url);
            let body = component_body(&xname((seq * workers as u64 + w as u64) % keys), &pad);
            async move { post_ok(&http, &url, body).await }
        })
        .await,
    )
}

/// Upsert every key once, in batches, so that reads find them.
async fn preload(leader: &str, args: &InventoryArgs) -> anyhow::Result<()> {
    let http = http(Duration::from_secs(60))?;
    let url = format!("{leader}{COMPONENTS}");
    let pad = pad_for(args.record_bytes);
    let batch = (4_000_000 / args.record_bytes.max(1)).clamp(1, 1000) as u64;
    let mut k = 0;
    while k < args.keys {
        let end = (k + batch).min(args.keys);
        let list: Vec<_> = (k..end).map(|i| component_json(&xname(i), &pad)).collect();
        let body = json!({"Components": list, "Force": true}).to_string();
        anyhow::ensure!(
            post_ok(&http, &url, body).await,
            "preload batch at key {k} failed"
        );
        k = end;
    }
    Ok(())
}

async fn reads(leader: &str, args: &InventoryArgs) -> anyhow::Result<super::Stats> {
    let workers = args.read_clients;
    let clients: Arc<Vec<reqwest::Client>> = Arc::new(
        (0..workers)
            .map(|_| http(Duration::from_secs(10)))
            .collect::<anyhow::Result<_>>()?,
    );
    let base: Arc<str> = format!("{leader}{COMPONENTS}/").into();
    let keys = args.keys;
    Ok(
        closed_loop(workers, args.warmup(), args.duration(), move |w, seq| {
            let http = clients[w].clone();
            let k = Rng::new(((w as u64) << 32) | seq).below(keys);
            let url = format!("{base}{}", xname(k));
            async move {
                match http.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .await,
    )
}

/// SIGKILL the leader; write through every survivor until one accepts; restart, catch up.
async fn failover(cluster: &mut LocalCluster, args: &InventoryArgs) -> anyhow::Result<f64> {
    let leader = cluster.leader().await?;
    let pad = pad_for(args.record_bytes);
    let probes: Vec<(String, reqwest::Client)> = cluster
        .running()
        .into_iter()
        .filter(|&id| id != leader)
        .map(|id| {
            Ok((
                format!("{}{COMPONENTS}", cluster.api_url(id)?),
                http(Duration::from_secs(1))?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    // Connect before the kill, so that the measurement does not include a TCP handshake.
    for (url, http) in &probes {
        post_ok(http, url, component_body(&xname(0), &pad)).await;
    }
    let killed_at = Instant::now();
    cluster.kill(leader).await?;
    let took = super::load::first_accepted(probes, killed_at, async |(url, http), k| {
        post_ok(http, url, component_body(&xname(k), &pad)).await
    })
    .await
    .ok_or_else(|| anyhow::anyhow!("no write accepted within 30 s of killing the leader"))?;
    cluster.restart(leader).await?;
    cluster.wait_caught_up(leader).await?;
    Ok(super::load::ms(took))
}

fn node_json(k: u64) -> serde_json::Value {
    json!({"ID": xname(k), "State": "On", "Flag": "OK", "Enabled": true, "Role": "Compute",
        "NID": k + 1})
}

fn interface_json(k: u64) -> serde_json::Value {
    let b = k.to_be_bytes();
    json!({
        "MACAddress": format!("02:00:{:02x}:{:02x}:{:02x}:{:02x}", b[4], b[5], b[6], b[7]),
        "ComponentID": xname(k),
        "IPAddresses": [{"IPAddress": format!("10.{}.{}.{}", b[5], b[6], b[7])}],
    })
}

/// Load `--rss-nodes` nodes and interfaces, wait for every replica to apply them, measure.
async fn memory(cluster: &LocalCluster, args: &InventoryArgs) -> anyhow::Result<RssResult> {
    let n = args.rss_nodes;
    let leader_id = cluster.leader().await?;
    let leader = cluster.api_url(leader_id)?;
    eprintln!("cairn: loading {n} nodes and {n} interfaces");
    let started = Instant::now();
    let bulk = http(Duration::from_secs(60))?;
    let url = format!("{leader}{COMPONENTS}");
    for from in (0..n).step_by(1000) {
        let list: Vec<_> = (from..(from + 1000).min(n)).map(node_json).collect();
        let body = json!({"Components": list, "Force": true}).to_string();
        anyhow::ensure!(
            post_ok(&bulk, &url, body).await,
            "node batch at {from} failed"
        );
    }
    let clients: Vec<reqwest::Client> = (0..64)
        .map(|_| http(Duration::from_secs(30)))
        .collect::<anyhow::Result<_>>()?;
    let url = format!("{leader}{INTERFACES}");
    let failed = stream::iter(0..n)
        .map(|k| {
            let (http, url) = (&clients[(k % 64) as usize], &url);
            async move {
                for _ in 0..3 {
                    if post_ok(http, url, interface_json(k).to_string()).await {
                        return 0u64;
                    }
                }
                1
            }
        })
        .buffer_unordered(64)
        .fold(0, |a, b| async move { a + b })
        .await;
    anyhow::ensure!(failed == 0, "{failed} interfaces were refused");
    let load_seconds = started.elapsed().as_secs_f64();
    caught_up(cluster).await?;
    let mut per_replica_bytes = Vec::new();
    for r in cluster.replicas() {
        per_replica_bytes.push(vm_rss(r.pid().context("replica not running")?)?);
    }
    let data_dir = &cluster.replica(leader_id)?.data_dir;
    let log = std::fs::metadata(data_dir.join("replica.log")).map_or(0, |m| m.len());
    Ok(RssResult {
        nodes: n,
        load_seconds,
        max_bytes: per_replica_bytes.iter().copied().max().unwrap_or(0),
        per_replica_bytes,
        data_dir_bytes: dir_size(data_dir).saturating_sub(log),
    })
}

/// Wait until every replica reports the same `last_applied`.
async fn caught_up(cluster: &LocalCluster) -> anyhow::Result<()> {
    let clients: Vec<Client> = cluster
        .running()
        .into_iter()
        .map(|id| cluster.client(id))
        .collect::<anyhow::Result<_>>()?;
    wait_for(
        Duration::from_secs(120),
        "every replica to apply the load",
        || {
            let clients = &clients;
            async move {
                let mut applied = Vec::new();
                for c in clients {
                    applied.push(fetch_status(c).await?.last_applied);
                }
                Ok(applied
                    .windows(2)
                    .all(|w| w[0] == w[1] && w[0].is_some())
                    .then_some(()))
            }
        },
    )
    .await
}
