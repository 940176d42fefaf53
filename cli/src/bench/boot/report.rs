//! Cairn and nginx side by side, as `cairn bench inventory` prints Cairn and etcd: a
//! comfy-table for people, JSON for machines. DESIGN.md's goal is ≥ 1.0× nginx's requests/s.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use serde_json::json;

use super::{BootArgs, Measured, Row};

/// DESIGN.md: bootscript serving ≥ 1.0× nginx in the same run.
const GOAL_RATIO: f64 = 1.0;

#[derive(Debug, Clone, Serialize)]
struct Line {
    metric: String,
    unit: &'static str,
    cairn: f64,
    nginx: f64,
    /// Cairn / nginx.
    ratio: Option<f64>,
    /// `≥ 1.0× nginx` rows only.
    met: Option<bool>,
}

/// Everything measured, ready to print.
pub struct Report {
    header: String,
    lines: Vec<Line>,
    notes: Vec<String>,
    json: serde_json::Value,
}

fn cpu_per_1k(m: &Measured) -> Option<f64> {
    let ok = m.wrk.requests.saturating_sub(m.wrk.status_errors);
    m.server_cpu_ms
        .filter(|_| ok > 0)
        .map(|cpu| cpu * 1000.0 / ok as f64)
}

impl Report {
    /// Build the lines from the measured rows; `versions` are nginx's and wrk's.
    pub fn new(
        args: &BootArgs,
        rows: Vec<Row>,
        versions: (Option<String>, Option<String>),
    ) -> Self {
        let mut lines = Vec::new();
        let mut notes = Vec::new();
        for r in &rows {
            let what = format!(
                "{}, {} conns, {}",
                r.endpoint.label(),
                r.connections,
                r.mode.label()
            );
            let (c, n) = (r.cairn.wrk.per_sec(), r.nginx.wrk.per_sec());
            let ratio = (n > 0.0).then(|| c / n);
            lines.push(Line {
                metric: format!("{what}: req/s"),
                unit: "/s",
                cairn: c,
                nginx: n,
                ratio,
                met: ratio.map(|x| x >= GOAL_RATIO),
            });
            let (c, n) = (r.cairn.wrk.p99_ms(), r.nginx.wrk.p99_ms());
            lines.push(Line {
                metric: format!("{what}: p99"),
                unit: "ms",
                cairn: c,
                nginx: n,
                ratio: (n > 0.0).then(|| c / n),
                met: None,
            });
            if let (Some(c), Some(n)) = (cpu_per_1k(&r.cairn), cpu_per_1k(&r.nginx)) {
                notes.push(format!(
                    "{what}: server CPU per 1,000 requests: Cairn {c:.0} ms, nginx {n:.0} ms"
                ));
            }
            let (ce, ne) = (r.cairn.wrk.errors(), r.nginx.wrk.errors());
            if ce + ne > 0 {
                notes.push(format!(
                    "{what}: errors (connect/read/write/status/timeout): Cairn {}, nginx {}",
                    errors(&r.cairn),
                    errors(&r.nginx)
                ));
            }
        }
        let (nginx_version, wrk_version) = versions;
        let header = format!(
            "cairn bench boot ({} build): {} Cairn replica(s) vs {}, on 127.0.0.1, load by {} \
             with {} threads; {} nodes, requests rotate over all of them; {} s per run after \
             {} s warm-up; nginx serves each node's bytes as fetched from Cairn",
            if cfg!(debug_assertions) {
                "DEBUG"
            } else {
                "release"
            },
            args.replicas,
            nginx_version.as_deref().unwrap_or("nginx"),
            wrk_version.as_deref().unwrap_or("wrk"),
            args.threads,
            args.nodes,
            args.duration,
            args.warmup,
        );
        notes.push(
            "meta-data: Cairn finds the node by X-Forwarded-For from 127.0.0.1 (a trusted \
             proxy); nginx by file name, with the same header sent."
                .to_owned(),
        );
        notes.push(format!(
            "load average before the run (others' work shares these cores): {}",
            args.load_before.as_deref().unwrap_or("unknown")
        ));
        let json = json!({
            "args": args,
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
            "nginx_version": nginx_version,
            "wrk_version": wrk_version,
            "goal": format!("req/s ≥ {GOAL_RATIO:.1}× nginx"),
            "rows": rows,
            "lines": &lines,
            "notes": &notes,
        });
        Self {
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
                value(l.cairn, l.unit),
                value(l.nginx, l.unit),
                l.ratio.map_or("-".to_owned(), |x| format!("{x:.2}×")),
                if l.unit == "/s" {
                    format!("≥ {GOAL_RATIO:.1}× nginx")
                } else {
                    String::new()
                },
                super::super::report::met_cell(l.met),
            ]);
        }
        super::super::report::with_notes(&self.header, &t, &self.notes)
    }

    /// The machine-readable form written by `--json`.
    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }
}

fn errors(m: &Measured) -> String {
    let w = &m.wrk;
    format!(
        "{}/{}/{}/{}/{}",
        w.connect_errors, w.read_errors, w.write_errors, w.status_errors, w.timeouts
    )
}

fn value(v: f64, unit: &str) -> String {
    match unit {
        "ms" if v < 10.0 => format!("{v:.2} ms"),
        "ms" => format!("{v:.0} ms"),
        _ => format!("{v:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::wrk::{ConnMode, WrkResult};
    use super::super::{Endpoint, Measured, Row};
    use super::*;

    fn measured(requests: u64, p99_us: u64) -> Measured {
        Measured {
            wrk: WrkResult {
                requests,
                duration_us: 1_000_000,
                p99_us,
                ..Default::default()
            },
            server_cpu_ms: Some(500.0),
        }
    }

    #[test]
    fn ratio_and_goal_per_row() {
        let args = crate::Cli::try_parse_from(["cairn", "bench", "boot"]).expect("parses");
        let crate::Command::Bench(crate::bench::BenchCmd::Boot(args)) = args.command else {
            panic!("wrong command");
        };
        let rows = vec![Row {
            endpoint: Endpoint::Bootscript,
            connections: 64,
            mode: ConnMode::KeepAlive,
            cairn: measured(30_000, 2_000),
            nginx: measured(20_000, 4_000),
        }];
        let r = Report::new(&args, rows, (Some("nginx/1.22.1".into()), None));
        let text = r.table();
        assert!(
            text.contains("bootscript, 64 conns, keep-alive: req/s"),
            "{text}"
        );
        assert!(text.contains("1.50×") && text.contains("yes"), "{text}");
        assert!(text.contains("0.50×"), "p99 ratio: {text}");
        assert!(
            text.contains("Cairn 17 ms, nginx 25 ms"),
            "CPU per 1k: {text}"
        );
        assert_eq!(r.json()["lines"][0]["met"], true);
        assert_eq!(r.json()["nginx_version"], "nginx/1.22.1");
    }

    use clap::Parser as _;
}
