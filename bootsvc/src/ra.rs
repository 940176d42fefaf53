//! An optional IPv6 router advertisement sender for the boot network.
//!
//! iPXE configures IPv6 alongside DHCPv4 and waits for a router advertisement, soliciting for
//! about 15 s when none comes. The first RA it receives ends that wait at once unless it asks
//! for DHCPv6 (the M or O flag), so this sends a minimal RA: M=O=0, router lifetime 0 (we are
//! not a default router), the source link-layer address, and optionally one prefix for SLAAC.
//! It advertises every [`RaConfig::interval`] and answers each Router Solicitation at once
//! (coalesced to one answer per [`ANSWER_GAP`] during a boot storm).
//!
//! The socket is a raw ICMPv6 socket bound to the interface, which needs CAP_NET_RAW; without
//! it [`RaSender::bind`] returns [`RaError::Permission`] and the host runs without RAs.

use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::path::Path;
use std::time::Duration;

use ipnet::Ipv6Net;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::time::{Instant, sleep_until};

use crate::tftp::RateLimit;

/// ICMPv6 type of a Router Solicitation.
pub const ROUTER_SOLICITATION: u8 = 133;
/// ICMPv6 type of a Router Advertisement.
pub const ROUTER_ADVERTISEMENT: u8 = 134;
/// Shortest time between two RAs sent in answer to solicitations.
pub const ANSWER_GAP: Duration = Duration::from_millis(250);
/// Valid lifetime of the advertised prefix (preferred: half of it); renewed by every RA.
pub const PREFIX_VALID: Duration = Duration::from_secs(3600);

/// Unsolicited advertisements sent at [`INITIAL_INTERVAL`] after start (RFC 4861 §6.2.4 sends
/// the first few faster too): an interface just brought up may drop the first one.
pub const INITIAL_ADVERTISEMENTS: u32 = 3;
/// Spacing of the initial advertisements (at most [`RaConfig::interval`]).
pub const INITIAL_INTERVAL: Duration = Duration::from_secs(2);
/// Delay before retrying a failed send.
const SEND_RETRY: Duration = Duration::from_secs(1);
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// What to advertise, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaConfig {
    /// The boot network interface, e.g. `rack0`.
    pub interface: String,
    /// Time between unsolicited advertisements (e.g. 10 s).
    pub interval: Duration,
    /// A prefix to advertise as on-link, autonomous when it is a /64 (SLAAC).
    pub prefix: Option<Ipv6Net>,
}

/// Why the RA sender cannot start.
#[derive(Debug, thiserror::Error)]
pub enum RaError {
    /// The process lacks CAP_NET_RAW for the raw ICMPv6 socket.
    #[error("router advertisements need CAP_NET_RAW (raw ICMPv6 socket refused)")]
    Permission(#[source] io::Error),
    /// The interface does not exist or cannot be used.
    #[error("cannot send router advertisements on interface {interface:?}")]
    Interface {
        /// The configured interface.
        interface: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Setting up the socket failed.
    #[error("cannot set up the router advertisement socket")]
    Socket(#[source] io::Error),
    /// A configuration value is out of range; names the field.
    #[error("invalid router advertisement configuration: {0}")]
    Config(&'static str),
}

/// A raw ICMPv6 socket ready to advertise; [`RaSender::serve`] runs it.
#[derive(Debug)]
pub struct RaSender {
    socket: Socket,
    destination: SocketAddrV6,
    advertisement: Vec<u8>,
    config: RaConfig,
}

impl RaSender {
    /// Open and configure the socket on the interface. Needs no async runtime.
    pub fn bind(config: RaConfig) -> Result<RaSender, RaError> {
        if config.interval.is_zero() {
            return Err(RaError::Config("interval must be positive"));
        }
        if config.interface.is_empty() || config.interface.len() > 15 {
            return Err(RaError::Config("interface must be a name of 1 to 15 bytes"));
        }
        let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).map_err(|e| {
            match e.kind() {
                io::ErrorKind::PermissionDenied => RaError::Permission(e),
                _ => RaError::Socket(e),
            }
        })?;
        let interface_error = |source| RaError::Interface {
            interface: config.interface.clone(),
            source,
        };
        // Asked through the socket, so the answer is from the socket's network namespace.
        let ifindex = rustix::net::netdevice::name_to_index(&socket, &config.interface)
            .map_err(|errno| interface_error(errno.into()))?;
        socket
            .bind_device(Some(config.interface.as_bytes()))
            .map_err(interface_error)?;
        // RFC 4861 §6.1: receivers drop neighbour discovery with any other hop limit.
        socket.set_multicast_hops_v6(255).map_err(RaError::Socket)?;
        socket.set_unicast_hops_v6(255).map_err(RaError::Socket)?;
        socket
            .set_multicast_if_v6(ifindex)
            .map_err(RaError::Socket)?;
        socket
            .set_multicast_loop_v6(false)
            .map_err(RaError::Socket)?;
        socket
            .join_multicast_v6(&ALL_ROUTERS, ifindex)
            .map_err(RaError::Socket)?;
        socket.set_nonblocking(true).map_err(RaError::Socket)?;
        let mac = link_address(&config.interface, ifindex);
        if mac.is_none() {
            tracing::debug!(interface = %config.interface, "no MAC from sysfs: RAs go without SLLA");
        }
        let advertisement = advertisement(mac, config.prefix);
        let destination = SocketAddrV6::new(ALL_NODES, 0, 0, ifindex);
        Ok(RaSender {
            socket,
            destination,
            advertisement,
            config,
        })
    }

    /// Advertise until the future is dropped. Send failures (e.g. while the interface's
    /// link-local address is still tentative) are logged and retried at the next occasion.
    pub async fn serve(self) {
        let RaSender {
            socket,
            destination,
            advertisement,
            config,
        } = self;
        // tokio's datagram socket drives any datagram-style descriptor through sendto/recvfrom,
        // raw ICMPv6 included; it is the safe way to register one (`AsyncFd::register` is
        // `unsafe` and the workspace forbids it).
        let socket = match tokio::net::UdpSocket::from_std(socket.into()) {
            Ok(socket) => socket,
            Err(error) => {
                tracing::warn!(%error, "cannot register the RA socket; no router advertisements");
                return;
            }
        };
        tracing::info!(interface = %config.interface, prefix = ?config.prefix, "sending IPv6 router advertisements");
        let destination = SocketAddr::V6(destination);
        let mut buf = [0u8; 1500];
        let mut next_unsolicited = Instant::now();
        let mut initial_left = INITIAL_ADVERTISEMENTS;
        let mut answer_at: Option<Instant> = None;
        let mut last_sent: Option<Instant> = None;
        let mut failures = RateLimit::new(Duration::from_secs(60));
        loop {
            let due = answer_at.map_or(next_unsolicited, |at| at.min(next_unsolicited));
            tokio::select! {
                () = sleep_until(due) => {
                    let now = Instant::now();
                    answer_at = None;
                    match socket.send_to(&advertisement, destination).await {
                        Ok(_) => {
                            last_sent = Some(now);
                            if now >= next_unsolicited {
                                initial_left = initial_left.saturating_sub(1);
                                let wait = if initial_left > 0 {
                                    config.interval.min(INITIAL_INTERVAL)
                                } else {
                                    config.interval
                                };
                                next_unsolicited = now + wait;
                            }
                        }
                        Err(error) => {
                            if let Some(suppressed) = failures.allow(now.into_std()) {
                                tracing::warn!(%error, suppressed, interface = %config.interface, "router advertisement not sent");
                            }
                            // Typically the link is down or its link-local address still
                            // tentative: try again soon rather than a whole interval later.
                            next_unsolicited = now + config.interval.min(SEND_RETRY);
                        }
                    }
                }
                received = socket.recv_from(&mut buf) => match received {
                    Ok((len, _)) if is_solicitation(buf.get(..len).unwrap_or_default()) => {
                        let earliest = last_sent.map_or_else(Instant::now, |t| t + ANSWER_GAP);
                        answer_at.get_or_insert(earliest.max(Instant::now()));
                    }
                    Ok(_) => {}
                    Err(error) => tracing::debug!(%error, "RA socket receive error"),
                },
            }
        }
    }
}

/// An ICMPv6 Router Solicitation (RFC 4861 §4.1): type 133, code 0, at least 8 bytes.
pub fn is_solicitation(message: &[u8]) -> bool {
    message.len() >= 8 && message[0] == ROUTER_SOLICITATION && message[1] == 0
}

/// The interface's MAC from sysfs, when sysfs describes the socket's namespace (same ifindex).
fn link_address(interface: &str, ifindex: u32) -> Option<[u8; 6]> {
    let dir = Path::new("/sys/class/net").join(interface);
    let sys_index = std::fs::read_to_string(dir.join("ifindex")).ok()?;
    if sys_index.trim().parse::<u32>().ok()? != ifindex {
        return None;
    }
    parse_mac(std::fs::read_to_string(dir.join("address")).ok()?.trim())
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    (parts.next().is_none() && mac != [0; 6]).then_some(mac)
}

/// The RA message (RFC 4861 §4.2): M=O=0, router lifetime 0, reachable and retransmit times
/// unspecified, then the SLLA and prefix options. The kernel fills in the checksum.
pub fn advertisement(mac: Option<[u8; 6]>, prefix: Option<Ipv6Net>) -> Vec<u8> {
    let mut ra = vec![ROUTER_ADVERTISEMENT, 0, 0, 0];
    ra.extend_from_slice(&[0, 0]); // current hop limit unspecified; flags M=O=0
    ra.extend_from_slice(&0u16.to_be_bytes()); // router lifetime: not a default router
    ra.extend_from_slice(&0u32.to_be_bytes()); // reachable time
    ra.extend_from_slice(&0u32.to_be_bytes()); // retransmit timer
    if let Some(mac) = mac {
        ra.extend_from_slice(&[1, 1]); // source link-layer address, 8 bytes
        ra.extend_from_slice(&mac);
    }
    if let Some(prefix) = prefix {
        let valid = u32::try_from(PREFIX_VALID.as_secs()).unwrap_or(u32::MAX);
        // L (on-link) always; A (autonomous) only where SLAAC can use it, a /64.
        let flags = if prefix.prefix_len() == 64 {
            0xc0
        } else {
            0x80
        };
        ra.extend_from_slice(&[3, 4, prefix.prefix_len(), flags]);
        ra.extend_from_slice(&valid.to_be_bytes());
        ra.extend_from_slice(&(valid / 2).to_be_bytes());
        ra.extend_from_slice(&[0; 4]);
        ra.extend_from_slice(&prefix.trunc().addr().octets());
    }
    ra
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn minimal_advertisement() {
        let ra = advertisement(Some([0x52, 0x54, 0, 1, 2, 3]), None);
        assert_eq!(ra.len(), 24);
        assert_eq!(ra[0], ROUTER_ADVERTISEMENT);
        assert_eq!(ra[5], 0, "M and O clear");
        assert_eq!(&ra[6..8], &[0, 0], "router lifetime 0");
        assert_eq!(&ra[16..24], &[1, 1, 0x52, 0x54, 0, 1, 2, 3]);
        assert_eq!(advertisement(None, None).len(), 16);
    }

    #[test]
    fn prefix_option() {
        let ra = advertisement(None, Some("fd91:cafe::1/64".parse().unwrap()));
        let option = &ra[16..];
        assert_eq!(option.len(), 32);
        assert_eq!(&option[..4], &[3, 4, 64, 0xc0]);
        assert_eq!(u32::from_be_bytes(option[4..8].try_into().unwrap()), 3600);
        assert_eq!(u32::from_be_bytes(option[8..12].try_into().unwrap()), 1800);
        assert_eq!(
            option[16..],
            "fd91:cafe::".parse::<Ipv6Addr>().unwrap().octets()
        );
        let ra = advertisement(None, Some("fd91::/48".parse().unwrap()));
        assert_eq!(ra[19], 0x80, "not autonomous unless /64");
    }

    #[test]
    fn solicitations_and_macs() {
        assert!(is_solicitation(&[133, 0, 0, 0, 0, 0, 0, 0]));
        assert!(!is_solicitation(&[133, 0, 0, 0]));
        assert!(!is_solicitation(&[134, 0, 0, 0, 0, 0, 0, 0]));
        assert_eq!(
            parse_mac("52:54:00:aa:bb:0c"),
            Some([0x52, 0x54, 0, 0xaa, 0xbb, 0x0c])
        );
        assert_eq!(parse_mac("00:00:00:00:00:00"), None);
        assert_eq!(parse_mac("52:54:00:aa:bb"), None);
        assert_eq!(parse_mac("52:54:00:aa:bb:0c:00"), None);
    }

    #[test]
    fn bad_config_is_refused() {
        let config = RaConfig {
            interface: "x".into(),
            interval: Duration::ZERO,
            prefix: None,
        };
        assert!(matches!(RaSender::bind(config), Err(RaError::Config(_))));
        let config = RaConfig {
            interface: "a-very-long-interface".into(),
            interval: Duration::from_secs(1),
            prefix: None,
        };
        assert!(matches!(RaSender::bind(config), Err(RaError::Config(_))));
    }
}
