//! Rack agents running as child processes on this machine, each started as
//! `<this executable> agent ...` with its state and log in one directory. Used by `cairn demo`
//! and `cairn bench discovery|power`, which read the children's /proc figures.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::process::{Child, Command};

use crate::client::Client;
use crate::cmd::agents::AGENTS;
use crate::local_cluster::wait_for;
use crate::output::records;

/// One agent process.
#[derive(Debug)]
pub struct LocalAgent {
    /// Its id.
    pub id: String,
    /// Its state directory (also holds `agent.log`).
    pub dir: PathBuf,
    child: Option<Child>,
}

impl LocalAgent {
    /// Start `exe agent --agent-id ID --data-dir DIR/ID ...flags`, logging to `DIR/ID/agent.log`.
    pub fn spawn(exe: &Path, dir: &Path, id: &str, flags: &[String]) -> anyhow::Result<Self> {
        let dir = dir.join(id);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let log_path = dir.join("agent.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        let child = Command::new(exe)
            .arg("agent")
            .arg("--agent-id")
            .arg(id)
            .arg("--data-dir")
            .arg(dir.join("state"))
            .args(flags)
            .env_remove("CAIRN_API")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {} agent", exe.display()))?;
        Ok(Self {
            id: id.to_owned(),
            dir,
            child: Some(child),
        })
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The last `lines` lines of its log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.dir.join("agent.log")).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Fails when the process has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait()?
        {
            anyhow::bail!(
                "agent {} exited ({status})\n--- last lines of its log ---\n{}",
                self.id,
                self.log_tail(20)
            );
        }
        Ok(())
    }

    /// SIGKILL and reap it.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

/// Wait until every agent in `agents` is registered and connected, failing early when one
/// exits.
pub async fn wait_connected(
    client: &Client,
    agents: &mut [LocalAgent],
    timeout: Duration,
) -> anyhow::Result<()> {
    let ids: Vec<String> = agents.iter().map(|a| a.id.clone()).collect();
    wait_for(timeout, "the agents to register and connect", || {
        let alive = agents.iter_mut().try_for_each(LocalAgent::check_running);
        let ids = &ids;
        async move {
            alive?;
            let listed = client.get(AGENTS, &[]).await?;
            let listed = records(&listed, Some("agents"));
            let connected = |id: &String| {
                listed
                    .iter()
                    .any(|a| a["id"].as_str() == Some(id) && a["state"] == "connected")
            };
            Ok(ids.iter().all(connected).then_some(()))
        }
    })
    .await
}
