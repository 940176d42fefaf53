//! Groups and partitions: member sets with exclusivity rules.

use cairn_protocols::{Group, Xname};

use super::command::{ApplyError, GroupKind};
use super::state::Inventory;

pub(super) fn not_found_group(kind: GroupKind, label: &str) -> ApplyError {
    match kind {
        GroupKind::Group => ApplyError::NotFound(format!("no group {label}")),
        GroupKind::Partition => ApplyError::NotFound(format!("no partition {label}")),
    }
}

pub(super) fn group_mut<'a>(
    inv: &'a mut Inventory,
    kind: GroupKind,
    label: &str,
) -> Result<&'a mut Group, ApplyError> {
    inv.sets_mut(kind)
        .get_mut(label)
        .ok_or_else(|| not_found_group(kind, label))
}

pub(super) fn sorted_unique(mut ids: Vec<Xname>) -> Vec<Xname> {
    ids.sort();
    ids.dedup();
    ids
}

/// Members must be known components, and must not break exclusivity: one partition per
/// component, and one group per `exclusiveGroup` name.
pub(super) fn check_members(
    inv: &Inventory,
    kind: GroupKind,
    label: &str,
    exclusive: Option<&str>,
    ids: &[Xname],
) -> Result<(), ApplyError> {
    for id in ids {
        if !inv.components.contains_key(id) {
            return Err(ApplyError::Invalid(format!(
                "member {id} is not a known component"
            )));
        }
        let clash = match (kind, exclusive) {
            (GroupKind::Partition, _) => inv
                .partitions
                .values()
                .find(|p| p.label != label && p.members.ids.contains(id)),
            (GroupKind::Group, Some(ex)) => inv.groups.values().find(|g| {
                g.label != label
                    && g.exclusive_group.as_deref() == Some(ex)
                    && g.members.ids.contains(id)
            }),
            (GroupKind::Group, None) => None,
        };
        if let Some(other) = clash {
            return Err(ApplyError::Conflict(match kind {
                GroupKind::Partition => format!("{id} is already in partition {}", other.label),
                GroupKind::Group => format!(
                    "{id} is already in group {} of exclusive group {}",
                    other.label,
                    exclusive.unwrap_or_default()
                ),
            }));
        }
    }
    Ok(())
}

pub(super) fn create_group(
    inv: &mut Inventory,
    kind: GroupKind,
    mut group: Group,
) -> Result<usize, ApplyError> {
    if inv.sets(kind).contains_key(&group.label) {
        return Err(ApplyError::Conflict(format!(
            "{} already exists",
            group.label
        )));
    }
    group.members.ids = sorted_unique(std::mem::take(&mut group.members.ids));
    check_members(
        inv,
        kind,
        &group.label,
        group.exclusive_group.as_deref(),
        &group.members.ids,
    )?;
    inv.sets_mut(kind).insert(group.label.clone(), group);
    Ok(1)
}
