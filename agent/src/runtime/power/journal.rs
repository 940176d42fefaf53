//! What a power task writes: its progress records and its reports, each written durably before
//! the task goes on (see [`Reporter::commit`](crate::runtime::reporter::Reporter::commit)).

use cairn_protocols::agent::{PowerTaskResult, ReportItem};
use cairn_protocols::pb_impl::MAX_TEXT_LEN;
use cairn_protocols::power::{PowerState, TaskStatus};

use super::record::{Progress, StoredStep, TaskRecord, store_key};
use super::redfish::{Observed, PowerBmc};
use super::task::{Cursor, Job, Outcome};
use crate::runtime::now_ms;

/// Cuts a text to what the protocol accepts, on a character boundary.
pub(super) fn truncate(mut s: String) -> String {
    if s.len() > MAX_TEXT_LEN {
        let mut end = MAX_TEXT_LEN;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The commit failed (the reporter logged why); the task cannot go on safely.
#[derive(Debug)]
pub(super) struct NotWritten;

impl Job {
    fn record(&self, progress: Progress) -> (String, Option<Vec<u8>>) {
        let record = TaskRecord {
            task: self.task.clone(),
            revision: self.revision,
            progress,
        };
        (store_key(&self.task.key()), Some(record.encode()))
    }

    fn result(
        &self,
        status: TaskStatus,
        description: String,
        error: String,
        observed: Option<&Observed>,
    ) -> ReportItem {
        ReportItem::PowerResult(PowerTaskResult {
            transition_id: self.task.transition_id.clone(),
            xname: self.task.xname.clone(),
            status,
            description: truncate(description),
            error: truncate(error),
            power_state: observed
                .map(|o| o.state)
                .filter(|s| *s != PowerState::Undefined),
            observed_ms: Some(now_ms()),
        })
    }

    /// Reports IN_PROGRESS and stores the plan, together, before the first reset.
    pub(super) async fn started(&self, steps: &[StoredStep]) -> Result<(), NotWritten> {
        let item = self.result(
            TaskStatus::InProgress,
            "Transition in progress".into(),
            String::new(),
            None,
        );
        let record = self.record(Progress::Started {
            steps: steps.to_vec(),
            step: 0,
            sent_ms: None,
            escalated: false,
        });
        self.ctx
            .reporter
            .commit(vec![item], vec![record], Vec::new())
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "cannot record the task's start");
                NotWritten
            })
    }

    /// Stores where the task is.
    pub(super) async fn progress(&self, c: &Cursor) -> Result<(), NotWritten> {
        let record = self.record(Progress::Started {
            steps: c.steps.clone(),
            step: c.step,
            sent_ms: c.sent_ms,
            escalated: c.escalated,
        });
        self.ctx
            .reporter
            .commit(Vec::new(), vec![record], Vec::new())
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "cannot record the task's progress");
                NotWritten
            })
    }

    /// Reports the final status and stores it, together.
    pub(super) async fn finish(
        &self,
        status: TaskStatus,
        description: String,
        error: String,
        observed: Option<&Observed>,
    ) -> Outcome {
        if error.is_empty() {
            tracing::info!(%status, %description, "power task finished");
        } else {
            tracing::warn!(%status, %description, %error, "power task finished");
        }
        let item = self.result(status, description, error, observed);
        let record = self.record(Progress::Finished { status });
        match self
            .ctx
            .reporter
            .commit(vec![item], vec![record], Vec::new())
            .await
        {
            Ok(()) => Outcome::Finished(status),
            Err(e) => {
                tracing::warn!(error = %e, "cannot record the task's end");
                Outcome::Dropped
            }
        }
    }

    /// Stopped by an abort `at` some point: reports what the node really is.
    pub(super) async fn aborted(
        &self,
        session: &PowerBmc,
        last: Option<&Observed>,
        at: &str,
    ) -> Outcome {
        let observed = session
            .read_state(&self.task.system_path)
            .await
            .ok()
            .or_else(|| last.cloned());
        let state = observed
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), Observed::text);
        let error = format!("aborted {at}; PowerState {state}");
        self.finish(
            TaskStatus::Failed,
            "Transition aborted".into(),
            error,
            observed.as_ref(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        let s = "é".repeat(MAX_TEXT_LEN);
        let t = truncate(s);
        assert!(t.len() <= MAX_TEXT_LEN && t.is_char_boundary(t.len()));
        assert_eq!(truncate("short".into()), "short");
    }
}
