//! `cairn bench discovery`: one rack agent discovers a farm of simulated BMCs (1,000 with 2
//! systems each by default). Measured: the wall time from `POST /hsm/v2/Inventory/Discover` to
//! its DiscoveryStatus turning `Complete` (the agent reports that after its last BMC's result,
//! and the coordinator applies reports in order, so it is the last result applied), and the
//! agent process's CPU time and memory over that window. DESIGN.md's goal: ≤ 10 s.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;
use serde_json::json;

use super::farm::{self, Farm, FarmSpec, MAX_PER_RACK};
use super::hw_report::{Report, judged, line, megabytes, secs};
use super::{median, proc_stat};
use crate::client::Client;
use crate::cmd::discover;
use crate::cmd::discover_summary::{DISCOVER_OK, Inventory};
use crate::local_agent::{LocalAgent, wait_connected};
use crate::local_cluster::{LocalCluster, wait_for};

/// DESIGN.md: discovery of 1,000 simulated BMCs in at most this long.
const GOAL: Duration = Duration::from_secs(10);

/// Flags of `cairn bench discovery`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct DiscoveryArgs {
    /// Simulated BMCs, all in one rack (one /21 subnet) served by one agent.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub bmcs: u32,
    /// Systems (nodes) behind each BMC.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub systems: u8,
    /// Measured discoveries (after the agent's first one at start); the median is judged.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub runs: usize,
    /// Coordinator replicas.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub replicas: u64,
    /// Serve plain HTTP instead of HTTPS (the agent then probes https first and falls back).
    #[arg(long)]
    pub http: bool,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Keep the temporary directory (data dirs and logs) afterwards.
    #[arg(long)]
    pub keep: bool,
}

/// One measured discovery.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Discover request → DiscoveryStatus Complete, seconds.
    pub wall_seconds: f64,
    /// Agent CPU time (user + system) in that window, seconds.
    pub agent_cpu_seconds: f64,
    /// CPU time of the coordinator replicas together in that window, seconds.
    pub replicas_cpu_seconds: f64,
    /// CPU time of this process (the simulated BMCs, and the bench's own polling), seconds.
    pub sim_cpu_seconds: f64,
    /// Agent RSS at the end, bytes.
    pub agent_rss_bytes: u64,
    /// Agent peak RSS so far, bytes.
    pub agent_peak_rss_bytes: u64,
}

/// Run the benchmark.
pub async fn run(args: DiscoveryArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=MAX_PER_RACK).contains(&args.bmcs),
        "--bmcs must be 1 to {MAX_PER_RACK}"
    );
    anyhow::ensure!(
        args.runs > 0 && args.replicas > 0,
        "--runs and --replicas must be positive"
    );
    let spec = FarmSpec {
        racks: 1,
        bmcs_per_rack: args.bmcs,
        systems: args.systems,
        power_delay: Duration::from_secs(1),
        tls: !args.http,
    };
    Farm::bench(
        "discovery",
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
    args: &DiscoveryArgs,
    cluster: &LocalCluster,
    farm: &Farm,
    agents: &mut Vec<LocalAgent>,
    dir: &std::path::Path,
    exe: &std::path::Path,
) -> anyhow::Result<Report> {
    cluster.wait_for_voters(args.replicas as usize).await?;
    let leader = cluster.leader().await?;
    let client = Client::with_timeout(&cluster.api_url(leader)?, false, Duration::from_secs(60))?;
    let nodes = args.bmcs as usize * args.systems as usize;
    eprintln!(
        "{} simulated BMCs ({} nodes) on {} port {}; starting the agent",
        args.bmcs, nodes, farm.racks[0].subnet, farm.port
    );
    let spawned = Instant::now();
    *agents = farm.start_agents(exe, &dir.join("agents"), cluster, None)?;
    wait_connected(&client, agents, Duration::from_secs(60)).await?;
    farm::wait_discovered(&client, args.bmcs as usize, Duration::from_secs(300)).await?;
    let cold = spawned.elapsed();
    eprintln!(
        "first discovery (agent start → every BMC in the inventory): {}",
        secs(cold)
    );
    let pid = agents[0].pid().context("the agent is not running")?;
    let replicas: Vec<u32> = cluster.replicas().filter_map(|r| r.pid()).collect();
    let own = std::process::id();

    let mut runs = Vec::new();
    for i in 0..args.runs {
        let before = Inventory::read(&client).await?;
        let start_sample = proc_stat::sample(pid)?;
        let others_before = (proc_stat::cpu_of(&replicas), proc_stat::cpu_of(&[own]));
        let started = Instant::now();
        let (uri, id) = discover::request(&client, &[], true).await?;
        let status = wait_for(
            Duration::from_secs(300),
            "the discovery to complete",
            || {
                let (client, uri) = (&client, &uri);
                async move {
                    let s = client.get(uri, &[]).await?;
                    Ok((s["Status"].as_str() == Some("Complete")).then_some(s))
                }
            },
        )
        .await?;
        let wall = started.elapsed();
        let end_sample = proc_stat::sample(pid)?;
        let others_after = (proc_stat::cpu_of(&replicas), proc_stat::cpu_of(&[own]));
        let after = Inventory::read(&client).await?;
        let requested = status["Details"]["Requested"].as_str();
        let crawled = after.reported_since(&before, requested);
        let ok = after
            .0
            .values()
            .filter(|e| e.status.as_deref() == Some(DISCOVER_OK))
            .count();
        let found_nodes: usize = after.0.values().map(|e| e.nodes).sum();
        anyhow::ensure!(
            crawled == args.bmcs as usize && ok == crawled && found_nodes == nodes,
            "discovery {id}: {crawled} BMCs crawled, {ok} DiscoverOK, {found_nodes} nodes; expected {} and {nodes}",
            args.bmcs
        );
        let run = Run {
            wall_seconds: wall.as_secs_f64(),
            agent_cpu_seconds: end_sample
                .cpu
                .saturating_sub(start_sample.cpu)
                .as_secs_f64(),
            replicas_cpu_seconds: others_after.0.saturating_sub(others_before.0).as_secs_f64(),
            sim_cpu_seconds: others_after.1.saturating_sub(others_before.1).as_secs_f64(),
            agent_rss_bytes: end_sample.rss,
            agent_peak_rss_bytes: end_sample.peak_rss,
        };
        eprintln!(
            "run {}: {} wall, agent CPU {:.2} s, RSS {}",
            i + 1,
            secs(wall),
            run.agent_cpu_seconds,
            megabytes(run.agent_rss_bytes)
        );
        runs.push(run);
    }
    Ok(report(args, cold, &runs))
}

fn report(args: &DiscoveryArgs, cold: Duration, runs: &[Run]) -> Report {
    let walls: Vec<f64> = runs.iter().map(|r| r.wall_seconds).collect();
    let cpus: Vec<f64> = runs.iter().map(|r| r.agent_cpu_seconds).collect();
    let wall = median(&walls);
    let cpu = median(&cpus);
    let last = runs.last();
    let each: Vec<String> = walls.iter().map(|w| format!("{w:.2}")).collect();
    let lines = vec![
        judged(
            format!(
                "discovery of {} BMCs by one agent: Discover → last result applied (median of {})",
                args.bmcs,
                runs.len()
            ),
            format!("{wall:.2} s"),
            format!("≤ {} s", GOAL.as_secs()),
            wall <= GOAL.as_secs_f64(),
        ),
        line("  each run", format!("{} s", each.join(" / "))),
        line(
            "agent CPU time per discovery (median; user + system)",
            format!(
                "{cpu:.2} s ({:.0} % of one core)",
                100.0 * cpu / wall.max(1e-9)
            ),
        ),
        line(
            "  replicas / simulated BMCs' CPU time in the same window (median)",
            format!(
                "{:.2} / {:.2} s",
                median(
                    &runs
                        .iter()
                        .map(|r| r.replicas_cpu_seconds)
                        .collect::<Vec<_>>()
                ),
                median(&runs.iter().map(|r| r.sim_cpu_seconds).collect::<Vec<_>>())
            ),
        ),
        line(
            "agent RSS after the runs / peak",
            format!(
                "{} / {}",
                megabytes(last.map_or(0, |r| r.agent_rss_bytes)),
                megabytes(last.map_or(0, |r| r.agent_peak_rss_bytes))
            ),
        ),
        line(
            "first discovery: agent start → every BMC in the inventory (subnet scan included)",
            secs(cold),
        ),
    ];
    let notes = vec![format!(
        "{} BMCs × {} systems over {}, one agent, {} coordinator replicas; everything on this machine's cores.",
        args.bmcs,
        args.systems,
        if args.http {
            "HTTP"
        } else {
            "HTTPS (Basic auth)"
        },
        args.replicas
    )];
    Report {
        title: "cairn bench discovery".into(),
        lines,
        notes,
        results: json!({"args": args, "runs": runs, "median_wall_seconds": wall,
            "median_agent_cpu_seconds": cpu, "first_discovery_seconds": cold.as_secs_f64(),
            "goal_seconds": GOAL.as_secs_f64(), "met": wall <= GOAL.as_secs_f64()}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_judge_the_median() {
        let args = DiscoveryArgs {
            bmcs: 1000,
            systems: 2,
            runs: 3,
            replicas: 3,
            http: false,
            json: None,
            keep: false,
        };
        let run = |w: f64| Run {
            wall_seconds: w,
            agent_cpu_seconds: w / 2.0,
            replicas_cpu_seconds: 1.0,
            sim_cpu_seconds: 1.0,
            agent_rss_bytes: 40_000_000,
            agent_peak_rss_bytes: 50_000_000,
        };
        let r = report(
            &args,
            Duration::from_secs(4),
            &[run(3.0), run(12.0), run(4.0)],
        );
        let text = r.text();
        assert!(text.contains("4.00 s") && text.contains('✔'), "{text}");
        assert_eq!(r.results["met"], json!(true));
        let r = report(&args, Duration::from_secs(4), &[run(11.0)]);
        assert_eq!(r.results["met"], json!(false));
    }
}
