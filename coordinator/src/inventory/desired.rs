//! A rack's desired state as the inventory derives it, and what changed since a revision.
//!
//! Every applied command is classified, before it applies, by the nodes whose desired record
//! it may change (their component, interfaces, groups, own boot parameters, instance info) and
//! whether it may change the shared records (boot parameters under other keys, cloud-init
//! groups and defaults). The classification goes into a bounded log kept on this replica only:
//! a Watch stream asks it what changed since the revision its agent holds. When that revision
//! is older than the log (this replica restarted since, the log overflowed, or a bulk delete
//! cleared it), the answer is "unknown", and the agent gets its whole desired state again.

use std::collections::{BTreeSet, VecDeque};

use cairn_protocols::desired::{DesiredInterface, DesiredNode, SharedRecord};
use cairn_protocols::{BootKey, HmsType, Xname};

use super::agents::{AgentCommand, AgentRecord};
use super::boot::BootCommand;
use super::command::{Command, GroupKind};
use super::state::Inventory;

/// Most node names the log holds (some 5 MB); past it, the oldest entries go and the log
/// starts later.
const LOG_NODES: usize = 100_000;

/// What one command may change in the desired states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Touch {
    /// Nothing any agent holds.
    Nothing,
    /// These nodes' records, and the shared records when `shared`.
    Some { nodes: Vec<Xname>, shared: bool },
    /// Too much to list (bulk deletes): every agent starts over.
    Everything,
}

/// What changed after a revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredChanges {
    /// Nodes whose record may differ (or be gone).
    pub nodes: BTreeSet<Xname>,
    /// Whether the shared records may differ.
    pub shared: bool,
}

/// The bounded log of [`Touch`]es (see the module docs).
#[derive(Debug, Clone, Default)]
pub(super) struct DesiredLog {
    /// Changes at or before this revision are not known.
    floor: u64,
    entries: VecDeque<(u64, Vec<Xname>, bool)>,
    nodes: usize,
    /// The revision of the last command that may have changed a desired record.
    last: u64,
}

impl DesiredLog {
    /// A log that knows nothing before `revision`.
    pub(super) fn starting_at(revision: u64) -> DesiredLog {
        DesiredLog {
            floor: revision,
            last: revision,
            ..DesiredLog::default()
        }
    }

    pub(super) fn record(&mut self, revision: u64, touch: Touch) {
        match touch {
            Touch::Nothing => {}
            Touch::Everything => *self = DesiredLog::starting_at(revision),
            Touch::Some { nodes, shared } => {
                self.last = revision;
                self.nodes += nodes.len();
                self.entries.push_back((revision, nodes, shared));
                while self.nodes > LOG_NODES {
                    let Some((r, n, _)) = self.entries.pop_front() else {
                        break;
                    };
                    self.nodes -= n.len();
                    self.floor = r;
                }
            }
        }
    }

    /// What changed after `after`; `None` when the log does not reach back that far.
    pub(super) fn since(&self, after: u64) -> Option<DesiredChanges> {
        if after < self.floor {
            return None;
        }
        let mut changes = DesiredChanges::default();
        // Newest first: stop at the first entry the caller already has.
        for (r, nodes, shared) in self.entries.iter().rev() {
            if *r <= after {
                break;
            }
            changes.nodes.extend(nodes.iter().cloned());
            changes.shared |= shared;
        }
        Some(changes)
    }
}

/// Classifies `cmd` against the inventory before it applies (so a delete still sees what it
/// deletes). Over-reporting is harmless (a record is sent again); missing a node is not.
pub(super) fn touch_of(inv: &Inventory, cmd: &Command) -> Touch {
    let nodes = |nodes: Vec<Xname>| Touch::Some {
        nodes,
        shared: false,
    };
    let owner = |id: &str| {
        inv.interfaces
            .get(id)
            .and_then(|i| i.component_id.clone())
            .into_iter()
    };
    let members = |kind: GroupKind, label: &str| -> Vec<Xname> {
        inv.sets(kind)
            .get(label)
            .map(|g| g.members.ids.clone())
            .unwrap_or_default()
    };
    match cmd {
        Command::UpsertComponents { components, .. } => {
            nodes(components.iter().map(|c| c.id.clone()).collect())
        }
        Command::PutComponent { component, .. } => nodes(vec![component.id.clone()]),
        Command::DeleteComponent(id) => nodes(vec![id.clone()]),
        Command::PatchComponents { ids, .. } => nodes(ids.clone()),
        Command::SetNids(items) => nodes(items.iter().map(|(x, _)| x.clone()).collect()),
        Command::CreateEthernetInterface(i) => {
            nodes(i.component_id.iter().cloned().chain(owner(&i.id)).collect())
        }
        Command::PatchEthernetInterface {
            id, component_id, ..
        } => nodes(owner(id).chain(component_id.iter().cloned()).collect()),
        Command::DeleteEthernetInterface(id)
        | Command::AddIpAddress { id, .. }
        | Command::SetIpNetwork { id, .. }
        | Command::DeleteIpAddress { id, .. } => nodes(owner(id).collect()),
        Command::RegisterEndpoint {
            components,
            interfaces,
            ..
        } => nodes(discovered(inv, components, interfaces)),
        Command::DeleteAllComponents | Command::DeleteAllEthernetInterfaces => Touch::Everything,
        Command::CreateGroup { group, .. } => nodes(group.members.ids.clone()),
        Command::DeleteGroup { kind, label } => nodes(members(*kind, label)),
        Command::AddMember { id, .. } | Command::RemoveMember { id, .. } => nodes(vec![id.clone()]),
        Command::SetMembers { kind, label, ids } => {
            let mut all = members(*kind, label);
            all.extend(ids.iter().cloned());
            nodes(all)
        }
        Command::Boot(b) => boot_touch(inv, b),
        Command::Agent(AgentCommand::Report { report, .. }) => {
            let mut all = Vec::new();
            for item in &report.items {
                use cairn_protocols::agent::ReportItem;
                match item {
                    ReportItem::Discovery(d) => {
                        if let cairn_protocols::DiscoveryOutcome::Found {
                            components,
                            interfaces,
                            ..
                        } = &d.outcome
                        {
                            all.extend(discovered(inv, components, interfaces));
                        }
                    }
                    ReportItem::LeaseAssigned(l) => all.push(l.xname.clone()),
                    _ => {}
                }
            }
            if all.is_empty() {
                Touch::Nothing
            } else {
                nodes(all)
            }
        }
        // Endpoints, component endpoints, group descriptions, registrations, power: no
        // desired record holds them.
        Command::CreateRedfishEndpoints(_)
        | Command::PutRedfishEndpoint(_)
        | Command::PatchRedfishEndpoint(_)
        | Command::DeleteRedfishEndpoint(_)
        | Command::DeleteAllRedfishEndpoints
        | Command::DeleteComponentEndpoint(_)
        | Command::DeleteAllComponentEndpoints
        | Command::PatchGroup { .. }
        | Command::Agent(_)
        | Command::Power(_) => Touch::Nothing,
    }
}

/// The nodes a discovery result writes: its components and the owners of its interfaces,
/// before (an interface may move) and after.
fn discovered(
    inv: &Inventory,
    components: &[cairn_protocols::Component],
    interfaces: &[cairn_protocols::EthernetInterface],
) -> Vec<Xname> {
    let mut all: Vec<Xname> = components.iter().map(|c| c.id.clone()).collect();
    for i in interfaces {
        all.extend(i.component_id.iter().cloned());
        all.extend(
            inv.interfaces
                .get(&i.id)
                .and_then(|o| o.component_id.clone()),
        );
    }
    all
}

fn boot_touch(inv: &Inventory, cmd: &BootCommand) -> Touch {
    match cmd {
        BootCommand::CreateParams(bp)
        | BootCommand::PutParams(bp)
        | BootCommand::PatchParams(bp)
        | BootCommand::DeleteParams(bp) => {
            // A selector that does not resolve fails the command, which then changes nothing.
            let keys = super::apply_boot::targets(inv, bp, super::command::ApplyError::NotFound)
                .unwrap_or_default();
            let mut nodes = Vec::new();
            let mut shared = false;
            for k in keys {
                match k {
                    BootKey::Node(x) => nodes.push(x),
                    _ => shared = true,
                }
            }
            Touch::Some { nodes, shared }
        }
        BootCommand::SetClusterDefaults(_)
        | BootCommand::CreateCloudInitGroup(_)
        | BootCommand::PutCloudInitGroup(_)
        | BootCommand::DeleteCloudInitGroup(_) => Touch::Some {
            nodes: Vec::new(),
            shared: true,
        },
        BootCommand::PutInstanceInfo { id, .. } => Touch::Some {
            nodes: vec![id.clone()],
            shared: false,
        },
        // Stored for operators, never rendered.
        BootCommand::PhoneHome { .. } => Touch::Nothing,
    }
}

impl Inventory {
    /// What changed in the desired states after revision `after`, or `None` when this
    /// replica cannot tell (the agent must get its whole desired state).
    pub fn desired_changes_since(&self, after: u64) -> Option<DesiredChanges> {
        self.changes.desired.since(after)
    }

    /// The revision of the last applied command that may have changed some agent's desired
    /// state on this replica.
    pub fn desired_changed_at(&self) -> u64 {
        self.changes.desired.last
    }

    /// The desired record of node `x`: `None` if no such node exists.
    pub fn desired_node(&self, x: &Xname) -> Option<DesiredNode> {
        let c = self
            .components
            .get(x)
            .filter(|c| c.id.hms_type() == HmsType::Node)?;
        let interfaces = self.boot_interfaces(&c.id);
        Some(DesiredNode {
            xname: c.id.clone(),
            nid: c.nid,
            role: c.role.clone(),
            sub_role: c.sub_role.clone(),
            arch: c.arch,
            enabled: c.enabled.unwrap_or(true),
            interfaces: interfaces
                .iter()
                .map(|i| DesiredInterface {
                    mac: i.mac_address,
                    ips: i.ip_addresses.iter().map(|m| m.ip_address).collect(),
                })
                .collect(),
            groups: self.group_labels_of(&c.id),
            boot_entry: self
                .boot_entry(&BootKey::Node(c.id.clone()))
                .map(|e| (**e).clone()),
            instance_info: self.instance_info(&c.id).map(|i| (**i).clone()),
        })
    }

    /// Every node in `agent`'s scope, as desired records, in xname order.
    pub fn desired_nodes(&self, agent: &AgentRecord) -> Vec<DesiredNode> {
        agent
            .scope
            .iter()
            .flat_map(|c| self.components_in_cabinet(*c))
            .filter_map(|c| self.desired_node(&c.id))
            .collect()
    }

    /// Every shared record: boot parameters not keyed by a node, cloud-init groups, the
    /// cluster defaults.
    pub fn shared_records(&self) -> Vec<SharedRecord> {
        let mut all: Vec<SharedRecord> = self
            .boot_entries()
            .filter(|(k, _)| !matches!(k, BootKey::Node(_)))
            .map(|(k, e)| SharedRecord::BootEntry(k.clone(), (**e).clone()))
            .collect();
        all.extend(
            self.cloud_init_groups()
                .map(|g| SharedRecord::GroupData((**g).clone())),
        );
        all.push(SharedRecord::ClusterDefaults(
            (**self.cloud_init_defaults()).clone(),
        ));
        all
    }

    /// The components of one cabinet (a range of the ordered map, not a scan).
    pub fn components_in_cabinet(
        &self,
        cabinet: u32,
    ) -> impl Iterator<Item = &cairn_protocols::Component> {
        Xname::parse(&cairn_protocols::agent::cabinet_name(cabinet))
            .ok()
            .into_iter()
            .flat_map(move |start| {
                self.components
                    .range(start..)
                    .take_while(move |(id, _)| id.cabinet() == Some(cabinet))
                    .map(|(_, c)| c)
            })
    }
}

#[cfg(test)]
mod tests;
