//! `cairn redfish-endpoints`: `/hsm/v2/Inventory/RedfishEndpoints`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::Ctx;
use crate::cmd::{HSM, require_yes};
use crate::output::{self, View, col};
use crate::validate;

const VIEW: View = View {
    list_key: Some("RedfishEndpoints"),
    columns: &[
        col("XNAME", "ID"),
        col("TYPE", "Type"),
        col("FQDN", "FQDN"),
        col("ENABLED", "Enabled"),
        col("USER", "User"),
        col("MAC", "MACAddr"),
        col("IP", "IPAddress"),
        col("DISCOVERY", "DiscoveryInfo.LastDiscoveryStatus"),
    ],
};

/// Verbs on Redfish endpoints (BMCs).
#[derive(Debug, Subcommand)]
pub enum RedfishCmd {
    /// List Redfish endpoints.
    List,
    /// Show one endpoint.
    Get {
        /// The BMC's xname.
        #[arg(value_parser = validate::xname)]
        xname: String,
    },
    /// Register a BMC.
    Create(EndpointArgs),
    /// Change fields of a registered BMC (PATCH).
    Update(EndpointArgs),
    /// Delete one endpoint.
    Delete {
        /// The BMC's xname.
        #[arg(value_parser = validate::xname)]
        xname: String,
    },
    /// POST a JSON file as-is, e.g. a Magellan payload or {"RedfishEndpoints": [...]}.
    Load {
        /// The JSON file ("-" for stdin).
        file: PathBuf,
    },
    /// Delete every endpoint.
    DeleteAll {
        /// Confirm deleting every Redfish endpoint.
        #[arg(long)]
        yes: bool,
    },
}

/// Fields of a Redfish endpoint.
#[derive(Debug, Args)]
pub struct EndpointArgs {
    /// The BMC's xname.
    #[arg(value_parser = validate::xname)]
    pub xname: String,
    /// Host name or address the BMC answers on (required to create).
    #[arg(long, value_name = "HOST")]
    pub fqdn: Option<String>,
    /// Redfish user name.
    #[arg(long)]
    pub user: Option<String>,
    /// File holding the Redfish password (never give it on the command line).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// The BMC's MAC address.
    #[arg(long, value_parser = validate::mac)]
    pub mac: Option<String>,
    /// The BMC's IP address.
    #[arg(long, value_parser = validate::ip)]
    pub ip: Option<String>,
    /// Register the endpoint disabled.
    #[arg(long)]
    pub disabled: bool,
}

impl EndpointArgs {
    /// The SMD `RedfishEndpoint` fields given on the command line.
    pub fn endpoint(&self, create: bool) -> anyhow::Result<Value> {
        let mut e = Map::new();
        e.insert("ID".into(), json!(self.xname));
        if create {
            let fqdn = self
                .fqdn
                .as_deref()
                .context("--fqdn is required to create an endpoint")?;
            e.insert(
                "Type".into(),
                json!(validate::type_of(&self.xname).map_err(anyhow::Error::msg)?),
            );
            let (host, domain) = fqdn.split_once('.').unwrap_or((fqdn, ""));
            e.insert("Hostname".into(), json!(host));
            e.insert("Domain".into(), json!(domain));
        }
        if let Some(fqdn) = &self.fqdn {
            e.insert("FQDN".into(), json!(fqdn));
        }
        if create || self.disabled {
            e.insert("Enabled".into(), json!(!self.disabled));
        }
        if let Some(user) = &self.user {
            e.insert("User".into(), json!(user));
        }
        if let Some(file) = &self.password_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read password file {}", file.display()))?;
            e.insert(
                "Password".into(),
                json!(text.trim_end_matches(['\n', '\r'])),
            );
        }
        if let Some(mac) = &self.mac {
            e.insert("MACAddr".into(), json!(mac));
        }
        if let Some(ip) = &self.ip {
            e.insert("IPAddress".into(), json!(ip));
        }
        Ok(Value::Object(e))
    }
}

fn all() -> String {
    format!("{HSM}/Inventory/RedfishEndpoints")
}

fn one(xname: &str) -> String {
    format!("{}/{xname}", all())
}

fn read_json(file: &PathBuf) -> anyhow::Result<Value> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", file.display()))
}

/// Run one `redfish-endpoints` verb.
pub async fn run(ctx: &Ctx, cmd: RedfishCmd) -> anyhow::Result<()> {
    let c = &ctx.client;
    match cmd {
        RedfishCmd::List => output::print(&c.get(&all(), &[]).await?, ctx.format, &VIEW),
        RedfishCmd::Get { xname } => {
            output::print(&c.get(&one(&xname), &[]).await?, ctx.format, &VIEW)
        }
        RedfishCmd::Create(args) => {
            let body = json!({"RedfishEndpoints": [args.endpoint(true)?]});
            let answer = c.post(&all(), &body).await?;
            output::done(&answer, ctx.format, &format!("registered {}", args.xname))
        }
        RedfishCmd::Update(args) => {
            let answer = c.patch(&one(&args.xname), &args.endpoint(false)?).await?;
            output::done(&answer, ctx.format, &format!("updated {}", args.xname))
        }
        RedfishCmd::Delete { xname } => {
            let answer = c.delete(&one(&xname)).await?;
            output::done(&answer, ctx.format, &format!("deleted {xname}"))
        }
        RedfishCmd::Load { file } => {
            let body = read_json(&file)?;
            let answer = c.post(&all(), &body).await?;
            output::done(&answer, ctx.format, &format!("loaded {}", file.display()))
        }
        RedfishCmd::DeleteAll { yes } => {
            require_yes(yes, "every Redfish endpoint")?;
            let answer = c.delete(&all()).await?;
            output::done(&answer, ctx.format, "deleted every Redfish endpoint")
        }
    }
}
