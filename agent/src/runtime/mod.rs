//! The agent's runtime: everything `cairn-agent` does between start and stop.
//!
//! ```text
//!  session ── Register, Heartbeat ──────────────┐
//!  watch ──── Watch stream ─┬─ endpoints ─▶ bmcs│(registry, one Redfish session per BMC)
//!                           ├─ tasks, aborts ─▶ power executor ─┐
//!                           └─ discover ─▶ discovery loop ──────┤
//!  poll ───── PowerState of every node ─────────────────────────┤
//!                                                               ▼
//!                            reporter (batches) ─▶ store (sled) ─▶ outbox sender ── Report
//! ```
//!
//! Every loop runs whether or not the coordinators are reachable: discovery, power tasks
//! already held and the poll keep working, and their reports wait in the outbox (written to
//! disk before anything else happens) until a replica acknowledges them. [`start`] builds it
//! all from an [`AgentConfig`] and returns a [`Handle`].

mod api;
mod bmcs;
mod discovery_loop;
mod link;
mod outbox;
mod poll;
mod power;
mod reporter;
mod session;
mod shutdown;
mod status;
mod store;
mod watch;

use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cairn_protocols::agent::{AgentEndpoints, DiscoverRequest, Registration, cabinet_name};
use tokio::sync::{mpsc, watch as watch_channel};
use tokio::task::JoinSet;
use tracing::Instrument;

pub use self::power::{Executor, PowerWork};
pub use self::reporter::Reporter;
pub use self::status::{
    AgentStatus, CoordinatorStatus, DiscoveryProgress, LinkState, OutboxStatus, PowerProgress,
};
pub use self::store::{DesiredLoad, Store, StoreError};
use crate::config::{AgentConfig, ConfigError, DEFAULT_REDISCOVER_INTERVAL};
use crate::discovery::{Discoverer, DiscoveryError, Namer};

/// The agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is missing or wrong.
    #[error("{0}")]
    Missing(String),
    /// The configuration is invalid.
    #[error("invalid configuration")]
    Config(#[from] ConfigError),
    /// The data directory cannot be created.
    #[error("cannot create the data directory {path}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store cannot be opened.
    #[error("agent state")]
    Store(#[from] StoreError),
    /// The Redfish client cannot be built (e.g. a bad CA file).
    #[error("discovery")]
    Discovery(#[from] DiscoveryError),
    /// A coordinator URL is unusable.
    #[error("coordinators")]
    Link(#[from] link::BadUrl),
    /// A boot service cannot start.
    #[error("boot serving")]
    Boot(#[from] crate::boot::BootServeError),
    /// The API address cannot be bound.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What the loops share.
#[derive(Debug)]
pub(crate) struct Ctx {
    registration: Registration,
    link: link::Link,
    store: Arc<Store>,
    status: Arc<status::StatusBoard>,
    reporter: reporter::Reporter,
    bmcs: Arc<bmcs::Bmcs>,
    executor: Executor,
    discovery: mpsc::Sender<DiscoverRequest>,
    nodes_changed: watch_channel::Sender<u64>,
    /// The rack's desired state, served by the boot services.
    rack: Arc<crate::boot::RackState>,
    /// The scope as the desired state on disk is keyed (`x1000,x1001`).
    scope_key: String,
    /// Moves on with each desired-state change (the image cache prefetches then).
    desired_changed: watch_channel::Sender<u64>,
    /// The boot services' counters.
    boot: crate::boot::BootStats,
}

impl Ctx {
    fn status(&self) -> AgentStatus {
        let (state, since_ms, last_contact_ms, registered, mut outbox, discovery) =
            self.status.snapshot();
        outbox.depth = self.store.outbox_depth();
        outbox.next_seq = self.store.next_seq().unwrap_or(0);
        AgentStatus {
            agent_id: self.registration.agent_id.clone(),
            version: self.registration.version.clone(),
            scope: self
                .registration
                .scope
                .iter()
                .map(|c| cabinet_name(*c))
                .collect(),
            coordinator: CoordinatorStatus {
                state,
                since_ms,
                last_contact_ms,
                registered,
                url: self.link.current_url().to_owned(),
                last_error: self.link.last_error(),
            },
            outbox,
            discovery,
            power: PowerProgress {
                tasks_held: self.executor.held(),
                tasks_running: self.executor.running(),
                nodes_polled: self.bmcs.node_count(),
            },
            desired: self.rack.status(),
            boot: self.boot.status(),
        }
    }
}

/// The settings [`start`] cannot do without.
struct Required {
    agent_id: String,
    coordinators: Vec<String>,
    data_dir: PathBuf,
    scope: BTreeSet<u32>,
}

fn required(config: &AgentConfig) -> Result<Required, StartError> {
    let missing = |what: &str| StartError::Missing(format!("{what} is required"));
    let agent_id = config
        .agent_id
        .clone()
        .ok_or_else(|| missing("an agent id (--agent-id or agent_id)"))?;
    if config.coordinators.is_empty() {
        return Err(missing("a coordinator URL (--coordinator or coordinators)"));
    }
    let data_dir = config
        .data_dir
        .clone()
        .ok_or_else(|| missing("a data directory (--data-dir or data_dir)"))?;
    if config.scope.is_empty() {
        return Err(missing(
            "a scope of at least one cabinet (--scope or scope)",
        ));
    }
    Ok(Required {
        agent_id,
        coordinators: config.coordinators.clone(),
        data_dir,
        scope: config.scope.iter().copied().collect(),
    })
}

/// Starts the agent: opens its store, binds its API, and starts every loop. Returns once it
/// runs; the coordinators need not be reachable.
pub async fn start(config: AgentConfig) -> Result<Handle, StartError> {
    config.validate()?;
    let req = required(&config)?;
    std::fs::create_dir_all(&req.data_dir).map_err(|source| StartError::DataDir {
        path: req.data_dir.clone(),
        source,
    })?;
    let store = Arc::new(Store::open(&req.data_dir).await?);
    let scope_key = scope_key(&req.scope);
    let rack = Arc::new(crate::boot::RackState::default());
    let held = store.load_desired(&scope_key)?;
    tracing::info!(
        revision = held.revision,
        records = held.items.len(),
        unreadable = held.unreadable,
        "desired state loaded"
    );
    rack.apply(held.items, true, true, held.revision);
    let discoverer = Discoverer::from_config(&config)?;
    let defaults = config.bmc.credentials()?;
    let status = Arc::new(status::StatusBoard::default());
    let link = link::Link::new(
        &req.coordinators,
        Duration::from_secs(5),
        Arc::clone(&status),
    )?;
    let listener = match config.api_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Listen { addr, source })?,
        ),
        None => None,
    };
    let api_addr = listener.as_ref().and_then(|l| l.local_addr().ok());

    let (trigger, shutdown) = shutdown::channel();
    let mut tasks = JoinSet::new();
    let span = tracing::info_span!("agent", id = %req.agent_id);
    let (appended_tx, appended_rx) = watch_channel::channel(0u64);
    let (reporter, batcher) = reporter::start(Arc::clone(&store), appended_tx, shutdown.clone());
    tasks.spawn(batcher.instrument(span.clone()));
    let bmcs = Arc::new(bmcs::Bmcs::new(
        discoverer.client().clone(),
        defaults,
        config.bmc.schemes.clone(),
    ));
    let task_ctx = Arc::new(power::TaskCtx {
        reporter: reporter.clone(),
        bmcs: Arc::clone(&bmcs),
        config: config.power.clone(),
        limits: power::Limits::default(),
        running: Default::default(),
    });
    let (executor, executor_loop) = power::start(task_ctx, Arc::clone(&store), shutdown.clone());
    tasks.spawn(executor_loop.instrument(span.clone()));
    let (discovery_tx, discovery_rx) = mpsc::channel(256);
    let (nodes_changed, nodes_rx) = watch_channel::channel(0u64);
    let (desired_changed, _) = watch_channel::channel(rack.revision());
    let boot = crate::boot::BootServices::bind(
        &config.boot,
        crate::boot::serve::BootDeps {
            rack: Arc::clone(&rack),
            reporter: reporter.clone(),
            store: Arc::clone(&store),
            data_dir: req.data_dir.clone(),
            desired_changed: desired_changed.subscribe(),
        },
    )
    .await?;
    let boot_url = boot.url.clone();
    let boot_stats = boot.stats.clone();
    let boot_addrs = BootAddrs {
        http: boot.http_addr,
        dhcp: boot.dhcp_addr,
        tftp: boot.tftp_addr,
    };
    for (name, service) in boot.run {
        let mut stop = shutdown.clone();
        let span = tracing::info_span!("boot", service = name);
        tasks.spawn(
            async move {
                stop.guard(service).await;
            }
            .instrument(span),
        );
    }
    let registration = Registration {
        agent_id: req.agent_id.clone(),
        scope: req.scope,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        endpoints: AgentEndpoints {
            api_url: api_addr.map(|a| format!("http://{a}")),
            boot_url,
        },
    };
    let ctx = Arc::new(Ctx {
        registration,
        link,
        store,
        status,
        reporter,
        bmcs,
        executor,
        discovery: discovery_tx,
        nodes_changed,
        rack,
        scope_key,
        desired_changed,
        boot: boot_stats,
    });
    let interval = match config.rediscover_interval {
        None => Some(DEFAULT_REDISCOVER_INTERVAL),
        Some(d) if d.is_zero() => None,
        Some(d) => Some(d),
    };
    let config = Arc::new(config);
    let discovery = discovery_loop::DiscoveryLoop {
        ctx: Arc::clone(&ctx),
        discoverer,
        namer: Namer::from_config(&config),
        config: Arc::clone(&config),
        interval,
    };
    tasks.spawn(
        discovery
            .run(discovery_rx, shutdown.clone())
            .instrument(span.clone()),
    );
    tasks.spawn(session::run(Arc::clone(&ctx), shutdown.clone()).instrument(span.clone()));
    tasks.spawn(watch::run(Arc::clone(&ctx), shutdown.clone()).instrument(span.clone()));
    tasks.spawn(
        outbox::run(Arc::clone(&ctx), appended_rx, shutdown.clone()).instrument(span.clone()),
    );
    if let Some(every) = config.power.status_interval() {
        let poll = poll::run(
            Arc::clone(&ctx),
            every,
            config.power.status_concurrency,
            nodes_rx,
            shutdown.clone(),
        );
        tasks.spawn(poll.instrument(span.clone()));
    }
    if let Some(listener) = listener {
        tasks.spawn(
            api::serve(listener, Arc::clone(&ctx), shutdown.clone()).instrument(span.clone()),
        );
    }
    tracing::info!(
        agent = %req.agent_id,
        coordinators = ?config.coordinators,
        data_dir = %req.data_dir.display(),
        api = ?api_addr,
        "agent started"
    );
    Ok(Handle {
        trigger,
        tasks,
        ctx,
        api_addr,
        boot_addrs,
    })
}

/// A running agent. Dropping it stops the loops abruptly (as [`Handle::kill`] does, without
/// waiting).
#[derive(Debug)]
pub struct Handle {
    trigger: shutdown::Trigger,
    tasks: JoinSet<()>,
    ctx: Arc<Ctx>,
    api_addr: Option<SocketAddr>,
    boot_addrs: BootAddrs,
}

/// Where the boot services listen (those that run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BootAddrs {
    /// HTTP: scripts, cloud-init, images.
    pub http: Option<SocketAddr>,
    /// DHCP.
    pub dhcp: Option<SocketAddr>,
    /// TFTP.
    pub tftp: Option<SocketAddr>,
}

/// Longest wait for the loops to stop on a graceful shutdown.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

impl Handle {
    /// Where the agent's API listens, if it serves one.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api_addr
    }

    /// Where the HTTP boot service listens, if it runs.
    pub fn boot_addr(&self) -> Option<SocketAddr> {
        self.boot_addrs.http
    }

    /// Where each boot service listens.
    pub fn boot_addrs(&self) -> BootAddrs {
        self.boot_addrs
    }

    /// The rack's desired state as the agent holds it.
    pub fn rack(&self) -> &Arc<crate::boot::RackState> {
        &self.ctx.rack
    }

    /// The agent's status now.
    pub fn status(&self) -> AgentStatus {
        self.ctx.status()
    }

    /// Runs until `signal` resolves, then stops gracefully.
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        tracing::info!("stopping");
        self.shutdown().await;
    }

    /// Stops every loop at its next safe point (what is written stays written; power tasks
    /// resume from their stored step at the next start) and closes the store.
    pub async fn shutdown(mut self) {
        self.trigger.fire();
        let joined = tokio::time::timeout(STOP_TIMEOUT, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if joined.is_err() {
            tracing::warn!("some loops did not stop in time: aborting them");
        }
        self.kill().await;
    }

    /// Stops every loop at once, as a crash would (minus the process exit): nothing more is
    /// written, and the store is closed when this returns.
    pub async fn kill(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// The scope as the desired state on disk is keyed: a different scope needs all of it again.
fn scope_key(scope: &BTreeSet<u32>) -> String {
    scope
        .iter()
        .map(|c| cabinet_name(*c))
        .collect::<Vec<_>>()
        .join(",")
}

/// An error with its causes, for logs.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
