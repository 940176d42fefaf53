//! What the agent reports about itself (`GET /status`, [`crate::runtime::Handle::status`]):
//! connected to the coordinators or autonomous, since when, last contact, outbox depth, last
//! discovery, power tasks held.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::now_ms;

/// Whether the agent currently reaches the coordinators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    /// Registered and heard back from within three heartbeat intervals.
    Connected,
    /// Cut off (or not registered yet): working from what it holds, queueing reports.
    Autonomous,
}

/// The agent's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    /// The agent's id.
    pub agent_id: String,
    /// Its software version.
    pub version: String,
    /// The cabinets it serves (`x1000`).
    pub scope: Vec<String>,
    /// Its link to the coordinators.
    pub coordinator: CoordinatorStatus,
    /// Its outbox.
    pub outbox: OutboxStatus,
    /// Its discovery runs.
    pub discovery: DiscoveryProgress,
    /// Its power work.
    pub power: PowerProgress,
    /// The rack's desired state it serves boots from.
    pub desired: crate::boot::DesiredStatus,
    /// Its boot services' counters.
    pub boot: crate::boot::BootStatus,
}

/// The link to the coordinators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorStatus {
    /// Connected or autonomous.
    pub state: LinkState,
    /// Since when (Unix ms).
    pub since_ms: u64,
    /// The last successful exchange with a replica (Unix ms).
    pub last_contact_ms: Option<u64>,
    /// Whether the agent holds a registration.
    pub registered: bool,
    /// The replica in use.
    pub url: String,
    /// The last failed call, if any.
    pub last_error: Option<String>,
}

/// The outbox of reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxStatus {
    /// Reports waiting to be acknowledged.
    pub depth: usize,
    /// The sequence number of the next report.
    pub next_seq: u64,
    /// The last report acknowledged.
    pub last_acked_seq: u64,
    /// Reports acknowledged as already applied (resent after a lost acknowledgement).
    pub duplicates: u64,
    /// Reports refused as malformed and dropped.
    pub refused: u64,
}

/// Discovery runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryProgress {
    /// Whether a run is going on.
    pub running: bool,
    /// Runs finished since the agent started.
    pub runs: u64,
    /// When the last run started (Unix ms).
    pub last_started_ms: Option<u64>,
    /// When the last run finished (Unix ms).
    pub last_finished_ms: Option<u64>,
    /// BMCs of the last run discovered completely.
    pub found: usize,
    /// BMCs of the last run whose result changed since the run before.
    pub changed: usize,
    /// BMCs of the last run that failed.
    pub failed: usize,
}

/// Power work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerProgress {
    /// Tasks held (queued, running, or finished and not yet forgotten).
    pub tasks_held: usize,
    /// Tasks running now.
    pub tasks_running: usize,
    /// Nodes whose power state the agent polls.
    pub nodes_polled: usize,
}

#[derive(Debug)]
struct Board {
    started_ms: u64,
    registered: bool,
    heartbeat_ms: u64,
    last_contact_ms: Option<u64>,
    connected_since_ms: u64,
    outbox: OutboxStatus,
    discovery: DiscoveryProgress,
}

/// The mutable parts of the status, updated by the loops.
#[derive(Debug)]
pub struct StatusBoard {
    board: Mutex<Board>,
}

impl Default for StatusBoard {
    fn default() -> Self {
        let now = now_ms();
        StatusBoard {
            board: Mutex::new(Board {
                started_ms: now,
                registered: false,
                heartbeat_ms: 5_000,
                last_contact_ms: None,
                connected_since_ms: now,
                outbox: OutboxStatus::default(),
                discovery: DiscoveryProgress::default(),
            }),
        }
    }
}

impl Board {
    fn connected_at(&self, now: u64) -> bool {
        self.registered
            && self
                .last_contact_ms
                .is_some_and(|t| now.saturating_sub(t) <= 3 * self.heartbeat_ms)
    }
}

impl StatusBoard {
    fn with<T>(&self, f: impl FnOnce(&mut Board) -> T) -> T {
        let mut b = self
            .board
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut b)
    }

    /// A call to a replica succeeded.
    pub fn contact(&self) {
        let now = now_ms();
        self.with(|b| {
            if !b.connected_at(now) {
                b.connected_since_ms = now;
            }
            b.last_contact_ms = Some(now);
        });
    }

    /// The registration was gained or lost.
    pub fn registered(&self, registered: bool) {
        let now = now_ms();
        self.with(|b| {
            if registered && !b.connected_at(now) {
                b.connected_since_ms = now;
            }
            b.registered = registered;
        });
    }

    /// The heartbeat interval in force.
    pub fn heartbeat(&self, ms: u64) {
        self.with(|b| b.heartbeat_ms = ms.max(1));
    }

    /// Report `seq` was acknowledged (`duplicate`: it had been applied before).
    pub fn acked(&self, seq: u64, duplicate: bool) {
        self.with(|b| {
            b.outbox.last_acked_seq = b.outbox.last_acked_seq.max(seq);
            b.outbox.duplicates += u64::from(duplicate);
        });
    }

    /// A report was refused as malformed and dropped.
    pub fn refused(&self) {
        self.with(|b| b.outbox.refused += 1);
    }

    /// A discovery run started.
    pub fn discovery_started(&self) {
        let now = now_ms();
        self.with(|b| {
            b.discovery.running = true;
            b.discovery.last_started_ms = Some(now);
        });
    }

    /// A discovery run finished with these counts.
    pub fn discovery_finished(&self, found: usize, changed: usize, failed: usize) {
        let now = now_ms();
        self.with(|b| {
            let d = &mut b.discovery;
            d.running = false;
            d.runs += 1;
            d.last_finished_ms = Some(now);
            (d.found, d.changed, d.failed) = (found, changed, failed);
        });
    }

    /// The link part of the status, and the counters kept here.
    pub(super) fn snapshot(
        &self,
    ) -> (
        LinkState,
        u64,
        Option<u64>,
        bool,
        OutboxStatus,
        DiscoveryProgress,
    ) {
        let now = now_ms();
        self.with(|b| {
            let (state, since) = if b.connected_at(now) {
                (LinkState::Connected, b.connected_since_ms)
            } else {
                (
                    LinkState::Autonomous,
                    b.last_contact_ms.unwrap_or(b.started_ms),
                )
            };
            (
                state,
                since,
                b.last_contact_ms,
                b.registered,
                b.outbox.clone(),
                b.discovery.clone(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connected_needs_registration_and_recent_contact() {
        let s = StatusBoard::default();
        assert_eq!(s.snapshot().0, LinkState::Autonomous);
        s.contact();
        assert_eq!(s.snapshot().0, LinkState::Autonomous, "not registered yet");
        s.registered(true);
        let (state, since, last, ..) = s.snapshot();
        assert_eq!(state, LinkState::Connected);
        assert!(last.is_some() && since <= now_ms());
        s.registered(false);
        let (state, since, last, ..) = s.snapshot();
        assert_eq!(state, LinkState::Autonomous);
        assert_eq!(Some(since), last, "autonomous since the last contact");
    }

    #[test]
    fn status_json_names() {
        let status = AgentStatus {
            agent_id: "rack-1".into(),
            version: "0.1.0".into(),
            scope: vec!["x1000".into()],
            coordinator: CoordinatorStatus {
                state: LinkState::Autonomous,
                since_ms: 1,
                last_contact_ms: None,
                registered: false,
                url: "http://127.0.0.1:27779".into(),
                last_error: None,
            },
            outbox: OutboxStatus::default(),
            discovery: DiscoveryProgress::default(),
            power: PowerProgress::default(),
            desired: crate::boot::DesiredStatus::default(),
            boot: crate::boot::BootStatus::default(),
        };
        let v = serde_json::to_value(&status).unwrap();
        assert_eq!(v["coordinator"]["state"], "autonomous");
        assert_eq!(v["outbox"]["depth"], 0);
        assert_eq!(v["desired"]["revision"], 0);
    }
}
