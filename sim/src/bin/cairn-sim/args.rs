//! Command-line arguments of `cairn-sim`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use cairn_sim::{Credentials, Fault, Layout, Mockup, PowerState, ResetType, SimConfig};

/// Simulated hardware for Cairn's demo, benchmarks and tests.
#[derive(Parser)]
#[command(name = "cairn-sim", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log as JSON lines (to stderr).
    #[arg(long, global = true)]
    pub log_json: bool,
}

/// What to simulate.
#[derive(Subcommand)]
pub enum Command {
    /// Redfish BMCs, many in one process. Prints their endpoints as JSON, then serves until
    /// interrupted.
    Bmcs(BmcArgs),
}

/// Power state of generated systems at start.
#[derive(Clone, Copy, ValueEnum)]
pub enum InitialPower {
    /// Powered on.
    On,
    /// Powered off.
    Off,
}

/// Arguments of `cairn-sim bmcs`.
#[derive(Args)]
pub struct BmcArgs {
    /// Number of BMCs.
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Address of the first BMC; BMC i listens on this address + i (on Linux all of
    /// 127.0.0.0/8 is on the loopback interface).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub listen_base: IpAddr,
    /// Port of every BMC (0: each gets an ephemeral port, see the JSON output).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Put every BMC on --listen-base, BMC i on --port + i (or ephemeral ports with --port 0).
    #[arg(long)]
    pub same_address: bool,
    /// Index of the first BMC: generated MACs and UUIDs derive from it, so simulators with
    /// disjoint index ranges never collide.
    #[arg(long, default_value_t = 0)]
    pub first_index: u32,
    /// Systems per generated BMC (0..=254; 0 looks like a chassis controller).
    #[arg(long, default_value_t = 2)]
    pub systems: u8,
    /// Ethernet interfaces per generated system.
    #[arg(long, default_value_t = 1)]
    pub nics: u8,
    /// Reset types generated BMCs allow, comma-separated (default: all ten).
    #[arg(long, value_delimiter = ',')]
    pub reset_types: Vec<ResetTypeArg>,
    /// Power state of generated systems at start.
    #[arg(long, value_enum, default_value_t = InitialPower::Off)]
    pub initial_power: InitialPower,
    /// Delay before a reset's new PowerState shows (e.g. 1s, 250ms, 0s).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub power_delay: Duration,
    /// Show PoweringOn/PoweringOff during the power delay.
    #[arg(long)]
    pub transitional_states: bool,
    /// Serve HTTPS with a freshly generated CA (see --ca-out and "ca_pem" in the output).
    #[arg(long)]
    pub tls: bool,
    /// Write the CA's PEM here (with --tls).
    #[arg(long, requires = "tls")]
    pub ca_out: Option<PathBuf>,
    /// User name every BMC accepts.
    #[arg(long, default_value = "admin")]
    pub username: String,
    /// Password every BMC accepts.
    #[arg(long, default_value = "password", env = "CAIRN_SIM_PASSWORD")]
    pub password: String,
    /// Serve this mockup directory (one index.json per resource path) instead of generated
    /// resources; repeat to rotate BMCs over several.
    #[arg(long)]
    pub mockup: Vec<PathBuf>,
    /// A fault for one BMC, as POSITION:SPEC (position in this run, from 0). SPEC is hang,
    /// die-after=N, malformed-json=PATH, status-500=PATH, fail-reset=error-500|no-effect; a
    /// PATH ending in * matches a prefix. Repeatable.
    #[arg(long = "fault", value_parser = parse_fault)]
    pub faults: Vec<(usize, Fault)>,
    /// Write the endpoint list here (atomically) instead of printing it.
    #[arg(long)]
    pub json_out: Option<PathBuf>,
}

/// A `ResetType`, parsed for clap.
#[derive(Clone, Copy)]
pub struct ResetTypeArg(ResetType);

impl std::str::FromStr for ResetTypeArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self).map_err(|_| {
            let all: Vec<_> = ResetType::ALL.iter().map(|r| r.as_str()).collect();
            format!("unknown reset type {s:?}; known: {}", all.join(", "))
        })
    }
}

fn parse_fault(s: &str) -> Result<(usize, Fault), String> {
    let (position, spec) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: expected POSITION:SPEC, e.g. 3:hang"))?;
    let position = position
        .parse()
        .map_err(|_| format!("{s:?}: {position:?} is not a BMC position"))?;
    Ok((position, spec.parse().map_err(|e| format!("{e}"))?))
}

impl BmcArgs {
    /// The simulator configuration these arguments describe.
    pub fn into_config(self) -> anyhow::Result<SimConfig> {
        let layout = match (self.same_address, self.listen_base) {
            (true, address) => Layout::ConsecutivePorts {
                address,
                base_port: self.port,
            },
            (false, IpAddr::V4(base)) => Layout::ConsecutiveAddresses {
                base,
                port: self.port,
            },
            (false, IpAddr::V6(_)) => {
                bail!("--listen-base: consecutive addresses need IPv4; use --same-address for IPv6")
            }
        };
        let mockups = self
            .mockup
            .iter()
            .map(|dir| Mockup::load(dir).with_context(|| format!("--mockup {}", dir.display())))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut builder = SimConfig::builder()
            .count(self.count)
            .first_index(self.first_index)
            .layout(layout)
            .systems(self.systems)
            .nics(self.nics)
            .initial_power(match self.initial_power {
                InitialPower::On => PowerState::On,
                InitialPower::Off => PowerState::Off,
            })
            .power_delay(self.power_delay)
            .transitional_states(self.transitional_states)
            .tls(self.tls)
            .credentials(Credentials::new(self.username, self.password))
            .mockups(mockups);
        if !self.reset_types.is_empty() {
            builder = builder.reset_types(self.reset_types.iter().map(|r| r.0));
        }
        let mut config = builder.build()?;
        for (position, fault) in self.faults {
            let Some(bmc) = config.bmcs.get_mut(position) else {
                bail!(
                    "--fault {position}:{fault}: there are only {} BMCs",
                    self.count
                );
            };
            bmc.faults.push(fault);
        }
        Ok(config)
    }
}
