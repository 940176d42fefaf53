//! `cairn groups` and `cairn partitions`: the same verbs over `/hsm/v2/groups` and
//! `/hsm/v2/partitions`, which differ only in their path, key and exclusivity.

use clap::Subcommand;
use serde_json::{Map, Value, json};

use crate::Ctx;
use crate::cmd::HSM;
use crate::output::{self, Column, View, col};
use crate::validate;

/// What differs between groups and partitions.
#[derive(Debug)]
pub struct Kind {
    /// Singular noun for messages.
    pub noun: &'static str,
    /// Path segment under `/hsm/v2`.
    pub path: &'static str,
    /// The JSON key naming a set (`label` or `name`).
    pub key: &'static str,
    /// Whether `--exclusive` applies.
    pub exclusive: bool,
    /// Table columns.
    pub columns: &'static [Column],
}

/// Groups: many per component, optionally in exclusive families.
pub const GROUPS: Kind = Kind {
    noun: "group",
    path: "groups",
    key: "label",
    exclusive: true,
    columns: &[
        col("LABEL", "label"),
        col("DESCRIPTION", "description"),
        col("TAGS", "tags"),
        col("EXCLUSIVE", "exclusiveGroup"),
        col("MEMBERS", "members.ids"),
    ],
};

/// Partitions: at most one per component.
pub const PARTITIONS: Kind = Kind {
    noun: "partition",
    path: "partitions",
    key: "name",
    exclusive: false,
    columns: &[
        col("NAME", "name"),
        col("DESCRIPTION", "description"),
        col("TAGS", "tags"),
        col("MEMBERS", "members.ids"),
    ],
};

const MEMBERS: View = View {
    list_key: Some("ids"),
    columns: &[],
};

/// Verbs shared by groups and partitions.
#[derive(Debug, Subcommand)]
pub enum SetCmd {
    /// List every set with its members.
    List,
    /// Show one set.
    Get {
        /// The set's name (a group's label).
        name: String,
    },
    /// Create a set, optionally with members.
    Create {
        /// The set's name (a group's label).
        name: String,
        /// Free text.
        #[arg(long)]
        description: Option<String>,
        /// A tag (repeatable).
        #[arg(long)]
        tag: Vec<String>,
        /// Groups only: the exclusive family; a component is in at most one group of it.
        #[arg(long, value_name = "NAME")]
        exclusive: Option<String>,
        /// A member xname (repeatable).
        #[arg(long, value_parser = validate::xname, value_name = "XNAME")]
        member: Vec<String>,
    },
    /// Change the description or tags of a set.
    Update {
        /// The set's name (a group's label).
        name: String,
        /// The new description.
        #[arg(long)]
        description: Option<String>,
        /// The new tags, replacing the old ones (repeatable).
        #[arg(long)]
        tag: Vec<String>,
    },
    /// Delete a set (its members are not touched).
    Delete {
        /// The set's name (a group's label).
        name: String,
    },
    /// List the members of a set.
    Members {
        /// The set's name (a group's label).
        name: String,
    },
    /// Add components to a set.
    AddMember {
        /// The set's name (a group's label).
        name: String,
        /// The xnames to add.
        #[arg(required = true, value_parser = validate::xname)]
        xnames: Vec<String>,
    },
    /// Remove components from a set.
    RemoveMember {
        /// The set's name (a group's label).
        name: String,
        /// The xnames to remove.
        #[arg(required = true, value_parser = validate::xname)]
        xnames: Vec<String>,
    },
}

/// The body that creates a set.
pub fn create_body(
    kind: &Kind,
    name: &str,
    description: Option<&str>,
    tags: &[String],
    exclusive: Option<&str>,
    members: &[String],
) -> anyhow::Result<Value> {
    let mut body = Map::new();
    body.insert(kind.key.into(), json!(name));
    if let Some(d) = description {
        body.insert("description".into(), json!(d));
    }
    if !tags.is_empty() {
        body.insert("tags".into(), json!(tags));
    }
    if let Some(e) = exclusive {
        anyhow::ensure!(
            kind.exclusive,
            "--exclusive applies to groups, not {}s",
            kind.noun
        );
        body.insert("exclusiveGroup".into(), json!(e));
    }
    body.insert("members".into(), json!({"ids": members}));
    Ok(Value::Object(body))
}

/// Run one verb on groups or partitions.
pub async fn run(ctx: &Ctx, kind: &Kind, cmd: SetCmd) -> anyhow::Result<()> {
    let c = &ctx.client;
    let base = format!("{HSM}/{}", kind.path);
    let view = View {
        list_key: None,
        columns: kind.columns,
    };
    let noun = kind.noun;
    match cmd {
        SetCmd::List => output::print(&c.get(&base, &[]).await?, ctx.format, &view),
        SetCmd::Get { name } => output::print(
            &c.get(&format!("{base}/{name}"), &[]).await?,
            ctx.format,
            &view,
        ),
        SetCmd::Create {
            name,
            description,
            tag,
            exclusive,
            member,
        } => {
            let body = create_body(
                kind,
                &name,
                description.as_deref(),
                &tag,
                exclusive.as_deref(),
                &member,
            )?;
            let answer = c.post(&base, &body).await?;
            output::done(&answer, ctx.format, &format!("created {noun} {name}"))
        }
        SetCmd::Update {
            name,
            description,
            tag,
        } => {
            anyhow::ensure!(
                description.is_some() || !tag.is_empty(),
                "nothing to change: give --description and/or --tag"
            );
            let mut body = Map::new();
            if let Some(d) = description {
                body.insert("description".into(), json!(d));
            }
            if !tag.is_empty() {
                body.insert("tags".into(), json!(tag));
            }
            let answer = c
                .patch(&format!("{base}/{name}"), &Value::Object(body))
                .await?;
            output::done(&answer, ctx.format, &format!("updated {noun} {name}"))
        }
        SetCmd::Delete { name } => {
            let answer = c.delete(&format!("{base}/{name}")).await?;
            output::done(&answer, ctx.format, &format!("deleted {noun} {name}"))
        }
        SetCmd::Members { name } => {
            let v = c.get(&format!("{base}/{name}/members"), &[]).await?;
            match ctx.format {
                output::Format::Table => {
                    for id in output::records(&v, MEMBERS.list_key) {
                        println!("{}", id.as_str().unwrap_or_default());
                    }
                    Ok(())
                }
                f => output::print(&v, f, &MEMBERS),
            }
        }
        SetCmd::AddMember { name, xnames } => {
            for x in &xnames {
                c.post(&format!("{base}/{name}/members"), &json!({"id": x}))
                    .await?;
            }
            output::done(
                &Value::Null,
                ctx.format,
                &format!("added {} to {noun} {name}", xnames.join(", ")),
            )
        }
        SetCmd::RemoveMember { name, xnames } => {
            for x in &xnames {
                c.delete(&format!("{base}/{name}/members/{x}")).await?;
            }
            output::done(
                &Value::Null,
                ctx.format,
                &format!("removed {} from {noun} {name}", xnames.join(", ")),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_use_the_kinds_key() {
        let m = vec!["x1000c0s0b0n0".to_owned()];
        let g = create_body(&GROUPS, "compute", Some("all"), &[], Some("role"), &m).expect("body");
        assert_eq!(g["label"], "compute");
        assert_eq!(g["exclusiveGroup"], "role");
        assert_eq!(g["members"]["ids"][0], "x1000c0s0b0n0");
        let p = create_body(&PARTITIONS, "p1", None, &[], None, &m).expect("body");
        assert_eq!(p["name"], "p1");
        let err = create_body(&PARTITIONS, "p1", None, &[], Some("x"), &m).expect_err("refused");
        assert!(err.to_string().contains("partitions"));
    }
}
