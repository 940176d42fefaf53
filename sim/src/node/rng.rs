//! Per-node randomness for transaction ids and retransmission jitter: not cryptographic, only
//! different across nodes and runs, so that thousands of nodes neither share xids nor retry in
//! lock step.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::time::Duration;

/// xorshift64*, seeded from the standard library's per-process random hash keys.
pub(super) struct Rng(u64);

impl Rng {
    /// A generator for the node with this MAC.
    pub fn for_node(mac: &[u8; 6]) -> Rng {
        let mut h = RandomState::new().build_hasher();
        h.write(mac);
        // xorshift must not start at 0.
        Rng(h.finish() | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn next_u32(&mut self) -> u32 {
        // The high half is the better mixed one.
        (self.next_u64() >> 32) as u32
    }

    /// `interval` ± 25 %, uniformly: RFC 2131 §4.1 randomizes each retransmission delay so
    /// that clients started together do not retransmit together.
    pub fn jitter(&mut self, interval: Duration) -> Duration {
        let quarter = interval / 4;
        let span = (quarter * 2).as_nanos().max(1);
        let offset = u128::from(self.next_u64()) % span;
        let offset = Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX));
        interval - quarter + offset
    }
}
