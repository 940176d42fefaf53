//! Naming BMCs: which xname a BMC found at an address gets.
//!
//! In order, the first rule that applies:
//! 1. **The xname map** (`[bmc.xnames]`): `IP:port` or `host:port`, then `IP` or `host`.
//! 2. **An xname host name**: a BMC reached as `x1000c0s5b0` or `x1000c0s5b0.bmc.example` is
//!    `x1000c0s5b0`.
//! 3. **Derived from the address**, inside the agent's scope: the first configured subnet
//!    holding the IP gives the offset `o` of the IP from the subnet's network address. Each
//!    cabinet holds 2048 addresses (8 chassis × 256 slots): the subnets take the scope's
//!    cabinets in order, each subnet starting at a new cabinet and using as many as its size
//!    needs (a /24 one, a /21 one, a /20 two). Within its cabinet, `o` gives
//!    `chassis = (o mod 2048) / 256` and `slot = o mod 256`; the BMC number is the port's
//!    position in the configured port list (`b0` for the first or an unlisted port). So with
//!    `scope = [1000, 1001]` and subnets `10.1.0.0/24`, `10.1.1.0/24`, port 443:
//!    `10.1.0.17` is `x1000c0s17b0` and `10.1.1.5` is `x1001c0s5b0`.
//!
//! Every rule depends only on the configuration and the address, never on what answered or in
//! which order, so a BMC keeps its name across re-discovery. Nodes are `<bmc>n<i>`, numbered in
//! the natural order of their Redfish paths (see [`super::inventory::node_order`]).
//! Two addresses that end up with one name are refused (the later one), not merged.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use cairn_protocols::Xname;
use ipnet::IpNet;

use super::{NamedTarget, Target};
use crate::config::{AgentConfig, subnet_size};
use crate::redfish::BmcAddress;

/// Addresses one cabinet holds in derived names: 8 chassis × 256 slots.
pub const ADDRESSES_PER_CABINET: u128 = 8 * 256;

/// A BMC could not be named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    /// No rule applies.
    #[error(
        "{address}: no name: not in the xname map, its host name is not a BMC xname, and it \
         is in no configured subnet"
    )]
    Unnamed {
        /// The BMC's address.
        address: BmcAddress,
    },
    /// The subnet offset points past the last cabinet of the scope.
    #[error(
        "{address}: its subnet offset needs cabinet #{index} of the scope, which has {cabinets} \
         (add cabinets to the scope or map the address)"
    )]
    BeyondScope {
        /// The BMC's address.
        address: BmcAddress,
        /// The 0-based cabinet position needed.
        index: u128,
        /// How many cabinets the scope has.
        cabinets: usize,
    },
    /// The name's cabinet is not in the agent's scope.
    #[error("{address}: {xname} is outside the agent's scope (cabinets {scope:?})")]
    OutOfScope {
        /// The BMC's address.
        address: BmcAddress,
        /// The name it would get.
        xname: Xname,
        /// The scope.
        scope: Vec<u32>,
    },
    /// Another address already has this name.
    #[error("{address}: {xname} is already the name of {other}")]
    Duplicate {
        /// The BMC's address.
        address: BmcAddress,
        /// The contested name.
        xname: Xname,
        /// The address that has it.
        other: BmcAddress,
    },
}

/// Applies the naming rules of the module docs.
#[derive(Debug, Clone, Default)]
pub struct Namer {
    scope: Vec<u32>,
    /// Subnet and the scope position of its first cabinet.
    subnets: Vec<(IpNet, u128)>,
    ports: Vec<u16>,
    map: HashMap<(String, Option<u16>), Xname>,
}

impl Namer {
    /// The rules of a configuration.
    pub fn from_config(config: &AgentConfig) -> Namer {
        Namer::new(
            &config.scope,
            &config.bmc.subnets,
            &config.bmc.ports,
            &config.bmc.xnames,
        )
    }

    /// The rules for a scope (cabinets), subnets and ports (in configured order) and an
    /// address → xname map (keys `IP`, `IP:port`, `host` or `host:port`).
    pub fn new(
        scope: &[u32],
        subnets: &[IpNet],
        ports: &[u16],
        map: &BTreeMap<String, Xname>,
    ) -> Namer {
        let mut first_cabinet = 0u128;
        let subnets = subnets
            .iter()
            .map(|net| {
                let start = first_cabinet;
                let cabinets = subnet_size(net).div_ceil(ADDRESSES_PER_CABINET).max(1);
                first_cabinet = first_cabinet.saturating_add(cabinets);
                (net.trunc(), start)
            })
            .collect();
        let map = map
            .iter()
            .map(|(key, xname)| (map_key(key), xname.clone()))
            .collect();
        Namer {
            scope: scope.to_vec(),
            subnets,
            ports: ports.to_vec(),
            map,
        }
    }

    /// The name of the BMC at `address`.
    pub fn name(&self, address: &BmcAddress) -> Result<Xname, NamingError> {
        let host = canonical_host(&address.host);
        let mapped = self
            .map
            .get(&(host.clone(), Some(address.port)))
            .or_else(|| self.map.get(&(host.clone(), None)));
        if let Some(xname) = mapped {
            return self.in_scope(address, xname.clone());
        }
        if let Some(xname) = hostname_xname(&host) {
            return self.in_scope(address, xname);
        }
        match address.ip() {
            Some(ip) => self.derive(address, ip),
            None => Err(NamingError::Unnamed {
                address: address.clone(),
            }),
        }
    }

    /// Names every target (a given xname wins), dropping repeated addresses and refusing
    /// repeated names. Returns the named targets in input order and the refusals.
    pub fn plan(
        &self,
        targets: impl IntoIterator<Item = Target>,
    ) -> (Vec<NamedTarget>, Vec<NamingError>) {
        let mut named = Vec::new();
        let mut errors = Vec::new();
        let mut by_name: HashMap<Xname, BmcAddress> = HashMap::new();
        let mut by_address: HashSet<(String, u16)> = HashSet::new();
        for target in targets {
            let key = (canonical_host(&target.address.host), target.address.port);
            if !by_address.insert(key) {
                continue;
            }
            let xname = match target.xname.clone() {
                Some(x) => x,
                None => match self.name(&target.address) {
                    Ok(x) => x,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                },
            };
            if let Some(other) = by_name.get(&xname) {
                errors.push(NamingError::Duplicate {
                    address: target.address,
                    xname,
                    other: other.clone(),
                });
                continue;
            }
            by_name.insert(xname.clone(), target.address.clone());
            named.push(NamedTarget {
                xname,
                address: target.address,
                credentials: target.credentials,
            });
        }
        (named, errors)
    }

    fn in_scope(&self, address: &BmcAddress, xname: Xname) -> Result<Xname, NamingError> {
        let inside =
            self.scope.is_empty() || xname.cabinet().is_some_and(|c| self.scope.contains(&c));
        if inside {
            Ok(xname)
        } else {
            Err(NamingError::OutOfScope {
                address: address.clone(),
                xname,
                scope: self.scope.clone(),
            })
        }
    }

    fn derive(&self, address: &BmcAddress, ip: IpAddr) -> Result<Xname, NamingError> {
        let Some((net, first)) = self.subnets.iter().find(|(net, _)| net.contains(&ip)) else {
            return Err(NamingError::Unnamed {
                address: address.clone(),
            });
        };
        let offset = ip_value(ip).saturating_sub(ip_value(net.network()));
        let index = first.saturating_add(offset / ADDRESSES_PER_CABINET);
        let cabinet = usize::try_from(index)
            .ok()
            .and_then(|i| self.scope.get(i))
            .ok_or(NamingError::BeyondScope {
                address: address.clone(),
                index,
                cabinets: self.scope.len(),
            })?;
        let within = offset % ADDRESSES_PER_CABINET;
        let (chassis, slot) = (within / 256, within % 256);
        let bmc = self
            .ports
            .iter()
            .position(|p| *p == address.port)
            .unwrap_or(0);
        // In range by construction: chassis <= 7, slot and bmc <= 255, cabinet validated.
        Xname::parse(&format!("x{cabinet}c{chassis}s{slot}b{bmc}")).map_err(|_| {
            NamingError::Unnamed {
                address: address.clone(),
            }
        })
    }
}

fn ip_value(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// IPs in their canonical text, names in lower case.
fn canonical_host(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host.to_ascii_lowercase(),
    }
}

/// `IP`, `IP:port`, `[v6]:port`, `host`, `host:port` → (canonical host, port).
fn map_key(key: &str) -> (String, Option<u16>) {
    let key = key.trim();
    if let Ok(sa) = key.parse::<std::net::SocketAddr>() {
        return (sa.ip().to_string(), Some(sa.port()));
    }
    if let Ok(ip) = key.parse::<IpAddr>() {
        return (ip.to_string(), None);
    }
    match key.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (canonical_host(host), Some(port)),
            Err(_) => (canonical_host(key), None),
        },
        _ => (canonical_host(key), None),
    }
}

/// `x1000c0s5b0` or `x1000c0s5b0.bmc.example` → the BMC xname.
fn hostname_xname(host: &str) -> Option<Xname> {
    let label = host.split('.').next()?;
    Xname::parse(label).ok().filter(Xname::is_bmc)
}

#[cfg(test)]
mod tests;
