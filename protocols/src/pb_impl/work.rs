//! `WorkBatch` ↔ [`WorkBatch`] and its items: encoded by the coordinator, decoded by agents.

use super::power::{operation, task_status};
use super::{PbError, time_ms, unix_ms, xname};
use crate::agent::{BmcEndpoint, DiscoverRequest, PowerTask, WorkBatch, WorkItem};
use crate::pb::agent as pb;
use crate::pb::agent::work::Kind;

impl From<WorkItem> for pb::Work {
    fn from(item: WorkItem) -> Self {
        let kind = match item {
            WorkItem::PowerTask(t) => Kind::PowerTask(pb::PowerTask {
                transition_id: t.transition_id,
                xname: t.xname.to_string(),
                operation: pb::PowerOperation::from(t.operation).into(),
                bmc_id: t.bmc.to_string(),
                bmc_fqdn: t.bmc_fqdn,
                system_path: t.system_path,
                reset_target: t.reset_target,
                allowed_reset_types: t.allowed_reset_types,
                deadline_unix_ms: unix_ms(t.deadline_ms),
                confirm: t.confirm,
                status: pb::TaskStatus::from(t.status).into(),
                created_unix_ms: unix_ms(Some(t.created_ms)),
            }),
            WorkItem::PowerAbort(id) => Kind::PowerAbort(pb::PowerAbort { transition_id: id }),
            WorkItem::Endpoint(e) => Kind::Endpoint(pb::BmcEndpoint {
                id: e.id.to_string(),
                fqdn: e.fqdn,
                username: e.username,
                password: e.password,
                enabled: e.enabled,
                removed: e.removed,
            }),
            WorkItem::Discover(d) => Kind::Discover(pb::DiscoverRequest {
                id: d.id,
                targets: d.targets.iter().map(ToString::to_string).collect(),
                force: d.force,
                requested_unix_ms: unix_ms(Some(d.requested_ms)),
            }),
            WorkItem::Desired(d) => super::desired::encode(d),
        };
        pb::Work { kind: Some(kind) }
    }
}

impl From<WorkBatch> for pb::WorkBatch {
    fn from(b: WorkBatch) -> Self {
        pb::WorkBatch {
            revision: b.revision,
            full: b.full,
            items: b.items.into_iter().map(Into::into).collect(),
            desired: b.desired.map(Into::into),
        }
    }
}

fn decode_task(t: pb::PowerTask) -> Result<PowerTask, PbError> {
    if t.transition_id.is_empty() {
        return Err(PbError::new("transition_id", "empty"));
    }
    Ok(PowerTask {
        transition_id: t.transition_id,
        xname: xname("xname", &t.xname)?,
        operation: operation("operation", t.operation)?,
        bmc: xname("bmc_id", &t.bmc_id)?,
        bmc_fqdn: t.bmc_fqdn,
        system_path: t.system_path,
        reset_target: t.reset_target,
        allowed_reset_types: t.allowed_reset_types,
        deadline_ms: time_ms("deadline_unix_ms", t.deadline_unix_ms)?,
        confirm: t.confirm,
        status: task_status("status", t.status)?,
        created_ms: time_ms("created_unix_ms", t.created_unix_ms)?.unwrap_or(0),
    })
}

fn decode_item(w: pb::Work) -> Result<WorkItem, PbError> {
    Ok(match w.kind {
        // A newer coordinator may send work this agent does not know yet.
        None => return Err(PbError::new("kind", "unknown or empty work item")),
        Some(Kind::PowerTask(t)) => {
            WorkItem::PowerTask(decode_task(t).map_err(|e| e.within("power_task"))?)
        }
        Some(Kind::PowerAbort(a)) => WorkItem::PowerAbort(a.transition_id),
        Some(Kind::Endpoint(e)) => WorkItem::Endpoint(BmcEndpoint {
            id: xname("endpoint.id", &e.id)?,
            fqdn: e.fqdn,
            username: e.username,
            password: e.password,
            enabled: e.enabled,
            removed: e.removed,
        }),
        Some(Kind::Discover(d)) => WorkItem::Discover(DiscoverRequest {
            id: d.id,
            targets: d
                .targets
                .iter()
                .enumerate()
                .map(|(i, t)| xname(&format!("discover.targets[{i}]"), t))
                .collect::<Result<_, _>>()?,
            force: d.force,
            requested_ms: time_ms("discover.requested_unix_ms", d.requested_unix_ms)?.unwrap_or(0),
        }),
        Some(other) => match super::desired::decode(other)? {
            Some(d) => WorkItem::Desired(d),
            None => return Err(PbError::new("kind", "unknown work item")),
        },
    })
}

impl TryFrom<pb::WorkBatch> for WorkBatch {
    type Error = PbError;

    /// Decodes every item; the first malformed one fails the batch (agents may prefer to
    /// decode items one by one with `WorkItem::try_from` and skip unknown ones).
    fn try_from(b: pb::WorkBatch) -> Result<Self, PbError> {
        let items = b
            .items
            .into_iter()
            .enumerate()
            .map(|(i, w)| decode_item(w).map_err(|e| e.within(&format!("items[{i}]"))))
            .collect::<Result<_, _>>()?;
        Ok(WorkBatch {
            revision: b.revision,
            full: b.full,
            items,
            desired: b.desired.map(Into::into),
        })
    }
}

impl TryFrom<pb::Work> for WorkItem {
    type Error = PbError;

    fn try_from(w: pb::Work) -> Result<Self, PbError> {
        decode_item(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{DesiredInterface, DesiredItem, DesiredMark, DesiredNode, SharedRecord};
    use crate::power::{PowerOperation, TaskStatus};
    use crate::xname::Xname;

    #[test]
    fn round_trip() {
        let x = |s: &str| Xname::parse(s).unwrap();
        let batch = WorkBatch {
            revision: 42,
            full: true,
            items: vec![
                WorkItem::PowerTask(PowerTask {
                    transition_id: "t1".into(),
                    xname: x("x1000c0s0b0n0"),
                    operation: PowerOperation::SoftRestart,
                    bmc: x("x1000c0s0b0"),
                    bmc_fqdn: "10.0.0.1:8443".into(),
                    system_path: "/redfish/v1/Systems/1".into(),
                    reset_target: "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset".into(),
                    allowed_reset_types: vec!["On".into(), "ForceOff".into()],
                    deadline_ms: Some(2_000),
                    confirm: true,
                    status: TaskStatus::InProgress,
                    created_ms: 1_000,
                }),
                WorkItem::PowerAbort("t0".into()),
                WorkItem::Endpoint(BmcEndpoint {
                    id: x("x1000c0s0b0"),
                    fqdn: "10.0.0.1".into(),
                    username: "root".into(),
                    password: "pw".into(),
                    enabled: true,
                    removed: false,
                }),
                WorkItem::Discover(DiscoverRequest {
                    id: 9,
                    targets: vec![x("x1000c0s0b0")],
                    force: true,
                    requested_ms: 3,
                }),
                WorkItem::Desired(DesiredItem::Node(Box::new(DesiredNode {
                    xname: x("x1000c0s0b0n0"),
                    nid: Some(1),
                    role: Some("Compute".into()),
                    sub_role: None,
                    arch: Some(crate::HmsArch::X86),
                    enabled: true,
                    interfaces: vec![DesiredInterface {
                        mac: "02:00:00:00:00:01".parse().unwrap(),
                        ips: vec!["10.1.0.1".parse().unwrap()],
                    }],
                    groups: vec!["compute".into()],
                    boot_entry: Some(crate::BootEntry {
                        kernel: "http://images/vmlinuz".into(),
                        ..Default::default()
                    }),
                    instance_info: None,
                }))),
                WorkItem::Desired(DesiredItem::NodeRemoved(x("x1000c0s0b1n0"))),
                WorkItem::Desired(DesiredItem::Shared(SharedRecord::BootEntry(
                    crate::BootKey::Default,
                    crate::BootEntry {
                        kernel: "http://images/default".into(),
                        ..Default::default()
                    },
                ))),
                WorkItem::Desired(DesiredItem::Shared(SharedRecord::ClusterDefaults(
                    crate::ClusterDefaults::default(),
                ))),
            ],
            desired: Some(DesiredMark {
                revision: 41,
                full: true,
                shared_replaced: true,
            }),
        };
        let back = WorkBatch::try_from(pb::WorkBatch::from(batch.clone())).unwrap();
        assert_eq!(back, batch);
    }
}
