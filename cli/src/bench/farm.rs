//! Simulated racks for `cairn bench discovery` and `cairn bench power`: per rack, a farm of
//! Redfish BMCs (cairn-sim, in this process) on consecutive loopback addresses of one subnet,
//! all on one port, and a rack agent (`cairn agent`, a child process whose /proc figures are
//! read) that finds them by scanning the subnet, as it would in a real rack.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use cairn_sim::{Credentials, Layout, SimConfig, SimError};

use crate::client::Client;
use crate::cmd::HSM;
use crate::cmd::discover;
use crate::cmd::discover_summary::DISCOVER_OK;
use crate::local_agent::LocalAgent;
use crate::local_cluster::{LocalCluster, wait_for};
use crate::output::records;

/// Addresses of one rack's subnet: a /21, the most one cabinet holds in the agent's derived
/// names (8 chassis × 256 slots).
pub const SUBNET_PREFIX: u8 = 21;
/// Hosts one rack may have (the /21's addresses but the network and broadcast addresses).
pub const MAX_PER_RACK: u32 = (1 << (32 - SUBNET_PREFIX)) - 2;
/// The first cabinet; rack `r` is cabinet `FIRST_CABINET + r`.
pub const FIRST_CABINET: u32 = 1000;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct FarmSpec {
    /// Racks (one agent each).
    pub racks: u32,
    /// BMCs per rack.
    pub bmcs_per_rack: u32,
    /// Systems (nodes) per BMC.
    pub systems: u8,
    /// Delay before a reset's new power state shows.
    pub power_delay: Duration,
    /// Serve HTTPS with a generated CA (given to the agents) rather than HTTP.
    pub tls: bool,
}

/// One rack: its BMCs and where they are.
pub struct Rack {
    /// Its cabinet number.
    pub cabinet: u32,
    /// Its subnet, e.g. `127.93.8.0/21`.
    pub subnet: String,
    /// The running BMCs.
    pub sim: cairn_sim::Handle,
    /// The CA file its agent trusts, with TLS.
    pub ca_file: Option<PathBuf>,
}

/// The racks, their port and the password every BMC accepts.
pub struct Farm {
    /// The racks.
    pub racks: Vec<Rack>,
    /// The port every BMC listens on.
    pub port: u16,
    /// File holding the BMCs' password.
    pub password_file: PathBuf,
}

/// A random number (std's hasher keys are random per process).
fn random() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

/// A port free on 127.0.0.1 right now (likely free on other loopback addresses too).
fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(l.local_addr()?.port())
}

impl Farm {
    /// Start the racks under `dir`, on a randomly chosen block of 127.0.0.0/8 and a free port
    /// (another choice is tried when an address is taken).
    pub async fn start(spec: &FarmSpec, dir: &Path) -> anyhow::Result<Farm> {
        anyhow::ensure!(
            (1..=MAX_PER_RACK).contains(&spec.bmcs_per_rack),
            "BMCs per rack must be 1 to {MAX_PER_RACK} (one /{SUBNET_PREFIX} subnet per rack)"
        );
        anyhow::ensure!((1..=32).contains(&spec.racks), "racks must be 1 to 32");
        let password = format!("bench-{:016x}", random());
        let password_file = dir.join("bmc-password");
        std::fs::write(&password_file, &password)
            .with_context(|| format!("cannot write {}", password_file.display()))?;
        let mut last = None;
        for _ in 0..5 {
            let r = random();
            // 127.<64..=250>.<a multiple of 8>.0: away from 127.0.x, where most things listen.
            let second = 64 + (r % 187) as u8;
            let third = ((r >> 8) % (32 - spec.racks as u64 + 1)) as u8 * 8;
            let port = free_port()?;
            match Self::start_at(spec, dir, second, third, port, &password).await {
                Ok(racks) => {
                    return Ok(Farm {
                        racks,
                        port,
                        password_file,
                    });
                }
                Err(e)
                    if e.downcast_ref::<SimError>()
                        .is_some_and(|e| matches!(e, SimError::Bind { .. })) =>
                {
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no loopback block was free")))
    }

    async fn start_at(
        spec: &FarmSpec,
        dir: &Path,
        second: u8,
        third: u8,
        port: u16,
        password: &str,
    ) -> anyhow::Result<Vec<Rack>> {
        let mut racks = Vec::new();
        for r in 0..spec.racks {
            // Rack r's /21 starts 8 third-octets after rack r-1's.
            let net = Ipv4Addr::new(127, second, third + 8 * r as u8, 0);
            let config = SimConfig::builder()
                .count(spec.bmcs_per_rack)
                .first_index(r * spec.bmcs_per_rack)
                .layout(Layout::ConsecutiveAddresses {
                    base: Ipv4Addr::from(u32::from(net) + 1),
                    port,
                })
                .systems(spec.systems)
                .power_delay(spec.power_delay)
                .credentials(Credentials::new("admin", password))
                .tls(spec.tls)
                .build()?;
            let sim = match cairn_sim::start(config).await {
                Ok(s) => s,
                Err(e) => {
                    for rack in racks {
                        let Rack { sim, .. } = rack;
                        sim.shutdown().await;
                    }
                    return Err(e.into());
                }
            };
            let cabinet = FIRST_CABINET + r;
            let ca_file = match sim.ca_pem() {
                Some(pem) => {
                    let path = dir.join(format!("bmc-ca-x{cabinet}.pem"));
                    std::fs::write(&path, pem)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    Some(path)
                }
                None => None,
            };
            racks.push(Rack {
                cabinet,
                subnet: format!("{net}/{SUBNET_PREFIX}"),
                sim,
                ca_file,
            });
        }
        Ok(racks)
    }

    /// Start one agent per rack, scanning its subnet, talking to every replica. `config` is
    /// an optional TOML file given to every agent (`[power]` settings); flags win over it.
    pub fn start_agents(
        &self,
        exe: &Path,
        dir: &Path,
        cluster: &LocalCluster,
        config: Option<&Path>,
    ) -> anyhow::Result<Vec<LocalAgent>> {
        let mut common = Vec::new();
        for r in cluster.replicas() {
            common.extend(["--coordinator".to_owned(), r.api_url()]);
        }
        common.extend([
            "--bmc-port".to_owned(),
            self.port.to_string(),
            "--bmc-username".to_owned(),
            "admin".to_owned(),
            "--bmc-password-file".to_owned(),
            self.password_file.display().to_string(),
            // Discover at start and on request only: nothing unasked runs during a measurement.
            "--rediscover-interval".to_owned(),
            "0s".to_owned(),
        ]);
        if let Some(c) = config {
            common.extend(["--config".to_owned(), c.display().to_string()]);
        }
        self.racks
            .iter()
            .map(|rack| {
                let mut flags = common.clone();
                flags.extend([
                    "--scope".to_owned(),
                    format!("x{}", rack.cabinet),
                    "--bmc-subnet".to_owned(),
                    rack.subnet.clone(),
                ]);
                if let Some(ca) = &rack.ca_file {
                    flags.extend(["--bmc-ca-file".to_owned(), ca.display().to_string()]);
                }
                LocalAgent::spawn(exe, dir, &format!("bench-x{}", rack.cabinet), &flags)
            })
            .collect()
    }

    /// Starts the racks, runs `measure` against them (Ctrl-C aborts it), then stops the agents
    /// `measure` started and the racks, whatever the outcome: the shared frame of the discovery
    /// and power benches.
    pub async fn run<R>(
        spec: &FarmSpec,
        dir: &Path,
        measure: impl AsyncFnOnce(&Farm, &mut Vec<LocalAgent>) -> anyhow::Result<R>,
    ) -> anyhow::Result<R> {
        let farm = Farm::start(spec, dir).await?;
        let mut agents = Vec::new();
        let outcome = tokio::select! {
            r = measure(&farm, &mut agents) => r,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        };
        for a in &mut agents {
            a.stop().await;
        }
        farm.shutdown().await;
        outcome
    }

    /// The frame of `cairn bench discovery` and `cairn bench power`: a temporary directory,
    /// `replicas` replicas of this executable, the racks of `spec` and their agents around
    /// `measure` (given the cluster, the farm, the agents it starts, the directory and this
    /// executable). Everything is stopped afterwards and the directory removed, unless `keep`
    /// or an error asks to keep it (its path is printed).
    pub async fn bench<R>(
        name: &str,
        replicas: u64,
        spec: &FarmSpec,
        keep: bool,
        measure: impl AsyncFnOnce(
            &LocalCluster,
            &Farm,
            &mut Vec<LocalAgent>,
            &Path,
            &Path,
        ) -> anyhow::Result<R>,
    ) -> anyhow::Result<R> {
        if cfg!(debug_assertions) {
            eprintln!(
                "warning: this is a debug build; run `cargo run --release -p cairn-cli -- bench {name}`"
            );
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("cairn-bench-{name}-"))
            .tempdir()?;
        eprintln!("cairn bench {name}: working under {}", dir.path().display());
        let exe = std::env::current_exe().context("cannot find the cairn executable")?;
        let mut cluster = LocalCluster::start(
            &exe,
            &dir.path().join("cluster"),
            replicas,
            Duration::from_secs(60),
        )
        .await?;
        let outcome = Farm::run(spec, dir.path(), async |farm, agents| {
            measure(&cluster, farm, agents, dir.path(), &exe).await
        })
        .await;
        cluster.stop().await;
        if keep || outcome.is_err() {
            let kept = dir.keep();
            eprintln!("data dirs and logs kept in {}", kept.display());
        }
        outcome
    }

    /// Stop every BMC.
    pub async fn shutdown(self) {
        for rack in self.racks {
            rack.sim.shutdown().await;
        }
    }
}

/// How many Redfish endpoints say DiscoverOK, and how many say something else.
async fn discovery_counts(client: &Client) -> anyhow::Result<(usize, BTreeMap<String, usize>)> {
    let v = client
        .get(&format!("{HSM}/Inventory/RedfishEndpoints"), &[])
        .await?;
    let mut ok = 0;
    let mut other = BTreeMap::new();
    for ep in records(&v, Some("RedfishEndpoints")) {
        match ep["DiscoveryInfo"]["LastDiscoveryStatus"].as_str() {
            Some(DISCOVER_OK) => ok += 1,
            s => *other.entry(s.unwrap_or("none").to_owned()).or_default() += 1,
        }
    }
    Ok((ok, other))
}

/// Wait until the agents' discovery at start has every one of `bmcs` BMCs DiscoverOK. When
/// it does not within `timeout` (a BMC timed out under load, say), ask for one more
/// discovery of everything and wait for it; then give up, saying what the endpoints hold.
pub async fn wait_discovered(
    client: &Client,
    bmcs: usize,
    timeout: Duration,
) -> anyhow::Result<()> {
    let all_ok = || async {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (ok, _) = discovery_counts(client).await?;
        Ok((ok >= bmcs).then_some(()))
    };
    if wait_for(timeout, "the agents' first discovery", all_ok)
        .await
        .is_ok()
    {
        return Ok(());
    }
    let (ok, other) = discovery_counts(client).await?;
    eprintln!(
        "after {timeout:?}: {ok} of {bmcs} BMCs discovered ({other:?}); asking for another discovery"
    );
    let (uri, _) = discover::request(client, &[], true).await?;
    wait_for(timeout, "a second discovery", || {
        let uri = &uri;
        async move {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let s = client.get(uri, &[]).await?;
            Ok((s["Status"].as_str() == Some("Complete")).then_some(()))
        }
    })
    .await?;
    let (ok, other) = discovery_counts(client).await?;
    anyhow::ensure!(
        ok >= bmcs,
        "only {ok} of {bmcs} BMCs were discovered; the others: {other:?}"
    );
    Ok(())
}
