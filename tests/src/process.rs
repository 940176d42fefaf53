//! One `cairn-coordinator` child process.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::netns::Forwarder;
use crate::poll::wait_for;

// Not cairn_coordinator's: tests run the binary black-box, as operators do, and must not link it.
/// What a replica writes to `<data-dir>/endpoints.json` once it listens.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct Endpoints {
    /// REST API.
    pub api: SocketAddr,
    /// Raft gRPC.
    pub raft: SocketAddr,
}

/// The `cairn-coordinator` binary of this build, built on first use so the tests always run
/// what the sources say (a no-op when it is up to date).
pub fn coordinator_binary() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_binary("cairn-coordinator", "cairn-coordinator"))
        .clone()
        .map_err(anyhow::Error::msg)
}

/// The `cairn` command of this build, built on first use like [`coordinator_binary`].
pub fn cairn_binary() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_binary("cairn-cli", "cairn"))
        .clone()
        .map_err(anyhow::Error::msg)
}

/// The `cairn-agent` binary of this build, built on first use like [`coordinator_binary`].
pub fn agent_binary() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_binary("cairn-agent", "cairn-agent"))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build_binary(package: &str, bin: &str) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-q", "-p", package, "--bin", bin])
        .status()
        .map_err(|e| format!("cannot run cargo to build {bin}: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build -p {package} failed"));
    }
    // target/<profile>/deps/<test-binary> → target/<profile>/<bin>
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target directory")?;
    let path = dir.join(bin);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} was not built", path.display()))
    }
}

/// A replica's process and where it keeps its state.
pub(crate) struct Replica {
    pub id: u64,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub endpoints: Option<Endpoints>,
    pub child: Option<Child>,
    pub restarts: u32,
    /// The network namespace it runs in (`None`: the test's own).
    pub netns: Option<String>,
    /// The address it listens on (ports chosen by the kernel on first start).
    pub listen_ip: IpAddr,
    /// In a namespace: the test's way to its API.
    pub forward: Option<Forwarder>,
}

impl Replica {
    /// Start (or restart) the process. The first start binds port 0; restarts reuse the ports
    /// it got, because the other members know it by those addresses.
    pub async fn spawn(&mut self, extra: &[String]) -> anyhow::Result<Endpoints> {
        let endpoints_file = self.dir.join("data").join("endpoints.json");
        let _ = std::fs::remove_file(&endpoints_file);
        let (api, raft) = match self.endpoints {
            Some(e) => (e.api.to_string(), e.raft.to_string()),
            None => {
                let any_port = SocketAddr::new(self.listen_ip, 0).to_string();
                (any_port.clone(), any_port)
            }
        };
        let log_path = self.dir.join(format!("replica-{}.log", self.restarts));
        let log = std::fs::File::create(&log_path).context("creating the replica log")?;
        let mut cmd = match &self.netns {
            Some(ns) => crate::netns::command_in(ns, coordinator_binary()?),
            None => Command::new(coordinator_binary()?),
        };
        let child = cmd
            .arg("--config")
            .arg(&self.config)
            .args(["--api-listen", &api, "--raft-listen", &raft])
            .args(extra)
            .env(
                "RUST_LOG",
                std::env::var("CAIRN_TEST_LOG").unwrap_or_else(|_| "info,openraft=warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("spawning cairn-coordinator")?;
        self.child = Some(child);
        self.restarts += 1;
        let endpoints = wait_for(
            &format!("replica {} to listen", self.id),
            Duration::from_secs(20),
            || {
                let file = endpoints_file.clone();
                async move {
                    std::fs::read(&file)
                        .ok()
                        .and_then(|b| serde_json::from_slice(&b).ok())
                }
            },
        )
        .await
        .with_context(|| format!("see {}", log_path.display()))?;
        self.endpoints = Some(endpoints);
        // Restarts keep their ports, so one forwarder serves every incarnation.
        if let Some(ns) = &self.netns
            && self.forward.is_none()
        {
            self.forward = Some(Forwarder::start(ns, endpoints.api)?);
        }
        Ok(endpoints)
    }

    /// Where the test reaches its API: the forwarder when in a namespace.
    pub fn reach_api(&self) -> Option<SocketAddr> {
        match &self.forward {
            Some(f) => Some(f.addr()),
            None => self.endpoints.map(|e| e.api),
        }
    }

    /// SIGKILL: the process gets no chance to flush or say goodbye.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}
