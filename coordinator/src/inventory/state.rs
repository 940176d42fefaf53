//! The inventory's records and the read side: lookups and derived views.

use std::collections::{BTreeMap, BTreeSet};

use cairn_protocols::{
    Component, ComponentEndpoint, EthernetInterface, Group, Membership, RedfishEndpoint, Xname,
};
use serde::{Deserialize, Serialize};

use super::command::{Command, GroupKind, Outcome};

/// Every record of the inventory. Ordered maps keep iteration, listings and snapshots
/// deterministic across replicas.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// Applied commands so far; grows by one with every applied command, failed ones included,
    /// so a watcher can resume from any revision.
    pub(super) revision: u64,
    pub(super) components: BTreeMap<Xname, Component>,
    /// Keyed by interface id (MAC without separators).
    pub(super) interfaces: BTreeMap<String, EthernetInterface>,
    pub(super) redfish_endpoints: BTreeMap<Xname, RedfishEndpoint>,
    pub(super) component_endpoints: BTreeMap<Xname, ComponentEndpoint>,
    pub(super) groups: BTreeMap<String, Group>,
    pub(super) partitions: BTreeMap<String, Group>,
    /// Boot parameters and cloud-init data (absent from snapshots taken before they existed).
    #[serde(default)]
    pub(super) boot: super::boot::BootRecords,
    /// Registered rack agents, their applied report numbers, discover requests.
    #[serde(default)]
    pub(super) agents: super::agents::AgentRecords,
    /// PCS transitions and reported power states.
    #[serde(default)]
    pub(super) power: super::power::PowerRecords,
    /// The boot steps agents served, per node.
    #[serde(default)]
    pub(super) boot_events: super::boot_events::BootEventRecords,
    /// Derived from the records, never stored: rebuilt on restore, kept current by `apply`.
    #[serde(skip)]
    pub(super) index: super::index::Indexes,
    /// When kinds of records last changed here (local bookkeeping for watchers).
    #[serde(skip)]
    pub(super) changes: super::changes::ChangeMarks,
}

impl Inventory {
    /// The revision: the number of commands applied so far.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The revision of the last applied command that may have changed some agent's work
    /// (transitions, endpoints, discover requests, registrations) on this replica; a Watch
    /// stream that computed its work at or after it has nothing new to send.
    pub fn agent_work_changed_at(&self) -> u64 {
        self.changes.agent_work
    }

    /// The revision of the last applied command that may have changed what boot serving
    /// renders (components, interfaces, groups, boot and cloud-init data) on this replica:
    /// rendered answers stay good while it stays the same.
    pub fn boot_answers_changed_at(&self) -> u64 {
        self.changes.boot_answers
    }

    /// All components, in xname order.
    pub fn components(&self) -> impl Iterator<Item = &Component> {
        self.components.values()
    }

    /// One component.
    pub fn component(&self, id: &Xname) -> Option<&Component> {
        self.components.get(id)
    }

    /// Number of components.
    pub fn component_count(&self) -> usize {
        self.components.len()
    }

    /// The component with this NID (the first in xname order if an operator gave a NID twice).
    pub fn component_by_nid(&self, nid: i64) -> Option<&Component> {
        self.index.nid(nid).find_map(|id| self.components.get(id))
    }

    /// All Ethernet interfaces, in id order.
    pub fn interfaces(&self) -> impl Iterator<Item = &EthernetInterface> {
        self.interfaces.values()
    }

    /// One Ethernet interface by id (MAC without separators).
    pub fn interface(&self, id: &str) -> Option<&EthernetInterface> {
        self.interfaces.get(id)
    }

    /// All Redfish endpoints (with their stored credentials: callers redact before answering).
    pub fn redfish_endpoints(&self) -> impl Iterator<Item = &RedfishEndpoint> {
        self.redfish_endpoints.values()
    }

    /// One Redfish endpoint.
    pub fn redfish_endpoint(&self, id: &Xname) -> Option<&RedfishEndpoint> {
        self.redfish_endpoints.get(id)
    }

    /// All component endpoints.
    pub fn component_endpoints(&self) -> impl Iterator<Item = &ComponentEndpoint> {
        self.component_endpoints.values()
    }

    /// One component endpoint.
    pub fn component_endpoint(&self, id: &Xname) -> Option<&ComponentEndpoint> {
        self.component_endpoints.get(id)
    }

    /// Groups or partitions, in label order.
    pub fn groups(&self, kind: GroupKind) -> impl Iterator<Item = &Group> {
        self.sets(kind).values()
    }

    /// One group or partition.
    pub fn group(&self, kind: GroupKind, label: &str) -> Option<&Group> {
        self.sets(kind).get(label)
    }

    pub(super) fn sets(&self, kind: GroupKind) -> &BTreeMap<String, Group> {
        match kind {
            GroupKind::Group => &self.groups,
            GroupKind::Partition => &self.partitions,
        }
    }

    pub(super) fn sets_mut(&mut self, kind: GroupKind) -> &mut BTreeMap<String, Group> {
        match kind {
            GroupKind::Group => &mut self.groups,
            GroupKind::Partition => &mut self.partitions,
        }
    }

    /// Labels of the groups holding `id`, in label order. Apply keeps every member list
    /// sorted, so each is binary-searched (cloud-init asks this on every request).
    pub fn group_labels_of(&self, id: &Xname) -> Vec<String> {
        self.groups
            .values()
            .filter(|g| g.members.ids.binary_search(id).is_ok())
            .map(|g| g.label.clone())
            .collect()
    }

    /// The partition holding `id`, if any.
    pub fn partition_of(&self, id: &Xname) -> Option<&str> {
        self.partitions
            .values()
            .find(|p| p.members.ids.contains(id))
            .map(|p| p.label.as_str())
    }

    /// Memberships of every component, computed in one pass over the groups.
    pub fn memberships(&self) -> Vec<Membership> {
        let mut groups: BTreeMap<&Xname, Vec<String>> = BTreeMap::new();
        for g in self.groups.values() {
            for id in &g.members.ids {
                groups.entry(id).or_default().push(g.label.clone());
            }
        }
        let mut partition: BTreeMap<&Xname, &str> = BTreeMap::new();
        for p in self.partitions.values() {
            for id in &p.members.ids {
                partition.insert(id, &p.label);
            }
        }
        self.components
            .keys()
            .map(|id| Membership {
                id: id.clone(),
                group_labels: groups.remove(id).unwrap_or_default(),
                partition_name: partition
                    .get(id)
                    .map(|p| (*p).to_owned())
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Membership of one component.
    pub fn membership(&self, id: &Xname) -> Membership {
        Membership {
            id: id.clone(),
            group_labels: self.group_labels_of(id),
            partition_name: self.partition_of(id).map(str::to_owned).unwrap_or_default(),
        }
    }

    /// Ids of every component in these groups (union) — the `group=` query filter.
    pub fn members_of(&self, kind: GroupKind, labels: &[String]) -> BTreeSet<Xname> {
        labels
            .iter()
            .filter_map(|l| self.sets(kind).get(l))
            .flat_map(|g| g.members.ids.iter().cloned())
            .collect()
    }

    /// Apply one committed command: the only way the inventory changes.
    pub fn apply(&mut self, cmd: Command) -> Outcome {
        self.revision += 1;
        use super::index::{Records, Touched};
        let touched = Touched::of(&cmd);
        let records = Records {
            components: &self.components,
            interfaces: &self.interfaces,
        };
        self.index.forget(&touched, &records);
        // With no agent registered nobody needs to know what changed: the log stays empty and
        // starts at the latest revision (an agent registering later gets its whole state).
        let desired = if self.agents.agents.is_empty() {
            super::desired::Touch::Everything
        } else {
            super::desired::touch_of(self, &cmd)
        };
        self.changes.note(&cmd, self.revision, desired);
        let outcome = super::apply::apply(self, cmd);
        let records = Records {
            components: &self.components,
            interfaces: &self.interfaces,
        };
        self.index.record(&touched, &records);
        outcome
    }
}

/// Why a snapshot could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("inventory snapshot is unreadable")]
pub struct SnapshotDecodeError(#[source] rmp_serde::decode::Error);

impl cairn_raft::StateMachine for Inventory {
    type Command = Command;
    type Response = Outcome;

    fn apply(&mut self, cmd: Command) -> Outcome {
        Inventory::apply(self, cmd)
    }

    fn snapshot(&self) -> Result<Vec<u8>, cairn_raft::SnapshotError> {
        rmp_serde::to_vec_named(self).map_err(|e| cairn_raft::SnapshotError(e.to_string()))
    }

    /// The same bytes as `snapshot`, written as they are encoded: a durable replica streams
    /// them into its snapshot file instead of holding a copy of the whole inventory.
    fn write_snapshot(
        &self,
        out: &mut dyn std::io::Write,
    ) -> Result<(), cairn_raft::SnapshotError> {
        rmp_serde::encode::write_named(out, self)
            .map_err(|e| cairn_raft::SnapshotError(e.to_string()))
    }

    fn restore(&mut self, data: &[u8]) -> Result<(), cairn_raft::SnapshotError> {
        *self = rmp_serde::from_slice(data)
            .map_err(|e| cairn_raft::SnapshotError(SnapshotDecodeError(e).to_string()))?;
        self.index = super::index::Indexes::build(self);
        self.changes = super::changes::ChangeMarks::all_at(self.revision);
        Ok(())
    }
}
