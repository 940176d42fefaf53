//! Cairn and etcd side by side: a comfy-table for people, JSON for machines. Each row carries
//! DESIGN.md's goal; with no etcd in this run, the etcd column holds DESIGN.md's reference
//! figures, marked as such, and no goal is judged.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use serde_json::json;

use super::rss::mb;
use super::{InventoryArgs, Results, median};

/// DESIGN.md's etcd 3.4 figures on this kind of machine (2 cores, one virtual disk).
mod reference {
    pub const WRITES_PER_SEC: [(usize, f64); 2] = [(64, 2198.0), (256, 2772.0)];
    pub const WRITE_P99_MS: [(usize, f64); 2] = [(64, 75.0), (256, 211.0)];
    pub const ONE_CLIENT_P50_MS: f64 = 1.7;
    pub const READS_PER_SEC_64: f64 = 5106.0;
    pub const FAILOVER_MS: f64 = 1251.0;
    pub const RSS_MB_100K: f64 = 326.0;
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
enum Goal {
    /// Cairn ≥ value × etcd.
    RatioAtLeast(f64),
    /// Cairn ≤ value × etcd.
    RatioAtMost(f64),
    /// Cairn ≤ value, whatever etcd does.
    AtMost(f64),
}

impl Goal {
    fn text(self, unit: &str) -> String {
        match self {
            Self::RatioAtLeast(r) => format!("≥ {r}× etcd"),
            Self::RatioAtMost(1.0) => "≤ etcd".to_owned(),
            Self::RatioAtMost(r) => format!("≤ {r}× etcd"),
            Self::AtMost(v) => format!("≤ {v} {unit}"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct Row {
    metric: String,
    unit: &'static str,
    cairn: Option<f64>,
    etcd: Option<f64>,
    /// Cairn / etcd.
    ratio: Option<f64>,
    goal: Option<Goal>,
    /// Judged only against figures of this run.
    met: Option<bool>,
}

/// Everything measured, ready to print.
pub struct Report {
    header: String,
    notes: Vec<String>,
    rows: Vec<Row>,
    reference: bool,
    json: serde_json::Value,
}

fn lookup(table: &[(usize, f64)], clients: usize) -> Option<f64> {
    table.iter().find(|(c, _)| *c == clients).map(|(_, v)| *v)
}

impl Report {
    /// Build the rows; `etcd` is `None` when etcd did not run (reference figures are used).
    pub fn new(
        args: &InventoryArgs,
        cairn: Results,
        etcd: Option<Results>,
        etcd_version: Option<String>,
    ) -> Self {
        let reference = etcd.is_none();
        let mut rows = Vec::new();
        let mut add = |metric: String,
                       unit: &'static str,
                       c: Option<f64>,
                       e: Option<f64>,
                       goal: Option<Goal>| {
            let ratio = match (c, e) {
                (Some(c), Some(e)) if e > 0.0 => Some(c / e),
                _ => None,
            };
            let met = goal.filter(|_| !reference).and_then(|g| match g {
                Goal::RatioAtLeast(r) => ratio.map(|x| x >= r),
                Goal::RatioAtMost(r) => ratio.map(|x| x <= r),
                Goal::AtMost(v) => c.map(|c| c <= v),
            });
            rows.push(Row {
                metric,
                unit,
                cairn: c,
                etcd: e,
                ratio,
                goal,
                met,
            });
        };
        let ew = |i: usize| etcd.as_ref().and_then(|e| e.writes.get(i));
        for (i, cw) in cairn.writes.iter().enumerate() {
            let n = cw.workers;
            let who = if n == 1 {
                "1 client".to_owned()
            } else {
                format!("{n} clients")
            };
            let (rate, p50, p99) = match ew(i) {
                Some(e) => (Some(e.per_sec), Some(e.p50_ms), Some(e.p99_ms)),
                None => (
                    lookup(&reference::WRITES_PER_SEC, n),
                    (n == 1).then_some(reference::ONE_CLIENT_P50_MS),
                    lookup(&reference::WRITE_P99_MS, n),
                ),
            };
            let many = n >= 64;
            add(
                format!("writes/s, {who}"),
                "/s",
                Some(cw.per_sec),
                rate,
                many.then_some(Goal::RatioAtLeast(2.0)),
            );
            add(
                format!("write p50, {who}"),
                "ms",
                Some(cw.p50_ms),
                p50,
                (n == 1).then_some(Goal::RatioAtMost(1.0)),
            );
            add(
                format!("write p99, {who}"),
                "ms",
                Some(cw.p99_ms),
                p99,
                many.then_some(Goal::RatioAtMost(1.0)),
            );
        }
        if let Some(cr) = &cairn.reads {
            let n = cr.workers;
            let er = match &etcd {
                Some(e) => e
                    .reads
                    .as_ref()
                    .map(|r| (Some(r.per_sec), Some(r.p50_ms), Some(r.p99_ms))),
                None => Some(((n == 64).then_some(reference::READS_PER_SEC_64), None, None)),
            }
            .unwrap_or_default();
            add(
                format!("linearizable reads/s, {n} clients"),
                "/s",
                Some(cr.per_sec),
                er.0,
                (n == 64).then_some(Goal::RatioAtLeast(4.0)),
            );
            add(
                format!("read p50, {n} clients"),
                "ms",
                Some(cr.p50_ms),
                er.1,
                None,
            );
            add(
                format!("read p99, {n} clients"),
                "ms",
                Some(cr.p99_ms),
                er.2,
                None,
            );
        }
        if !cairn.failover_ms.is_empty() {
            let e = match &etcd {
                Some(e) => (!e.failover_ms.is_empty()).then(|| median(&e.failover_ms)),
                None => Some(reference::FAILOVER_MS),
            };
            add(
                format!(
                    "leader SIGKILL → write accepted, median of {}",
                    cairn.failover_ms.len()
                ),
                "ms",
                Some(median(&cairn.failover_ms)),
                e,
                Some(Goal::AtMost(1000.0)),
            );
        }
        if let Some(cr) = &cairn.rss {
            let full = cr.nodes == 100_000;
            let e = match &etcd {
                Some(e) => e.rss.as_ref().map(|r| mb(r.max_bytes)),
                None => full.then_some(reference::RSS_MB_100K),
            };
            add(
                format!("replica RSS, {} nodes (largest replica)", cr.nodes),
                "MB",
                Some(mb(cr.max_bytes)),
                e,
                full.then_some(Goal::AtMost(200.0)),
            );
            let e = etcd.as_ref().and_then(|e| e.rss.as_ref());
            add(
                "data dir, one replica".to_owned(),
                "MB",
                Some(mb(cr.data_dir_bytes)),
                e.map(|r| mb(r.data_dir_bytes)),
                None,
            );
            add(
                "load time (components + interfaces)".to_owned(),
                "s",
                Some(cr.load_seconds),
                e.map(|r| r.load_seconds),
                None,
            );
        }

        let etcd_name = etcd_version.clone().unwrap_or_else(|| "etcd".to_owned());
        let header = format!(
            "cairn bench inventory ({} build): 3 Cairn replicas vs {}, on 127.0.0.1; \
             ~{} B records, {} keys; {} s per step after {} s warm-up; requests sent to the leader",
            if cfg!(debug_assertions) {
                "DEBUG"
            } else {
                "release"
            },
            if reference {
                "etcd 3.4 reference figures".to_owned()
            } else {
                format!("3 {etcd_name} members")
            },
            args.record_bytes,
            args.keys,
            args.duration,
            args.warmup,
        );
        let mut notes = Vec::new();
        if reference {
            notes.push(
                "etcd column: DESIGN.md's reference figures (reference, not this run); \
                goals are judged only against a same-run etcd."
                    .to_owned(),
            );
            notes.push(
                "to compare in this run: apt-get install -y --no-install-recommends \
                etcd-server, then rerun (or pass --etcd PATH)."
                    .to_owned(),
            );
        }
        let each = |r: &Results| {
            r.failover_ms
                .iter()
                .map(|v| format!("{v:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !cairn.failover_ms.is_empty() {
            let mut line = format!("failover each (ms): Cairn {}", each(&cairn));
            if let Some(e) = &etcd {
                line.push_str(&format!("; etcd {}", each(e)));
            }
            notes.push(line);
        }
        if let Some(r) = &cairn.rss {
            let per: Vec<String> = r
                .per_replica_bytes
                .iter()
                .map(|b| format!("{:.0}", mb(*b)))
                .collect();
            let mut line = format!("RSS per replica (MB): Cairn {}", per.join(", "));
            if let Some(er) = etcd.as_ref().and_then(|e| e.rss.as_ref()) {
                let per: Vec<String> = er
                    .per_replica_bytes
                    .iter()
                    .map(|b| format!("{:.0}", mb(*b)))
                    .collect();
                line.push_str(&format!(
                    "; etcd ({} keys × 1 KiB) {}",
                    er.nodes,
                    per.join(", ")
                ));
            }
            notes.push(line);
        }
        let errors = |r: &Results| {
            r.writes
                .iter()
                .chain(r.reads.iter())
                .map(|s| s.errors)
                .sum::<u64>()
        };
        let (ce, ee) = (errors(&cairn), etcd.as_ref().map_or(0, errors));
        if ce + ee > 0 {
            notes.push(format!(
                "failed requests during measured steps: Cairn {ce}, etcd {ee}"
            ));
        }
        let json = json!({
            "args": args,
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
            "etcd_version": etcd_version,
            "etcd_is_reference": reference,
            "cairn": cairn,
            "etcd": etcd,
            "rows": &rows,
            "notes": &notes,
        });
        Self {
            header,
            notes,
            rows,
            reference,
            json,
        }
    }

    /// The table with its header and notes.
    pub fn table(&self) -> String {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        let etcd = if self.reference {
            "etcd (reference, not this run)"
        } else {
            "etcd"
        };
        t.set_header(["metric", "Cairn", etcd, "Cairn / etcd", "goal", "met"]);
        for r in &self.rows {
            let ratio = r.ratio.map_or("-".to_owned(), |x| {
                if self.reference {
                    format!("≈ {x:.2}×")
                } else {
                    format!("{x:.2}×")
                }
            });
            t.add_row([
                r.metric.clone(),
                value(r.cairn, r.unit),
                value(r.etcd, r.unit),
                ratio,
                r.goal.map_or(String::new(), |g| g.text(r.unit)),
                met_cell(r.met),
            ]);
        }
        with_notes(&self.header, &t, &self.notes)
    }

    /// The machine-readable form written by `--json`.
    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }
}

/// The "met" column: yes, NO, or nothing for a row without a goal.
pub(super) fn met_cell(met: Option<bool>) -> String {
    match met {
        Some(true) => "yes".to_owned(),
        Some(false) => "NO".to_owned(),
        None => String::new(),
    }
}

/// A comparison table under its header line, followed by its notes, one per line.
pub(super) fn with_notes(header: &str, table: &comfy_table::Table, notes: &[String]) -> String {
    let mut out = format!("{header}\n{table}");
    for n in notes {
        out.push_str(&format!("\n  {n}"));
    }
    out
}

fn value(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "-".to_owned(),
        Some(v) if unit == "ms" && v < 10.0 => format!("{v:.2} ms"),
        Some(v) if unit == "s" => format!("{v:.1} s"),
        Some(v) if unit == "/s" => format!("{v:.0}"),
        Some(v) => format!("{v:.0} {unit}"),
    }
}
