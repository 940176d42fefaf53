//! The real protocol peers of `../shared/peers/` (QEMU + iPXE, a Debian kernel, cloud-init):
//! where they are, whether this machine can run them, and running one with a deadline.
//!
//! Tests that need them call [`require`] first and return early (passing, with the reason
//! printed) when it says no: not root, peers not found, or a tool missing. CI runs as root and
//! installs the tools from `.ci/test-deps`, so there they always run.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// Environment variable naming the peers directory, overriding the search.
pub const PEERS_DIR_ENV: &str = "CAIRN_PEERS_DIR";

/// The checkout's root (this crate's parent directory).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_owned()
}

/// The peers directory: `$CAIRN_PEERS_DIR`, else `<repo>/../shared/peers` (CI's layout), else
/// `/work/shared/peers`. The error lists every place looked at.
pub fn peers_dir() -> Result<PathBuf, String> {
    let mut tried = Vec::new();
    if let Some(dir) = std::env::var_os(PEERS_DIR_ENV) {
        let dir = PathBuf::from(dir);
        if dir.join("README.md").is_file() {
            return Ok(dir);
        }
        return Err(format!(
            "{PEERS_DIR_ENV}={} holds no peers (no README.md)",
            dir.display()
        ));
    }
    for dir in [
        repo_root().join("../shared/peers"),
        PathBuf::from("/work/shared/peers"),
    ] {
        if dir.join("README.md").is_file() {
            return Ok(dir.canonicalize().unwrap_or(dir));
        }
        tried.push(dir.display().to_string());
    }
    Err(format!(
        "peers not found (set {PEERS_DIR_ENV}; looked in {})",
        tried.join(", ")
    ))
}

/// Whether this process runs as root (the peers create taps, netns and install packages).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Whether `name` is an executable on `PATH` (or an existing absolute path).
pub fn on_path(name: &str) -> bool {
    if name.starts_with('/') {
        return Path::new(name).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()))
}

/// What a peer test needs: root, the peer scripts named, and these tools (commands on `PATH`
/// or absolute file paths). Returns the peers directory, or the reason to skip, already printed
/// as `SKIP <test>: <reason>`.
pub fn require(test: &str, scripts: &[&str], tools: &[&str]) -> Option<PathBuf> {
    let outcome = (|| {
        if !is_root() {
            return Err("not root (the peers need root)".to_owned());
        }
        let dir = peers_dir()?;
        for s in scripts {
            if !dir.join(s).is_file() {
                return Err(format!("{} is missing", dir.join(s).display()));
            }
        }
        let missing: Vec<&str> = tools.iter().copied().filter(|t| !on_path(t)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "missing {} (bash .ci/test-deps installs them)",
                missing.join(", ")
            ));
        }
        Ok(dir)
    })();
    match outcome {
        Ok(dir) => Some(dir),
        Err(reason) => {
            println!("SKIP {test}: {reason}");
            None
        }
    }
}

/// A finished peer run.
#[derive(Debug)]
pub struct PeerRun {
    /// How it exited.
    pub status: ExitStatus,
    /// Its stdout and stderr, interleaved as written.
    pub output: String,
    /// How long it ran.
    pub took: Duration,
}

impl PeerRun {
    /// Whether it exited 0.
    pub fn ok(&self) -> bool {
        self.status.success()
    }
}

/// Run `script` from the peers dir with `args` and `env`, output to `log` (kept for failure
/// reports), polled until it exits or `deadline` passes (then it is killed and an error
/// returned with the output so far, the script's process group killed). Runs on a blocking thread so the async tests' servers
/// keep serving meanwhile.
pub async fn run_script(
    dir: &Path,
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
    log: &Path,
    deadline: Duration,
) -> anyhow::Result<PeerRun> {
    let path = dir.join(script);
    let mut cmd = Command::new("bash");
    cmd.arg(&path).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let log = log.to_owned();
    tokio::task::spawn_blocking(move || run_logged(cmd, &log, deadline))
        .await
        .context("peer runner thread")?
}

fn run_logged(mut cmd: Command, log: &Path, deadline: Duration) -> anyhow::Result<PeerRun> {
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let started = Instant::now();
    // Its own process group, so that a hang is ended with everything it started (QEMU).
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .spawn()
        .with_context(|| format!("spawning {cmd:?}"))?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            let output = std::fs::read_to_string(log).unwrap_or_default();
            anyhow::bail!("{cmd:?} still running after {deadline:?}; output so far:\n{output}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = std::fs::read_to_string(log).unwrap_or_default();
    Ok(PeerRun {
        status,
        output,
        took: started.elapsed(),
    })
}
