//! How agent commands change the inventory: registrations, exactly-once reports, discover
//! requests.

use std::collections::BTreeMap;

use cairn_protocols::agent::{Report, ReportItem, cabinet_name};

use super::agents::{AgentCommand, AgentRecord, DISCOVER_REQUESTS_KEPT, DiscoverRecord};
use super::apply_boot_reports::{apply_lease, apply_mac_seen, apply_phone_home};
use super::apply_discovery::apply_discovery;
use super::apply_power::{apply_result, apply_sample};
use super::command::ApplyError;
use super::state::Inventory;

/// A discover request younger than this that is not complete blocks a new one without
/// `force`, as SMD's pending DiscoveryStatus does; older ones no longer do (an agent that
/// died must not block discovery forever).
pub const DISCOVER_BLOCKS_MS: u64 = 10 * 60 * 1000;

pub(super) fn apply(inv: &mut Inventory, cmd: AgentCommand) -> Result<usize, ApplyError> {
    match cmd {
        AgentCommand::Register {
            registration: r,
            now_ms,
        } => {
            for c in &r.scope {
                if let Some(other) = inv.agents.owner_of_cabinet(*c)
                    && other.id != r.agent_id
                {
                    return Err(ApplyError::Conflict(format!(
                        "cabinet {} is in the scope of agent {}: remove that agent first \
                         (DELETE /apis/cairn/v1/agents/{})",
                        cabinet_name(*c),
                        other.id,
                        other.id
                    )));
                }
            }
            let last_seq = inv.agents.agent(&r.agent_id).map_or(0, |a| a.last_seq);
            let record = AgentRecord {
                id: r.agent_id.clone(),
                scope: r.scope,
                version: r.version,
                endpoints: r.endpoints,
                registered_ms: now_ms,
                last_seq,
            };
            inv.agents.agents.insert(r.agent_id, record);
            Ok(1)
        }
        AgentCommand::Remove(id) => inv
            .agents
            .agents
            .remove(&id)
            .map(|_| 1)
            .ok_or_else(|| ApplyError::NotFound(format!("no agent {id}"))),
        AgentCommand::Report { report, now_ms } => apply_report(inv, report, now_ms),
        AgentCommand::Discover {
            targets,
            force,
            now_ms,
        } => {
            if !force
                && let Some(busy) = inv.agents.discover.values().find(|r| {
                    r.status() != "Complete"
                        && now_ms.saturating_sub(r.requested_ms) < DISCOVER_BLOCKS_MS
                })
            {
                return Err(ApplyError::Conflict(format!(
                    "discovery {} is still {}: retry later or set \"force\": true",
                    busy.id,
                    busy.status()
                )));
            }
            let mut agents = BTreeMap::new();
            let mut unassigned = Vec::new();
            if targets.is_empty() {
                agents.extend(inv.agents.agents.keys().map(|id| (id.clone(), false)));
            }
            for t in &targets {
                match inv.agents.owner_of(t) {
                    Some(a) => {
                        agents.insert(a.id.clone(), false);
                    }
                    None => unassigned.push(t.clone()),
                }
            }
            let id = inv.revision;
            inv.agents.discover.insert(
                id,
                DiscoverRecord {
                    id,
                    targets,
                    force,
                    requested_ms: now_ms,
                    agents,
                    unassigned,
                    updated_ms: now_ms,
                },
            );
            while inv.agents.discover.len() > DISCOVER_REQUESTS_KEPT {
                inv.agents.discover.pop_first();
            }
            Ok(1)
        }
    }
}

/// A report applies once: its seq must be above the agent's last applied one, else it is a
/// replay and changes nothing. Items about components outside the agent's scope, unknown
/// tasks or finished tasks are skipped; the rest apply in order.
fn apply_report(inv: &mut Inventory, report: Report, now_ms: u64) -> Result<usize, ApplyError> {
    let agent = inv.agents.agents.get_mut(&report.agent_id).ok_or_else(|| {
        ApplyError::NotFound(format!("agent {} is not registered", report.agent_id))
    })?;
    if report.seq <= agent.last_seq {
        return Ok(0);
    }
    agent.last_seq = report.seq;
    let agent = agent.clone();
    let mut n = 1;
    for item in report.items {
        if item.subject().is_some_and(|x| !agent.holds(x)) {
            continue;
        }
        n += match item {
            ReportItem::Discovery(d) => apply_discovery(inv, d),
            ReportItem::PowerResult(r) => apply_result(inv, r, now_ms),
            ReportItem::PowerStatus(s) => apply_sample(inv, s),
            ReportItem::DiscoverDone(id) => match inv
                .agents
                .discover
                .get_mut(&id)
                .filter(|r| r.agents.get(&agent.id) == Some(&false))
            {
                Some(r) => {
                    r.agents.insert(agent.id.clone(), true);
                    r.updated_ms = now_ms;
                    1
                }
                None => 0,
            },
            ReportItem::BootEvent(e) => inv.boot_events.note(&agent.id, e),
            ReportItem::MacSeen(m) => apply_mac_seen(inv, &agent.id, m),
            ReportItem::LeaseAssigned(l) => apply_lease(inv, l),
            ReportItem::PhoneHome(p) => apply_phone_home(inv, p),
        };
    }
    Ok(n)
}
