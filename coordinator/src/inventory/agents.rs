//! The replicated part of the rack agents: who is registered with which scope, the highest
//! report applied per agent (so a replayed report applies once, whoever leads), and the
//! discover requests of `POST /hsm/v2/Inventory/Discover`. Liveness is not here: it lives in
//! the leader's memory (`crate::agents::Registry`).

use std::collections::{BTreeMap, BTreeSet};

use cairn_protocols::agent::{AgentEndpoints, Registration, Report, ReportItem, cabinet_name};
use cairn_protocols::{RedfishEndpoint, Xname};
use serde::{Deserialize, Serialize};

use super::index::Touched;
use super::state::Inventory;

/// How many discover requests are kept (older ones are forgotten).
pub const DISCOVER_REQUESTS_KEPT: usize = 64;

/// A registered agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    /// Its id.
    pub id: String,
    /// The cabinet numbers it serves.
    pub scope: BTreeSet<u32>,
    /// The version it registered with.
    pub version: String,
    /// What it serves, where.
    pub endpoints: AgentEndpoints,
    /// When it last registered (Unix ms, proposal time).
    pub registered_ms: u64,
    /// The highest report sequence number applied: reports up to it are duplicates.
    pub last_seq: u64,
}

impl AgentRecord {
    /// Whether `x` lies in one of its cabinets.
    pub fn holds(&self, x: &Xname) -> bool {
        x.cabinet().is_some_and(|c| self.scope.contains(&c))
    }
}

/// One `POST /Inventory/Discover`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverRecord {
    /// Its id: the inventory revision that recorded it.
    pub id: u64,
    /// The BMCs asked for (empty: everything).
    pub targets: Vec<Xname>,
    /// Whether `force` was given.
    pub force: bool,
    /// When it was asked (Unix ms).
    pub requested_ms: u64,
    /// The agents asked, and whether each has reported it done.
    pub agents: BTreeMap<String, bool>,
    /// Targets no agent's scope holds.
    pub unassigned: Vec<Xname>,
    /// When its status last changed (Unix ms).
    pub updated_ms: u64,
}

impl DiscoverRecord {
    /// SMD's status: `Pending` (no agent done), `InProgress` (some), `Complete` (all or none
    /// asked).
    pub fn status(&self) -> &'static str {
        let done = self.agents.values().filter(|d| **d).count();
        if done == self.agents.len() {
            "Complete"
        } else if done == 0 {
            "Pending"
        } else {
            "InProgress"
        }
    }

    /// The part of `targets` in `agent`'s scope (empty targets stay empty: everything).
    pub fn targets_for(&self, agent: &AgentRecord) -> Vec<Xname> {
        self.targets
            .iter()
            .filter(|t| agent.holds(t))
            .cloned()
            .collect()
    }
}

/// Every agent record (absent from snapshots taken before agents existed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecords {
    pub(super) agents: BTreeMap<String, AgentRecord>,
    pub(super) discover: BTreeMap<u64, DiscoverRecord>,
}

impl AgentRecords {
    /// Every registered agent, by id.
    pub fn agents(&self) -> impl Iterator<Item = &AgentRecord> {
        self.agents.values()
    }

    /// One agent.
    pub fn agent(&self, id: &str) -> Option<&AgentRecord> {
        self.agents.get(id)
    }

    /// The agent whose scope holds cabinet `cabinet`.
    pub fn owner_of_cabinet(&self, cabinet: u32) -> Option<&AgentRecord> {
        self.agents.values().find(|a| a.scope.contains(&cabinet))
    }

    /// The agent whose scope holds `x`.
    pub fn owner_of(&self, x: &Xname) -> Option<&AgentRecord> {
        x.cabinet().and_then(|c| self.owner_of_cabinet(c))
    }

    /// The discover requests kept, oldest first.
    pub fn discover_requests(&self) -> impl Iterator<Item = &DiscoverRecord> {
        self.discover.values()
    }

    /// One discover request.
    pub fn discover_request(&self, id: u64) -> Option<&DiscoverRecord> {
        self.discover.get(&id)
    }
}

impl Inventory {
    /// The registered agents and the discover requests.
    pub fn agents(&self) -> &AgentRecords {
        &self.agents
    }

    /// The Redfish endpoints of one cabinet (a range of the ordered map, not a scan).
    pub fn redfish_endpoints_in_cabinet(
        &self,
        cabinet: u32,
    ) -> impl Iterator<Item = &RedfishEndpoint> {
        Xname::parse(&cabinet_name(cabinet))
            .ok()
            .into_iter()
            .flat_map(move |start| {
                self.redfish_endpoints
                    .range(start..)
                    .take_while(move |(id, _)| id.cabinet() == Some(cabinet))
                    .map(|(_, ep)| ep)
            })
    }
}

/// A replicated change to the agents' records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AgentCommand {
    /// Register (or re-register) an agent.
    Register {
        /// The validated registration.
        registration: Registration,
        /// Proposal time (Unix ms).
        now_ms: u64,
    },
    /// `DELETE /apis/cairn/v1/agents/{id}`: forget an agent (its cabinets become free).
    Remove(String),
    /// A validated report, applied once per (agent, seq).
    Report {
        /// The report.
        report: Report,
        /// Proposal time (Unix ms).
        now_ms: u64,
    },
    /// `POST /hsm/v2/Inventory/Discover`.
    Discover {
        /// BMC xnames (empty: everything).
        targets: Vec<Xname>,
        /// Run even if another request is still pending.
        force: bool,
        /// Proposal time (Unix ms).
        now_ms: u64,
    },
}

impl AgentCommand {
    /// What the command may change in the derived indexes: discovery writes components and
    /// interfaces; nothing else here touches NIDs or addresses.
    pub(super) fn touched(&self) -> Touched {
        let AgentCommand::Report { report, .. } = self else {
            return Touched::Nothing;
        };
        let (mut components, mut interfaces) = (Vec::new(), Vec::new());
        for item in &report.items {
            match item {
                ReportItem::Discovery(d) => {
                    if let cairn_protocols::DiscoveryOutcome::Found {
                        components: cs,
                        interfaces: is,
                        ..
                    } = &d.outcome
                    {
                        components.extend(cs.iter().map(|c| c.id.clone()));
                        interfaces.extend(is.iter().map(|i| i.id.clone()));
                    }
                }
                ReportItem::MacSeen(m) => interfaces.push(m.mac.smd_id()),
                ReportItem::LeaseAssigned(l) => interfaces.push(l.mac.smd_id()),
                _ => {}
            }
        }
        if components.is_empty() && interfaces.is_empty() {
            Touched::Nothing
        } else {
            Touched::Some {
                components,
                interfaces,
            }
        }
    }
}
