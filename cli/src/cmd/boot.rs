//! `cairn boot`: BSS boot parameters (`/boot/v1/bootparameters`) and the iPXE script a node
//! gets (`/boot/v1/bootscript`).

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::Ctx;
use crate::output::{self, Format, View, col};
use crate::validate;

/// BSS's API root.
pub const BSS: &str = "/boot/v1";

const PARAMS_VIEW: View = View {
    list_key: None,
    columns: &[
        col("HOSTS", "hosts"),
        col("KERNEL", "kernel"),
        col("INITRD", "initrd"),
        col("PARAMS", "params"),
    ],
};

/// Verbs on boot parameters and scripts.
#[derive(Debug, Subcommand)]
pub enum BootCmd {
    /// Boot parameters of nodes, roles, Default and Unknown-<arch> (/boot/v1/bootparameters).
    #[command(subcommand)]
    Params(ParamsCmd),
    /// Show the iPXE script a node gets (with -o json, BSS's resolved BootData).
    Script {
        /// The node: an xname, a MAC or a NID.
        #[arg(value_parser = validate::node_ref, value_name = "NODE")]
        node: validate::NodeRef,
        /// iPXE's ${buildarch}, as an unknown node would send it (x86_64, arm64, ...).
        #[arg(long)]
        arch: Option<String>,
    },
}

/// Which boot parameters a verb applies to: at least one `--host`, `--mac` or `--nid`.
#[derive(Debug, Clone, Args)]
pub struct Selectors {
    /// A node xname, a role (Compute, Service, ...), Default, Global or Unknown-<arch>
    /// (repeatable).
    #[arg(long = "host", value_parser = validate::boot_key, value_name = "HOST")]
    pub hosts: Vec<String>,
    /// The node with this MAC (repeatable).
    #[arg(long = "mac", value_parser = validate::mac, value_name = "MAC")]
    pub macs: Vec<String>,
    /// The node with this NID (repeatable).
    #[arg(long = "nid", value_name = "NID")]
    pub nids: Vec<i64>,
}

impl Selectors {
    fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.macs.is_empty() && self.nids.is_empty()
    }

    fn require(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.is_empty(),
            "say which boot parameters: --host (xname, role, Default, Unknown-<arch>), --mac or --nid"
        );
        Ok(())
    }

    fn body(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if !self.hosts.is_empty() {
            m.insert("hosts".into(), json!(self.hosts));
        }
        if !self.macs.is_empty() {
            m.insert("macs".into(), json!(self.macs));
        }
        if !self.nids.is_empty() {
            m.insert("nids".into(), json!(self.nids));
        }
        m
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q: Vec<(&str, String)> = self.hosts.iter().map(|h| ("name", h.clone())).collect();
        q.extend(self.macs.iter().map(|m| ("mac", m.clone())));
        q.extend(self.nids.iter().map(|n| ("nid", n.to_string())));
        q
    }

    fn describe(&self) -> String {
        let mut all: Vec<String> = self.hosts.clone();
        all.extend(self.macs.iter().cloned());
        all.extend(self.nids.iter().map(|n| format!("NID {n}")));
        all.join(", ")
    }
}

/// Verbs on `/boot/v1/bootparameters`.
#[derive(Debug, Subcommand)]
pub enum ParamsCmd {
    /// List boot parameters: all, or those of the given hosts, MACs and NIDs.
    Get {
        /// Which ones (none: all).
        #[command(flatten)]
        sel: Selectors,
    },
    /// Set boot parameters: create or replace the whole entry (PUT), or with --merge change
    /// only the fields given in an existing one (PATCH).
    Set {
        /// Which entries.
        #[command(flatten)]
        sel: Selectors,
        /// Kernel URL (http, https, tftp) or path.
        #[arg(long, value_parser = validate::kernel, value_name = "URL")]
        kernel: Option<String>,
        /// Initrd URL or path.
        #[arg(long, value_parser = validate::initrd, value_name = "URL")]
        initrd: Option<String>,
        /// Kernel command line, quoted as one argument.
        #[arg(long, value_parser = validate::kernel_params, value_name = "PARAMS")]
        params: Option<String>,
        /// Keep the fields not given (the entry must exist) instead of replacing the entry.
        #[arg(long)]
        merge: bool,
    },
    /// Delete boot parameters.
    Delete {
        /// Which entries.
        #[command(flatten)]
        sel: Selectors,
    },
}

/// Run one `boot` verb.
pub async fn run(ctx: &Ctx, cmd: BootCmd) -> anyhow::Result<()> {
    match cmd {
        BootCmd::Params(p) => params(ctx, p).await,
        BootCmd::Script { node, arch } => script(ctx, &node, arch).await,
    }
}

async fn params(ctx: &Ctx, cmd: ParamsCmd) -> anyhow::Result<()> {
    let c = &ctx.client;
    let path = format!("{BSS}/bootparameters");
    match cmd {
        ParamsCmd::Get { sel } => {
            output::print(&c.get(&path, &sel.query()).await?, ctx.format, &PARAMS_VIEW)
        }
        ParamsCmd::Set {
            sel,
            kernel,
            initrd,
            params,
            merge,
        } => {
            sel.require()?;
            anyhow::ensure!(
                kernel.is_some() || initrd.is_some() || params.is_some(),
                "nothing to set: give --kernel, --initrd and/or --params"
            );
            let mut body = sel.body();
            for (key, value) in [("kernel", kernel), ("initrd", initrd), ("params", params)] {
                if let Some(v) = value {
                    body.insert(key.into(), json!(v));
                }
            }
            let body = Value::Object(body);
            let answer = if merge {
                c.patch(&path, &body).await?
            } else {
                c.put(&path, &body).await?
            };
            let verb = if merge { "updated" } else { "set" };
            output::done(
                &answer,
                ctx.format,
                &format!("{verb} boot parameters of {}", sel.describe()),
            )
        }
        ParamsCmd::Delete { sel } => {
            sel.require()?;
            let body = Value::Object(sel.body());
            let answer = c.send(Method::DELETE, &path, &[], Some(&body)).await?;
            output::done(
                &answer,
                ctx.format,
                &format!("deleted boot parameters of {}", sel.describe()),
            )
        }
    }
}

async fn script(ctx: &Ctx, node: &validate::NodeRef, arch: Option<String>) -> anyhow::Result<()> {
    let path = format!("{BSS}/bootscript");
    let mut query = vec![node.query()];
    if let Some(a) = arch {
        query.push(("arch", a));
    }
    match ctx.format {
        Format::Table => {
            print!("{}", ctx.client.get_text(&path, &query).await?);
            Ok(())
        }
        format => {
            query.push(("json", "1".into()));
            let data = ctx.client.get(&path, &query).await?;
            output::print(&data, format, &PARAMS_VIEW)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_make_bodies_and_queries() {
        let sel = Selectors {
            hosts: vec!["Default".into(), "x1000c0s0b0n0".into()],
            macs: vec!["aa:bb:cc:dd:ee:ff".into()],
            nids: vec![7],
        };
        assert_eq!(
            Value::Object(sel.body()),
            json!({"hosts": ["Default", "x1000c0s0b0n0"], "macs": ["aa:bb:cc:dd:ee:ff"], "nids": [7]})
        );
        assert_eq!(
            sel.query(),
            vec![
                ("name", "Default".to_owned()),
                ("name", "x1000c0s0b0n0".to_owned()),
                ("mac", "aa:bb:cc:dd:ee:ff".to_owned()),
                ("nid", "7".to_owned())
            ]
        );
        assert!(
            Selectors {
                hosts: vec![],
                macs: vec![],
                nids: vec![]
            }
            .require()
            .is_err()
        );
    }
}
