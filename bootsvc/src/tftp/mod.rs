//! A read-only TFTP server for the iPXE binaries (RFC 1350, options RFC 2347/2348/2349, window
//! RFC 7440), on tokio.
//!
//! PXE ROMs fetch iPXE (`undionly.kpxe`, `ipxe.efi`, `snponly.efi`) over TFTP before anything
//! else can run, so this is the first service a booting node talks to after DHCP. The
//! listener only dispatches: each read request gets its own ephemeral socket (its TID) and
//! task, at most [`TftpConfig::max_transfers`] at a time, and files are read from disk as they
//! are sent, so a boot storm costs a window of blocks per client.
//!
//! ```ignore
//! let server = TftpServer::bind(TftpConfig { listen: "10.91.0.1:69".parse()?, ..TftpConfig::default() }).await?;
//! let stats = server.stats();
//! tokio::spawn(server.serve());
//! ```

mod active;
mod options;
mod packet;
mod path;
mod stats;
mod transfer;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument as _;

pub use options::DEFAULT_MAX_BLKSIZE;
pub use stats::TftpStats;

use active::Active;
use packet::{ErrorCode, Packet, Request};
pub(crate) use stats::RateLimit;
use transfer::{Outcome, Transfer};

/// Where and what the TFTP server serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TftpConfig {
    /// Listening address (default `0.0.0.0:69`). Bind the boot-network address so that
    /// transfers answer from the address the client used.
    pub listen: SocketAddr,
    /// Directory served (default `/usr/lib/ipxe`, Debian's `ipxe` package).
    pub root: PathBuf,
    /// Transfers running at once; more requests get error 0 "server busy" (default 512).
    pub max_transfers: usize,
    /// Retransmission timeout unless the client negotiates one (default 1 s).
    pub timeout: Duration,
    /// Retransmissions of a block before a transfer is abandoned (default 5).
    pub retries: u32,
    /// Largest block size granted to a `blksize` request (default 1468, an Ethernet MTU).
    pub max_blksize: u16,
    /// Serve symlinks that resolve outside `root` (default `false`). Debian's
    /// `/usr/lib/ipxe/ipxe.efi` links to `/boot/ipxe.efi`: enable this, or offer
    /// `snponly.efi`, when serving that directory to UEFI clients.
    pub allow_symlinks_out_of_root: bool,
}

impl Default for TftpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 69)),
            root: PathBuf::from("/usr/lib/ipxe"),
            max_transfers: 512,
            timeout: Duration::from_secs(1),
            retries: 5,
            max_blksize: DEFAULT_MAX_BLKSIZE,
            allow_symlinks_out_of_root: false,
        }
    }
}

/// Why the TFTP server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum TftpError {
    /// The root directory is missing or unreadable.
    #[error("TFTP root {path} is not a readable directory")]
    Root {
        /// The configured root.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The listening socket cannot be bound (port in use, or port 69 without
    /// CAP_NET_BIND_SERVICE).
    #[error("cannot bind the TFTP listener to {addr}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A configuration value is out of range; names the field.
    #[error("invalid TFTP configuration: {0}")]
    Config(&'static str),
}

/// A bound TFTP server; [`TftpServer::serve`] runs it.
#[derive(Debug)]
pub struct TftpServer {
    socket: UdpSocket,
    local_addr: SocketAddr,
    config: Arc<TftpConfig>,
    stats: TftpStats,
}

impl TftpServer {
    /// Check the configuration, resolve the root and bind the listener.
    pub async fn bind(mut config: TftpConfig) -> Result<TftpServer, TftpError> {
        if config.max_transfers == 0 {
            return Err(TftpError::Config("max_transfers must be at least 1"));
        }
        if config.timeout.is_zero() {
            return Err(TftpError::Config("timeout must be positive"));
        }
        if !(8..=65464).contains(&config.max_blksize) {
            return Err(TftpError::Config("max_blksize must be in 8..=65464"));
        }
        let root_error = |source| TftpError::Root {
            path: config.root.clone(),
            source,
        };
        let root = tokio::fs::canonicalize(&config.root)
            .await
            .map_err(root_error)?;
        let metadata = tokio::fs::metadata(&root).await.map_err(root_error)?;
        if !metadata.is_dir() {
            return Err(root_error(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            )));
        }
        config.root = root;
        let bind_error = |source| TftpError::Bind {
            addr: config.listen,
            source,
        };
        let socket = UdpSocket::bind(config.listen).await.map_err(bind_error)?;
        let local_addr = socket.local_addr().map_err(bind_error)?;
        Ok(TftpServer {
            socket,
            local_addr,
            config: Arc::new(config),
            stats: TftpStats::default(),
        })
    }

    /// The address the listener is bound to (the real port when the config said 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle on the server's counters; stays valid while and after it serves.
    pub fn stats(&self) -> TftpStats {
        self.stats.clone()
    }

    /// Serve requests until the future is dropped, which also aborts running transfers.
    pub async fn serve(self) {
        let permits = Arc::new(Semaphore::new(self.config.max_transfers));
        let active = Active::default();
        let mut transfers = JoinSet::new();
        let mut malformed = RateLimit::new(Duration::from_secs(1));
        let mut buf = vec![0u8; 2048];
        tracing::info!(listen = %self.local_addr, root = %self.config.root.display(), "TFTP serving");
        loop {
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => match received {
                    Ok((len, peer)) => {
                        let datagram = buf.get(..len).unwrap_or_default();
                        let limits = Limits { permits: &permits, active: &active };
                        self.dispatch(datagram, len == buf.len(), peer, limits, &mut transfers, &mut malformed).await;
                    }
                    Err(error) => {
                        if let Some(suppressed) = malformed.allow(Instant::now()) {
                            tracing::warn!(%error, suppressed, "TFTP listener receive failed");
                        }
                    }
                },
                Some(_) = transfers.join_next(), if !transfers.is_empty() => {}
            }
        }
    }

    async fn dispatch(
        &self,
        datagram: &[u8],
        truncated: bool,
        peer: SocketAddr,
        limits: Limits<'_>,
        transfers: &mut JoinSet<()>,
        malformed: &mut RateLimit,
    ) {
        let parsed = if truncated {
            Err(packet::Malformed("datagram larger than any request"))
        } else {
            packet::parse(datagram)
        };
        let request = match parsed {
            Ok(Packet::Request(request)) => request,
            // Late ACKs and errors for ended transfers land here; answering them could loop.
            Ok(_) => return,
            Err(why) => {
                if let Some(suppressed) = malformed.allow(Instant::now()) {
                    tracing::warn!(%peer, %why, suppressed, "ignored a malformed TFTP datagram");
                }
                return;
            }
        };
        let name = String::from_utf8_lossy(&request.filename).into_owned();
        let Some(claim) = limits.active.claim(peer) else {
            tracing::debug!(%peer, file = %name, "repeated request of a running transfer ignored");
            return;
        };
        let refuse = |code, message: &str| {
            self.stats.refused();
            tracing::info!(%peer, file = %name, message, "TFTP request refused");
            packet::encode_error(code, message)
        };
        let answer = if request.write {
            refuse(ErrorCode::AccessViolation, "this TFTP server is read-only")
        } else if !matches!(request.mode.as_str(), "octet" | "netascii") {
            refuse(
                ErrorCode::IllegalOperation,
                "unsupported transfer mode (use octet)",
            )
        } else if let Ok(permit) = limits.permits.clone().try_acquire_owned() {
            let span = tracing::info_span!("tftp", %peer, file = %name);
            let job = start(
                request,
                peer,
                self.local_addr,
                self.config.clone(),
                self.stats.clone(),
            );
            transfers.spawn(
                async move {
                    job.await;
                    drop((permit, claim));
                }
                .instrument(span),
            );
            return;
        } else {
            refuse(ErrorCode::Undefined, "server busy")
        };
        // Best effort: the client retries its request if this is lost.
        let _ = self.socket.send_to(&answer, peer).await;
    }
}

/// What bounds the transfers: permits for [`TftpConfig::max_transfers`], one per client.
#[derive(Clone, Copy)]
struct Limits<'a> {
    permits: &'a Arc<Semaphore>,
    active: &'a Active,
}

/// Open the file, negotiate and run one transfer from a fresh socket; count and log its end.
async fn start(
    request: Request,
    peer: SocketAddr,
    local: SocketAddr,
    config: Arc<TftpConfig>,
    stats: TftpStats,
) {
    let started = Instant::now();
    let socket = match transfer_socket(local, peer).await {
        Ok(socket) => socket,
        Err(error) => {
            stats.failed();
            tracing::warn!(%error, "cannot open a transfer socket");
            return;
        }
    };
    let refuse = |code, message: String| {
        stats.refused();
        tracing::info!(%message, "TFTP request refused");
        packet::encode_error(code, &message)
    };
    let opened = path::open(
        &config.root,
        &request.filename,
        config.allow_symlinks_out_of_root,
    )
    .await;
    let (file, size) = match opened {
        Ok(opened) => opened,
        Err(denied) => {
            let _ = socket.send(&refuse(denied.code, denied.message)).await;
            return;
        }
    };
    let negotiated =
        match options::negotiate(&request.options, size, config.max_blksize, config.timeout) {
            Ok(negotiated) => negotiated,
            Err(refused) => {
                let _ = socket
                    .send(&refuse(ErrorCode::OptionRefused, refused.0))
                    .await;
                return;
            }
        };
    let (blksize, window) = (negotiated.blksize, negotiated.window);
    let file = tokio::io::BufReader::with_capacity(64 * 1024, file);
    let transfer = Transfer {
        socket,
        file,
        negotiated,
        retries: config.retries,
    };
    let ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match transfer.run().await {
        Outcome::Done { bytes } => {
            stats.done(bytes);
            tracing::info!(bytes, ms = ms(), blksize, window, "TFTP transfer complete");
        }
        Outcome::Aborted { reason } => {
            stats.aborted();
            tracing::info!(%reason, ms = ms(), "TFTP transfer ended by the client");
        }
        Outcome::Failed { reason } => {
            stats.failed();
            tracing::warn!(%reason, ms = ms(), "TFTP transfer failed");
        }
    }
}

/// A socket on the listener's address (so replies come from the address the client used when
/// the listener is bound to one) and a new port, connected to the client.
async fn transfer_socket(local: SocketAddr, peer: SocketAddr) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind(SocketAddr::new(local.ip(), 0)).await?;
    socket.connect(peer).await?;
    Ok(socket)
}
