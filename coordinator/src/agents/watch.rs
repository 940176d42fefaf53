//! The Watch stream: served by whichever replica the agent is connected to, from that
//! replica's applied state. The first message is the agent's whole work; after that, every
//! newly applied revision that may change the agent's work is diffed against what the stream
//! already sent, and a keepalive goes out when nothing changed for a heartbeat interval.

use std::time::Duration;

use cairn_protocols::agent::WorkBatch;
use cairn_protocols::pb::agent as pb;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tracing::Instrument;

use super::registry::HEARTBEAT_INTERVAL;
use super::status::unregistered;
use super::work::Delivered;
use crate::api::AppState;

/// How long a new stream waits for the agent's registration to be applied on this replica
/// (it may have been written through another replica a moment ago).
const REGISTRATION_WAIT: Duration = Duration::from_secs(5);

/// Messages buffered per stream before the sender waits for the agent to read.
const BUFFER: usize = 16;

/// The stream type of `AgentService::Watch`.
pub type WorkStream = ReceiverStream<Result<pb::WorkBatch, Status>>;

/// Start streaming `agent_id`'s work; the stream ends when the agent hangs up, the agent is
/// removed, or the replica stops.
pub(super) fn start(
    state: AppState,
    agent_id: String,
    discover_after: u64,
    desired_after: u64,
) -> WorkStream {
    let (tx, rx) = mpsc::channel(BUFFER);
    let span = tracing::info_span!("watch", agent = %agent_id);
    tokio::spawn(
        async move {
            match run(&state, &agent_id, discover_after, desired_after, &tx).await {
                Ok(()) => tracing::debug!("watch ended"),
                Err(status) => {
                    tracing::info!(%status, "watch ended");
                    let _ = tx.send(Err(status)).await;
                }
            }
        }
        .instrument(span),
    );
    ReceiverStream::new(rx)
}

type Tx = mpsc::Sender<Result<pb::WorkBatch, Status>>;

/// Sends a batch; false when the agent has hung up.
async fn send(tx: &Tx, batch: WorkBatch) -> bool {
    tx.send(Ok(batch.into())).await.is_ok()
}

async fn run(
    state: &AppState,
    agent_id: &str,
    discover_after: u64,
    desired_after: u64,
    tx: &Tx,
) -> Result<(), Status> {
    let replica = state.replica();
    let mut applied = replica.metrics();
    let mut delivered = Delivered::new(discover_after, desired_after);
    let give_up = Instant::now() + REGISTRATION_WAIT;
    let first = loop {
        if let Some(batch) = replica.read(|inv| delivered.full(inv, agent_id)) {
            break batch;
        }
        match tokio::time::timeout_at(give_up, applied.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(Status::unavailable("this replica is shutting down")),
            Err(_) => return Err(unregistered(agent_id)),
        }
    };
    let mut revision = first.revision;
    tracing::debug!(items = first.items.len(), revision, "sending the full work");
    if !send(tx, first).await {
        return Ok(());
    }
    let mut keepalive =
        tokio::time::interval_at(Instant::now() + HEARTBEAT_INTERVAL, HEARTBEAT_INTERVAL);
    keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let closing = state.agents().clone();
    let closed = closing.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            () = tx.closed() => return Ok(()),
            () = &mut closed => return Err(Status::unavailable("this replica is shutting down")),
            changed = applied.changed() => {
                if changed.is_err() {
                    return Err(Status::unavailable("this replica is shutting down"));
                }
                // Power results and boot events arrive by the thousand and change no agent's
                // work: skip the diff unless a command that can change it was applied.
                let (now, work_changed, desired_changed) = replica.read(|inv| {
                    (inv.revision(), inv.agent_work_changed_at(), inv.desired_changed_at())
                });
                if now == revision || (work_changed <= revision && desired_changed <= revision) {
                    revision = now;
                    continue;
                }
                let batch = replica
                    .read(|inv| delivered.delta(inv, agent_id))
                    .ok_or_else(|| unregistered(agent_id))?;
                revision = batch.revision;
                if batch.items.is_empty() {
                    continue;
                }
                tracing::debug!(items = batch.items.len(), revision, "sending changes");
                if !send(tx, batch).await {
                    return Ok(());
                }
                keepalive.reset();
            }
            _ = keepalive.tick() => {
                let batch = WorkBatch { revision, full: false, items: Vec::new(), desired: None };
                if !send(tx, batch).await {
                    return Ok(());
                }
            }
        }
    }
}
