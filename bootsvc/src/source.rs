//! [`BootSource`]: the read (and phone-home write) interface a boot server needs from the
//! inventory, implemented by the coordinator over its replicated state and, later, by the rack
//! agent over its cache.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use cairn_protocols::{
    BootEntry, BootKey, ClusterDefaults, GroupData, HmsArch, InstanceInfo, MacAddr, PhoneHome,
    Xname,
};

/// What a boot server knows of one node: the SMD Component plus its interfaces' MACs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// The node's xname.
    pub xname: Xname,
    /// Its NID, when assigned.
    pub nid: Option<i64>,
    /// Its role (`Compute`, ...), the second step of boot data resolution.
    pub role: Option<String>,
    /// Its sub-role.
    pub sub_role: Option<String>,
    /// Its architecture, when known.
    pub arch: Option<HmsArch>,
    /// SMD's `Enabled` (absent counts as enabled). A disabled node is served as an unknown
    /// one, as BSS does for disabled endpoints.
    pub enabled: bool,
    /// MACs of its Ethernet interfaces, the one to boot from first. Used for `BOOTIF=` and the
    /// retry chain when the request did not name a MAC.
    pub macs: Vec<MacAddr>,
}

/// A [`BootSource`] could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Temporarily unable (no quorum, cache not loaded yet): HTTP 503, worth retrying.
    #[error("boot data temporarily unavailable: {0}")]
    Unavailable(String),
    /// Anything else: HTTP 500.
    #[error("boot data source failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Result of a [`BootSource`] call.
pub type SourceResult<T> = Result<T, SourceError>;

/// The inventory as boot serving sees it.
///
/// Every method is one lookup; `cairn-bootsvc` does the resolution (mac → name → nid, node →
/// role → `Default`, `Unknown-<arch>`), the merging and the rendering, so every implementation
/// gives the same answers. A bootscript costs one node lookup and one to three
/// [`BootSource::boot_entry`] calls; meta-data adds the cluster defaults, instance info and
/// one [`BootSource::group_data`] per group. Implementations should answer from memory
/// (a replica's applied state, an agent's cache) without copying more than the records
/// returned: hand out `Arc`s of stored records rather than cloning them.
///
/// The methods are async so an implementation may wait (a read barrier, a Raft write for
/// [`BootSource::record_phone_home`]); an in-memory implementation writes `async fn` and
/// returns at once, which costs nothing per request. Futures must be `Send`.
pub trait BootSource: Send + Sync + 'static {
    /// The node one of whose Ethernet interfaces has this MAC.
    fn node_by_mac(
        &self,
        mac: MacAddr,
    ) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send;

    /// The node with this xname.
    fn node_by_name(
        &self,
        xname: &Xname,
    ) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send;

    /// The node with this NID.
    fn node_by_nid(&self, nid: i64) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send;

    /// The node one of whose Ethernet interfaces has this address in `IPAddresses`.
    fn node_by_ip(&self, ip: IpAddr)
    -> impl Future<Output = SourceResult<Option<NodeView>>> + Send;

    /// The boot parameters stored under exactly this key (no fallback: bootsvc resolves).
    fn boot_entry(
        &self,
        key: &BootKey,
    ) -> impl Future<Output = SourceResult<Option<Arc<BootEntry>>>> + Send;

    /// The cluster-wide cloud-init defaults (empty when never set).
    fn cluster_defaults(&self) -> impl Future<Output = SourceResult<Arc<ClusterDefaults>>> + Send;

    /// Labels of the SMD groups the node belongs to, in any order.
    fn groups_of(&self, xname: &Xname) -> impl Future<Output = SourceResult<Vec<String>>> + Send;

    /// The cloud-init data of a group, if any was set.
    fn group_data(
        &self,
        name: &str,
    ) -> impl Future<Output = SourceResult<Option<Arc<GroupData>>>> + Send;

    /// The node's cloud-init instance info, if any was set.
    fn instance_info(
        &self,
        xname: &Xname,
    ) -> impl Future<Output = SourceResult<Option<Arc<InstanceInfo>>>> + Send;

    /// A number that moves on whenever any answer of this source may change (the coordinator's
    /// inventory revision), read before the data an answer is rendered from. With one,
    /// rendered answers are kept until it moves; `None` (the default) renders every request.
    fn revision(&self) -> Option<u64> {
        None
    }

    /// Records what the node reported through cloud-init's phone-home module (already
    /// validated). Where it is kept is the implementation's choice (BSS keeps it in the
    /// node's `cloud-init.phone-home`).
    fn record_phone_home(
        &self,
        xname: &Xname,
        report: PhoneHome,
    ) -> impl Future<Output = SourceResult<()>> + Send;
}

impl<T: BootSource> BootSource for Arc<T> {
    fn node_by_mac(
        &self,
        mac: MacAddr,
    ) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send {
        (**self).node_by_mac(mac)
    }

    fn node_by_name(
        &self,
        xname: &Xname,
    ) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send {
        (**self).node_by_name(xname)
    }

    fn node_by_nid(&self, nid: i64) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send {
        (**self).node_by_nid(nid)
    }

    fn node_by_ip(
        &self,
        ip: IpAddr,
    ) -> impl Future<Output = SourceResult<Option<NodeView>>> + Send {
        (**self).node_by_ip(ip)
    }

    fn boot_entry(
        &self,
        key: &BootKey,
    ) -> impl Future<Output = SourceResult<Option<Arc<BootEntry>>>> + Send {
        (**self).boot_entry(key)
    }

    fn cluster_defaults(&self) -> impl Future<Output = SourceResult<Arc<ClusterDefaults>>> + Send {
        (**self).cluster_defaults()
    }

    fn groups_of(&self, xname: &Xname) -> impl Future<Output = SourceResult<Vec<String>>> + Send {
        (**self).groups_of(xname)
    }

    fn group_data(
        &self,
        name: &str,
    ) -> impl Future<Output = SourceResult<Option<Arc<GroupData>>>> + Send {
        (**self).group_data(name)
    }

    fn instance_info(
        &self,
        xname: &Xname,
    ) -> impl Future<Output = SourceResult<Option<Arc<InstanceInfo>>>> + Send {
        (**self).instance_info(xname)
    }

    fn revision(&self) -> Option<u64> {
        (**self).revision()
    }

    fn record_phone_home(
        &self,
        xname: &Xname,
        report: PhoneHome,
    ) -> impl Future<Output = SourceResult<()>> + Send {
        (**self).record_phone_home(xname, report)
    }
}
