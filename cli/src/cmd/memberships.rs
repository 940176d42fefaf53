//! `cairn memberships`: `/hsm/v2/memberships`.

use clap::Args;

use crate::Ctx;
use crate::cmd::HSM;
use crate::output::{self, View, col};
use crate::validate;

const VIEW: View = View {
    list_key: None,
    columns: &[
        col("XNAME", "id"),
        col("PARTITION", "partitionName"),
        col("GROUPS", "groupLabels"),
    ],
};

/// Arguments of `memberships`.
#[derive(Debug, Args)]
pub struct MembershipsArgs {
    /// Only this component.
    #[arg(value_parser = validate::xname)]
    pub xname: Option<String>,
}

/// Show memberships.
pub async fn run(ctx: &Ctx, args: MembershipsArgs) -> anyhow::Result<()> {
    let path = match &args.xname {
        Some(x) => format!("{HSM}/memberships/{x}"),
        None => format!("{HSM}/memberships"),
    };
    output::print(&ctx.client.get(&path, &[]).await?, ctx.format, &VIEW)
}
