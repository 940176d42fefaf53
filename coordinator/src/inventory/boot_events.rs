//! What rack agents report about the boots they serve: for each node (or unknown MAC), the
//! latest time each step was served and by which agent, so an operator sees that a rack kept
//! booting while it was cut off (`GET /apis/cairn/v1/boots`). One small record per node,
//! overwritten: a boot storm of a 100,000-node machine does not grow the inventory.

use std::collections::BTreeMap;

use cairn_protocols::agent::{BootEvent, BootStep};
use cairn_protocols::{MacAddr, Xname};
use serde::{Deserialize, Serialize};

use super::state::Inventory;

/// When one step was served last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepRecord {
    /// The agent that served it.
    #[serde(rename = "Agent")]
    pub agent: String,
    /// When (Unix ms, agent clock).
    #[serde(rename = "AtMs")]
    pub at_ms: u64,
    /// The same, RFC 3339.
    #[serde(rename = "At")]
    pub at: String,
    /// The node's address then.
    #[serde(rename = "IPAddress", skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// The boot steps served to one node or MAC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BootRecord {
    /// The node, when the agent knew it.
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    pub xname: Option<Xname>,
    /// The MAC, when known.
    #[serde(rename = "MACAddress", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub mac: Option<MacAddr>,
    /// Step name (`dhcp`, `script`, `image`, `cloud-init`) → its latest serving.
    #[serde(rename = "Steps")]
    pub steps: BTreeMap<String, StepRecord>,
}

/// Every node's boot record, by xname (or by MAC for nodes the agent did not know).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootEventRecords {
    pub(super) records: BTreeMap<String, BootRecord>,
}

impl BootEventRecords {
    /// Notes one event; an event older than the step's record is ignored (reports replayed
    /// after a partition may arrive after fresher ones from another agent).
    pub(super) fn note(&mut self, agent: &str, e: BootEvent) -> usize {
        let key = match (&e.xname, &e.mac) {
            (Some(x), _) => x.to_string(),
            (None, Some(m)) => m.to_string(),
            (None, None) => return 0,
        };
        let record = self.records.entry(key).or_default();
        record.xname = e.xname.or(record.xname.take());
        record.mac = e.mac.or(record.mac);
        let step = step_name(e.step);
        if record.steps.get(step).is_some_and(|s| s.at_ms > e.at_ms) {
            return 0;
        }
        record.steps.insert(
            step.to_owned(),
            StepRecord {
                agent: agent.to_owned(),
                at_ms: e.at_ms,
                at: crate::clock::rfc3339_ms(e.at_ms),
                ip: e.ip.map(|ip| ip.to_string()),
            },
        );
        1
    }
}

fn step_name(step: BootStep) -> &'static str {
    step.as_str()
}

impl Inventory {
    /// Every boot record, nodes by xname then MACs.
    pub fn boot_records(&self) -> impl Iterator<Item = &BootRecord> {
        self.boot_events.records.values()
    }

    /// The boot record of a node (or of a MAC no node had when it booted).
    pub fn boot_record(&self, key: &str) -> Option<&BootRecord> {
        self.boot_events.records.get(key)
    }
}
