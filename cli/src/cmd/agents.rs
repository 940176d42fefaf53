//! `cairn agents`: the rack agents the coordinators know (`/apis/cairn/v1/agents`).

use clap::{Args, Subcommand};

use crate::Ctx;
use crate::cmd::require_yes;
use crate::output::{self, View, col};

/// Where the agents are listed.
pub const AGENTS: &str = "/apis/cairn/v1/agents";

const VIEW: View = View {
    list_key: Some("agents"),
    columns: &[
        col("ID", "id"),
        col("SCOPE", "scope"),
        col("VERSION", "version"),
        col("STATE", "state"),
        col("LAST CONTACT", "last_seen"),
        col("OUTBOX", "outbox_depth"),
        col("DESIRED REV", "desired_revision"),
        col("REPORTS", "last_report_seq"),
    ],
};

/// `cairn agents` lists; `cairn agents remove ID` forgets one.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AgentsCmd {
    /// What to do (default: list).
    #[command(subcommand)]
    pub command: Option<AgentsSub>,
}

/// Verbs on agents.
#[derive(Debug, Subcommand)]
pub enum AgentsSub {
    /// List every registered agent: scope, version, state, last contact, reports waiting in
    /// its outbox, the desired-state revision it holds.
    List,
    /// Forget an agent, freeing its cabinets for another one (it registers again if running).
    Remove {
        /// The agent's id.
        #[arg(value_parser = agent_id)]
        id: String,
        /// Confirm.
        #[arg(long)]
        yes: bool,
    },
}

fn agent_id(s: &str) -> Result<String, String> {
    cairn_protocols::agent::validate_agent_id(s)
        .map(|()| s.to_owned())
        .map_err(|e| e.to_string())
}

/// Run `cairn agents`.
pub async fn run(ctx: &Ctx, cmd: AgentsCmd) -> anyhow::Result<()> {
    match cmd.command.unwrap_or(AgentsSub::List) {
        AgentsSub::List => {
            let v = ctx.client.get(AGENTS, &[]).await?;
            output::print(&v, ctx.format, &VIEW)
        }
        AgentsSub::Remove { id, yes } => {
            require_yes(yes, &format!("agent {id}'s registration"))?;
            let v = ctx.client.delete(&format!("{AGENTS}/{id}")).await?;
            output::done(&v, ctx.format, &format!("removed agent {id}"))
        }
    }
}
