//! Replica configuration: one TOML file, or flags so a script can start a replica without files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for [`Config`].
    #[error("invalid config file {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What TOML said, with the line.
        #[source]
        source: toml::de::Error,
    },
    /// A value is missing or inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Everything a coordinator replica needs to start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This replica's Raft id, unique in the cluster and stable across restarts.
    pub node_id: u64,
    /// Where the Raft log, snapshots and `endpoints.json` live.
    pub data_dir: PathBuf,
    /// REST API listen address (port 0 picks a free port).
    #[serde(default = "default_api_listen")]
    pub api_listen: SocketAddr,
    /// Raft gRPC listen address (port 0 picks a free port).
    #[serde(default = "default_raft_listen")]
    pub raft_listen: SocketAddr,
    /// Address other replicas and clients use for the API, when it differs from the bound one.
    #[serde(default)]
    pub api_advertise: Option<String>,
    /// Address other replicas use for Raft, when it differs from the bound one.
    #[serde(default)]
    pub raft_advertise: Option<String>,
    /// Form a new single-member cluster with this replica if its log is empty.
    #[serde(default)]
    pub bootstrap: bool,
    /// Ask this running member (API URL) to add this replica, unless it is already a member.
    #[serde(default)]
    pub join: Option<String>,
    /// Raft timings and log compaction.
    #[serde(default)]
    pub raft: RaftTuning,
    /// How long a write or linearizable read may wait for a quorum before answering 503.
    #[serde(default = "default_quorum_timeout", with = "millis")]
    pub quorum_timeout: Duration,
    /// Boot serving (`/boot/v1/bootscript`, node-facing `/cloud-init`).
    #[serde(default)]
    pub boot: BootSettings,
}

/// The `[boot]` table: where nodes reach this replica, how failed boots retry, which reverse
/// proxies are believed about a client's address. URLs default to this replica's advertised
/// API address, which is right when nodes reach it directly.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootSettings {
    /// Base URL iPXE chains back to (default `http://<api_advertise>`); scripts chain to
    /// `<url>/boot/v1/bootscript?...`.
    #[serde(default)]
    pub chain_base_url: Option<String>,
    /// Base URL of the node-facing cloud-init routes (default `<chain_base_url>/cloud-init`),
    /// written into `ds=nocloud-net;s=` and vendor-data `#include` lines.
    #[serde(default)]
    pub cloud_init_base_url: Option<String>,
    /// Seconds a failed boot sleeps before chaining back (default 30).
    #[serde(default)]
    pub retry_delay_secs: Option<u32>,
    /// Chained retries before a script gives up with `exit 1` (default 10).
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Addresses or networks of reverse proxies whose `X-Forwarded-For` is believed when a
    /// cloud-init client is identified by address; anyone else is its TCP peer address.
    #[serde(default, deserialize_with = "proxies")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// A trusted proxy: an address (`10.0.0.2`) or a network (`10.0.0.0/24`).
pub fn parse_proxy(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            format!("{s:?} is not an IP address or network such as 10.0.0.2 or 10.0.0.0/24")
        })
}

fn proxies<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| parse_proxy(s).map_err(serde::de::Error::custom))
        .collect()
}

impl BootSettings {
    /// The boot serving config for a replica whose API is advertised at `api_addr`
    /// (`host:port`).
    pub fn resolve(&self, api_addr: &str) -> cairn_bootsvc::BootConfig {
        let chain = self
            .chain_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{api_addr}"));
        let cloud_init = self
            .cloud_init_base_url
            .clone()
            .unwrap_or_else(|| format!("{}/cloud-init", chain.trim_end_matches('/')));
        let mut c = cairn_bootsvc::BootConfig::new(chain, cloud_init);
        if let Some(d) = self.retry_delay_secs {
            c.retry_delay_secs = d;
        }
        if let Some(n) = self.max_retries {
            c.max_retries = n;
        }
        c.trusted_proxies = self.trusted_proxies.clone();
        c
    }

    /// Checks the given values, as they will be used (with a stand-in for the address that is
    /// only known once the API listener is bound).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.resolve("127.0.0.1:27779")
            .validate()
            .map_err(|e| ConfigError::Invalid(format!("boot.{e}")))
    }
}

/// Raft timings and compaction thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaftTuning {
    /// Leader heartbeat period, milliseconds.
    pub heartbeat_ms: u64,
    /// Lower bound of the election timeout, milliseconds.
    pub election_timeout_min_ms: u64,
    /// Upper bound of the election timeout, milliseconds.
    pub election_timeout_max_ms: u64,
    /// Build a snapshot after this many applied entries.
    pub snapshot_logs_since_last: u64,
    /// Log entries kept behind the snapshot, so slightly lagging followers avoid a snapshot.
    pub max_logs_kept_after_snapshot: u64,
}

impl Default for RaftTuning {
    fn default() -> Self {
        Self {
            // A follower that heard from a leader campaigns after openraft's leader lease (the
            // maximum election timeout) plus a random election timeout: 650-800 ms of silence,
            // six or more missed heartbeats, so failover stays under a second without spurious
            // elections. The heartbeat interval is also openraft's per-AppendEntries timeout,
            // so it must not be much shorter.
            heartbeat_ms: 100,
            election_timeout_min_ms: 250,
            election_timeout_max_ms: 400,
            snapshot_logs_since_last: 5_000,
            max_logs_kept_after_snapshot: 1_000,
        }
    }
}

fn default_api_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 27779))
}

fn default_raft_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 27780))
}

fn default_quorum_timeout() -> Duration {
    Duration::from_secs(3)
}

mod millis {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

impl Config {
    /// A configuration with defaults for everything but the identity and the data directory.
    pub fn new(node_id: u64, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            node_id,
            data_dir: data_dir.into(),
            api_listen: default_api_listen(),
            raft_listen: default_raft_listen(),
            api_advertise: None,
            raft_advertise: None,
            bootstrap: false,
            join: None,
            raft: RaftTuning::default(),
            quorum_timeout: default_quorum_timeout(),
            boot: BootSettings::default(),
        }
    }

    /// Load and validate a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reject combinations that cannot work, before anything is started.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.node_id == 0 {
            return Err(ConfigError::Invalid("node_id must be at least 1".into()));
        }
        let r = &self.raft;
        if r.election_timeout_min_ms <= r.heartbeat_ms * 2 {
            return Err(ConfigError::Invalid(format!(
                "raft.election_timeout_min_ms ({}) must exceed twice raft.heartbeat_ms ({})",
                r.election_timeout_min_ms, r.heartbeat_ms
            )));
        }
        if r.election_timeout_max_ms <= r.election_timeout_min_ms {
            return Err(ConfigError::Invalid(
                "raft.election_timeout_max_ms must exceed raft.election_timeout_min_ms".into(),
            ));
        }
        if self.bootstrap && self.join.is_some() {
            return Err(ConfigError::Invalid(
                "--bootstrap forms a new cluster and --join enters an existing one: give one"
                    .into(),
            ));
        }
        if let Some(url) = &self.join
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid(format!(
                "--join {url:?}: expected a member's API URL such as http://10.0.0.1:27779"
            )));
        }
        self.boot.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).expect("write");
        Config::from_file(&path)
    }

    #[test]
    fn a_full_file_loads() {
        let c = parse(
            "node_id = 2\ndata_dir = \"/d\"\napi_listen = \"127.0.0.1:1\"\njoin = \"http://h:1\"\n\
             quorum_timeout = 1500\n[raft]\nheartbeat_ms = 50\nelection_timeout_min_ms = 200\n\
             election_timeout_max_ms = 400\n",
        )
        .expect("valid");
        assert_eq!(c.node_id, 2);
        assert_eq!(c.quorum_timeout, Duration::from_millis(1500));
        assert_eq!(c.raft.heartbeat_ms, 50);
        assert_eq!(
            c.raft.snapshot_logs_since_last, 5_000,
            "unset keys keep defaults"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_naming_them() {
        let e = parse("node_id = 1\ndata_dir = \"/d\"\nheartbeat_ms = 5\n").expect_err("unknown");
        assert!(format!("{:?}", e).contains("heartbeat_ms"), "{e:?}");
        let e = parse("node_id = \"one\"\ndata_dir = \"/d\"\n").expect_err("type");
        assert!(format!("{:?}", e).contains("node_id"), "{e:?}");
        let e =
            parse("node_id = 1\ndata_dir = \"/d\"\napi_listen = \"nowhere\"\n").expect_err("addr");
        assert!(format!("{:?}", e).contains("api_listen"), "{e:?}");
    }

    #[test]
    fn boot_settings_default_to_the_advertised_address() {
        let c = parse(
            "node_id = 1\ndata_dir = \"/d\"\n[boot]\nretry_delay_secs = 5\n\
             trusted_proxies = [\"10.0.0.2\", \"fd00::/64\"]\n",
        )
        .expect("valid");
        let b = c.boot.resolve("10.1.0.1:27779");
        assert_eq!(b.chain_base_url, "http://10.1.0.1:27779");
        assert_eq!(b.cloud_init_base_url, "http://10.1.0.1:27779/cloud-init");
        assert_eq!((b.retry_delay_secs, b.trusted_proxies.len()), (5, 2));
        let e = parse("node_id = 1\ndata_dir = \"/d\"\n[boot]\nchain_base_url = \"ftp://h\"\n")
            .expect_err("scheme");
        assert!(format!("{e}").contains("boot.chain_base_url"), "{e}");
        let e = parse("node_id = 1\ndata_dir = \"/d\"\n[boot]\nproxies = []\n").expect_err("key");
        assert!(format!("{e:?}").contains("proxies"), "{e:?}");
    }

    #[test]
    fn contradictions_are_refused() {
        let mut c = Config::new(1, "/d");
        c.bootstrap = true;
        c.join = Some("http://h:1".into());
        assert!(c.validate().is_err());
        let mut c = Config::new(0, "/d");
        assert!(c.validate().is_err(), "node id 0");
        c.node_id = 1;
        c.join = Some("h:1".into());
        assert!(matches!(c.validate(), Err(ConfigError::Invalid(m)) if m.contains("http://")));
        let mut c = Config::new(1, "/d");
        c.raft.election_timeout_min_ms = c.raft.heartbeat_ms;
        assert!(c.validate().is_err(), "elections faster than heartbeats");
    }
}
