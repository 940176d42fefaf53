//! A cluster of coordinator replicas running as child processes on this machine, each started
//! as `<this executable> replica ...` with its data and log in one directory. Used by
//! `cairn demo` (and meant for `cairn bench`): spawn, find endpoints, find the leader, kill,
//! restart with the same ports.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use cairn_coordinator::Endpoints;
use cairn_coordinator::api::ClusterView;
use tokio::process::{Child, Command};

use crate::client::Client;
use crate::cmd::cluster::{fetch_status, voters};

/// One replica process.
#[derive(Debug)]
pub struct Replica {
    /// Raft id.
    pub id: u64,
    /// Its data directory (also holds `replica.log`).
    pub data_dir: PathBuf,
    /// Where it listens (kept across restarts).
    pub endpoints: Endpoints,
    /// `--bootstrap` or `--join URL`, repeated on restart.
    mode: Vec<String>,
    child: Option<Child>,
}

impl Replica {
    /// The API base URL.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.endpoints.api)
    }

    /// Its API address.
    pub fn api_addr(&self) -> std::net::SocketAddr {
        self.endpoints.api
    }

    /// Whether the process is running (as far as this cluster knows).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }
}

/// Replica processes under one directory.
#[derive(Debug)]
pub struct LocalCluster {
    exe: PathBuf,
    dir: PathBuf,
    replicas: BTreeMap<u64, Replica>,
    timeout: Duration,
}

/// Poll `check` every 50 ms until it yields a value or `timeout` passes; the error names `what`
/// and the last failure seen.
pub async fn wait_for<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    let mut last = String::from("no answer yet");
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last = format!("{e:#}"),
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what} (last: {last})");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl LocalCluster {
    /// Start `n` replicas of `exe` under `dir`: node 1 bootstraps, the others join it.
    /// `timeout` bounds each wait (endpoints, membership, catch-up).
    pub async fn start(exe: &Path, dir: &Path, n: u64, timeout: Duration) -> anyhow::Result<Self> {
        Self::start_with(exe, dir, n, timeout, &[]).await
    }

    /// [`LocalCluster::start`], with `flags` added to every replica's command line (and kept
    /// for restarts).
    pub async fn start_with(
        exe: &Path,
        dir: &Path,
        n: u64,
        timeout: Duration,
        flags: &[String],
    ) -> anyhow::Result<Self> {
        let with = |mode: Vec<String>| [flags.to_vec(), mode].concat();
        let mut cluster = Self {
            exe: exe.to_owned(),
            dir: dir.to_owned(),
            replicas: BTreeMap::new(),
            timeout,
        };
        let any = "127.0.0.1:0".parse::<SocketAddr>()?;
        cluster
            .spawn(1, any, any, with(vec!["--bootstrap".into()]))
            .await?;
        let join = cluster.api_url(1)?;
        for id in 2..=n {
            cluster
                .spawn(id, any, any, with(vec!["--join".into(), join.clone()]))
                .await?;
        }
        Ok(cluster)
    }

    /// The directory holding every replica's data dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every replica, running or not.
    pub fn replicas(&self) -> impl Iterator<Item = &Replica> {
        self.replicas.values()
    }

    /// The ids of running replicas.
    pub fn running(&self) -> Vec<u64> {
        self.replicas
            .values()
            .filter(|r| r.is_running())
            .map(|r| r.id)
            .collect()
    }

    /// One replica.
    pub fn replica(&self, id: u64) -> anyhow::Result<&Replica> {
        self.replicas
            .get(&id)
            .with_context(|| format!("no replica {id}"))
    }

    /// A replica's API base URL.
    pub fn api_url(&self, id: u64) -> anyhow::Result<String> {
        Ok(self.replica(id)?.api_url())
    }

    /// A client for one replica with a short per-request timeout.
    pub fn client(&self, id: u64) -> anyhow::Result<Client> {
        Ok(Client::with_timeout(
            &self.api_url(id)?,
            false,
            Duration::from_secs(5),
        )?)
    }

    /// A replica's log file.
    pub fn log_path(&self, id: u64) -> PathBuf {
        self.dir.join(id.to_string()).join("replica.log")
    }

    /// The last `lines` lines of a replica's log, for error messages.
    pub fn log_tail(&self, id: u64, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_path(id)).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    async fn spawn(
        &mut self,
        id: u64,
        api: SocketAddr,
        raft: SocketAddr,
        mode: Vec<String>,
    ) -> anyhow::Result<()> {
        let data_dir = self.dir.join(id.to_string());
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let endpoints_file = data_dir.join("endpoints.json");
        match std::fs::remove_file(&endpoints_file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e)
                    .with_context(|| format!("cannot remove {}", endpoints_file.display()));
            }
            _ => {}
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(id))
            .with_context(|| format!("cannot open {}", self.log_path(id).display()))?;
        let mut command = Command::new(&self.exe);
        command
            .arg("replica")
            .arg("--node-id")
            .arg(id.to_string())
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--api-listen")
            .arg(api.to_string())
            .arg("--raft-listen")
            .arg(raft.to_string())
            .args(&mode)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {} replica", self.exe.display()))?;
        let what = format!("replica {id} to write {}", endpoints_file.display());
        let waited = wait_for(self.timeout, &what, || {
            let exited = child.try_wait();
            let file = &endpoints_file;
            async move {
                if let Some(status) = exited? {
                    return Ok(Some(Err(anyhow::anyhow!("replica {id} exited ({status})"))));
                }
                match std::fs::read_to_string(file) {
                    Ok(text) => Ok(serde_json::from_str::<Endpoints>(&text).ok().map(Ok)),
                    Err(_) => Ok(None),
                }
            }
        })
        .await;
        let endpoints = match waited.and_then(|exited_or_endpoints| exited_or_endpoints) {
            Ok(e) => e,
            Err(e) => {
                let _ = child.kill().await;
                bail!(
                    "{e:#}\n--- last lines of {} ---\n{}",
                    self.log_path(id).display(),
                    self.log_tail(id, 20)
                );
            }
        };
        let replica = Replica {
            id,
            data_dir,
            endpoints,
            mode,
            child: Some(child),
        };
        self.replicas.insert(id, replica);
        Ok(())
    }

    /// Ask running replicas for the cluster status until `check` accepts one.
    pub async fn wait_status<F>(&self, what: &str, check: F) -> anyhow::Result<ClusterView>
    where
        F: Fn(&ClusterView) -> bool,
    {
        let clients: Vec<Client> = self
            .running()
            .into_iter()
            .map(|id| self.client(id))
            .collect::<Result<_, _>>()?;
        let running = self.running();
        wait_for(self.timeout, what, || {
            let clients = clients.clone();
            let check = &check;
            let running = &running;
            async move {
                let mut last = None;
                for c in &clients {
                    match fetch_status(c).await {
                        Ok(s) if check(&s) && s.leader.is_some_and(|l| running.contains(&l)) => {
                            return Ok(Some(s));
                        }
                        Ok(_) => {}
                        Err(e) => last = Some(e),
                    }
                }
                match last {
                    Some(e) => Err(e),
                    None => Ok(None),
                }
            }
        })
        .await
    }

    /// Wait until a running leader sees `n` voters.
    pub async fn wait_for_voters(&self, n: usize) -> anyhow::Result<ClusterView> {
        self.wait_status(&format!("{n} voting replicas"), |s| voters(s) >= n)
            .await
    }

    /// The id of the current leader among running replicas.
    pub async fn leader(&self) -> anyhow::Result<u64> {
        let status = self.wait_status("a leader", |_| true).await?;
        status.leader.context("no leader")
    }

    /// SIGKILL a replica and reap it.
    pub async fn kill(&mut self, id: u64) -> anyhow::Result<()> {
        let replica = self
            .replicas
            .get_mut(&id)
            .with_context(|| format!("no replica {id}"))?;
        if let Some(mut child) = replica.child.take() {
            child
                .kill()
                .await
                .with_context(|| format!("cannot kill replica {id}"))?;
        }
        Ok(())
    }

    /// Start a stopped replica again from its data dir, on the same addresses.
    pub async fn restart(&mut self, id: u64) -> anyhow::Result<()> {
        let replica = self.replica(id)?;
        anyhow::ensure!(!replica.is_running(), "replica {id} is still running");
        let (api, raft, mode) = (
            replica.endpoints.api,
            replica.endpoints.raft,
            replica.mode.clone(),
        );
        self.spawn(id, api, raft, mode).await
    }

    /// Wait until a running leader reports replica `id` as a voter with no lag.
    pub async fn wait_caught_up(&self, id: u64) -> anyhow::Result<ClusterView> {
        self.wait_status(&format!("replica {id} to catch up"), |s| {
            s.members
                .iter()
                .any(|m| m.id == id && m.role != "learner" && m.lag == Some(0))
        })
        .await
    }

    /// Kill every replica and reap them.
    pub async fn stop(&mut self) {
        for replica in self.replicas.values_mut() {
            if let Some(mut child) = replica.child.take() {
                let _ = child.kill().await;
            }
        }
    }
}
