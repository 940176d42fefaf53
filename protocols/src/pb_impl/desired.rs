//! The desired-state work items ([`DesiredItem`]) and [`DesiredMark`] ↔ their messages. Records
//! that already have a JSON schema with validation (boot parameters, cloud-init data) travel
//! as that JSON, as discovery results do.

use serde::de::DeserializeOwned;

use super::{PbError, xname};
use crate::boot::{BootEntry, BootKey};
use crate::cloudinit::{ClusterDefaults, GroupData, InstanceInfo};
use crate::desired::{DesiredInterface, DesiredItem, DesiredMark, DesiredNode, SharedRecord};
use crate::pb::agent as pb;
use crate::pb::agent::work::Kind;

/// Most interfaces and groups one node record may list.
const MAX_PER_NODE: usize = 1024;

fn json<T: DeserializeOwned>(field: &str, bytes: &[u8]) -> Result<T, PbError> {
    crate::json::from_json_slice(bytes).map_err(|e| PbError::new(field, e.to_string()))
}

fn opt_json<T: DeserializeOwned>(field: &str, bytes: &[u8]) -> Result<Option<T>, PbError> {
    if bytes.is_empty() {
        Ok(None)
    } else {
        json(field, bytes).map(Some)
    }
}

/// JSON of a plain derived `Serialize` of owned data: it cannot fail.
fn to_json(v: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

pub(super) fn encode(item: DesiredItem) -> Kind {
    match item {
        DesiredItem::Node(n) => Kind::Node(pb::DesiredNode {
            xname: n.xname.to_string(),
            removed: false,
            nid: n.nid,
            role: n.role.unwrap_or_default(),
            sub_role: n.sub_role.unwrap_or_default(),
            arch: n.arch.map(|a| a.as_str().to_owned()).unwrap_or_default(),
            enabled: n.enabled,
            interfaces: n
                .interfaces
                .into_iter()
                .map(|i| pb::DesiredInterface {
                    mac: i.mac.to_string(),
                    ip_addresses: i.ips.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            groups: n.groups,
            boot_entry_json: n.boot_entry.as_ref().map(to_json).unwrap_or_default(),
            instance_info_json: n.instance_info.as_ref().map(to_json).unwrap_or_default(),
        }),
        DesiredItem::NodeRemoved(x) => Kind::Node(pb::DesiredNode {
            xname: x.to_string(),
            removed: true,
            ..pb::DesiredNode::default()
        }),
        DesiredItem::Shared(SharedRecord::BootEntry(key, entry)) => {
            Kind::BootEntry(pb::DesiredBootEntry {
                key: key.to_string(),
                entry_json: to_json(&entry),
            })
        }
        DesiredItem::Shared(SharedRecord::GroupData(g)) => Kind::GroupData(pb::DesiredGroupData {
            name: g.name.clone(),
            data_json: to_json(&g),
        }),
        DesiredItem::Shared(SharedRecord::ClusterDefaults(d)) => {
            Kind::ClusterDefaults(pb::DesiredDefaults {
                defaults_json: to_json(&d),
            })
        }
    }
}

fn decode_node(n: pb::DesiredNode) -> Result<DesiredItem, PbError> {
    let x = xname("xname", &n.xname)?;
    if n.removed {
        return Ok(DesiredItem::NodeRemoved(x));
    }
    if n.interfaces.len() > MAX_PER_NODE || n.groups.len() > MAX_PER_NODE {
        return Err(PbError::new(
            "interfaces",
            format!("at most {MAX_PER_NODE} interfaces and groups per node"),
        ));
    }
    let interfaces =
        n.interfaces
            .into_iter()
            .enumerate()
            .map(|(i, iface)| {
                let field = |f: &str| format!("interfaces[{i}].{f}");
                Ok(DesiredInterface {
                    mac: iface.mac.parse().map_err(|e: crate::mac::MacError| {
                        PbError::new(field("mac"), e.to_string())
                    })?,
                    ips: iface
                        .ip_addresses
                        .iter()
                        .map(|ip| {
                            ip.parse().map_err(|_| {
                                PbError::new(
                                    field("ip_addresses"),
                                    format!("{ip:?} is not an IP address"),
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<_, PbError>>()?;
    let arch = non_empty(n.arch)
        .map(|a| {
            a.parse()
                .map_err(|e: crate::enums::UnknownValueError| PbError::new("arch", e.to_string()))
        })
        .transpose()?;
    let instance_info: Option<InstanceInfo> =
        opt_json("instance_info_json", &n.instance_info_json)?;
    Ok(DesiredItem::Node(Box::new(DesiredNode {
        xname: x,
        nid: n.nid,
        role: non_empty(n.role),
        sub_role: non_empty(n.sub_role),
        arch,
        enabled: n.enabled,
        interfaces,
        groups: n.groups,
        boot_entry: opt_json("boot_entry_json", &n.boot_entry_json)?,
        instance_info,
    })))
}

pub(super) fn decode(kind: Kind) -> Result<Option<DesiredItem>, PbError> {
    Ok(Some(match kind {
        Kind::Node(n) => decode_node(n).map_err(|e| e.within("node"))?,
        Kind::BootEntry(b) => {
            let key = BootKey::parse_field("boot_entry.key", &b.key)
                .map_err(|e| PbError::new("boot_entry.key", e.reason))?;
            if matches!(key, BootKey::Node(_)) {
                return Err(PbError::new(
                    "boot_entry.key",
                    "a node's boot parameters come with its DesiredNode",
                ));
            }
            let entry: BootEntry = json("boot_entry.entry_json", &b.entry_json)?;
            DesiredItem::Shared(SharedRecord::BootEntry(key, entry))
        }
        Kind::GroupData(g) => {
            let data: GroupData = json("group_data.data_json", &g.data_json)?;
            if data.name != g.name {
                return Err(PbError::new(
                    "group_data.name",
                    "differs from the data's name",
                ));
            }
            DesiredItem::Shared(SharedRecord::GroupData(data))
        }
        Kind::ClusterDefaults(d) => {
            let defaults: ClusterDefaults =
                json("cluster_defaults.defaults_json", &d.defaults_json)?;
            DesiredItem::Shared(SharedRecord::ClusterDefaults(defaults))
        }
        _ => return Ok(None),
    }))
}

impl From<DesiredMark> for pb::DesiredMark {
    fn from(m: DesiredMark) -> Self {
        pb::DesiredMark {
            revision: m.revision,
            full: m.full,
            shared_replaced: m.shared_replaced,
        }
    }
}

impl From<pb::DesiredMark> for DesiredMark {
    fn from(m: pb::DesiredMark) -> Self {
        DesiredMark {
            revision: m.revision,
            full: m.full,
            shared_replaced: m.shared_replaced,
        }
    }
}
