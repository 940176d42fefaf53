//! What an agent is told over its Watch stream, computed from a replica's applied inventory:
//! the full work of its scope on a new stream, then only what changed ([`Delivered`] remembers
//! what this stream already sent).

use std::collections::{HashMap, HashSet};

use cairn_protocols::Xname;
use cairn_protocols::agent::{BmcEndpoint, DiscoverRequest, PowerTask, WorkBatch, WorkItem};

use crate::inventory::{AgentRecord, Inventory, PowerTaskRecord, TransitionRecord};

/// How to reach one node's reset action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetInfo {
    /// The node's BMC.
    pub bmc: Xname,
    /// The BMC's FQDN as stored.
    pub bmc_fqdn: String,
    /// The ComputerSystem's path.
    pub system_path: String,
    /// The `#ComputerSystem.Reset` target.
    pub reset_target: String,
    /// The ResetTypes the BMC declared.
    pub allowed: Vec<String>,
}

/// How to reset `node`, from its ComponentEndpoint and its BMC's RedfishEndpoint; the error
/// says what is missing (PCS's task `error`).
pub fn reset_info(inv: &Inventory, node: &Xname) -> Result<ResetInfo, String> {
    let ce = inv.component_endpoint(node).ok_or_else(|| {
        format!("no component endpoint for {node}: discover its BMC first (POST /hsm/v2/Inventory/Discover)")
    })?;
    let bmc = ce
        .redfish_endpoint_id
        .clone()
        .ok_or_else(|| format!("the component endpoint of {node} names no BMC"))?;
    let bmc_fqdn = inv
        .redfish_endpoint(&bmc)
        .and_then(|e| e.fqdn.clone())
        .or_else(|| ce.redfish_endpoint_fqdn.clone())
        .filter(|f| !f.is_empty())
        .ok_or_else(|| format!("BMC {bmc} of {node} has no FQDN"))?;
    let system_path = ce
        .odata_id
        .clone()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| format!("the component endpoint of {node} has no Redfish path"))?;
    let reset = ce
        .redfish_system_info
        .as_ref()
        .and_then(|i| i.actions.as_ref())
        .and_then(|a| a.reset.as_ref())
        .filter(|r| !r.target.is_empty())
        .ok_or_else(|| format!("{node} declares no #ComputerSystem.Reset action"))?;
    Ok(ResetInfo {
        bmc,
        bmc_fqdn,
        system_path,
        reset_target: reset.target.clone(),
        allowed: reset.allowable_values.clone(),
    })
}

fn power_task(
    inv: &Inventory,
    t: &TransitionRecord,
    node: &Xname,
    task: &PowerTaskRecord,
) -> Option<PowerTask> {
    let r = reset_info(inv, node).ok()?;
    Some(PowerTask {
        transition_id: t.id.clone(),
        xname: node.clone(),
        operation: t.operation,
        bmc: r.bmc,
        bmc_fqdn: r.bmc_fqdn,
        system_path: r.system_path,
        reset_target: r.reset_target,
        allowed_reset_types: r.allowed,
        deadline_ms: t.deadline_ms,
        confirm: t.confirm,
        status: task.status,
        created_ms: t.created_ms,
    })
}

/// What an endpoint message carries, to tell when it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EndpointDigest {
    fqdn: String,
    username: String,
    password: String,
    enabled: bool,
}

/// What one Watch stream has sent so far.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Open tasks sent, of transitions with tasks not all sent yet.
    tasks: HashSet<(String, Xname)>,
    /// Transitions whose open tasks in scope were all sent (tasks never change membership,
    /// so only an abort can still concern the agent).
    settled: HashSet<String>,
    aborts: HashSet<String>,
    endpoints: HashMap<Xname, EndpointDigest>,
    discover_after: u64,
    /// The desired-state revision the agent holds once it applied what was sent (0: none).
    desired_at: u64,
}

impl Delivered {
    /// A stream whose agent already has the discover requests up to `discover_after` and
    /// the desired state at revision `desired_after` (0: none).
    pub fn new(discover_after: u64, desired_after: u64) -> Delivered {
        Delivered {
            discover_after,
            desired_at: desired_after,
            ..Delivered::default()
        }
    }

    /// The agent's whole work (the first message of a stream); `None` if it is not registered.
    /// Its desired-state part always has a mark, so the agent learns the revision it holds
    /// even when nothing changed.
    pub fn full(&mut self, inv: &Inventory, agent_id: &str) -> Option<WorkBatch> {
        let (discover_after, desired_after) = (self.discover_after, self.desired_at);
        *self = Delivered::new(discover_after, desired_after);
        let mut batch = self.collect(inv, agent_id, true)?;
        if batch.desired.is_none() {
            let revision = inv.revision();
            self.desired_at = revision;
            batch.desired = Some(cairn_protocols::desired::DesiredMark {
                revision,
                full: false,
                shared_replaced: false,
            });
        }
        Some(batch)
    }

    /// The desired-state revision the agent holds once it applied what was sent.
    pub fn desired_at(&self) -> u64 {
        self.desired_at
    }

    /// What changed since the last call; `None` if the agent is no longer registered.
    pub fn delta(&mut self, inv: &Inventory, agent_id: &str) -> Option<WorkBatch> {
        self.collect(inv, agent_id, false)
    }

    fn collect(&mut self, inv: &Inventory, agent_id: &str, full: bool) -> Option<WorkBatch> {
        let agent = inv.agents().agent(agent_id)?;
        let mut items = Vec::new();
        self.transitions(inv, agent, &mut items);
        self.endpoints(inv, agent, &mut items);
        for r in inv.agents().discover_requests() {
            if r.id > self.discover_after && r.agents.contains_key(agent_id) {
                items.push(WorkItem::Discover(DiscoverRequest {
                    id: r.id,
                    targets: r.targets_for(agent),
                    force: r.force,
                    requested_ms: r.requested_ms,
                }));
                self.discover_after = r.id;
            }
        }
        // Nothing changed for this agent: remember how far that is known, so the next call
        // looks at the newer log entries only. The agent learns the revision with the next
        // change (or the next stream's first message).
        let desired = match super::desired::since(inv, agent, self.desired_at) {
            super::desired::Catchup::Send(more, mark) => {
                items.extend(more);
                self.desired_at = mark.revision;
                Some(mark)
            }
            super::desired::Catchup::Unchanged(upto) => {
                self.desired_at = upto;
                None
            }
        };
        Some(WorkBatch {
            revision: inv.revision(),
            full,
            items,
            desired,
        })
    }

    fn transitions(&mut self, inv: &Inventory, agent: &AgentRecord, items: &mut Vec<WorkItem>) {
        let mut live = HashSet::new();
        for t in inv.power().transitions() {
            live.insert(t.id.as_str());
            let open_in_scope = || {
                t.tasks
                    .iter()
                    .filter(|(x, task)| !task.status.is_final() && agent.holds(x))
            };
            if t.abort_signaled && !self.aborts.contains(&t.id) && open_in_scope().next().is_some()
            {
                items.push(WorkItem::PowerAbort(t.id.clone()));
                self.aborts.insert(t.id.clone());
            }
            if self.settled.contains(&t.id) {
                continue;
            }
            let mut all_sent = true;
            for (x, task) in open_in_scope() {
                let key = (t.id.clone(), x.clone());
                if self.tasks.contains(&key) {
                    continue;
                }
                match power_task(inv, t, x, task) {
                    Some(pt) => {
                        items.push(WorkItem::PowerTask(pt));
                        self.tasks.insert(key);
                    }
                    // Its endpoint may still be discovered; the deadline bounds the wait.
                    None => all_sent = false,
                }
            }
            if all_sent {
                self.settled.insert(t.id.clone());
                self.tasks.retain(|(id, _)| id != &t.id);
            }
        }
        self.settled.retain(|id| live.contains(id.as_str()));
        self.aborts.retain(|id| live.contains(id.as_str()));
        self.tasks.retain(|(id, _)| live.contains(id.as_str()));
    }

    fn endpoints(&mut self, inv: &Inventory, agent: &AgentRecord, items: &mut Vec<WorkItem>) {
        // This runs for every stream on every applied revision: compare in place and clone
        // only what changed.
        let mut present = HashSet::new();
        for c in &agent.scope {
            for ep in inv.redfish_endpoints_in_cabinet(*c) {
                present.insert(&ep.id);
                let text = |v: &Option<String>| v.as_deref().unwrap_or_default().to_owned();
                let enabled = ep.enabled.unwrap_or(true);
                let unchanged = self.endpoints.get(&ep.id).is_some_and(|d| {
                    d.fqdn == ep.fqdn.as_deref().unwrap_or_default()
                        && d.username == ep.user.as_deref().unwrap_or_default()
                        && d.password == ep.password.as_deref().unwrap_or_default()
                        && d.enabled == enabled
                });
                if unchanged {
                    continue;
                }
                let digest = EndpointDigest {
                    fqdn: text(&ep.fqdn),
                    username: text(&ep.user),
                    password: text(&ep.password),
                    enabled,
                };
                items.push(WorkItem::Endpoint(BmcEndpoint {
                    id: ep.id.clone(),
                    fqdn: digest.fqdn.clone(),
                    username: digest.username.clone(),
                    password: digest.password.clone(),
                    enabled: digest.enabled,
                    removed: false,
                }));
                self.endpoints.insert(ep.id.clone(), digest);
            }
        }
        let gone: Vec<Xname> = self
            .endpoints
            .keys()
            .filter(|id| !present.contains(id))
            .cloned()
            .collect();
        for id in gone {
            self.endpoints.remove(&id);
            items.push(WorkItem::Endpoint(BmcEndpoint {
                id,
                fqdn: String::new(),
                username: String::new(),
                password: String::new(),
                enabled: false,
                removed: true,
            }));
        }
    }
}
