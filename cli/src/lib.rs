//! The `cairn` command: a client for Cairn's OpenCHAMI-compatible inventory API (`/hsm/v2`) and
//! its cluster API (`/apis/cairn/v1`), a way to run a coordinator replica, and `cairn demo`.
//!
//! `main.rs` only parses, sets up logging and calls [`run`].

pub mod bench;
pub mod client;
pub mod cmd;
pub mod demo;
pub mod local_agent;
pub mod local_cluster;
pub mod output;
pub mod progress;
pub mod targets;
pub mod validate;

use clap::{ArgAction, Parser, Subcommand};

use crate::client::Client;
use crate::output::Format;

/// Where a coordinator listens when nothing else is said (SMD's usual port).
pub const DEFAULT_API: &str = "http://127.0.0.1:27779";

/// Manage an HPC system's inventory through a Cairn (or OpenCHAMI SMD) API.
#[derive(Debug, Parser)]
#[command(
    name = "cairn",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Base URL of a coordinator's API; any replica will do.
    #[arg(
        long,
        env = "CAIRN_API",
        hide_env_values = true,
        default_value = DEFAULT_API,
        global = true,
        value_name = "URL"
    )]
    pub api: String,
    /// How to print results.
    #[arg(short, long, value_enum, default_value_t = Format::Table, global = true)]
    pub output: Format,
    /// Serve reads from the contacted replica's applied state (faster, may lag the leader).
    #[arg(long, global = true)]
    pub stale: bool,
    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Nouns first, then verbs: `cairn components list`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Components and their state (/hsm/v2/State/Components).
    #[command(subcommand)]
    Components(cmd::components::ComponentsCmd),
    /// Ethernet interfaces: MAC, component, IPs (/hsm/v2/Inventory/EthernetInterfaces).
    #[command(subcommand)]
    Interfaces(cmd::interfaces::InterfacesCmd),
    /// BMCs reachable over Redfish (/hsm/v2/Inventory/RedfishEndpoints).
    #[command(subcommand, visible_alias = "rfe")]
    RedfishEndpoints(cmd::redfish::RedfishCmd),
    /// What sits behind each BMC (/hsm/v2/Inventory/ComponentEndpoints).
    #[command(subcommand)]
    ComponentEndpoints(cmd::component_endpoints::ComponentEndpointsCmd),
    /// Named sets of components, overlapping freely (/hsm/v2/groups).
    #[command(subcommand)]
    Groups(cmd::groups::SetCmd),
    /// Disjoint sets of components (/hsm/v2/partitions).
    #[command(subcommand)]
    Partitions(cmd::groups::SetCmd),
    /// Groups and partition of each component (/hsm/v2/memberships).
    Memberships(cmd::memberships::MembershipsArgs),
    /// Boot parameters and the iPXE script a node gets (/boot/v1).
    #[command(subcommand)]
    Boot(cmd::boot::BootCmd),
    /// cloud-init data: defaults, groups, per-node overrides (/cloud-init/admin).
    #[command(subcommand)]
    CloudInit(cmd::cloud_init::CloudInitCmd),
    /// Ask the rack agents to discover their BMCs now, and show what changed.
    Discover(cmd::discover::DiscoverArgs),
    /// Power nodes on, off or restart them; power status (/power-control/v1).
    #[command(subcommand)]
    Power(cmd::power::PowerCmd),
    /// The rack agents: scope, version, state, last contact, outbox (/apis/cairn/v1/agents).
    Agents(cmd::agents::AgentsCmd),
    /// The boot steps the rack agents served, per node (/apis/cairn/v1/boots).
    Boots(cmd::boots::BootsArgs),
    /// The coordinator replicas: status, add, remove (/apis/cairn/v1/cluster).
    #[command(subcommand)]
    Cluster(cmd::cluster::ClusterCmd),
    /// Run a coordinator replica in this process (as cairn-coordinator does).
    Replica(cmd::replica::ReplicaCmd),
    /// Run a rack agent in this process (as cairn-agent does).
    Agent(cmd::agent::AgentCmd),
    /// 3 local replicas, a sample inventory, the leader killed: nothing lost; 2 racks powered on.
    Demo(demo::DemoArgs),
    /// Benchmarks against a local cluster, compared with etcd in the same run.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
}

impl Cli {
    /// The log level when RUST_LOG is unset: replicas log their progress, clients stay quiet.
    pub fn default_log_level(&self) -> &'static str {
        let base = match self.command {
            Command::Replica(_) | Command::Agent(_) => 1,
            _ => 0,
        };
        match base + self.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    }
}

/// What a subcommand needs to talk to the API and print.
pub struct Ctx {
    /// The API client.
    pub client: Client,
    /// The output format chosen with `--output`.
    pub format: Format,
}

/// Run one parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = || -> anyhow::Result<Ctx> {
        Ok(Ctx {
            client: Client::new(&cli.api, cli.stale)?,
            format: cli.output,
        })
    };
    match cli.command {
        Command::Components(c) => cmd::components::run(&ctx()?, c).await,
        Command::Interfaces(c) => cmd::interfaces::run(&ctx()?, c).await,
        Command::RedfishEndpoints(c) => cmd::redfish::run(&ctx()?, c).await,
        Command::ComponentEndpoints(c) => cmd::component_endpoints::run(&ctx()?, c).await,
        Command::Groups(c) => cmd::groups::run(&ctx()?, &cmd::groups::GROUPS, c).await,
        Command::Partitions(c) => cmd::groups::run(&ctx()?, &cmd::groups::PARTITIONS, c).await,
        Command::Memberships(c) => cmd::memberships::run(&ctx()?, c).await,
        Command::Boot(c) => cmd::boot::run(&ctx()?, c).await,
        Command::CloudInit(c) => cmd::cloud_init::run(&ctx()?, c).await,
        Command::Discover(c) => cmd::discover::run(&ctx()?, c).await,
        Command::Power(c) => cmd::power::run(&ctx()?, c).await,
        Command::Agents(c) => cmd::agents::run(&ctx()?, c).await,
        Command::Boots(a) => cmd::boots::run(&ctx()?, a).await,
        Command::Cluster(c) => cmd::cluster::run(&ctx()?, c).await,
        Command::Replica(c) => cmd::replica::run(c).await,
        Command::Agent(c) => cmd::agent::run(c).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Bench(c) => bench::run(c).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse_err(args: &[&str]) -> String {
        Cli::try_parse_from(args).expect_err("refused").to_string()
    }

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_xnames_and_macs_are_named_before_any_request() {
        let err = parse_err(&["cairn", "components", "get", "x1000c0q3"]);
        assert!(
            err.contains("x1000c0q3") && err.contains("invalid xname"),
            "{err}"
        );
        let err = parse_err(&[
            "cairn",
            "components",
            "set-state",
            "x1000c0s0b0n0",
            "x9zz",
            "On",
        ]);
        assert!(err.contains("x9zz"), "{err}");
        let err = parse_err(&["cairn", "interfaces", "get", "aa:bb:cc:dd:ee"]);
        assert!(
            err.contains("aa:bb:cc:dd:ee") && err.contains("MAC"),
            "{err}"
        );
        let err = parse_err(&[
            "cairn",
            "components",
            "set-state",
            "x1000c0s0b0n0",
            "Asleep",
        ]);
        assert!(err.contains("Asleep"), "{err}");
    }

    #[test]
    fn several_xnames_then_a_value() {
        let cli = Cli::try_parse_from([
            "cairn",
            "components",
            "set-state",
            "X1000C0S0B0N0",
            "x1000c0s0b0n1",
            "on",
            "--flag",
            "alert",
        ])
        .expect("parses");
        let Command::Components(cmd::components::ComponentsCmd::SetState {
            xnames,
            state,
            flag,
            ..
        }) = cli.command
        else {
            panic!("wrong command");
        };
        assert_eq!(xnames, ["x1000c0s0b0n0", "x1000c0s0b0n1"]);
        assert_eq!((state.as_str(), flag.as_deref()), ("On", Some("Alert")));
    }

    #[test]
    fn interface_ids_are_macs_without_colons() {
        let cli = Cli::try_parse_from([
            "cairn",
            "-o",
            "json",
            "interfaces",
            "get",
            "AA:BB:CC:DD:EE:FF",
        ])
        .expect("parses");
        assert_eq!(cli.output, Format::Json);
        let Command::Interfaces(cmd::interfaces::InterfacesCmd::Get { mac }) = cli.command else {
            panic!("wrong command");
        };
        assert_eq!(mac, "aabbccddeeff");
    }
}
