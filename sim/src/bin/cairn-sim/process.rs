//! How the process meets its surroundings: logs on stderr, files scripts poll for, signals.

use std::path::Path;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

/// Logs to stderr (stdout carries the endpoint list), filtered by `RUST_LOG` (default `info`).
pub fn init_logs(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
}

/// Writes beside the target and renames, so a script polling for the file never reads half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// SIGINT (Ctrl-C) or SIGTERM (what scripts and process supervisors send).
pub async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    tokio::select! {
        res = tokio::signal::ctrl_c() => res.context("waiting for Ctrl-C"),
        _ = term.recv() => Ok(()),
    }
}
