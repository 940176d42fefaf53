//! Boot data in the replicated inventory: BSS boot parameters, cloud-init's admin data and the
//! phone-home reports of nodes — the commands that change them, the records, and the lookups
//! boot serving needs (node by MAC, NID or IP address).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use cairn_protocols::{
    BootEntry, BootKey, BootParameters, ClusterDefaults, EthernetInterface, GroupData, HmsType,
    InstanceInfo, MacAddr, PhoneHome, Xname,
};
use serde::{Deserialize, Serialize};

use super::state::Inventory;

/// One replicated change to boot parameters or cloud-init data (`Command::Boot`). Selectors
/// (`macs`, `nids`) are resolved to nodes when the command is applied, against the inventory
/// as it is at that point of the log, so every replica resolves them alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BootCommand {
    /// `POST /boot/v1/bootparameters`: an entry for every target, none of which may have one.
    CreateParams(BootParameters),
    /// `PUT /boot/v1/bootparameters`: create or replace the entry of every target.
    PutParams(BootParameters),
    /// `PATCH /boot/v1/bootparameters`: change the given fields of every target's existing
    /// entry (cloud-init meta-data and user-data are JSON-merged).
    PatchParams(BootParameters),
    /// `DELETE /boot/v1/bootparameters`: remove every target's entry; all must exist.
    DeleteParams(BootParameters),
    /// `POST /cloud-init/admin/cluster-defaults`: set the fields given, keep the others.
    SetClusterDefaults(ClusterDefaults),
    /// `POST /cloud-init/admin/groups`: a new group.
    CreateCloudInitGroup(GroupData),
    /// `PUT /cloud-init/admin/groups/{name}`: create or replace a group.
    PutCloudInitGroup(GroupData),
    /// `DELETE /cloud-init/admin/groups/{name}`.
    DeleteCloudInitGroup(String),
    /// `PUT /cloud-init/admin/instance-info/{id}`: replace a node's overrides.
    PutInstanceInfo {
        /// The node.
        id: Xname,
        /// Its overrides (`id` filled in).
        info: InstanceInfo,
    },
    /// `POST /cloud-init/phone-home/{id}`: what the node reported at the end of cloud-init.
    PhoneHome {
        /// The node, as identified by its source address.
        id: Xname,
        /// The form it posted.
        report: PhoneHome,
        /// When the report arrived (RFC 3339, fixed at proposal).
        at: String,
    },
}

/// A node's last phone-home report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PhoneHomeRecord {
    /// The node.
    pub id: Xname,
    /// When it arrived (RFC 3339).
    pub at: String,
    /// What the node posted.
    pub report: PhoneHome,
}

/// Boot parameters and cloud-init data. Ordered maps keep snapshots deterministic. Records
/// sit behind `Arc`s so boot serving hands them out without copying (a group file can be
/// 128 KiB), and one PUT for thousands of nodes stores one entry, shared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BootRecords {
    /// BSS boot parameters by key (node, role, `Default`, `Global`, `Unknown-<arch>`).
    #[serde(default, with = "arc_map")]
    pub(super) params: BTreeMap<BootKey, Arc<BootEntry>>,
    /// cloud-init cluster defaults.
    #[serde(default, with = "arc_value")]
    pub(super) cluster_defaults: Arc<ClusterDefaults>,
    /// cloud-init group data by group label.
    #[serde(default, with = "arc_map")]
    pub(super) groups: BTreeMap<String, Arc<GroupData>>,
    /// cloud-init per-node overrides.
    #[serde(default, with = "arc_map")]
    pub(super) instances: BTreeMap<Xname, Arc<InstanceInfo>>,
    /// The last phone-home report of each node.
    #[serde(default)]
    pub(super) phone_home: BTreeMap<Xname, PhoneHomeRecord>,
}

/// Serde for `Arc<T>` fields as plain `T` (serde's `rc` feature is off in the workspace).
mod arc_value {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &Arc<T>, s: S) -> Result<S::Ok, S::Error> {
        (**v).serialize(s)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<T>, D::Error> {
        T::deserialize(d).map(Arc::new)
    }
}

/// Serde for maps of `Arc<T>` as maps of `T`.
mod arc_map {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, T: Serialize, S: Serializer>(
        m: &BTreeMap<K, Arc<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(m.iter().map(|(k, v)| (k, &**v)))
    }

    pub fn deserialize<'de, K, T, D>(d: D) -> Result<BTreeMap<K, Arc<T>>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let plain = BTreeMap::<K, T>::deserialize(d)?;
        Ok(plain.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// Read access to boot data and the lookups boot serving needs. Each is a map lookup (or an
/// index lookup, see `index`), so a node-facing request costs a few of them.
impl Inventory {
    /// Every stored boot entry, in key order.
    pub fn boot_entries(&self) -> impl Iterator<Item = (&BootKey, &Arc<BootEntry>)> {
        self.boot.params.iter()
    }

    /// The entry stored under exactly this key.
    pub fn boot_entry(&self, key: &BootKey) -> Option<&Arc<BootEntry>> {
        self.boot.params.get(key)
    }

    /// cloud-init cluster defaults.
    pub fn cloud_init_defaults(&self) -> &Arc<ClusterDefaults> {
        &self.boot.cluster_defaults
    }

    /// Every cloud-init group, in name order.
    pub fn cloud_init_groups(&self) -> impl Iterator<Item = &Arc<GroupData>> {
        self.boot.groups.values()
    }

    /// One cloud-init group.
    pub fn cloud_init_group(&self, name: &str) -> Option<&Arc<GroupData>> {
        self.boot.groups.get(name)
    }

    /// A node's cloud-init overrides.
    pub fn instance_info(&self, id: &Xname) -> Option<&Arc<InstanceInfo>> {
        self.boot.instances.get(id)
    }

    /// Every phone-home report, in xname order.
    pub fn phone_home_reports(&self) -> impl Iterator<Item = &PhoneHomeRecord> {
        self.boot.phone_home.values()
    }

    /// A node's last phone-home report.
    pub fn phone_home(&self, id: &Xname) -> Option<&PhoneHomeRecord> {
        self.boot.phone_home.get(id)
    }

    /// The node owning the interface with this MAC (only interfaces assigned to a Node).
    pub fn node_by_mac(&self, mac: &MacAddr) -> Option<&Xname> {
        self.interface_by_mac(mac)
            .and_then(|i| i.component_id.as_ref())
            .filter(|x| x.hms_type() == HmsType::Node)
    }

    /// The node with this NID: the first in xname order if an operator gave it twice.
    pub fn node_by_nid(&self, nid: i64) -> Option<&Xname> {
        self.index.nid(nid).find(|x| x.hms_type() == HmsType::Node)
    }

    /// The Ethernet interfaces assigned to a component, in id order.
    pub fn interfaces_of<'a>(
        &'a self,
        id: &'a Xname,
    ) -> impl Iterator<Item = &'a EthernetInterface> {
        self.index
            .owned_by(id)
            .filter_map(|mac| self.interface_by_mac(mac))
            .filter(move |i| i.component_id.as_ref() == Some(id))
    }

    /// A node's Ethernet interfaces, the one to boot from first: those with an address (the
    /// ones DHCP serves) before the others, each kind in id order.
    pub fn boot_interfaces<'a>(&'a self, id: &'a Xname) -> Vec<&'a EthernetInterface> {
        let mut interfaces: Vec<_> = self.interfaces_of(id).collect();
        // The sort is stable.
        interfaces.sort_by_key(|i| i.ip_addresses.is_empty());
        interfaces
    }

    fn interface_by_mac(&self, mac: &MacAddr) -> Option<&EthernetInterface> {
        self.interfaces
            .get(&super::index::interface_key(mac))
            .filter(|i| i.mac_address == *mac)
    }

    /// The interfaces holding this IP address (IPv4-mapped IPv6 is taken as IPv4).
    pub fn interfaces_by_ip(&self, ip: IpAddr) -> impl Iterator<Item = &EthernetInterface> {
        self.index
            .ip(ip)
            .filter_map(|mac| self.interface_by_mac(mac))
    }

    /// The node an IP address belongs to, through its Ethernet interfaces. `None` when no
    /// node has it — or when interfaces of two different components claim it, since serving
    /// one node's cloud-init data to another is worse than serving none.
    pub fn node_by_ip(&self, ip: IpAddr) -> Option<&Xname> {
        let mut owners = self
            .interfaces_by_ip(ip)
            .filter_map(|i| i.component_id.as_ref())
            .filter(|x| x.hms_type() == HmsType::Node);
        let first = owners.next()?;
        owners.all(|x| x == first).then_some(first)
    }
}
