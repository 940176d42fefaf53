//! [`RackState`]: the rack's desired state in memory, with the lookups boot serving makes on
//! every request (node by MAC, address, NID; boot parameters by key; group data), rebuilt
//! from the store at start and changed in place by each Watch message.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use cairn_protocols::desired::{DesiredItem, DesiredNode, SharedRecord};
use cairn_protocols::{BootEntry, BootKey, ClusterDefaults, GroupData, MacAddr, Xname};

/// The records and their indexes.
#[derive(Debug, Default)]
pub struct RackView {
    nodes: HashMap<Xname, Arc<DesiredNode>>,
    by_mac: HashMap<MacAddr, Xname>,
    /// Several nodes may claim an address (an operator's mistake): such an address
    /// identifies none of them.
    by_ip: HashMap<IpAddr, Vec<Xname>>,
    by_nid: HashMap<i64, Xname>,
    boot: HashMap<BootKey, Arc<BootEntry>>,
    groups: HashMap<String, Arc<GroupData>>,
    defaults: Arc<ClusterDefaults>,
}

impl RackView {
    /// The node with this xname.
    pub fn node(&self, x: &Xname) -> Option<&Arc<DesiredNode>> {
        self.nodes.get(x)
    }

    /// The node one of whose interfaces has this MAC.
    pub fn node_by_mac(&self, mac: MacAddr) -> Option<&Arc<DesiredNode>> {
        self.by_mac.get(&mac).and_then(|x| self.nodes.get(x))
    }

    /// The node holding this address, unless several do.
    pub fn node_by_ip(&self, ip: IpAddr) -> Option<&Arc<DesiredNode>> {
        match self.by_ip.get(&ip.to_canonical()).map(Vec::as_slice) {
            Some([x]) => self.nodes.get(x),
            _ => None,
        }
    }

    /// The node with this NID.
    pub fn node_by_nid(&self, nid: i64) -> Option<&Arc<DesiredNode>> {
        self.by_nid.get(&nid).and_then(|x| self.nodes.get(x))
    }

    /// Boot parameters under exactly this key.
    pub fn boot_entry(&self, key: &BootKey) -> Option<Arc<BootEntry>> {
        match key {
            BootKey::Node(x) => self
                .nodes
                .get(x)
                .and_then(|n| n.boot_entry.clone())
                .map(Arc::new),
            other => self.boot.get(other).cloned(),
        }
    }

    /// A cloud-init group's data.
    pub fn group(&self, name: &str) -> Option<&Arc<GroupData>> {
        self.groups.get(name)
    }

    /// The cloud-init cluster defaults.
    pub fn defaults(&self) -> &Arc<ClusterDefaults> {
        &self.defaults
    }

    /// Whether an inventory interface holds this IPv4 address.
    pub fn is_reserved(&self, ip: Ipv4Addr) -> bool {
        self.by_ip.contains_key(&IpAddr::V4(ip))
    }

    /// How many nodes it holds.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Every kernel and initrd URL the boot parameters name (what the image cache may fetch).
    pub fn image_urls(&self) -> HashSet<String> {
        let entries = self
            .boot
            .values()
            .map(|e| &**e)
            .chain(self.nodes.values().filter_map(|n| n.boot_entry.as_ref()));
        let mut urls = HashSet::new();
        for e in entries {
            for u in [&e.kernel, &e.initrd] {
                if u.starts_with("http://") || u.starts_with("https://") {
                    urls.insert(u.clone());
                }
            }
        }
        urls
    }

    fn clear(&mut self) {
        *self = RackView::default();
    }

    fn clear_shared(&mut self) {
        self.boot.clear();
        self.groups.clear();
        self.defaults = Arc::default();
    }

    fn remove_node(&mut self, x: &Xname) {
        let Some(old) = self.nodes.remove(x) else {
            return;
        };
        for i in &old.interfaces {
            if self.by_mac.get(&i.mac) == Some(x) {
                self.by_mac.remove(&i.mac);
            }
            for ip in &i.ips {
                if let Some(owners) = self.by_ip.get_mut(&ip.to_canonical()) {
                    owners.retain(|o| o != x);
                    if owners.is_empty() {
                        self.by_ip.remove(&ip.to_canonical());
                    }
                }
            }
        }
        if let Some(nid) = old.nid
            && self.by_nid.get(&nid) == Some(x)
        {
            self.by_nid.remove(&nid);
        }
    }

    fn insert_node(&mut self, n: DesiredNode) {
        let x = n.xname.clone();
        self.remove_node(&x);
        for i in &n.interfaces {
            self.by_mac.insert(i.mac, x.clone());
            for ip in &i.ips {
                let owners = self.by_ip.entry(ip.to_canonical()).or_default();
                if !owners.contains(&x) {
                    owners.push(x.clone());
                }
            }
        }
        if let Some(nid) = n.nid {
            self.by_nid.insert(nid, x.clone());
        }
        self.nodes.insert(x, Arc::new(n));
    }

    fn apply(&mut self, item: DesiredItem) {
        match item {
            DesiredItem::Node(n) => self.insert_node(*n),
            DesiredItem::NodeRemoved(x) => self.remove_node(&x),
            DesiredItem::Shared(SharedRecord::BootEntry(k, e)) => {
                self.boot.insert(k, Arc::new(e));
            }
            DesiredItem::Shared(SharedRecord::GroupData(g)) => {
                self.groups.insert(g.name.clone(), Arc::new(g));
            }
            DesiredItem::Shared(SharedRecord::ClusterDefaults(d)) => self.defaults = Arc::new(d),
        }
    }
}

/// The rack's desired state, shared by the boot services (see the module docs).
#[derive(Debug, Default)]
pub struct RackState {
    view: RwLock<RackView>,
    /// Moves on with every change: boot serving keeps rendered answers until it moves.
    generation: AtomicU64,
    /// The desired-state revision held (what the coordinators sent last).
    revision: AtomicU64,
    /// Messages applied, and how many of them replaced everything.
    updates: AtomicU64,
    full_updates: AtomicU64,
    updated_ms: AtomicU64,
}

/// What the agent's status shows of the desired state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DesiredStatus {
    /// The revision held.
    pub revision: u64,
    /// Nodes held.
    pub nodes: usize,
    /// Watch messages with desired state applied since the agent started (loading it from
    /// disk at start counts as one).
    pub updates: u64,
    /// Of those, the ones that replaced everything (a new stream whose revision the replica
    /// could no longer tell changes since).
    pub full_updates: u64,
    /// When the last one was applied (Unix ms; 0: never).
    pub updated_ms: u64,
}

impl RackState {
    /// A read view; hold it only for a lookup.
    pub fn read(&self) -> RwLockReadGuard<'_, RackView> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than serving nothing: serve on.
        self.view.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, RackView> {
        self.view.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies one message's items (already written to disk) and its revision.
    pub fn apply(
        &self,
        items: impl IntoIterator<Item = DesiredItem>,
        full: bool,
        shared_replaced: bool,
        revision: u64,
    ) {
        let mut view = self.write();
        if full {
            view.clear();
        } else if shared_replaced {
            view.clear_shared();
        }
        for item in items {
            view.apply(item);
        }
        self.revision.store(revision, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.updates.fetch_add(1, Ordering::Relaxed);
        if full {
            self.full_updates.fetch_add(1, Ordering::Relaxed);
        }
        self.updated_ms
            .store(crate::runtime::now_ms(), Ordering::Relaxed);
    }

    /// What the agent's status shows.
    pub fn status(&self) -> DesiredStatus {
        DesiredStatus {
            revision: self.revision(),
            nodes: self.read().node_count(),
            updates: self.updates.load(Ordering::Relaxed),
            full_updates: self.full_updates.load(Ordering::Relaxed),
            updated_ms: self.updated_ms.load(Ordering::Relaxed),
        }
    }

    /// A number that moves on with every change.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The desired-state revision held.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocols::desired::DesiredInterface;

    fn node(x: &str, mac: &str, ip: &str, nid: i64) -> DesiredItem {
        DesiredItem::Node(Box::new(DesiredNode {
            xname: Xname::parse(x).unwrap(),
            nid: Some(nid),
            role: Some("Compute".into()),
            sub_role: None,
            arch: None,
            enabled: true,
            interfaces: vec![DesiredInterface {
                mac: mac.parse().unwrap(),
                ips: vec![ip.parse().unwrap()],
            }],
            groups: Vec::new(),
            boot_entry: None,
            instance_info: None,
        }))
    }

    #[test]
    fn lookups_follow_changes() {
        let rack = RackState::default();
        rack.apply(
            [
                node("x1c0s0b0n0", "02:00:00:00:00:01", "10.1.0.1", 1),
                node("x1c0s0b0n1", "02:00:00:00:00:02", "10.1.0.2", 2),
            ],
            true,
            true,
            5,
        );
        let g = rack.generation();
        {
            let v = rack.read();
            assert_eq!(v.node_count(), 2);
            let n = v.node_by_mac("02:00:00:00:00:02".parse().unwrap()).unwrap();
            assert_eq!(n.xname.to_string(), "x1c0s0b0n1");
            assert!(v.node_by_ip("10.1.0.1".parse().unwrap()).is_some());
            assert!(v.node_by_nid(2).is_some());
            assert!(v.is_reserved("10.1.0.2".parse().unwrap()));
        }
        // n1 moves to n0's address: the address now identifies nobody; n1's old one is free.
        rack.apply(
            [node("x1c0s0b0n1", "02:00:00:00:00:02", "10.1.0.1", 2)],
            false,
            false,
            6,
        );
        {
            let v = rack.read();
            assert!(v.node_by_ip("10.1.0.1".parse().unwrap()).is_none());
            assert!(!v.is_reserved("10.1.0.2".parse().unwrap()));
        }
        rack.apply(
            [DesiredItem::NodeRemoved(
                Xname::parse("x1c0s0b0n0").unwrap(),
            )],
            false,
            false,
            7,
        );
        let v = rack.read();
        assert_eq!(v.node_count(), 1);
        assert!(v.node_by_nid(1).is_none());
        let n1 = v.node_by_ip("10.1.0.1".parse().unwrap()).unwrap();
        assert_eq!(n1.xname.to_string(), "x1c0s0b0n1");
        assert!(rack.generation() > g);
        assert_eq!(rack.revision(), 7);
    }
}
