//! `cairn cloud-init`: OpenCHAMI cloud-init's admin data (`/cloud-init/admin`): cluster
//! defaults, per-group data and files, per-node instance info.

use std::path::Path;

use anyhow::Context as _;
use cairn_protocols::FieldError;
use clap::Subcommand;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::Ctx;
use crate::output::{self, Format, View, col};

mod defaults;
mod groups;
mod instance;

pub use defaults::{DefaultsArgs, DefaultsCmd};
pub use groups::{GroupsCmd, group_body};
pub use instance::{InstanceArgs, InstanceCmd};

/// The admin API's root.
pub const ADMIN: &str = "/cloud-init/admin";

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

/// Run one `cloud-init` verb.
pub async fn run(ctx: &Ctx, cmd: CloudInitCmd) -> anyhow::Result<()> {
    match cmd {
        CloudInitCmd::Groups(g) => groups::run(ctx, g).await,
        CloudInitCmd::Defaults(d) => defaults::run(ctx, d).await,
        CloudInitCmd::Instance(i) => instance::run(ctx, i).await,
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
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

/// The body of a `defaults set` or `instance set`: the given fields, the user-data file's text
/// and the SSH keys (when any; given keys replace the stored list).
fn record_body(
    mut fields: Vec<(&str, Option<Value>)>,
    user_data_file: Option<&Path>,
    public_keys: Vec<String>,
) -> anyhow::Result<Map<String, Value>> {
    let user_data = user_data_file.map(read).transpose()?;
    fields.push(("user-data", user_data.map(Value::from)));
    let mut body = Map::new();
    insert_some(&mut body, fields);
    if !public_keys.is_empty() {
        body.insert("public-keys".into(), json!(public_keys));
    }
    Ok(body)
}

/// `body` once it decodes as a `T` that passes `validate`: the server's own checks, so bad
/// input fails before anything is sent.
fn checked<T: DeserializeOwned>(
    body: Map<String, Value>,
    validate: impl FnOnce(&T) -> Result<(), FieldError>,
) -> anyhow::Result<Value> {
    let body = Value::Object(body);
    let parsed: T = cairn_protocols::from_json_value(&body)?;
    validate(&parsed)?;
    Ok(body)
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
