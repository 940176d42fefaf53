//! cloud-init NoCloud-net data for one node, as OpenCHAMI's cloud-init server shapes it:
//! `meta-data` ([`meta`]), `user-data` ([`user`]), `vendor-data` and `/{group}.yaml`.

use std::net::IpAddr;
use std::sync::Arc;

use cairn_protocols::cloudinit::validate_base_url;
use cairn_protocols::group::validate_label;
use cairn_protocols::{ClusterDefaults, FieldError, GroupData, InstanceInfo};

use crate::error::BootError;
use crate::source::{BootSource, NodeView};
use crate::state::BootState;

pub mod meta;
pub mod user;

pub use meta::meta_data;
pub use user::{merge_cloud_configs, user_data};

/// Everything cloud-init rendering needs about one node.
#[derive(Debug, Clone)]
pub struct NodeCloudData {
    /// The node.
    pub node: NodeView,
    /// The address it asked from (meta-data's `local_ipv4`).
    pub ip: IpAddr,
    /// Cluster defaults.
    pub defaults: Arc<ClusterDefaults>,
    /// The node's instance info, if set.
    pub instance: Option<Arc<InstanceInfo>>,
    /// The node's groups by label, sorted, with their cloud-init data when set.
    pub groups: Vec<(String, Option<Arc<GroupData>>)>,
    /// The base URL nodes reach cloud-init at: the instance's `cloud-init-base-url`, else the
    /// defaults' `base-url`, else the configured one; no trailing `/`.
    pub base_url: String,
}

impl NodeCloudData {
    /// Loads the node at `ip` and its cloud-init records; 422 when no node has that address.
    pub async fn load<S: BootSource>(state: &BootState<S>, ip: IpAddr) -> Result<Self, BootError> {
        let src = state.source();
        let node = src
            .node_by_ip(ip)
            .await?
            .ok_or(BootError::UnknownAddress(ip))?;
        let defaults = src.cluster_defaults().await?;
        let instance = src.instance_info(&node.xname).await?;
        let mut labels = src.groups_of(&node.xname).await?;
        labels.sort_unstable();
        labels.dedup();
        let mut groups = Vec::with_capacity(labels.len());
        for label in labels {
            validate_label(&label).map_err(|e| BootError::BadStoredData {
                what: format!("group membership of {}", node.xname),
                reason: FieldError::invalid("label", e.to_string()),
            })?;
            let data = src.group_data(&label).await?;
            groups.push((label, data));
        }
        let base = instance
            .as_ref()
            .and_then(|i| i.cloud_init_base_url.as_deref())
            .or(defaults.base_url.as_deref())
            .unwrap_or(state.cloud_init_base());
        validate_base_url("base-url", base).map_err(|reason| BootError::BadStoredData {
            what: "cloud-init base URL".into(),
            reason,
        })?;
        let base_url = base.trim_end_matches('/').to_owned();
        Ok(NodeCloudData {
            node,
            ip,
            defaults,
            instance,
            groups,
            base_url,
        })
    }

    /// Whether the node is in group `label`.
    pub fn group(&self, label: &str) -> Option<&Option<Arc<GroupData>>> {
        self.groups
            .binary_search_by(|(g, _)| g.as_str().cmp(label))
            .ok()
            .map(|i| &self.groups[i].1)
    }
}

/// `vendor-data`: `#include` and one `<base>/<group>.yaml` line per group of the node.
pub fn vendor_data(d: &NodeCloudData) -> String {
    let mut s = String::with_capacity(16 + d.groups.len() * (d.base_url.len() + 24));
    s.push_str("#include\n");
    for (g, _) in &d.groups {
        s.push_str(&d.base_url);
        s.push('/');
        s.push_str(g);
        s.push_str(".yaml\n");
    }
    s
}

/// `/{group}.yaml`: the group's file as stored; `#cloud-config` (empty) for a group without a
/// file; 404 when the node is not a member.
pub fn group_file(d: &NodeCloudData, label: &str) -> Result<String, BootError> {
    match d.group(label) {
        None => Err(BootError::NotFound(format!(
            "{} is not a member of group {label:?}",
            d.node.xname
        ))),
        Some(data) => Ok(data
            .as_ref()
            .and_then(|g| g.file.as_ref())
            .filter(|f| !f.content.is_empty())
            .map_or_else(|| "#cloud-config\n".to_owned(), |f| f.content.clone())),
    }
}
