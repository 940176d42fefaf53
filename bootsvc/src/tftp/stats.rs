//! Counters of the TFTP server, and the rate limit on its warnings about bad datagrams.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A shared handle on the server's counters (cheap to clone; read at any time).
#[derive(Debug, Clone, Default)]
pub struct TftpStats(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    done: AtomicU64,
    aborted: AtomicU64,
    failed: AtomicU64,
    refused: AtomicU64,
    bytes: AtomicU64,
}

impl TftpStats {
    /// Transfers whose last block was acknowledged.
    pub fn transfers_done(&self) -> u64 {
        self.0.done.load(Ordering::Relaxed)
    }

    /// Transfers the client ended with an ERROR packet (UEFI firmware does so after reading
    /// `tsize`, before asking again).
    pub fn transfers_aborted(&self) -> u64 {
        self.0.aborted.load(Ordering::Relaxed)
    }

    /// Transfers abandoned by the server (no ACK after all retries, socket errors).
    pub fn transfers_failed(&self) -> u64 {
        self.0.failed.load(Ordering::Relaxed)
    }

    /// Requests answered with an error: write requests, unknown files, refused paths or
    /// options, unsupported modes, "server busy".
    pub fn requests_refused(&self) -> u64 {
        self.0.refused.load(Ordering::Relaxed)
    }

    /// File bytes delivered by completed transfers.
    pub fn bytes_sent(&self) -> u64 {
        self.0.bytes.load(Ordering::Relaxed)
    }

    pub(super) fn done(&self, bytes: u64) {
        self.0.done.fetch_add(1, Ordering::Relaxed);
        self.0.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(super) fn aborted(&self) {
        self.0.aborted.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn failed(&self) {
        self.0.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn refused(&self) {
        self.0.refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// Allows one event per period and counts the ones suppressed in between, so a flood of
/// garbage cannot flood the log.
#[derive(Debug)]
pub(crate) struct RateLimit {
    period: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimit {
    pub(crate) fn new(period: Duration) -> Self {
        Self {
            period,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(events suppressed since the last allowed one)` if this one may be logged.
    pub(crate) fn allow(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < self.period => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_counts_what_it_suppresses() {
        let mut limit = RateLimit::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(limit.allow(t0), Some(0));
        assert_eq!(limit.allow(t0 + Duration::from_millis(10)), None);
        assert_eq!(limit.allow(t0 + Duration::from_millis(20)), None);
        assert_eq!(limit.allow(t0 + Duration::from_secs(2)), Some(2));
    }
}
