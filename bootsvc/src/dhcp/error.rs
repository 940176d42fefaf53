//! [`DhcpError`]: why the DHCP server could not start or keep its leases. Packet-level
//! problems are not errors of the server: they are logged and dropped (see `packet`).

use std::io;
use std::net::SocketAddr;

use cairn_protocols::FieldError;

/// Why the DHCP server failed.
#[derive(Debug, thiserror::Error)]
pub enum DhcpError {
    /// A setting is invalid; names the field.
    #[error("invalid DHCP setting {0}")]
    Config(#[from] FieldError),
    /// The configured interface is missing or has no usable IPv4 address.
    #[error("interface {name:?}: {reason}")]
    Interface {
        /// The interface name from the config.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The listening socket could not be set up.
    #[error("cannot listen for DHCP on {addr}")]
    Bind {
        /// The address from the config.
        addr: SocketAddr,
        /// The system's error.
        #[source]
        source: io::Error,
    },
    /// The lease store failed.
    #[error("DHCP lease store failed")]
    Store(#[from] sled::Error),
}
