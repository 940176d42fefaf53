//! Address arithmetic of the boot subnet: [`AddrRange`], the default split of a subnet
//! into range and pool, their checks, and the interface's own address.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use cairn_protocols::FieldError;

use super::error::DhcpError;

/// A closed range of IPv4 addresses, `first..=last`. In configuration files either
/// `"10.91.0.100-10.91.0.199"` or `{ first = "10.91.0.100", last = "10.91.0.199" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RangeRepr", into = "String")]
pub struct AddrRange {
    /// First address of the range.
    pub first: Ipv4Addr,
    /// Last address of the range (inclusive).
    pub last: Ipv4Addr,
}

/// The spellings [`AddrRange`] is read from.
#[derive(Deserialize)]
#[serde(untagged)]
enum RangeRepr {
    Text(String),
    Table { first: Ipv4Addr, last: Ipv4Addr },
}

impl TryFrom<RangeRepr> for AddrRange {
    type Error = String;

    fn try_from(r: RangeRepr) -> Result<Self, String> {
        match r {
            RangeRepr::Text(t) => t.parse(),
            RangeRepr::Table { first, last } => Ok(AddrRange { first, last }),
        }
    }
}

impl std::str::FromStr for AddrRange {
    type Err = String;

    /// `FIRST-LAST`, both IPv4 addresses.
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("{s:?} is not a range FIRST-LAST of IPv4 addresses"))?;
        let addr = |t: &str| {
            t.trim()
                .parse::<Ipv4Addr>()
                .map_err(|_| format!("{t:?} in {s:?} is not an IPv4 address"))
        };
        Ok(AddrRange {
            first: addr(a)?,
            last: addr(b)?,
        })
    }
}

impl std::fmt::Display for AddrRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl From<AddrRange> for String {
    fn from(r: AddrRange) -> String {
        r.to_string()
    }
}

impl AddrRange {
    /// The range `first..=last`.
    pub fn new(first: Ipv4Addr, last: Ipv4Addr) -> AddrRange {
        AddrRange { first, last }
    }

    /// Whether `ip` is in the range.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.first <= ip && ip <= self.last
    }

    /// Number of addresses (0 when `first > last`).
    pub fn len(&self) -> u32 {
        let (a, b) = (u32::from(self.first), u32::from(self.last));
        if a > b { 0 } else { b - a + 1 }
    }

    /// Whether the range holds no address.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th address of the range (wrapping: `i` is taken modulo the length).
    pub(crate) fn nth(&self, i: u32) -> Ipv4Addr {
        let len = self.len().max(1);
        Ipv4Addr::from(u32::from(self.first).wrapping_add(i % len))
    }

    fn overlaps(&self, other: &AddrRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

pub(crate) fn hosts_of(subnet: Ipv4Net) -> AddrRange {
    let net = u32::from(subnet.network());
    let bcast = u32::from(subnet.broadcast());
    AddrRange::new(
        Ipv4Addr::from(net.saturating_add(1)),
        Ipv4Addr::from(bcast.saturating_sub(1)),
    )
}

fn range_len(hosts: AddrRange) -> u32 {
    (u64::from(hosts.len()) * 3 / 4) as u32
}

pub(crate) fn default_range(subnet: Ipv4Net) -> AddrRange {
    let hosts = hosts_of(subnet);
    let len = range_len(hosts).max(1);
    AddrRange::new(hosts.first, hosts.nth(len - 1))
}

pub(crate) fn default_pool(subnet: Ipv4Net) -> AddrRange {
    let hosts = hosts_of(subnet);
    AddrRange::new(hosts.nth(range_len(hosts).max(1)), hosts.last)
}

pub(crate) fn check_subnet(
    subnet: Ipv4Net,
    server_ip: Option<Ipv4Addr>,
    router: Option<Ipv4Addr>,
) -> Result<(), FieldError> {
    if subnet.prefix_len() > 30 {
        return Err(FieldError::invalid(
            "subnet",
            "a boot subnet needs room for hosts: /30 or larger",
        ));
    }
    for (field, ip) in [("server_ip", server_ip), ("router", router)] {
        if let Some(ip) = ip
            && !subnet.contains(&ip)
        {
            return Err(FieldError::invalid(
                field,
                format!("{ip} is outside {subnet}"),
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_ranges(
    subnet: Ipv4Net,
    range: AddrRange,
    pool: Option<AddrRange>,
) -> Result<(), FieldError> {
    let hosts = hosts_of(subnet);
    for (field, r) in [("range", Some(range)), ("pool", pool)] {
        let Some(r) = r else { continue };
        if r.is_empty() {
            return Err(FieldError::invalid(field, "first is after last"));
        }
        if !hosts.contains(r.first) || !hosts.contains(r.last) {
            return Err(FieldError::invalid(
                field,
                format!("{}-{} is not inside the hosts of {subnet}", r.first, r.last),
            ));
        }
    }
    if let Some(pool) = pool
        && pool.overlaps(&range)
    {
        return Err(FieldError::invalid(
            "pool",
            format!(
                "{}-{} overlaps the range {}-{}",
                pool.first, pool.last, range.first, range.last
            ),
        ));
    }
    Ok(())
}

/// The first IPv4 address of an interface and its network.
pub(crate) fn interface_ipv4(name: &str) -> Result<(Ipv4Addr, Ipv4Net), DhcpError> {
    let fail = |reason: String| DhcpError::Interface {
        name: name.to_owned(),
        reason,
    };
    let addrs = if_addrs::get_if_addrs().map_err(|e| fail(format!("listing addresses: {e}")))?;
    let mut seen = false;
    for iface in addrs.iter().filter(|i| i.name == name) {
        seen = true;
        if let (IpAddr::V4(ip), if_addrs::IfAddr::V4(v4)) = (iface.ip(), &iface.addr) {
            let net = Ipv4Net::new(ip, v4.prefixlen)
                .map_err(|e| fail(format!("prefix of {ip}: {e}")))?
                .trunc();
            return Ok((ip, net));
        }
    }
    Err(fail(if seen {
        "has no IPv4 address (set server_ip and subnet)".to_owned()
    } else {
        "not found, or without any address".to_owned()
    }))
}
