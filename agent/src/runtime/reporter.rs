//! The outbox's front door: every part of the agent hands its report items (and the task
//! progress or counters that go with them) to the [`Reporter`], and one batcher task writes them
//! to the [`Store`]. Whatever is waiting when the batcher comes round goes into as few reports
//! as the protocol's limits allow, with one flush for all: ten thousand power tasks confirming at
//! once cost a few disk flushes, not ten thousand.

use std::mem;
use std::sync::Arc;

use cairn_protocols::agent::{MAX_REPORT_BYTES, MAX_REPORT_ITEMS, ReportItem};
use cairn_protocols::pb::agent as pb;
use prost::Message;
use tokio::sync::{mpsc, oneshot, watch};

use super::shutdown::Shutdown;
use super::store::{Commit, Store, TaskWrite};

/// Room left in a report for its envelope (agent id, seq, framing).
pub(super) const ENVELOPE_BYTES: usize = 16 << 10;

/// Requests waiting for the batcher before senders wait too.
const QUEUE: usize = 4096;

/// Why a commit was not made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    /// The agent is stopping.
    #[error("the agent is stopping")]
    Stopped,
    /// The store failed (logged where it happened).
    #[error("the agent state could not be written")]
    Store,
}

struct Request {
    items: Vec<pb::ReportItem>,
    tasks: Vec<TaskWrite>,
    counters: Vec<(&'static str, u64)>,
    done: Option<oneshot::Sender<Result<(), CommitError>>>,
}

/// Hands report items to the outbox (cheap to clone).
#[derive(Debug, Clone)]
pub struct Reporter {
    tx: mpsc::Sender<Request>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("items", &self.items.len())
            .field("tasks", &self.tasks.len())
            .finish()
    }
}

impl Reporter {
    /// Queues `items` for the outbox without waiting for them to be written.
    pub async fn report(&self, items: Vec<ReportItem>) {
        if items.is_empty() {
            return;
        }
        let request = Request {
            items: items.into_iter().map(pb::ReportItem::from).collect(),
            tasks: Vec::new(),
            counters: Vec::new(),
            done: None,
        };
        if self.tx.send(request).await.is_err() {
            tracing::debug!("report dropped: the agent is stopping");
        }
    }

    /// Writes `items`, `tasks` and `counters` durably (items in the outbox, the rest with the
    /// report that carries the last item) and returns once they are on disk.
    pub async fn commit(
        &self,
        items: Vec<ReportItem>,
        tasks: Vec<TaskWrite>,
        counters: Vec<(&'static str, u64)>,
    ) -> Result<(), CommitError> {
        let (done, wait) = oneshot::channel();
        let request = Request {
            items: items.into_iter().map(pb::ReportItem::from).collect(),
            tasks,
            counters,
            done: Some(done),
        };
        self.tx
            .send(request)
            .await
            .map_err(|_| CommitError::Stopped)?;
        wait.await.unwrap_or(Err(CommitError::Stopped))
    }
}

/// The batcher: writes what the [`Reporter`]s queue, bumping `appended` after each report so
/// the sender wakes up.
pub fn start(
    store: Arc<Store>,
    appended: watch::Sender<u64>,
    shutdown: Shutdown,
) -> (Reporter, impl std::future::Future<Output = ()>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (Reporter { tx }, run(store, rx, appended, shutdown))
}

async fn run(
    store: Arc<Store>,
    mut rx: mpsc::Receiver<Request>,
    appended: watch::Sender<u64>,
    mut shutdown: Shutdown,
) {
    loop {
        let first = tokio::select! {
            r = rx.recv() => r,
            () = shutdown.wait() => None,
        };
        let Some(first) = first else {
            // Stopping: write what was already handed over, then end.
            let mut rest = Vec::new();
            while let Ok(r) = rx.try_recv() {
                rest.push(r);
            }
            write(&store, rest, &appended).await;
            return;
        };
        let mut batch = vec![first];
        let mut queued_items = batch[0].items.len();
        // Take what else is waiting, without waiting for more (no added latency).
        while queued_items < 4 * MAX_REPORT_ITEMS {
            match rx.try_recv() {
                Ok(r) => {
                    queued_items += r.items.len();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        write(&store, batch, &appended).await;
    }
}

/// Packs requests into reports within the protocol's limits and commits them in order.
async fn write(store: &Store, batch: Vec<Request>, appended: &watch::Sender<u64>) {
    for (commit, done) in pack(batch) {
        let reported = !commit.items.is_empty();
        let result = match store.commit(commit).await {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!(error = %crate::runtime::chain(&e), "cannot write to the outbox");
                Err(CommitError::Store)
            }
        };
        if reported && result.is_ok() {
            appended.send_modify(|n| *n += 1);
        }
        for d in done {
            let _ = d.send(result);
        }
    }
}

type Packed = Vec<(Commit, Vec<oneshot::Sender<Result<(), CommitError>>>)>;

fn pack(batch: Vec<Request>) -> Packed {
    let limit = MAX_REPORT_BYTES - ENVELOPE_BYTES;
    let mut out = Vec::new();
    let mut current = Commit::default();
    let mut bytes = 0;
    let mut waiting = Vec::new();
    for request in batch {
        for item in request.items {
            // Field tag and length prefix of each repeated item.
            let size = item.encoded_len() + 8;
            let full = current.items.len() >= MAX_REPORT_ITEMS || bytes + size > limit;
            if full && !current.items.is_empty() {
                out.push((mem::take(&mut current), mem::take(&mut waiting)));
                bytes = 0;
            }
            if size > limit {
                // Sent alone; the coordinator will refuse it and it gets dropped, logged.
                tracing::warn!(bytes = size, "a report item exceeds the report size limit");
            }
            current.items.push(item);
            bytes += size;
        }
        current.tasks.extend(request.tasks);
        current.counters.extend(request.counters);
        waiting.extend(request.done);
    }
    if !current.items.is_empty() || !current.tasks.is_empty() || !current.counters.is_empty() {
        out.push((current, waiting));
    } else {
        // Nothing to write, but someone may wait for it.
        for d in waiting {
            let _ = d.send(Ok(()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done_items(n: usize) -> Vec<pb::ReportItem> {
        (0..n)
            .map(|i| pb::ReportItem::from(ReportItem::DiscoverDone(i as u64 + 1)))
            .collect()
    }

    fn request(items: usize, tasks: usize) -> Request {
        Request {
            items: done_items(items),
            tasks: (0..tasks).map(|i| (format!("t{i}"), None)).collect(),
            counters: Vec::new(),
            done: None,
        }
    }

    #[test]
    fn packing_respects_the_item_limit_and_keeps_tasks_with_their_last_item() {
        let packed = pack(vec![request(700, 0), request(700, 2), request(10, 1)]);
        let shape: Vec<(usize, usize)> = packed
            .iter()
            .map(|(c, _)| (c.items.len(), c.tasks.len()))
            .collect();
        assert_eq!(shape, [(1000, 0), (410, 3)]);
    }

    #[test]
    fn task_only_requests_make_a_commit_without_a_report() {
        let packed = pack(vec![request(0, 1)]);
        assert_eq!(packed.len(), 1);
        assert!(packed[0].0.items.is_empty());
        assert!(pack(vec![request(0, 0)]).is_empty());
    }

    #[tokio::test]
    async fn commits_are_durable_and_wake_the_sender() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).await.unwrap());
        let (appended, mut seen) = watch::channel(0);
        let (_trigger, shutdown) = super::super::shutdown::channel();
        let (reporter, batcher) = start(Arc::clone(&store), appended, shutdown);
        tokio::spawn(batcher);
        reporter
            .commit(
                vec![ReportItem::DiscoverDone(4)],
                vec![("k".into(), Some(b"v".to_vec()))],
                vec![("discover_after", 4)],
            )
            .await
            .unwrap();
        assert_eq!(store.outbox_depth(), 1);
        assert_eq!(store.counter("discover_after").unwrap(), 4);
        assert!(seen.has_changed().unwrap());
        seen.borrow_and_update();
    }
}
