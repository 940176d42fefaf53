//! `cairn agent`: run one rack agent in this process, exactly as the `cairn-agent` binary
//! does. `cairn demo` and `cairn bench` start their agents this way, so a fresh
//! `cargo run -p cairn-cli -- demo` needs no other binary.

use cairn_agent::args::AgentArgs;
use clap::Args;

/// Flags of `cairn agent` (those of `cairn-agent`).
#[derive(Debug, Args)]
pub struct AgentCmd {
    /// The agent's flags.
    #[command(flatten)]
    pub args: AgentArgs,
}

/// Start the agent and run until SIGINT or SIGTERM.
pub async fn run(cmd: AgentCmd) -> anyhow::Result<()> {
    let config = cmd.args.into_config()?;
    let handle = cairn_agent::runtime::start(config).await?;
    handle
        .run_until(cairn_coordinator::telemetry::shutdown_signal())
        .await;
    Ok(())
}
