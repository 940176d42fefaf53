//! `meta-data`: OpenCHAMI's YAML shape.
//!
//! ```yaml
//! instance-id: i-x3000c0s1b0n1          # instance info, else i-<xname>
//! local-hostname: nid0001               # instance info, else <short-name><NID, nid-length digits>
//! hostname: nid0001                     # instance info, else as local-hostname
//! cluster-name: demo                    # instance info, else cluster defaults
//! instance_data:
//!   v1:
//!     availability_zone, instance_id, instance_type, local_hostname, region, hostname,
//!     local_ipv4 (the requesting address), cloud_provider,
//!     public_keys (cluster defaults', then the instance's),
//!     vendor_data:
//!       version: '1.0'
//!       cloud_init_base_url, nid, role, sub_role, cabinet, location (the xname), cluster_name,
//!       groups: {<label>: {Description: ..., <the group's meta-data>}}
//! ```

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::NodeCloudData;
use crate::error::BootError;

#[derive(Serialize)]
struct MetaData<'a> {
    #[serde(rename = "instance-id")]
    instance_id: String,
    #[serde(rename = "local-hostname")]
    local_hostname: String,
    hostname: String,
    #[serde(rename = "cluster-name", skip_serializing_if = "Option::is_none")]
    cluster_name: Option<&'a str>,
    instance_data: InstanceData<'a>,
}

#[derive(Serialize)]
struct InstanceData<'a> {
    v1: V1<'a>,
}

#[derive(Serialize)]
struct V1<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    availability_zone: Option<&'a str>,
    instance_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_type: Option<&'a str>,
    local_hostname: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    hostname: &'a str,
    local_ipv4: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    public_keys: Vec<&'a str>,
    vendor_data: VendorData<'a>,
}

#[derive(Serialize)]
struct VendorData<'a> {
    version: &'static str,
    cloud_init_base_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nid: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cabinet: Option<String>,
    location: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_name: Option<&'a str>,
    groups: BTreeMap<&'a str, GroupView<'a>>,
}

/// A group as meta-data shows it: `Description` (OpenCHAMI's placeholder when unset), then the
/// group's meta-data keys, streamed rather than copied.
struct GroupView<'a> {
    description: Option<&'a str>,
    meta: Option<&'a Map<String, Value>>,
}

impl Serialize for GroupView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let meta = self.meta.map(|m| m.len()).unwrap_or(0);
        let mut map = s.serialize_map(Some(meta + 1))?;
        // A meta-data key named Description wins, as it does in OpenCHAMI's map assignment.
        if !self.meta.is_some_and(|m| m.contains_key("Description")) {
            map.serialize_entry(
                "Description",
                self.description.unwrap_or("No description Found"),
            )?;
        }
        for (k, v) in self.meta.into_iter().flatten() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The default hostname: `<prefix><NID zero-padded to nid-length (4)>`, the prefix being
/// `short-name`, else the first two characters of `cluster-name`, else `nid`; the xname when
/// the node has no NID.
pub fn default_hostname(d: &NodeCloudData) -> String {
    let Some(nid) = d.node.nid else {
        return d.node.xname.to_string();
    };
    let prefix: String = match (&d.defaults.short_name, &d.defaults.cluster_name) {
        (Some(s), _) => s.clone(),
        (None, Some(c)) => c.chars().take(2).collect(),
        (None, None) => "nid".to_owned(),
    };
    let width = d.defaults.nid_length.unwrap_or(4) as usize;
    format!("{prefix}{nid:0width$}")
}

/// Renders `meta-data` YAML.
pub fn meta_data(d: &NodeCloudData) -> Result<String, BootError> {
    let inst = d.instance.as_deref();
    let field = |f: fn(&cairn_protocols::InstanceInfo) -> &Option<String>| {
        inst.and_then(|i| f(i).as_deref())
    };
    let instance_id =
        field(|i| &i.instance_id).map_or_else(|| format!("i-{}", d.node.xname), str::to_owned);
    let default_name = default_hostname(d);
    let local_hostname = field(|i| &i.local_hostname)
        .unwrap_or(&default_name)
        .to_owned();
    let hostname = field(|i| &i.hostname).unwrap_or(&local_hostname).to_owned();
    let cluster_name = field(|i| &i.cluster_name).or(d.defaults.cluster_name.as_deref());
    let mut public_keys: Vec<&str> = Vec::new();
    let instance_keys = inst.map(|i| i.public_keys.as_slice()).unwrap_or_default();
    for k in d.defaults.public_keys.iter().chain(instance_keys) {
        if !public_keys.contains(&k.as_str()) {
            public_keys.push(k);
        }
    }
    let groups = d
        .groups
        .iter()
        .map(|(label, data)| {
            let view = GroupView {
                description: data.as_ref().and_then(|g| g.description.as_deref()),
                meta: data.as_ref().and_then(|g| g.meta_data.as_ref()),
            };
            (label.as_str(), view)
        })
        .collect();
    let v1 = V1 {
        availability_zone: field(|i| &i.availability_zone)
            .or(d.defaults.availability_zone.as_deref()),
        instance_id: &instance_id,
        instance_type: field(|i| &i.instance_type),
        local_hostname: &local_hostname,
        region: field(|i| &i.region).or(d.defaults.region.as_deref()),
        hostname: &hostname,
        local_ipv4: d.ip.to_string(),
        cloud_provider: field(|i| &i.cloud_provider).or(d.defaults.cloud_provider.as_deref()),
        public_keys,
        vendor_data: VendorData {
            version: "1.0",
            cloud_init_base_url: &d.base_url,
            nid: d.node.nid,
            role: d.node.role.as_deref(),
            sub_role: d.node.sub_role.as_deref(),
            cabinet: d.node.xname.cabinet().map(|c| format!("x{c}")),
            location: d.node.xname.as_str(),
            cluster_name,
            groups,
        },
    };
    let md = MetaData {
        instance_id: instance_id.clone(),
        local_hostname: local_hostname.clone(),
        hostname: hostname.clone(),
        cluster_name,
        instance_data: InstanceData { v1 },
    };
    serde_yaml_ng::to_string(&md).map_err(BootError::Yaml)
}
