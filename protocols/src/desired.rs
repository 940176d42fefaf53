//! A rack's desired state: what an agent needs to serve its nodes' boots on its own, streamed
//! by the coordinator over Watch (see `WorkBatch` in `agent.proto`) and kept by the agent on
//! disk. Node records carry everything per node; shared records (boot parameters by role,
//! `Default`, `Global`, `Unknown-<arch>`, cloud-init groups and cluster defaults) go to every
//! agent.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::boot::{BootEntry, BootKey};
use crate::cloudinit::{ClusterDefaults, GroupData, InstanceInfo};
use crate::enums::HmsArch;
use crate::mac::MacAddr;
use crate::xname::Xname;

/// One node of an agent's scope, as boot serving needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredNode {
    /// The node.
    pub xname: Xname,
    /// Its NID, if assigned.
    pub nid: Option<i64>,
    /// Its role.
    pub role: Option<String>,
    /// Its sub-role.
    pub sub_role: Option<String>,
    /// Its architecture, if known.
    pub arch: Option<HmsArch>,
    /// SMD's `Enabled` (absent counts as enabled).
    pub enabled: bool,
    /// Its interfaces, the one to boot from first.
    pub interfaces: Vec<DesiredInterface>,
    /// Labels of the groups holding it.
    pub groups: Vec<String>,
    /// Its own boot parameters, if any.
    pub boot_entry: Option<BootEntry>,
    /// Its cloud-init instance info, if any.
    pub instance_info: Option<InstanceInfo>,
}

/// One Ethernet interface of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredInterface {
    /// Its MAC.
    pub mac: MacAddr,
    /// Its addresses, in the inventory's order.
    pub ips: Vec<IpAddr>,
}

/// A record every agent holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SharedRecord {
    /// Boot parameters under a key that names no single node.
    BootEntry(BootKey, BootEntry),
    /// A cloud-init group's data.
    GroupData(GroupData),
    /// cloud-init cluster defaults.
    ClusterDefaults(ClusterDefaults),
}

impl SharedRecord {
    /// A key naming the record among the shared ones (`b/<key>`, `g/<name>`, `d`).
    pub fn key(&self) -> String {
        match self {
            SharedRecord::BootEntry(k, _) => format!("b/{k}"),
            SharedRecord::GroupData(g) => format!("g/{}", g.name),
            SharedRecord::ClusterDefaults(_) => "d".to_owned(),
        }
    }
}

/// One desired-state item of a Watch message.
// Shared records are few (a handful per cluster); nodes, by the thousand, are boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum DesiredItem {
    /// A node's whole record (replacing the one held).
    Node(Box<DesiredNode>),
    /// A node left the scope or the inventory.
    NodeRemoved(Xname),
    /// A shared record.
    Shared(SharedRecord),
}

/// What a Watch message's desired-state items amount to (`DesiredMark` in `agent.proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesiredMark {
    /// The inventory revision the desired state is current to once the items are applied.
    pub revision: u64,
    /// The items are the whole desired state.
    pub full: bool,
    /// The shared records among the items are all of them.
    pub shared_replaced: bool,
}
