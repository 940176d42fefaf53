//! `cairn bench bootstorm`: a rack's boot storm. `--nodes` virtual nodes (`cairn_sim::node`)
//! power on within `--ramp` and boot from one agent: DHCP DISCOVER/REQUEST through a relay,
//! then the iPXE script, meta-data, user-data and vendor-data over one keep-alive connection
//! from the leased address. DESIGN.md's goal: 10,000 nodes in ≤ 5 s, none failing, on one
//! agent; and the HTTP part no slower than nginx serving the same bytes.
//!
//! Setup ([`setup`]): a local coordinator cluster holding the nodes, and the agent as a child
//! process (its CPU time and memory are read from /proc, apart from the virtual nodes' in this
//! process). Each run is three storms ([`storm`]): the whole boot against the agent; then the
//! HTTP part alone against the agent and against nginx ([`reference`]), same nodes, same
//! addresses, same pacing. [`report`] prints the medians.

mod measure;
mod reference;
mod report;
mod setup;
mod storm;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use storm::{Pace, Record};

/// Flags of `cairn bench bootstorm`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct BootstormArgs {
    /// Virtual nodes, all in one rack served by one agent.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub nodes: u32,
    /// Nodes booting at once, at most (a node powered on waits for a slot).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub concurrency: usize,
    /// Power-on times are spread evenly over this long.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub ramp: Duration,
    /// First DHCP retransmission interval, doubling after (iPXE's is 1 s).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub dhcp_retry: Duration,
    /// A node's whole boot must finish within this long.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// Storms of each kind; medians are judged.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub runs: usize,
    /// Coordinator replicas (not on the boot path: the agent serves from its own copy).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub replicas: u64,
    /// The nginx to compare the HTTP part with: `auto` (on PATH or /usr/sbin/nginx, skipped
    /// when absent), `off`, or a path.
    #[arg(long, default_value = "auto", value_name = "auto|off|PATH")]
    pub nginx: String,
    /// nginx worker processes (default: one per core, as the agent's runtime has threads).
    #[arg(long, value_name = "N")]
    pub nginx_workers: Option<usize>,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Keep the temporary directory (data dirs, logs, nginx files) afterwards.
    #[arg(long)]
    pub keep: bool,
}

impl BootstormArgs {
    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=setup::MAX_NODES).contains(&self.nodes),
            "--nodes must be 1 to {} (one /18 boot subnet)",
            setup::MAX_NODES
        );
        anyhow::ensure!(
            self.concurrency > 0 && self.runs > 0 && self.replicas > 0,
            "--concurrency, --runs and --replicas must be positive"
        );
        anyhow::ensure!(
            !self.timeout.is_zero() && !self.dhcp_retry.is_zero(),
            "--timeout and --dhcp-retry must be positive"
        );
        anyhow::ensure!(
            self.nginx_workers != Some(0),
            "--nginx-workers must be positive"
        );
        Ok(())
    }

    fn pace(&self) -> Pace {
        Pace {
            concurrency: self.concurrency,
            ramp: self.ramp,
            timeout: self.timeout,
        }
    }
}

/// Every storm of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// The whole boot against the agent.
    pub boot: Record,
    /// The agent's CPU time from the storm's start until its outbox drained (boot events
    /// sent to the coordinators), seconds.
    pub agent_cpu_until_drained_seconds: f64,
    /// The agent's DHCP counters (`/status`) moved this much during the whole-boot storm.
    pub dhcp_counters: BTreeMap<String, u64>,
    /// The HTTP part alone against the agent.
    pub cairn_http: Record,
    /// The HTTP part alone against nginx.
    pub nginx_http: Option<Record>,
}

/// Everything measured.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// Loading the nodes into the coordinators, seconds.
    pub load_seconds: f64,
    /// Agent start → holding every node, seconds.
    pub agent_sync_seconds: f64,
    /// The runs.
    pub runs: Vec<Run>,
    /// The agent's VmRSS after the runs, bytes.
    pub agent_rss_bytes: u64,
    /// The agent's peak VmRSS, bytes.
    pub agent_peak_rss_bytes: u64,
    /// Why nginx did not run, when it did not.
    pub nginx_skipped: Option<String>,
    /// `nginx -v`.
    pub nginx_version: Option<String>,
}

/// Run the benchmark.
pub async fn run(args: BootstormArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -p cairn-cli -- bench bootstorm`"
        );
    }
    args.check()?;
    let load_before = report::loadavg();
    let dir = tempfile::Builder::new()
        .prefix("cairn-bench-bootstorm-")
        .tempdir()?;
    eprintln!(
        "cairn bench bootstorm: working under {}",
        dir.path().display()
    );
    let exe = std::env::current_exe().context("cannot find the cairn executable")?;
    let mut cluster = None;
    let mut agent = None;
    let mut nginx = None;
    let work = measure::measure(
        &args,
        dir.path(),
        &exe,
        &mut cluster,
        &mut agent,
        &mut nginx,
    );
    // Dropping `work` on Ctrl-C leaves the processes in the slots, stopped below.
    let outcome = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    if let Some(mut n) = nginx {
        n.stop();
    }
    if let Some(mut a) = agent {
        a.stop().await;
    }
    if let Some(mut c) = cluster {
        c.stop().await;
    }
    if args.keep || outcome.is_err() {
        let kept = dir.keep();
        eprintln!("data dirs and logs kept in {}", kept.display());
    }
    let measured = outcome?;
    let report = report::Report::new(&args, &measured, load_before, report::loadavg());
    println!("{}", report.table());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(report.json())?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::BenchCmd;
    use crate::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> BootstormArgs {
        let mut all = vec!["cairn", "bench", "bootstorm"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).expect("parses");
        let Command::Bench(BenchCmd::Bootstorm(a)) = cli.command else {
            panic!("wrong command");
        };
        a
    }

    #[test]
    fn defaults_follow_the_issue() {
        let a = parse(&[]);
        assert_eq!(
            (a.nodes, a.concurrency, a.runs, a.replicas),
            (10_000, 10_000, 3, 1)
        );
        assert_eq!(
            (a.ramp, a.dhcp_retry, a.timeout),
            (
                Duration::from_secs(1),
                Duration::from_secs(1),
                Duration::from_secs(30)
            )
        );
        assert_eq!(a.nginx, "auto");
        a.check().expect("valid");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse(&["--nodes", "0"]).check().is_err());
        assert!(parse(&["--nodes", "20000"]).check().is_err());
        assert!(parse(&["--concurrency", "0"]).check().is_err());
        assert!(parse(&["--timeout", "0s"]).check().is_err());
        assert!(parse(&["--nginx-workers", "0"]).check().is_err());
        assert!(Cli::try_parse_from(["cairn", "bench", "bootstorm", "--ramp", "soon"]).is_err());
        let a = parse(&["--nodes", "100", "--ramp", "250ms", "--nginx", "off"]);
        assert_eq!((a.nodes, a.ramp), (100, Duration::from_millis(250)));
        a.check().expect("valid");
    }
}
