//! [`DhcpConfig`]: the `[dhcp]` settings of the agent, and their resolution against the
//! interface into the [`Resolved`] values the server runs with.

use std::net::{Ipv4Addr, SocketAddr};

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use cairn_protocols::FieldError;
use cairn_protocols::cloudinit::validate_base_url;

use super::addrs::{
    AddrRange, check_ranges, check_subnet, default_pool, default_range, interface_ipv4,
};
use super::error::DhcpError;

/// The iPXE bootscript path appended to [`DhcpConfig::boot_url`] (BSS-shaped, served by the
/// agent's HTTP boot service).
pub(crate) const BOOTSCRIPT_PATH: &str = "/boot/v1/bootscript?mac=";

/// Longest `boot_url`: with the path and a MAC the option stays within one 255-byte option.
const MAX_BOOT_URL: usize = 160;

fn default_bios() -> String {
    "undionly.kpxe".to_owned()
}

fn default_efi_x64() -> String {
    "ipxe.efi".to_owned()
}

/// Boot file names for firmware PXE, by client architecture (option 93, RFC 4578). Served over
/// TFTP from `next-server`; iPXE itself gets the bootscript URL instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bootfiles {
    /// Legacy BIOS PXE (arch 0).
    #[serde(default = "default_bios")]
    pub bios: String,
    /// x86-64 UEFI (arch 7, and 9, which older firmware and iPXE sent for x86-64).
    #[serde(default = "default_efi_x64")]
    pub efi_x64: String,
    /// 32-bit x86 UEFI (arch 6); none by default.
    #[serde(default)]
    pub efi_i386: Option<String>,
    /// ARM64 UEFI (arch 11); none by default.
    #[serde(default)]
    pub efi_arm64: Option<String>,
}

impl Default for Bootfiles {
    fn default() -> Self {
        Bootfiles {
            bios: default_bios(),
            efi_x64: default_efi_x64(),
            efi_i386: None,
            efi_arm64: None,
        }
    }
}

impl Bootfiles {
    /// The file for an architecture, if one is configured.
    pub fn for_arch(&self, arch: u16) -> Option<&str> {
        match arch {
            0 => Some(&self.bios),
            7 | 9 => Some(&self.efi_x64),
            6 => self.efi_i386.as_deref(),
            0x0b => self.efi_arm64.as_deref(),
            _ => None,
        }
    }

    fn validate(&self) -> Result<(), FieldError> {
        let named = [
            ("bootfiles.bios", Some(&self.bios)),
            ("bootfiles.efi_x64", Some(&self.efi_x64)),
            ("bootfiles.efi_i386", self.efi_i386.as_ref()),
            ("bootfiles.efi_arm64", self.efi_arm64.as_ref()),
        ];
        for (field, name) in named {
            let Some(name) = name else { continue };
            // The `file` header field holds 128 bytes including its NUL.
            if name.len() > 127 {
                return Err(FieldError::too_large(field, name.len(), 127));
            }
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(FieldError::invalid(
                    field,
                    "must be a non-empty file name of printable ASCII without spaces",
                ));
            }
        }
        Ok(())
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::UNSPECIFIED, 67))
}

fn default_lease_secs() -> u32 {
    3600
}

fn default_pool_lease_secs() -> u32 {
    300
}

fn default_true() -> bool {
    true
}

/// DHCP settings, e.g. a `[dhcp]` table of the agent's TOML config.
///
/// ```
/// let c: cairn_bootsvc::dhcp::DhcpConfig = toml::from_str(r#"
///     interface = "rack0"
///     router = "10.91.0.1"
///     boot_url = "http://10.91.0.1:8080"
/// "#)?;
/// c.validate()?;
/// assert_eq!(c.bootfiles.bios, "undionly.kpxe");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpConfig {
    /// Boot interface: the socket is bound to it (`SO_BINDTODEVICE`) and replies to clients
    /// without an address are broadcast on it. Without one the server runs in relay mode:
    /// it answers only relayed requests, at the datagram's source (how simulated racks and
    /// tests run without root, on loopback).
    #[serde(default)]
    pub interface: Option<String>,
    /// Listening address: `0.0.0.0:67` on an interface, a loopback address in relay mode.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Server identifier (option 54) and `next-server` (siaddr). Default: the interface's
    /// first IPv4 address; required in relay mode.
    #[serde(default)]
    pub server_ip: Option<Ipv4Addr>,
    /// The boot subnet. Default: the interface address's network; required in relay mode.
    #[serde(default)]
    pub subnet: Option<Ipv4Net>,
    /// Default gateway (option 3).
    #[serde(default)]
    pub router: Option<Ipv4Addr>,
    /// DNS servers (option 6).
    #[serde(default)]
    pub dns: Vec<Ipv4Addr>,
    /// DNS domain (option 15).
    #[serde(default)]
    pub domain: Option<String>,
    /// Lease time of inventory and range addresses, in seconds.
    #[serde(default = "default_lease_secs")]
    pub lease_secs: u32,
    /// Lease time of pool addresses, in seconds (short, so unknown MACs come back soon).
    #[serde(default = "default_pool_lease_secs")]
    pub pool_lease_secs: u32,
    /// Addresses for known nodes without an inventory address. Default: the lower three
    /// quarters of the subnet's hosts.
    #[serde(default)]
    pub range: Option<AddrRange>,
    /// Addresses for unknown MACs. Default: the upper quarter of the subnet's hosts. Range and
    /// pool must be disjoint and inside the subnet.
    #[serde(default)]
    pub pool: Option<AddrRange>,
    /// Whether unknown MACs get addresses at all (they are reported either way).
    #[serde(default = "default_true")]
    pub pool_enabled: bool,
    /// Base URL of the agent's HTTP boot service as nodes reach it; iPXE clients get
    /// `<boot_url>/boot/v1/bootscript?mac=<aa:bb:cc:dd:ee:ff>`. May be left out of a host's
    /// config file when the host fills it in (the agent, from its HTTP boot service).
    #[serde(default)]
    pub boot_url: String,
    /// Boot files for firmware PXE, by architecture.
    #[serde(default)]
    pub bootfiles: Bootfiles,
}

impl DhcpConfig {
    /// A config with this boot URL and every default (interface and addresses still to set).
    pub fn new(boot_url: impl Into<String>) -> DhcpConfig {
        DhcpConfig {
            interface: None,
            listen: default_listen(),
            server_ip: None,
            subnet: None,
            router: None,
            dns: Vec::new(),
            domain: None,
            lease_secs: default_lease_secs(),
            pool_lease_secs: default_pool_lease_secs(),
            range: None,
            pool: None,
            pool_enabled: true,
            boot_url: boot_url.into(),
            bootfiles: Bootfiles::default(),
        }
    }

    /// Checks every setting that does not need the interface; names the field at fault.
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(name) = &self.interface {
            // IFNAMSIZ is 16 with the NUL.
            if name.is_empty() || name.len() > 15 {
                return Err(FieldError::invalid("interface", "1 to 15 characters"));
            }
            if name.bytes().any(|b| !b.is_ascii_graphic() || b == b'/') {
                return Err(FieldError::invalid(
                    "interface",
                    "printable characters only, no '/'",
                ));
            }
        } else {
            if self.server_ip.is_none() {
                return Err(FieldError::invalid(
                    "server_ip",
                    "required without an interface (relay mode)",
                ));
            }
            if self.subnet.is_none() {
                return Err(FieldError::invalid(
                    "subnet",
                    "required without an interface (relay mode)",
                ));
            }
        }
        if !self.listen.is_ipv4() {
            return Err(FieldError::invalid("listen", "must be an IPv4 address"));
        }
        if let Some(subnet) = self.subnet {
            check_subnet(subnet, self.server_ip, self.router)?;
            let range = self.range.unwrap_or_else(|| default_range(subnet));
            let pool = self.pool.unwrap_or_else(|| default_pool(subnet));
            check_ranges(subnet, range, self.pool_enabled.then_some(pool))?;
        }
        if !(60..=31_536_000).contains(&self.lease_secs) {
            return Err(FieldError::invalid("lease_secs", "60 s to a year"));
        }
        if !(30..=self.lease_secs).contains(&self.pool_lease_secs) {
            return Err(FieldError::invalid("pool_lease_secs", "30 s to lease_secs"));
        }
        if self.dns.len() > 8 {
            return Err(FieldError::invalid("dns", "at most 8 servers"));
        }
        if let Some(domain) = &self.domain {
            let ok = !domain.is_empty()
                && domain.len() <= 253
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                return Err(FieldError::invalid(
                    "domain",
                    "a DNS name: letters, digits, '-' and '.', at most 253 characters",
                ));
            }
        }
        validate_base_url("boot_url", &self.boot_url)?;
        if self.boot_url.len() > MAX_BOOT_URL {
            return Err(FieldError::too_large(
                "boot_url",
                self.boot_url.len(),
                MAX_BOOT_URL,
            ));
        }
        if self.boot_url.contains(['?', '#']) || !self.boot_url.is_ascii() {
            return Err(FieldError::invalid(
                "boot_url",
                "ASCII, without query string or fragment",
            ));
        }
        self.bootfiles.validate()
    }

    /// Validates and fills the defaults that depend on the interface.
    pub(crate) fn resolve(&self) -> Result<Resolved, DhcpError> {
        self.validate()?;
        let (server_ip, subnet) = match (&self.interface, self.server_ip, self.subnet) {
            (_, Some(ip), Some(net)) => (ip, net),
            (Some(name), ip, net) => {
                let (if_ip, if_net) = interface_ipv4(name)?;
                (ip.unwrap_or(if_ip), net.unwrap_or(if_net))
            }
            // validate() requires both without an interface.
            (None, _, _) => {
                return Err(FieldError::invalid("server_ip", "required in relay mode").into());
            }
        };
        check_subnet(subnet, Some(server_ip), self.router)?;
        let range = self.range.unwrap_or_else(|| default_range(subnet));
        let pool = self
            .pool_enabled
            .then(|| self.pool.unwrap_or_else(|| default_pool(subnet)));
        check_ranges(subnet, range, pool)?;
        Ok(Resolved {
            server_ip,
            subnet,
            router: self.router,
            dns: self.dns.clone(),
            domain: self.domain.clone(),
            lease_secs: self.lease_secs,
            pool_lease_secs: self.pool_lease_secs,
            range,
            pool,
            boot_url: self.boot_url.trim_end_matches('/').to_owned(),
            bootfiles: self.bootfiles.clone(),
        })
    }
}

/// The settings the server runs with: every default filled in and checked.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub server_ip: Ipv4Addr,
    pub subnet: Ipv4Net,
    pub router: Option<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub domain: Option<String>,
    pub lease_secs: u32,
    pub pool_lease_secs: u32,
    pub range: AddrRange,
    pub pool: Option<AddrRange>,
    /// Without a trailing `/`.
    pub boot_url: String,
    pub bootfiles: Bootfiles,
}

impl Resolved {
    /// Whether an address may be leased at all: inside the subnet, not its network or
    /// broadcast address, not ours or the router's.
    pub(crate) fn assignable(&self, ip: Ipv4Addr) -> bool {
        self.subnet.contains(&ip)
            && ip != self.subnet.network()
            && ip != self.subnet.broadcast()
            && ip != self.server_ip
            && Some(ip) != self.router
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
