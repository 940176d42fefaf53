//! Binding the rack's boot services from `[boot]` ([`BootServices::bind`]); the agent's runtime
//! runs the futures it returns until the agent stops.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use cairn_bootsvc::dhcp::{DhcpConfig, DhcpServer};
use cairn_bootsvc::images::{ImageCache, ImageRef, images_router};
use cairn_bootsvc::ra::{RaConfig, RaSender};
use cairn_bootsvc::tftp::{TftpConfig, TftpServer};
use cairn_bootsvc::{BootConfig, BootState};

use super::events::{EventSink, note_http};
use super::rack::RackState;
use super::source::RackSource;
use super::status::BootStats;
use crate::config::BootServeConfig;
use crate::runtime::{Reporter, Store};

/// A boot service could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootServeError {
    /// An address cannot be bound.
    #[error("cannot listen for {what} on {addr}")]
    Listen {
        /// Which service.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The settings do not make a working service.
    #[error("[boot] {0}")]
    Config(String),
    /// The agent's store cannot lend a tree.
    #[error("boot services")]
    Store(#[from] crate::runtime::StoreError),
    /// The image cache cannot open.
    #[error("image cache")]
    Images(#[from] cairn_bootsvc::images::ImageError),
    /// The TFTP server cannot start.
    #[error("TFTP")]
    Tftp(#[from] cairn_bootsvc::tftp::TftpError),
    /// The DHCP server cannot start.
    #[error("DHCP")]
    Dhcp(#[from] cairn_bootsvc::dhcp::DhcpError),
}

/// What the boot services need from the agent.
#[derive(Debug, Clone)]
pub struct BootDeps {
    /// The desired state.
    pub rack: Arc<RackState>,
    /// The outbox.
    pub reporter: Reporter,
    /// The agent's store (DHCP leases, image index).
    pub store: Arc<Store>,
    /// The agent's data directory (image files).
    pub data_dir: std::path::PathBuf,
    /// Moves on with each desired-state change.
    pub desired_changed: tokio::sync::watch::Receiver<u64>,
}

/// A service's run loop.
pub type ServiceFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The bound services (see the module docs).
pub struct BootServices {
    /// Base URL of the HTTP service as nodes reach it, when it runs.
    pub url: Option<String>,
    /// Where HTTP listens.
    pub http_addr: Option<SocketAddr>,
    /// Where TFTP listens.
    pub tftp_addr: Option<SocketAddr>,
    /// Where DHCP listens.
    pub dhcp_addr: Option<SocketAddr>,
    /// Each service's loop, by name.
    pub run: Vec<(&'static str, ServiceFuture)>,
    /// Their counters.
    pub stats: BootStats,
}

impl std::fmt::Debug for BootServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootServices")
            .field("url", &self.url)
            .field("http_addr", &self.http_addr)
            .field(
                "services",
                &self.run.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl BootServices {
    /// Binds every service `config` asks for.
    pub async fn bind(
        config: &BootServeConfig,
        deps: BootDeps,
    ) -> Result<BootServices, BootServeError> {
        let mut services = BootServices {
            url: None,
            http_addr: None,
            tftp_addr: None,
            dhcp_addr: None,
            run: Vec::new(),
            stats: BootStats::default(),
        };
        if let Some(addr) = config.listen {
            let listener = listen_http(addr).map_err(|source| BootServeError::Listen {
                what: "HTTP boot",
                addr,
                source,
            })?;
            let local = listener
                .local_addr()
                .map_err(|source| BootServeError::Listen {
                    what: "HTTP boot",
                    addr,
                    source,
                })?;
            let url = base_url(config, local)?;
            let cache = image_cache(config, &deps)?;
            services.stats.images = Some(cache.clone());
            services.run.push((
                "images",
                Box::pin(follow_desired(cache.clone(), deps.clone())),
            ));
            let app = http_app(&url, config, &deps, cache)?;
            tracing::info!(addr = %local, %url, "serving HTTP boot");
            services.url = Some(url);
            services.http_addr = Some(local);
            services.run.push((
                "http",
                Box::pin(async move {
                    let service = app.into_make_service_with_connect_info::<SocketAddr>();
                    if let Err(e) = axum::serve(listener, service).await {
                        tracing::error!(error = %e, "the HTTP boot service stopped");
                    }
                }),
            ));
        }
        if let Some(dhcp) = dhcp_config(config, services.url.as_deref())? {
            let (events, queue) = tokio::sync::mpsc::channel(super::dhcp::EVENT_QUEUE);
            let server = DhcpServer::bind(
                dhcp,
                Arc::new(super::dhcp::RackHosts(Arc::clone(&deps.rack))),
                deps.store.tree("leases")?,
                events,
            )
            .await?;
            services.dhcp_addr = Some(server.local_addr());
            services.stats.dhcp = Some(server.stats());
            services.run.push(("dhcp", Box::pin(server.serve())));
            services.run.push((
                "dhcp-events",
                Box::pin(super::dhcp::relay(queue, deps.reporter.clone())),
            ));
        }
        if let Some(addr) = config.tftp_listen {
            let tftp = TftpServer::bind(TftpConfig {
                listen: addr,
                root: config.ipxe_dir.clone(),
                // Debian's ipxe.efi is a link to /boot/ipxe.efi. The directory is the
                // operator's; requests still cannot name a path outside it.
                allow_symlinks_out_of_root: true,
                ..TftpConfig::default()
            })
            .await?;
            tracing::info!(addr = %tftp.local_addr(), dir = %config.ipxe_dir.display(), "serving TFTP");
            services.tftp_addr = Some(tftp.local_addr());
            services.stats.tftp = Some(tftp.stats());
            services.run.push(("tftp", Box::pin(tftp.serve())));
        }
        if config.router_advertisements {
            match &config.dhcp_interface {
                None => {
                    return Err(BootServeError::Config(
                        "router_advertisements needs dhcp_interface (the boot network)".into(),
                    ));
                }
                Some(interface) => match RaSender::bind(RaConfig {
                    interface: interface.clone(),
                    interval: RA_INTERVAL,
                    prefix: None,
                }) {
                    Ok(ra) => services.run.push(("ra", Box::pin(ra.serve()))),
                    // Booting works without: iPXE only waits longer for IPv6.
                    Err(e) => tracing::warn!(
                        error = %crate::runtime::chain(&e),
                        "no router advertisements: iPXE will wait for IPv6 before booting"
                    ),
                },
            }
        }
        Ok(services)
    }
}

/// Connections the HTTP listener queues before accepting (the kernel caps it at
/// net.core.somaxconn). A rack powering on opens thousands within a second; a connection
/// that finds the queue full loses its SYN and retries after 1 s, then 3 s.
const HTTP_BACKLOG: u32 = 8192;

/// The HTTP boot listener, with a backlog for a whole rack ([`HTTP_BACKLOG`]).
fn listen_http(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does: a restarted agent rebinds while old connections linger.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(HTTP_BACKLOG)
}

/// The DHCP settings, if DHCP is to run: `[boot.dhcp]`, `dhcp_interface`, or both; iPXE is
/// pointed at the HTTP service, so that must run too.
fn dhcp_config(
    config: &BootServeConfig,
    url: Option<&str>,
) -> Result<Option<DhcpConfig>, BootServeError> {
    let mut dhcp = match (&config.dhcp, &config.dhcp_interface) {
        (None, None) => return Ok(None),
        (Some(d), _) => d.clone(),
        (None, Some(_)) => DhcpConfig::new(""),
    };
    if config.dhcp_interface.is_some() {
        dhcp.interface.clone_from(&config.dhcp_interface);
    }
    let url = url.ok_or_else(|| {
        BootServeError::Config(
            "DHCP points iPXE at the HTTP boot service: set listen (--boot-listen) too".into(),
        )
    })?;
    url.clone_into(&mut dhcp.boot_url);
    Ok(Some(dhcp))
}

/// Between unsolicited router advertisements (solicitations are answered at once).
const RA_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The kernel and initrd cache under the data directory, fetching with bounded waits.
fn image_cache(config: &BootServeConfig, deps: &BootDeps) -> Result<ImageCache, BootServeError> {
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .read_timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| BootServeError::Config(format!("image client: {e}")))?;
    Ok(ImageCache::open(
        deps.data_dir.join("images"),
        deps.store.tree("images")?,
        client,
        config.image_cache_bytes,
    )?)
}

/// Keeps the cache's wanted set to the images the desired state names, fetching new ones
/// ahead of the nodes that will ask for them.
async fn follow_desired(cache: ImageCache, mut deps: BootDeps) {
    loop {
        let urls = deps.rack.read().image_urls();
        let wanted: Vec<ImageRef> = urls
            .iter()
            .filter_map(|u| match ImageRef::parse(u) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::warn!(url = %u, error = %e, "not caching an image");
                    None
                }
            })
            .collect();
        tracing::debug!(images = wanted.len(), "images wanted");
        cache.set_wanted(wanted);
        cache.prefetch();
        if deps.desired_changed.changed().await.is_err() {
            return;
        }
    }
}

/// The base URL written into DHCP replies and scripts.
fn base_url(config: &BootServeConfig, local: SocketAddr) -> Result<String, BootServeError> {
    if let Some(url) = &config.url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    if local.ip().is_unspecified() {
        return Err(BootServeError::Config(format!(
            "listen = {local} names no address nodes can reach: set [boot] url"
        )));
    }
    Ok(format!("http://{local}"))
}

/// The HTTP routes: BSS's bootscript, the node-facing cloud-init routes, the image cache, and
/// the boot-event middleware around them.
fn http_app(
    url: &str,
    config: &BootServeConfig,
    deps: &BootDeps,
    cache: ImageCache,
) -> Result<Router, BootServeError> {
    let mut boot = BootConfig::new(url, format!("{url}/cloud-init"));
    boot.retry_delay_secs = config.retry_delay_secs;
    boot.answer_cache_entries = config.answer_cache_entries;
    let source = RackSource::new(Arc::clone(&deps.rack), deps.reporter.clone());
    // Scripts name the cache, not the origin: a rack cut off from the image server boots
    // from what it fetched before.
    let state = BootState::with_image_urls(source, boot, Arc::new(cache.clone()))
        .map_err(|e| BootServeError::Config(format!("url: {}", e.reason)))?;
    let sink = EventSink {
        rack: Arc::clone(&deps.rack),
        reporter: deps.reporter.clone(),
    };
    Ok(Router::new()
        .merge(cairn_bootsvc::bss_router(state.clone()))
        .nest("/cloud-init", cairn_bootsvc::cloud_init_router(state))
        .merge(images_router(cache))
        // No tracing layer: bootsvc's handlers open one span per request already, and a boot
        // storm is thousands of requests a second.
        .layer(axum::middleware::from_fn_with_state(sink, note_http)))
}
