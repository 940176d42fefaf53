//! The leader's clock for power transitions. Deadlines and record expiry are times, and
//! `apply` must not read a clock; so the leader checks its applied state every second and, when
//! a deadline has passed or a record expired, proposes a `Tick` carrying its time. Any replica
//! that becomes leader takes over, since the records are replicated.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::service::leader_api_addr;
use crate::api::{ApiError, AppState};
use crate::inventory::{Command, PowerCommand};

/// How often the leader looks for passed deadlines.
pub const TICK: Duration = Duration::from_secs(1);

/// If a deadline passed or a record expired at `now_ms`, propose the `Tick` that applies it.
/// Returns whether one was proposed.
pub async fn tick_once(state: &AppState, now_ms: u64) -> Result<bool, ApiError> {
    if !state.replica().read(|inv| inv.power().tick_due(now_ms)) {
        return Ok(false);
    }
    state
        .submit(Command::Power(PowerCommand::Tick { now_ms }))
        .await?;
    Ok(true)
}

/// Run the leader's clock until `stop` turns true. Followers only watch.
pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(
        async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                if !matches!(leader_api_addr(&state), Some((true, _))) {
                    continue;
                }
                if let Err(e) = tick_once(&state, crate::clock::now_ms()).await {
                    tracing::warn!(error = %e, "cannot apply power deadlines; retrying");
                }
            }
        }
        .in_current_span(),
    )
}
