//! The executor's loop: the table of held tasks (see the parent module's docs for the rules).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cairn_protocols::agent::PowerTask;
use cairn_protocols::power::TaskStatus;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::record::{Progress, StoredTask, TaskKey, TaskRecord, store_key};
use super::task::{self, Cursor, Outcome, Start, TaskCtx};
use super::{PowerWork, Signal};
use crate::runtime::now_ms;
use crate::runtime::shutdown::Shutdown;
use crate::runtime::store::Store;

/// How long a finished task is remembered past its deadline.
const FORGET_AFTER_DEADLINE: Duration = Duration::from_secs(5 * 60);

/// How long a finished task without a deadline is remembered (transitions expire after a day).
const FORGET_WITHOUT_DEADLINE: Duration = Duration::from_secs(25 * 60 * 60);

/// How often finished tasks are checked for forgetting.
const FORGET_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Held {
    revision: u64,
    /// `None` once finished.
    signal: Option<watch::Sender<Signal>>,
    /// When to forget it once finished (Unix ms).
    forget_at_ms: u64,
}

/// Runs the executor until the agent stops.
pub(super) async fn run(
    ctx: Arc<TaskCtx>,
    store: Arc<Store>,
    count: Arc<AtomicUsize>,
    rx: mpsc::Receiver<PowerWork>,
    shutdown: Shutdown,
) {
    let actor = Actor {
        ctx,
        store,
        held: HashMap::new(),
        aborted: HashSet::new(),
        tasks: JoinSet::new(),
        count,
    };
    actor.run(rx, shutdown).await;
}

struct Actor {
    ctx: Arc<TaskCtx>,
    store: Arc<Store>,
    held: HashMap<TaskKey, Held>,
    aborted: HashSet<String>,
    tasks: JoinSet<(TaskKey, Outcome)>,
    count: Arc<AtomicUsize>,
}

fn forget_at(task: &StoredTask) -> u64 {
    match task.deadline_ms {
        Some(d) => d.saturating_add(FORGET_AFTER_DEADLINE.as_millis() as u64),
        None => task
            .created_ms
            .max(now_ms())
            .saturating_add(FORGET_WITHOUT_DEADLINE.as_millis() as u64),
    }
}

impl Actor {
    async fn run(mut self, mut rx: mpsc::Receiver<PowerWork>, mut shutdown: Shutdown) {
        self.load();
        let mut forget = tokio::time::interval(FORGET_EVERY);
        loop {
            self.count.store(self.held.len(), Ordering::Relaxed);
            tokio::select! {
                work = rx.recv() => match work {
                    Some(w) => self.handle(w),
                    None => break,
                },
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => match done {
                    Ok((key, outcome)) => self.done(key, outcome),
                    Err(e) if e.is_panic() => tracing::error!(error = %e, "a power task panicked"),
                    Err(_) => {}
                },
                _ = forget.tick() => self.forget_finished(),
                () = shutdown.wait() => break,
            }
        }
        // Running tasks stop where they are; their stored progress resumes them next time.
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }

    /// Takes up what the store holds from before a restart.
    fn load(&mut self) {
        let records = match self.store.tasks() {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %crate::runtime::chain(&e), "cannot read the stored power tasks");
                return;
            }
        };
        let mut unreadable = Vec::new();
        for (key, bytes) in records {
            let record = match TaskRecord::decode(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(%key, error = %e, "dropping an unreadable power task record");
                    unreadable.push((key, None));
                    continue;
                }
            };
            match record.progress {
                Progress::Finished { .. } => {
                    self.held.insert(
                        record.task.key(),
                        Held {
                            revision: record.revision,
                            signal: None,
                            forget_at_ms: forget_at(&record.task),
                        },
                    );
                }
                Progress::Started {
                    steps,
                    step,
                    sent_ms,
                    escalated,
                } => {
                    tracing::info!(
                        transition = %record.task.transition_id,
                        node = %record.task.xname,
                        "resuming a power task started before the restart"
                    );
                    let start = Start::Resume(Cursor {
                        steps,
                        step,
                        sent_ms,
                        escalated,
                    });
                    self.spawn(record.task, record.revision, start);
                }
            }
        }
        self.delete(unreadable);
    }

    fn handle(&mut self, work: PowerWork) {
        match work {
            PowerWork::Task(task, revision) => self.offer(task, revision),
            PowerWork::Abort(id) => self.abort(id),
            PowerWork::Full {
                tasks,
                aborts,
                revision,
            } => {
                let listed: HashSet<TaskKey> = tasks
                    .iter()
                    .map(|t| (t.transition_id.clone(), t.xname.clone()))
                    .collect();
                let closed: Vec<TaskKey> = self
                    .held
                    .iter()
                    .filter(|(k, h)| !listed.contains(*k) && h.revision <= revision)
                    .map(|(k, _)| k.clone())
                    .collect();
                let mut forget = Vec::new();
                for key in closed {
                    if let Some(Held {
                        signal: Some(signal),
                        ..
                    }) = self.held.remove(&key)
                    {
                        tracing::info!(transition = %key.0, node = %key.1, "the coordinators closed this task: stopping it");
                        signal.send_replace(Signal::Cancel);
                    }
                    forget.push((store_key(&key), None));
                }
                self.delete(forget);
                self.aborted = aborts.iter().cloned().collect();
                for task in tasks {
                    self.offer(task, revision);
                }
                for id in aborts {
                    self.abort(id);
                }
            }
        }
    }

    fn offer(&mut self, task: PowerTask, revision: u64) {
        let key = (task.transition_id.clone(), task.xname.clone());
        if self.held.contains_key(&key) {
            return;
        }
        let start = if task.status == TaskStatus::InProgress {
            Start::FromState
        } else {
            Start::Fresh
        };
        self.spawn(StoredTask::from(task), revision, start);
    }

    fn spawn(&mut self, task: StoredTask, revision: u64, start: Start) {
        let key = task.key();
        let (signal, rx) = watch::channel(Signal::Run);
        if self.aborted.contains(&key.0) {
            signal.send_replace(Signal::Abort);
        }
        self.held.insert(
            key,
            Held {
                revision,
                signal: Some(signal),
                forget_at_ms: forget_at(&task),
            },
        );
        self.tasks
            .spawn(task::run(Arc::clone(&self.ctx), task, revision, start, rx));
    }

    fn abort(&mut self, id: String) {
        for ((transition, _), held) in &self.held {
            if *transition == id
                && let Some(signal) = &held.signal
            {
                signal.send_replace(Signal::Abort);
            }
        }
        self.aborted.insert(id);
    }

    fn done(&mut self, key: TaskKey, outcome: Outcome) {
        match outcome {
            Outcome::Finished(_) => {
                if let Some(h) = self.held.get_mut(&key) {
                    h.signal = None;
                }
            }
            Outcome::Dropped => {
                self.held.remove(&key);
            }
        }
    }

    fn forget_finished(&mut self) {
        let now = now_ms();
        let expired: Vec<TaskKey> = self
            .held
            .iter()
            .filter(|(_, h)| h.signal.is_none() && h.forget_at_ms <= now)
            .map(|(k, _)| k.clone())
            .collect();
        let mut forget = Vec::new();
        for key in expired {
            self.held.remove(&key);
            forget.push((store_key(&key), None));
        }
        self.delete(forget);
    }

    /// Deletes task records in the background (nothing waits for it).
    fn delete(&self, writes: Vec<(String, Option<Vec<u8>>)>) {
        if writes.is_empty() {
            return;
        }
        let reporter = self.ctx.reporter.clone();
        tokio::spawn(async move {
            if let Err(e) = reporter.commit(Vec::new(), writes, Vec::new()).await {
                tracing::debug!(error = %e, "task records not deleted");
            }
        });
    }
}
