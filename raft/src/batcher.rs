//! Proposal batching. openraft 0.9 appends, flushes and replicates each `client_write` on its
//! own, one after another, so a busy leader would pay one fsync per write. Writers here hand
//! their encoded command to one batcher task, which proposes everything queued meanwhile as a
//! single log entry (bounded in count and bytes); each command still gets its own response.
//! One client alone sees no added delay: a batch is sent as soon as it is taken.

use std::sync::Arc;
use std::time::Duration;

use serde_bytes::ByteBuf;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::Instrument;

use crate::error::WriteError;
use crate::typ::{AppRequest, Raft};

/// Commands per entry at most.
const MAX_BATCH: usize = 1024;
/// Bytes of commands batched into one entry at most. Entries are replicated within one
/// heartbeat interval (openraft's AppendEntries timeout; see `config::MAX_PAYLOAD_ENTRIES`),
/// so they stay modest.
pub(crate) const MAX_BATCH_BYTES: usize = 1 << 20;
/// The largest single command (it then forms an entry alone). Larger ones are refused with
/// [`WriteError::TooLarge`]: one entry that cannot reach a follower within a heartbeat would
/// stall every write behind it.
pub const MAX_ENTRY_BYTES: usize = 2 << 20;
/// Batches proposed and not yet applied: enough to keep openraft's queue fed while the next
/// batch forms, few enough that batches stay large under load.
const IN_FLIGHT: usize = 2;

type Reply = oneshot::Sender<Result<ByteBuf, WriteError>>;

/// Hands commands to the batcher task; cheap to clone.
#[derive(Clone)]
pub(crate) struct Batcher {
    tx: mpsc::UnboundedSender<(ByteBuf, Reply)>,
}

impl Batcher {
    /// Start the batcher task for this replica; it ends when every `Batcher` clone is dropped.
    pub(crate) fn spawn(raft: Raft, limit: Duration, span: tracing::Span) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(raft, rx, limit).instrument(span));
        Batcher { tx }
    }

    /// Propose one encoded command; returns its encoded response once applied.
    pub(crate) async fn propose(&self, cmd: ByteBuf) -> Result<ByteBuf, WriteError> {
        if cmd.len() > MAX_ENTRY_BYTES {
            return Err(WriteError::TooLarge {
                bytes: cmd.len(),
                limit: MAX_ENTRY_BYTES,
            });
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send((cmd, reply))
            .map_err(|_| WriteError::Unavailable("the replica is shutting down".into()))?;
        rx.await
            .map_err(|_| WriteError::Internal("the write was dropped by the batcher".into()))?
    }
}

async fn run(raft: Raft, mut rx: mpsc::UnboundedReceiver<(ByteBuf, Reply)>, limit: Duration) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut carry = None;
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        // Take what is queued now, within the bounds; what does not fit starts the next batch.
        let mut batch: Vec<(ByteBuf, Reply)> = Vec::new();
        let mut bytes = 0;
        match carry.take() {
            Some(first) => batch.push(first),
            None => match rx.recv().await {
                Some(first) => batch.push(first),
                None => return,
            },
        }
        bytes += batch[0].0.len();
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) if bytes + next.0.len() > MAX_BATCH_BYTES => {
                    carry = Some(next);
                    break;
                }
                Ok(next) => {
                    bytes += next.0.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let raft = raft.clone();
        tokio::spawn(async move {
            let (cmds, replies): (Vec<ByteBuf>, Vec<Reply>) = batch.into_iter().unzip();
            let n = cmds.len();
            let result =
                match tokio::time::timeout(limit, raft.client_write(AppRequest(cmds))).await {
                    Ok(Ok(resp)) if resp.data.0.len() == n => Ok(resp.data.0),
                    Ok(Ok(resp)) => Err(WriteError::Internal(format!(
                        "a batch of {n} commands got {} responses",
                        resp.data.0.len()
                    ))),
                    Ok(Err(e)) => Err(WriteError::from(e)),
                    Err(_) => Err(WriteError::Unavailable(format!(
                        "write timed out after {limit:?}"
                    ))),
                };
            drop(slot);
            match result {
                Ok(responses) => {
                    for (reply, resp) in replies.into_iter().zip(responses) {
                        let _ = reply.send(Ok(resp));
                    }
                }
                Err(e) => {
                    for reply in replies {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        });
    }
}
