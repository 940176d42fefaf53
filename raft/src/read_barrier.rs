//! Coalesced read-index rounds. openraft 0.9 confirms leadership with a heartbeat round per
//! `ensure_linearizable` call; under many concurrent readers that is one round per read.
//! Here one round serves every read that arrived before it *started* (a round already in
//! flight may have taken its read index before a newcomer's request, so the newcomer waits for
//! the next one): linearizable, with at most two rounds outstanding however many readers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::watch;
use tracing::Instrument;

use openraft::error::{CheckIsLeaderError, RaftError as OrError};

use crate::error::WriteError;
use crate::typ::Raft;

/// openraft's read index, retried while the leader merely failed to hear from a quorum in one
/// heartbeat round. openraft 0.9 bounds each AppendEntries by the heartbeat interval, so one
/// round fails as soon as followers are slow for a moment (a loaded machine, a GC-like pause);
/// a read must wait for a quorum up to the caller's bound, as writes do, not fail on the first
/// slow round. The caller's timeout ends the loop.
async fn read_index(raft: &Raft) -> Result<(), WriteError> {
    let mut pause = Duration::from_millis(10);
    loop {
        match raft.ensure_linearizable().await {
            Ok(_) => return Ok(()),
            Err(OrError::APIError(CheckIsLeaderError::QuorumNotEnough(q))) => {
                tracing::debug!(error = %q, "read index: no quorum this round, retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// One read-index round: confirm leadership and wait until the read index is applied.
pub(crate) type Round = Arc<dyn Fn() -> BoxFuture<'static, Result<(), WriteError>> + Send + Sync>;

#[derive(Clone)]
struct Done {
    /// The last completed round (rounds are numbered from 1).
    round: u64,
    result: Result<(), WriteError>,
}

struct Schedule {
    /// The number the next round to start will take.
    next: u64,
    /// A reader is waiting for a round that has not started yet.
    wanted: bool,
    /// A runner task is active.
    running: bool,
}

struct Shared {
    schedule: Mutex<Schedule>,
    done: watch::Sender<Done>,
    round: Round,
}

/// Coalesces concurrent read barriers into shared rounds.
#[derive(Clone)]
pub(crate) struct ReadBarrier(Arc<Shared>);

impl ReadBarrier {
    pub(crate) fn new(round: Round) -> Self {
        let (done, _) = watch::channel(Done {
            round: 0,
            result: Ok(()),
        });
        ReadBarrier(Arc::new(Shared {
            schedule: Mutex::new(Schedule {
                next: 1,
                wanted: false,
                running: false,
            }),
            done,
            round,
        }))
    }

    /// Wait for a round that started after this call, and return its outcome.
    pub(crate) async fn wait(&self) -> Result<(), WriteError> {
        let mut done = self.0.done.subscribe();
        let mine = {
            let mut s = self
                .0
                .schedule
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            s.wanted = true;
            if !s.running {
                s.running = true;
                // A task, not this future, drives the rounds: a reader that gives up (its
                // client went away) must not strand the others.
                tokio::spawn(run(self.0.clone()));
            }
            s.next
        };
        match done.wait_for(|d| d.round >= mine).await {
            Ok(d) => d.result.clone(),
            Err(_) => Err(WriteError::Unavailable(
                "the replica is shutting down".into(),
            )),
        }
    }
}

/// Clears `running` however the runner ends (even by a panic), so the next reader starts a
/// new one instead of waiting for a round nobody will run.
struct Running(Arc<Shared>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0
            .schedule
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .running = false;
    }
}

async fn run(shared: Arc<Shared>) {
    let _running = Running(shared.clone());
    loop {
        let round = {
            let mut s = shared
                .schedule
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !s.wanted {
                return;
            }
            s.wanted = false;
            s.next += 1;
            s.next - 1
        };
        let result = (shared.round)().await;
        shared.done.send_replace(Done { round, result });
    }
}

/// The rounds of a replica: openraft's read index, plus a fence for a leader restored from
/// disk. openraft 0.9 restores a replica that led before a restart as leader of its old term,
/// and its read index is then the committed index read from disk, which may predate writes
/// acknowledged before the crash. Every write it acknowledged in that term is in its own log
/// (a leader never truncates it), so while it still leads that term a read also waits until
/// its applied index reaches its last log index at startup; it can commit those entries itself.
/// `restored` is that (term, last log index), from storage before openraft started.
pub(crate) fn for_raft(
    raft: &Raft,
    restored: Option<(u64, u64)>,
    limit: Duration,
    span: tracing::Span,
) -> ReadBarrier {
    let (term, last) = restored.unwrap_or((0, 0));
    let fence = Arc::new(AtomicU64::new(last));
    let raft = raft.clone();
    ReadBarrier::new(Arc::new(move || {
        let (raft, fence, span) = (raft.clone(), fence.clone(), span.clone());
        Box::pin(
            async move {
                let round = async {
                    read_index(&raft).await?;
                    let fence_at = fence.load(Ordering::Acquire);
                    if fence_at > 0 {
                        let mut m = raft.metrics();
                        let moved_on = m
                            .wait_for(|m| {
                                m.current_term != term
                                    || m.last_applied.is_some_and(|l| l.index >= fence_at)
                            })
                            .await
                            .map(|m| m.current_term != term)
                            .map_err(|_| WriteError::Unavailable("raft stopped".into()))?;
                        if moved_on {
                            // Leadership moved on: a new term's read index covers the old log.
                            read_index(&raft).await?;
                        }
                        fence.store(0, Ordering::Release);
                    }
                    Ok(())
                };
                match tokio::time::timeout(limit, round).await {
                    Ok(res) => res,
                    Err(_) => Err(WriteError::Unavailable(format!(
                        "no quorum confirmed this leader within {limit:?}"
                    ))),
                }
            }
            .instrument(span),
        )
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn concurrent_readers_share_rounds() {
        let rounds = Arc::new(AtomicU32::new(0));
        let counter = rounds.clone();
        let barrier = ReadBarrier::new(Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(())
            })
        }));
        let readers: Vec<_> = (0..100)
            .map(|_| {
                let b = barrier.clone();
                tokio::spawn(async move { b.wait().await })
            })
            .collect();
        for r in readers {
            assert_eq!(r.await.expect("reader task"), Ok(()));
        }
        let n = rounds.load(Ordering::SeqCst);
        assert!(
            (1..=3).contains(&n),
            "100 concurrent readers took {n} rounds"
        );
    }

    #[tokio::test]
    async fn a_reader_never_uses_a_round_that_started_before_it() {
        // The round records how many readers had arrived when it started.
        let arrived = Arc::new(AtomicU32::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (a, s) = (arrived.clone(), seen.clone());
        let barrier = ReadBarrier::new(Arc::new(move || {
            let at_start = a.load(Ordering::SeqCst);
            s.lock().expect("lock").push(at_start);
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                Ok(())
            })
        }));
        for i in 1..=5u32 {
            arrived.store(i, Ordering::SeqCst);
            barrier.wait().await.expect("round");
            let starts = seen.lock().expect("lock").clone();
            assert!(
                starts.last().is_some_and(|&n| n >= i),
                "reader {i} served by {starts:?}"
            );
        }
    }

    #[tokio::test]
    async fn errors_reach_the_readers_of_that_round() {
        let barrier = ReadBarrier::new(Arc::new(|| {
            Box::pin(async { Err(WriteError::Unavailable("no quorum".into())) })
        }));
        assert_eq!(
            barrier.wait().await,
            Err(WriteError::Unavailable("no quorum".into()))
        );
    }
}
