//! `cairn cluster`: the replicas, from `/apis/cairn/v1/cluster`.

use cairn_coordinator::api::ClusterView;
use clap::Subcommand;
use serde_json::{Value, json};

use crate::Ctx;
use crate::client::Client;
use crate::output::{self, Format, View, col};

/// Cairn's cluster API root.
pub const CLUSTER: &str = "/apis/cairn/v1/cluster";

const VIEW: View = View {
    list_key: Some("members"),
    columns: &[
        col("ID", "id"),
        col("ROLE", "role"),
        col("RAFT ADDR", "raft_addr"),
        col("API ADDR", "api_addr"),
        col("MATCHED INDEX", "matched_index"),
        col("LAG", "lag"),
    ],
};

/// Fetch `GET /apis/cairn/v1/cluster` from one replica.
pub async fn fetch_status(client: &Client) -> anyhow::Result<ClusterView> {
    let v = client.get(CLUSTER, &[]).await?;
    Ok(serde_json::from_value(v)?)
}

/// Members that vote (leader and followers).
pub fn voters(status: &ClusterView) -> usize {
    status
        .members
        .iter()
        .filter(|m| m.role != "learner")
        .count()
}

/// Verbs on the replica set.
#[derive(Debug, Subcommand)]
pub enum ClusterCmd {
    /// Show the replicas, the leader, the term and the inventory revision.
    Status,
    /// Add a running replica: first as a learner, then as a voter once it has caught up.
    Add {
        /// The new replica's Raft id (its --node-id).
        id: u64,
        /// Its Raft address.
        #[arg(long, value_name = "HOST:PORT")]
        raft_addr: String,
        /// Its API address.
        #[arg(long, value_name = "HOST:PORT")]
        api_addr: String,
    },
    /// Remove a replica from the cluster.
    Remove {
        /// The replica's Raft id.
        id: u64,
    },
}

/// The one-line summary above the members table.
pub fn summary(v: &Value) -> String {
    let field = |k: &str| match v.get(k) {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(x) => x.to_string(),
    };
    format!(
        "leader {}  term {}  applied {}  revision {}  (answered by replica {})",
        field("leader"),
        field("term"),
        field("last_applied"),
        field("revision"),
        field("id")
    )
}

/// Run one `cluster` verb.
pub async fn run(ctx: &Ctx, cmd: ClusterCmd) -> anyhow::Result<()> {
    let c = &ctx.client;
    match cmd {
        ClusterCmd::Status => {
            let v = c.get(CLUSTER, &[]).await?;
            if ctx.format == Format::Table {
                println!("{}", summary(&v));
            }
            output::print(&v, ctx.format, &VIEW)
        }
        ClusterCmd::Add {
            id,
            raft_addr,
            api_addr,
        } => {
            let body = json!({"id": id, "raft_addr": raft_addr, "api_addr": api_addr});
            let answer = c.post(&format!("{CLUSTER}/members"), &body).await?;
            output::done(
                &answer,
                ctx.format,
                &format!("added replica {id} as a voter"),
            )
        }
        ClusterCmd::Remove { id } => {
            let answer = c.delete(&format!("{CLUSTER}/members/{id}")).await?;
            output::done(&answer, ctx.format, &format!("removed replica {id}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parses_and_summarizes() {
        let v = json!({"id": 2, "leader": 1, "term": 3, "last_applied": 40, "revision": 38,
            "members": [{"id": 1, "raft_addr": "a:1", "api_addr": "a:2", "role": "leader", "matched_index": 40, "lag": 0},
                        {"id": 4, "raft_addr": "d:1", "api_addr": "d:2", "role": "learner", "matched_index": 12, "lag": 28}]});
        let s: ClusterView = serde_json::from_value(v.clone()).expect("parses");
        assert_eq!((s.leader, voters(&s)), (Some(1), 1));
        assert_eq!(
            summary(&v),
            "leader 1  term 3  applied 40  revision 38  (answered by replica 2)"
        );
        assert!(summary(&json!({"id": 1, "leader": null})).starts_with("leader -"));
    }
}
