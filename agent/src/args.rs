//! `cairn-agent`'s command line: `--config FILE` and flags that override it, so a script can
//! start an agent without writing any file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_protocols::{HmsType, Xname};
use ipnet::IpNet;

use crate::config::{AgentConfig, ConfigError};

/// Start a rack agent. Flags override the `--config` file; a repeatable flag given at least
/// once replaces the file's list.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AgentArgs {
    /// TOML configuration file (unknown keys are refused).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// This agent's stable id, e.g. rack-x1000 (1 to 64 of A-Z a-z 0-9 . _ -).
    #[arg(long, value_name = "ID")]
    pub agent_id: Option<String>,
    /// A cabinet this agent serves: x1000 or 1000 (repeatable, or comma separated).
    #[arg(long, value_name = "CABINET", value_delimiter = ',', value_parser = parse_cabinet)]
    pub scope: Vec<u32>,
    /// A coordinator replica's API URL, e.g. http://10.0.0.1:27779 (repeatable; the agent
    /// fails over between them).
    #[arg(long = "coordinator", value_name = "URL")]
    pub coordinators: Vec<String>,
    /// Directory for the agent's state (outbox, report sequence, power tasks).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A BMC to discover without scanning: https://HOST:PORT, http://HOST:PORT or HOST:PORT,
    /// the port optional (repeatable).
    #[arg(long = "bmc", value_name = "URL")]
    pub bmcs: Vec<String>,
    /// A subnet to scan for BMCs, e.g. 10.1.0.0/24 (repeatable).
    #[arg(long = "bmc-subnet", value_name = "CIDR")]
    pub bmc_subnets: Vec<IpNet>,
    /// A port to scan on every subnet address (repeatable; default 443).
    #[arg(long = "bmc-port", value_name = "PORT")]
    pub bmc_ports: Vec<u16>,
    /// Default Redfish user name (a RedfishEndpoint's own User wins).
    #[arg(long, value_name = "USER")]
    pub bmc_username: Option<String>,
    /// File holding the default Redfish password (one line).
    #[arg(long, value_name = "FILE")]
    pub bmc_password_file: Option<PathBuf>,
    /// PEM file of certificates trusted for BMC HTTPS (CA or the BMCs' own).
    #[arg(long, value_name = "FILE")]
    pub bmc_ca_file: Option<PathBuf>,
    /// How often the whole scope is discovered again, e.g. 10m or 1h; 0s: only at start and on
    /// request (default 10m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub rediscover_interval: Option<Duration>,
    /// Where the agent's HTTP API (GET /healthz, GET /status) listens, e.g. 127.0.0.1:27790.
    #[arg(long, value_name = "ADDR")]
    pub api_listen: Option<SocketAddr>,
    /// Where the rack's HTTP boot service (iPXE scripts, cloud-init, image cache) listens,
    /// e.g. 10.91.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub boot_listen: Option<SocketAddr>,
    /// Serve DHCPv4 on this interface (the rack's boot network), e.g. rack0.
    #[arg(long, value_name = "IFACE")]
    pub dhcp_interface: Option<String>,
    /// Where the TFTP server for the iPXE binaries listens, e.g. 10.91.0.1:69.
    #[arg(long, value_name = "ADDR")]
    pub tftp_listen: Option<SocketAddr>,
    /// The directory TFTP serves (default /usr/lib/ipxe, from Debian's ipxe package).
    #[arg(long, value_name = "DIR")]
    pub ipxe_dir: Option<PathBuf>,
}

/// The command line does not make a usable configuration.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    /// The configuration file cannot be read.
    #[error("cannot read {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is invalid.
    #[error("{}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: ConfigError,
    },
    /// The flags and the file together are invalid.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// A flag needs another one.
    #[error("{0}")]
    Inconsistent(String),
}

/// `x1000` or `1000` → 1000.
pub fn parse_cabinet(s: &str) -> Result<u32, String> {
    let text = s.trim();
    let as_xname = if text.starts_with(['x', 'X']) {
        text.to_owned()
    } else {
        format!("x{text}")
    };
    let x = Xname::parse(&as_xname).map_err(|e| format!("{s:?} is not a cabinet: {e}"))?;
    match (x.hms_type(), x.cabinet()) {
        (HmsType::Cabinet, Some(n)) => Ok(n),
        (t, _) => Err(format!("{s:?} is a {t}, not a cabinet (x1000 or 1000)")),
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e} (e.g. 90s, 10m, 1h)"))
}

/// Reads and validates a configuration file.
pub fn read_config(path: &Path) -> Result<AgentConfig, ArgsError> {
    let text = std::fs::read_to_string(path).map_err(|source| ArgsError::Read {
        path: path.to_owned(),
        source,
    })?;
    AgentConfig::from_toml(&text).map_err(|source| ArgsError::File {
        path: path.to_owned(),
        source,
    })
}

impl AgentArgs {
    /// The file (if any) with the flags over it, validated.
    pub fn into_config(self) -> Result<AgentConfig, ArgsError> {
        let mut c = match &self.config {
            Some(path) => read_config(path)?,
            None => AgentConfig::default(),
        };
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(v) = value {
                *slot = v;
            }
        }
        fn replace<T>(slot: &mut Vec<T>, values: Vec<T>) {
            if !values.is_empty() {
                *slot = values;
            }
        }
        set(&mut c.agent_id, self.agent_id.map(Some));
        replace(&mut c.scope, self.scope);
        replace(&mut c.coordinators, self.coordinators);
        set(&mut c.data_dir, self.data_dir.map(Some));
        replace(&mut c.bmc.urls, self.bmcs);
        replace(&mut c.bmc.subnets, self.bmc_subnets);
        replace(&mut c.bmc.ports, self.bmc_ports);
        set(&mut c.bmc.username, self.bmc_username.map(Some));
        set(&mut c.bmc.password_file, self.bmc_password_file.map(Some));
        set(&mut c.bmc.ca_file, self.bmc_ca_file.map(Some));
        set(
            &mut c.rediscover_interval,
            self.rediscover_interval.map(Some),
        );
        set(&mut c.api_listen, self.api_listen.map(Some));
        set(&mut c.boot.listen, self.boot_listen.map(Some));
        set(
            &mut c.boot.dhcp_interface,
            self.dhcp_interface.clone().map(Some),
        );
        set(&mut c.boot.tftp_listen, self.tftp_listen.map(Some));
        set(&mut c.boot.ipxe_dir, self.ipxe_dir.clone());
        c.validate()?;
        if c.bmc.password_file.is_some() && c.bmc.username.is_none() {
            return Err(ArgsError::Inconsistent(
                "a BMC password file needs a BMC user name (--bmc-username)".into(),
            ));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: AgentArgs,
    }

    fn parse(args: &[&str]) -> Result<AgentConfig, String> {
        let cli = Cli::try_parse_from(std::iter::once("cairn-agent").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        cli.args.into_config().map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn flags_make_a_config_without_a_file() {
        let c = parse(&[
            "--agent-id",
            "rack-1",
            "--scope",
            "x1000,1001",
            "--scope",
            "X1002",
            "--coordinator",
            "http://127.0.0.1:27779",
            "--coordinator",
            "http://127.0.0.2:27779",
            "--data-dir",
            "/tmp/agent",
            "--bmc",
            "https://10.1.0.200",
            "--bmc-subnet",
            "10.1.0.0/24",
            "--bmc-port",
            "443",
            "--bmc-port",
            "8443",
            "--bmc-username",
            "root",
            "--rediscover-interval",
            "90s",
            "--api-listen",
            "127.0.0.1:0",
            "--boot-listen",
            "10.91.0.1:8080",
            "--dhcp-interface",
            "rack0",
            "--tftp-listen",
            "10.91.0.1:69",
            "--ipxe-dir",
            "/srv/ipxe",
        ])
        .unwrap();
        assert_eq!(c.boot.listen, Some("10.91.0.1:8080".parse().unwrap()));
        assert_eq!(c.boot.dhcp_interface.as_deref(), Some("rack0"));
        assert_eq!(c.boot.tftp_listen, Some("10.91.0.1:69".parse().unwrap()));
        assert_eq!(c.boot.ipxe_dir, PathBuf::from("/srv/ipxe"));
        assert_eq!(c.agent_id.as_deref(), Some("rack-1"));
        assert_eq!(c.scope, [1000, 1001, 1002]);
        assert_eq!(c.coordinators.len(), 2);
        assert_eq!(c.bmc.ports, [443, 8443]);
        assert_eq!(c.bmc.urls, ["https://10.1.0.200"]);
        assert_eq!(c.rediscover_interval, Some(Duration::from_secs(90)));
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agent.toml");
        std::fs::write(
            &file,
            "agent_id = \"from-file\"\nscope = [7]\ncoordinators = [\"http://a:1\"]\n[bmc]\nports = [8000]\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let c = parse(&["--config", path, "--agent-id", "from-flag"]).unwrap();
        assert_eq!(c.agent_id.as_deref(), Some("from-flag"));
        assert_eq!(c.scope, [7]);
        assert_eq!(c.bmc.ports, [8000]);
        let c = parse(&["--config", path, "--bmc-port", "443"]).unwrap();
        assert_eq!(c.bmc.ports, [443]);
    }

    #[test]
    fn bad_flags_say_what_is_wrong() {
        let err = parse(&["--scope", "x1000c0"]).unwrap_err();
        assert!(err.contains("not a cabinet"), "{err}");
        let err = parse(&["--rediscover-interval", "often"]).unwrap_err();
        assert!(err.contains("often"), "{err}");
        let err = parse(&["--coordinator", "https://a:1"]).unwrap_err();
        assert!(err.contains("coordinators[0]"), "{err}");
        let err = parse(&["--bmc-password-file", "/x"]).unwrap_err();
        assert!(err.contains("--bmc-username"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "agentid = \"x\"\n").unwrap();
        let err = parse(&["--config", file.to_str().unwrap()]).unwrap_err();
        assert!(err.contains("agentid") && err.contains("bad.toml"), "{err}");
    }
}
