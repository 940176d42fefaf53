//! `cairn-coordinator`: one replica of Cairn's replicated inventory.

use clap::Parser;

/// One replica of Cairn's replicated inventory (SMD-compatible REST API + Raft).
#[derive(Parser)]
#[command(name = "cairn-coordinator", version)]
struct Cli {
    #[command(flatten)]
    replica: cairn_coordinator::ReplicaArgs,
    /// Log as JSON lines.
    #[arg(long)]
    log_json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cairn_coordinator::telemetry::init("info,openraft=warn", cli.log_json);
    let config = cli.replica.into_config()?;
    let handle = cairn_coordinator::start(config).await?;
    handle
        .run_until(cairn_coordinator::telemetry::shutdown_signal())
        .await?;
    Ok(())
}
