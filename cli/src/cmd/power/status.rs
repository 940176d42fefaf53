//! `cairn power status [TARGETS]`: PCS's power-status, which knows nodes only. Node xnames are
//! asked for by name; containers (BMCs, slots, chassis, cabinets) and groups are resolved here,
//! by reading every node's status and keeping the ones beneath them.

use cairn_protocols::Xname;
use serde_json::{Value, json};

use super::{PCS, StatusArgs};
use crate::Ctx;
use crate::cmd::HSM;
use crate::output::{self, View, col, records};
use crate::targets::{self, Target};

const VIEW: View = View {
    list_key: Some("status"),
    columns: &[
        col("XNAME", "xname"),
        col("POWER", "powerState"),
        col("MANAGEMENT", "managementState"),
        col("LAST UPDATED", "lastUpdated"),
        col("ERROR", "error"),
    ],
};

/// Run `power status`.
pub async fn run(ctx: &Ctx, args: StatusArgs) -> anyhow::Result<()> {
    let wanted = targets::flatten(args.targets);
    let mut body = json!({});
    if let Some(p) = &args.power {
        body["powerStateFilter"] = json!(p);
    }
    if let Some(m) = &args.management {
        body["managementStateFilter"] = json!(m);
    }
    let nodes: Option<Vec<&str>> = wanted
        .iter()
        .map(|t| match t {
            Target::Xname(x) if Xname::parse(x).is_ok_and(|x| x.is_node()) => Some(x.as_str()),
            _ => None,
        })
        .collect();
    let path = format!("{PCS}/power-status");
    let answer = match nodes {
        Some(nodes) if !nodes.is_empty() => {
            body["xname"] = json!(nodes);
            ctx.client.post(&path, &body).await?
        }
        _ => {
            let all = ctx.client.post(&path, &body).await?;
            if wanted.is_empty() {
                all
            } else {
                let within = containers(ctx, &wanted).await?;
                let kept: Vec<Value> = records(&all, Some("status"))
                    .into_iter()
                    .filter(|e| {
                        e["xname"]
                            .as_str()
                            .and_then(|x| Xname::parse(x).ok())
                            .is_some_and(|x| within.iter().any(|w| w.contains(&x)))
                    })
                    .collect();
                json!({ "status": kept })
            }
        }
    };
    output::print(&answer, ctx.format, &VIEW)
}

/// The xnames the targets stand for, groups replaced by their members.
async fn containers(ctx: &Ctx, wanted: &[Target]) -> anyhow::Result<Vec<Xname>> {
    let mut out = Vec::new();
    for t in wanted {
        match t {
            Target::Xname(x) => out.extend(Xname::parse(x).ok()),
            Target::Group(label) => {
                let g = ctx
                    .client
                    .get(&format!("{HSM}/groups/{label}"), &[])
                    .await?;
                let members = g["members"]["ids"].as_array().cloned().unwrap_or_default();
                out.extend(
                    members
                        .iter()
                        .filter_map(Value::as_str)
                        .filter_map(|x| Xname::parse(x).ok()),
                );
            }
        }
    }
    Ok(out)
}
