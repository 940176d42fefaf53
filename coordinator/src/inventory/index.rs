//! Derived lookup indexes: NID → components, IP address → interfaces and component →
//! interfaces. Boot serving answers `bootscript?nid=`, names a node's boot MAC and identifies
//! cloud-init clients by source address on every request, so these lookups must be a map
//! access, not a scan of 100,000 records.
//!
//! The indexes are never replicated or snapshotted: they are a function of the records.
//! `Inventory::apply` keeps them current incrementally — it drops the entries of the records a
//! command may touch before applying it and re-adds them afterwards — and `restore` rebuilds
//! them. Equality of an incrementally maintained index with a rebuilt one is what the
//! state-machine property tests check through snapshot round trips. While a command is
//! applied, the entries of the records it touches are out of the index; commands look up
//! other records only (boot commands resolve MACs and NIDs but change neither).

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use cairn_protocols::{Component, EthernetInterface, MacAddr, Xname};

use super::command::Command;
use super::state::Inventory;

/// The indexes (see the module doc). Interfaces are indexed by their MAC (their id is the
/// MAC's 12 hex digits, `MacAddr::smd_id`), components by xname or, for interface owners,
/// by a hash of it (candidates are checked against the record): no index entry allocates,
/// except one xname per NID. 100,000 nodes (one interface and address each) cost about
/// 12 MB (three hash tables of 131,072 slots of 40, 23 and 16 bytes, and 100,000 xnames;
/// measured with heaptrack), next to about 72 MB of records.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Indexes {
    by_nid: MultiMap<i64, Xname>,
    by_ip: MultiMap<IpAddr, MacAddr>,
    by_owner: MultiMap<u64, MacAddr>,
}

/// Values by key, for keys that nearly always hold one value (NIDs and addresses are meant to
/// be unique, and an owner's hash rarely collides): such a key is one slot of `one`, its value
/// inline, so a slot is no wider than key and value. The rare key with several values is in
/// `many` instead, never in both, its values sorted, so equal contents compare equal however
/// they were reached.
#[derive(Debug, Clone)]
struct MultiMap<K, V> {
    one: HashMap<K, V>,
    many: HashMap<K, Vec<V>>,
}

impl<K: Hash + Eq, V: PartialEq> PartialEq for MultiMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.one == other.one && self.many == other.many
    }
}

impl<K, V> Default for MultiMap<K, V> {
    fn default() -> Self {
        MultiMap {
            one: HashMap::new(),
            many: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq, V: Ord> MultiMap<K, V> {
    /// Room for `n` keys, so a rebuild allocates each table once.
    fn with_capacity(n: usize) -> Self {
        MultiMap {
            one: HashMap::with_capacity(n),
            many: HashMap::new(),
        }
    }

    fn add(&mut self, key: K, value: V) {
        if let Some(all) = self.many.get_mut(&key) {
            if let Err(at) = all.binary_search(&value) {
                all.insert(at, value);
            }
            return;
        }
        match self.one.entry(key) {
            Entry::Vacant(e) => {
                e.insert(value);
            }
            Entry::Occupied(e) => {
                if *e.get() != value {
                    let (key, first) = e.remove_entry();
                    let mut all = vec![first, value];
                    all.sort();
                    self.many.insert(key, all);
                }
            }
        }
    }

    fn remove(&mut self, key: &K, value: &V) {
        if self.one.get(key) == Some(value) {
            self.one.remove(key);
            return;
        }
        let Some(all) = self.many.get_mut(key) else {
            return;
        };
        let Ok(at) = all.binary_search(value) else {
            return;
        };
        all.remove(at);
        if all.len() == 1
            && let Some((key, mut last)) = self.many.remove_entry(key)
            && let Some(v) = last.pop()
        {
            self.one.insert(key, v);
        }
    }

    /// The values under `key`, sorted.
    fn values(&self, key: &K) -> &[V] {
        match self.one.get(key) {
            Some(v) => std::slice::from_ref(v),
            None => self.many.get(key).map_or(&[], Vec::as_slice),
        }
    }
}

/// The key of an interface owner in `by_owner`. The hash is only a locator: lookups keep the
/// interfaces whose record names the owner, so a collision costs a comparison, nothing more.
fn owner_key(id: &Xname) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The map key of the interface with this MAC.
pub(super) fn interface_key(mac: &MacAddr) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(12);
    for b in mac.octets() {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

/// The records the indexes are built from, borrowed apart from the indexes themselves so
/// `apply` can update them in place (lookups during a command see the index).
pub(super) struct Records<'a> {
    pub(super) components: &'a BTreeMap<Xname, Component>,
    pub(super) interfaces: &'a BTreeMap<String, EthernetInterface>,
}

impl<'a> Records<'a> {
    pub(super) fn of(inv: &'a Inventory) -> Self {
        Records {
            components: &inv.components,
            interfaces: &inv.interfaces,
        }
    }
}

/// Which records a command may change, as far as the indexes care.
pub(super) enum Touched {
    /// None of the indexed fields (NIDs, interface addresses).
    Nothing,
    /// These components' NIDs and these interfaces' addresses.
    Some {
        components: Vec<Xname>,
        interfaces: Vec<String>,
    },
    /// Too many to list (bulk deletes) or unknown: rebuild after applying.
    Everything,
}

/// IPv4-mapped IPv6 addresses (what a dual-stack listener reports for IPv4 clients) are
/// indexed and looked up as the IPv4 address they carry.
pub(super) fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

impl Touched {
    /// Classify a command before it is applied.
    pub(super) fn of(cmd: &Command) -> Touched {
        let components = |ids: Vec<Xname>| Touched::Some {
            components: ids,
            interfaces: Vec::new(),
        };
        let interfaces = |ids: Vec<String>| Touched::Some {
            components: Vec::new(),
            interfaces: ids,
        };
        match cmd {
            Command::UpsertComponents { components: cs, .. } => {
                components(cs.iter().map(|c| c.id.clone()).collect())
            }
            Command::PutComponent { component, .. } => components(vec![component.id.clone()]),
            Command::DeleteComponent(id) => components(vec![id.clone()]),
            Command::SetNids(items) => components(items.iter().map(|(id, _)| id.clone()).collect()),
            Command::CreateEthernetInterface(iface) => {
                interfaces(vec![iface.id.clone(), iface.mac_address.smd_id()])
            }
            Command::PatchEthernetInterface { id, .. }
            | Command::AddIpAddress { id, .. }
            | Command::SetIpNetwork { id, .. }
            | Command::DeleteIpAddress { id, .. } => interfaces(vec![id.clone()]),
            Command::DeleteEthernetInterface(id) => interfaces(vec![id.clone()]),
            Command::RegisterEndpoint {
                components: cs,
                interfaces: is,
                ..
            } => Touched::Some {
                components: cs.iter().map(|c| c.id.clone()).collect(),
                interfaces: is.iter().map(|i| i.id.clone()).collect(),
            },
            Command::DeleteAllComponents | Command::DeleteAllEthernetInterfaces => {
                Touched::Everything
            }
            // Neither NIDs nor interface addresses.
            Command::PatchComponents { .. }
            | Command::CreateRedfishEndpoints(_)
            | Command::PutRedfishEndpoint(_)
            | Command::PatchRedfishEndpoint(_)
            | Command::DeleteRedfishEndpoint(_)
            | Command::DeleteAllRedfishEndpoints
            | Command::DeleteComponentEndpoint(_)
            | Command::DeleteAllComponentEndpoints
            | Command::CreateGroup { .. }
            | Command::PatchGroup { .. }
            | Command::DeleteGroup { .. }
            | Command::AddMember { .. }
            | Command::SetMembers { .. }
            | Command::RemoveMember { .. }
            | Command::Boot(_) => Touched::Nothing,
            // Power records and component States: neither NIDs nor addresses.
            Command::Power(_) => Touched::Nothing,
            Command::Agent(cmd) => cmd.touched(),
            // A command added later and not classified here: correct, if slow for big
            // inventories. Classify it above.
            #[allow(unreachable_patterns)]
            _ => Touched::Everything,
        }
    }
}

impl Indexes {
    /// Indexes of every record.
    pub(super) fn build(inv: &Inventory) -> Indexes {
        Indexes::of(&Records::of(inv))
    }

    fn of(r: &Records<'_>) -> Indexes {
        let mut ix = Indexes {
            by_nid: MultiMap::with_capacity(r.components.len()),
            by_ip: MultiMap::with_capacity(r.interfaces.len()),
            by_owner: MultiMap::with_capacity(r.interfaces.len()),
        };
        for c in r.components.values() {
            if let Some(nid) = c.nid {
                ix.by_nid.add(nid, c.id.clone());
            }
        }
        for iface in r.interfaces.values() {
            ix.add_interface(iface);
        }
        ix
    }

    fn add_interface(&mut self, iface: &EthernetInterface) {
        let mac = iface.mac_address;
        for m in &iface.ip_addresses {
            self.by_ip.add(canonical(m.ip_address), mac);
        }
        if let Some(owner) = &iface.component_id {
            self.by_owner.add(owner_key(owner), mac);
        }
    }

    fn remove_interface(&mut self, iface: &EthernetInterface) {
        let mac = iface.mac_address;
        for m in &iface.ip_addresses {
            self.by_ip.remove(&canonical(m.ip_address), &mac);
        }
        if let Some(owner) = &iface.component_id {
            self.by_owner.remove(&owner_key(owner), &mac);
        }
    }

    /// Drop the entries of the touched records, as they are before the command.
    pub(super) fn forget(&mut self, touched: &Touched, inv: &Records<'_>) {
        let Touched::Some {
            components,
            interfaces,
        } = touched
        else {
            return;
        };
        for id in components {
            if let Some(nid) = inv.components.get(id).and_then(|c| c.nid) {
                self.by_nid.remove(&nid, id);
            }
        }
        for id in interfaces {
            if let Some(iface) = inv.interfaces.get(id) {
                self.remove_interface(iface);
            }
        }
    }

    /// Add the entries of the touched records, as they are after the command.
    pub(super) fn record(&mut self, touched: &Touched, inv: &Records<'_>) {
        match touched {
            Touched::Nothing => {}
            Touched::Everything => *self = Indexes::of(inv),
            Touched::Some {
                components,
                interfaces,
            } => {
                for id in components {
                    if let Some(nid) = inv.components.get(id).and_then(|c| c.nid) {
                        self.by_nid.add(nid, id.clone());
                    }
                }
                for id in interfaces {
                    if let Some(iface) = inv.interfaces.get(id) {
                        self.add_interface(iface);
                    }
                }
            }
        }
    }

    /// The components holding this NID, in xname order.
    pub(super) fn nid(&self, nid: i64) -> impl Iterator<Item = &Xname> {
        self.by_nid.values(&nid).iter()
    }

    /// MACs of the interfaces holding this address, in MAC order.
    pub(super) fn ip(&self, ip: IpAddr) -> impl Iterator<Item = &MacAddr> {
        self.by_ip.values(&canonical(ip)).iter()
    }

    /// MACs of the interfaces that may belong to this component, in MAC order (check each
    /// interface's owner: see [`owner_key`]).
    pub(super) fn owned_by(&self, id: &Xname) -> impl Iterator<Item = &MacAddr> {
        self.by_owner.values(&owner_key(id)).iter()
    }
}

#[cfg(test)]
mod tests {
    use super::MultiMap;

    #[test]
    fn several_values_under_a_key_stay_sorted_and_canonical() {
        let mut m: MultiMap<u8, u8> = MultiMap::default();
        for v in [5, 1, 3, 1] {
            m.add(7, v);
        }
        m.add(8, 2);
        assert_eq!(
            (m.values(&7), m.values(&8), m.values(&9)),
            (&[1, 3, 5][..], &[2][..], &[][..])
        );
        m.remove(&7, &3);
        m.remove(&7, &5);
        m.remove(&7, &4);
        m.remove(&8, &9);
        // Back to one value each: the same contents as if only those were ever added.
        let mut direct = MultiMap::default();
        direct.add(7, 1);
        direct.add(8, 2);
        assert_eq!(m, direct);
        m.remove(&7, &1);
        m.remove(&8, &2);
        assert_eq!(m, MultiMap::default());
    }
}
