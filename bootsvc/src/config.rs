//! [`BootConfig`]: what the host service (coordinator or agent) tells boot serving about
//! itself: the URLs nodes reach it at, the retry policy, the proxies it trusts.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use cairn_protocols::FieldError;
use cairn_protocols::cloudinit::validate_base_url;

fn default_retry_delay() -> u32 {
    30
}

fn default_max_retries() -> u32 {
    10
}

/// Boot serving settings, e.g. as a `[boot]` table of the host's TOML config.
///
/// ```
/// let c: cairn_bootsvc::BootConfig = toml::from_str(r#"
///     chain_base_url = "http://10.0.0.1:27779"
///     cloud_init_base_url = "http://10.0.0.1:27779/cloud-init"
///     trusted_proxies = ["10.0.0.2/32"]
/// "#)?;
/// c.validate()?;
/// assert_eq!(c.retry_delay_secs, 30);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootConfig {
    /// Base URL iPXE chains back to: scripts end with
    /// `chain <chain_base_url>/boot/v1/bootscript?mac=...&retry=N` (BSS's
    /// `BSS_CHAIN_PROTO://BSS_IPXE_SERVER BSS_GW_URI`). `http` or `https`, no trailing `/`
    /// needed.
    pub chain_base_url: String,
    /// Base URL of the node-facing cloud-init routes as nodes reach them: the kernel gets
    /// `ds=nocloud-net;s=<cloud_init_base_url>/` and vendor-data includes
    /// `<base>/<group>.yaml` (unless cluster defaults or instance info set another base).
    pub cloud_init_base_url: String,
    /// Seconds a failed boot waits before chaining back (`sleep` in the script).
    #[serde(default = "default_retry_delay")]
    pub retry_delay_secs: u32,
    /// Chained retries before a script gives up with `exit 1`, handing the node back to its
    /// firmware's boot order instead of looping forever.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Peers whose `X-Forwarded-For` header is believed when identifying a node by address
    /// (reverse proxies in front of the service). Everyone else is identified by the TCP peer
    /// address.
    #[serde(default)]
    pub trusted_proxies: Vec<IpNet>,
    /// Rendered answers kept (about four per node: script, meta-data, user-data,
    /// vendor-data); reaching it drops them all. Size it for the nodes this service boots.
    #[serde(default = "default_answer_cache_entries")]
    pub answer_cache_entries: usize,
}

fn default_answer_cache_entries() -> usize {
    crate::cache::ANSWER_CACHE_CAPACITY
}

impl BootConfig {
    /// A config with these URLs and the defaults (30 s retry delay, 10 retries, no proxies).
    pub fn new(chain_base_url: impl Into<String>, cloud_init_base_url: impl Into<String>) -> Self {
        BootConfig {
            chain_base_url: chain_base_url.into(),
            cloud_init_base_url: cloud_init_base_url.into(),
            retry_delay_secs: default_retry_delay(),
            max_retries: default_max_retries(),
            trusted_proxies: Vec::new(),
            answer_cache_entries: default_answer_cache_entries(),
        }
    }

    /// Checks the URLs (they are written into scripts) and the numbers.
    pub fn validate(&self) -> Result<(), FieldError> {
        validate_base_url("chain_base_url", &self.chain_base_url)?;
        validate_base_url("cloud_init_base_url", &self.cloud_init_base_url)?;
        for (field, url) in [
            ("chain_base_url", &self.chain_base_url),
            ("cloud_init_base_url", &self.cloud_init_base_url),
        ] {
            if url.contains(['?', '#']) {
                return Err(FieldError::invalid(
                    field,
                    "a base URL must not carry a query string or fragment",
                ));
            }
        }
        if self.cloud_init_base_url.contains(';') {
            return Err(FieldError::invalid(
                "cloud_init_base_url",
                "must not contain ';': cloud-init splits the ds= kernel parameter at ';'",
            ));
        }
        if self.retry_delay_secs > 3600 {
            return Err(FieldError::invalid(
                "retry_delay_secs",
                format!("{} is more than an hour", self.retry_delay_secs),
            ));
        }
        Ok(())
    }

    /// Whether `X-Forwarded-For` from this peer is believed.
    pub fn is_trusted_proxy(&self, peer: std::net::IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unknown_keys_and_bad_urls() {
        let e = toml::from_str::<BootConfig>(
            "chain_base_url='http://h'\ncloud_init_base_url='http://h/ci'\nretries=3",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `retries`"), "{e}");
        let mut c = BootConfig::new("http://h:1", "http://h:1/cloud-init");
        c.validate().unwrap();
        c.chain_base_url = "http://h/${x}".into();
        assert_eq!(c.validate().unwrap_err().field, "chain_base_url");
        c.chain_base_url = "http://h/?a=1".into();
        assert!(c.validate().is_err());
    }
}
