//! A transition's targets: PCS `location` entries expanded to nodes, and the task each node
//! starts with — `new` for its agent to run, or already final when it cannot run at all.

use std::collections::BTreeSet;

use cairn_protocols::power::{Location, PowerOperation, TaskStatus, supports};
use cairn_protocols::{Xname, normalize_label};

use super::error::ApiError;
use crate::agents::work::reset_info;
use crate::inventory::{GroupKind, Inventory, PowerTaskRecord};

/// The nodes `locations` name, in xname order without repeats. A node names itself; a BMC,
/// slot, chassis or cabinet names the nodes beneath it; a group label names its member nodes
/// (and the nodes beneath its other members). Anything else is a 400 naming the entry.
pub(super) fn expand(inv: &Inventory, locations: &[Location]) -> Result<Vec<Xname>, ApiError> {
    if locations.is_empty() {
        return Err(ApiError::BadRequest(
            "location: name at least one xname or group".into(),
        ));
    }
    let mut nodes = BTreeSet::new();
    for (i, loc) in locations.iter().enumerate() {
        let at = format!("location[{i}].xname");
        let name = loc.xname.trim();
        if name.is_empty() {
            return Err(ApiError::BadRequest(format!("{at}: empty")));
        }
        let found = match Xname::parse(name) {
            Ok(x) => under(inv, &x, &at)?,
            Err(xname_error) => {
                let group = normalize_label(name)
                    .ok()
                    .and_then(|label| inv.group(GroupKind::Group, &label));
                let Some(group) = group else {
                    return Err(ApiError::BadRequest(format!(
                        "{at}: {xname_error}, and no group is labelled {name:?}"
                    )));
                };
                let mut members = BTreeSet::new();
                for m in &group.members.ids {
                    members.extend(inv.nodes_under(m));
                }
                if members.is_empty() {
                    return Err(ApiError::BadRequest(format!(
                        "{at}: group {} has no nodes",
                        group.label
                    )));
                }
                members
            }
        };
        nodes.extend(found);
    }
    Ok(nodes.into_iter().collect())
}

fn under(inv: &Inventory, x: &Xname, at: &str) -> Result<BTreeSet<Xname>, ApiError> {
    if x.is_node() {
        return if inv.knows(x) {
            Ok(BTreeSet::from([x.clone()]))
        } else {
            Err(ApiError::BadRequest(format!("{at}: unknown xname {x}")))
        };
    }
    let nodes = inv.nodes_under(x);
    if !nodes.is_empty() {
        return Ok(nodes);
    }
    Err(ApiError::BadRequest(if inv.knows(x) {
        format!("{at}: {x} ({}) holds no nodes to power", x.hms_type())
    } else {
        format!("{at}: unknown xname {x}")
    }))
}

fn failed(error: String) -> PowerTaskRecord {
    PowerTaskRecord {
        status: TaskStatus::Failed,
        description: "Failed to achieve transition".into(),
        error,
    }
}

/// The task `node` starts with: `new` when an agent serves its cabinet and its BMC allows the
/// operation; `failed` (no agent, nothing known of its BMC) or `unsupported` (the ResetTypes
/// are missing) with the reason otherwise.
pub(super) fn initial_task(inv: &Inventory, op: PowerOperation, node: &Xname) -> PowerTaskRecord {
    if inv.agents().owner_of(node).is_none() {
        let cabinet = node
            .cabinet()
            .map_or_else(|| node.to_string(), cairn_protocols::agent::cabinet_name);
        return failed(format!("no rack agent's scope holds cabinet {cabinet}"));
    }
    let reset = match reset_info(inv, node) {
        Ok(r) => r,
        Err(reason) => return failed(reason),
    };
    match supports(op, &reset.allowed) {
        Ok(()) => PowerTaskRecord::new_task(),
        Err(e) => PowerTaskRecord {
            status: e.task_status(),
            description: e.description(),
            error: e.error(),
        },
    }
}
