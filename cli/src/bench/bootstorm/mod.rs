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

mod reference;
mod report;
mod setup;
mod storm;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use cairn_sim::node::{BootTarget, NodeSpec};
use clap::Args;
use serde::Serialize;

use super::boot::{cpu, find_binary, nginx::Nginx};
use super::proc_stat;
use crate::local_agent::LocalAgent;
use crate::local_cluster::LocalCluster;
use storm::{Node, Pace, Record, Work};

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
    let work = measure(
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

async fn measure(
    args: &BootstormArgs,
    dir: &Path,
    exe: &Path,
    cluster_slot: &mut Option<LocalCluster>,
    agent_slot: &mut Option<LocalAgent>,
    nginx_slot: &mut Option<Nginx>,
) -> anyhow::Result<Measured> {
    let nginx_bin = match args.nginx.as_str() {
        "off" => Err("--nginx off".to_owned()),
        flag => find_binary(flag, "nginx", &["/usr/sbin/nginx"]).map_err(|e| e.to_string()),
    };
    if let Err(why) = &nginx_bin {
        eprintln!("nginx: not compared ({why})");
    }
    eprintln!("cairn: starting {} replica(s)", args.replicas);
    let cluster = cluster_slot.insert(
        LocalCluster::start(
            exe,
            &dir.join("cluster"),
            args.replicas,
            Duration::from_secs(60),
        )
        .await?,
    );
    cluster.wait_for_voters(args.replicas as usize).await?;
    let api = cluster.api_url(cluster.leader().await?)?;
    eprintln!("cairn: loading {} nodes", args.nodes);
    let started = std::time::Instant::now();
    setup::load(&api, args.nodes).await?;
    let load_seconds = started.elapsed().as_secs_f64();
    eprintln!("  loaded in {load_seconds:.1} s; starting the agent");

    let addrs = setup::AgentAddrs::pick()?;
    let started = std::time::Instant::now();
    let agent = agent_slot.insert(setup::spawn_agent(
        exe,
        &dir.join("agent"),
        cluster,
        &addrs,
    )?);
    setup::wait_desired(agent, addrs.api, args.nodes, Duration::from_secs(300)).await?;
    let agent_sync_seconds = started.elapsed().as_secs_f64();
    let pid = agent.pid().context("the agent is not running")?;
    eprintln!(
        "  the agent holds every node after {agent_sync_seconds:.1} s (DHCP {}, HTTP {})",
        addrs.dhcp, addrs.http
    );

    let nodes: Vec<Node> = (0..args.nodes)
        .map(|i| Node {
            spec: NodeSpec::new(setup::mac(i)),
            ip: setup::ip(i),
        })
        .collect();
    let full = Work::Boot(
        BootTarget::new(addrs.dhcp, setup::RELAY_IP)
            .with_http(addrs.http)
            .with_retry(args.dhcp_retry),
    );
    let own = std::process::id();
    let drain = Duration::from_secs(300);
    let mut runs = Vec::new();
    let mut nginx_addr = None;
    for i in 1..=args.runs {
        setup::wait_drained(addrs.api, drain).await?;
        let before = proc_stat::sample(pid)?.cpu;
        let boot = storm_of(&nodes, &full, args.pace(), own, || {
            proc_stat::sample(pid).map(|s| s.cpu).ok()
        })
        .await;
        eprintln!("run {i}: whole boot: {}", boot.brief());
        agent_slot
            .as_mut()
            .context("the agent is gone")?
            .check_running()?;
        setup::wait_drained(addrs.api, drain).await?;
        let until_drained = proc_stat::sample(pid)?.cpu.saturating_sub(before);

        let cairn_http = storm_of(&nodes, &Work::Http(addrs.http), args.pace(), own, || {
            proc_stat::sample(pid).map(|s| s.cpu).ok()
        })
        .await;
        eprintln!("run {i}: HTTP part, agent: {}", cairn_http.brief());
        setup::wait_drained(addrs.api, drain).await?;

        let nginx_http = match &nginx_bin {
            Ok(bin) => {
                let addr = match nginx_addr {
                    Some(a) => a,
                    None => {
                        let a = start_nginx(args, dir, bin, addrs.http, &nodes, nginx_slot).await?;
                        *nginx_addr.insert(a)
                    }
                };
                let group = nginx_slot.as_ref().and_then(Nginx::pid);
                let r = storm_of(&nodes, &Work::Http(addr), args.pace(), own, || {
                    group.map(|g| Duration::from_millis(cpu::ms(cpu::ticks(g, true)) as u64))
                })
                .await;
                eprintln!("run {i}: HTTP part, nginx: {}", r.brief());
                Some(r)
            }
            Err(_) => None,
        };
        runs.push(Run {
            boot,
            agent_cpu_until_drained_seconds: until_drained.as_secs_f64(),
            cairn_http,
            nginx_http,
        });
    }
    let last = proc_stat::sample(pid)?;
    let nginx_version = match &nginx_bin {
        Ok(bin) => super::boot::nginx::version(bin).await,
        Err(_) => None,
    };
    Ok(Measured {
        load_seconds,
        agent_sync_seconds,
        runs,
        agent_rss_bytes: last.rss,
        agent_peak_rss_bytes: last.peak_rss,
        nginx_skipped: nginx_bin.err(),
        nginx_version,
    })
}

/// One storm with the server's CPU time (from `server_cpu`) and this process's around it.
async fn storm_of(
    nodes: &[Node],
    work: &Work,
    pace: Pace,
    own: u32,
    server_cpu: impl Fn() -> Option<Duration>,
) -> Record {
    let own_cpu = || proc_stat::cpu_of(&[own]);
    let (server_before, own_before) = (server_cpu(), own_cpu());
    let storm = storm::run(nodes, work, pace).await;
    let server = server_cpu()
        .zip(server_before)
        .map(|(after, before)| after.saturating_sub(before));
    Record::new(&storm, server, own_cpu().saturating_sub(own_before))
}

/// Write the agent's answers as nginx's files, start nginx and check it answers the same.
async fn start_nginx(
    args: &BootstormArgs,
    dir: &Path,
    bin: &Path,
    agent_http: std::net::SocketAddr,
    nodes: &[Node],
    slot: &mut Option<Nginx>,
) -> anyhow::Result<std::net::SocketAddr> {
    let www = dir.join("nginx").join("www");
    eprintln!(
        "nginx: writing every node's script and cloud-init documents as the agent serves them"
    );
    reference::write_files(agent_http, nodes, &www).await?;
    let workers = args
        .nginx_workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get));
    let server = slot.insert(
        Nginx::start_with(
            bin,
            &dir.join("nginx"),
            &www,
            workers,
            &reference::locations(),
        )
        .await?,
    );
    let addr: std::net::SocketAddr = server
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .context("nginx's address")?;
    reference::same_answers(agent_http, addr, nodes)
        .await
        .with_context(|| format!("nginx's error log: {}", server.error_log().trim()))?;
    Ok(addr)
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
