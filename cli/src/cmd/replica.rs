//! `cairn replica`: run one coordinator replica in this process, exactly as the
//! `cairn-coordinator` binary does. `cairn demo` starts its replicas this way.

use cairn_coordinator::ReplicaArgs;
use clap::Args;
use tokio::signal::unix::{SignalKind, signal};

/// Flags of `cairn replica` (those of `cairn-coordinator`).
#[derive(Debug, Args)]
pub struct ReplicaCmd {
    /// The replica's flags.
    #[command(flatten)]
    pub args: ReplicaArgs,
}

/// Start the replica and serve until SIGINT or SIGTERM, then shut down cleanly.
pub async fn run(cmd: ReplicaCmd) -> anyhow::Result<()> {
    let config = cmd.args.into_config()?;
    let handle = cairn_coordinator::start(config).await?;
    let endpoints = handle.endpoints();
    tracing::info!(api = %endpoints.api, raft = %endpoints.raft, "replica serving");
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
    handle.shutdown().await?;
    Ok(())
}
