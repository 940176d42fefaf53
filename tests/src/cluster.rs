//! A cluster of coordinator processes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use crate::poll::wait_for;
use crate::process::Replica;

/// Builds a [`Cluster`].
pub struct ClusterBuilder {
    coordinators: usize,
    snapshot_logs_since_last: u64,
    max_logs_kept_after_snapshot: u64,
    extra_config: String,
    netns: Option<(String, Vec<Ipv4Addr>)>,
}

impl ClusterBuilder {
    /// Number of replicas (default 3).
    pub fn coordinators(mut self, n: usize) -> Self {
        self.coordinators = n;
        self
    }

    /// Compact the log often, so lagging replicas must catch up by snapshot.
    pub fn snapshot_every(mut self, logs: u64, keep: u64) -> Self {
        self.snapshot_logs_since_last = logs;
        self.max_logs_kept_after_snapshot = keep;
        self
    }

    /// Add TOML to every replica's configuration file (top-level keys or whole tables; it is
    /// written before the `[raft]` table).
    pub fn config(mut self, toml: &str) -> Self {
        self.extra_config.push_str(toml);
        self.extra_config.push('\n');
        self
    }

    /// Run the replicas inside network namespace `ns` (e.g. [`crate::netns::RackNet::co_ns`]),
    /// replica `i` listening on `addrs[i - 1]`. The test reaches each API through a loopback
    /// [`crate::netns::Forwarder`], which [`Cluster::api_url`] and [`Cluster::api_addr`] name;
    /// [`Cluster::ns_api_addr`] is the address inside the namespace (for an agent to dial).
    pub fn netns(mut self, ns: &str, addrs: &[Ipv4Addr]) -> Self {
        self.netns = Some((ns.to_owned(), addrs.to_vec()));
        self
    }

    /// Start replica 1 with `--bootstrap`, the others with `--join`, and wait until all vote.
    pub async fn start(self) -> anyhow::Result<Cluster> {
        if let Some((ns, addrs)) = &self.netns {
            anyhow::ensure!(
                addrs.len() >= self.coordinators,
                "{} replicas in netns {ns} need as many addresses, got {}",
                self.coordinators,
                addrs.len()
            );
        }
        let dir = tempfile::Builder::new().prefix("cairn-test-").tempdir()?;
        let mut replicas = Vec::new();
        for id in 1..=self.coordinators as u64 {
            let rdir = dir.path().join(format!("replica-{id}"));
            std::fs::create_dir_all(&rdir)?;
            let config = rdir.join("coordinator.toml");
            std::fs::write(
                &config,
                format!(
                    "node_id = {id}\ndata_dir = {:?}\n{}\n[raft]\nsnapshot_logs_since_last = {}\nmax_logs_kept_after_snapshot = {}\n",
                    rdir.join("data"),
                    self.extra_config,
                    self.snapshot_logs_since_last,
                    self.max_logs_kept_after_snapshot
                ),
            )?;
            replicas.push(Replica {
                id,
                dir: rdir,
                config,
                endpoints: None,
                child: None,
                restarts: 0,
                netns: self.netns.as_ref().map(|(ns, _)| ns.clone()),
                listen_ip: self
                    .netns
                    .as_ref()
                    .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |(_, a)| {
                        IpAddr::V4(a[(id - 1) as usize])
                    }),
                forward: None,
            });
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut cluster = Cluster {
            dir: Some(dir),
            replicas,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
        };
        cluster.replicas[0].spawn(&["--bootstrap".into()]).await?;
        // Dialled by the joining replicas, so the address in their namespace.
        let seed = format!("http://{}", cluster.ns_api_addr(1));
        for i in 1..cluster.replicas.len() {
            cluster.replicas[i]
                .spawn(&["--join".into(), seed.clone()])
                .await?;
        }
        let n = cluster.replicas.len();
        wait_for(
            "every replica to be a voter",
            Duration::from_secs(30),
            || {
                let c = &cluster;
                async move {
                    let v = c.cluster_status(1).await.ok()?;
                    let voters = v["members"]
                        .as_array()?
                        .iter()
                        .filter(|m| m["role"] != "learner")
                        .count();
                    (voters == n).then_some(())
                }
            },
        )
        .await?;
        Ok(cluster)
    }
}

/// Running replicas in a temp dir. Dropping it kills every process; the dir is removed unless
/// the test is failing (then its path is printed, with each replica's log).
pub struct Cluster {
    dir: Option<tempfile::TempDir>,
    replicas: Vec<Replica>,
    client: reqwest::Client,
}

impl Cluster {
    /// Start building a cluster.
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder {
            coordinators: 3,
            snapshot_logs_since_last: 5_000,
            max_logs_kept_after_snapshot: 1_000,
            extra_config: String::new(),
            netns: None,
        }
    }

    fn replica(&self, id: u64) -> &Replica {
        &self.replicas[(id - 1) as usize]
    }

    fn replica_mut(&mut self, id: u64) -> &mut Replica {
        &mut self.replicas[(id - 1) as usize]
    }

    /// Ids of every replica.
    pub fn ids(&self) -> Vec<u64> {
        self.replicas.iter().map(|r| r.id).collect()
    }

    /// Ids of the replicas whose process runs.
    pub fn running(&self) -> Vec<u64> {
        self.replicas
            .iter()
            .filter(|r| r.is_running())
            .map(|r| r.id)
            .collect()
    }

    /// `http://host:port` of a replica's API, as the test reaches it.
    pub fn api_url(&self, id: u64) -> String {
        format!("http://{}", self.api_addr(id))
    }

    /// The socket address of a replica's API, as the test reaches it (in a namespace: its
    /// forwarder's).
    pub fn api_addr(&self, id: u64) -> SocketAddr {
        self.replica(id).reach_api().expect("replica was started")
    }

    /// The socket address a replica's API listens on: the same as [`Cluster::api_addr`]
    /// unless the cluster runs in a namespace ([`ClusterBuilder::netns`]).
    pub fn ns_api_addr(&self, id: u64) -> SocketAddr {
        self.replica(id).endpoints.expect("replica was started").api
    }

    /// A shared HTTP client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Where the cluster's files are.
    pub fn dir(&self) -> PathBuf {
        self.dir
            .as_ref()
            .map(|d| d.path().to_owned())
            .unwrap_or_default()
    }

    /// `GET /apis/cairn/v1/cluster` on one replica.
    pub async fn cluster_status(&self, id: u64) -> anyhow::Result<Value> {
        let resp = self
            .client
            .get(format!("{}/apis/cairn/v1/cluster", self.api_url(id)))
            .timeout(Duration::from_secs(2))
            .send()
            .await?;
        Ok(resp.error_for_status()?.json().await?)
    }

    /// The leader every running replica agrees on.
    pub async fn leader(&self) -> anyhow::Result<u64> {
        wait_for(
            "the running replicas to agree on a leader",
            Duration::from_secs(20),
            || async {
                let mut seen = None;
                for id in self.running() {
                    let leader = self.cluster_status(id).await.ok()?["leader"].as_u64()?;
                    if seen.is_some_and(|s| s != leader) || !self.running().contains(&leader) {
                        return None;
                    }
                    seen = Some(leader);
                }
                seen
            },
        )
        .await
    }

    /// SIGKILL one replica.
    pub fn kill(&mut self, id: u64) {
        self.replica_mut(id).kill();
    }

    /// Restart a killed replica from its data dir, on its old ports, without bootstrap or join.
    pub async fn restart(&mut self, id: u64) -> anyhow::Result<()> {
        self.replica_mut(id).spawn(&[]).await.map(|_| ())
    }

    /// `GET` a path on one replica; returns status and JSON (Null when the body is not JSON).
    pub async fn get(&self, id: u64, path: &str) -> anyhow::Result<(u16, Value)> {
        let resp = self
            .client
            .get(format!("{}{path}", self.api_url(id)))
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// Send a JSON body with `method` to one replica.
    pub async fn send(
        &self,
        id: u64,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<(u16, Value)> {
        let resp = self
            .client
            .request(method, format!("{}{path}", self.api_url(id)))
            .json(body)
            .send()
            .await
            .with_context(|| format!("{path} on replica {id}"))?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// Stop every process now and keep the files (when a test wants to inspect them).
    pub fn keep_files(&mut self) -> Option<PathBuf> {
        self.dir.take().map(tempfile::TempDir::keep)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for r in &mut self.replicas {
            r.kill();
        }
        if std::thread::panicking()
            && let Some(dir) = self.keep_files()
        {
            eprintln!("cluster files kept for inspection: {}", dir.display());
            for r in &self.replicas {
                eprintln!("  replica {} logs: {}/replica-*.log", r.id, r.dir.display());
            }
        }
    }
}
