//! The configuration the agent's runtime needs beyond discovery: identity, coordinators, state
//! directory, re-discovery and the `[power]` table.
//!
//! ```toml
//! agent_id = "rack-x1000"
//! coordinators = ["http://coord1:27779", "http://coord2:27779", "http://coord3:27779"]
//! data_dir = "/var/lib/cairn-agent"
//! rediscover_interval = "10m"
//! api_listen = "0.0.0.0:27790"
//!
//! [power]
//! tasks_per_bmc = 4
//! requests_per_rack = 256
//! confirm_poll_ms = 1000
//! status_interval_ms = 15000
//! ```

use std::time::Duration;

use cairn_protocols::agent::validate_agent_id;
use serde::Deserialize;

use super::{AgentConfig, ConfigError, invalid};

/// Re-discovery interval when none is configured.
pub const DEFAULT_REDISCOVER_INTERVAL: Duration = Duration::from_secs(600);

/// `[power]`: how power tasks run and how often power states are polled.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowerConfig {
    /// Power tasks running at once on one BMC.
    pub tasks_per_bmc: usize,
    /// Redfish requests of power tasks in flight at once in one cabinet: what bounds the load
    /// on the rack's management network and BMCs. A task waiting for a reset to show holds
    /// none, so thousands of tasks can wait out their BMCs' delays together.
    pub requests_per_rack: usize,
    /// How often a task reads PowerState while it waits for a reset to show, milliseconds.
    pub confirm_poll_ms: u64,
    /// How often every known node's PowerState is polled, milliseconds (0: never).
    pub status_interval_ms: u64,
    /// BMCs polled at once for power status.
    pub status_concurrency: usize,
}

impl Default for PowerConfig {
    fn default() -> Self {
        PowerConfig {
            tasks_per_bmc: 4,
            requests_per_rack: 256,
            confirm_poll_ms: 1000,
            status_interval_ms: 15_000,
            status_concurrency: 64,
        }
    }
}

impl PowerConfig {
    /// Interval between PowerState reads of a task waiting for confirmation.
    pub fn confirm_poll(&self) -> Duration {
        Duration::from_millis(self.confirm_poll_ms)
    }

    /// Interval of the power-status poll; `None` when disabled.
    pub fn status_interval(&self) -> Option<Duration> {
        (self.status_interval_ms > 0).then(|| Duration::from_millis(self.status_interval_ms))
    }
}

/// Checks the runtime keys' formats (whether they are present is checked when the agent
/// starts: a discovery-only configuration needs none of them).
pub(super) fn validate(config: &AgentConfig) -> Result<(), ConfigError> {
    if let Some(id) = &config.agent_id {
        validate_agent_id(id).map_err(|e| invalid("agent_id", e.to_string()))?;
    }
    for (i, url) in config.coordinators.iter().enumerate() {
        check_coordinator_url(url).map_err(|m| invalid(format!("coordinators[{i}]"), m))?;
    }
    let p = &config.power;
    let positive = [
        ("power.tasks_per_bmc", p.tasks_per_bmc),
        ("power.requests_per_rack", p.requests_per_rack),
        ("power.status_concurrency", p.status_concurrency),
        (
            "power.confirm_poll_ms",
            usize::try_from(p.confirm_poll_ms).unwrap_or(usize::MAX),
        ),
    ];
    if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
        return Err(invalid(*key, "must be at least 1"));
    }
    Ok(())
}

/// A coordinator URL is `http://host:port` (a replica's API URL). TLS to the coordinators
/// arrives with the security work; until then `https` is refused rather than half-working.
pub fn check_coordinator_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match parsed.scheme() {
        "http" => {}
        "https" => return Err(format!("{url:?}: TLS to coordinators is not supported yet")),
        other => return Err(format!("{url:?}: scheme {other:?} (expected http)")),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} has no host"));
    }
    if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
        return Err(format!("{url:?}: a replica's API URL has no path"));
    }
    Ok(())
}

/// Serde for `Option<Duration>` written as humantime (`"90s"`, `"10m"`, `"1h 30m"`).
pub(crate) mod human_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("{text:?}: {e} (e.g. \"90s\", \"10m\")")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_keys_parse() {
        let c = AgentConfig::from_toml(
            r#"
            agent_id = "rack-x1000"
            coordinators = ["http://127.0.0.1:27779", "http://coord2:27779/"]
            data_dir = "/var/lib/cairn-agent"
            rediscover_interval = "1h 30m"
            api_listen = "127.0.0.1:0"
            scope = [1000]
            [power]
            tasks_per_bmc = 2
            "#,
        )
        .unwrap();
        assert_eq!(c.agent_id.as_deref(), Some("rack-x1000"));
        assert_eq!(c.coordinators.len(), 2);
        assert_eq!(c.rediscover_interval, Some(Duration::from_secs(5400)));
        assert_eq!(c.power.tasks_per_bmc, 2);
        assert_eq!(
            c.power.requests_per_rack,
            PowerConfig::default().requests_per_rack
        );
    }

    #[test]
    fn bad_runtime_keys_name_their_key() {
        let key = |text: &str| match AgentConfig::from_toml(text).unwrap_err() {
            ConfigError::Invalid { key, .. } => key,
            other => panic!("{other:?}"),
        };
        assert_eq!(key("agent_id = \"a b\""), "agent_id");
        assert_eq!(
            key("coordinators = [\"http://a:1\", \"https://b:2\"]"),
            "coordinators[1]"
        );
        assert_eq!(
            key("coordinators = [\"http://a:1/hsm\"]"),
            "coordinators[0]"
        );
        assert_eq!(
            key("[power]\nrequests_per_rack = 0"),
            "power.requests_per_rack"
        );
        let err = AgentConfig::from_toml("rediscover_interval = \"soon\"").unwrap_err();
        assert!(format!("{err:?}").contains("soon"), "{err:?}");
        let err = AgentConfig::from_toml("[power]\nretries = 3").unwrap_err();
        assert!(format!("{err:?}").contains("retries"), "{err:?}");
    }
}
