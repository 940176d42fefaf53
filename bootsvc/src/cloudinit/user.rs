//! `user-data`: one `#cloud-config` merged from the node's layers (see
//! [`cairn_protocols::cloudinit`]): cluster defaults' `user-data`, then each group's
//! `#cloud-config` file in label order, then the instance's `user-data`.
//!
//! Merge rules, layer by layer:
//! - mappings merge key by key, recursively;
//! - lists append: the later layer's items follow the earlier ones', skipping any item equal
//!   to one already there (two groups installing `vim` install it once);
//! - anything else (scalars, or values of different kinds) is replaced by the later layer.
//!
//! `merge_how` and `merge_type` are dropped from every layer: they steer cloud-init's merging
//! of several parts, and the result here is a single part. Jinja-templated group files are not
//! layers (they are YAML only once cloud-init renders them); they reach the node through
//! `vendor-data`.

use serde_yaml_ng::{Mapping, Value};

use cairn_protocols::cloudinit::parse_cloud_config;

use super::NodeCloudData;
use crate::error::BootError;

/// Keys that direct cloud-init's own merging and mean nothing in a merged document.
const MERGE_DIRECTIVES: &[&str] = &["merge_how", "merge_type"];

/// Merges `#cloud-config` texts, earliest first; `what` names each for errors.
pub fn merge_cloud_configs<'a>(
    layers: impl IntoIterator<Item = (String, &'a str)>,
) -> Result<String, BootError> {
    let mut merged = Mapping::new();
    for (what, text) in layers {
        let layer = parse_cloud_config("user-data", text)
            .map_err(|reason| BootError::BadStoredData { what, reason })?;
        for (k, v) in layer {
            if k.as_str().is_some_and(|k| MERGE_DIRECTIVES.contains(&k)) {
                continue;
            }
            merge_entry(&mut merged, k, v);
        }
    }
    let mut out = String::from("#cloud-config\n");
    if !merged.is_empty() {
        out.push_str(&serde_yaml_ng::to_string(&merged).map_err(BootError::Yaml)?);
    }
    Ok(out)
}

fn merge_entry(into: &mut Mapping, key: Value, value: Value) {
    match into.get_mut(&key) {
        Some(existing) => merge_value(existing, value),
        None => {
            into.insert(key, value);
        }
    }
}

fn merge_value(existing: &mut Value, value: Value) {
    match (existing, value) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            for (k, v) in b {
                merge_entry(a, k, v);
            }
        }
        (Value::Sequence(a), Value::Sequence(b)) => {
            for item in b {
                if !a.contains(&item) {
                    a.push(item);
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

/// Renders the node's `user-data`.
pub fn user_data(d: &NodeCloudData) -> Result<String, BootError> {
    let defaults = d
        .defaults
        .user_data
        .as_deref()
        .map(|t| ("cluster defaults user-data".to_owned(), t));
    let groups = d.groups.iter().filter_map(|(label, data)| {
        let text = data.as_ref()?.cloud_config()?;
        Some((format!("group {label} file"), text))
    });
    let instance = d
        .instance
        .as_ref()
        .and_then(|i| i.user_data.as_deref())
        .map(|t| (format!("instance info of {} user-data", d.node.xname), t));
    merge_cloud_configs(defaults.into_iter().chain(groups).chain(instance))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_rules() {
        let out = merge_cloud_configs([
            ("a".to_owned(), "#cloud-config\npackages: [vim]\nntp: {enabled: true, servers: [a]}\ntimezone: UTC\nmerge_how: x\n"),
            ("b".to_owned(), "#cloud-config\npackages: [vim, git]\nntp: {servers: [b]}\ntimezone: Europe/Paris\n"),
        ])
        .unwrap();
        let v: Value = serde_yaml_ng::from_str(&out).unwrap();
        let expect: Value = serde_yaml_ng::from_str(
            "packages: [vim, git]\nntp: {enabled: true, servers: [a, b]}\ntimezone: Europe/Paris\n",
        )
        .unwrap();
        assert_eq!(v, expect);
        assert!(out.starts_with("#cloud-config\n"));
        assert_eq!(merge_cloud_configs([]).unwrap(), "#cloud-config\n");
    }

    #[test]
    fn a_broken_stored_layer_is_named() {
        let e =
            merge_cloud_configs([("group g file".to_owned(), "#cloud-config\n- x\n")]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("group g file is invalid: user-data:"),
            "{e}"
        );
    }
}
