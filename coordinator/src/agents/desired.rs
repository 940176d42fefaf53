//! The desired-state part of an agent's Watch stream: its whole desired state when the
//! stream cannot tell what the agent holds, else the records changed since the revision it
//! holds (see `DesiredMark` in `agent.proto`).

use cairn_protocols::agent::WorkItem;
use cairn_protocols::desired::{DesiredItem, DesiredMark};

use crate::inventory::{AgentRecord, Inventory};

/// The items and mark that bring an agent holding the desired state at `after` (0: nothing)
/// up to the replica's revision; `None` when nothing it holds changed.
pub(super) fn since(
    inv: &Inventory,
    agent: &AgentRecord,
    after: u64,
) -> Option<(Vec<WorkItem>, DesiredMark)> {
    let changes = (after > 0)
        .then(|| inv.desired_changes_since(after))
        .flatten();
    let Some(changes) = changes else {
        return Some(whole(inv, agent));
    };
    let nodes: Vec<_> = changes.nodes.iter().filter(|x| agent.holds(x)).collect();
    if nodes.is_empty() && !changes.shared {
        return None;
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
        // A replica behind the agent (it applied less than the agent once got elsewhere)
        // sends what changed after the agent's revision as it catches up.
        revision: inv.revision().max(after),
        full: false,
        shared_replaced: changes.shared,
    };
    Some((items, mark))
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
