//! [`DhcpServer`]: the socket, the receive loop and the counters.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use dhcproto::v4::MessageType;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::config::DhcpConfig;
use super::error::DhcpError;
use super::leases::LeaseTable;
use super::limits::LogLimit;
use super::logic::Logic;
use super::outcome::Silence;
use super::{DhcpEvent, DhcpHosts, packet, reply};

/// Live counters of a server; read them with [`DhcpStats::snapshot`] while it serves.
#[derive(Debug, Default)]
pub struct DhcpStats {
    received: AtomicU64,
    offers: AtomicU64,
    acks: AtomicU64,
    naks: AtomicU64,
    dropped_malformed: AtomicU64,
    dropped_rate_limited: AtomicU64,
    ignored: AtomicU64,
    exhausted: AtomicU64,
    events_dropped: AtomicU64,
    send_errors: AtomicU64,
}

/// A snapshot of [`DhcpStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DhcpCounters {
    /// Datagrams received.
    pub received: u64,
    /// OFFERs sent.
    pub offers: u64,
    /// ACKs sent (leases and INFORM answers).
    pub acks: u64,
    /// NAKs sent.
    pub naks: u64,
    /// Packets dropped by the screen or the codec.
    pub dropped_malformed: u64,
    /// Packets dropped by the per-MAC or unknown-MAC rate limits.
    pub dropped_rate_limited: u64,
    /// Requests that needed no reply or were not for this server.
    pub ignored: u64,
    /// Requests unanswered because the range or the pool had no free address.
    pub exhausted: u64,
    /// Events the host service's channel had no room for.
    pub events_dropped: u64,
    /// Replies the socket failed to send.
    pub send_errors: u64,
}

impl DhcpCounters {
    /// Replies sent.
    pub fn served(&self) -> u64 {
        self.offers + self.acks + self.naks
    }
}

impl DhcpStats {
    /// The counters now.
    pub fn snapshot(&self) -> DhcpCounters {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DhcpCounters {
            received: r(&self.received),
            offers: r(&self.offers),
            acks: r(&self.acks),
            naks: r(&self.naks),
            dropped_malformed: r(&self.dropped_malformed),
            dropped_rate_limited: r(&self.dropped_rate_limited),
            ignored: r(&self.ignored),
            exhausted: r(&self.exhausted),
            events_dropped: r(&self.events_dropped),
            send_errors: r(&self.send_errors),
        }
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A DHCPv4 server on one boot interface (or, without one, answering relays).
pub struct DhcpServer {
    socket: UdpSocket,
    local: SocketAddr,
    logic: Logic,
    store: sled::Tree,
    events: mpsc::Sender<DhcpEvent>,
    stats: Arc<DhcpStats>,
    /// Without an interface only relayed requests are answered.
    relay_only: bool,
    warnings: LogLimit,
}

impl DhcpServer {
    /// Checks the config, resolves it against the interface, loads the leases from `leases`
    /// and opens the socket. Events go to `events` without ever waiting for it.
    pub async fn bind(
        config: DhcpConfig,
        hosts: Arc<dyn DhcpHosts>,
        leases: sled::Tree,
        events: mpsc::Sender<DhcpEvent>,
    ) -> Result<DhcpServer, DhcpError> {
        let cfg = config.resolve()?;
        let now = now_ms();
        let table = LeaseTable::load(leases.clone(), &cfg)?;
        let socket = open_socket(config.listen, config.interface.as_deref()).map_err(|source| {
            DhcpError::Bind {
                addr: config.listen,
                source,
            }
        })?;
        let local = socket.local_addr().map_err(|source| DhcpError::Bind {
            addr: config.listen,
            source,
        })?;
        tracing::info!(%local, interface = config.interface.as_deref().unwrap_or("-"),
            server_ip = %cfg.server_ip, subnet = %cfg.subnet,
            range = %format_args!("{}-{}", cfg.range.first, cfg.range.last),
            pool = %cfg.pool.map_or("off".to_owned(), |p| format!("{}-{}", p.first, p.last)),
            "DHCP server listening");
        Ok(DhcpServer {
            socket,
            local,
            logic: Logic::new(cfg, hosts, table, now),
            store: leases,
            events,
            stats: Arc::default(),
            relay_only: config.interface.is_none(),
            warnings: LogLimit::new(),
        })
    }

    /// The socket's address (with the port chosen when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The server identifier in use (option 54, `next-server`).
    pub fn server_ip(&self) -> Ipv4Addr {
        self.logic.cfg.server_ip
    }

    /// The counters, readable while the server runs.
    pub fn stats(&self) -> Arc<DhcpStats> {
        Arc::clone(&self.stats)
    }

    /// Serves until the future is dropped. Every await is cancel-safe: a request being
    /// answered when it is dropped goes unanswered, and its client retransmits.
    pub async fn serve(mut self) {
        // Larger than any DHCP packet over Ethernet; longer datagrams arrive truncated.
        let mut buf = vec![0u8; 4096];
        loop {
            let (len, peer) = match self.socket.recv_from(&mut buf).await {
                Ok(got) => got,
                Err(e) => {
                    // ICMP errors from earlier sends surface here; the socket stays usable.
                    tracing::debug!(error = %e, "DHCP receive error");
                    continue;
                }
            };
            bump(&self.stats.received);
            let now = now_ms();
            let req = match packet::decode(&buf[..len]) {
                Ok(req) => req,
                Err(reason) => {
                    bump(&self.stats.dropped_malformed);
                    if let Some(suppressed) = self.warnings.allow(now) {
                        tracing::warn!(%peer, %reason, suppressed,
                            "dropping malformed DHCP packet");
                    }
                    continue;
                }
            };
            let span = tracing::debug_span!("dhcp", mac = %req.mac,
                xid = %format_args!("{:#010x}", req.msg.xid()), kind = ?req.kind, %peer);
            self.respond(req, peer, now).instrument(span).await;
        }
    }

    async fn respond(&mut self, req: packet::Request, peer: SocketAddr, now: u64) {
        if self.relay_only && req.msg.giaddr().is_unspecified() {
            bump(&self.stats.ignored);
            self.warn(now, "not relayed, and no interface to answer on");
            return;
        }
        let outcome = match self.logic.handle(&req, now) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "DHCP lease store failed; request unanswered");
                return;
            }
        };
        match outcome.silence {
            Some(Silence::Limited(by)) => {
                bump(&self.stats.dropped_rate_limited);
                tracing::trace!(?by, "rate limited");
            }
            Some(Silence::Exhausted(kind)) => {
                bump(&self.stats.exhausted);
                let what = match kind {
                    super::LeaseKind::Range => "range has no free address; request unanswered",
                    _ => "pool has no free address; request unanswered",
                };
                self.warn(now, what);
            }
            Some(Silence::Refused(why)) => {
                bump(&self.stats.ignored);
                self.warn(now, why);
            }
            Some(Silence::Ignored(why)) => {
                bump(&self.stats.ignored);
                tracing::debug!(why, "no reply");
            }
            None => {}
        }
        if outcome.flush
            && let Err(e) = self.store.flush_async().await
        {
            tracing::error!(error = %e, "DHCP lease store flush failed; request unanswered");
            return;
        }
        if let Some(answer) = &outcome.answer {
            match reply::build(&req, &self.logic.cfg, answer) {
                Ok(bytes) => {
                    let to = reply::destination(&req, answer.kind, peer);
                    match self.socket.send_to(&bytes, to).await {
                        Ok(_) => {
                            bump(match answer.kind {
                                MessageType::Offer => &self.stats.offers,
                                MessageType::Nak => &self.stats.naks,
                                _ => &self.stats.acks,
                            });
                            tracing::debug!(ip = %answer.yiaddr, %to, reply = ?answer.kind,
                                bootfile = answer.bootfile.as_deref().unwrap_or("-"), "replied");
                        }
                        Err(e) => {
                            bump(&self.stats.send_errors);
                            self.warn(now, &format!("sending reply to {to} failed: {e}"));
                        }
                    }
                }
                Err(e) => self.warn(now, &format!("reply not sent: {e}")),
            }
        }
        for event in outcome.events {
            let range_mac = match &event {
                DhcpEvent::RangeAssigned { mac, .. } => Some(*mac),
                _ => None,
            };
            if self.events.try_send(event).is_err() {
                bump(&self.stats.events_dropped);
                self.warn(
                    now,
                    "DHCP event dropped: the host service's queue is full or closed",
                );
                continue;
            }
            // Until one report gets through, later ACKs report the range binding again.
            if let Some(mac) = range_mac
                && let Err(e) = self.logic.mark_reported(mac)
            {
                tracing::error!(error = %e, "DHCP lease store failed");
            }
        }
    }

    fn warn(&mut self, now: u64, what: &str) {
        if let Some(suppressed) = self.warnings.allow(now) {
            tracing::warn!(suppressed, "{what}");
        }
    }
}

/// The DHCP socket's receive buffer asked for, bytes: room for the requests of a whole rack
/// booting at once (about 1 KiB of kernel memory each).
const RECV_BUFFER: usize = 8 << 20;

/// A UDP socket bound to `listen` (on `interface`, if given) that may broadcast.
fn open_socket(listen: SocketAddr, interface: Option<&str>) -> std::io::Result<UdpSocket> {
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    sock.set_reuse_address(true)?;
    if let Some(name) = interface {
        // Before bind: several servers may then share port 67, one per interface.
        sock.bind_device(Some(name.as_bytes()))?;
    }
    sock.set_broadcast(true)?;
    // A rack powering on sends thousands of DISCOVERs within a second; the default buffer
    // (~200 KiB, a few hundred datagrams) overflows while the loop is busy, and every
    // datagram dropped costs its node a retransmission interval (1 s or more). The kernel
    // caps the size at net.core.rmem_max; a smaller buffer than asked still serves.
    if let Err(e) = sock.set_recv_buffer_size(RECV_BUFFER) {
        tracing::debug!(error = %e, "DHCP receive buffer left at the default");
    }
    sock.bind(&listen.into())?;
    sock.set_nonblocking(true)?;
    UdpSocket::from_std(sock.into())
}
