//! Shared handler state: the local replica, and the two ways to reach the leader (writes are
//! forwarded, follower reads ask it for a read index).

use std::sync::Arc;
use std::time::Duration;

use cairn_raft::{Node, NodeId, Replica, WriteError};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::ReadMode;
use super::metrics::Metrics;
use crate::inventory::{Applied, Command, Inventory, Outcome};

/// Path of the internal endpoint a follower forwards commands to.
pub const PROPOSE_PATH: &str = "/apis/cairn/v1/internal/propose";
/// Path of the internal endpoint a follower asks for a read index.
pub const READ_INDEX_PATH: &str = "/apis/cairn/v1/internal/read-index";

/// What the leader answers to a read-index request.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReadIndex {
    /// Every write acknowledged before the request is applied at or below this log index.
    pub applied: u64,
}

/// Handler state (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    replica: Replica<Inventory>,
    http: reqwest::Client,
    quorum_timeout: Duration,
    metrics: Metrics,
    boot: cairn_bootsvc::BootConfig,
    /// Agent liveness (meaningful on the leader).
    agents: crate::agents::Registry,
}

/// Where boot serving says nodes reach a replica built with [`AppState::new`]: the default API
/// address.
pub const DEFAULT_BOOT_URL: &str = "http://127.0.0.1:27779";

impl AppState {
    /// State for a replica; `quorum_timeout` bounds every wait for the leader or a quorum.
    /// Boot serving advertises [`DEFAULT_BOOT_URL`]; [`AppState::with_boot`] says otherwise.
    pub fn new(
        replica: Replica<Inventory>,
        quorum_timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let boot = cairn_bootsvc::BootConfig::new(
            DEFAULT_BOOT_URL,
            format!("{DEFAULT_BOOT_URL}/cloud-init"),
        );
        Self::with_boot(replica, quorum_timeout, boot)
    }

    /// [`AppState::new`] with boot serving's settings (validated by [`crate::Config`]).
    pub fn with_boot(
        replica: Replica<Inventory>,
        quorum_timeout: Duration,
        boot: cairn_bootsvc::BootConfig,
    ) -> Result<Self, reqwest::Error> {
        let http = crate::net::http_client(quorum_timeout)?;
        Ok(AppState(Arc::new(Inner {
            replica,
            http,
            quorum_timeout,
            metrics: Metrics::new(),
            boot,
            agents: crate::agents::Registry::default(),
        })))
    }

    /// Agent liveness, as heard by this replica (only the leader's is authoritative).
    pub fn agents(&self) -> &crate::agents::Registry {
        &self.0.agents
    }

    /// The client replicas use to reach each other.
    pub(crate) fn http_client(&self) -> reqwest::Client {
        self.0.http.clone()
    }

    /// Boot serving's settings.
    pub fn boot_config(&self) -> &cairn_bootsvc::BootConfig {
        &self.0.boot
    }

    /// The client replicas use to reach each other (bounded by the quorum timeout unless a
    /// request sets its own).
    pub(super) fn http(&self) -> &reqwest::Client {
        &self.0.http
    }

    /// The local replica.
    pub fn replica(&self) -> &Replica<Inventory> {
        &self.0.replica
    }

    /// Request and Raft metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Replicate a command, through the leader wherever it is, and return its outcome.
    pub async fn submit(&self, cmd: Command) -> Result<Applied, ApiError> {
        Ok(self.propose(cmd).await??)
    }

    /// Replicate a command and return the raw replicated outcome (the propose endpoint).
    pub async fn propose(&self, cmd: Command) -> Result<Outcome, ApiError> {
        match self.0.replica.write(&cmd).await {
            Ok(outcome) => Ok(outcome),
            Err(WriteError::ForwardToLeader {
                leader: Some(leader),
                leader_id,
            }) => self.forward(leader_id, &leader, &cmd).await,
            Err(e) => Err(write_error(e)),
        }
    }

    async fn forward(
        &self,
        id: Option<NodeId>,
        leader: &Node,
        cmd: &Command,
    ) -> Result<Outcome, ApiError> {
        let url = format!("http://{}{PROPOSE_PATH}", leader.api_addr);
        tracing::debug!(leader = ?id, %url, "forwarding write to the leader");
        let resp = self.0.http.post(&url).json(cmd).send().await.map_err(|e| {
            ApiError::Unavailable(format!(
                "leader {} at {} is unreachable: {e}",
                id.unwrap_or(0),
                leader.api_addr
            ))
        })?;
        if !resp.status().is_success() {
            return Err(problem_from_peer(resp).await);
        }
        resp.json::<Outcome>()
            .await
            .map_err(|e| ApiError::Internal(format!("leader sent an unreadable outcome: {e}")))
    }

    /// Run `f` on the inventory once it reflects every write acknowledged before this call
    /// (or at once, for stale reads).
    pub async fn read<R>(
        &self,
        mode: ReadMode,
        f: impl FnOnce(&Inventory) -> R,
    ) -> Result<R, ApiError> {
        if mode == ReadMode::Linearizable {
            self.read_barrier().await?;
        }
        Ok(self.0.replica.read(f))
    }

    /// The leader's answer to a read-index request: after this, its applied index covers
    /// every acknowledged write.
    pub async fn local_read_index(&self) -> Result<ReadIndex, ApiError> {
        match self.0.replica.ensure_linearizable().await {
            Ok(()) => Ok(ReadIndex {
                applied: self.0.replica.status().last_applied.unwrap_or(0),
            }),
            Err(e) => Err(write_error(e)),
        }
    }

    async fn read_barrier(&self) -> Result<(), ApiError> {
        match self.0.replica.ensure_linearizable().await {
            Ok(()) => Ok(()),
            Err(WriteError::ForwardToLeader {
                leader: Some(leader),
                ..
            }) => {
                let url = format!("http://{}{READ_INDEX_PATH}", leader.api_addr);
                let resp = self.0.http.post(&url).send().await.map_err(|e| {
                    ApiError::Unavailable(format!(
                        "leader at {} is unreachable: {e}",
                        leader.api_addr
                    ))
                })?;
                if !resp.status().is_success() {
                    return Err(ApiError::Unavailable(format!(
                        "leader refused a read index ({})",
                        resp.status()
                    )));
                }
                let index: ReadIndex = resp.json().await.map_err(|e| {
                    ApiError::Internal(format!("leader sent an unreadable read index: {e}"))
                })?;
                self.wait_applied(index.applied).await
            }
            Err(e) => Err(write_error(e)),
        }
    }

    async fn wait_applied(&self, index: u64) -> Result<(), ApiError> {
        let mut rx = self.0.replica.metrics();
        let reached = tokio::time::timeout(
            self.0.quorum_timeout,
            rx.wait_for(|m| m.last_applied.is_some_and(|l| l.index >= index)),
        )
        .await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(ApiError::Unavailable(format!(
                "this replica has not applied index {index} yet; retry or read from the leader"
            ))),
        }
    }
}

/// The one mapping from Raft's write errors to the API's.
pub(super) fn write_error(e: WriteError) -> ApiError {
    match e {
        WriteError::ForwardToLeader { .. } => ApiError::Unavailable(
            "no leader is known (election in progress or no quorum); retry".into(),
        ),
        WriteError::Unavailable(m) => ApiError::Unavailable(format!("no quorum: {m}")),
        WriteError::Membership(m) => ApiError::Conflict(m),
        WriteError::Internal(m) => ApiError::Internal(m),
        e @ WriteError::TooLarge { .. } => ApiError::PayloadTooLarge(format!(
            "{e}: split the request (a bulk load of components fits about 10,000 per request)"
        )),
    }
}

/// A peer replica's error answer, status and detail kept, so the cause reaches the client.
pub(super) async fn problem_from_peer(resp: reqwest::Response) -> ApiError {
    let status = resp.status();
    let detail = resp
        .json::<cairn_protocols::Problem>()
        .await
        .map(|p| p.detail)
        .unwrap_or_else(|_| format!("the leader answered {status}"));
    match status.as_u16() {
        400 => ApiError::BadRequest(detail),
        404 => ApiError::NotFound(detail),
        409 => ApiError::Conflict(detail),
        413 => ApiError::PayloadTooLarge(detail),
        500 => ApiError::Internal(detail),
        _ => ApiError::Unavailable(detail),
    }
}
