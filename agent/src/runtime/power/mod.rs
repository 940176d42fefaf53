//! Power control: the executor that runs the PowerTasks of the Watch stream.
//!
//! The executor is one task owning the table of tasks the agent holds, keyed by (transition,
//! node): a task is held from its arrival until it is forgotten, so it never runs twice.
//! - A new task is started (at most `tasks_per_bmc` per BMC run at once; the rest wait for a
//!   slot). Their Redfish requests are bounded per cabinet (`requests_per_rack`), not the
//!   tasks themselves: a task waiting for its node to change holds no slot there.
//! - A task arriving IN_PROGRESS that the agent has no record of was started by an earlier
//!   life of the agent that lost its data: it carries on from the node's PowerState.
//! - At start, the tasks stored as started resume from their stored step at once (the agent
//!   need not be connected), those stored as finished are held so they are not run again.
//! - A full Watch snapshot lists every open task: a held task it omits, and that arrived no
//!   later than the snapshot's revision, is closed on the coordinators' side (finished, failed
//!   at its deadline, purged): it is stopped if running and forgotten.
//! - An abort stops the transition's waiting tasks without a report (the coordinators failed
//!   them already) and its started tasks at a safe point, reporting what the node really is.
//! - Finished tasks are forgotten once their deadline is well past (they can no longer be
//!   listed as open).

mod executor;
mod journal;
pub(crate) mod record;
mod redfish;
mod resend;
mod task;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cairn_protocols::Xname;
use cairn_protocols::agent::PowerTask;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use self::record::StoredTask;
pub(crate) use self::task::TaskCtx;
use super::shutdown::Shutdown;
use super::store::Store;
use crate::config::PowerConfig;

/// A node's PowerState as PCS shows it (for the power-status poll).
pub(crate) async fn read_power_state(
    session: &crate::redfish::BmcSession,
    path: &str,
) -> Result<cairn_protocols::power::PowerState, crate::redfish::RedfishError> {
    redfish::read_state(session, path).await.map(|o| o.state)
}

/// What the executor tells a running task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Carry on.
    Run,
    /// Its transition was aborted: stop at a safe point and report.
    Abort,
    /// The coordinators no longer list it: stop without a report.
    Cancel,
}

/// Request slots per cabinet and task slots per BMC.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    racks: Mutex<HashMap<u32, Arc<Semaphore>>>,
    bmcs: Mutex<HashMap<Xname, Arc<Semaphore>>>,
}

impl Limits {
    fn semaphore<K: std::hash::Hash + Eq>(
        map: &Mutex<HashMap<K, Arc<Semaphore>>>,
        key: K,
        permits: usize,
    ) -> Arc<Semaphore> {
        let mut map = map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(
            map.entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(permits.max(1)))),
        )
    }

    /// A task slot on the task's BMC, held for the task's life (`None` if the semaphore is
    /// closed, which it never is).
    pub(crate) async fn task_slot(
        &self,
        task: &StoredTask,
        config: &PowerConfig,
    ) -> Option<OwnedSemaphorePermit> {
        Self::semaphore(&self.bmcs, task.bmc.clone(), config.tasks_per_bmc)
            .acquire_owned()
            .await
            .ok()
    }

    /// The request slots of the task's cabinet (`None`: the node has no cabinet).
    pub(crate) fn rack_requests(
        &self,
        task: &StoredTask,
        config: &PowerConfig,
    ) -> Option<Arc<Semaphore>> {
        task.xname
            .cabinet()
            .map(|c| Self::semaphore(&self.racks, c, config.requests_per_rack))
    }
}

/// Power work from the Watch stream.
#[derive(Debug)]
pub enum PowerWork {
    /// A task (new, or resent in an incremental message).
    Task(PowerTask, u64),
    /// Abort this transition.
    Abort(String),
    /// A full snapshot's tasks and aborts, at `revision`.
    Full {
        /// Every open task in scope.
        tasks: Vec<PowerTask>,
        /// Every abort-signaled transition with open tasks in scope.
        aborts: Vec<String>,
        /// The snapshot's revision.
        revision: u64,
    },
}

/// The executor's handle: send it work, read its counts.
#[derive(Debug, Clone)]
pub struct Executor {
    tx: mpsc::Sender<PowerWork>,
    held: Arc<AtomicUsize>,
    ctx: Arc<TaskCtx>,
}

impl Executor {
    /// Hands over work (waits if the executor is behind).
    pub async fn send(&self, work: PowerWork) {
        if self.tx.send(work).await.is_err() {
            tracing::debug!("power work dropped: the agent is stopping");
        }
    }

    /// Tasks held.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Tasks running.
    pub fn running(&self) -> usize {
        self.ctx.running.load(Ordering::Relaxed)
    }
}

/// Starts the executor: returns its handle and the loop to spawn.
pub(crate) fn start(
    ctx: Arc<TaskCtx>,
    store: Arc<Store>,
    shutdown: Shutdown,
) -> (Executor, impl std::future::Future<Output = ()>) {
    let (tx, rx) = mpsc::channel(1024);
    let held = Arc::new(AtomicUsize::new(0));
    let handle = Executor {
        tx,
        held: Arc::clone(&held),
        ctx: Arc::clone(&ctx),
    };
    (handle, executor::run(ctx, store, held, rx, shutdown))
}
