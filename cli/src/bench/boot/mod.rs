//! `cairn bench boot`: Cairn's node-facing boot endpoints against nginx serving the same bytes
//! as static files, side by side in one run, both driven by Debian's `wrk`.
//!
//! Setup: a coordinator ([`cairn`]) holding `--nodes` nodes; every node's bootscript and
//! meta-data are fetched from it and written as per-node files that a local nginx
//! ([`nginx`]) serves. Then, for each endpoint × connection count × connection mode, wrk
//! ([`wrk`]) loads Cairn and then nginx, rotating over every node: Cairn's bootscript by
//! `?mac=`, nginx's by file name; Cairn's meta-data by the node's address in
//! `X-Forwarded-For` (the coordinator trusts 127.0.0.1 as a proxy, as it would a site's front
//! server), nginx's by file name (with the same header, ignored). [`report`] prints the ratio.

mod cairn;
pub(super) mod nginx;
mod report;
mod wrk;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;

pub use wrk::ConnMode;

use crate::local_cluster::LocalCluster;

/// A node-facing endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// `GET /boot/v1/bootscript?mac=` (nginx: `/bootscript/<mac>`).
    Bootscript,
    /// `GET /cloud-init/meta-data`, node by `X-Forwarded-For` (nginx: `/meta-data/<ip>`).
    MetaData,
}

impl Endpoint {
    fn label(self) -> &'static str {
        match self {
            Self::Bootscript => "bootscript",
            Self::MetaData => "meta-data",
        }
    }
}

/// Flags of `cairn bench boot`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct BootArgs {
    /// Nodes loaded; requests rotate over all of them (1 = the same file every time).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub nodes: u64,
    /// Measured seconds per run (whole seconds: wrk's unit).
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub duration: u64,
    /// Unmeasured seconds of the same load before each measured run (0: none).
    #[arg(long, default_value_t = 2, value_name = "SECS")]
    pub warmup: u64,
    /// Open connections, one row per value.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "64,1000",
        value_name = "N,..."
    )]
    pub connections: Vec<usize>,
    /// Connection modes, one row per value.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "keep-alive,close",
        value_name = "MODE,..."
    )]
    pub modes: Vec<ConnMode>,
    /// Endpoints, one row per value.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "bootscript,meta-data",
        value_name = "ENDPOINT,..."
    )]
    pub endpoints: Vec<Endpoint>,
    /// wrk threads (and nginx workers).
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub threads: usize,
    /// Coordinator replicas (node-facing reads are served by the replica asked).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub replicas: u64,
    /// The nginx binary: `auto` (nginx on PATH or /usr/sbin/nginx), or a path.
    #[arg(long, default_value = "auto", value_name = "auto|PATH")]
    pub nginx: String,
    /// The wrk binary: `auto` (wrk on PATH), or a path.
    #[arg(long, default_value = "auto", value_name = "auto|PATH")]
    pub wrk: String,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Keep the temporary directory (data dir, logs, nginx files) afterwards.
    #[arg(long)]
    pub keep: bool,
    /// /proc/loadavg when the run started (not a flag: recorded with the results).
    #[arg(skip)]
    pub load_before: Option<String>,
}

impl BootArgs {
    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.nodes > 0, "--nodes must be positive");
        anyhow::ensure!(self.duration > 0, "--duration must be positive");
        anyhow::ensure!(
            self.threads > 0 && self.replicas > 0,
            "--threads and --replicas must be positive"
        );
        anyhow::ensure!(
            self.connections.iter().all(|&c| c > 0),
            "--connections must be positive"
        );
        Ok(())
    }
}

/// One measured run of one system.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// What wrk said.
    pub wrk: wrk::WrkResult,
    /// CPU time the server used during the run, milliseconds (all its threads or workers).
    pub server_cpu_ms: Option<f64>,
}

/// One row: the same load against both.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// Open connections.
    pub connections: usize,
    /// Keep-alive or close.
    pub mode: ConnMode,
    /// Cairn's figures.
    pub cairn: Measured,
    /// nginx's figures.
    pub nginx: Measured,
}

/// The binary `flag` names (`auto`: `name` on PATH, else the first of `fallback` that exists).
pub(super) fn find_binary(flag: &str, name: &str, fallback: &[&str]) -> anyhow::Result<PathBuf> {
    if flag != "auto" {
        let p = PathBuf::from(flag);
        anyhow::ensure!(p.is_file(), "--{name} {flag}: no such file");
        return Ok(p);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .or_else(|| fallback.iter().map(PathBuf::from).find(|p| p.is_file()))
        .with_context(|| {
            format!(
                "{name} not found: apt-get install -y --no-install-recommends {name} \
                 (or pass --{name} PATH)"
            )
        })
}

/// Run the benchmark.
pub async fn run(args: BootArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -p cairn-cli -- bench boot`"
        );
    }
    args.check()?;
    let mut args = args;
    args.load_before = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    let nginx_bin = find_binary(&args.nginx, "nginx", &["/usr/sbin/nginx"])?;
    let wrk_bin = find_binary(&args.wrk, "wrk", &[])?;
    let dir = tempfile::Builder::new()
        .prefix("cairn-bench-boot-")
        .tempdir()?;
    eprintln!("cairn bench boot: working under {}", dir.path().display());
    let mut cluster = None;
    let mut server = None;
    let work = measure(
        &args,
        dir.path(),
        &nginx_bin,
        &wrk_bin,
        &mut cluster,
        &mut server,
    );
    // Dropping `work` on Ctrl-C leaves the processes in `cluster` and `server`, stopped below.
    let outcome = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    if let Some(mut n) = server {
        n.stop();
    }
    if let Some(mut c) = cluster {
        c.stop().await;
    }
    if args.keep {
        let kept = dir.keep();
        eprintln!("files kept in {}", kept.display());
    }
    let rows = outcome?;
    let versions = (
        nginx::version(&nginx_bin).await,
        wrk::version(&wrk_bin).await,
    );
    let report = report::Report::new(&args, rows, versions);
    println!("{}", report.table());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(report.json())?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    Ok(())
}

async fn measure(
    args: &BootArgs,
    dir: &Path,
    nginx_bin: &Path,
    wrk_bin: &Path,
    cluster_slot: &mut Option<LocalCluster>,
    nginx_slot: &mut Option<nginx::Nginx>,
) -> anyhow::Result<Vec<Row>> {
    let exe = std::env::current_exe().context("cannot find the cairn executable")?;
    eprintln!("cairn: starting {} replica(s)", args.replicas);
    let cluster = cluster_slot.insert(
        LocalCluster::start_with(
            &exe,
            &dir.join("cairn"),
            args.replicas,
            Duration::from_secs(30),
            &cairn::replica_flags(),
        )
        .await?,
    );
    cluster.wait_for_voters(args.replicas as usize).await?;
    let leader = cluster.leader().await?;
    let api = cluster.api_url(leader)?;
    eprintln!("cairn: loading {} nodes", args.nodes);
    cairn::load(&api, args.nodes).await?;
    // Serve from a follower when there is one: it shows reads need no leader.
    let serving = cluster
        .running()
        .into_iter()
        .find(|&id| id != leader)
        .unwrap_or(leader);
    let cairn_url = cluster.api_url(serving)?;
    let cairn_pid = cluster.replica(serving)?.pid();
    cairn::wait_applied(cluster, leader, serving).await?;

    let www = dir.join("nginx").join("www");
    eprintln!("cairn: writing each node's bootscript and meta-data for nginx");
    cairn::write_reference_files(&cairn_url, args.nodes, &www).await?;
    let server = nginx_slot
        .insert(nginx::Nginx::start(nginx_bin, &dir.join("nginx"), &www, args.threads).await?);
    let nginx_url = server.base_url();
    cairn::same_bytes(&cairn_url, &nginx_url, args.nodes).await?;

    let script = wrk::write_script(dir)?;
    let mut rows = Vec::new();
    for &endpoint in &args.endpoints {
        let targets = cairn::targets(dir, endpoint, args.nodes)?;
        for &connections in &args.connections {
            for &mode in &args.modes {
                let one = async |base: &str, file: &Path, pid: Option<u32>, group: bool| {
                    let run = wrk::Run {
                        wrk: wrk_bin,
                        script: &script,
                        base_url: base,
                        targets: file,
                        threads: args.threads,
                        connections,
                        duration: Duration::from_secs(args.warmup),
                        mode,
                    };
                    if args.warmup > 0 {
                        wrk::run(&run).await?;
                    }
                    let before = pid.map(|p| cpu::ticks(p, group));
                    let result = wrk::run(&wrk::Run {
                        duration: Duration::from_secs(args.duration),
                        ..run
                    })
                    .await?;
                    let after = pid.map(|p| cpu::ticks(p, group));
                    anyhow::Ok(Measured {
                        wrk: result,
                        server_cpu_ms: before.zip(after).map(|(b, a)| cpu::ms(a.saturating_sub(b))),
                    })
                };
                eprintln!(
                    "{}: {connections} connections, {}",
                    endpoint.label(),
                    mode.label()
                );
                let c = one(&cairn_url, &targets.cairn, cairn_pid, false).await?;
                eprintln!(
                    "  cairn {:.0}/s p99 {:.2} ms",
                    c.wrk.per_sec(),
                    c.wrk.p99_ms()
                );
                let n = one(&nginx_url, &targets.nginx, server.pid(), true)
                    .await
                    .with_context(|| format!("nginx's error log: {}", server.error_log().trim()))?;
                eprintln!(
                    "  nginx {:.0}/s p99 {:.2} ms",
                    n.wrk.per_sec(),
                    n.wrk.p99_ms()
                );
                rows.push(Row {
                    endpoint,
                    connections,
                    mode,
                    cairn: c,
                    nginx: n,
                });
            }
        }
    }
    Ok(rows)
}

/// CPU time of the servers, from /proc.
pub(super) mod cpu {
    /// Clock ticks per second of /proc/PID/stat (`getconf CLK_TCK`: 100 on Linux/x86_64).
    const TICKS_PER_SEC: f64 = 100.0;

    /// utime + stime of `pid` (all its threads), or of every process in the process group
    /// `pid` when `group` (nginx's master and workers).
    pub fn ticks(pid: u32, group: bool) -> u64 {
        if !group {
            return stat(pid).map_or(0, |(_, t)| t);
        }
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return 0;
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(stat)
            .filter(|(pgrp, _)| *pgrp == pid)
            .map(|(_, t)| t)
            .sum()
    }

    /// (process group, utime + stime) from /proc/PID/stat.
    fn stat(pid: u32) -> Option<(u32, u64)> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name may hold spaces and parentheses: fields start after the last ')'.
        let rest = &text[text.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // After the name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12).
        let pgrp = f.get(2)?.parse().ok()?;
        let t = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        Some((pgrp, t))
    }

    /// Ticks as milliseconds.
    pub fn ms(ticks: u64) -> f64 {
        ticks as f64 * 1e3 / TICKS_PER_SEC
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn own_process_has_a_group_and_time() {
            let (pgrp, _) = super::stat(std::process::id()).expect("own stat");
            assert!(pgrp > 0);
            assert_eq!(super::ms(250), 2500.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::BenchCmd;
    use crate::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> BootArgs {
        let mut all = vec!["cairn", "bench", "boot"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).expect("parses");
        let Command::Bench(BenchCmd::Boot(a)) = cli.command else {
            panic!("wrong command");
        };
        a
    }

    #[test]
    fn defaults_follow_the_issue() {
        let a = parse(&[]);
        assert_eq!(a.connections, [64, 1000]);
        assert_eq!(a.modes, [ConnMode::KeepAlive, ConnMode::Close]);
        assert_eq!(a.endpoints, [Endpoint::Bootscript, Endpoint::MetaData]);
        assert_eq!(
            (a.nodes, a.duration, a.warmup, a.replicas),
            (1000, 10, 2, 1)
        );
        a.check().expect("valid");
    }

    #[test]
    fn lists_and_bad_values() {
        let a = parse(&[
            "--connections",
            "8",
            "--modes",
            "close",
            "--endpoints",
            "meta-data",
            "--nodes",
            "10",
        ]);
        assert_eq!(a.connections, [8]);
        assert_eq!(a.modes, [ConnMode::Close]);
        assert_eq!(a.endpoints, [Endpoint::MetaData]);
        assert!(parse(&["--nodes", "0"]).check().is_err());
        assert!(parse(&["--connections", "0"]).check().is_err());
        assert!(Cli::try_parse_from(["cairn", "bench", "boot", "--modes", "pipelined"]).is_err());
        assert!(find_binary("/nonexistent/wrk", "wrk", &[]).is_err());
    }
}
