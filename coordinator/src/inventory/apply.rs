//! How each command changes the inventory. Every function checks everything first and only
//! then mutates, so a refused command leaves no trace (beyond the revision).

use cairn_protocols::{Component, HmsFlag, Xname};

use super::apply_endpoints::{
    create_endpoints, create_interface, interface_mut, register_endpoint,
};
use super::apply_sets::{check_members, create_group, group_mut, not_found_group, sorted_unique};
use super::command::{Applied, ApplyError, Command, ComponentChange, Outcome};
use super::state::Inventory;

pub(super) fn apply(inv: &mut Inventory, cmd: Command) -> Outcome {
    let count = match cmd {
        Command::UpsertComponents { components, force } => {
            upsert_components(inv, components, force)
        }
        Command::PutComponent { component, force } => {
            upsert_components(inv, vec![component], force)
        }
        Command::DeleteComponent(id) => delete_component(inv, &id),
        Command::DeleteAllComponents => {
            let n = inv.components.len();
            if n == 0 {
                return Err(ApplyError::NotFound(
                    "there are no components to delete".into(),
                ));
            }
            inv.components.clear();
            for set in inv.groups.values_mut().chain(inv.partitions.values_mut()) {
                set.members.ids.clear();
            }
            Ok(n)
        }
        Command::PatchComponents { ids, change } => patch_components(inv, &ids, &change),
        Command::SetNids(items) => set_nids(inv, items),
        Command::CreateEthernetInterface(iface) => create_interface(inv, iface),
        Command::PatchEthernetInterface {
            id,
            description,
            component_id,
            ip_addresses,
            now,
        } => {
            let iface = interface_mut(inv, &id)?;
            if description.is_some() {
                iface.description = description;
            }
            if let Some(owner) = component_id {
                iface.r#type = Some(owner.hms_type());
                iface.component_id = Some(owner);
            }
            if let Some(ips) = ip_addresses {
                iface.ip_addresses = ips;
            }
            iface.last_update = Some(now);
            Ok(1)
        }
        Command::DeleteEthernetInterface(id) => inv
            .interfaces
            .remove(&id)
            .map(|_| 1)
            .ok_or_else(|| ApplyError::NotFound(format!("no Ethernet interface {id}"))),
        Command::DeleteAllEthernetInterfaces => {
            drain_all(&mut inv.interfaces, "Ethernet interfaces")
        }
        Command::AddIpAddress { id, mapping, now } => {
            let iface = interface_mut(inv, &id)?;
            if iface
                .ip_addresses
                .iter()
                .any(|m| m.ip_address == mapping.ip_address)
            {
                return Err(ApplyError::Conflict(format!(
                    "interface {id} already has IP address {}",
                    mapping.ip_address
                )));
            }
            iface.ip_addresses.push(mapping);
            iface.last_update = Some(now);
            Ok(1)
        }
        Command::SetIpNetwork {
            id,
            ip,
            network,
            now,
        } => {
            let iface = interface_mut(inv, &id)?;
            let m = iface
                .ip_addresses
                .iter_mut()
                .find(|m| m.ip_address == ip)
                .ok_or_else(|| {
                    ApplyError::NotFound(format!("interface {id} has no address {ip}"))
                })?;
            m.network = network;
            iface.last_update = Some(now);
            Ok(1)
        }
        Command::DeleteIpAddress { id, ip, now } => {
            let iface = interface_mut(inv, &id)?;
            let before = iface.ip_addresses.len();
            iface.ip_addresses.retain(|m| m.ip_address != ip);
            if iface.ip_addresses.len() == before {
                return Err(ApplyError::NotFound(format!(
                    "interface {id} has no address {ip}"
                )));
            }
            iface.last_update = Some(now);
            Ok(1)
        }
        Command::CreateRedfishEndpoints(endpoints) => create_endpoints(inv, endpoints),
        Command::RegisterEndpoint {
            endpoint,
            components,
            component_endpoints,
            interfaces,
            replace,
        } => register_endpoint(
            inv,
            endpoint,
            components,
            component_endpoints,
            interfaces,
            replace,
        ),
        Command::PutRedfishEndpoint(ep) | Command::PatchRedfishEndpoint(ep) => {
            inv.redfish_endpoints.insert(ep.id.clone(), ep);
            Ok(1)
        }
        Command::DeleteRedfishEndpoint(id) => {
            inv.redfish_endpoints
                .remove(&id)
                .ok_or_else(|| ApplyError::NotFound(format!("no Redfish endpoint {id}")))?;
            // As SMD: the endpoint's systems and managers go with it.
            inv.component_endpoints
                .retain(|_, ce| ce.redfish_endpoint_id.as_ref() != Some(&id));
            Ok(1)
        }
        Command::DeleteAllRedfishEndpoints => {
            let n = drain_all(&mut inv.redfish_endpoints, "Redfish endpoints")?;
            inv.component_endpoints.clear();
            Ok(n)
        }
        Command::DeleteComponentEndpoint(id) => inv
            .component_endpoints
            .remove(&id)
            .map(|_| 1)
            .ok_or_else(|| ApplyError::NotFound(format!("no component endpoint {id}"))),
        Command::DeleteAllComponentEndpoints => {
            drain_all(&mut inv.component_endpoints, "component endpoints")
        }
        Command::CreateGroup { kind, group } => create_group(inv, kind, group),
        Command::PatchGroup {
            kind,
            label,
            description,
            tags,
        } => {
            let g = group_mut(inv, kind, &label)?;
            if description.is_some() {
                g.description = description;
            }
            if tags.is_some() {
                g.tags = tags;
            }
            Ok(1)
        }
        Command::DeleteGroup { kind, label } => inv
            .sets_mut(kind)
            .remove(&label)
            .map(|_| 1)
            .ok_or_else(|| not_found_group(kind, &label)),
        Command::AddMember { kind, label, id } => {
            let g = inv
                .group(kind, &label)
                .ok_or_else(|| not_found_group(kind, &label))?;
            if g.members.ids.contains(&id) {
                return Err(ApplyError::Conflict(format!(
                    "{id} is already a member of {label}"
                )));
            }
            check_members(
                inv,
                kind,
                &label,
                g.exclusive_group.as_deref(),
                std::slice::from_ref(&id),
            )?;
            let g = group_mut(inv, kind, &label)?;
            g.members.ids.push(id);
            g.members.ids.sort();
            Ok(1)
        }
        Command::SetMembers { kind, label, ids } => {
            let g = inv
                .group(kind, &label)
                .ok_or_else(|| not_found_group(kind, &label))?;
            let ids = sorted_unique(ids);
            check_members(inv, kind, &label, g.exclusive_group.as_deref(), &ids)?;
            let n = ids.len();
            group_mut(inv, kind, &label)?.members.ids = ids;
            Ok(n)
        }
        Command::RemoveMember { kind, label, id } => {
            let g = group_mut(inv, kind, &label)?;
            let before = g.members.ids.len();
            g.members.ids.retain(|m| m != &id);
            if g.members.ids.len() == before {
                return Err(ApplyError::NotFound(format!(
                    "{id} is not a member of {label}"
                )));
            }
            Ok(1)
        }
        Command::Boot(cmd) => super::apply_boot::apply(inv, cmd),
        Command::Agent(cmd) => super::apply_agents::apply(inv, cmd),
        Command::Power(cmd) => super::apply_power::apply(inv, cmd),
    }?;
    Ok(Applied {
        revision: inv.revision,
        count,
    })
}

fn drain_all<K, V>(
    map: &mut std::collections::BTreeMap<K, V>,
    what: &str,
) -> Result<usize, ApplyError> {
    if map.is_empty() {
        return Err(ApplyError::NotFound(format!(
            "there are no {what} to delete"
        )));
    }
    let n = map.len();
    map.clear();
    Ok(n)
}

/// Fields only a forced write may overwrite on an existing component (SMD's rule).
fn merge_component(existing: &mut Component, new: Component, force: bool) {
    if force {
        existing.state = new.state.or(existing.state);
        existing.flag = new.flag.or(existing.flag);
        existing.subtype = new.subtype.or(existing.subtype.take());
        existing.net_type = new.net_type.or(existing.net_type);
        existing.arch = new.arch.or(existing.arch);
        existing.class = new.class.or(existing.class);
    }
    if new.enabled.is_some() {
        existing.enabled = new.enabled;
    }
    if new.software_status.is_some() {
        existing.software_status = new.software_status;
    }
    if new.role.is_some() {
        existing.role = new.role;
        existing.sub_role = new.sub_role;
    }
    if new.nid.is_some() {
        existing.nid = new.nid;
    }
}

pub(super) fn upsert_components(
    inv: &mut Inventory,
    components: Vec<Component>,
    force: bool,
) -> Result<usize, ApplyError> {
    let n = components.len();
    for mut c in components {
        match inv.components.get_mut(&c.id) {
            Some(existing) => merge_component(existing, c, force),
            None => {
                c.r#type = Some(c.id.hms_type());
                c.flag = c.flag.or(Some(HmsFlag::Ok));
                c.enabled = c.enabled.or(Some(true));
                inv.components.insert(c.id.clone(), c);
            }
        }
    }
    Ok(n)
}

fn delete_component(inv: &mut Inventory, id: &Xname) -> Result<usize, ApplyError> {
    inv.components
        .remove(id)
        .ok_or_else(|| ApplyError::NotFound(format!("no component {id}")))?;
    // Memberships follow their component, like SMD's cascading delete.
    for set in inv.groups.values_mut().chain(inv.partitions.values_mut()) {
        set.members.ids.retain(|m| m != id);
    }
    Ok(1)
}

fn require_components<'a>(
    inv: &Inventory,
    ids: impl IntoIterator<Item = &'a Xname>,
) -> Result<(), ApplyError> {
    for id in ids {
        if !inv.components.contains_key(id) {
            return Err(ApplyError::NotFound(format!("no component {id}")));
        }
    }
    Ok(())
}

fn patch_components(
    inv: &mut Inventory,
    ids: &[Xname],
    change: &ComponentChange,
) -> Result<usize, ApplyError> {
    require_components(inv, ids)?;
    for id in ids {
        let Some(c) = inv.components.get_mut(id) else {
            continue;
        };
        match change {
            ComponentChange::State { state, flag } => {
                c.state = Some(*state);
                c.flag = Some(flag.unwrap_or(HmsFlag::Ok));
            }
            ComponentChange::Flag(flag) => c.flag = Some(*flag),
            ComponentChange::Enabled(enabled) => c.enabled = Some(*enabled),
            ComponentChange::SoftwareStatus(s) => c.software_status = Some(s.clone()),
            ComponentChange::Role { role, sub_role } => {
                c.role = Some(role.clone());
                c.sub_role = sub_role.clone();
            }
        }
    }
    Ok(ids.len())
}

fn set_nids(inv: &mut Inventory, items: Vec<(Xname, i64)>) -> Result<usize, ApplyError> {
    require_components(inv, items.iter().map(|(id, _)| id))?;
    let n = items.len();
    for (id, nid) in items {
        if let Some(c) = inv.components.get_mut(&id) {
            c.nid = Some(nid);
        }
    }
    Ok(n)
}
