//! `cairn-agent`: one per rack (or row): Redfish discovery and power control next to the BMCs.

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Cairn's rack agent: discovers the BMCs of its cabinets, runs their power tasks and reports to
/// the coordinators.
#[derive(Parser)]
#[command(name = "cairn-agent", version)]
struct Cli {
    #[command(flatten)]
    agent: cairn_agent::args::AgentArgs,
    /// Log as JSON lines.
    #[arg(long)]
    log_json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if cli.log_json {
        logs.json().init()
    } else {
        logs.init()
    }
    // reqwest is built without a TLS crypto provider: ring is the one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cairn_agent::raise_open_files_limit() {
        Ok(limit) => tracing::debug!(?limit, "open files limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open files limit"),
    }
    let config = cli.agent.into_config()?;
    let handle = cairn_agent::runtime::start(config).await?;
    handle.run_until(shutdown_signal()).await;
    Ok(())
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(t) => t.recv().await.map_or((), |_| ()),
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
}
