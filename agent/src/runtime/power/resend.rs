//! Sending one step's reset, again after a failure that may pass (an overloaded BMC: no
//! answer, no connection, a 5xx) while the task's deadline allows.
//!
//! A POST that got no answer may have been carried out. Before sending again, the node's
//! PowerState is read: if it already shows the step's state (or is on its way somewhere), the
//! reset landed and is not sent twice. A restart shows nothing in PowerState, so a restart
//! whose POST got no answer is not sent again: the task fails as before.

use std::time::Duration;

use cairn_protocols::power::PowerState;
use tokio::sync::watch;

use super::Signal;
use super::record::StoredStep;
use super::redfish::{Observed, PowerBmc};
use crate::redfish::RedfishError;
use crate::runtime::now_ms;

/// Wait before the first retry; doubled up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_millis(500);

/// Longest wait between attempts.
const MAX_DELAY: Duration = Duration::from_secs(8);

/// Attempts at most (PowerState reads included), within the task's deadline: a BMC that keeps
/// failing fails its task in seconds, not at the deadline.
const MAX_ATTEMPTS: u32 = 4;

/// How sending a step's reset ended.
#[derive(Debug)]
pub(super) enum Sent {
    /// The BMC took the reset (or PowerState shows an earlier, unanswered POST landed).
    Done,
    /// It did not; the error for the task.
    Failed(String),
    /// An abort or cancel arrived while waiting to retry.
    Stopped(Signal),
}

/// What a failed POST tells about whether it was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// It was not, and it may succeed later (no connection, 5xx).
    NotSent,
    /// It may have been (no answer, connection lost mid-request).
    Unknown,
    /// A definite refusal: retrying cannot help.
    Final,
}

fn classify(e: &RedfishError) -> Failure {
    match e {
        RedfishError::Connect { .. } => Failure::NotSent,
        RedfishError::Status { status, .. } if *status >= 500 => Failure::NotSent,
        RedfishError::Timeout { .. } | RedfishError::Transport { .. } => Failure::Unknown,
        _ => Failure::Final,
    }
}

/// The task's parts this needs.
pub(super) struct Target<'a> {
    /// The ComputerSystem whose PowerState tells whether a reset landed.
    pub system_path: &'a str,
    /// The reset action.
    pub reset_target: &'a str,
    /// The task's deadline (ms since the epoch), if any.
    pub deadline_ms: Option<u64>,
}

/// Sends step `s`'s reset (see the module docs). `last` is updated with any PowerState read.
pub(super) async fn send(
    session: &PowerBmc,
    t: &Target<'_>,
    s: &StoredStep,
    last: &mut Observed,
    signal: &mut watch::Receiver<Signal>,
) -> Sent {
    let mut delay = FIRST_DELAY;
    let mut attempt = 1;
    // Whether an earlier POST of this step may have landed.
    let mut maybe_sent = false;
    loop {
        if maybe_sent {
            match session.read_state(t.system_path).await {
                Ok(o) => {
                    *last = o;
                    if landed(last, s) {
                        tracing::info!(
                            reset = %s.reset_type,
                            state = %last.text(),
                            "an unanswered reset landed: not sent again"
                        );
                        return Sent::Done;
                    }
                    maybe_sent = false;
                }
                Err(e) => {
                    // Still unknown: read again later, never POST blind.
                    let error = format!(
                        "ResetType {} got no answer and PowerState cannot be read: {}",
                        s.reset_type,
                        e.detail()
                    );
                    match pause(t, &mut delay, &mut attempt, signal).await {
                        Some(stop) => return stop.unwrap_or(Sent::Failed(error)),
                        None => continue,
                    }
                }
            }
        }
        let e = match session.reset(t.reset_target, &s.reset_type).await {
            Ok(()) => return Sent::Done,
            Err(e) => e,
        };
        let error = format!("ResetType {} refused: {}", s.reset_type, e.detail());
        match classify(&e) {
            Failure::Final => return Sent::Failed(error),
            Failure::Unknown if s.restarts() => return Sent::Failed(error),
            Failure::Unknown => maybe_sent = true,
            Failure::NotSent => {}
        }
        tracing::warn!(reset = %s.reset_type, attempt, error = %e.detail(), "reset failed; retrying");
        if let Some(stop) = pause(t, &mut delay, &mut attempt, signal).await {
            return stop.unwrap_or(Sent::Failed(error));
        }
    }
}

/// Whether PowerState shows the step's reset was carried out: the step's state, or the
/// transition to it under way (PoweringOn counts as Off, PoweringOff as On).
fn landed(o: &Observed, s: &StoredStep) -> bool {
    let towards = !o.settled && o.state != PowerState::Undefined && o.state != s.expect;
    o.confirms(s.expect) || towards
}

/// Waits before the next attempt. `None`: go on; `Some(None)`: out of time or attempts (the
/// caller fails the task); `Some(Some(stopped))`: an abort or cancel arrived.
async fn pause(
    t: &Target<'_>,
    delay: &mut Duration,
    attempt: &mut u32,
    signal: &mut watch::Receiver<Signal>,
) -> Option<Option<Sent>> {
    let wait = *delay;
    let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    let allowed = *attempt < MAX_ATTEMPTS
        && t.deadline_ms
            .is_none_or(|d| now_ms().saturating_add(wait_ms) < d);
    if !allowed {
        return Some(None);
    }
    *attempt += 1;
    *delay = (*delay * 2).min(MAX_DELAY);
    tokio::select! {
        () = tokio::time::sleep(wait) => None,
        s = super::task::stop_asked(signal) => Some(Some(Sent::Stopped(s))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unanswered_posts_are_the_ambiguous_ones() {
        let status = |status| RedfishError::Status {
            request: "POST /x".into(),
            status,
            message: None,
        };
        assert_eq!(classify(&status(503)), Failure::NotSent);
        assert_eq!(classify(&status(400)), Failure::Final);
        let timeout = RedfishError::Timeout {
            request: "POST /x".into(),
            after: Duration::from_secs(10),
        };
        assert_eq!(classify(&timeout), Failure::Unknown);
    }

    #[test]
    fn a_transition_towards_the_step_counts_as_landed() {
        let step = StoredStep {
            reset_type: "On".into(),
            expect: PowerState::On,
            escalate: None,
        };
        assert!(landed(&Observed::parse(Some("On")), &step));
        assert!(landed(&Observed::parse(Some("PoweringOn")), &step));
        assert!(!landed(&Observed::parse(Some("Off")), &step));
        assert!(!landed(&Observed::parse(Some("PoweringOff")), &step));
        assert!(!landed(&Observed::parse(None), &step));
    }
}
