//! `cairn components`: `/hsm/v2/State/Components`.

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::Ctx;
use crate::cmd::{HSM, require_yes};
use crate::output::{self, View, col};
use crate::validate;

const VIEW: View = View {
    list_key: Some("Components"),
    columns: &[
        col("XNAME", "ID"),
        col("TYPE", "Type"),
        col("STATE", "State"),
        col("FLAG", "Flag"),
        col("ENABLED", "Enabled"),
        col("ROLE", "Role"),
        col("SUBROLE", "SubRole"),
        col("NID", "NID"),
        col("ARCH", "Arch"),
        col("CLASS", "Class"),
        col("SW STATUS", "SoftwareStatus"),
    ],
};

/// Verbs on components.
#[derive(Debug, Subcommand)]
pub enum ComponentsCmd {
    /// List components; filters combine with AND, a repeated --id with OR.
    List(ListArgs),
    /// Show one component.
    Get {
        /// The component's xname.
        #[arg(value_parser = validate::xname)]
        xname: String,
    },
    /// Create a component (a bulk POST with one item); the type follows from the xname.
    Create(ComponentArgs),
    /// Create or replace a component (PUT).
    Put(ComponentArgs),
    /// Delete one component.
    Delete {
        /// The component's xname.
        #[arg(value_parser = validate::xname)]
        xname: String,
    },
    /// Delete every component.
    DeleteAll {
        /// Confirm deleting every component.
        #[arg(long)]
        yes: bool,
    },
    /// Set the state (and flag) of one or more components.
    SetState {
        /// The components' xnames.
        #[arg(required = true, value_parser = validate::xname)]
        xnames: Vec<String>,
        /// The new state: Unknown, Empty, Populated, Off, On, Standby, Halt or Ready.
        #[arg(value_parser = validate::state)]
        state: String,
        /// The new flag (OK when omitted).
        #[arg(long, value_parser = validate::flag)]
        flag: Option<String>,
        /// Apply even when the transition is normally refused.
        #[arg(long)]
        force: bool,
    },
    /// Set the flag of one or more components, keeping their state.
    SetFlag {
        /// The components' xnames.
        #[arg(required = true, value_parser = validate::xname)]
        xnames: Vec<String>,
        /// The new flag: OK, Warning, Alert or Locked.
        #[arg(value_parser = validate::flag)]
        flag: String,
    },
    /// Enable one or more components.
    Enable {
        /// The components' xnames.
        #[arg(required = true, value_parser = validate::xname)]
        xnames: Vec<String>,
    },
    /// Disable one or more components.
    Disable {
        /// The components' xnames.
        #[arg(required = true, value_parser = validate::xname)]
        xnames: Vec<String>,
    },
    /// Set the role (and subrole) of one or more components.
    SetRole {
        /// The components' xnames.
        #[arg(required = true, value_parser = validate::xname)]
        xnames: Vec<String>,
        /// The new role, e.g. Compute, Service, Management.
        role: String,
        /// The new subrole, e.g. Worker, UAN.
        #[arg(long)]
        subrole: Option<String>,
    },
    /// Set the NID of one node.
    SetNid {
        /// The node's xname.
        #[arg(value_parser = validate::xname)]
        xname: String,
        /// The new node id.
        nid: i64,
    },
    /// Set the software status of one or more components.
    SetSoftwareStatus {
        /// The components' xnames.
        #[arg(required = true, value_parser = validate::xname)]
        xnames: Vec<String>,
        /// The new software status, e.g. AdminDown.
        status: String,
    },
    /// Show the node with a NID.
    ByNid {
        /// The node id.
        nid: i64,
    },
}

/// Filters of `components list` (SMD query parameters).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this xname (repeat for several).
    #[arg(long, value_parser = validate::xname, value_name = "XNAME")]
    pub id: Vec<String>,
    /// Only this HMS type, e.g. Node, NodeBMC.
    #[arg(long = "type", value_parser = validate::hms_type, value_name = "TYPE")]
    pub kind: Option<String>,
    /// Only this state, e.g. On, Off, Ready.
    #[arg(long, value_parser = validate::state)]
    pub state: Option<String>,
    /// Only this flag, e.g. OK, Alert.
    #[arg(long, value_parser = validate::flag)]
    pub flag: Option<String>,
    /// Only this role, e.g. Compute.
    #[arg(long)]
    pub role: Option<String>,
    /// Only this subrole.
    #[arg(long)]
    pub subrole: Option<String>,
    /// Only enabled (true) or disabled (false) components.
    #[arg(long, value_name = "BOOL")]
    pub enabled: Option<bool>,
    /// Only this NID.
    #[arg(long)]
    pub nid: Option<i64>,
    /// Only this architecture: X86, ARM, Other.
    #[arg(long, value_parser = validate::arch)]
    pub arch: Option<String>,
    /// Only this class: River, Mountain, Hill.
    #[arg(long, value_parser = validate::class)]
    pub class: Option<String>,
}

impl ListArgs {
    /// The SMD query parameters.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut q: Vec<(&'static str, String)> =
            self.id.iter().map(|x| ("id", x.clone())).collect();
        let optional = [
            ("type", self.kind.clone()),
            ("state", self.state.clone()),
            ("flag", self.flag.clone()),
            ("role", self.role.clone()),
            ("subrole", self.subrole.clone()),
            ("enabled", self.enabled.map(|b| b.to_string())),
            ("nid", self.nid.map(|n| n.to_string())),
            ("arch", self.arch.clone()),
            ("class", self.class.clone()),
        ];
        q.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        q
    }
}

/// Fields of a component to create or replace.
#[derive(Debug, Args)]
pub struct ComponentArgs {
    /// The component's xname.
    #[arg(value_parser = validate::xname)]
    pub xname: String,
    /// The HMS type (default: what the xname names).
    #[arg(long = "type", value_parser = validate::hms_type, value_name = "TYPE")]
    pub kind: Option<String>,
    /// Initial state.
    #[arg(long, default_value = "On", value_parser = validate::state)]
    pub state: String,
    /// Initial flag.
    #[arg(long, default_value = "OK", value_parser = validate::flag)]
    pub flag: String,
    /// Role, e.g. Compute.
    #[arg(long)]
    pub role: Option<String>,
    /// Subrole, e.g. Worker.
    #[arg(long)]
    pub subrole: Option<String>,
    /// Node id.
    #[arg(long)]
    pub nid: Option<i64>,
    /// Architecture: X86, ARM, Other.
    #[arg(long, value_parser = validate::arch)]
    pub arch: Option<String>,
    /// Class: River, Mountain, Hill.
    #[arg(long, value_parser = validate::class)]
    pub class: Option<String>,
    /// Whether the component is enabled.
    #[arg(long, default_value_t = true, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub enabled: bool,
    /// Overwrite State, Flag and Arch of an existing component.
    #[arg(long)]
    pub force: bool,
}

impl ComponentArgs {
    /// The SMD `Component` object.
    pub fn component(&self) -> Result<Value, String> {
        let kind = match &self.kind {
            Some(k) => k.clone(),
            None => validate::type_of(&self.xname)?,
        };
        let mut c = Map::new();
        c.insert("ID".into(), json!(self.xname));
        c.insert("Type".into(), json!(kind));
        c.insert("State".into(), json!(self.state));
        c.insert("Flag".into(), json!(self.flag));
        c.insert("Enabled".into(), json!(self.enabled));
        let optional = [
            ("Role", self.role.as_ref().map(|v| json!(v))),
            ("SubRole", self.subrole.as_ref().map(|v| json!(v))),
            ("NID", self.nid.map(|v| json!(v))),
            ("Arch", self.arch.as_ref().map(|v| json!(v))),
            ("Class", self.class.as_ref().map(|v| json!(v))),
        ];
        c.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v))),
        );
        Ok(Value::Object(c))
    }
}

fn one(xname: &str) -> String {
    format!("{HSM}/State/Components/{xname}")
}

/// PATCH one component's `field` endpoint, or the Bulk endpoint for several.
async fn patch_each(ctx: &Ctx, xnames: &[String], field: &str, body: Value) -> anyhow::Result<()> {
    let mut body = body;
    let path = if let [x] = xnames {
        format!("{}/{field}", one(x))
    } else {
        body["ComponentIDs"] = json!(xnames);
        format!("{HSM}/State/Components/Bulk{field}")
    };
    let answer = ctx.client.patch(&path, &body).await?;
    let what = if let [x] = xnames {
        x.clone()
    } else {
        format!("{} components", xnames.len())
    };
    output::done(&answer, ctx.format, &format!("updated {field} of {what}"))
}

/// Run one `components` verb.
pub async fn run(ctx: &Ctx, cmd: ComponentsCmd) -> anyhow::Result<()> {
    let c = &ctx.client;
    match cmd {
        ComponentsCmd::List(args) => {
            let v = c
                .get(&format!("{HSM}/State/Components"), &args.query())
                .await?;
            output::print(&v, ctx.format, &VIEW)
        }
        ComponentsCmd::Get { xname } => {
            output::print(&c.get(&one(&xname), &[]).await?, ctx.format, &VIEW)
        }
        ComponentsCmd::Create(args) => {
            let body = json!({"Components": [args.component().map_err(anyhow::Error::msg)?], "Force": args.force});
            let answer = c.post(&format!("{HSM}/State/Components"), &body).await?;
            output::done(&answer, ctx.format, &format!("created {}", args.xname))
        }
        ComponentsCmd::Put(args) => {
            let body = json!({"Component": args.component().map_err(anyhow::Error::msg)?, "Force": args.force});
            let answer = c.put(&one(&args.xname), &body).await?;
            output::done(&answer, ctx.format, &format!("stored {}", args.xname))
        }
        ComponentsCmd::Delete { xname } => {
            let answer = c.delete(&one(&xname)).await?;
            output::done(&answer, ctx.format, &format!("deleted {xname}"))
        }
        ComponentsCmd::DeleteAll { yes } => {
            require_yes(yes, "every component")?;
            let answer = c.delete(&format!("{HSM}/State/Components")).await?;
            output::done(&answer, ctx.format, "deleted every component")
        }
        ComponentsCmd::SetState {
            xnames,
            state,
            flag,
            force,
        } => {
            let mut body = json!({"State": state, "Force": force});
            if let Some(flag) = flag {
                body["Flag"] = json!(flag);
            }
            patch_each(ctx, &xnames, "StateData", body).await
        }
        ComponentsCmd::SetFlag { xnames, flag } => {
            patch_each(ctx, &xnames, "FlagOnly", json!({"Flag": flag})).await
        }
        ComponentsCmd::Enable { xnames } => {
            patch_each(ctx, &xnames, "Enabled", json!({"Enabled": true})).await
        }
        ComponentsCmd::Disable { xnames } => {
            patch_each(ctx, &xnames, "Enabled", json!({"Enabled": false})).await
        }
        ComponentsCmd::SetRole {
            xnames,
            role,
            subrole,
        } => {
            let mut body = json!({"Role": role});
            if let Some(subrole) = subrole {
                body["SubRole"] = json!(subrole);
            }
            patch_each(ctx, &xnames, "Role", body).await
        }
        ComponentsCmd::SetNid { xname, nid } => {
            let answer = c
                .patch(&format!("{}/NID", one(&xname)), &json!({"NID": nid}))
                .await?;
            output::done(&answer, ctx.format, &format!("set NID of {xname} to {nid}"))
        }
        ComponentsCmd::SetSoftwareStatus { xnames, status } => {
            patch_each(
                ctx,
                &xnames,
                "SoftwareStatus",
                json!({"SoftwareStatus": status}),
            )
            .await
        }
        ComponentsCmd::ByNid { nid } => {
            let v = c
                .get(&format!("{HSM}/State/Components/ByNID/{nid}"), &[])
                .await?;
            output::print(&v, ctx.format, &VIEW)
        }
    }
}
