//! Sending the outbox: one report at a time, oldest first, the next only once the previous one
//! is acknowledged (or refused for good). A report leaves the store only when the coordinators
//! have applied it; if the acknowledgement is lost, the report is sent again and acknowledged
//! as a duplicate, so every report is applied exactly once (see `ReportRequest` in
//! `agent.proto`).

use std::sync::Arc;

use tokio::sync::watch;
use tonic::Status;

use super::Ctx;
use super::link::{Backoff, CALL_TIMEOUT, Failure};
use super::shutdown::Shutdown;

pub(super) async fn run(ctx: Arc<Ctx>, mut appended: watch::Receiver<u64>, mut shutdown: Shutdown) {
    let mut backoff = Backoff::default();
    loop {
        if ctx.link.wait_registered(&mut shutdown).await.is_none() {
            return;
        }
        // Mark what was appended so far as seen before looking, so nothing slips in between.
        appended.borrow_and_update();
        let report = match ctx.store.first_report() {
            Ok(Some(r)) => r,
            Ok(None) => {
                if shutdown.guard(appended.changed()).await.is_none() {
                    return;
                }
                continue;
            }
            Err(super::store::StoreError::Corrupt { seq, source }) => {
                tracing::error!(seq, error = %source, "dropping an unreadable outbox entry");
                if let Err(e) = ctx.store.remove_report(seq) {
                    tracing::error!(error = %super::chain(&e), "cannot drop it");
                    if !shutdown.sleep(backoff.delay()).await {
                        return;
                    }
                }
                continue;
            }
            Err(e) => {
                tracing::error!(error = %super::chain(&e), "cannot read the outbox");
                if !shutdown.sleep(backoff.delay()).await {
                    return;
                }
                continue;
            }
        };
        let seq = report.seq;
        let items = report.items.len();
        let mut request = report;
        request.agent_id.clone_from(&ctx.registration.agent_id);
        let (i, mut client) = ctx.link.client();
        let Some(answer) = shutdown
            .guard(tokio::time::timeout(CALL_TIMEOUT, client.report(request)))
            .await
        else {
            return;
        };
        let status = match answer {
            Ok(Ok(response)) => {
                let r = response.into_inner();
                ctx.link.contact();
                backoff.reset();
                tracing::debug!(seq, items, duplicate = r.duplicate, "report acknowledged");
                if r.duplicate {
                    tracing::info!(
                        seq,
                        "report had been applied already (acknowledgement lost)"
                    );
                }
                ctx.status.acked(seq, r.duplicate);
                drop_report(&ctx, seq);
                continue;
            }
            Ok(Err(status)) => status,
            Err(_) => Status::deadline_exceeded("no answer in time"),
        };
        match ctx.link.failed(i, "Report", &status) {
            Failure::Invalid(message) => {
                tracing::error!(seq, items, %message, "the coordinators refuse a report: dropped");
                ctx.status.refused();
                drop_report(&ctx, seq);
            }
            // The session loop registers again; this loop waits for it at the top.
            Failure::Unregistered => {}
            Failure::Conflict(_) | Failure::Retry { .. } => {
                if !shutdown.sleep(backoff.delay()).await {
                    return;
                }
            }
        }
    }
}

fn drop_report(ctx: &Ctx, seq: u64) {
    if let Err(e) = ctx.store.remove_report(seq) {
        // It will be sent again and acknowledged as a duplicate.
        tracing::error!(seq, error = %super::chain(&e), "cannot remove an acknowledged report");
    }
}
