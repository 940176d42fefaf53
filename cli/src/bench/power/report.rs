//! What `cairn bench power` measured, judged against DESIGN.md's goal.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::PowerArgs;
use crate::bench::hw_report::{Report, judged, line, megabytes, secs};
use crate::bench::median;

/// One measured transition.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// The operation.
    pub operation: String,
    /// POST → completed, seconds.
    pub wall_seconds: f64,
    /// How long the POST took to answer, seconds.
    pub post_seconds: f64,
    /// Tasks that succeeded.
    pub succeeded: usize,
    /// Tasks that did not.
    pub not_succeeded: usize,
    /// Reports the agents had applied during the run (all kinds, power-status samples too).
    pub reports: u64,
    /// Why tasks did not succeed: error text → count.
    pub errors: BTreeMap<String, usize>,
    /// CPU time of all agents together in that window, seconds.
    pub agents_cpu_seconds: f64,
    /// CPU time of the coordinator replicas together, seconds.
    pub replicas_cpu_seconds: f64,
    /// CPU time of this process (the simulated BMCs, and the bench's own polling), seconds.
    pub sim_cpu_seconds: f64,
    /// The largest agent RSS at the end, bytes.
    pub max_agent_rss_bytes: u64,
}

/// The report of all runs.
pub fn report(args: &PowerArgs, discovery: Duration, runs: &[Run]) -> Report {
    let nodes = args.bmcs as usize * args.systems as usize;
    let walls: Vec<f64> = runs.iter().map(|r| r.wall_seconds).collect();
    let wall = median(&walls);
    let goal = args.goal().as_secs_f64();
    let all_ok = runs.iter().all(|r| r.not_succeeded == 0);
    let each: Vec<String> = runs
        .iter()
        .map(|r| format!("{} {:.2}", r.operation, r.wall_seconds))
        .collect();
    let med = |f: fn(&Run) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let failed: usize = runs.iter().map(|r| r.not_succeeded).sum();
    let lines = vec![
        judged(
            format!(
                "transition of {nodes} nodes on {} agents, {} s BMC delay: POST → completed \
                 (median of {})",
                args.agents,
                args.power_delay.as_secs_f64(),
                runs.len()
            ),
            format!("{wall:.2} s"),
            format!("≤ {goal:.1} s (delay + 5 s)"),
            wall <= goal && all_ok,
        ),
        line("  each run (s)", each.join(" / ")),
        line("  tasks not succeeded (all runs)", failed.to_string()),
        line(
            "agents' reports applied per transition (median)",
            format!("{:.0}", med(|r| r.reports as f64)),
        ),
        line(
            "POST /transitions answered in (median)",
            format!("{:.0} ms", 1000.0 * med(|r| r.post_seconds)),
        ),
        line(
            "CPU per transition (median): agents / replicas / simulated BMCs",
            format!(
                "{:.2} / {:.2} / {:.2} s",
                med(|r| r.agents_cpu_seconds),
                med(|r| r.replicas_cpu_seconds),
                med(|r| r.sim_cpu_seconds)
            ),
        ),
        line(
            "largest agent RSS after the runs",
            megabytes(runs.last().map_or(0, |r| r.max_agent_rss_bytes)),
        ),
        line(
            format!(
                "set-up: {} agents start and discover {} BMCs",
                args.agents, args.bmcs
            ),
            secs(discovery),
        ),
    ];
    let power = args.agent_config().map_or("defaults".to_owned(), |c| {
        c.replace("[power]\n", "").trim_end().replace('\n', ", ")
    });
    let mut notes = vec![format!(
        "{} BMCs × {} systems in {} racks over {}, {} coordinator replicas; agents' [power]: {}.",
        args.bmcs,
        args.systems,
        args.agents,
        if args.http {
            "HTTP"
        } else {
            "HTTPS (Basic auth)"
        },
        args.replicas,
        power
    )];
    let mut errors: BTreeMap<&str, usize> = BTreeMap::new();
    for r in runs {
        for (e, n) in &r.errors {
            *errors.entry(e).or_default() += n;
        }
    }
    let mut errors: Vec<(&str, usize)> = errors.into_iter().collect();
    errors.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (e, n) in errors.iter().take(5) {
        notes.push(format!("{n} × {e}"));
    }
    Report {
        title: "cairn bench power".into(),
        lines,
        notes,
        results: json!({"args": args, "runs": runs, "median_wall_seconds": wall,
            "setup_discovery_seconds": discovery.as_secs_f64(), "goal_seconds": goal,
            "met": wall <= goal && all_ok}),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse;
    use super::*;

    #[test]
    fn reports_judge_the_median_and_failures() {
        let a = parse(&[]);
        let run = |w: f64, bad: usize| Run {
            operation: "On".into(),
            wall_seconds: w,
            post_seconds: 0.1,
            succeeded: 10_000 - bad,
            not_succeeded: bad,
            errors: (bad > 0)
                .then(|| ("BMC answered 503".to_owned(), bad))
                .into_iter()
                .collect(),
            reports: 40,
            agents_cpu_seconds: 2.0,
            replicas_cpu_seconds: 1.0,
            sim_cpu_seconds: 1.5,
            max_agent_rss_bytes: 60_000_000,
        };
        let r = report(
            &a,
            Duration::from_secs(20),
            &[run(3.0, 0), run(4.0, 0), run(9.0, 0)],
        );
        assert_eq!(r.results["met"], json!(true), "{}", r.text());
        let r = report(&a, Duration::from_secs(20), &[run(3.0, 1)]);
        assert_eq!(r.results["met"], json!(false));
        assert!(r.text().contains("1 × BMC answered 503"), "{}", r.text());
    }
}
