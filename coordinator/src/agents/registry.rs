//! Agent liveness: when each agent was last heard from, kept in the leader's memory only
//! (heartbeats would swamp the log, and liveness need not survive a failover: agents heartbeat
//! every few seconds, so a new leader knows them again within one interval).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How often agents heartbeat (told to them in `RegisterResponse`).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);

/// An agent not heard from for this long is stale.
pub const STALE_AFTER: Duration = Duration::from_secs(15);

/// What the leader knows of an agent's liveness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Liveness {
    /// When it was last heard from (monotonic).
    pub last_seen: Instant,
    /// The same, in Unix ms (for display).
    pub last_seen_ms: u64,
    /// The version it last announced.
    pub version: String,
    /// What its last heartbeat said of its outbox and desired state, if it sent one.
    pub health: Option<AgentHealth>,
}

/// What an agent's heartbeat tells of its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct AgentHealth {
    /// Reports waiting in its outbox.
    pub outbox_depth: u64,
    /// The desired-state revision it holds.
    pub desired_revision: u64,
}

/// Whether an agent is currently heard from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    /// Heard from within [`STALE_AFTER`].
    Connected,
    /// Not heard from within [`STALE_AFTER`], or never by this leader.
    Stale,
}

impl AgentState {
    /// Lower-case name, as the agents API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Connected => "connected",
            AgentState::Stale => "stale",
        }
    }
}

/// The liveness table, and the signal that ends every Watch stream when the replica stops
/// (cheap to clone; clones share both).
#[derive(Debug, Clone)]
pub struct Registry {
    table: Arc<Mutex<HashMap<String, Liveness>>>,
    closing: Arc<watch::Sender<bool>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            table: Arc::default(),
            closing: Arc::new(watch::channel(false).0),
        }
    }
}

impl Registry {
    fn table(&self) -> MutexGuard<'_, HashMap<String, Liveness>> {
        // A panic while holding this lock cannot leave the map half-updated.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// End every Watch stream: they never end on their own, and a graceful server shutdown
    /// waits for open streams.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`Registry::close`] was called.
    pub async fn closed(&self) {
        let mut rx = self.closing.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Record that `id` was heard from now, running `version` (`None`: as last announced),
    /// in the state `health` says (`None`: as last told).
    pub fn seen(&self, id: &str, version: Option<&str>, health: Option<AgentHealth>) {
        let mut table = self.table();
        let last = table.get(id);
        let version = version
            .map(str::to_owned)
            .or_else(|| last.map(|l| l.version.clone()))
            .unwrap_or_default();
        let health = health.or_else(|| last.and_then(|l| l.health));
        let entry = Liveness {
            last_seen: Instant::now(),
            last_seen_ms: crate::clock::now_ms(),
            version,
            health,
        };
        table.insert(id.to_owned(), entry);
    }

    /// What is known of `id`.
    pub fn get(&self, id: &str) -> Option<Liveness> {
        self.table().get(id).cloned()
    }

    /// Forget `id` (it was removed).
    pub fn forget(&self, id: &str) {
        self.table().remove(id);
    }

    /// The state of `id` now.
    pub fn state(&self, id: &str) -> AgentState {
        match self.get(id) {
            Some(l) if l.last_seen.elapsed() < STALE_AFTER => AgentState::Connected,
            _ => AgentState::Stale,
        }
    }
}
