//! `ReportRequest` ↔ [`Report`] and its items.

use super::boot_report::{
    decode_boot_event, decode_lease, decode_mac_seen, decode_phone_home, encode_boot_event,
    encode_lease, encode_mac_seen, encode_phone_home,
};
use super::power::{management_state, power_state, task_status};
use super::{PbError, text, time_ms, unix_ms, xname};
use crate::agent::{
    MAX_REPORT_ITEMS, PowerSample, PowerTaskResult, Report, ReportItem, validate_agent_id,
};
use crate::discovery::EndpointDiscovery;
use crate::pb::agent as pb;
use crate::pb::agent::report_item::Body;
use crate::power::{PowerState, TaskStatus};

/// Longest transition id accepted (a UUID has 36 characters).
const MAX_TRANSITION_ID_LEN: usize = 64;

impl TryFrom<pb::ReportRequest> for Report {
    type Error = PbError;

    fn try_from(m: pb::ReportRequest) -> Result<Self, PbError> {
        validate_agent_id(&m.agent_id).map_err(|e| PbError::new("agent_id", e.to_string()))?;
        if m.seq == 0 {
            return Err(PbError::new("seq", "must be positive"));
        }
        if m.items.len() > MAX_REPORT_ITEMS {
            return Err(PbError::new(
                "items",
                format!("{} items, at most {MAX_REPORT_ITEMS}", m.items.len()),
            ));
        }
        let items = m
            .items
            .into_iter()
            .enumerate()
            .map(|(i, item)| decode_item(item).map_err(|e| e.within(&format!("items[{i}]"))))
            .collect::<Result<_, _>>()?;
        Ok(Report {
            agent_id: m.agent_id,
            seq: m.seq,
            items,
        })
    }
}

fn decode_item(item: pb::ReportItem) -> Result<ReportItem, PbError> {
    match item.body {
        None => Err(PbError::new("body", "empty item")),
        Some(Body::Discovery(d)) => {
            const FIELD: &str = "discovery.endpoint_discovery_json";
            let parsed: EndpointDiscovery =
                crate::json::from_json_slice(&d.endpoint_discovery_json)
                    .map_err(|e| PbError::new(FIELD, e.to_string()))?;
            parsed
                .validate()
                .map_err(|e| PbError::new(FIELD, e.to_string()))?;
            Ok(ReportItem::Discovery(parsed))
        }
        Some(Body::PowerResult(r)) => decode_result(r)
            .map(ReportItem::PowerResult)
            .map_err(|e| e.within("power_result")),
        Some(Body::PowerStatus(s)) => decode_sample(s)
            .map(ReportItem::PowerStatus)
            .map_err(|e| e.within("power_status")),
        Some(Body::DiscoverDone(d)) if d.request_id == 0 => {
            Err(PbError::new("discover_done.request_id", "must be positive"))
        }
        Some(Body::DiscoverDone(d)) => Ok(ReportItem::DiscoverDone(d.request_id)),
        Some(Body::BootEvent(e)) => decode_boot_event(e)
            .map(ReportItem::BootEvent)
            .map_err(|e| e.within("boot_event")),
        Some(Body::MacSeen(m)) => decode_mac_seen(m)
            .map(ReportItem::MacSeen)
            .map_err(|e| e.within("mac_seen")),
        Some(Body::LeaseAssigned(l)) => decode_lease(l)
            .map(ReportItem::LeaseAssigned)
            .map_err(|e| e.within("lease_assigned")),
        Some(Body::PhoneHome(p)) => decode_phone_home(p)
            .map(ReportItem::PhoneHome)
            .map_err(|e| e.within("phone_home")),
    }
}

fn decode_result(r: pb::PowerTaskResult) -> Result<PowerTaskResult, PbError> {
    if r.transition_id.is_empty() || r.transition_id.len() > MAX_TRANSITION_ID_LEN {
        return Err(PbError::new(
            "transition_id",
            format!("1 to {MAX_TRANSITION_ID_LEN} characters"),
        ));
    }
    let status = task_status("status", r.status)?;
    if status == TaskStatus::New {
        return Err(PbError::new(
            "status",
            "a result is IN_PROGRESS or final, never NEW",
        ));
    }
    let state = power_state("power_state", r.power_state)?;
    Ok(PowerTaskResult {
        transition_id: r.transition_id,
        xname: xname("xname", &r.xname)?,
        status,
        description: text("description", r.description)?,
        error: text("error", r.error)?,
        power_state: (state != PowerState::Undefined).then_some(state),
        observed_ms: time_ms("observed_unix_ms", r.observed_unix_ms)?,
    })
}

fn decode_sample(s: pb::PowerStatus) -> Result<PowerSample, PbError> {
    Ok(PowerSample {
        xname: xname("xname", &s.xname)?,
        power_state: power_state("power_state", s.power_state)?,
        management_state: management_state("management_state", s.management_state)?,
        error: text("error", s.error)?,
        observed_ms: time_ms("observed_unix_ms", s.observed_unix_ms)?
            .ok_or_else(|| PbError::new("observed_unix_ms", "required"))?,
    })
}

impl From<ReportItem> for pb::ReportItem {
    fn from(item: ReportItem) -> Self {
        let body = match item {
            ReportItem::Discovery(d) => Body::Discovery(pb::DiscoveryResult {
                // Plain derived Serialize of owned data: it cannot fail.
                endpoint_discovery_json: serde_json::to_vec(&d).unwrap_or_default(),
            }),
            ReportItem::PowerResult(r) => Body::PowerResult(pb::PowerTaskResult {
                transition_id: r.transition_id,
                xname: r.xname.to_string(),
                status: pb::TaskStatus::from(r.status).into(),
                description: r.description,
                error: r.error,
                power_state: pb::PowerState::from(r.power_state.unwrap_or(PowerState::Undefined))
                    .into(),
                observed_unix_ms: unix_ms(r.observed_ms),
            }),
            ReportItem::PowerStatus(s) => Body::PowerStatus(pb::PowerStatus {
                xname: s.xname.to_string(),
                power_state: pb::PowerState::from(s.power_state).into(),
                management_state: pb::ManagementState::from(s.management_state).into(),
                error: s.error,
                observed_unix_ms: unix_ms(Some(s.observed_ms)),
            }),
            ReportItem::DiscoverDone(id) => Body::DiscoverDone(pb::DiscoverDone { request_id: id }),
            ReportItem::BootEvent(e) => Body::BootEvent(encode_boot_event(e)),
            ReportItem::MacSeen(m) => Body::MacSeen(encode_mac_seen(m)),
            ReportItem::LeaseAssigned(l) => Body::LeaseAssigned(encode_lease(l)),
            ReportItem::PhoneHome(p) => Body::PhoneHome(encode_phone_home(p)),
        };
        pb::ReportItem { body: Some(body) }
    }
}

impl From<Report> for pb::ReportRequest {
    fn from(r: Report) -> Self {
        pb::ReportRequest {
            agent_id: r.agent_id,
            seq: r.seq,
            items: r.items.into_iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::ManagementState;
    use crate::xname::Xname;

    fn report(items: Vec<ReportItem>) -> Report {
        Report {
            agent_id: "rack-1".into(),
            seq: 7,
            items,
        }
    }

    #[test]
    fn round_trip() {
        let node = Xname::parse("x1000c0s0b0n0").unwrap();
        let r = report(vec![
            ReportItem::PowerResult(PowerTaskResult {
                transition_id: "t1".into(),
                xname: node.clone(),
                status: TaskStatus::Succeeded,
                description: "Transition confirmed, On".into(),
                error: String::new(),
                power_state: Some(PowerState::On),
                observed_ms: Some(1_700_000_000_000),
            }),
            ReportItem::PowerStatus(PowerSample {
                xname: node,
                power_state: PowerState::Off,
                management_state: ManagementState::Available,
                error: String::new(),
                observed_ms: 5,
            }),
            ReportItem::DiscoverDone(3),
            ReportItem::BootEvent(crate::agent::BootEvent {
                xname: Some(Xname::parse("x1000c0s0b0n1").unwrap()),
                mac: Some("02:00:00:00:00:01".parse().unwrap()),
                step: crate::agent::BootStep::Script,
                ip: Some("10.1.0.5".parse().unwrap()),
                at_ms: 9,
            }),
            ReportItem::MacSeen(crate::agent::MacSeen {
                mac: "02:00:00:00:00:02".parse().unwrap(),
                ip: None,
                vendor_class: Some("PXEClient:Arch:00007:UNDI:003016".into()),
                at_ms: 10,
            }),
            ReportItem::LeaseAssigned(crate::agent::LeaseAssigned {
                xname: Xname::parse("x1000c0s0b0n1").unwrap(),
                mac: "02:00:00:00:00:01".parse().unwrap(),
                ip: "10.1.0.6".parse().unwrap(),
                at_ms: 11,
            }),
            ReportItem::PhoneHome(crate::agent::PhoneHomeReport {
                xname: Xname::parse("x1000c0s0b0n1").unwrap(),
                report: crate::PhoneHome {
                    hostname: "nid000001".into(),
                    ..Default::default()
                },
                at_ms: 12,
            }),
        ]);
        let back = Report::try_from(pb::ReportRequest::from(r.clone())).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn malformed_items_name_the_field() {
        let mut m = pb::ReportRequest::from(report(vec![ReportItem::DiscoverDone(1)]));
        m.items.push(pb::ReportItem {
            body: Some(Body::PowerResult(pb::PowerTaskResult {
                transition_id: "t".into(),
                xname: "x1000c0s0b0n0".into(),
                status: pb::TaskStatus::New.into(),
                ..Default::default()
            })),
        });
        let err = Report::try_from(m.clone()).unwrap_err();
        assert_eq!(err.field, "items[1].power_result.status");
        m.items[1] = pb::ReportItem {
            body: Some(Body::Discovery(pb::DiscoveryResult {
                endpoint_discovery_json: b"{\"Endpoint\": 3}".to_vec(),
            })),
        };
        let err = Report::try_from(m.clone()).unwrap_err();
        assert_eq!(err.field, "items[1].discovery.endpoint_discovery_json");
        m.seq = 0;
        assert_eq!(Report::try_from(m).unwrap_err().field, "seq");
    }
}
