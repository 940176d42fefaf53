//! `cairn-sim`: simulated hardware (Redfish BMCs) for Cairn's demo, benchmarks and tests.

mod args;
mod process;

use clap::Parser;

use args::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    process::init_logs(cli.log_json);
    let Command::Bmcs(bmcs) = cli.command;
    let (ca_out, json_out) = (bmcs.ca_out.clone(), bmcs.json_out.clone());
    let sim = cairn_sim::start(bmcs.into_config()?).await?;
    if let (Some(path), Some(pem)) = (&ca_out, sim.ca_pem()) {
        process::write_atomically(path, pem.as_bytes())?;
    }
    let endpoints = serde_json::to_vec_pretty(&sim.endpoints())?;
    match &json_out {
        Some(path) => process::write_atomically(path, &endpoints)?,
        None => println!("{}", String::from_utf8_lossy(&endpoints)),
    }
    process::shutdown_signal().await?;
    sim.shutdown().await;
    Ok(())
}
