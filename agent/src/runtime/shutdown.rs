//! The signal that stops every loop of the runtime.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Fires once, for every clone, when the agent stops.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// Triggers [`Shutdown`].
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

/// A new signal and its trigger.
pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Shutdown(rx))
}

impl Trigger {
    /// Stops every loop holding a [`Shutdown`].
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// Resolves when the agent stops (at once if it already is).
    pub async fn wait(&mut self) {
        // An error means the trigger is gone, which also means stop.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Runs `fut` unless the agent stops first (`None` then).
    pub async fn guard<F: Future>(&mut self, fut: F) -> Option<F::Output> {
        tokio::select! {
            out = fut => Some(out),
            () = self.wait() => None,
        }
    }

    /// Sleeps for `d`; false when the agent stops meanwhile.
    pub async fn sleep(&mut self, d: Duration) -> bool {
        self.guard(tokio::time::sleep(d)).await.is_some()
    }
}
