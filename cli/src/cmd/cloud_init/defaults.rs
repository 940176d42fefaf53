//! `cairn cloud-init defaults`: cluster-wide cloud-init defaults.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::{ADMIN, checked, print_record, record_body};
use crate::Ctx;
use crate::output;

/// Verbs on cluster defaults.
#[derive(Debug, Subcommand)]
pub enum DefaultsCmd {
    /// Show the cluster defaults.
    Get,
    /// Set some cluster defaults; those not given keep their value.
    Set(DefaultsArgs),
}

/// Cluster default fields.
#[derive(Debug, Args)]
pub struct DefaultsArgs {
    /// The cluster's name.
    #[arg(long)]
    pub cluster_name: Option<String>,
    /// Hostname prefix: nodes are <short-name><NID>.
    #[arg(long)]
    pub short_name: Option<String>,
    /// Digits of the NID in hostnames.
    #[arg(long, value_name = "N")]
    pub nid_length: Option<u32>,
    /// Base URL of cloud-init as nodes reach it.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// An SSH public key for every node (repeatable; replaces the list).
    #[arg(long, value_name = "KEY")]
    pub public_key: Vec<String>,
    /// Region.
    #[arg(long)]
    pub region: Option<String>,
    /// Availability zone.
    #[arg(long)]
    pub availability_zone: Option<String>,
    /// Cloud provider name.
    #[arg(long)]
    pub cloud_provider: Option<String>,
    /// A #cloud-config file: the first layer of every node's user-data.
    #[arg(long, value_name = "PATH")]
    pub user_data_file: Option<PathBuf>,
}

pub(super) async fn run(ctx: &Ctx, cmd: DefaultsCmd) -> anyhow::Result<()> {
    let path = format!("{ADMIN}/cluster-defaults");
    match cmd {
        DefaultsCmd::Get => print_record(&ctx.client.get(&path, &[]).await?, ctx.format),
        DefaultsCmd::Set(a) => {
            let body = record_body(
                vec![
                    ("cluster-name", a.cluster_name.map(Value::from)),
                    ("short-name", a.short_name.map(Value::from)),
                    ("nid-length", a.nid_length.map(Value::from)),
                    ("base-url", a.base_url.map(Value::from)),
                    ("region", a.region.map(Value::from)),
                    ("availability-zone", a.availability_zone.map(Value::from)),
                    // OpenCHAMI spells this one key with an underscore.
                    ("cloud_provider", a.cloud_provider.map(Value::from)),
                ],
                a.user_data_file.as_deref(),
                a.public_key,
            )?;
            anyhow::ensure!(!body.is_empty(), "nothing to set: give at least one field");
            let body = checked(body, cairn_protocols::ClusterDefaults::validate)?;
            let answer = ctx.client.post(&path, &body).await?;
            output::done(&answer, ctx.format, "set cloud-init cluster defaults")
        }
    }
}
