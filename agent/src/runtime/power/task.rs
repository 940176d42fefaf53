//! One power task, from its first PowerState read to its final status.
//!
//! 1. Wait for a slot on the node's BMC (each Redfish request also takes one of the
//!    cabinet's request slots while it is in flight).
//! 2. Read the node's PowerState and plan with `cairn_protocols::power::plan` (a task resumed
//!    after a restart carries on from its stored step instead).
//! 3. Report IN_PROGRESS and store the plan, together, before the first reset goes out.
//! 4. Per step: POST the reset, store that it was sent, poll PowerState until it confirms the
//!    step (escalating a graceful shutdown to ForceOff after the graceful window), the
//!    deadline passes, or an abort arrives.
//! 5. Report the final status and store it, together (see [`super::journal`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cairn_protocols::power::{
    PlanError, PowerOperation, PowerPlan, PowerState, TaskStatus, graceful_window, plan,
};
use tokio::sync::watch;
use tracing::Instrument;

use super::record::{StoredStep, StoredTask, TaskKey, steps};
use super::redfish::{Observed, PowerBmc};
use super::resend;
use super::{Limits, Signal};
use crate::config::PowerConfig;
use crate::runtime::bmcs::Bmcs;
use crate::runtime::now_ms;
use crate::runtime::reporter::Reporter;

/// Attempts at the first PowerState read (a BMC may drop one request).
const FIRST_READ_ATTEMPTS: u32 = 3;

/// PCS's description of a failed task.
const FAILED: &str = "Failed to achieve transition";

/// What tasks share.
#[derive(Debug)]
pub(crate) struct TaskCtx {
    /// Where reports and progress records go.
    pub reporter: Reporter,
    /// BMC addresses, credentials and sessions.
    pub bmcs: Arc<Bmcs>,
    /// `[power]`.
    pub config: PowerConfig,
    /// Task slots per BMC, request slots per cabinet.
    pub limits: Limits,
    /// Tasks past their slot wait.
    pub running: AtomicUsize,
}

/// How a task starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Start {
    /// New: plan from the node's state.
    Fresh,
    /// The coordinators say it was started, but this agent has no record of it (its data
    /// directory is younger): carry on from the node's state.
    FromState,
    /// Started before a restart: carry on from the stored step.
    Resume(Cursor),
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Its final status is in the outbox.
    Finished(TaskStatus),
    /// Stopped without a report (never started when aborted, cancelled, or the store failed).
    Dropped,
}

/// Where a task is in its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The planned resets.
    pub steps: Vec<StoredStep>,
    /// The first step not yet confirmed.
    pub step: usize,
    /// When that step's reset was sent (Unix ms); `None`: not yet, or not known to be.
    pub sent_ms: Option<u64>,
    /// Whether its escalation was sent.
    pub escalated: bool,
}

impl Cursor {
    fn at_start(steps: Vec<StoredStep>) -> Cursor {
        Cursor {
            steps,
            step: 0,
            sent_ms: None,
            escalated: false,
        }
    }

    fn next(&mut self) {
        self.step += 1;
        self.sent_ms = None;
        self.escalated = false;
    }

    fn at(&self) -> String {
        let reset = self
            .steps
            .get(self.step)
            .map_or("", |s| s.reset_type.as_str());
        format!(
            "at step {} of {} ({reset})",
            self.step + 1,
            self.steps.len()
        )
    }
}

/// Runs one task; returns its key and how it ended.
pub(crate) async fn run(
    ctx: Arc<TaskCtx>,
    task: StoredTask,
    revision: u64,
    start: Start,
    mut signal: watch::Receiver<Signal>,
) -> (TaskKey, Outcome) {
    let key = task.key();
    let span = tracing::info_span!(
        "power_task",
        transition = %task.transition_id,
        node = %task.xname,
        operation = %task.operation
    );
    let job = Job {
        ctx,
        task,
        revision,
    };
    let outcome = job.run(start, &mut signal).instrument(span).await;
    (key, outcome)
}

/// Counts a task as running while it lives.
struct Running<'a>(&'a AtomicUsize);

impl<'a> Running<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::Relaxed);
        Running(n)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Resolves when the executor asks the task to stop (a closed channel means cancel).
pub(super) async fn stop_asked(signal: &mut watch::Receiver<Signal>) -> Signal {
    match signal.wait_for(|s| *s != Signal::Run).await {
        Ok(s) => *s,
        Err(_) => Signal::Cancel,
    }
}

/// The plan for a task the coordinators say was started but this agent has no record of:
/// a restart whose node is off has done its off half, so only the power-on is left.
pub(crate) fn resume_plan(
    op: PowerOperation,
    allowed: &[String],
    state: PowerState,
) -> Result<PowerPlan, PlanError> {
    match op {
        PowerOperation::SoftRestart | PowerOperation::HardRestart | PowerOperation::Init
            if state == PowerState::Off =>
        {
            plan(PowerOperation::On, allowed, state)
        }
        _ => plan(op, allowed, state),
    }
}

/// How waiting for a step ended.
enum Wait {
    Confirmed,
    Aborted,
    Cancelled,
    Failed(String),
}

/// One task and what it needs.
pub(super) struct Job {
    pub(super) ctx: Arc<TaskCtx>,
    pub(super) task: StoredTask,
    pub(super) revision: u64,
}

impl Job {
    async fn run(&self, start: Start, signal: &mut watch::Receiver<Signal>) -> Outcome {
        let started = start != Start::Fresh;
        let slot = tokio::select! {
            slot = self.ctx.limits.task_slot(&self.task, &self.ctx.config) => Some(slot),
            s = stop_asked(signal) => match s {
                Signal::Abort if started => None,
                _ => {
                    tracing::debug!(?s, "stopped before it started");
                    return Outcome::Dropped;
                }
            },
        };
        let _running = Running::new(&self.ctx.running);
        let session = match self.session().await {
            Ok(s) => s,
            Err(error) => return self.fail(error, None).await,
        };
        if slot.is_none() {
            return self.aborted(&session, None, "before it was resumed").await;
        }
        if self.past_deadline() {
            let error = "deadline passed before the task could start".to_owned();
            return self.fail(error, None).await;
        }
        let first = match self.first_read(&session).await {
            Ok(o) => o,
            Err(error) => return self.fail(error, None).await,
        };
        let (cursor, resumed) = match start {
            Start::Resume(cursor) => {
                tracing::info!(step = cursor.step, of = cursor.steps.len(), state = %first.text(), "resuming");
                (cursor, true)
            }
            Start::Fresh | Start::FromState => {
                let op = self.task.operation;
                let allowed = &self.task.allowed_reset_types;
                let planned = if started {
                    resume_plan(op, allowed, first.state)
                } else {
                    plan(op, allowed, first.state)
                };
                let planned = match planned {
                    Ok(p) => p,
                    Err(e) => {
                        let (description, error) = (e.description(), e.error());
                        return self
                            .finish(e.task_status(), description, error, Some(&first))
                            .await;
                    }
                };
                if planned.is_noop() {
                    let description = format!("Transition confirmed, {}", first.text());
                    let status = TaskStatus::Succeeded;
                    return self
                        .finish(status, description, String::new(), Some(&first))
                        .await;
                }
                let steps = steps(planned);
                if self.started(&steps).await.is_err() {
                    return Outcome::Dropped;
                }
                (Cursor::at_start(steps), false)
            }
        };
        self.execute(&session, cursor, first, resumed, signal).await
    }

    /// The steps from the cursor on. `last` is the PowerState read last; `resumed`: the cursor
    /// comes from the store.
    async fn execute(
        &self,
        session: &PowerBmc,
        mut c: Cursor,
        mut last: Observed,
        resumed: bool,
        signal: &mut watch::Receiver<Signal>,
    ) -> Outcome {
        let mut first_iteration = true;
        while let Some(s) = c.steps.get(c.step).cloned() {
            // Resumed at a step whose reset may or may not have gone out before the restart:
            // if the node already shows the step's state, it did (unless the step restarts the
            // node, whose state shows nothing).
            let already = first_iteration
                && resumed
                && c.sent_ms.is_none()
                && !s.restarts()
                && last.confirms(s.expect);
            first_iteration = false;
            let last_step = c.step + 1 == c.steps.len();
            if c.sent_ms.is_none() && !already {
                if *signal.borrow() == Signal::Abort {
                    return self.aborted(session, Some(&last), &c.at()).await;
                }
                let target = resend::Target {
                    system_path: &self.task.system_path,
                    reset_target: &self.task.reset_target,
                    deadline_ms: self.task.deadline_ms,
                };
                match resend::send(session, &target, &s, &mut last, signal).await {
                    resend::Sent::Done => {}
                    resend::Sent::Failed(error) => return self.fail(error, Some(&last)).await,
                    resend::Sent::Stopped(Signal::Abort) => {
                        return self.aborted(session, Some(&last), &c.at()).await;
                    }
                    resend::Sent::Stopped(_) => return Outcome::Dropped,
                }
                tracing::info!(reset = %s.reset_type, step = c.step, "reset sent");
                c.sent_ms = Some(now_ms());
                if self.progress(&c).await.is_err() {
                    return Outcome::Dropped;
                }
            }
            // Without confirmation (taskDeadlineMinutes 0) only the last step goes unwatched:
            // an earlier one must land before the next reset makes sense.
            if !already && (self.task.confirm || !last_step) {
                match self.wait(session, &s, &mut c, &mut last, signal).await {
                    Wait::Confirmed => {}
                    Wait::Aborted => return self.aborted(session, Some(&last), &c.at()).await,
                    Wait::Cancelled => return Outcome::Dropped,
                    Wait::Failed(error) => return self.fail(error, Some(&last)).await,
                }
            }
            c.next();
            if c.step < c.steps.len() && self.progress(&c).await.is_err() {
                return Outcome::Dropped;
            }
        }
        let description = if self.task.confirm {
            format!("Transition confirmed, {}", last.text())
        } else {
            "Transition sent; confirmation not requested (taskDeadlineMinutes 0)".to_owned()
        };
        self.finish(
            TaskStatus::Succeeded,
            description,
            String::new(),
            Some(&last),
        )
        .await
    }

    /// Polls PowerState until it confirms step `s` (the cursor's), sent at `c.sent_ms`.
    async fn wait(
        &self,
        session: &PowerBmc,
        s: &StoredStep,
        c: &mut Cursor,
        last: &mut Observed,
        signal: &mut watch::Receiver<Signal>,
    ) -> Wait {
        let sent = c.sent_ms.unwrap_or_else(now_ms);
        let deadline = self.task.deadline_ms;
        let window =
            graceful_window(deadline.map(|d| Duration::from_millis(d.saturating_sub(sent))));
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.ctx.config.confirm_poll()) => {}
                s = stop_asked(signal) => {
                    return if s == Signal::Abort { Wait::Aborted } else { Wait::Cancelled };
                }
            }
            let read_error = match session.read_state(&self.task.system_path).await {
                Ok(o) => {
                    *last = o;
                    if last.confirms(s.expect) {
                        tracing::info!(state = %last.text(), step = c.step, "step confirmed");
                        return Wait::Confirmed;
                    }
                    None
                }
                Err(e) => Some(e.detail()),
            };
            let now = now_ms();
            if deadline.is_some_and(|d| now >= d) {
                let mut error = format!(
                    "deadline passed before the node was {} (PowerState {})",
                    s.expect,
                    last.text()
                );
                if let Some(e) = read_error {
                    error.push_str(&format!("; last read failed: {e}"));
                }
                return Wait::Failed(error);
            }
            if let Some(force) = &s.escalate
                && !c.escalated
                && Duration::from_millis(now.saturating_sub(sent)) >= window
            {
                tracing::info!(reset = %force, after_ms = window.as_millis() as u64, "graceful shutdown did not finish: forcing");
                if let Err(e) = session.reset(&self.task.reset_target, force).await {
                    return Wait::Failed(format!("ResetType {force} refused: {}", e.detail()));
                }
                c.escalated = true;
                if self.progress(c).await.is_err() {
                    return Wait::Cancelled;
                }
            }
        }
    }

    async fn session(&self) -> Result<PowerBmc, String> {
        let bmc = &self.task.bmc;
        let address = self
            .ctx
            .bmcs
            .resolve(bmc, &self.task.bmc_fqdn)
            .await
            .map_err(|e| format!("BMC {bmc} at {:?}: {}", self.task.bmc_fqdn, e.detail()))?;
        let session = self
            .ctx
            .bmcs
            .session(bmc, &address)
            .map_err(|e| format!("BMC {bmc} at {address}: {}", e.detail()))?;
        let rack = self.ctx.limits.rack_requests(&self.task, &self.ctx.config);
        Ok(PowerBmc::new(session, rack))
    }

    async fn first_read(&self, session: &PowerBmc) -> Result<Observed, String> {
        let mut attempt = 1;
        loop {
            match session.read_state(&self.task.system_path).await {
                Ok(o) => return Ok(o),
                Err(e) if attempt >= FIRST_READ_ATTEMPTS || e.is_not_found() => {
                    return Err(format!("cannot read PowerState: {}", e.detail()));
                }
                Err(e) => {
                    tracing::debug!(attempt, error = %e.detail(), "PowerState read failed; retrying");
                    attempt += 1;
                    tokio::time::sleep(self.ctx.config.confirm_poll()).await;
                }
            }
        }
    }

    fn past_deadline(&self) -> bool {
        self.task.deadline_ms.is_some_and(|d| now_ms() >= d)
    }

    async fn fail(&self, error: String, observed: Option<&Observed>) -> Outcome {
        self.finish(TaskStatus::Failed, FAILED.into(), error, observed)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        ["On", "ForceOff", "GracefulShutdown", "GracefulRestart"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    #[test]
    fn a_restart_found_off_only_powers_on() {
        let p = resume_plan(PowerOperation::HardRestart, &all(), PowerState::Off).unwrap();
        let resets: Vec<&str> = p.steps.iter().map(|s| s.reset_type.as_str()).collect();
        assert_eq!(resets, ["On"]);
        let p = resume_plan(PowerOperation::HardRestart, &all(), PowerState::On).unwrap();
        assert_eq!(p.steps.len(), 2);
        assert!(
            resume_plan(PowerOperation::Off, &all(), PowerState::Off)
                .unwrap()
                .is_noop()
        );
    }

    #[test]
    fn the_cursor_names_its_step() {
        let mut c = Cursor::at_start(steps(
            plan(PowerOperation::HardRestart, &all(), PowerState::On).unwrap(),
        ));
        assert_eq!(c.at(), "at step 1 of 2 (GracefulShutdown)");
        c.sent_ms = Some(1);
        c.escalated = true;
        c.next();
        assert_eq!((c.step, c.sent_ms, c.escalated), (1, None, false));
        assert_eq!(c.at(), "at step 2 of 2 (On)");
    }
}
