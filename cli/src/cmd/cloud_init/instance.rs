//! `cairn cloud-init instance`: per-node cloud-init overrides.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::{ADMIN, checked, print_record, record_body};
use crate::Ctx;
use crate::output;
use crate::validate;

/// Verbs on instance info.
#[derive(Debug, Subcommand)]
pub enum InstanceCmd {
    /// Show a node's overrides.
    Get {
        /// The node.
        #[arg(value_parser = validate::xname)]
        xname: String,
    },
    /// Replace a node's overrides with those given.
    Set(Box<InstanceArgs>),
}

/// Instance info fields.
#[derive(Debug, Args)]
pub struct InstanceArgs {
    /// The node.
    #[arg(value_parser = validate::xname)]
    pub xname: String,
    /// Short hostname.
    #[arg(long)]
    pub local_hostname: Option<String>,
    /// Hostname (often the FQDN).
    #[arg(long)]
    pub hostname: Option<String>,
    /// cloud-init instance ID.
    #[arg(long)]
    pub instance_id: Option<String>,
    /// Instance type.
    #[arg(long)]
    pub instance_type: Option<String>,
    /// Cluster name for this node.
    #[arg(long)]
    pub cluster_name: Option<String>,
    /// Region.
    #[arg(long)]
    pub region: Option<String>,
    /// Availability zone.
    #[arg(long)]
    pub availability_zone: Option<String>,
    /// Cloud provider.
    #[arg(long)]
    pub cloud_provider: Option<String>,
    /// Base URL of cloud-init for this node.
    #[arg(long, value_name = "URL")]
    pub cloud_init_base_url: Option<String>,
    /// An SSH public key added to the cluster's (repeatable).
    #[arg(long, value_name = "KEY")]
    pub public_key: Vec<String>,
    /// A #cloud-config file: the last layer of this node's user-data.
    #[arg(long, value_name = "PATH")]
    pub user_data_file: Option<PathBuf>,
}

pub(super) async fn run(ctx: &Ctx, cmd: InstanceCmd) -> anyhow::Result<()> {
    let base = format!("{ADMIN}/instance-info");
    match cmd {
        InstanceCmd::Get { xname } => print_record(
            &ctx.client.get(&format!("{base}/{xname}"), &[]).await?,
            ctx.format,
        ),
        InstanceCmd::Set(a) => {
            let a = *a;
            let body = record_body(
                vec![
                    ("local-hostname", a.local_hostname.map(Value::from)),
                    ("hostname", a.hostname.map(Value::from)),
                    ("instance-id", a.instance_id.map(Value::from)),
                    ("instance-type", a.instance_type.map(Value::from)),
                    ("cluster-name", a.cluster_name.map(Value::from)),
                    ("region", a.region.map(Value::from)),
                    ("availability-zone", a.availability_zone.map(Value::from)),
                    ("cloud-provider", a.cloud_provider.map(Value::from)),
                    (
                        "cloud-init-base-url",
                        a.cloud_init_base_url.map(Value::from),
                    ),
                ],
                a.user_data_file.as_deref(),
                a.public_key,
            )?;
            let body = checked(body, cairn_protocols::InstanceInfo::validate)?;
            let answer = ctx
                .client
                .put(&format!("{base}/{}", a.xname), &body)
                .await?;
            output::done(
                &answer,
                ctx.format,
                &format!("set cloud-init instance info of {}", a.xname),
            )
        }
    }
}
