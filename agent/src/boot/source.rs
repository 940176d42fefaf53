//! The rack's desired state as boot serving reads it: [`RackSource`] implements bootsvc's
//! `BootSource` (scripts and cloud-init) over the [`RackState`], so a rack answers exactly as
//! the coordinators would, from what it holds. Phone-homes go to the outbox.

use std::net::IpAddr;
use std::sync::Arc;

use cairn_bootsvc::{BootSource, NodeView, SourceError, SourceResult};
use cairn_protocols::agent::{PhoneHomeReport, ReportItem};
use cairn_protocols::desired::DesiredNode;
use cairn_protocols::{
    BootEntry, BootKey, ClusterDefaults, GroupData, InstanceInfo, MacAddr, PhoneHome, Xname,
};

use super::rack::RackState;
use crate::runtime::Reporter;

/// Boot serving's view of the rack (see the module docs).
#[derive(Debug, Clone)]
pub struct RackSource {
    rack: Arc<RackState>,
    reporter: Reporter,
}

impl RackSource {
    /// A source over `rack`, reporting phone-homes through `reporter`.
    pub fn new(rack: Arc<RackState>, reporter: Reporter) -> RackSource {
        RackSource { rack, reporter }
    }
}

fn view(n: &DesiredNode) -> NodeView {
    NodeView {
        xname: n.xname.clone(),
        nid: n.nid,
        role: n.role.clone(),
        sub_role: n.sub_role.clone(),
        arch: n.arch,
        enabled: n.enabled,
        macs: n.interfaces.iter().map(|i| i.mac).collect(),
    }
}

impl BootSource for RackSource {
    async fn node_by_mac(&self, mac: MacAddr) -> SourceResult<Option<NodeView>> {
        Ok(self.rack.read().node_by_mac(mac).map(|n| view(n)))
    }

    async fn node_by_name(&self, xname: &Xname) -> SourceResult<Option<NodeView>> {
        Ok(self.rack.read().node(xname).map(|n| view(n)))
    }

    async fn node_by_nid(&self, nid: i64) -> SourceResult<Option<NodeView>> {
        Ok(self.rack.read().node_by_nid(nid).map(|n| view(n)))
    }

    async fn node_by_ip(&self, ip: IpAddr) -> SourceResult<Option<NodeView>> {
        Ok(self.rack.read().node_by_ip(ip).map(|n| view(n)))
    }

    async fn boot_entry(&self, key: &BootKey) -> SourceResult<Option<Arc<BootEntry>>> {
        Ok(self.rack.read().boot_entry(key))
    }

    async fn cluster_defaults(&self) -> SourceResult<Arc<ClusterDefaults>> {
        Ok(Arc::clone(self.rack.read().defaults()))
    }

    async fn groups_of(&self, xname: &Xname) -> SourceResult<Vec<String>> {
        Ok(self
            .rack
            .read()
            .node(xname)
            .map(|n| n.groups.clone())
            .unwrap_or_default())
    }

    async fn group_data(&self, name: &str) -> SourceResult<Option<Arc<GroupData>>> {
        Ok(self.rack.read().group(name).cloned())
    }

    async fn instance_info(&self, xname: &Xname) -> SourceResult<Option<Arc<InstanceInfo>>> {
        Ok(self
            .rack
            .read()
            .node(xname)
            .and_then(|n| n.instance_info.clone())
            .map(Arc::new))
    }

    fn revision(&self) -> Option<u64> {
        Some(self.rack.generation())
    }

    async fn record_phone_home(&self, xname: &Xname, report: PhoneHome) -> SourceResult<()> {
        let item = ReportItem::PhoneHome(PhoneHomeReport {
            xname: xname.clone(),
            report,
            at_ms: crate::runtime::now_ms(),
        });
        // Durable before the node hears "accepted": it is not posted again.
        self.reporter
            .commit(vec![item], Vec::new(), Vec::new())
            .await
            .map_err(|e| SourceError::Unavailable(e.to_string()))
    }
}
