//! `cairn power`: PCS's `/power-control/v1` — transitions on sets of nodes (followed with a
//! progress bar, then a per-node result table), power status, transition history and abort.

mod status;
pub mod transition;

use cairn_protocols::power::{ManagementState, PowerOperation, PowerState};
use clap::{Args, Subcommand};

use crate::Ctx;
use crate::output::{self, View, col};
use crate::targets::{self, TargetArg};

pub use transition::{Outcome, TransitionRequest};

/// PCS's API root on a Cairn coordinator.
pub const PCS: &str = "/power-control/v1";

const TARGETS_HELP: &str = "Targets: xnames (a node, or a BMC, slot, chassis or cabinet for the nodes beneath it), \
ranges such as x1000c0s[0-3]b0n[0-1] (each [..] a list of numbers and FROM-TO spans), and group \
labels (@LABEL when the label looks like an xname). Exits non-zero when any target did not \
succeed.";

/// Verbs of `cairn power`.
#[derive(Debug, Subcommand)]
pub enum PowerCmd {
    /// Power nodes on.
    #[command(after_help = TARGETS_HELP)]
    On(OpArgs),
    /// Shut nodes down gracefully, forcing them off if they do not stop in time.
    #[command(after_help = TARGETS_HELP)]
    Off(OpArgs),
    /// Shut nodes down gracefully only (GracefulShutdown).
    #[command(after_help = TARGETS_HELP)]
    SoftOff(OpArgs),
    /// Restart nodes that are on gracefully (GracefulRestart, else ForceRestart, else off then on).
    #[command(after_help = TARGETS_HELP)]
    SoftRestart(OpArgs),
    /// Restart nodes that are on: off (graceful, then forced), then on.
    #[command(after_help = TARGETS_HELP)]
    HardRestart(OpArgs),
    /// Same as hard-restart: the reboot that always happens (graceful first, forced if needed).
    #[command(after_help = TARGETS_HELP)]
    Restart(OpArgs),
    /// Like hard-restart, but nodes that are off are simply powered on.
    #[command(after_help = TARGETS_HELP)]
    Init(OpArgs),
    /// Cut power at once (ForceOff).
    #[command(after_help = TARGETS_HELP)]
    ForceOff(OpArgs),
    /// Power state of nodes as the rack agents last read it.
    Status(StatusArgs),
    /// List transitions (kept 24 hours), or show one with its per-node tasks.
    Transitions {
        /// A transition ID to show.
        #[arg(value_parser = transition_id)]
        id: Option<String>,
    },
    /// Abort a transition: tasks not started fail at once, started ones stop where safe.
    Abort {
        /// The transition ID.
        #[arg(value_parser = transition_id)]
        id: String,
    },
}

/// Flags of a power operation.
#[derive(Debug, Args)]
pub struct OpArgs {
    /// Nodes, BMCs, slots, chassis, cabinets, ranges or groups.
    #[arg(required = true, value_parser = targets::target, value_name = "TARGETS")]
    pub targets: Vec<TargetArg>,
    /// Return once the transition is created, printing its ID.
    #[arg(long)]
    pub no_wait: bool,
    /// Minutes each node may take before its task fails (PCS's taskDeadlineMinutes; default
    /// 5; 0: do not wait for the new power state; -1: no deadline).
    #[arg(long, value_name = "MINUTES", allow_negative_numbers = true)]
    pub deadline: Option<i64>,
}

/// Flags of `power status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Nodes, BMCs, slots, chassis, cabinets, ranges or groups (default: every node).
    #[arg(value_parser = targets::target, value_name = "TARGETS")]
    pub targets: Vec<TargetArg>,
    /// Only nodes in this power state: on, off, undefined.
    #[arg(long, value_parser = parse_power_state, value_name = "STATE")]
    pub power: Option<String>,
    /// Only nodes whose BMC is available or unavailable.
    #[arg(long, value_parser = parse_management_state, value_name = "STATE")]
    pub management: Option<String>,
}

fn parse_power_state(s: &str) -> Result<String, String> {
    s.parse::<PowerState>()
        .map(|p| p.as_str().to_owned())
        .map_err(|e| e.to_string())
}

fn parse_management_state(s: &str) -> Result<String, String> {
    s.parse::<ManagementState>()
        .map(|m| m.as_str().to_owned())
        .map_err(|e| e.to_string())
}

/// A transition ID: a UUID, lower-cased.
pub fn transition_id(s: &str) -> Result<String, String> {
    let lower = s.trim().to_ascii_lowercase();
    let groups: Vec<&str> = lower.split('-').collect();
    let shape = groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12];
    if shape
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Ok(lower)
    } else {
        Err(format!(
            "invalid transition ID {s:?}: expected a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6"
        ))
    }
}

impl PowerCmd {
    /// The PCS operation of an operation verb (`restart` is `hard-restart`).
    pub fn operation(&self) -> Option<(PowerOperation, &OpArgs)> {
        Some(match self {
            PowerCmd::On(a) => (PowerOperation::On, a),
            PowerCmd::Off(a) => (PowerOperation::Off, a),
            PowerCmd::SoftOff(a) => (PowerOperation::SoftOff, a),
            PowerCmd::SoftRestart(a) => (PowerOperation::SoftRestart, a),
            PowerCmd::HardRestart(a) | PowerCmd::Restart(a) => (PowerOperation::HardRestart, a),
            PowerCmd::Init(a) => (PowerOperation::Init, a),
            PowerCmd::ForceOff(a) => (PowerOperation::ForceOff, a),
            PowerCmd::Status(_) | PowerCmd::Transitions { .. } | PowerCmd::Abort { .. } => {
                return None;
            }
        })
    }
}

const TRANSITIONS: View = View {
    list_key: Some("transitions"),
    columns: &[
        col("ID", "transitionID"),
        col("CREATED", "createTime"),
        col("OPERATION", "operation"),
        col("STATUS", "transitionStatus"),
        col("TOTAL", "taskCounts.total"),
        col("SUCCEEDED", "taskCounts.succeeded"),
        col("FAILED", "taskCounts.failed"),
        col("UNSUPPORTED", "taskCounts.un-supported"),
        col("OPEN", "taskCounts.in-progress"),
    ],
};

/// Run one `power` verb.
pub async fn run(ctx: &Ctx, cmd: PowerCmd) -> anyhow::Result<()> {
    if let Some((operation, args)) = cmd.operation() {
        let request = TransitionRequest {
            operation,
            locations: targets::flatten(args.targets.iter().cloned())
                .iter()
                .map(|t| t.location().to_owned())
                .collect(),
            deadline_minutes: args.deadline,
        };
        return transition::run(ctx, &request, args.no_wait).await;
    }
    let c = &ctx.client;
    match cmd {
        PowerCmd::Status(args) => status::run(ctx, args).await,
        PowerCmd::Transitions { id: None } => {
            let v = c.get(&format!("{PCS}/transitions"), &[]).await?;
            output::print(&v, ctx.format, &TRANSITIONS)
        }
        PowerCmd::Transitions { id: Some(id) } => {
            let v = c.get(&format!("{PCS}/transitions/{id}"), &[]).await?;
            transition::show(&v, ctx.format)
        }
        PowerCmd::Abort { id } => {
            let v = c.delete(&format!("{PCS}/transitions/{id}")).await?;
            let said = v
                .get("abortStatus")
                .and_then(|s| s.as_str())
                .unwrap_or("abort requested");
            output::done(&v, ctx.format, &format!("{id}: {said}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<PowerCmd, String> {
        let mut all = vec!["cairn", "power"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).map_err(|e| e.to_string())?.command {
            Command::Power(p) => Ok(p),
            other => Err(format!("wrong command {other:?}")),
        }
    }

    #[test]
    fn operations_and_the_restart_alias() {
        for (verb, op) in [
            ("on", PowerOperation::On),
            ("off", PowerOperation::Off),
            ("soft-off", PowerOperation::SoftOff),
            ("soft-restart", PowerOperation::SoftRestart),
            ("hard-restart", PowerOperation::HardRestart),
            ("restart", PowerOperation::HardRestart),
            ("init", PowerOperation::Init),
            ("force-off", PowerOperation::ForceOff),
        ] {
            let cmd = parse(&[verb, "x1000c0s0b0n0"]).expect(verb);
            assert_eq!(cmd.operation().map(|(o, _)| o), Some(op), "{verb}");
        }
    }

    #[test]
    fn targets_expand_and_flags_parse() {
        let cmd = parse(&[
            "on",
            "x1000c0s[0-1]b0n[0-1]",
            "compute",
            "X1000C0S0B0N0",
            "--deadline",
            "-1",
            "--no-wait",
        ])
        .expect("parses");
        let Some((_, args)) = cmd.operation() else {
            panic!("not an operation");
        };
        let locations: Vec<String> = targets::flatten(args.targets.iter().cloned())
            .iter()
            .map(|t| t.location().to_owned())
            .collect();
        assert_eq!(
            locations,
            [
                "x1000c0s0b0n0",
                "x1000c0s0b0n1",
                "x1000c0s1b0n0",
                "x1000c0s1b0n1",
                "compute"
            ]
        );
        assert_eq!((args.deadline, args.no_wait), (Some(-1), true));
    }

    #[test]
    fn bad_input_is_refused_before_any_request() {
        let err = parse(&["on", "x1000c0s[0-3b0n0"]).expect_err("bad range");
        assert!(err.contains("never closed"), "{err}");
        let err = parse(&["off", "x1000c0q3"]).expect_err("bad xname");
        assert!(err.contains("x1000c0q3"), "{err}");
        assert!(parse(&["on"]).is_err(), "targets are required");
        let err = parse(&["abort", "not-a-uuid"]).expect_err("bad id");
        assert!(err.contains("not-a-uuid"), "{err}");
        let err = parse(&["status", "--power", "sideways"]).expect_err("bad state");
        assert!(err.contains("sideways"), "{err}");
        assert!(parse(&["reboot", "x1000c0s0b0n0"]).is_err());
    }

    #[test]
    fn transition_ids() {
        assert_eq!(
            transition_id("3FA85F64-5717-4562-B3FC-2C963F66AFA6").as_deref(),
            Ok("3fa85f64-5717-4562-b3fc-2c963f66afa6")
        );
        assert!(transition_id("3fa85f64-5717-4562-b3fc").is_err());
        assert!(transition_id("3fa85f64-5717-4562-b3fc-2c963f66afaz").is_err());
    }
}
