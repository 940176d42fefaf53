//! How boot commands change the inventory. As everywhere in `apply`, every check runs before
//! the first change, so a refused command leaves no trace.

use std::collections::BTreeSet;
use std::sync::Arc;

use cairn_protocols::{BootEntry, BootKey, BootParameters, ClusterDefaults, PhoneHome};
use serde_json::{Map, Value};

use super::boot::{BootCommand, PhoneHomeRecord};
use super::command::ApplyError;
use super::state::Inventory;

pub(super) fn apply(inv: &mut Inventory, cmd: BootCommand) -> Result<usize, ApplyError> {
    match cmd {
        BootCommand::CreateParams(bp) => {
            // BSS answers 400 "Already exists" here; its spec lists no 409 for this POST.
            let keys = targets(inv, &bp, ApplyError::Invalid)?;
            if let Some(k) = keys.iter().find(|k| inv.boot.params.contains_key(*k)) {
                return Err(ApplyError::Invalid(format!(
                    "{k} already has boot parameters: PUT replaces them, PATCH changes them"
                )));
            }
            let entry = Arc::new(bp.entry());
            let n = keys.len();
            for k in keys {
                inv.boot.params.insert(k, Arc::clone(&entry));
            }
            Ok(n)
        }
        BootCommand::PutParams(bp) => {
            let keys = targets(inv, &bp, ApplyError::NotFound)?;
            let entry = Arc::new(bp.entry());
            let n = keys.len();
            for k in keys {
                inv.boot.params.insert(k, Arc::clone(&entry));
            }
            Ok(n)
        }
        BootCommand::PatchParams(bp) => {
            let keys = existing_targets(inv, &bp)?;
            let n = keys.len();
            for k in keys {
                if let Some(entry) = inv.boot.params.get_mut(&k) {
                    patch_entry(Arc::make_mut(entry), &bp);
                }
            }
            Ok(n)
        }
        BootCommand::DeleteParams(bp) => {
            let keys = existing_targets(inv, &bp)?;
            for k in &keys {
                inv.boot.params.remove(k);
            }
            Ok(keys.len())
        }
        BootCommand::SetClusterDefaults(d) => {
            merge_defaults(Arc::make_mut(&mut inv.boot.cluster_defaults), d);
            Ok(1)
        }
        BootCommand::CreateCloudInitGroup(g) => {
            if inv.boot.groups.contains_key(&g.name) {
                return Err(ApplyError::Conflict(format!(
                    "cloud-init group {} already exists: PUT /cloud-init/admin/groups/{} \
                     replaces it",
                    g.name, g.name
                )));
            }
            inv.boot.groups.insert(g.name.clone(), Arc::new(g));
            Ok(1)
        }
        BootCommand::PutCloudInitGroup(g) => {
            inv.boot.groups.insert(g.name.clone(), Arc::new(g));
            Ok(1)
        }
        BootCommand::DeleteCloudInitGroup(name) => inv
            .boot
            .groups
            .remove(&name)
            .map(|_| 1)
            .ok_or_else(|| ApplyError::NotFound(format!("no cloud-init group {name}"))),
        BootCommand::PutInstanceInfo { id, mut info } => {
            info.id = Some(id.clone());
            inv.boot.instances.insert(id, Arc::new(info));
            Ok(1)
        }
        BootCommand::PhoneHome { id, report, at } => {
            record_phone_home(inv, id, report, at);
            Ok(1)
        }
    }
}

/// The keys a body selects: `hosts` as given, `macs` and `nids` resolved to their nodes.
/// Unresolvable selectors fail with `missing`, naming the selector. Sorted, without repeats.
pub(super) fn targets(
    inv: &Inventory,
    bp: &BootParameters,
    missing: fn(String) -> ApplyError,
) -> Result<Vec<BootKey>, ApplyError> {
    let mut keys: BTreeSet<BootKey> = bp.hosts.iter().cloned().collect();
    for (i, mac) in bp.macs.iter().enumerate() {
        let node = inv.node_by_mac(mac).ok_or_else(|| {
            missing(format!(
                "macs[{i}]: no node has MAC {mac} (register the node's Ethernet interface first)"
            ))
        })?;
        keys.insert(BootKey::Node(node.clone()));
    }
    for (i, nid) in bp.nids.iter().enumerate() {
        let node = inv
            .node_by_nid(*nid)
            .ok_or_else(|| missing(format!("nids[{i}]: no node has NID {nid}")))?;
        keys.insert(BootKey::Node(node.clone()));
    }
    if keys.is_empty() {
        return Err(ApplyError::Invalid(
            "hosts, macs, nids: give at least one node, role, Default, Global or Unknown-<arch>"
                .into(),
        ));
    }
    Ok(keys.into_iter().collect())
}

/// [`targets`], each of which must already have an entry.
fn existing_targets(inv: &Inventory, bp: &BootParameters) -> Result<Vec<BootKey>, ApplyError> {
    let keys = targets(inv, bp, ApplyError::NotFound)?;
    if let Some(k) = keys.iter().find(|k| !inv.boot.params.contains_key(*k)) {
        return Err(ApplyError::NotFound(format!("{k} has no boot parameters")));
    }
    Ok(keys)
}

/// BSS's PATCH: non-empty `params`, `kernel` and `initrd` replace; cloud-init `meta-data` and
/// `user-data` are merged as JSON merge patches (RFC 7386); a non-empty `phone-home`
/// replaces.
fn patch_entry(entry: &mut BootEntry, bp: &BootParameters) {
    for (field, new) in [
        (&mut entry.params, &bp.params),
        (&mut entry.kernel, &bp.kernel),
        (&mut entry.initrd, &bp.initrd),
    ] {
        if !new.is_empty() {
            field.clone_from(new);
        }
    }
    let ci = &bp.cloud_init;
    for (field, patch) in [
        (&mut entry.cloud_init.meta_data, &ci.meta_data),
        (&mut entry.cloud_init.user_data, &ci.user_data),
    ] {
        if let Some(patch) = patch.as_ref().filter(|p| !p.is_empty()) {
            merge_patch(field.get_or_insert_with(Map::new), patch);
        }
    }
    if !ci.phone_home.is_empty() {
        entry.cloud_init.phone_home = ci.phone_home.clone();
    }
}

/// RFC 7386 JSON merge patch of an object: `null` removes a key, objects merge recursively,
/// anything else replaces.
fn merge_patch(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        match v {
            Value::Null => {
                target.remove(k);
            }
            Value::Object(p) => {
                let slot = target
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(t) = slot {
                    merge_patch(t, p);
                }
            }
            other => {
                target.insert(k.clone(), other.clone());
            }
        }
    }
}

/// OpenCHAMI's cluster-defaults POST: fields given replace, fields left out are kept.
fn merge_defaults(cur: &mut ClusterDefaults, new: ClusterDefaults) {
    let ClusterDefaults {
        cloud_provider,
        region,
        availability_zone,
        cluster_name,
        public_keys,
        base_url,
        boot_subnet,
        wg_subnet,
        short_name,
        nid_length,
        user_data,
    } = new;
    for (slot, v) in [
        (&mut cur.cloud_provider, cloud_provider),
        (&mut cur.region, region),
        (&mut cur.availability_zone, availability_zone),
        (&mut cur.cluster_name, cluster_name),
        (&mut cur.base_url, base_url),
        (&mut cur.boot_subnet, boot_subnet),
        (&mut cur.wg_subnet, wg_subnet),
        (&mut cur.short_name, short_name),
        (&mut cur.user_data, user_data),
    ] {
        if v.is_some() {
            *slot = v;
        }
    }
    if !public_keys.is_empty() {
        cur.public_keys = public_keys;
    }
    if nid_length.is_some() {
        cur.nid_length = nid_length;
    }
}

/// Keep the node's last report; BSS also shows it in the node's own boot entry, so do that
/// when the node has one.
pub(super) fn record_phone_home(
    inv: &mut Inventory,
    id: cairn_protocols::Xname,
    report: PhoneHome,
    at: String,
) {
    if let Some(entry) = inv.boot.params.get_mut(&BootKey::Node(id.clone())) {
        Arc::make_mut(entry).cloud_init.phone_home = report.clone();
    }
    inv.boot
        .phone_home
        .insert(id.clone(), PhoneHomeRecord { id, at, report });
}
