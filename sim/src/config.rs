//! What to simulate: [`SimConfig`] holds one [`BmcConfig`] per BMC; [`SimConfigBuilder`] makes
//! the usual farm (N alike BMCs on consecutive addresses or ports) and tests adjust single BMCs
//! in `config.bmcs` before [`crate::start`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::faults::Fault;
use crate::ids::MAX_BMC_INDEX;
use crate::mockup::Mockup;
use crate::power::{PowerState, ResetType};

/// Basic-auth and session credentials a BMC accepts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl Credentials {
    /// Credentials from a user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl Default for Credentials {
    /// `admin` / `password`, as `bmc-farm.sh` sets up sushy-tools.
    fn default() -> Self {
        Self::new("admin", "password")
    }
}

/// The resources of a generated BMC (see [`crate::ids`] for the identities).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// ComputerSystems behind the BMC (0..=254; 0 is a BMC with an empty Systems collection,
    /// like a chassis controller).
    pub systems: u8,
    /// Ethernet interfaces per system (0..=255).
    pub nics: u8,
    /// What `ResetType@Redfish.AllowableValues` lists (and the only values accepted).
    pub reset_types: Vec<ResetType>,
    /// Every system's power state at start.
    pub initial_power: PowerState,
}

impl Default for Generated {
    fn default() -> Self {
        Self {
            systems: 2,
            nics: 1,
            reset_types: ResetType::ALL.to_vec(),
            initial_power: PowerState::Off,
        }
    }
}

/// What a BMC serves.
#[derive(Clone, Debug)]
pub enum Content {
    /// DMTF-shaped resources derived from the BMC's index.
    Generated(Generated),
    /// A mockup directory, verbatim, with live power state on its systems.
    Mockup(Arc<Mockup>),
}

/// One simulated BMC.
#[derive(Clone, Debug)]
pub struct BmcConfig {
    /// Its index: MACs and UUIDs of generated BMCs derive from it (at most [`MAX_BMC_INDEX`]).
    pub index: u32,
    /// Where it listens (port 0: an ephemeral port, reported by the handle).
    pub listen: SocketAddr,
    /// What it serves.
    pub content: Content,
    /// The credentials it accepts.
    pub credentials: Credentials,
    /// Faults active from the start.
    pub faults: Vec<Fault>,
    /// How long after a reset the new `PowerState` shows.
    pub power_delay: Duration,
    /// Show `PoweringOn`/`PoweringOff` during that delay instead of the old state.
    pub transitional_states: bool,
}

/// The whole simulator.
#[derive(Clone, Debug, Default)]
pub struct SimConfig {
    /// The BMCs, in the order the handle reports them.
    pub bmcs: Vec<BmcConfig>,
    /// Serve HTTPS with a generated CA (its PEM is on the handle) instead of HTTP.
    pub tls: bool,
}

impl SimConfig {
    /// A builder for N alike BMCs.
    pub fn builder() -> SimConfigBuilder {
        SimConfigBuilder::default()
    }
}

/// How BMCs are spread over addresses and ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// BMC `i` listens on `base + i`, all on `port` (0: each on its own ephemeral port). The way
    /// an agent scanning a subnet on one port expects them.
    ConsecutiveAddresses {
        /// The first BMC's address.
        base: Ipv4Addr,
        /// The port of every BMC.
        port: u16,
    },
    /// Every BMC on `address`, BMC `i` on `base_port + i` (0: each on its own ephemeral port).
    ConsecutivePorts {
        /// The address of every BMC.
        address: IpAddr,
        /// The first BMC's port.
        base_port: u16,
    },
}

impl Default for Layout {
    fn default() -> Self {
        Self::ConsecutiveAddresses {
            base: Ipv4Addr::LOCALHOST,
            port: 0,
        }
    }
}

impl Layout {
    /// The listen address of the `i`th BMC.
    fn addr(self, i: u32) -> Result<SocketAddr, SimError> {
        match self {
            Self::ConsecutiveAddresses { base, port } => {
                // A loopback farm must stay inside 127.0.0.0/8 and off its broadcast address.
                let last = if base.is_loopback() {
                    Ipv4Addr::new(127, 255, 255, 254)
                } else {
                    Ipv4Addr::new(255, 255, 255, 254)
                };
                let ip = u32::from(base)
                    .checked_add(i)
                    .filter(|ip| *ip <= u32::from(last))
                    .map(Ipv4Addr::from)
                    .ok_or_else(|| {
                        SimError::Config(format!(
                            "BMC {i} would listen past the end of {} (from {base})",
                            if base.is_loopback() {
                                "127.0.0.0/8"
                            } else {
                                "IPv4"
                            }
                        ))
                    })?;
                Ok(SocketAddr::new(IpAddr::V4(ip), port))
            }
            Self::ConsecutivePorts { address, base_port } => {
                let port = if base_port == 0 {
                    Some(0)
                } else {
                    u16::try_from(i).ok().and_then(|i| base_port.checked_add(i))
                };
                let port = port.ok_or_else(|| {
                    SimError::Config(format!(
                        "BMC {i} would listen past port 65535 (from {base_port})"
                    ))
                })?;
                Ok(SocketAddr::new(address, port))
            }
        }
    }
}

/// Builds a [`SimConfig`] of `count` alike BMCs.
#[derive(Clone, Debug)]
pub struct SimConfigBuilder {
    count: u32,
    first_index: u32,
    layout: Layout,
    generated: Generated,
    mockups: Vec<Arc<Mockup>>,
    credentials: Credentials,
    power_delay: Duration,
    transitional_states: bool,
    tls: bool,
}

impl Default for SimConfigBuilder {
    fn default() -> Self {
        Self {
            count: 1,
            first_index: 0,
            layout: Layout::default(),
            generated: Generated::default(),
            mockups: Vec::new(),
            credentials: Credentials::default(),
            power_delay: Duration::ZERO,
            transitional_states: false,
            tls: false,
        }
    }
}

impl SimConfigBuilder {
    /// How many BMCs (default 1).
    pub fn count(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// The first BMC's index (default 0). Two simulators started with disjoint index ranges
    /// serve disjoint MACs and UUIDs (two racks in the demo).
    pub fn first_index(mut self, index: u32) -> Self {
        self.first_index = index;
        self
    }

    /// Where the BMCs listen (default: consecutive addresses from 127.0.0.1, ephemeral ports).
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Systems per generated BMC (default 2).
    pub fn systems(mut self, systems: u8) -> Self {
        self.generated.systems = systems;
        self
    }

    /// Ethernet interfaces per generated system (default 1).
    pub fn nics(mut self, nics: u8) -> Self {
        self.generated.nics = nics;
        self
    }

    /// The reset types generated BMCs allow (default [`ResetType::ALL`]).
    pub fn reset_types(mut self, reset_types: impl IntoIterator<Item = ResetType>) -> Self {
        self.generated.reset_types = reset_types.into_iter().collect();
        self
    }

    /// Power state of generated systems at start (default off).
    pub fn initial_power(mut self, state: PowerState) -> Self {
        self.generated.initial_power = state;
        self
    }

    /// Serve these mockups instead of generated resources, BMC `i` serving `mockups[i % len]`.
    pub fn mockups(mut self, mockups: impl IntoIterator<Item = Arc<Mockup>>) -> Self {
        self.mockups = mockups.into_iter().collect();
        self
    }

    /// Credentials of every BMC (default `admin`/`password`).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Delay before a reset's new `PowerState` shows (default 0).
    pub fn power_delay(mut self, delay: Duration) -> Self {
        self.power_delay = delay;
        self
    }

    /// Show `PoweringOn`/`PoweringOff` during the power delay (default off).
    pub fn transitional_states(mut self, on: bool) -> Self {
        self.transitional_states = on;
        self
    }

    /// Serve HTTPS (default off).
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Checks the settings and lays the BMCs out.
    pub fn build(self) -> Result<SimConfig, SimError> {
        let invalid = |msg: String| Err(SimError::Config(msg));
        if self.count == 0 {
            return invalid("count must be at least 1".into());
        }
        let last = self.first_index.checked_add(self.count - 1);
        if last.is_none_or(|last| last > MAX_BMC_INDEX) {
            return invalid(format!(
                "BMC indices {}+{} go past {MAX_BMC_INDEX}",
                self.first_index, self.count
            ));
        }
        if self.mockups.is_empty() {
            if self.generated.systems > 254 {
                return invalid(format!(
                    "systems must be 0..=254, not {}",
                    self.generated.systems
                ));
            }
            if self.generated.reset_types.is_empty() {
                return invalid("reset types must not be empty".into());
            }
        }
        let bmcs = (0..self.count)
            .map(|i| {
                let content = match self.mockups.len() {
                    0 => Content::Generated(self.generated.clone()),
                    n => Content::Mockup(Arc::clone(&self.mockups[i as usize % n])),
                };
                Ok(BmcConfig {
                    index: self.first_index + i,
                    listen: self.layout.addr(i)?,
                    content,
                    credentials: self.credentials.clone(),
                    faults: Vec::new(),
                    power_delay: self.power_delay,
                    transitional_states: self.transitional_states,
                })
            })
            .collect::<Result<_, SimError>>()?;
        Ok(SimConfig {
            bmcs,
            tls: self.tls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_addresses_stay_within_loopback() {
        let layout = Layout::ConsecutiveAddresses {
            base: Ipv4Addr::new(127, 0, 20, 250),
            port: 8443,
        };
        assert_eq!(layout.addr(10).unwrap(), "127.0.21.4:8443".parse().unwrap());
        let edge = Layout::ConsecutiveAddresses {
            base: Ipv4Addr::new(127, 255, 255, 250),
            port: 0,
        };
        assert!(edge.addr(4).is_ok());
        assert!(
            edge.addr(5).is_err(),
            "127.255.255.255 is the broadcast address"
        );
        assert!(edge.addr(6).is_err());
    }

    #[test]
    fn consecutive_ports_stop_at_65535() {
        let layout = Layout::ConsecutivePorts {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            base_port: 65534,
        };
        assert_eq!(layout.addr(1).unwrap().port(), 65535);
        assert!(layout.addr(2).is_err());
    }

    #[test]
    fn build_refuses_what_cannot_work() {
        assert!(SimConfig::builder().count(0).build().is_err());
        assert!(SimConfig::builder().systems(255).build().is_err());
        assert!(SimConfig::builder().reset_types([]).build().is_err());
        assert!(
            SimConfig::builder()
                .first_index(MAX_BMC_INDEX)
                .count(2)
                .build()
                .is_err()
        );
        let config = SimConfig::builder()
            .count(3)
            .first_index(10)
            .build()
            .unwrap();
        let indices: Vec<u32> = config.bmcs.iter().map(|b| b.index).collect();
        assert_eq!(indices, [10, 11, 12]);
        assert_eq!(config.bmcs[2].listen, "127.0.0.3:0".parse().unwrap());
    }
}
