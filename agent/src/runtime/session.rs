//! Register, then heartbeat; register again whenever the coordinators say the agent is unknown.

use std::sync::Arc;
use std::time::Duration;

use cairn_protocols::pb::agent as pb;
use tonic::Status;

use super::Ctx;
use super::link::{Backoff, CALL_TIMEOUT, Failure};
use super::shutdown::Shutdown;

/// Shortest heartbeat interval the agent accepts (a coordinator bug must not make it spin).
const MIN_HEARTBEAT: Duration = Duration::from_millis(100);

/// Backoff after a registration the coordinators refuse for good (bad scope, taken cabinet):
/// an operator has to act, so retry slowly.
const REFUSED_RETRY: Duration = Duration::from_secs(30);

pub(super) async fn run(ctx: Arc<Ctx>, mut shutdown: Shutdown) {
    loop {
        let Some(heartbeat) = register(&ctx, &mut shutdown).await else {
            return;
        };
        if !heartbeats(&ctx, &mut shutdown, heartbeat).await {
            return;
        }
    }
}

fn interval(ms: u32) -> Duration {
    Duration::from_millis(u64::from(ms)).max(MIN_HEARTBEAT)
}

/// Registers, retrying until it works; returns the heartbeat interval (`None`: stopping).
async fn register(ctx: &Ctx, shutdown: &mut Shutdown) -> Option<Duration> {
    let mut backoff = Backoff::default();
    loop {
        let (i, mut client) = ctx.link.client();
        let request = pb::RegisterRequest::from(ctx.registration.clone());
        let answer = shutdown
            .guard(tokio::time::timeout(CALL_TIMEOUT, client.register(request)))
            .await?;
        let status = match answer {
            Ok(Ok(response)) => {
                let r = response.into_inner();
                ctx.link.contact();
                match ctx.store.registered(r.last_applied_seq).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(
                        reports = n,
                        last_applied = r.last_applied_seq,
                        "this data directory had never registered: its waiting reports were \
                         numbered after the coordinators' last applied report"
                    ),
                    Err(e) => {
                        tracing::error!(error = %super::chain(&e), "cannot record the registration");
                        if !shutdown.sleep(backoff.delay()).await {
                            return None;
                        }
                        continue;
                    }
                }
                let heartbeat = interval(r.heartbeat_interval_ms);
                ctx.status
                    .heartbeat(u64::try_from(heartbeat.as_millis()).unwrap_or(u64::MAX));
                ctx.link.registered(heartbeat);
                tracing::info!(
                    url = ctx.link.current_url(),
                    last_applied_seq = r.last_applied_seq,
                    heartbeat_ms = heartbeat.as_millis() as u64,
                    "registered"
                );
                return Some(heartbeat);
            }
            Ok(Err(status)) => status,
            Err(_) => Status::deadline_exceeded("no answer in time"),
        };
        let delay = match ctx.link.failed(i, "Register", &status) {
            Failure::Invalid(message) | Failure::Conflict(message) => {
                tracing::error!(%message, "the coordinators refuse this agent's registration");
                REFUSED_RETRY
            }
            _ => backoff.delay(),
        };
        if !shutdown.sleep(delay).await {
            return None;
        }
    }
}

/// Heartbeats until the registration is lost (true) or the agent stops (false).
async fn heartbeats(ctx: &Ctx, shutdown: &mut Shutdown, mut every: Duration) -> bool {
    loop {
        tokio::select! {
            () = shutdown.wait() => return false,
            () = ctx.link.reregister_wanted() => {
                if !ctx.link.registration().registered {
                    return true;
                }
                continue;
            }
            () = tokio::time::sleep(every) => {}
        }
        let (i, mut client) = ctx.link.client();
        let request = pb::HeartbeatRequest {
            agent_id: ctx.registration.agent_id.clone(),
            version: ctx.registration.version.clone(),
            outbox_depth: u64::try_from(ctx.store.outbox_depth()).unwrap_or(u64::MAX),
            desired_revision: ctx.rack.revision(),
        };
        match tokio::time::timeout(CALL_TIMEOUT, client.heartbeat(request)).await {
            Ok(Ok(response)) => {
                let r = response.into_inner();
                ctx.link.contact();
                if !r.registered {
                    tracing::info!("the coordinators no longer know this agent: registering again");
                    ctx.link.lost_registration();
                    return true;
                }
                every = interval(r.heartbeat_interval_ms);
                ctx.link.set_heartbeat(every);
            }
            Ok(Err(status)) => {
                if ctx.link.failed(i, "Heartbeat", &status) == Failure::Unregistered {
                    return true;
                }
            }
            Err(_) => {
                ctx.link.failed(
                    i,
                    "Heartbeat",
                    &Status::deadline_exceeded("no answer in time"),
                );
            }
        }
    }
}
