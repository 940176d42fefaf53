//! `cairn cloud-init`: OpenCHAMI cloud-init's admin data (`/cloud-init/admin`): cluster
//! defaults, per-group data and files, per-node instance info.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::Ctx;
use crate::output::{self, Format, View, col};
use crate::validate;

/// The admin API's root.
pub const ADMIN: &str = "/cloud-init/admin";

const GROUP_VIEW: View = View {
    list_key: None,
    columns: &[
        col("NAME", "name"),
        col("DESCRIPTION", "description"),
        col("FILE", "file.filename"),
        col("ENCODING", "file.encoding"),
    ],
};

const KEY_VALUE: View = View {
    list_key: None,
    columns: &[col("KEY", "key"), col("VALUE", "value")],
};

/// Verbs on cloud-init data.
#[derive(Debug, Subcommand)]
pub enum CloudInitCmd {
    /// Data for the members of an SMD group: meta-data and a cloud-init file.
    #[command(subcommand)]
    Groups(GroupsCmd),
    /// Cluster-wide defaults (cluster name, hostnames, SSH keys, base URL, user-data).
    #[command(subcommand)]
    Defaults(DefaultsCmd),
    /// Per-node overrides (hostname, instance id, SSH keys, user-data).
    #[command(subcommand)]
    Instance(InstanceCmd),
}

/// Verbs on group data.
#[derive(Debug, Subcommand)]
pub enum GroupsCmd {
    /// List every group's data.
    List,
    /// Show one group's data.
    Get {
        /// The group (an SMD group label).
        name: String,
    },
    /// Create or replace a group's data.
    Set {
        /// The group (an SMD group label; its members get this data).
        name: String,
        /// One-line description.
        #[arg(long)]
        description: Option<String>,
        /// The group's cloud-init file (#cloud-config, a script, a jinja template...), served
        /// to members at /cloud-init/<name>.yaml.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Send and store the file base64-encoded (for binary-safe round trips).
        #[arg(long, requires = "file")]
        base64: bool,
        /// A meta-data entry shown to members, KEY=VALUE; VALUE is JSON if it parses, else
        /// text (repeatable).
        #[arg(long, value_parser = key_value, value_name = "KEY=VALUE")]
        meta: Vec<(String, Value)>,
    },
    /// Delete a group's data (the SMD group stays).
    Delete {
        /// The group.
        name: String,
    },
}

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

fn key_value(s: &str) -> Result<(String, Value), String> {
    let (k, v) = s
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("{s:?}: expected KEY=VALUE"))?;
    let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
    Ok((k.to_owned(), v))
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Put the `Some` fields of `fields` into `body` under their keys.
fn insert_some(body: &mut Map<String, Value>, fields: Vec<(&str, Option<Value>)>) {
    for (k, v) in fields {
        if let Some(v) = v {
            body.insert(k.into(), v);
        }
    }
}

/// The body of `groups set`, checked as the server will check it.
pub fn group_body(
    name: &str,
    description: Option<String>,
    file: Option<(String, String)>,
    base64: bool,
    meta: Vec<(String, Value)>,
) -> anyhow::Result<Value> {
    let mut body = Map::new();
    body.insert("name".into(), json!(name));
    insert_some(
        &mut body,
        vec![("description", description.map(Value::from))],
    );
    if !meta.is_empty() {
        body.insert(
            "meta-data".into(),
            Value::Object(meta.into_iter().collect()),
        );
    }
    if let Some((filename, content)) = file {
        let file = cairn_protocols::CloudConfigFile {
            content,
            filename,
            encoding: if base64 {
                cairn_protocols::FileEncoding::Base64
            } else {
                cairn_protocols::FileEncoding::Plain
            },
        };
        body.insert("file".into(), serde_json::to_value(&file)?);
    }
    let body = Value::Object(body);
    let parsed: cairn_protocols::GroupData = cairn_protocols::from_json_value(&body)?;
    parsed.validate()?;
    Ok(body)
}

/// Run one `cloud-init` verb.
pub async fn run(ctx: &Ctx, cmd: CloudInitCmd) -> anyhow::Result<()> {
    match cmd {
        CloudInitCmd::Groups(g) => groups(ctx, g).await,
        CloudInitCmd::Defaults(d) => defaults(ctx, d).await,
        CloudInitCmd::Instance(i) => instance(ctx, i).await,
    }
}

async fn groups(ctx: &Ctx, cmd: GroupsCmd) -> anyhow::Result<()> {
    let c = &ctx.client;
    let base = format!("{ADMIN}/groups");
    match cmd {
        GroupsCmd::List => {
            let v = c.get(&base, &[]).await?;
            match ctx.format {
                // A map by name: a row per group.
                Format::Table => {
                    let rows: Vec<Value> = v
                        .as_object()
                        .map(|m| m.values().cloned().collect())
                        .unwrap_or_default();
                    output::print(&Value::Array(rows), Format::Table, &GROUP_VIEW)
                }
                f => output::print(&v, f, &GROUP_VIEW),
            }
        }
        GroupsCmd::Get { name } => output::print(
            &c.get(&format!("{base}/{name}"), &[]).await?,
            ctx.format,
            &GROUP_VIEW,
        ),
        GroupsCmd::Set {
            name,
            description,
            file,
            base64,
            meta,
        } => {
            let file = match file {
                Some(p) => {
                    let filename = p
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    Some((filename, read(&p)?))
                }
                None => None,
            };
            let body = group_body(&name, description, file, base64, meta)?;
            let answer = c.put(&format!("{base}/{name}"), &body).await?;
            output::done(&answer, ctx.format, &format!("set cloud-init group {name}"))
        }
        GroupsCmd::Delete { name } => {
            let answer = c.delete(&format!("{base}/{name}")).await?;
            output::done(
                &answer,
                ctx.format,
                &format!("deleted cloud-init group {name}"),
            )
        }
    }
}

/// An object as KEY/VALUE rows (for records with many optional fields).
fn key_values(v: &Value) -> Value {
    let rows = v
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect()
        })
        .unwrap_or_default();
    Value::Array(rows)
}

fn print_record(v: &Value, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Table => output::print(&key_values(v), format, &KEY_VALUE),
        f => output::print(v, f, &KEY_VALUE),
    }
}

async fn defaults(ctx: &Ctx, cmd: DefaultsCmd) -> anyhow::Result<()> {
    let path = format!("{ADMIN}/cluster-defaults");
    match cmd {
        DefaultsCmd::Get => print_record(&ctx.client.get(&path, &[]).await?, ctx.format),
        DefaultsCmd::Set(a) => {
            let mut body = Map::new();
            insert_some(
                &mut body,
                vec![
                    ("cluster-name", a.cluster_name.map(Value::from)),
                    ("short-name", a.short_name.map(Value::from)),
                    ("nid-length", a.nid_length.map(Value::from)),
                    ("base-url", a.base_url.map(Value::from)),
                    ("region", a.region.map(Value::from)),
                    ("availability-zone", a.availability_zone.map(Value::from)),
                    ("cloud_provider", a.cloud_provider.map(Value::from)),
                    (
                        "user-data",
                        a.user_data_file
                            .as_ref()
                            .map(read)
                            .transpose()?
                            .map(Value::from),
                    ),
                ],
            );
            if !a.public_key.is_empty() {
                body.insert("public-keys".into(), json!(a.public_key));
            }
            anyhow::ensure!(!body.is_empty(), "nothing to set: give at least one field");
            let body = Value::Object(body);
            let parsed: cairn_protocols::ClusterDefaults = cairn_protocols::from_json_value(&body)?;
            parsed.validate()?;
            let answer = ctx.client.post(&path, &body).await?;
            output::done(&answer, ctx.format, "set cloud-init cluster defaults")
        }
    }
}

async fn instance(ctx: &Ctx, cmd: InstanceCmd) -> anyhow::Result<()> {
    let base = format!("{ADMIN}/instance-info");
    match cmd {
        InstanceCmd::Get { xname } => print_record(
            &ctx.client.get(&format!("{base}/{xname}"), &[]).await?,
            ctx.format,
        ),
        InstanceCmd::Set(a) => {
            let mut body = Map::new();
            insert_some(
                &mut body,
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
                    (
                        "user-data",
                        a.user_data_file
                            .as_ref()
                            .map(read)
                            .transpose()?
                            .map(Value::from),
                    ),
                ],
            );
            if !a.public_key.is_empty() {
                body.insert("public-keys".into(), json!(a.public_key));
            }
            let body = Value::Object(body);
            let parsed: cairn_protocols::InstanceInfo = cairn_protocols::from_json_value(&body)?;
            parsed.validate()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_bodies_are_checked_before_sending() {
        let b = group_body(
            "compute",
            Some("all".into()),
            Some(("c.yaml".into(), "#cloud-config\npackages: [vim]\n".into())),
            true,
            vec![("slurm".into(), json!(true))],
        )
        .expect("valid");
        assert_eq!(b["file"]["encoding"], "base64");
        assert_eq!(b["file"]["filename"], "c.yaml");
        assert_eq!(b["meta-data"]["slurm"], true);
        let e = group_body(
            "compute",
            None,
            Some(("c".into(), "packages: [vim]\n".into())),
            false,
            vec![],
        )
        .expect_err("no header");
        assert!(e.to_string().contains("file.content"), "{e}");
        assert_eq!(key_value("a=1").expect("kv"), ("a".to_owned(), json!(1)));
        assert_eq!(
            key_value("a=x y").expect("kv"),
            ("a".to_owned(), json!("x y"))
        );
        assert!(key_value("=1").is_err());
    }
}
