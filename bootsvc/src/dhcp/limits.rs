//! Rate limits that keep the server responsive under floods: per MAC, for unknown MACs as a
//! whole, and for the warnings a flood would otherwise write.

use std::collections::HashMap;

use cairn_protocols::MacAddr;

/// A token bucket over a millisecond clock supplied by the caller (so tests control time).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    tokens: f64,
    last_ms: u64,
    burst: f64,
    per_sec: f64,
}

impl Bucket {
    pub(crate) fn new(burst: u32, per_sec: u32, now_ms: u64) -> Bucket {
        Bucket {
            tokens: f64::from(burst),
            last_ms: now_ms,
            burst: f64::from(burst),
            per_sec: f64::from(per_sec),
        }
    }

    /// Takes a token if there is one.
    pub(crate) fn take(&mut self, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        self.last_ms = now_ms.max(self.last_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn is_idle(&self, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.tokens + elapsed * self.per_sec >= self.burst
    }
}

/// Packets one MAC may send in a burst, and per second after it. A PXE boot is a few
/// exchanges (firmware, then iPXE), each DISCOVER + REQUEST with some retransmissions.
const PER_MAC_BURST: u32 = 16;
const PER_MAC_PER_SEC: u32 = 4;
/// MACs tracked at once; beyond it idle entries are forgotten, and if none is idle new MACs
/// pass untracked (the unknown-MAC budget still holds them).
const PER_MAC_CAPACITY: usize = 16_384;
/// Packets from MACs the inventory does not know, all together.
const UNKNOWN_BURST: u32 = 256;
const UNKNOWN_PER_SEC: u32 = 200;

/// The server's admission control.
#[derive(Debug)]
pub(crate) struct Limits {
    per_mac: HashMap<MacAddr, Bucket>,
    unknown: Bucket,
}

/// Why a packet was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// This MAC sends too fast.
    Mac,
    /// Unknown MACs together send too fast.
    Unknown,
}

impl Limits {
    pub(crate) fn new(now_ms: u64) -> Limits {
        Limits {
            per_mac: HashMap::new(),
            unknown: Bucket::new(UNKNOWN_BURST, UNKNOWN_PER_SEC, now_ms),
        }
    }

    /// Admits a packet from `mac`; `known` = the inventory knows the MAC (enabled node), which
    /// exempts it from the unknown-MAC budget.
    pub(crate) fn admit(&mut self, mac: MacAddr, known: bool, now_ms: u64) -> Result<(), Refused> {
        if !known && !self.unknown.take(now_ms) {
            return Err(Refused::Unknown);
        }
        if self.per_mac.len() >= PER_MAC_CAPACITY && !self.per_mac.contains_key(&mac) {
            self.per_mac.retain(|_, b| !b.is_idle(now_ms));
        }
        if self.per_mac.len() >= PER_MAC_CAPACITY && !self.per_mac.contains_key(&mac) {
            return Ok(());
        }
        let bucket = self
            .per_mac
            .entry(mac)
            .or_insert_with(|| Bucket::new(PER_MAC_BURST, PER_MAC_PER_SEC, now_ms));
        if bucket.take(now_ms) {
            Ok(())
        } else {
            Err(Refused::Mac)
        }
    }
}

/// Lets through a few warnings per window and counts the rest, so a flood of bad packets
/// writes a handful of lines, each saying how many were suppressed before it.
#[derive(Debug)]
pub(crate) struct LogLimit {
    window_start_ms: u64,
    in_window: u32,
    suppressed: u64,
}

const LOG_WINDOW_MS: u64 = 10_000;
const LOG_PER_WINDOW: u32 = 10;

impl LogLimit {
    pub(crate) fn new() -> LogLimit {
        LogLimit {
            window_start_ms: 0,
            in_window: 0,
            suppressed: 0,
        }
    }

    /// `Some(n)` when this warning may be written (`n` = warnings suppressed since the last
    /// one written), `None` when it is suppressed.
    pub(crate) fn allow(&mut self, now_ms: u64) -> Option<u64> {
        if now_ms.saturating_sub(self.window_start_ms) >= LOG_WINDOW_MS {
            self.window_start_ms = now_ms;
            self.in_window = 0;
        }
        if self.in_window < LOG_PER_WINDOW {
            self.in_window += 1;
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }
}

/// Unknown MACs remembered for once-per-period reporting.
const SEEN_CAPACITY: usize = 8192;

/// Unknown MACs already reported, each until a time, so a MAC is reported once per period
/// however many packets it sends. Bounded: when full, expired entries go; if none has
/// expired, a MAC may be reported again (the rate limits bound how often).
#[derive(Debug, Default)]
pub(crate) struct Sightings {
    until: HashMap<MacAddr, u64>,
}

impl Sightings {
    /// Whether `mac` is to be reported now (and then not again for `period_ms`).
    pub(crate) fn first(&mut self, mac: MacAddr, now_ms: u64, period_ms: u64) -> bool {
        if self.until.get(&mac).is_some_and(|t| *t > now_ms) {
            return false;
        }
        if self.until.len() >= SEEN_CAPACITY {
            self.until.retain(|_, t| *t > now_ms);
        }
        if self.until.len() < SEEN_CAPACITY {
            self.until.insert(mac, now_ms + period_ms);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_with_time() {
        let mut b = Bucket::new(2, 1, 0);
        assert!(b.take(0) && b.take(0) && !b.take(0));
        assert!(!b.take(500));
        assert!(b.take(1000));
        // A clock going backwards never mints tokens.
        assert!(!b.take(10));
    }

    #[test]
    fn unknown_macs_share_a_budget_known_ones_do_not() {
        let mut l = Limits::new(0);
        let mut refused = 0;
        for i in 0..1000u32 {
            let [_, a, b, c] = i.to_be_bytes();
            if l.admit(MacAddr([2, 0, 0, a, b, c]), false, 0).is_err() {
                refused += 1;
            }
        }
        assert_eq!(refused, 1000 - UNKNOWN_BURST as usize);
        let known = MacAddr([0, 1, 2, 3, 4, 5]);
        for _ in 0..PER_MAC_BURST {
            l.admit(known, true, 0).unwrap();
        }
        assert_eq!(l.admit(known, true, 0), Err(Refused::Mac));
        assert_eq!(l.admit(known, true, 1000), Ok(()));
    }

    #[test]
    fn warnings_are_counted_when_suppressed() {
        let mut w = LogLimit::new();
        for _ in 0..LOG_PER_WINDOW {
            assert_eq!(w.allow(0), Some(0));
        }
        assert_eq!(w.allow(1), None);
        assert_eq!(w.allow(2), None);
        assert_eq!(w.allow(LOG_WINDOW_MS + 1), Some(2));
    }

    #[test]
    fn sightings_are_reported_once_per_period() {
        let mut s = Sightings::default();
        let m = MacAddr([2, 0, 0, 0, 0, 1]);
        assert!(s.first(m, 0, 100));
        assert!(!s.first(m, 99, 100));
        assert!(s.first(m, 100, 100));
    }
}
