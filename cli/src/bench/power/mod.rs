//! `cairn bench power`: one PCS transition over every node of several simulated racks (10,000
//! nodes on 4 agents by default: 5,000 BMCs × 2 systems), with BMCs that show a new power state
//! only after a delay (1 s). Measured: the time from `POST /power-control/v1/transitions` to the
//! transition reading `completed`, each node's new state confirmed by its agent. Runs
//! alternate on and off. DESIGN.md's goal: ≤ the BMCs' delay + 5 s.

mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cairn_protocols::power::{
    PowerOperation, TaskStatus, TransitionDetail, TransitionList, TransitionStatus,
};
use clap::Args;
use serde::Serialize;

use super::farm::{self, Farm, FarmSpec, MAX_PER_RACK};
use super::hw_report::{Report, secs};
use super::proc_stat;
use crate::client::Client;
use crate::cmd::agents::AGENTS;
use crate::cmd::power::{PCS, TransitionRequest, transition};
use crate::local_agent::{LocalAgent, wait_connected};
use crate::local_cluster::{LocalCluster, wait_for};
use crate::output::records;
use report::{Run, report};

/// DESIGN.md: a transition takes at most the BMCs' own delay plus this.
const GOAL_OVER_DELAY: Duration = Duration::from_secs(5);

/// Flags of `cairn bench power`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct PowerArgs {
    /// Simulated BMCs, split evenly over the racks.
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub bmcs: u32,
    /// Systems (nodes) behind each BMC.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub systems: u8,
    /// Racks, one agent each.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub agents: u32,
    /// How long a BMC takes to show a new power state (e.g. 1s, 500ms).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    #[serde(with = "humantime_serde_secs")]
    pub power_delay: Duration,
    /// Measured transitions, alternating on and off; the median is judged.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub runs: usize,
    /// Coordinator replicas.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub replicas: u64,
    /// The agents' `[power] requests_per_rack` (default: the agent's own).
    #[arg(long, value_name = "N")]
    pub requests_per_rack: Option<usize>,
    /// The agents' `[power] tasks_per_bmc` (default: the agent's own).
    #[arg(long, value_name = "N")]
    pub tasks_per_bmc: Option<usize>,
    /// The agents' `[power] confirm_poll_ms` (default: the agent's own).
    #[arg(long, value_name = "MS")]
    pub confirm_poll_ms: Option<u64>,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    pub http: bool,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Keep the temporary directory (data dirs and logs) afterwards.
    #[arg(long)]
    pub keep: bool,
}

mod humantime_serde_secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

impl PowerArgs {
    /// The `[power]` table for the agents, when any setting was given.
    fn agent_config(&self) -> Option<String> {
        let settings = [
            (
                "requests_per_rack",
                self.requests_per_rack.map(|v| v as u64),
            ),
            ("tasks_per_bmc", self.tasks_per_bmc.map(|v| v as u64)),
            ("confirm_poll_ms", self.confirm_poll_ms),
        ];
        let set: Vec<String> = settings
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k} = {v}")))
            .collect();
        (!set.is_empty()).then(|| format!("[power]\n{}\n", set.join("\n")))
    }

    fn goal(&self) -> Duration {
        self.power_delay + GOAL_OVER_DELAY
    }
}

/// Run the benchmark.
pub async fn run(args: PowerArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.agents > 0 && args.bmcs.is_multiple_of(args.agents),
        "--bmcs must be a multiple of --agents"
    );
    anyhow::ensure!(
        args.bmcs / args.agents <= MAX_PER_RACK,
        "at most {MAX_PER_RACK} BMCs per agent (one /21 subnet per rack)"
    );
    anyhow::ensure!(
        args.runs > 0 && args.replicas > 0,
        "--runs and --replicas must be positive"
    );
    let spec = FarmSpec {
        racks: args.agents,
        bmcs_per_rack: args.bmcs / args.agents,
        systems: args.systems,
        power_delay: args.power_delay,
        tls: !args.http,
    };
    Farm::bench(
        "power",
        args.replicas,
        &spec,
        args.keep,
        async |cluster, farm, agents, dir, exe| {
            measure(&args, cluster, farm, agents, dir, exe).await
        },
    )
    .await?
    .emit(args.json.as_deref())
}

async fn measure(
    args: &PowerArgs,
    cluster: &LocalCluster,
    farm: &Farm,
    agents: &mut Vec<LocalAgent>,
    dir: &Path,
    exe: &Path,
) -> anyhow::Result<Report> {
    cluster.wait_for_voters(args.replicas as usize).await?;
    let leader = cluster.leader().await?;
    let client = Client::with_timeout(&cluster.api_url(leader)?, false, Duration::from_secs(60))?;
    let nodes = args.bmcs as usize * args.systems as usize;
    let config = match args.agent_config() {
        Some(text) => {
            let path = dir.join("agent.toml");
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    eprintln!(
        "{} simulated BMCs ({nodes} nodes) in {} racks on port {}; starting {} agents",
        args.bmcs, args.agents, farm.port, args.agents
    );
    let spawned = Instant::now();
    *agents = farm.start_agents(exe, &dir.join("agents"), cluster, config.as_deref())?;
    wait_connected(&client, agents, Duration::from_secs(60)).await?;
    farm::wait_discovered(&client, args.bmcs as usize, Duration::from_secs(600)).await?;
    let discovery = spawned.elapsed();
    eprintln!(
        "agents started and discovered every BMC in {}",
        secs(discovery)
    );
    let pids: Vec<u32> = agents.iter().filter_map(LocalAgent::pid).collect();
    let replicas: Vec<u32> = cluster.replicas().filter_map(|r| r.pid()).collect();
    let own = std::process::id();
    let cabinets: Vec<String> = farm
        .racks
        .iter()
        .map(|r| format!("x{}", r.cabinet))
        .collect();

    let mut runs = Vec::new();
    for i in 0..args.runs {
        let operation = if i % 2 == 0 {
            PowerOperation::On
        } else {
            PowerOperation::Off
        };
        let before = samples(&pids)?;
        let others_before = (proc_stat::cpu_of(&replicas), proc_stat::cpu_of(&[own]));
        let seq_before = report_seqs(&client).await?;
        let request = TransitionRequest {
            operation,
            locations: cabinets.clone(),
            deadline_minutes: Some(5),
        };
        let started = Instant::now();
        let start = transition::start(&client, &request).await?;
        let post = started.elapsed();
        let id = start.transition_id;
        wait_for(
            Duration::from_secs(600),
            "the transition to complete",
            || {
                let (client, id) = (&client, &id);
                async move {
                    let list: TransitionList = serde_json::from_value(
                        client.get(&format!("{PCS}/transitions"), &[]).await?,
                    )?;
                    Ok(list
                        .transitions
                        .iter()
                        .find(|t| &t.transition_id == id)
                        .filter(|t| {
                            matches!(
                                t.transition_status,
                                TransitionStatus::Completed | TransitionStatus::Aborted
                            )
                        })
                        .map(|t| t.task_counts))
                }
            },
        )
        .await?;
        let wall = started.elapsed();
        let after = samples(&pids)?;
        let others_after = (proc_stat::cpu_of(&replicas), proc_stat::cpu_of(&[own]));
        let reports = report_seqs(&client).await?.saturating_sub(seq_before);
        let detail: TransitionDetail =
            serde_json::from_value(client.get(&format!("{PCS}/transitions/{id}"), &[]).await?)?;
        let c = detail.summary.task_counts;
        let run = Run {
            operation: operation.to_string(),
            wall_seconds: wall.as_secs_f64(),
            post_seconds: post.as_secs_f64(),
            succeeded: c.succeeded,
            not_succeeded: c.total - c.succeeded,
            errors: errors(&detail),
            reports,
            replicas_cpu_seconds: others_after.0.saturating_sub(others_before.0).as_secs_f64(),
            sim_cpu_seconds: others_after.1.saturating_sub(others_before.1).as_secs_f64(),
            agents_cpu_seconds: after
                .iter()
                .zip(&before)
                .map(|(a, b)| a.cpu.saturating_sub(b.cpu).as_secs_f64())
                .sum(),
            max_agent_rss_bytes: after.iter().map(|s| s.rss).max().unwrap_or(0),
        };
        eprintln!(
            "run {} ({}): {} wall, {} succeeded, {} not; agents' CPU {:.2} s",
            i + 1,
            run.operation,
            secs(wall),
            run.succeeded,
            run.not_succeeded,
            run.agents_cpu_seconds
        );
        anyhow::ensure!(
            c.total == nodes,
            "transition {id} has {} tasks, expected {nodes}",
            c.total
        );
        runs.push(run);
    }
    Ok(report(args, discovery, &runs))
}

/// The agents' report sequence numbers, summed: how many reports they have had applied.
async fn report_seqs(client: &Client) -> anyhow::Result<u64> {
    let v = client.get(AGENTS, &[]).await?;
    Ok(records(&v, Some("agents"))
        .iter()
        .filter_map(|a| a["last_report_seq"].as_u64())
        .sum())
}

/// Why tasks did not succeed, counted by error (or description when there is none).
fn errors(detail: &TransitionDetail) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for t in detail
        .tasks
        .iter()
        .filter(|t| t.task_status != TaskStatus::Succeeded)
    {
        let why = if t.error.is_empty() {
            format!("{}: {}", t.task_status, t.task_status_description)
        } else {
            format!("{}: {}", t.task_status, t.error)
        };
        *out.entry(why).or_default() += 1;
    }
    out
}

fn samples(pids: &[u32]) -> anyhow::Result<Vec<proc_stat::Sample>> {
    pids.iter().map(|p| proc_stat::sample(*p)).collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::{Cli, Command};
    use clap::Parser;

    pub(crate) fn parse(extra: &[&str]) -> PowerArgs {
        let mut all = vec!["cairn", "bench", "power"];
        all.extend_from_slice(extra);
        match Cli::try_parse_from(all).expect("parses").command {
            Command::Bench(crate::bench::BenchCmd::Power(a)) => a,
            _ => panic!("wrong command"),
        }
    }

    #[test]
    fn defaults_follow_the_issue() {
        let a = parse(&[]);
        assert_eq!((a.bmcs * a.systems as u32, a.agents), (10_000, 4));
        assert_eq!(a.goal(), Duration::from_secs(6));
        assert_eq!(a.agent_config(), None);
        let a = parse(&[
            "--requests-per-rack",
            "512",
            "--confirm-poll-ms",
            "200",
            "--power-delay",
            "500ms",
        ]);
        assert_eq!(
            a.agent_config().as_deref(),
            Some("[power]\nrequests_per_rack = 512\nconfirm_poll_ms = 200\n")
        );
        assert_eq!(a.goal(), Duration::from_millis(5500));
    }
}
