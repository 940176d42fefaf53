//! `cairn boots`: the boot steps the rack agents served, per node (`/apis/cairn/v1/boots`),
//! including those served while a rack was cut off and reported when it reconnected.

use clap::Args;

use crate::Ctx;
use crate::output::{self, View, col};

/// Where the boots are listed.
pub const BOOTS: &str = "/apis/cairn/v1/boots";

const VIEW: View = View {
    list_key: Some("boots"),
    columns: &[
        col("ID", "ID"),
        col("MAC", "MACAddress"),
        col("AGENT", "Steps.dhcp.Agent"),
        col("DHCP IP", "Steps.dhcp.IPAddress"),
        col("SCRIPT", "Steps.script.At"),
        col("IMAGE", "Steps.image.At"),
        col("CLOUD-INIT", "Steps.cloud-init.At"),
    ],
};

const ONE: View = View {
    list_key: None,
    columns: VIEW.columns,
};

/// `cairn boots [ID]`.
#[derive(Debug, Args)]
pub struct BootsArgs {
    /// A node xname or a MAC: only its record.
    pub id: Option<String>,
}

/// Run `cairn boots`.
pub async fn run(ctx: &Ctx, args: BootsArgs) -> anyhow::Result<()> {
    match args.id {
        None => output::print(&ctx.client.get(BOOTS, &[]).await?, ctx.format, &VIEW),
        Some(id) => {
            let v = ctx.client.get(&format!("{BOOTS}/{id}"), &[]).await?;
            output::print(&v, ctx.format, &ONE)
        }
    }
}
