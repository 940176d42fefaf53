//! Where a BMC's Redfish service listens: scheme, host and port.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use reqwest::Url;
use serde::{Deserialize, Serialize};

/// HTTP or HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// TLS (port 443 by default).
    Https,
    /// Plain HTTP (port 80 by default), as emulators and some lab BMCs serve.
    Http,
}

impl Scheme {
    /// `https` or `http`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }

    /// The port used when a URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Https => 443,
            Scheme::Http => 80,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A BMC address could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid BMC address {input:?}: {reason}")]
pub struct AddressError {
    /// The input.
    pub input: String,
    /// Why it was refused.
    pub reason: String,
}

/// A Redfish service's location. The host is an IP address or a DNS name (IPv6 without
/// brackets).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BmcAddress {
    /// How to talk to it.
    pub scheme: Scheme,
    /// IP address or DNS name.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl BmcAddress {
    /// An address from its parts.
    pub fn new(scheme: Scheme, host: impl Into<String>, port: u16) -> BmcAddress {
        BmcAddress {
            scheme,
            host: host.into(),
            port,
        }
    }

    /// Parses `scheme://host[:port][/...]` or `host[:port]` (then `default_scheme`). A path
    /// after the authority is ignored: the service root is always `/redfish/v1`.
    pub fn parse(input: &str, default_scheme: Scheme) -> Result<BmcAddress, AddressError> {
        let fail = |reason: &str| AddressError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(fail("empty"));
        }
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("{default_scheme}://{trimmed}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| fail(&e.to_string()))?;
        let scheme = match url.scheme() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            other => return Err(fail(&format!("scheme {other:?} (expected https or http)"))),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(fail(
                "credentials do not belong in the URL (use the username and password file)",
            ));
        }
        // `host_str` brackets IPv6 addresses; the host is kept bare.
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']'),
            _ => return Err(fail("no host")),
        };
        let host = host.to_owned();
        let port = url.port().unwrap_or(scheme.default_port());
        Ok(BmcAddress { scheme, host, port })
    }

    /// The host as an IP address, when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// `scheme://host:port/` (IPv6 bracketed).
    pub fn base_url(&self) -> Result<Url, AddressError> {
        Url::parse(&format!("{}://{}/", self.scheme, self.authority())).map_err(|e| AddressError {
            input: self.to_string(),
            reason: e.to_string(),
        })
    }

    /// What SMD's `FQDN` holds: the host, with `:port` when it is not the scheme's default
    /// (`RedfishURL` is `FQDN` + path, so the port must be part of it).
    pub fn fqdn(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host_text()
        } else {
            self.authority()
        }
    }

    /// `host:port` (IPv6 bracketed).
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host_text(), self.port)
    }

    fn host_text(&self) -> String {
        match self.ip() {
            Some(IpAddr::V6(ip)) => format!("[{ip}]"),
            _ => self.host.clone(),
        }
    }
}

impl fmt::Display for BmcAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority())
    }
}

impl FromStr for BmcAddress {
    type Err = AddressError;

    /// As [`BmcAddress::parse`] with HTTPS as the default scheme.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BmcAddress::parse(s, Scheme::Https)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let a = BmcAddress::parse("10.1.0.5", Scheme::Https).unwrap();
        assert_eq!(a, BmcAddress::new(Scheme::Https, "10.1.0.5", 443));
        assert_eq!(a.fqdn(), "10.1.0.5");
        let a = BmcAddress::parse("http://127.0.0.5:8000/redfish/v1", Scheme::Https).unwrap();
        assert_eq!(a, BmcAddress::new(Scheme::Http, "127.0.0.5", 8000));
        assert_eq!(a.fqdn(), "127.0.0.5:8000");
        assert_eq!(a.base_url().unwrap().as_str(), "http://127.0.0.5:8000/");
        let a = BmcAddress::parse("[fd00::5]:8443", Scheme::Https).unwrap();
        assert_eq!(a.host, "fd00::5");
        assert_eq!(a.fqdn(), "[fd00::5]:8443");
        assert_eq!(a.to_string(), "https://[fd00::5]:8443");
        let a: BmcAddress = "X1000C0S5B0.bmc.example".parse().unwrap();
        assert_eq!(a.host, "x1000c0s5b0.bmc.example");
    }

    #[test]
    fn refuses_what_is_not_a_bmc_address() {
        for bad in ["", "ftp://10.0.0.1", "https://root:pw@10.0.0.1", "http://"] {
            let err = BmcAddress::parse(bad, Scheme::Https).unwrap_err();
            assert_eq!(err.input, bad);
        }
    }
}
