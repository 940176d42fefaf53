//! `cairn component-endpoints`: `/hsm/v2/Inventory/ComponentEndpoints`.

use clap::Subcommand;

use crate::Ctx;
use crate::cmd::HSM;
use crate::output::{self, View, col};
use crate::validate;

const VIEW: View = View {
    list_key: Some("ComponentEndpoints"),
    columns: &[
        col("XNAME", "ID"),
        col("TYPE", "Type"),
        col("REDFISH TYPE", "RedfishType"),
        col("REDFISH ENDPOINT", "RedfishEndpointID"),
        col("ENABLED", "Enabled"),
        col("MAC", "MACAddr"),
        col("URL", "RedfishURL"),
    ],
};

/// Verbs on component endpoints (read-mostly: discovery writes them).
#[derive(Debug, Subcommand)]
pub enum ComponentEndpointsCmd {
    /// List component endpoints.
    List,
    /// Show one component endpoint.
    Get {
        /// The component's xname.
        #[arg(value_parser = validate::xname)]
        xname: String,
    },
    /// Delete one component endpoint.
    Delete {
        /// The component's xname.
        #[arg(value_parser = validate::xname)]
        xname: String,
    },
}

/// Run one `component-endpoints` verb.
pub async fn run(ctx: &Ctx, cmd: ComponentEndpointsCmd) -> anyhow::Result<()> {
    let base = format!("{HSM}/Inventory/ComponentEndpoints");
    match cmd {
        ComponentEndpointsCmd::List => {
            output::print(&ctx.client.get(&base, &[]).await?, ctx.format, &VIEW)
        }
        ComponentEndpointsCmd::Get { xname } => {
            let v = ctx.client.get(&format!("{base}/{xname}"), &[]).await?;
            output::print(&v, ctx.format, &VIEW)
        }
        ComponentEndpointsCmd::Delete { xname } => {
            let answer = ctx.client.delete(&format!("{base}/{xname}")).await?;
            output::done(
                &answer,
                ctx.format,
                &format!("deleted component endpoint {xname}"),
            )
        }
    }
}
