//! One storm: every virtual node powers on within `ramp` (node `i` at `i / N × ramp`, an
//! open-loop arrival, as when a rack's power comes back), with at most `concurrency` booting
//! at once (a node waits for a slot if none is free), each within `timeout`. Either the whole
//! boot against the agent (DHCP, then HTTP from the leased address) or only the HTTP part
//! against a server (the agent, or nginx serving the same bytes), from the same addresses.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use cairn_sim::node::{
    BootOutcome, BootSummary, BootTarget, Latency, NodeError, NodeSpec, boot, fetch_boot_documents,
};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// What each node does.
#[derive(Debug, Clone)]
pub enum Work {
    /// DHCP through the relay, then the documents from the leased address.
    Boot(BootTarget),
    /// Only the documents, from the node's inventory address, from this server.
    Http(SocketAddr),
}

/// How nodes arrive.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Nodes booting at once, at most.
    pub concurrency: usize,
    /// Power-on times spread evenly over this long.
    pub ramp: Duration,
    /// Each node's boot must finish within this long.
    pub timeout: Duration,
}

/// One node: its MAC and its inventory address.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    /// What it boots as.
    pub spec: NodeSpec,
    /// Its address (the lease it should get; the HTTP source for [`Work::Http`]).
    pub ip: Ipv4Addr,
}

/// A storm's outcome.
#[derive(Debug, Clone)]
pub struct Storm {
    /// First power-on to the last node's last document (or failure).
    pub wall: Duration,
    /// Per-step latencies and failures.
    pub summary: BootSummary,
    /// Nodes that leased an address other than their inventory one (counted as booted by
    /// the summary: this is a correctness check of the DHCP answer).
    pub wrong_address: usize,
    /// Per booted node, the HTTP part (script and the three documents) together.
    pub http_part: Latency,
}

/// Run one storm of `nodes`.
///
/// # Panics
/// Re-raises a panic of a node's task (a bug, not a failed boot).
pub async fn run(nodes: &[Node], work: &Work, pace: Pace) -> Storm {
    let work = Arc::new(work.clone());
    let slots = Arc::new(Semaphore::new(pace.concurrency.max(1)));
    let count = u32::try_from(nodes.len().max(1)).unwrap_or(u32::MAX);
    let mut running = JoinSet::new();
    let started = Instant::now();
    for (index, node) in nodes.iter().copied().enumerate() {
        let at = started + pace.ramp * u32::try_from(index).unwrap_or(u32::MAX) / count;
        tokio::time::sleep_until(at).await;
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            unreachable!("the semaphore is never closed");
        };
        let work = Arc::clone(&work);
        running.spawn(async move {
            let result = match &*work {
                Work::Boot(target) => boot(&node.spec, target, pace.timeout).await,
                Work::Http(server) => {
                    fetch_boot_documents(&node.spec, node.ip, *server, pace.timeout).await
                }
            };
            drop(slot);
            (index, result)
        });
    }
    let mut results: Vec<Option<Result<BootOutcome, NodeError>>> =
        std::iter::repeat_with(|| None).take(nodes.len()).collect();
    while let Some(done) = running.join_next().await {
        match done {
            Ok((index, result)) => results[index] = Some(result),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a node's task was cancelled: {e}"),
        }
    }
    let wall = started.elapsed();
    let results: Vec<Result<BootOutcome, NodeError>> = results.into_iter().flatten().collect();
    let wrong_address = results
        .iter()
        .zip(nodes)
        .filter(|(r, n)| r.as_ref().is_ok_and(|o| o.ip != n.ip))
        .count();
    let http_part = Latency::of(
        results
            .iter()
            .flatten()
            .map(|o| o.times.total() - o.times.dhcp)
            .collect(),
    );
    Storm {
        wall,
        summary: BootSummary::of(&results),
        wrong_address,
        http_part,
    }
}

/// A latency in milliseconds, for JSON and tables.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Ms {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

impl From<Latency> for Ms {
    fn from(l: Latency) -> Ms {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        Ms {
            p50: ms(l.p50),
            p99: ms(l.p99),
            max: ms(l.max),
        }
    }
}

/// One storm, as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// First power-on to the last node done, seconds.
    pub wall_seconds: f64,
    /// Nodes.
    pub nodes: usize,
    /// Nodes that completed every step.
    pub booted: usize,
    /// Failures by step.
    pub failed: BTreeMap<String, usize>,
    /// A few failures verbatim.
    pub sample_errors: Vec<String>,
    /// Leases of an address other than the node's own.
    pub wrong_address: usize,
    /// Per step, over the booted nodes.
    pub steps: BTreeMap<&'static str, Ms>,
    /// Script and the three documents together, per node.
    pub http_part: Ms,
    /// The whole boot per node.
    pub total: Ms,
    /// CPU time of the server (the agent, or nginx's workers) during the storm, seconds.
    pub server_cpu_seconds: Option<f64>,
    /// CPU time of this process (the virtual nodes) during the storm, seconds.
    pub nodes_cpu_seconds: f64,
}

impl Record {
    /// The storm with the CPU times measured around it.
    pub fn new(storm: &Storm, server_cpu: Option<Duration>, nodes_cpu: Duration) -> Record {
        let s = &storm.summary;
        let mut steps = BTreeMap::new();
        if s.dhcp != Latency::default() {
            steps.insert("dhcp", Ms::from(s.dhcp));
        }
        steps.insert("bootscript", s.bootscript.into());
        steps.insert("meta-data", s.meta_data.into());
        steps.insert("user-data", s.user_data.into());
        steps.insert("vendor-data", s.vendor_data.into());
        Record {
            wall_seconds: storm.wall.as_secs_f64(),
            nodes: s.nodes,
            booted: s.booted,
            failed: s
                .failed
                .iter()
                .map(|(step, n)| (step.to_string(), *n))
                .collect(),
            sample_errors: s.sample_errors.clone(),
            wrong_address: storm.wrong_address,
            steps,
            http_part: storm.http_part.into(),
            total: s.total.into(),
            server_cpu_seconds: server_cpu.map(|d| d.as_secs_f64()),
            nodes_cpu_seconds: nodes_cpu.as_secs_f64(),
        }
    }

    /// Nodes that did not boot, or booted with the wrong address.
    pub fn failures(&self) -> usize {
        self.nodes - self.booted + self.wrong_address
    }

    /// A one-line progress summary.
    pub fn brief(&self) -> String {
        let p99 = |k: &str| self.steps.get(k).map_or(0.0, |m| m.p99);
        format!(
            "{:.2} s, {} of {} done{}; p99 ms: DHCP {:.0}, script {:.0}, meta {:.0}, user {:.0}, \
             vendor {:.0}; server CPU {}",
            self.wall_seconds,
            self.booted,
            self.nodes,
            if self.failures() > 0 {
                format!(" ({} failed: {:?})", self.failures(), self.sample_errors)
            } else {
                String::new()
            },
            p99("dhcp"),
            p99("bootscript"),
            p99("meta-data"),
            p99("user-data"),
            p99("vendor-data"),
            self.server_cpu_seconds
                .map_or("-".to_owned(), |c| format!("{c:.2} s")),
        )
    }
}
