//! The desired-state part of an agent's Watch stream: its whole desired state when the
//! stream cannot tell what the agent holds, else the records changed since the revision it
//! holds (see `DesiredMark` in `agent.proto`).

use cairn_protocols::agent::WorkItem;
use cairn_protocols::desired::{DesiredItem, DesiredMark};

use crate::inventory::{AgentRecord, Inventory};

/// What brings an agent holding the desired state at some revision up to the replica's.
pub(super) enum Catchup {
    /// These items, under this mark.
    Send(Vec<WorkItem>, DesiredMark),
    /// Nothing the agent holds changed up to this revision.
    Unchanged(u64),
}

/// What an agent holding the desired state at `after` (0: nothing) needs. A revision this
/// replica has not reached is not trusted: the replica may be a follower a little behind, but
/// it may as well belong to a cluster rebuilt since, whose revisions started over; the agent
/// gets the whole state, which is right in both cases.
pub(super) fn since(inv: &Inventory, agent: &AgentRecord, after: u64) -> Catchup {
    let changes = (after > 0 && after <= inv.revision())
        .then(|| inv.desired_changes_since(after))
        .flatten();
    let Some(changes) = changes else {
        let (items, mark) = whole(inv, agent);
        return Catchup::Send(items, mark);
    };
    let nodes: Vec<_> = changes.nodes.iter().filter(|x| agent.holds(x)).collect();
    if nodes.is_empty() && !changes.shared {
        return Catchup::Unchanged(inv.revision());
    }
    let mut items: Vec<WorkItem> = nodes
        .into_iter()
        .map(|x| {
            WorkItem::Desired(match inv.desired_node(x) {
                Some(n) => DesiredItem::Node(Box::new(n)),
                None => DesiredItem::NodeRemoved(x.clone()),
            })
        })
        .collect();
    if changes.shared {
        items.extend(shared(inv));
    }
    let mark = DesiredMark {
        revision: inv.revision(),
        full: false,
        shared_replaced: changes.shared,
    };
    Catchup::Send(items, mark)
}

/// Everything: the nodes of the scope and every shared record.
fn whole(inv: &Inventory, agent: &AgentRecord) -> (Vec<WorkItem>, DesiredMark) {
    let mut items: Vec<WorkItem> = inv
        .desired_nodes(agent)
        .into_iter()
        .map(|n| WorkItem::Desired(DesiredItem::Node(Box::new(n))))
        .collect();
    items.extend(shared(inv));
    let mark = DesiredMark {
        revision: inv.revision(),
        full: true,
        shared_replaced: true,
    };
    (items, mark)
}

fn shared(inv: &Inventory) -> impl Iterator<Item = WorkItem> {
    inv.shared_records()
        .into_iter()
        .map(|r| WorkItem::Desired(DesiredItem::Shared(r)))
}
