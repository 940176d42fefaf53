//! DHCPv4 for a boot network, as the rack agent serves it (RFC 2131, with the PXE/iPXE options
//! of RFC 4578 and iPXE's own).
//!
//! Addresses come from three places, in this order of authority:
//! - **inventory**: a node whose interface has an IPv4 address inside the served subnet gets
//!   that address (the first such one, as OpenCHAMI's coresmd does);
//! - **range**: a known node without one gets an address from [`DhcpConfig::range`], kept for
//!   that MAC across restarts and reported ([`DhcpEvent::RangeAssigned`]) so the inventory
//!   learns it and every agent hands out the same one;
//! - **pool**: an unknown MAC (or a disabled node) gets a short lease from
//!   [`DhcpConfig::pool`] and is reported as discovered ([`DhcpEvent::MacSeen`]).
//!
//! Boot files follow the client: iPXE (user class `iPXE`) gets the agent's bootscript URL,
//! firmware PXE gets the iPXE binary for its architecture (option 93). Every offer carries
//! iPXE's option 175.176 = 1 so iPXE does not wait for proxy DHCP.
//!
//! Hostile input is screened byte by byte before the codec sees it (module `packet`) and
//! answered by one rate-limited log line and no reply; floods of unknown MACs are rate limited
//! and confined to the pool, so they never reach the range or the inventory's addresses.
//!
//! ```ignore
//! let server = DhcpServer::bind(config, hosts, db.open_tree("dhcp-leases")?, events_tx).await?;
//! let stats = server.stats();
//! tokio::spawn(server.serve());
//! ```

mod addrs;
mod config;
mod error;
mod leases;
mod limits;
mod logic;
mod outcome;
mod packet;
mod reply;
mod server;
#[cfg(test)]
mod testutil;

use std::net::Ipv4Addr;

use cairn_protocols::{MacAddr, Xname};

pub use addrs::AddrRange;
pub use config::{Bootfiles, DhcpConfig};
pub use error::DhcpError;
pub use server::{DhcpCounters, DhcpServer, DhcpStats};

/// What the server knows of a MAC from the inventory. The agent answers from its in-memory
/// copy of the desired state, so the calls are synchronous and cheap; the server calls them on
/// every packet.
pub trait DhcpHosts: Send + Sync + 'static {
    /// The inventory's node with an interface of this MAC, if any.
    fn host(&self, mac: MacAddr) -> Option<Host>;
    /// True when the inventory gives this address to some interface: the server never hands it
    /// out from the range or the pool.
    fn is_reserved(&self, ip: Ipv4Addr) -> bool;
}

/// A node of the inventory, as DHCP needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The node.
    pub xname: Xname,
    /// The IPv4 addresses of the interface's `IPAddresses`, in order. The server takes the
    /// first one inside the served subnet.
    pub ipv4: Vec<Ipv4Addr>,
    /// Hostname for option 12 (empty: none sent).
    pub hostname: String,
    /// `false` for a disabled node, which is served as an unknown MAC.
    pub enabled: bool,
}

/// Where a bound address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseKind {
    /// The inventory's address for the interface.
    Inventory,
    /// The range for known nodes without an inventory address.
    Range,
    /// The pool for unknown MACs.
    Pool,
}

impl LeaseKind {
    /// Lower-case name, for logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseKind::Inventory => "inventory",
            LeaseKind::Range => "range",
            LeaseKind::Pool => "pool",
        }
    }
}

/// What the server tells its host service. Sent with `try_send`: the serving path never waits
/// for the receiver; events that do not fit are counted ([`DhcpCounters::events_dropped`])
/// and logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DhcpEvent {
    /// An ACK was sent for a lease (first binding or renewal).
    Bound {
        /// The client's hardware address.
        mac: MacAddr,
        /// The address bound.
        ip: Ipv4Addr,
        /// The node, when the MAC is the inventory's (range and inventory leases).
        xname: Option<Xname>,
        /// Where the address came from.
        source: LeaseKind,
        /// Client architecture (option 93, or the `PXEClient:Arch:` vendor class).
        arch: Option<u16>,
        /// Whether the client is iPXE (and was given the bootscript URL).
        ipxe: bool,
        /// When, in milliseconds since the Unix epoch.
        at_ms: u64,
    },
    /// A known node without an inventory address was bound to an address of the range: the
    /// host service stores it on the node's interface so it stays the node's address. Sent
    /// once per binding (repeated on later ACKs until one is delivered).
    RangeAssigned {
        /// The node.
        xname: Xname,
        /// The interface.
        mac: MacAddr,
        /// The address from the range.
        ip: Ipv4Addr,
        /// When, in milliseconds since the Unix epoch.
        at_ms: u64,
    },
    /// An unknown MAC asked for an address: once per MAC per pool lease time, not per packet.
    MacSeen {
        /// The new MAC.
        mac: MacAddr,
        /// The pool address offered or bound, if any (none when the pool is off or full).
        ip: Option<Ipv4Addr>,
        /// The vendor class (option 60), e.g. `PXEClient:Arch:00007:UNDI:003016`.
        vendor_class: Option<String>,
        /// Client architecture, as in [`DhcpEvent::Bound`].
        arch: Option<u16>,
        /// When, in milliseconds since the Unix epoch.
        at_ms: u64,
    },
    /// A client declined an address (someone else answers ARP for it).
    Declined {
        /// The client.
        mac: MacAddr,
        /// The address in conflict.
        ip: Ipv4Addr,
        /// When, in milliseconds since the Unix epoch.
        at_ms: u64,
    },
}
