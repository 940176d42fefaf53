//! `cairn replica`: run one coordinator replica in this process, exactly as the
//! `cairn-coordinator` binary does. `cairn demo` starts its replicas this way.

use cairn_coordinator::ReplicaArgs;
use clap::Args;

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
    handle
        .run_until(cairn_coordinator::telemetry::shutdown_signal())
        .await?;
    Ok(())
}
