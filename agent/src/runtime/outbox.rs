//! Sending the outbox: the oldest waiting reports merged into one (within the protocol's
//! limits, under the highest merged seq), the next only once the previous one is acknowledged
//! (or refused for good). Reports leave the store only when the coordinators have applied them;
//! if the acknowledgement is lost, exactly the same merged report is sent again and acknowledged
//! as a duplicate, so every report is applied exactly once (see `ReportRequest` in
//! `agent.proto` and [`Store::merged_report`](super::store::Store::merged_report)).
//!
//! Merging matters under load: items are sealed into small reports as they come, and each
//! report the coordinators apply is one replicated write.

use std::sync::Arc;

use cairn_protocols::agent::{MAX_REPORT_BYTES, MAX_REPORT_ITEMS};
use cairn_protocols::pb::agent as pb;
use tokio::sync::watch;
use tonic::Status;

use super::Ctx;
use super::link::{Backoff, CALL_TIMEOUT, Failure};
use super::reporter::ENVELOPE_BYTES;
use super::shutdown::Shutdown;

pub(super) async fn run(ctx: Arc<Ctx>, mut appended: watch::Receiver<u64>, mut shutdown: Shutdown) {
    let mut backoff = Backoff::default();
    // A report sent without a definite answer: it may have been applied, so it is sent again
    // exactly as it was (same entries, same seq) until the answer is definite.
    let mut in_flight: Option<(pb::ReportRequest, usize)> = None;
    // Entries up to this seq go alone: a merge of them was refused, and one bad item must
    // not take its neighbours down with it.
    let mut solo_through = 0;
    loop {
        if ctx.link.wait_registered(&mut shutdown).await.is_none() {
            return;
        }
        // Mark what was appended so far as seen before looking, so nothing slips in between.
        appended.borrow_and_update();
        let next = match in_flight.take() {
            Some(sent) => Ok(Some(sent)),
            None => next_report(&ctx, solo_through),
        };
        let (report, merged) = match next {
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
        let mut request = report.clone();
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
                tracing::debug!(
                    seq,
                    items,
                    merged,
                    duplicate = r.duplicate,
                    "report acknowledged"
                );
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
            Failure::Invalid(message) if merged > 1 => {
                // Not applied: its entries may go again in any grouping.
                tracing::warn!(
                    seq,
                    items,
                    merged,
                    %message,
                    "the coordinators refuse a merged report: sending its entries one by one"
                );
                solo_through = seq;
            }
            Failure::Invalid(message) => {
                tracing::error!(seq, items, %message, "the coordinators refuse a report: dropped");
                ctx.status.refused();
                drop_report(&ctx, seq);
            }
            // The session loop registers again; this loop waits for it at the top.
            Failure::Unregistered => in_flight = Some((report, merged)),
            Failure::Conflict(_) | Failure::Retry { .. } => {
                in_flight = Some((report, merged));
                if !shutdown.sleep(backoff.delay()).await {
                    return;
                }
            }
        }
    }
}

/// The next report to send: the oldest waiting ones merged, or the oldest alone while it is
/// at or below `solo_through`.
fn next_report(
    ctx: &Ctx,
    solo_through: u64,
) -> Result<Option<(pb::ReportRequest, usize)>, super::store::StoreError> {
    let first = ctx.store.merged_report(0, 0)?;
    match first {
        Some((r, _)) if r.seq > solo_through => ctx
            .store
            .merged_report(MAX_REPORT_ITEMS, MAX_REPORT_BYTES - ENVELOPE_BYTES),
        first => Ok(first),
    }
}

/// Removes the acknowledged (or refused) report `seq` and every entry merged into it.
fn drop_report(ctx: &Ctx, seq: u64) {
    if let Err(e) = ctx.store.remove_reports_through(seq) {
        // It will be sent again and acknowledged as a duplicate.
        tracing::error!(seq, error = %super::chain(&e), "cannot remove an acknowledged report");
    }
}
