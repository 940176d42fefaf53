//! The storm's results: a table for people (Cairn, nginx, their ratio, DESIGN.md's goal), the
//! same as JSON for machines. Figures are medians over the runs; failures are summed.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use serde_json::json;

use super::super::median;
use super::super::report::{met_cell, with_notes};
use super::super::rss::mb;
use super::storm::{Ms, Record};
use super::{BootstormArgs, Measured};

/// DESIGN.md: the whole boot of 10,000 nodes within this long, on one agent.
const GOAL_SECONDS: f64 = 5.0;

/// `/proc/loadavg`'s three averages.
pub fn loadavg() -> Option<String> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

#[derive(Debug, Clone, Serialize)]
struct Line {
    metric: String,
    cairn: String,
    nginx: String,
    /// Cairn / nginx.
    ratio: Option<f64>,
    goal: Option<String>,
    met: Option<bool>,
}

fn line(metric: impl Into<String>, cairn: String) -> Line {
    Line {
        metric: metric.into(),
        cairn,
        nginx: String::new(),
        ratio: None,
        goal: None,
        met: None,
    }
}

/// Everything measured, ready to print.
pub struct Report {
    header: String,
    lines: Vec<Line>,
    notes: Vec<String>,
    json: serde_json::Value,
}

/// The median over runs of one figure.
fn med<'a>(records: impl Iterator<Item = &'a Record>, f: impl Fn(&Record) -> f64) -> f64 {
    median(&records.map(f).collect::<Vec<_>>())
}

fn step(r: &Record, name: &str) -> Ms {
    r.steps.get(name).copied().unwrap_or_default()
}

fn ms3(m: Ms) -> String {
    format!("{:.0} / {:.0} / {:.0} ms", m.p50, m.p99, m.max)
}

impl Report {
    /// Build the lines; `load` is /proc/loadavg before and after.
    pub fn new(
        args: &BootstormArgs,
        m: &Measured,
        load_before: Option<String>,
        load_after: Option<String>,
    ) -> Report {
        let boots = || m.runs.iter().map(|r| &r.boot);
        let cairn_http = || m.runs.iter().map(|r| &r.cairn_http);
        let nginx_http: Vec<&Record> = m
            .runs
            .iter()
            .filter_map(|r| r.nginx_http.as_ref())
            .collect();
        let with_nginx = !nginx_http.is_empty();
        let runs = m.runs.len();
        let mut lines = Vec::new();

        let wall = med(boots(), |r| r.wall_seconds);
        lines.push(Line {
            goal: Some(format!("≤ {GOAL_SECONDS} s")),
            met: Some(wall <= GOAL_SECONDS),
            ..line(
                format!(
                    "whole boot of {} nodes: first DISCOVER → last vendor-data (median of {runs})",
                    args.nodes
                ),
                format!("{wall:.2} s"),
            )
        });
        let failed: usize = boots().map(Record::failures).sum();
        let mut by_step = std::collections::BTreeMap::<&str, usize>::new();
        for r in boots() {
            for (s, n) in &r.failed {
                *by_step.entry(s.as_str()).or_default() += n;
            }
            if r.wrong_address > 0 {
                *by_step.entry("wrong address").or_default() += r.wrong_address;
            }
        }
        lines.push(Line {
            goal: Some("0".to_owned()),
            met: Some(failed == 0),
            ..line(
                format!("failed boots, all {runs} runs (by step)"),
                if failed == 0 {
                    "0".to_owned()
                } else {
                    format!("{failed} {by_step:?}")
                },
            )
        });
        for (name, label) in [
            ("dhcp", "DHCP, DISCOVER → ACK"),
            ("bootscript", "bootscript (connect + GET)"),
            ("meta-data", "meta-data"),
            ("user-data", "user-data"),
            ("vendor-data", "vendor-data"),
        ] {
            let per = |f: fn(&Ms) -> f64| med(boots(), |r| f(&step(r, name)));
            lines.push(line(
                format!("  {label}: p50 / p99 / max"),
                ms3(Ms {
                    p50: per(|m| m.p50),
                    p99: per(|m| m.p99),
                    max: per(|m| m.max),
                }),
            ));
        }

        let counter = |k: &str| {
            median(
                &m.runs
                    .iter()
                    .map(|r| r.dhcp_counters.get(k).copied().unwrap_or(0) as f64)
                    .collect::<Vec<_>>(),
            )
        };
        lines.push(line(
            "  DHCP server: datagrams received / OFFERs + ACKs sent / rate-limited",
            format!(
                "{:.0} / {:.0} / {:.0} (median; {} nodes need {})",
                counter("received"),
                counter("offers") + counter("acks"),
                counter("dropped_rate_limited"),
                args.nodes,
                2 * u64::from(args.nodes)
            ),
        ));

        let compare = |metric: String, c: f64, n: Option<f64>, unit: &str, goal: bool| {
            let ratio = n.filter(|n| *n > 0.0).map(|n| c / n);
            Line {
                metric,
                cairn: format!("{c:.2} {unit}"),
                nginx: n.map_or("-".to_owned(), |n| format!("{n:.2} {unit}")),
                ratio,
                goal: goal.then(|| "≤ nginx".to_owned()),
                met: if goal { ratio.map(|r| r <= 1.0) } else { None },
            }
        };
        let nginx_med =
            |f: &dyn Fn(&Record) -> f64| with_nginx.then(|| med(nginx_http.iter().copied(), f));
        lines.push(compare(
            format!(
                "HTTP part alone ({} nodes): first request → last document",
                args.nodes
            ),
            med(cairn_http(), |r| r.wall_seconds),
            nginx_med(&|r| r.wall_seconds),
            "s",
            true,
        ));
        lines.push(compare(
            "  per node, script + 3 documents: p99".to_owned(),
            med(cairn_http(), |r| r.http_part.p99),
            nginx_med(&|r| r.http_part.p99),
            "ms",
            true,
        ));
        for name in ["bootscript", "meta-data", "user-data", "vendor-data"] {
            lines.push(compare(
                format!("  {name}: p99"),
                med(cairn_http(), |r| step(r, name).p99),
                nginx_med(&|r| step(r, name).p99),
                "ms",
                false,
            ));
        }
        let http_failed: usize = cairn_http().map(Record::failures).sum();
        let nginx_failed: usize = nginx_http.iter().map(|r| r.failures()).sum();
        lines.push(Line {
            nginx: if with_nginx {
                nginx_failed.to_string()
            } else {
                "-".to_owned()
            },
            ..line("  failed, all runs", http_failed.to_string())
        });
        lines.push(compare(
            "  server CPU time (agent; nginx's workers)".to_owned(),
            med(cairn_http(), |r| r.server_cpu_seconds.unwrap_or(0.0)),
            nginx_med(&|r| r.server_cpu_seconds.unwrap_or(0.0)),
            "s",
            false,
        ));

        let cpu = med(boots(), |r| r.server_cpu_seconds.unwrap_or(0.0));
        lines.push(line(
            "agent CPU time during the whole-boot storm (user + system)",
            format!(
                "{cpu:.2} s ({:.0} % of one core)",
                100.0 * cpu / wall.max(1e-9)
            ),
        ));
        lines.push(line(
            "  … until its outbox drained (boot events sent)",
            format!(
                "{:.2} s",
                median(
                    &m.runs
                        .iter()
                        .map(|r| r.agent_cpu_until_drained_seconds)
                        .collect::<Vec<_>>()
                )
            ),
        ));
        lines.push(line(
            "agent RSS after the runs / peak",
            format!(
                "{:.0} / {:.0} MB",
                mb(m.agent_rss_bytes),
                mb(m.agent_peak_rss_bytes)
            ),
        ));
        lines.push(line(
            "virtual nodes' CPU time during the whole-boot storm (this process)",
            format!("{:.2} s", med(boots(), |r| r.nodes_cpu_seconds)),
        ));

        let header = format!(
            "cairn bench bootstorm ({} build): {} virtual nodes power on within {:?} (at most {} \
             at once, DHCP retry {:?}), one agent (child process), {} coordinator replica(s); \
             loopback",
            if cfg!(debug_assertions) {
                "DEBUG"
            } else {
                "release"
            },
            args.nodes,
            args.ramp,
            args.concurrency,
            args.dhcp_retry,
            args.replicas,
        );
        let each = |f: &dyn Fn(&super::Run) -> Option<f64>| {
            m.runs
                .iter()
                .map(|r| f(r).map_or("-".to_owned(), |v| format!("{v:.2}")))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let mut notes = vec![
            format!(
                "each run (s): whole boot {}; HTTP part, agent {}; nginx {}",
                each(&|r| Some(r.boot.wall_seconds)),
                each(&|r| Some(r.cairn_http.wall_seconds)),
                each(&|r| r.nginx_http.as_ref().map(|n| n.wall_seconds)),
            ),
            format!(
                "load average before / after: {} / {} (the virtual nodes, the agent, the \
                 coordinators and nginx share this machine's {} cores)",
                load_before.as_deref().unwrap_or("?"),
                load_after.as_deref().unwrap_or("?"),
                std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
            ),
            format!(
                "setup: {:.1} s to load the nodes, {:.1} s for the agent to hold them",
                m.load_seconds, m.agent_sync_seconds
            ),
        ];
        match (&m.nginx_skipped, &m.nginx_version) {
            (Some(why), _) => notes.push(format!("nginx not compared: {why}")),
            (None, v) => notes.push(format!(
                "nginx: {} serving each node's files at the agent's URLs (same requests, \
                 connections and source addresses)",
                v.as_deref().unwrap_or("nginx")
            )),
        }
        let errors: Vec<&String> = m
            .runs
            .iter()
            .flat_map(|r| {
                r.boot
                    .sample_errors
                    .iter()
                    .chain(&r.cairn_http.sample_errors)
                    .chain(r.nginx_http.iter().flat_map(|n| &n.sample_errors))
            })
            .take(5)
            .collect();
        for e in errors {
            notes.push(format!("failure: {e}"));
        }
        let json = json!({
            "args": args,
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
            "load_before": load_before,
            "load_after": load_after,
            "goal_seconds": GOAL_SECONDS,
            "median_wall_seconds": wall,
            "met": wall <= GOAL_SECONDS && failed == 0,
            "measured": m,
            "rows": &lines,
            "notes": &notes,
        });
        Report {
            header,
            lines,
            notes,
            json,
        }
    }

    /// The table with its header and notes.
    pub fn table(&self) -> String {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        t.set_header(["metric", "Cairn", "nginx", "Cairn / nginx", "goal", "met"]);
        for l in &self.lines {
            t.add_row([
                l.metric.clone(),
                l.cairn.clone(),
                l.nginx.clone(),
                l.ratio.map_or(String::new(), |r| format!("{r:.2}×")),
                l.goal.clone().unwrap_or_default(),
                met_cell(l.met),
            ]);
        }
        with_notes(&self.header, &t, &self.notes)
    }

    /// The machine-readable form written by `--json`.
    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }
}
