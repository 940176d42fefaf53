//! `cairn demo`: a 3-replica cluster on this machine, a sample inventory with boot parameters
//! and cloud-init data (and one node's view of them), and a leader killed with SIGKILL while
//! nothing is lost; then two simulated racks: discovered, powered on, and booting their nodes
//! from their agents, one of them while cut off from the coordinators. The scenario is in [`scenario`]; the processes are
//! managed by [`crate::local_cluster`].

mod boot;
mod partition;
mod rack_boot;
mod racks;
mod sample;
mod scenario;
mod snapshot;

use clap::Args;

/// Flags of `cairn demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Run the scenario once and exit (0 on success) instead of waiting for Ctrl-C.
    #[arg(long)]
    pub once: bool,
    /// Keep the temporary directory (data dirs and replica logs) afterwards.
    #[arg(long)]
    pub keep: bool,
}

/// Run the demo in a fresh temporary directory, removed afterwards unless `--keep` or failure.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new().prefix("cairn-demo-").tempdir()?;
    let result = scenario::run(dir.path(), &args).await;
    if args.keep || result.is_err() {
        let kept = dir.keep();
        println!("data dirs and replica logs kept in {}", kept.display());
    }
    result
}
