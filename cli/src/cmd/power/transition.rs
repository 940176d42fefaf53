//! One power transition from the command line: create it, follow it with a progress bar until
//! every task has ended, then print a per-node result table. Also used by `cairn demo`.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use cairn_protocols::power::{
    PowerOperation, TaskStatus, TransitionDetail, TransitionStart, TransitionStatus,
};
use serde_json::{Value, json};

use super::PCS;
use crate::Ctx;
use crate::client::{Client, ClientError};
use crate::output::{self, Format, View, col};
use crate::progress;

/// How often a followed transition is read: often for small ones, less for large ones, whose
/// every read carries all their tasks.
fn poll_interval(tasks: usize) -> Duration {
    if tasks <= 1000 {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(1)
    }
}

/// How long the API may stay unreachable while a transition is followed.
const OUTAGE: Duration = Duration::from_secs(30);

const TASKS: View = View {
    list_key: Some("tasks"),
    columns: &[
        col("XNAME", "xname"),
        col("STATUS", "taskStatus"),
        col("DESCRIPTION", "taskStatusDescription"),
        col("ERROR", "error"),
    ],
};

/// What to ask PCS for.
#[derive(Debug, Clone)]
pub struct TransitionRequest {
    /// The operation.
    pub operation: PowerOperation,
    /// PCS `location` entries: xnames and group labels.
    pub locations: Vec<String>,
    /// `taskDeadlineMinutes`, when given.
    pub deadline_minutes: Option<i64>,
}

impl TransitionRequest {
    /// The `POST /transitions` body.
    pub fn body(&self) -> Value {
        let location: Vec<Value> = self.locations.iter().map(|x| json!({"xname": x})).collect();
        let mut body = json!({"operation": self.operation.as_str(), "location": location});
        if let Some(m) = self.deadline_minutes {
            body["taskDeadlineMinutes"] = json!(m);
        }
        body
    }
}

/// A followed transition that has ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The transition as last read, with its tasks.
    pub detail: TransitionDetail,
    /// The same, as the server sent it.
    pub raw: Value,
    /// From the POST to the last read.
    pub elapsed: Duration,
}

impl Outcome {
    /// Tasks that did not succeed: failed, unsupported, or (after an abort) still open.
    pub fn not_succeeded(&self) -> usize {
        let c = &self.detail.summary.task_counts;
        c.failed + c.unsupported + c.new + c.in_progress
    }

    /// `On: 32 succeeded, 1 failed, 0 unsupported in 2.1 s`.
    pub fn summary(&self) -> String {
        let s = &self.detail.summary;
        let c = &s.task_counts;
        let mut text = format!(
            "{}: {} succeeded, {} failed, {} unsupported in {} (transition {}",
            s.operation,
            c.succeeded,
            c.failed,
            c.unsupported,
            progress::took(self.elapsed),
            s.transition_id
        );
        if s.transition_status == TransitionStatus::Aborted {
            text.push_str(", aborted");
        }
        text.push(')');
        text
    }

    /// The per-node table.
    pub fn table(&self) -> anyhow::Result<String> {
        output::render(&self.raw, Format::Table, &TASKS)
    }
}

/// Create a transition.
pub async fn start(
    client: &Client,
    request: &TransitionRequest,
) -> anyhow::Result<TransitionStart> {
    let v = client
        .post(&format!("{PCS}/transitions"), &request.body())
        .await?;
    serde_json::from_value(v).context("the transition's start answer is not PCS's")
}

/// Read a transition until every task has ended, showing a progress bar on a terminal.
/// Brief outages of the API are waited out.
pub async fn follow(client: &Client, id: &str, started: Instant) -> anyhow::Result<Outcome> {
    let pb = progress::bar("power", 0);
    let path = format!("{PCS}/transitions/{id}");
    let mut failing_since: Option<Instant> = None;
    let mut tasks = 0;
    loop {
        match client.get(&path, &[]).await {
            Ok(raw) => {
                failing_since = None;
                let detail: TransitionDetail = serde_json::from_value(raw.clone())
                    .context("the transition is not in PCS's shape")?;
                let c = &detail.summary.task_counts;
                tasks = c.total;
                pb.set_length(c.total as u64);
                pb.set_position((c.total - c.new - c.in_progress) as u64);
                pb.set_message(format!(
                    "{} {}: {} succeeded, {} failed, {} unsupported",
                    detail.summary.operation,
                    detail.summary.transition_status,
                    c.succeeded,
                    c.failed,
                    c.unsupported
                ));
                if matches!(
                    detail.summary.transition_status,
                    TransitionStatus::Completed | TransitionStatus::Aborted
                ) {
                    pb.finish_and_clear();
                    return Ok(Outcome {
                        detail,
                        raw,
                        elapsed: started.elapsed(),
                    });
                }
            }
            Err(e) if transient(&e) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > OUTAGE {
                    pb.abandon();
                    return Err(e).context(format!(
                        "lost the API while following transition {id}; it goes on without \
                         this command (see `cairn power transitions {id}`)"
                    ));
                }
            }
            Err(e) => {
                pb.abandon();
                return Err(e.into());
            }
        }
        tokio::time::sleep(poll_interval(tasks)).await;
    }
}

/// Worth retrying: the replica is down or has no leader for a moment.
fn transient(e: &ClientError) -> bool {
    match e {
        ClientError::Unreachable { .. } | ClientError::Transport { .. } => true,
        ClientError::Status { status, .. } => *status == 503 || *status == 502,
        _ => false,
    }
}

/// `cairn power <op> TARGETS`.
pub async fn run(ctx: &Ctx, request: &TransitionRequest, no_wait: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let start = self::start(&ctx.client, request).await?;
    let id = start.transition_id.clone();
    if no_wait {
        let v = serde_json::to_value(&start)?;
        return output::done(
            &v,
            ctx.format,
            &format!(
                "{} transition {id} started; follow it with `cairn power transitions {id}`",
                start.operation
            ),
        );
    }
    let outcome = tokio::select! {
        o = follow(&ctx.client, &id, started) => o?,
        _ = tokio::signal::ctrl_c() => {
            anyhow::bail!(
                "stopped following transition {id}, which goes on; see `cairn power \
                 transitions {id}`, stop it with `cairn power abort {id}`"
            );
        }
    };
    match ctx.format {
        Format::Table => {
            print!("{}", outcome.table()?);
            println!("{}", outcome.summary());
        }
        Format::Json | Format::Yaml => {
            print!("{}", output::render(&outcome.raw, ctx.format, &TASKS)?)
        }
    }
    check(&outcome)
}

/// An error when some target did not succeed, for the exit status.
pub fn check(outcome: &Outcome) -> anyhow::Result<()> {
    let total = outcome.detail.summary.task_counts.total;
    match outcome.not_succeeded() {
        0 => Ok(()),
        n => {
            let bad: Vec<&str> = outcome
                .detail
                .tasks
                .iter()
                .filter(|t| t.task_status != TaskStatus::Succeeded)
                .take(5)
                .map(|t| t.xname.as_str())
                .collect();
            let more = if n > bad.len() { ", ..." } else { "" };
            anyhow::bail!(
                "{n} of {total} targets did not succeed ({}{more})",
                bad.join(", ")
            )
        }
    }
}

/// `cairn power transitions ID`: the summary, then the tasks.
pub fn show(v: &Value, format: Format) -> anyhow::Result<()> {
    if format != Format::Table {
        return output::print(v, format, &TASKS);
    }
    let d: TransitionDetail =
        serde_json::from_value(v.clone()).context("the transition is not in PCS's shape")?;
    let s = &d.summary;
    let c = &s.task_counts;
    println!("transition   {}", s.transition_id);
    println!("operation    {}", s.operation);
    println!("status       {}", s.transition_status);
    println!("created      {}", s.create_time);
    println!("expires      {}", s.automatic_expiration_time);
    println!(
        "tasks        {} total: {} new, {} in progress, {} succeeded, {} failed, {} unsupported",
        c.total, c.new, c.in_progress, c.succeeded, c.failed, c.unsupported
    );
    println!();
    output::print(v, format, &TASKS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(tasks: Value) -> Outcome {
        let raw = json!({"transitionID": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "createTime": "2025-01-01T00:00:00Z", "automaticExpirationTime": "2025-01-02T00:00:00Z",
            "transitionStatus": "completed", "operation": "On",
            "taskCounts": {"total": 2, "new": 0, "in-progress": 0, "failed": 1, "succeeded": 1, "un-supported": 0},
            "tasks": tasks});
        Outcome {
            detail: serde_json::from_value(raw.clone()).expect("PCS shape"),
            raw,
            elapsed: Duration::from_millis(2100),
        }
    }

    #[test]
    fn bodies_follow_pcs() {
        let r = TransitionRequest {
            operation: PowerOperation::SoftRestart,
            locations: vec!["x1000c0s0b0n0".into(), "compute".into()],
            deadline_minutes: Some(0),
        };
        assert_eq!(
            r.body(),
            json!({"operation": "Soft-Restart", "taskDeadlineMinutes": 0,
                "location": [{"xname": "x1000c0s0b0n0"}, {"xname": "compute"}]})
        );
    }

    #[test]
    fn results_read_well_and_failures_fail() {
        let o = outcome(json!([
            {"xname": "x1000c0s0b0n0", "taskStatus": "succeeded", "taskStatusDescription": "Transition confirmed, On"},
            {"xname": "x1000c0s0b0n1", "taskStatus": "failed", "taskStatusDescription": "Failed to achieve transition",
             "error": "BMC answered 401"}
        ]));
        let table = o.table().expect("renders");
        assert!(
            table
                .lines()
                .next()
                .expect("header")
                .trim_start()
                .starts_with("XNAME")
        );
        assert!(table.contains("BMC answered 401"), "{table}");
        assert_eq!(
            o.summary(),
            "On: 1 succeeded, 1 failed, 0 unsupported in 2.1 s (transition \
             3fa85f64-5717-4562-b3fc-2c963f66afa6)"
        );
        let err = check(&o).expect_err("a failure").to_string();
        assert!(
            err.contains("1 of 2") && err.contains("x1000c0s0b0n1"),
            "{err}"
        );
    }
}
