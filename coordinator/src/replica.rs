//! Starting a replica: listeners, the Raft node on sled, the API server, and joining or
//! bootstrapping a cluster.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use cairn_raft::{Node, RaftConfig, RaftError, Replica, Storage, Transport};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::api::{self, AddMember, AppState};
use crate::config::{Config, ConfigError};
use crate::inventory::Inventory;

/// Where a started replica listens (also written to `<data_dir>/endpoints.json`, so scripts
/// and tests can use port 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    /// The REST API.
    pub api: SocketAddr,
    /// Raft gRPC.
    pub raft: SocketAddr,
}

/// Why a replica could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is unusable.
    #[error("invalid configuration")]
    Config(#[from] ConfigError),
    /// A listener, the data directory or the endpoints file failed.
    #[error("I/O failure: {context}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The Raft node failed to start or to stop.
    #[error("raft failure")]
    Raft(#[from] RaftError),
    /// A server task ended abnormally.
    #[error("{0}")]
    Server(String),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let context = context.into();
    move |source| StartError::Io { context, source }
}

/// A running replica.
pub struct Handle {
    endpoints: Endpoints,
    replica: Replica<Inventory>,
    stop: watch::Sender<bool>,
    api: JoinHandle<std::io::Result<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Handle {
    /// Where it listens.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The Raft replica (for in-process tests and tools).
    pub fn replica(&self) -> &Replica<Inventory> {
        &self.replica
    }

    /// Serve until `signal` completes (then stop cleanly) or the API server stops on its own
    /// (then stop and report why): a replica without its API must not linger.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> Result<(), StartError> {
        let Handle {
            replica,
            stop,
            mut api,
            tasks,
            ..
        } = self;
        let result = tokio::select! {
            () = signal => {
                let _ = stop.send(true);
                (&mut api).await
            }
            ended = &mut api => {
                let _ = stop.send(true);
                match ended {
                    Ok(Ok(())) => Ok(Err(std::io::Error::other("the API server stopped unexpectedly"))),
                    other => other,
                }
            }
        };
        finish(replica, tasks, result).await
    }

    /// Stop serving, then stop Raft.
    pub async fn shutdown(self) -> Result<(), StartError> {
        let Handle {
            replica,
            stop,
            api,
            tasks,
            ..
        } = self;
        let _ = stop.send(true);
        finish(replica, tasks, api.await).await
    }
}

async fn finish(
    replica: Replica<Inventory>,
    tasks: Vec<JoinHandle<()>>,
    result: Result<std::io::Result<()>, tokio::task::JoinError>,
) -> Result<(), StartError> {
    for t in &tasks {
        t.abort();
    }
    replica.shutdown().await?;
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(StartError::Io {
            context: "API server".into(),
            source: e,
        }),
        Err(e) => Err(StartError::Server(format!("API server task failed: {e}"))),
    }
}

fn write_endpoints(dir: &Path, endpoints: &Endpoints) -> Result<(), StartError> {
    let tmp = dir.join("endpoints.json.tmp");
    let body =
        serde_json::to_vec_pretty(endpoints).map_err(|e| StartError::Server(e.to_string()))?;
    std::fs::write(&tmp, body).map_err(io(format!("writing {}", tmp.display())))?;
    std::fs::rename(&tmp, dir.join("endpoints.json")).map_err(io("publishing endpoints.json"))
}

/// Start a replica: bind, open the Raft store in `data_dir`, serve, and bootstrap or join.
pub async fn start(config: Config) -> Result<Handle, StartError> {
    let span = tracing::info_span!("replica", node = config.node_id);
    start_in_span(config).instrument(span).await
}

async fn start_in_span(config: Config) -> Result<Handle, StartError> {
    config.validate()?;
    std::fs::create_dir_all(&config.data_dir).map_err(io(format!(
        "creating data dir {}",
        config.data_dir.display()
    )))?;
    let api_listener = crate::net::listen(config.api_listen, "the API")
        .await
        .map_err(io("binding the API"))?;
    let raft_listener = crate::net::listen(config.raft_listen, "Raft")
        .await
        .map_err(io("binding Raft"))?;
    let endpoints = Endpoints {
        api: api_listener.local_addr().map_err(io("API address"))?,
        raft: raft_listener.local_addr().map_err(io("Raft address"))?,
    };
    let node = Node {
        raft_addr: config
            .raft_advertise
            .clone()
            .unwrap_or_else(|| endpoints.raft.to_string()),
        api_addr: config
            .api_advertise
            .clone()
            .unwrap_or_else(|| endpoints.api.to_string()),
    };
    let state_client =
        |e: reqwest::Error| StartError::Server(format!("cannot build the HTTP client: {e}"));

    let mut rc = RaftConfig::new(
        config.node_id,
        node.clone(),
        Storage::Sled(config.data_dir.join("raft")),
    );
    let t = &config.raft;
    rc.heartbeat_interval = Duration::from_millis(t.heartbeat_ms);
    rc.election_timeout_min = Duration::from_millis(t.election_timeout_min_ms);
    rc.election_timeout_max = Duration::from_millis(t.election_timeout_max_ms);
    rc.snapshot_logs_since_last = t.snapshot_logs_since_last;
    rc.max_logs_kept_after_snapshot = t.max_logs_kept_after_snapshot;
    rc.op_timeout = config.quorum_timeout;
    let replica = Replica::start(rc, Inventory::default(), Transport::Grpc).await?;
    let boot = config.boot.resolve(&node.api_addr);
    let state = match AppState::with_boot(replica.clone(), config.quorum_timeout, boot) {
        Ok(state) => state,
        Err(e) => {
            replica.shutdown().await?;
            return Err(state_client(e));
        }
    };

    let (stop, stop_rx) = watch::channel(false);
    let raft_task = {
        let r = replica.clone();
        tokio::spawn(
            async move {
                if let Err(e) = r.serve_grpc(raft_listener).await {
                    tracing::error!(error = %e, "raft gRPC server stopped");
                }
            }
            .in_current_span(),
        )
    };
    let api = {
        let mut rx = stop_rx.clone();
        let agents = state.agents().clone();
        let app = api::service(state.clone());
        tokio::spawn(async move {
            // Connect info: node-facing cloud-init identifies the node by its address.
            axum::serve(
                api_listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
                agents.close();
            })
            .await
        })
    };
    let timers = crate::agents::timers::spawn(state, stop_rx.clone());
    let mut handle = Handle {
        endpoints,
        replica,
        stop,
        api,
        tasks: vec![raft_task, timers],
    };
    // From here on the servers run: a failure must stop them, or a retry in this process
    // would find its ports and its sled database still held.
    match join_or_bootstrap(&config, &node, &mut handle, stop_rx).await {
        Ok(()) => {
            tracing::info!(api = %endpoints.api, raft = %endpoints.raft, "replica started");
            Ok(handle)
        }
        Err(e) => {
            let _ = handle.shutdown().await;
            Err(e)
        }
    }
}

async fn join_or_bootstrap(
    config: &Config,
    node: &Node,
    handle: &mut Handle,
    stop: watch::Receiver<bool>,
) -> Result<(), StartError> {
    let replica = &handle.replica;
    let initialized = replica.is_initialized().await?;
    if config.bootstrap && !initialized {
        tracing::info!("bootstrapping a new cluster");
        replica
            .initialize(BTreeMap::from([(config.node_id, node.clone())]))
            .await?;
    } else if let Some(url) = config.join.clone().filter(|_| !initialized) {
        let join = AddMember {
            id: config.node_id,
            raft_addr: node.raft_addr.clone(),
            api_addr: node.api_addr.clone(),
        };
        let client = crate::net::http_client(Duration::from_secs(120))
            .map_err(|e| StartError::Server(format!("cannot build the HTTP client: {e}")))?;
        handle.tasks.push(tokio::spawn(
            join_cluster(client, url, join, stop).in_current_span(),
        ));
    } else if initialized {
        tracing::info!("resuming with the stored Raft state");
    } else {
        tracing::warn!(
            "not a cluster member yet: start with --bootstrap or --join, or add it with 'cairn cluster add'"
        );
    }
    write_endpoints(&config.data_dir, &handle.endpoints)
}

/// Ask a member to add this replica, retrying with backoff until it accepts or we stop:
/// the member may itself be starting.
async fn join_cluster(
    client: reqwest::Client,
    url: String,
    join: AddMember,
    mut stop: watch::Receiver<bool>,
) {
    let target = format!(
        "{}/apis/cairn/v1/cluster/members",
        url.trim_end_matches('/')
    );
    let mut delay = Duration::from_millis(200);
    loop {
        match client.post(&target).json(&join).send().await {
            Ok(r) if r.status().is_success() => {
                tracing::info!(%url, "joined the cluster");
                return;
            }
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                tracing::warn!(%url, %status, %body, "join refused; retrying");
            }
            Err(e) => {
                tracing::warn!(%url, error = %e, "cannot reach the cluster to join; retrying")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
