//! The etcd side: a 3-member etcd cluster on loopback (free ports, a data dir and a log per
//! member) and the same workloads over gRPC, one connection per ≤16 workers as etcd's own
//! `benchmark --conns` does. Requests go to the leader, like Cairn's. The client is tonic stubs
//! generated from `proto/etcd_kv.proto`, our own description of the few etcd v3 calls used.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::{StreamExt, stream};
use tokio::process::{Child, Command};
use tonic::transport::{Channel, Endpoint};

use super::load::{Rng, closed_loop, ms};
use super::rss::{dir_size, vm_rss};
use super::{InventoryArgs, Results, RssResult, Stats, Step, median, xname};
use crate::local_cluster::wait_for;

/// Generated protobuf and tonic client code for `proto/etcd_kv.proto`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
mod pb {
    tonic::include_proto!("etcdserverpb");
}

use pb::kv_client::KvClient;
use pb::maintenance_client::MaintenanceClient;
use pb::{PutRequest, RangeRequest, StatusRequest, StatusResponse};

type Kv = KvClient<Channel>;

const MEMBERS: usize = 3;
const WORKERS_PER_CONN: usize = 16;

/// `etcd --version`'s first line without "Version:", e.g. "etcd 3.4.23".
pub async fn version(bin: &Path) -> Option<String> {
    let out = Command::new(bin).arg("--version").output().await.ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next()?.trim();
    Some(line.replace("Version: ", ""))
}

struct Member {
    name: String,
    client_url: String,
    peer_url: String,
    data_dir: PathBuf,
    id: u64,
    child: Option<Child>,
}

/// etcd members as child processes, killed on drop.
struct EtcdCluster {
    bin: PathBuf,
    members: Vec<Member>,
    initial_cluster: String,
}

fn free_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    // Hold every listener until all ports are known, so that none is handed out twice.
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()?;
    Ok(listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()?)
}

/// One HTTP/2 connection to `url`; `timeout` bounds each request on it.
async fn connect(url: &str, timeout: Duration) -> anyhow::Result<Channel> {
    let channel = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("invalid etcd URL {url:?}"))?
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(2))
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("cannot connect to etcd at {url}"))?;
    Ok(channel)
}

/// Maintenance `Status` of the member at `url`.
async fn status(url: &str) -> anyhow::Result<StatusResponse> {
    let channel = connect(url, Duration::from_secs(1)).await?;
    Ok(MaintenanceClient::new(channel)
        .status(StatusRequest {})
        .await?
        .into_inner())
}

/// Put `key` = `value` through `kv`.
async fn put(kv: &mut Kv, key: String, value: &[u8]) -> Result<(), tonic::Status> {
    kv.put(PutRequest {
        key: key.into_bytes(),
        value: value.to_vec(),
    })
    .await
    .map(drop)
}

impl EtcdCluster {
    async fn start(bin: &Path, dir: &Path) -> anyhow::Result<Self> {
        eprintln!("etcd: starting {MEMBERS} members under {}", dir.display());
        let ports = free_ports(2 * MEMBERS)?;
        let members: Vec<Member> = (0..MEMBERS)
            .map(|i| Member {
                name: format!("m{}", i + 1),
                client_url: format!("http://127.0.0.1:{}", ports[2 * i]),
                peer_url: format!("http://127.0.0.1:{}", ports[2 * i + 1]),
                data_dir: dir.join(format!("m{}", i + 1)),
                id: 0,
                child: None,
            })
            .collect();
        let initial_cluster = members
            .iter()
            .map(|m| format!("{}={}", m.name, m.peer_url))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = Self {
            bin: bin.to_owned(),
            members,
            initial_cluster,
        };
        for i in 0..MEMBERS {
            cluster.spawn(i)?;
        }
        for i in 0..MEMBERS {
            let id = cluster.wait_healthy(i).await?;
            cluster.members[i].id = id;
        }
        cluster.leader().await?;
        Ok(cluster)
    }

    fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        let m = &mut self.members[i];
        std::fs::create_dir_all(&m.data_dir)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(m.data_dir.with_extension("log"))?;
        let child = Command::new(&self.bin)
            .args(["--name", m.name.as_str()])
            .arg("--data-dir")
            .arg(&m.data_dir)
            .args(["--listen-client-urls", m.client_url.as_str()])
            .args(["--advertise-client-urls", m.client_url.as_str()])
            .args(["--listen-peer-urls", m.peer_url.as_str()])
            .args(["--initial-advertise-peer-urls", m.peer_url.as_str()])
            .args(["--initial-cluster", self.initial_cluster.as_str()])
            .args(["--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", "cairn-bench"])
            .args(["--logger", "zap", "--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        m.child = Some(child);
        Ok(())
    }

    /// Wait until member `i` answers `status` with a known leader; its member id.
    async fn wait_healthy(&self, i: usize) -> anyhow::Result<u64> {
        let url = &self.members[i].client_url;
        wait_for(
            Duration::from_secs(30),
            &format!("etcd member {url}"),
            || async move {
                let s = status(url).await?;
                Ok((s.leader != 0).then(|| s.header.map_or(0, |h| h.member_id)))
            },
        )
        .await
    }

    fn running(&self) -> Vec<usize> {
        (0..MEMBERS)
            .filter(|&i| self.members[i].child.is_some())
            .collect()
    }

    /// The index of the leader, as a running member reports it.
    async fn leader(&self) -> anyhow::Result<usize> {
        let running = self.running();
        wait_for(Duration::from_secs(30), "an etcd leader", || {
            let running = &running;
            async move {
                for &i in running {
                    if let Ok(s) = status(&self.members[i].client_url).await {
                        let found = running
                            .iter()
                            .copied()
                            .find(|&j| self.members[j].id == s.leader && s.leader != 0);
                        if found.is_some() {
                            return Ok(found);
                        }
                    }
                }
                Ok(None)
            }
        })
        .await
    }

    async fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(mut child) = self.members[i].child.take() {
            child.kill().await.context("cannot kill etcd")?;
        }
        Ok(())
    }

    /// Restart member `i` from its data dir and wait until it applied what the leader has.
    async fn restart_and_catch_up(&mut self, i: usize) -> anyhow::Result<()> {
        self.spawn(i)?;
        self.wait_healthy(i).await?;
        self.caught_up().await
    }

    /// Wait until every running member applied the same raft index.
    async fn caught_up(&self) -> anyhow::Result<()> {
        let running = self.running();
        wait_for(Duration::from_secs(120), "etcd members to catch up", || {
            let running = &running;
            async move {
                let mut applied = Vec::new();
                for &i in running {
                    applied.push(
                        status(&self.members[i].client_url)
                            .await?
                            .raft_applied_index,
                    );
                }
                Ok(applied.windows(2).all(|w| w[0] == w[1]).then_some(()))
            }
        })
        .await
    }

    async fn stop(&mut self) {
        for m in &mut self.members {
            if let Some(mut child) = m.child.take() {
                let _ = child.kill().await;
            }
        }
    }
}

/// Run the asked-for steps; the memory step gets a fresh cluster of its own.
pub async fn run(args: &InventoryArgs, bin: &Path, dir: &Path) -> anyhow::Result<Results> {
    let mut results = Results::default();
    if [Step::Writes, Step::Reads, Step::Failover]
        .iter()
        .any(|&s| args.wants(s))
    {
        let mut cluster = EtcdCluster::start(bin, &dir.join("main")).await?;
        let outcome = steps(&mut cluster, args, &mut results).await;
        cluster.stop().await;
        outcome?;
    }
    if args.wants(Step::Rss) {
        let mut cluster = EtcdCluster::start(bin, &dir.join("rss")).await?;
        let outcome = memory(&cluster, args).await;
        cluster.stop().await;
        results.rss = Some(outcome?);
        let _ = std::fs::remove_dir_all(dir.join("rss"));
    }
    Ok(results)
}

fn key(k: u64) -> String {
    format!("/cairn-bench/{}", xname(k))
}

/// `workers` KV clients over ⌈workers/16⌉ connections to `url`.
async fn kv_clients(url: &str, workers: usize) -> anyhow::Result<Arc<Vec<Kv>>> {
    let mut conns = Vec::new();
    for _ in 0..workers.div_ceil(WORKERS_PER_CONN) {
        conns.push(KvClient::new(connect(url, Duration::from_secs(10)).await?));
    }
    Ok(Arc::new(
        (0..workers)
            .map(|w| conns[w % conns.len()].clone())
            .collect(),
    ))
}

async fn steps(
    cluster: &mut EtcdCluster,
    args: &InventoryArgs,
    results: &mut Results,
) -> anyhow::Result<()> {
    let value: Arc<Vec<u8>> = Arc::new(vec![b's'; args.record_bytes]);
    if args.wants(Step::Writes) {
        for &workers in &args.clients {
            let url = cluster.members[cluster.leader().await?].client_url.clone();
            eprintln!("etcd: writes, {workers} clients");
            let kvs = kv_clients(&url, workers).await?;
            let (value, keys) = (Arc::clone(&value), args.keys);
            let stats = closed_loop(workers, args.warmup(), args.duration(), move |w, seq| {
                let mut kv = kvs[w].clone();
                let value = Arc::clone(&value);
                let k = key((seq * workers as u64 + w as u64) % keys);
                async move { put(&mut kv, k, &value).await.is_ok() }
            })
            .await;
            eprintln!("  {stats:?}");
            results.writes.push(stats);
        }
    }
    if args.wants(Step::Reads) {
        let url = cluster.members[cluster.leader().await?].client_url.clone();
        eprintln!("etcd: loading {} records for reads", args.keys);
        let kvs = kv_clients(&url, 64).await?;
        put_all(&kvs, args.keys, &value).await?;
        eprintln!("etcd: linearizable reads, {} clients", args.read_clients);
        results.reads = Some(reads(&url, args).await?);
        eprintln!("  {:?}", results.reads);
    }
    if args.wants(Step::Failover) {
        for i in 0..args.failovers {
            let took = failover(cluster, &value).await?;
            eprintln!("etcd: failover {}: {took:.0} ms", i + 1);
            results.failover_ms.push(took);
        }
        eprintln!(
            "etcd: failover median {:.0} ms",
            median(&results.failover_ms)
        );
    }
    Ok(())
}

/// Put keys `0..n` once each, 64 at a time.
async fn put_all(kvs: &Arc<Vec<Kv>>, n: u64, value: &[u8]) -> anyhow::Result<()> {
    let failed = stream::iter(0..n)
        .map(|k| {
            let mut kv = kvs[(k % kvs.len() as u64) as usize].clone();
            async move {
                for _ in 0..3 {
                    if put(&mut kv, key(k), value).await.is_ok() {
                        return 0u64;
                    }
                }
                1
            }
        })
        .buffer_unordered(64)
        .fold(0, |a, b| async move { a + b })
        .await;
    anyhow::ensure!(failed == 0, "{failed} etcd puts failed");
    Ok(())
}

async fn reads(url: &str, args: &InventoryArgs) -> anyhow::Result<Stats> {
    let workers = args.read_clients;
    let kvs = kv_clients(url, workers).await?;
    let keys = args.keys;
    Ok(
        closed_loop(workers, args.warmup(), args.duration(), move |w, seq| {
            let mut kv = kvs[w].clone();
            let k = key(Rng::new(((w as u64) << 32) | seq).below(keys));
            let range = RangeRequest {
                key: k.into_bytes(),
                serializable: false, // linearizable: confirmed through the leader
            };
            async move { matches!(kv.range(range).await, Ok(r) if !r.get_ref().kvs.is_empty()) }
        })
        .await,
    )
}

/// SIGKILL the leader; put through every survivor until one accepts; restart, catch up.
async fn failover(cluster: &mut EtcdCluster, value: &Arc<Vec<u8>>) -> anyhow::Result<f64> {
    let leader = cluster.leader().await?;
    let mut probes = Vec::new();
    for i in cluster.running().into_iter().filter(|&i| i != leader) {
        let mut kv =
            KvClient::new(connect(&cluster.members[i].client_url, Duration::from_secs(1)).await?);
        put(&mut kv, key(0), value).await?;
        probes.push(kv);
    }
    let killed_at = Instant::now();
    cluster.kill(leader).await?;
    let took = super::load::first_accepted(probes, killed_at, async |kv, k| {
        put(kv, key(k), value).await.is_ok()
    })
    .await
    .ok_or_else(|| anyhow::anyhow!("etcd accepted no write within 30 s of killing the leader"))?;
    cluster.restart_and_catch_up(leader).await?;
    Ok(ms(took))
}

/// Put `--rss-nodes` keys of 1 KiB, wait for every member to apply them, measure.
async fn memory(cluster: &EtcdCluster, args: &InventoryArgs) -> anyhow::Result<RssResult> {
    let n = args.rss_nodes;
    let leader = cluster.leader().await?;
    eprintln!("etcd: loading {n} keys of 1 KiB");
    let started = Instant::now();
    let kvs = kv_clients(&cluster.members[leader].client_url, 64).await?;
    put_all(&kvs, n, &[b'n'; 1024]).await?;
    let load_seconds = started.elapsed().as_secs_f64();
    cluster.caught_up().await?;
    let mut per_replica_bytes = Vec::new();
    for m in &cluster.members {
        let pid = m
            .child
            .as_ref()
            .and_then(Child::id)
            .context("etcd not running")?;
        per_replica_bytes.push(vm_rss(pid)?);
    }
    Ok(RssResult {
        nodes: n,
        load_seconds,
        max_bytes: per_replica_bytes.iter().copied().max().unwrap_or(0),
        per_replica_bytes,
        data_dir_bytes: dir_size(&cluster.members[leader].data_dir),
    })
}
