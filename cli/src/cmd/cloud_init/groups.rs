//! `cairn cloud-init groups`: a group's meta-data and cloud-init file.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{Map, Value, json};

use super::{ADMIN, checked, insert_some, read};
use crate::Ctx;
use crate::output::{self, Format, View, col};

const GROUP_VIEW: View = View {
    list_key: None,
    columns: &[
        col("NAME", "name"),
        col("DESCRIPTION", "description"),
        col("FILE", "file.filename"),
        col("ENCODING", "file.encoding"),
    ],
};

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

fn key_value(s: &str) -> Result<(String, Value), String> {
    let (k, v) = s
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("{s:?}: expected KEY=VALUE"))?;
    let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
    Ok((k.to_owned(), v))
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
    checked(body, cairn_protocols::GroupData::validate)
}

pub(super) async fn run(ctx: &Ctx, cmd: GroupsCmd) -> anyhow::Result<()> {
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
