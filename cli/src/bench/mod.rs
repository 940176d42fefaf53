//! `cairn bench inventory`: Cairn's inventory against etcd, same workloads, same run, on
//! loopback. A 3-replica Cairn cluster ([`cairn_target`]) and, when an `etcd` binary is
//! available, a 3-member etcd cluster ([`etcd_target`]) take closed-loop load ([`load`]);
//! [`report`] prints both side by side with the ratio and DESIGN.md's goals.

mod boot;
mod bootstorm;
mod cairn_target;
mod discovery;
mod etcd_target;
mod farm;
mod hw_report;
mod load;
mod nodes;
mod power;
mod proc_stat;
mod report;
mod rss;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

pub use load::{Stats, percentile};

/// `cairn bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Inventory writes, reads, leader failover and memory, against etcd when installed.
    ///
    /// Run it as `cargo run --release -p cairn-cli -- bench inventory` (a debug build measures
    /// the compiler, not Cairn). Starts 3 replicas of this executable on 127.0.0.1 in a
    /// temporary directory; when an `etcd` binary is found (Debian: `apt-get install
    /// etcd-server`), also a 3-member etcd cluster, and runs the same workloads against it
    /// over gRPC. Every process is killed and every directory removed at the end.
    Inventory(InventoryArgs),
    /// Node-facing boot serving (bootscript, meta-data) against nginx serving the same bytes.
    ///
    /// Run it as `cargo run --release -p cairn-cli -- bench boot`. Starts a coordinator of this
    /// executable and Debian's nginx (`apt-get install nginx wrk`) on 127.0.0.1 in a temporary
    /// directory, loads the nodes, writes each node's bootscript and meta-data as nginx's
    /// static files, and loads both with wrk, in the same run. Every process is killed and
    /// every directory removed at the end.
    Boot(boot::BootArgs),
    /// A rack's boot storm: 10,000 virtual nodes boot from one agent (DHCP, iPXE script,
    /// cloud-init), and the HTTP part against nginx serving the same bytes.
    ///
    /// Run it as `cargo run --release -p cairn-cli -- bench bootstorm`. Starts a coordinator
    /// and one agent of this executable on a loopback /18 (127.64.0.0/18), loads the nodes,
    /// lets them power on within `--ramp` and boot (DHCP through a relay, then HTTP from the
    /// leased address), and times the storm; then the HTTP part alone against the agent and
    /// against Debian's nginx (when installed), from the same addresses. Every process is
    /// killed and every directory removed at the end.
    Bootstorm(bootstorm::BootstormArgs),
    /// Redfish discovery of 1,000 simulated BMCs by one rack agent.
    ///
    /// Run it as `cargo run --release -p cairn-cli -- bench discovery`. Starts 3 replicas and
    /// one agent of this executable and a simulated farm of BMCs (in this process) on a
    /// loopback subnet, lets the agent find them by scanning, then times discoveries from
    /// the Discover request to the last result applied, with the agent's CPU time and memory.
    Discovery(discovery::DiscoveryArgs),
    /// A power transition of 10,000 simulated nodes across 4 rack agents.
    ///
    /// Run it as `cargo run --release -p cairn-cli -- bench power`. Starts 3 replicas, 4
    /// agents and 5,000 simulated BMCs (2 systems each, new power states showing after 1 s),
    /// lets the agents discover them, then times transitions (on, off, on) from the POST to
    /// completion.
    Power(power::PowerArgs),
}

/// One part of the inventory benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// Component upserts at each `--clients` concurrency.
    Writes,
    /// Linearizable reads with `--read-clients` workers.
    Reads,
    /// SIGKILL the leader, time until a write is accepted again.
    Failover,
    /// Memory of a replica holding `--rss-nodes` nodes.
    Rss,
}

/// Flags of `cairn bench inventory`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct InventoryArgs {
    /// Concurrent writers, one step per value.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,64,256",
        value_name = "N,..."
    )]
    pub clients: Vec<usize>,
    /// Measured seconds per step.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub duration: u64,
    /// Unmeasured seconds before each step.
    #[arg(long, default_value_t = 2, value_name = "SECS")]
    pub warmup: u64,
    /// Size of one written record (the JSON body; the etcd value).
    #[arg(long, default_value_t = 2048, value_name = "BYTES")]
    pub record_bytes: usize,
    /// Distinct keys (xnames) written and read.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub keys: u64,
    /// Concurrent readers.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub read_clients: usize,
    /// Leader kills; each is followed by a restart and catch-up.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub failovers: usize,
    /// Nodes (a component and an interface each) loaded for the memory step; 0 skips it.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub rss_nodes: u64,
    /// The etcd to compare with: `auto` (etcd on PATH, if any), `off`, or a path.
    #[arg(long, default_value = "auto", value_name = "auto|off|PATH")]
    pub etcd: String,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Run only these steps.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "STEP,...",
        default_value = "writes,reads,failover,rss"
    )]
    pub only: Vec<Step>,
    /// Keep the temporary directory (data dirs and logs) afterwards.
    #[arg(long)]
    pub keep: bool,
}

impl InventoryArgs {
    /// Whether `step` was asked for.
    pub fn wants(&self, step: Step) -> bool {
        self.only.contains(&step) && (step != Step::Rss || self.rss_nodes > 0)
    }

    fn warmup(&self) -> Duration {
        Duration::from_secs(self.warmup)
    }

    fn duration(&self) -> Duration {
        Duration::from_secs(self.duration)
    }

    /// The etcd binary to use, if any.
    pub fn etcd_binary(&self) -> anyhow::Result<Option<PathBuf>> {
        match self.etcd.as_str() {
            "off" => Ok(None),
            "auto" => Ok(find_on_path("etcd")),
            path => {
                let p = PathBuf::from(path);
                anyhow::ensure!(p.is_file(), "--etcd {path}: no such file");
                Ok(Some(p))
            }
        }
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// What one system measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Results {
    /// One entry per `--clients` value.
    pub writes: Vec<Stats>,
    /// Linearizable reads.
    pub reads: Option<Stats>,
    /// Leader SIGKILL → next accepted write, milliseconds, one per failover.
    pub failover_ms: Vec<f64>,
    /// The memory step.
    pub rss: Option<RssResult>,
}

/// Memory and disk after loading the nodes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RssResult {
    /// Nodes loaded.
    pub nodes: u64,
    /// Seconds the load took.
    pub load_seconds: f64,
    /// VmRSS of each replica, bytes.
    pub per_replica_bytes: Vec<u64>,
    /// The largest of them.
    pub max_bytes: u64,
    /// Size of one replica's data dir, bytes.
    pub data_dir_bytes: u64,
}

/// The median of some values (0 when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The xname of key `k`: 2 nodes per BMC, 32 slots, 8 chassis, 512 nodes per cabinet.
pub fn xname(k: u64) -> String {
    format!(
        "x{}c{}s{}b0n{}",
        1000 + k / 512,
        (k / 64) % 8,
        (k / 2) % 32,
        k % 2
    )
}

/// Run the command.
pub async fn run(cmd: BenchCmd) -> anyhow::Result<()> {
    match cmd {
        BenchCmd::Inventory(args) => inventory(args).await,
        BenchCmd::Boot(args) => boot::run(args).await,
        BenchCmd::Bootstorm(args) => bootstorm::run(args).await,
        BenchCmd::Discovery(args) => discovery::run(args).await,
        BenchCmd::Power(args) => power::run(args).await,
    }
}

async fn inventory(args: InventoryArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -p cairn-cli -- bench inventory`"
        );
    }
    anyhow::ensure!(
        args.clients.iter().all(|&c| c > 0) && args.read_clients > 0,
        "client counts must be positive"
    );
    anyhow::ensure!(
        args.keys > 0 && args.duration > 0,
        "--keys and --duration must be positive"
    );
    let etcd = args.etcd_binary()?;
    let dir = tempfile::Builder::new().prefix("cairn-bench-").tempdir()?;
    eprintln!(
        "cairn bench inventory: working under {}",
        dir.path().display()
    );
    let work = async {
        let cairn = cairn_target::run(&args, &dir.path().join("cairn"))
            .await
            .context("Cairn benchmark")?;
        let etcd = match &etcd {
            Some(bin) => Some(
                etcd_target::run(&args, bin, &dir.path().join("etcd"))
                    .await
                    .context("etcd benchmark")?,
            ),
            None => None,
        };
        anyhow::Ok((cairn, etcd))
    };
    // Dropping `work` on Ctrl-C drops the clusters, whose children are killed on drop.
    let outcome = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    if args.keep {
        let kept = dir.keep();
        eprintln!("data dirs and logs kept in {}", kept.display());
    }
    let (cairn, etcd_results) = outcome?;
    let version = match &etcd {
        Some(bin) => etcd_target::version(bin).await,
        None => None,
    };
    let report = report::Report::new(&args, cairn, etcd_results, version);
    println!("{}", report.table());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report.json())?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> InventoryArgs {
        let mut all = vec!["cairn", "bench", "inventory"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).expect("parses");
        let Command::Bench(BenchCmd::Inventory(a)) = cli.command else {
            panic!("wrong command");
        };
        a
    }

    #[test]
    fn defaults_follow_the_issue() {
        let a = parse(&[]);
        assert_eq!(a.clients, [1, 64, 256]);
        assert_eq!((a.duration, a.warmup, a.record_bytes), (10, 2, 2048));
        assert_eq!((a.keys, a.read_clients, a.failovers), (10_000, 64, 3));
        assert_eq!((a.rss_nodes, a.etcd.as_str()), (100_000, "auto"));
        assert!(
            [Step::Writes, Step::Reads, Step::Failover, Step::Rss]
                .iter()
                .all(|&s| a.wants(s))
        );
    }

    #[test]
    fn lists_and_skips() {
        let a = parse(&[
            "--clients",
            "4,8",
            "--only",
            "writes,rss",
            "--rss-nodes",
            "0",
            "--etcd",
            "off",
            "--json",
            "/tmp/x.json",
        ]);
        assert_eq!(a.clients, [4, 8]);
        assert!(a.wants(Step::Writes) && !a.wants(Step::Reads) && !a.wants(Step::Rss));
        assert!(a.etcd_binary().expect("off is fine").is_none());
        assert_eq!(a.json.as_deref(), Some(std::path::Path::new("/tmp/x.json")));
        assert!(Cli::try_parse_from(["cairn", "bench", "inventory", "--only", "boot"]).is_err());
        assert!(Cli::try_parse_from(["cairn", "bench", "inventory", "--clients", "x"]).is_err());
    }

    #[test]
    fn xnames_are_valid_and_distinct() {
        let names: std::collections::BTreeSet<String> = (0..100_000).map(xname).collect();
        assert_eq!(names.len(), 100_000);
        assert_eq!(xname(0), "x1000c0s0b0n0");
        assert_eq!(xname(513), "x1001c0s0b0n1");
        for k in [0, 511, 99_999] {
            crate::validate::xname(&xname(k)).expect("valid xname");
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0]), 2.5);
    }
}
