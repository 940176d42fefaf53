//! The agent's configuration file (TOML, unknown keys refused).
//!
//! This module holds the parts discovery needs: the agent's scope and the `[bmc]` defaults
//! (where to look for BMCs, how to log in, how long to wait). Command-line flags
//! (`--scope`, `--bmc`, `--bmc-subnet`, `--bmc-port`, `--bmc-username`, `--bmc-password-file`,
//! `--bmc-ca-file`) override the same fields. The running agent's own keys (`agent_id`,
//! `coordinators`, `data_dir`, `rediscover_interval`, `api_listen`, `[power]`, see
//! [`PowerConfig`] and `config/runtime.rs`; `[boot]`, see [`BootServeConfig`]) are overridden
//! by the flags of [`crate::args`].
//!
//! ```toml
//! scope = [1000, 1001]                  # cabinets this agent is responsible for
//!
//! [bmc]
//! urls = ["https://10.1.0.200"]         # BMCs to crawl without scanning
//! subnets = ["10.1.0.0/24", "10.1.1.0/24"]
//! ports = [443]
//! schemes = ["https", "http"]           # probe order
//! username = "root"
//! password_file = "/etc/cairn/bmc-password"
//! ca_file = "/etc/cairn/bmc-ca.pem"     # PEM: CA certificates, or the BMCs' own certificates
//! connect_timeout_ms = 2000
//! request_timeout_ms = 10000
//! bmc_timeout_ms = 60000
//! idle_timeout_ms = 60000               # keep-alive of idle BMC connections (0: none)
//!
//! [bmc.xnames]                          # addresses whose names are not derived
//! "10.1.0.5" = "x1000c0s5b0"
//! "10.1.0.9:8443" = "x1000c0s9b1"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_protocols::Xname;
use ipnet::IpNet;
use serde::Deserialize;

use crate::redfish::{Credentials, Scheme};

mod boot;
mod runtime;

pub use boot::{BootServeConfig, DEFAULT_IPXE_DIR};
pub use runtime::{DEFAULT_REDISCOVER_INTERVAL, PowerConfig};

/// Most addresses × ports one scan may cover; a typo like `/8` should not start a sweep of
/// 16 million addresses.
pub const MAX_SCAN_ADDRESSES: u128 = 1 << 20;

/// The configuration file's discovery-related parts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Cabinets (the `x<N>` of xnames) this agent is responsible for, in the order derived
    /// names use them (see [`crate::discovery::naming`]).
    #[serde(default)]
    pub scope: Vec<u32>,
    /// BMC defaults.
    #[serde(default)]
    pub bmc: BmcConfig,
    /// This agent's stable id (`--agent-id`), e.g. `rack-x1000`.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// API URLs of the coordinator replicas (`--coordinator`); any one will do.
    #[serde(default)]
    pub coordinators: Vec<String>,
    /// Where the agent keeps its state: outbox, report sequence, power tasks (`--data-dir`).
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// How often the whole scope is discovered again, e.g. `"10m"`; `"0s"` only at start and
    /// on request (`--rediscover-interval`). Default 10 minutes.
    #[serde(default, with = "runtime::human_duration")]
    pub rediscover_interval: Option<Duration>,
    /// Where the agent's own HTTP API (health, status) listens (`--api-listen`).
    #[serde(default)]
    pub api_listen: Option<std::net::SocketAddr>,
    /// `[power]`: power task execution and power-state polling.
    #[serde(default)]
    pub power: PowerConfig,
    /// `[boot]`: the rack's boot services (DHCP, TFTP, HTTP).
    #[serde(default)]
    pub boot: BootServeConfig,
}

/// `[bmc]`: how BMCs are found, reached and named, unless a RedfishEndpoint says otherwise.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BmcConfig {
    /// BMCs to crawl without scanning: `https://host[:port]`, `http://host[:port]`, or
    /// `host[:port]` (probed with [`Self::schemes`]).
    pub urls: Vec<String>,
    /// Subnets to scan (CIDR, network address only, e.g. `10.1.0.0/24`).
    pub subnets: Vec<IpNet>,
    /// TCP ports to scan on every address (default 443).
    pub ports: Vec<u16>,
    /// Schemes tried, in order, when probing an open port (default https, then http).
    pub schemes: Vec<Scheme>,
    /// Default Redfish user name.
    pub username: Option<String>,
    /// File holding the default Redfish password (one line; a trailing newline is ignored).
    pub password_file: Option<PathBuf>,
    /// PEM file of trusted certificates for HTTPS: CA certificates, or the BMCs' self-signed
    /// certificates themselves. Without it the system's roots are used.
    pub ca_file: Option<PathBuf>,
    /// Address (`IP` or `IP:port`) → BMC xname. Wins over derived names.
    pub xnames: BTreeMap<String, Xname>,
    /// TCP connect timeout, milliseconds (scan and crawl).
    pub connect_timeout_ms: u64,
    /// Timeout of one HTTP request including its body, milliseconds.
    pub request_timeout_ms: u64,
    /// Timeout of one BMC's whole crawl, milliseconds.
    pub bmc_timeout_ms: u64,
    /// How long an idle connection to a BMC is kept for the next request, milliseconds (0:
    /// none is kept). Longer than `[power] status_interval_ms`, the status poll keeps every
    /// BMC's connection open, so a transition of thousands of nodes opens no new TLS session.
    pub idle_timeout_ms: u64,
    /// Addresses probed at once while scanning.
    pub scan_concurrency: usize,
    /// BMCs crawled at once.
    pub bmc_concurrency: usize,
    /// Requests in flight to one BMC at once (BMCs are small computers).
    pub requests_per_bmc: usize,
    /// Largest accepted response body, bytes.
    pub max_response_bytes: usize,
    /// Most members accepted in one Redfish collection.
    pub max_collection_members: usize,
}

impl Default for BmcConfig {
    fn default() -> Self {
        BmcConfig {
            urls: Vec::new(),
            subnets: Vec::new(),
            ports: vec![443],
            schemes: vec![Scheme::Https, Scheme::Http],
            username: None,
            password_file: None,
            ca_file: None,
            xnames: BTreeMap::new(),
            connect_timeout_ms: 2_000,
            request_timeout_ms: 10_000,
            bmc_timeout_ms: 60_000,
            idle_timeout_ms: 60_000,
            scan_concurrency: 256,
            bmc_concurrency: 64,
            requests_per_bmc: 4,
            max_response_bytes: 4 << 20,
            max_collection_members: 1024,
        }
    }
}

/// The configuration is unusable. Display names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is out of range or inconsistent.
    #[error("{key}: {message}")]
    Invalid {
        /// The key, e.g. `bmc.subnets[1]`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A file named by the configuration could not be read.
    #[error("{key}: cannot read {path}")]
    Read {
        /// The key naming the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TOML text does not parse or has unknown keys.
    #[error("invalid configuration")]
    Parse(#[source] toml::de::Error),
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

impl AgentConfig {
    /// Parses and validates a configuration file's text.
    pub fn from_toml(text: &str) -> Result<AgentConfig, ConfigError> {
        let config: AgentConfig = toml::from_str(text).map_err(ConfigError::Parse)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges and consistency; the first problem is returned, naming its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (i, cabinet) in self.scope.iter().enumerate() {
            if Xname::parse(&format!("x{cabinet}")).is_err() {
                return Err(invalid(
                    format!("scope[{i}]"),
                    format!("cabinet {cabinet} is out of range 0..=999999"),
                ));
            }
        }
        runtime::validate(self)?;
        self.bmc.validate()
    }
}

impl BmcConfig {
    /// Checks ranges and consistency; the first problem is returned, naming its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (i, net) in self.subnets.iter().enumerate() {
            if net.trunc() != *net {
                return Err(invalid(
                    format!("bmc.subnets[{i}]"),
                    format!("{net} has host bits set (the network is {})", net.trunc()),
                ));
            }
        }
        if self.ports.is_empty() {
            return Err(invalid("bmc.ports", "at least one port is needed"));
        }
        // Derived names number the BMCs of one address by port position (`b<i>`, i <= 255).
        if self.ports.len() > 256 {
            return Err(invalid("bmc.ports", "at most 256 ports"));
        }
        if let Some(i) = self.ports.iter().position(|p| *p == 0) {
            return Err(invalid(format!("bmc.ports[{i}]"), "port 0"));
        }
        if self.schemes.is_empty() {
            return Err(invalid("bmc.schemes", "at least one scheme is needed"));
        }
        let addresses: u128 = self.subnets.iter().map(subnet_size).sum();
        if addresses.saturating_mul(self.ports.len() as u128) > MAX_SCAN_ADDRESSES {
            return Err(invalid(
                "bmc.subnets",
                format!(
                    "{addresses} addresses × {} ports exceed the scan limit of \
                     {MAX_SCAN_ADDRESSES}",
                    self.ports.len()
                ),
            ));
        }
        for (key, xname) in &self.xnames {
            if !xname.is_bmc() {
                return Err(invalid(
                    format!("bmc.xnames.{key:?}"),
                    format!("{xname} is a {}, not a BMC", xname.hms_type()),
                ));
            }
        }
        let positive = [
            ("bmc.connect_timeout_ms", self.connect_timeout_ms as usize),
            ("bmc.request_timeout_ms", self.request_timeout_ms as usize),
            ("bmc.bmc_timeout_ms", self.bmc_timeout_ms as usize),
            ("bmc.scan_concurrency", self.scan_concurrency),
            ("bmc.bmc_concurrency", self.bmc_concurrency),
            ("bmc.requests_per_bmc", self.requests_per_bmc),
            ("bmc.max_response_bytes", self.max_response_bytes),
            ("bmc.max_collection_members", self.max_collection_members),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(invalid(*key, "must be at least 1"));
        }
        Ok(())
    }

    /// The default credentials: `username` with the password read from `password_file`.
    /// `None` when no user name is configured.
    pub fn credentials(&self) -> Result<Option<Credentials>, ConfigError> {
        let Some(username) = self.username.clone() else {
            return Ok(None);
        };
        let password = match &self.password_file {
            Some(path) => read_secret(path)?,
            None => String::new(),
        };
        Ok(Some(Credentials::new(username, password)))
    }

    /// The contents of `ca_file`, if configured.
    pub fn ca_pem(&self) -> Result<Option<Vec<u8>>, ConfigError> {
        let Some(path) = &self.ca_file else {
            return Ok(None);
        };
        std::fs::read(path)
            .map(Some)
            .map_err(|source| ConfigError::Read {
                key: "bmc.ca_file",
                path: path.clone(),
                source,
            })
    }

    /// TCP connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// Per-request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// How long idle BMC connections are kept.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    /// Per-BMC crawl timeout.
    pub fn bmc_timeout(&self) -> Duration {
        Duration::from_millis(self.bmc_timeout_ms)
    }
}

/// Number of addresses in a subnet (saturating for huge IPv6 prefixes).
pub(crate) fn subnet_size(net: &IpNet) -> u128 {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
}

/// Reads a one-line secret file; only the trailing line break is dropped.
fn read_secret(path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        key: "bmc.password_file",
        path: path.to_owned(),
        source,
    })?;
    let line = text.strip_suffix('\n').unwrap_or(&text);
    Ok(line.strip_suffix('\r').unwrap_or(line).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_example_parses() {
        let c = AgentConfig::from_toml(
            r#"
            scope = [1000, 1001]
            [bmc]
            urls = ["https://10.1.0.200"]
            subnets = ["10.1.0.0/24", "10.1.1.0/24"]
            ports = [443, 8443]
            schemes = ["https"]
            username = "root"
            connect_timeout_ms = 500
            [bmc.xnames]
            "10.1.0.5" = "X1000C0S5B0"
            "#,
        )
        .unwrap();
        assert_eq!(c.scope, [1000, 1001]);
        assert_eq!(c.bmc.ports, [443, 8443]);
        assert_eq!(c.bmc.schemes, [Scheme::Https]);
        assert_eq!(c.bmc.xnames["10.1.0.5"].as_str(), "x1000c0s5b0");
        assert_eq!(c.bmc.connect_timeout(), Duration::from_millis(500));
        assert_eq!(c.bmc.request_timeout_ms, 10_000);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = AgentConfig::from_toml("[bmc]\nusername = \"root\"\nsubnet = []\n").unwrap_err();
        let chain = format!("{:?}", err);
        assert!(chain.contains("subnet"), "{chain}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let key = |text: &str| match AgentConfig::from_toml(text).unwrap_err() {
            ConfigError::Invalid { key, .. } => key,
            other => panic!("{other:?}"),
        };
        assert_eq!(key("scope = [1000000]"), "scope[0]");
        assert_eq!(
            key("[bmc]\nsubnets = [\"10.0.0.0/24\", \"10.1.0.5/24\"]"),
            "bmc.subnets[1]"
        );
        assert_eq!(key("[bmc]\nsubnets = [\"10.0.0.0/8\"]"), "bmc.subnets");
        assert_eq!(key("[bmc]\nports = []"), "bmc.ports");
        assert_eq!(key("[bmc]\nports = [443, 0]"), "bmc.ports[1]");
        assert_eq!(key("[bmc]\nrequests_per_bmc = 0"), "bmc.requests_per_bmc");
        assert_eq!(
            key("[bmc.xnames]\n\"10.0.0.1\" = \"x1000c0s0b0n0\""),
            "bmc.xnames.\"10.0.0.1\""
        );
    }

    #[test]
    fn password_file_drops_only_the_line_break() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, " s3cret \n").unwrap();
        let bmc = BmcConfig {
            username: Some("root".into()),
            password_file: Some(path),
            ..BmcConfig::default()
        };
        let creds = bmc.credentials().unwrap().unwrap();
        assert_eq!(creds.password(), " s3cret ");
        assert!(!format!("{creds:?}").contains("s3cret"));

        let missing = BmcConfig {
            username: Some("root".into()),
            password_file: Some(dir.path().join("nope")),
            ..BmcConfig::default()
        };
        assert!(matches!(
            missing.credentials(),
            Err(ConfigError::Read {
                key: "bmc.password_file",
                ..
            })
        ));
    }
}
