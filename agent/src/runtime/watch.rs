//! The Watch stream: exactly one open at a time, on the replica in use, reopened (on the next
//! replica when this one is unavailable) whenever it ends, fails or falls silent for three
//! heartbeat intervals (the coordinators send a keepalive every interval). Each message's work
//! goes to the BMC registry (endpoints and their credentials), the power executor (tasks and
//! aborts) and the discovery loop (discover requests).

use std::sync::Arc;

use cairn_protocols::agent::WorkItem;
use cairn_protocols::desired::{DesiredItem, DesiredMark};
use cairn_protocols::pb::agent as pb;
use tonic::Status;

use super::Ctx;
use super::discovery_loop::DISCOVER_AFTER;
use super::link::{Backoff, CALL_TIMEOUT, Failure};
use super::power::PowerWork;
use super::shutdown::Shutdown;

pub(super) async fn run(ctx: Arc<Ctx>, mut shutdown: Shutdown) {
    let mut backoff = Backoff::default();
    // The highest discover request received: not sent again on a new stream.
    let mut discover_after = ctx.store.counter(DISCOVER_AFTER).unwrap_or(0);
    loop {
        if ctx.link.wait_registered(&mut shutdown).await.is_none() {
            return;
        }
        let (i, mut client) = ctx.link.client();
        let request = pb::WatchRequest {
            agent_id: ctx.registration.agent_id.clone(),
            discover_after,
            // What is on disk, not in memory: a write that failed is fetched again.
            desired_after: ctx.store.desired_revision(&ctx.scope_key).unwrap_or(0),
        };
        let Some(opened) = shutdown
            .guard(tokio::time::timeout(CALL_TIMEOUT, client.watch(request)))
            .await
        else {
            return;
        };
        let failure = match opened {
            Ok(Ok(response)) => {
                tracing::info!(url = ctx.link.current_url(), "watching");
                let mut stream = response.into_inner();
                loop {
                    // Three keepalives missed: the replica or the path to it is gone.
                    let silence = ctx.link.registration().heartbeat * 3;
                    let Some(next) = shutdown
                        .guard(tokio::time::timeout(silence, stream.message()))
                        .await
                    else {
                        return;
                    };
                    match next {
                        Ok(Ok(Some(batch))) => {
                            ctx.link.contact();
                            backoff.reset();
                            if !handle(&ctx, batch, &mut discover_after).await {
                                break None;
                            }
                        }
                        Ok(Ok(None)) => {
                            tracing::info!("the watch stream ended; reopening");
                            break None;
                        }
                        Ok(Err(status)) => break Some(ctx.link.failed(i, "Watch", &status)),
                        Err(_) => {
                            let status = Status::deadline_exceeded(format!(
                                "no message for {} ms",
                                silence.as_millis()
                            ));
                            break Some(ctx.link.failed(i, "Watch", &status));
                        }
                    }
                }
            }
            Ok(Err(status)) => Some(ctx.link.failed(i, "Watch", &status)),
            Err(_) => Some(ctx.link.failed(
                i,
                "Watch",
                &Status::deadline_exceeded("no answer in time"),
            )),
        };
        // After Unregistered the loop waits for the new registration at the top. An ended
        // stream is reopened after the (reset) backoff's first step, so a replica that keeps
        // ending streams at once is not hammered.
        if failure != Some(Failure::Unregistered) && !shutdown.sleep(backoff.delay()).await {
            return;
        }
    }
}

/// Dispatches one message's work; false when the stream must be reopened (the desired state
/// could not be stored, so what follows on this stream would not apply to what is held).
async fn handle(ctx: &Ctx, batch: pb::WorkBatch, discover_after: &mut u64) -> bool {
    let (revision, full) = (batch.revision, batch.full);
    let count = batch.items.len();
    let mark = batch.desired.map(DesiredMark::from);
    let mut desired = Vec::new();
    let mut tasks = Vec::new();
    let mut aborts = Vec::new();
    let mut endpoints = Vec::new();
    let mut discovers = Vec::new();
    for (i, w) in batch.items.into_iter().enumerate() {
        // One item this agent cannot use (e.g. from a newer coordinator) spoils nothing else.
        match WorkItem::try_from(w) {
            Ok(WorkItem::PowerTask(t)) => tasks.push(t),
            Ok(WorkItem::PowerAbort(id)) => aborts.push(id),
            Ok(WorkItem::Endpoint(e)) => endpoints.push(e),
            Ok(WorkItem::Discover(d)) => discovers.push(d),
            Ok(WorkItem::Desired(d)) => desired.push(d),
            Err(e) => {
                tracing::warn!(item = i, error = %e, "ignoring a work item this agent cannot use")
            }
        }
    }
    if count > 0 || full {
        tracing::debug!(
            revision,
            full,
            tasks = tasks.len(),
            aborts = aborts.len(),
            endpoints = endpoints.len(),
            discovers = discovers.len(),
            desired = desired.len(),
            "work received"
        );
    }
    let stored = match mark {
        Some(mark) => apply_desired(ctx, desired, mark).await,
        None => {
            if !desired.is_empty() {
                tracing::warn!(
                    items = desired.len(),
                    "ignoring desired-state items without a mark"
                );
            }
            true
        }
    };
    if full {
        ctx.bmcs.replace_endpoints(endpoints);
        ctx.executor
            .send(PowerWork::Full {
                tasks,
                aborts,
                revision,
            })
            .await;
    } else {
        for e in endpoints {
            ctx.bmcs.update_endpoint(e);
        }
        for t in tasks {
            ctx.executor.send(PowerWork::Task(t, revision)).await;
        }
        for id in aborts {
            ctx.executor.send(PowerWork::Abort(id)).await;
        }
    }
    for d in discovers {
        if d.id > *discover_after {
            *discover_after = d.id;
            tracing::info!(id = d.id, targets = d.targets.len(), "discover request");
            if ctx.discovery.send(d).await.is_err() {
                tracing::debug!("discover request dropped: the agent is stopping");
            }
        }
    }
    stored
}

/// Writes the desired state durably, then serves from it. A write that fails leaves the
/// revision held where it was, so the next stream fetches the change again; meanwhile the rack
/// serves what it held.
async fn apply_desired(ctx: &Ctx, items: Vec<DesiredItem>, mark: DesiredMark) -> bool {
    if let Err(e) = ctx.store.apply_desired(&items, mark, &ctx.scope_key).await {
        tracing::error!(error = %super::chain(&e), "cannot store the desired state; serving the previous one");
        return false;
    }
    let count = items.len();
    ctx.rack.apply(
        items,
        mark.full,
        mark.full || mark.shared_replaced,
        mark.revision,
    );
    if count > 0 || mark.full {
        tracing::info!(
            revision = mark.revision,
            full = mark.full,
            records = count,
            nodes = ctx.rack.read().node_count(),
            "desired state updated"
        );
    }
    ctx.desired_changed.send_replace(mark.revision);
    true
}
