//! Command-line flags for a replica, shared by `cairn-coordinator` and `cairn replica`.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::{Config, ConfigError};

/// Start one coordinator replica. Flags override the `--config` file.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplicaArgs {
    /// TOML configuration file (see README); flags below override its values.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// This replica's Raft id (>= 1, stable across restarts).
    #[arg(long, value_name = "N")]
    pub node_id: Option<u64>,
    /// Directory for the Raft log and snapshots; restarting with it rejoins with the stored state.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// REST API listen address (port 0 picks one; see DIR/endpoints.json).
    #[arg(long, value_name = "ADDR")]
    pub api_listen: Option<SocketAddr>,
    /// Raft gRPC listen address.
    #[arg(long, value_name = "ADDR")]
    pub raft_listen: Option<SocketAddr>,
    /// API address advertised to peers and clients (default: the bound address).
    #[arg(long, value_name = "HOST:PORT")]
    pub api_advertise: Option<String>,
    /// Raft address advertised to peers (default: the bound address).
    #[arg(long, value_name = "HOST:PORT")]
    pub raft_advertise: Option<String>,
    /// Form a new cluster with this replica as its first member.
    #[arg(long)]
    pub bootstrap: bool,
    /// Ask a running member (its API URL) to add this replica.
    #[arg(long, value_name = "URL")]
    pub join: Option<String>,
    /// Base URL iPXE chains back to (default: http://<API address>).
    #[arg(long, value_name = "URL")]
    pub boot_base_url: Option<String>,
    /// Base URL of node-facing cloud-init (default: <boot base URL>/cloud-init).
    #[arg(long, value_name = "URL")]
    pub cloud_init_base_url: Option<String>,
    /// A reverse proxy (address or network) whose X-Forwarded-For identifies cloud-init
    /// clients (repeatable; replaces the file's list).
    #[arg(long, value_name = "CIDR", value_parser = crate::config::parse_proxy)]
    pub trusted_proxy: Vec<ipnet::IpNet>,
}

impl ReplicaArgs {
    /// Merge the flags over the optional file into a validated [`Config`].
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => {
                let node_id = self.node_id.ok_or_else(|| {
                    ConfigError::Invalid("--node-id is required (or --config FILE)".into())
                })?;
                let data_dir = self.data_dir.clone().ok_or_else(|| {
                    ConfigError::Invalid("--data-dir is required (or --config FILE)".into())
                })?;
                Config::new(node_id, data_dir)
            }
        };
        if let Some(v) = self.node_id {
            config.node_id = v;
        }
        if let Some(v) = self.data_dir {
            config.data_dir = v;
        }
        if let Some(v) = self.api_listen {
            config.api_listen = v;
        }
        if let Some(v) = self.raft_listen {
            config.raft_listen = v;
        }
        if self.api_advertise.is_some() {
            config.api_advertise = self.api_advertise;
        }
        if self.raft_advertise.is_some() {
            config.raft_advertise = self.raft_advertise;
        }
        config.bootstrap |= self.bootstrap;
        if self.join.is_some() {
            config.join = self.join;
        }
        if self.boot_base_url.is_some() {
            config.boot.chain_base_url = self.boot_base_url;
        }
        if self.cloud_init_base_url.is_some() {
            config.boot.cloud_init_base_url = self.cloud_init_base_url;
        }
        if !self.trusted_proxy.is_empty() {
            config.boot.trusted_proxies = self.trusted_proxy;
        }
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: super::ReplicaArgs,
    }

    fn parse(args: &[&str]) -> Result<Cmd, clap::Error> {
        Cmd::try_parse_from(
            ["replica", "--node-id", "1", "--data-dir", "/d"]
                .iter()
                .chain(args),
        )
    }

    #[test]
    fn boot_flags_reach_the_config() {
        let c = parse(&[
            "--boot-base-url",
            "http://boot.example:8080",
            "--trusted-proxy",
            "10.0.0.2",
            "--trusted-proxy",
            "fd00::/64",
        ])
        .expect("parses")
        .args
        .into_config()
        .expect("valid");
        let b = c.boot.resolve("127.0.0.1:1");
        assert_eq!(b.chain_base_url, "http://boot.example:8080");
        assert_eq!(b.cloud_init_base_url, "http://boot.example:8080/cloud-init");
        assert_eq!(b.trusted_proxies.len(), 2);
        assert!(b.is_trusted_proxy("10.0.0.2".parse().expect("ip")));
        assert!(!b.is_trusted_proxy("10.0.0.3".parse().expect("ip")));
    }

    #[test]
    fn bad_boot_flags_are_refused_naming_them() {
        let e = parse(&["--trusted-proxy", "proxy.example"])
            .err()
            .expect("refused");
        assert!(e.to_string().contains("proxy.example"), "{e}");
        let e = parse(&["--boot-base-url", "http://h/\n#!ipxe"])
            .expect("parses")
            .args
            .into_config()
            .expect_err("refused");
        assert!(e.to_string().contains("boot.chain_base_url"), "{e}");
    }
}
