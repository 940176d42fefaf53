//! The power-status poll: every node discovery found is read every `status_interval_ms`, and
//! what changed since the last poll is reported; after each (re)registration, everything is
//! reported once (a new leader, or a coordinator that lost track, gets the whole picture).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use cairn_protocols::Xname;
use cairn_protocols::agent::{PowerSample, ReportItem};
use cairn_protocols::power::{ManagementState, PowerState};
use futures::StreamExt;
use tokio::sync::watch;

use super::Ctx;
use super::bmcs::NodeRef;
use super::now_ms;
use super::power::read_power_state;
use super::shutdown::Shutdown;

/// What was last reported for a node.
type Reported = (PowerState, ManagementState, String);

pub(super) async fn run(
    ctx: Arc<Ctx>,
    every: Duration,
    concurrency: usize,
    mut nodes_changed: watch::Receiver<u64>,
    mut shutdown: Shutdown,
) {
    let mut registration = ctx.link.subscribe();
    let mut reported: HashMap<Xname, Reported> = HashMap::new();
    let mut reported_generation = 0;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            r = registration.changed() => if r.is_err() { return },
            r = nodes_changed.changed() => if r.is_err() { return },
            () = shutdown.wait() => return,
        }
        let nodes = ctx.bmcs.nodes();
        if nodes.is_empty() {
            continue;
        }
        let Some(samples) = shutdown.guard(poll(&ctx, nodes, concurrency)).await else {
            return;
        };
        let current = ctx.link.registration();
        let everything = current.registered && current.generation != reported_generation;
        let mut items = Vec::new();
        for s in samples {
            let now = (s.power_state, s.management_state, s.error.clone());
            if everything || reported.get(&s.xname) != Some(&now) {
                reported.insert(s.xname.clone(), now);
                items.push(ReportItem::PowerStatus(s));
            }
        }
        if everything {
            reported_generation = current.generation;
        }
        if !items.is_empty() {
            tracing::debug!(samples = items.len(), everything, "power status changes");
            ctx.reporter.report(items).await;
        }
    }
}

/// Reads every node, BMC by BMC (at most `concurrency` BMCs at once).
async fn poll(ctx: &Ctx, nodes: BTreeMap<Xname, NodeRef>, concurrency: usize) -> Vec<PowerSample> {
    let mut by_bmc: BTreeMap<Xname, Vec<(Xname, String)>> = BTreeMap::new();
    for (node, r) in nodes {
        by_bmc.entry(r.bmc).or_default().push((node, r.system_path));
    }
    futures::stream::iter(by_bmc)
        .map(|(bmc, nodes)| poll_bmc(ctx, bmc, nodes))
        .buffer_unordered(concurrency.max(1))
        .flat_map(futures::stream::iter)
        .collect()
        .await
}

async fn poll_bmc(ctx: &Ctx, bmc: Xname, nodes: Vec<(Xname, String)>) -> Vec<PowerSample> {
    let session = ctx
        .bmcs
        .discovered_address(&bmc)
        .ok_or_else(|| format!("no address known for BMC {bmc}"))
        .and_then(|a| ctx.bmcs.session(&bmc, &a).map_err(|e| e.detail()));
    let mut samples = Vec::with_capacity(nodes.len());
    for (node, path) in nodes {
        let read = match &session {
            Ok(s) => read_power_state(s, &path).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        let (power_state, management_state, error) = match read {
            Ok(state) => (state, ManagementState::Available, String::new()),
            Err(e) => (PowerState::Undefined, ManagementState::Unavailable, e),
        };
        samples.push(PowerSample {
            xname: node,
            power_state,
            management_state,
            error,
            observed_ms: now_ms(),
        });
    }
    samples
}
