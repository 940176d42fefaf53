//! `cairn interfaces`: `/hsm/v2/Inventory/EthernetInterfaces`.

use clap::Subcommand;
use serde_json::{Map, Value, json};

use crate::Ctx;
use crate::cmd::{HSM, require_yes};
use crate::output::{self, View, col};
use crate::validate;

const VIEW: View = View {
    list_key: None,
    columns: &[
        col("MAC", "MACAddress"),
        col("COMPONENT", "ComponentID"),
        col("TYPE", "Type"),
        col("IP ADDRESSES", "IPAddresses.IPAddress"),
        col("DESCRIPTION", "Description"),
        col("LAST UPDATE", "LastUpdate"),
    ],
};

const IP_VIEW: View = View {
    list_key: None,
    columns: &[col("IP ADDRESS", "IPAddress"), col("NETWORK", "Network")],
};

/// Verbs on Ethernet interfaces. A MAC may be given in any usual form.
#[derive(Debug, Subcommand)]
pub enum InterfacesCmd {
    /// List interfaces, optionally filtered.
    List {
        /// Only the interface with this MAC.
        #[arg(long, value_parser = validate::mac)]
        mac: Option<String>,
        /// Only interfaces of this component.
        #[arg(long, value_parser = validate::xname, value_name = "XNAME")]
        component: Option<String>,
        /// Only interfaces whose component has this HMS type.
        #[arg(long = "type", value_parser = validate::hms_type, value_name = "TYPE")]
        kind: Option<String>,
    },
    /// Show one interface.
    Get {
        /// The interface's MAC address.
        #[arg(value_parser = validate::mac_id)]
        mac: String,
    },
    /// Create an interface.
    Create {
        /// The MAC address.
        #[arg(long, value_parser = validate::mac)]
        mac: String,
        /// The component this interface belongs to.
        #[arg(long, value_parser = validate::xname, value_name = "XNAME")]
        component: Option<String>,
        /// An IP address, optionally with its network name: 10.1.0.5 or 10.1.0.5/hmn (repeatable).
        #[arg(long, value_parser = validate::ip_on_network, value_name = "IP[/NETWORK]")]
        ip: Vec<(String, Option<String>)>,
        /// Free text.
        #[arg(long)]
        description: Option<String>,
    },
    /// Change an interface's component or description.
    Update {
        /// The interface's MAC address.
        #[arg(value_parser = validate::mac_id)]
        mac: String,
        /// The new component.
        #[arg(long, value_parser = validate::xname, value_name = "XNAME")]
        component: Option<String>,
        /// The new description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete one interface.
    Delete {
        /// The interface's MAC address.
        #[arg(value_parser = validate::mac_id)]
        mac: String,
    },
    /// Delete every interface.
    DeleteAll {
        /// Confirm deleting every interface.
        #[arg(long)]
        yes: bool,
    },
    /// List an interface's IP addresses.
    Ips {
        /// The interface's MAC address.
        #[arg(value_parser = validate::mac_id)]
        mac: String,
    },
    /// Add an IP address to an interface.
    AddIp {
        /// The interface's MAC address.
        #[arg(value_parser = validate::mac_id)]
        mac: String,
        /// The IP address.
        #[arg(value_parser = validate::ip)]
        ip: String,
        /// The network's name, e.g. hmn.
        #[arg(long)]
        network: Option<String>,
    },
    /// Remove an IP address from an interface.
    RemoveIp {
        /// The interface's MAC address.
        #[arg(value_parser = validate::mac_id)]
        mac: String,
        /// The IP address.
        #[arg(value_parser = validate::ip)]
        ip: String,
    },
}

fn all() -> String {
    format!("{HSM}/Inventory/EthernetInterfaces")
}

fn one(id: &str) -> String {
    format!("{}/{id}", all())
}

/// The body of an interface POST.
pub fn interface(
    mac: &str,
    component: Option<&str>,
    ips: &[(String, Option<String>)],
    description: Option<&str>,
) -> Value {
    let ips: Vec<Value> = ips
        .iter()
        .map(|(ip, net)| match net {
            Some(net) => json!({"IPAddress": ip, "Network": net}),
            None => json!({"IPAddress": ip}),
        })
        .collect();
    let mut body = Map::new();
    body.insert("MACAddress".into(), json!(mac));
    if let Some(c) = component {
        body.insert("ComponentID".into(), json!(c));
    }
    if let Some(d) = description {
        body.insert("Description".into(), json!(d));
    }
    body.insert("IPAddresses".into(), Value::Array(ips));
    Value::Object(body)
}

/// Run one `interfaces` verb.
pub async fn run(ctx: &Ctx, cmd: InterfacesCmd) -> anyhow::Result<()> {
    let c = &ctx.client;
    match cmd {
        InterfacesCmd::List {
            mac,
            component,
            kind,
        } => {
            let q: Vec<(&str, String)> = [
                ("MACAddress", mac),
                ("ComponentID", component),
                ("Type", kind),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
            output::print(&c.get(&all(), &q).await?, ctx.format, &VIEW)
        }
        InterfacesCmd::Get { mac } => {
            output::print(&c.get(&one(&mac), &[]).await?, ctx.format, &VIEW)
        }
        InterfacesCmd::Create {
            mac,
            component,
            ip,
            description,
        } => {
            let body = interface(&mac, component.as_deref(), &ip, description.as_deref());
            let answer = c.post(&all(), &body).await?;
            output::done(&answer, ctx.format, &format!("created interface {mac}"))
        }
        InterfacesCmd::Update {
            mac,
            component,
            description,
        } => {
            anyhow::ensure!(
                component.is_some() || description.is_some(),
                "nothing to change: give --component and/or --description"
            );
            let mut body = Map::new();
            if let Some(x) = component {
                body.insert("ComponentID".into(), json!(x));
            }
            if let Some(d) = description {
                body.insert("Description".into(), json!(d));
            }
            let answer = c.patch(&one(&mac), &Value::Object(body)).await?;
            output::done(&answer, ctx.format, &format!("updated interface {mac}"))
        }
        InterfacesCmd::Delete { mac } => {
            let answer = c.delete(&one(&mac)).await?;
            output::done(&answer, ctx.format, &format!("deleted interface {mac}"))
        }
        InterfacesCmd::DeleteAll { yes } => {
            require_yes(yes, "every Ethernet interface")?;
            let answer = c.delete(&all()).await?;
            output::done(&answer, ctx.format, "deleted every Ethernet interface")
        }
        InterfacesCmd::Ips { mac } => {
            let v = c.get(&format!("{}/IPAddresses", one(&mac)), &[]).await?;
            output::print(&v, ctx.format, &IP_VIEW)
        }
        InterfacesCmd::AddIp { mac, ip, network } => {
            let mut body = json!({"IPAddress": ip});
            if let Some(n) = network {
                body["Network"] = json!(n);
            }
            let answer = c.post(&format!("{}/IPAddresses", one(&mac)), &body).await?;
            output::done(&answer, ctx.format, &format!("added {ip} to {mac}"))
        }
        InterfacesCmd::RemoveIp { mac, ip } => {
            let answer = c.delete(&format!("{}/IPAddresses/{ip}", one(&mac))).await?;
            output::done(&answer, ctx.format, &format!("removed {ip} from {mac}"))
        }
    }
}
