//! A closed-loop load generator: `n` workers, each sending its next request as soon as the
//! previous one is answered, for a warm-up and then a measured window. Latencies of requests
//! started and finished inside the window are kept and sorted for percentiles.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

/// What one closed-loop step measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Concurrent workers.
    pub workers: usize,
    /// Successful requests completed inside the measured window.
    pub ok: u64,
    /// Failed requests (any kind) inside the measured window.
    pub errors: u64,
    /// Length of the measured window, seconds.
    pub seconds: f64,
    /// Successful requests per second.
    pub per_sec: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Worst latency, milliseconds.
    pub max_ms: f64,
}

/// The `q`-quantile (0..=1) of sorted latencies by the nearest-rank method; 0 when empty.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Run `op(worker, seq)` in a closed loop on `workers` tasks: `warmup`, then `duration` measured.
/// `op` returns whether the request succeeded. Every loop ends by time; an `op` still running at
/// the end is awaited (its own timeout bounds it) but not counted.
pub async fn closed_loop<F, Fut>(
    workers: usize,
    warmup: Duration,
    duration: Duration,
    op: F,
) -> Stats
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let op = Arc::new(op);
    let start = Instant::now() + Duration::from_millis(20);
    let (from, until) = (start + warmup, start + warmup + duration);
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let op = Arc::clone(&op);
            tokio::spawn(async move {
                tokio::time::sleep_until(start.into()).await;
                let (mut lat, mut errors) = (Vec::new(), 0u64);
                let mut seq = 0u64;
                loop {
                    let t0 = Instant::now();
                    if t0 >= until {
                        break;
                    }
                    let ok = op(w, seq).await;
                    seq += 1;
                    let t1 = Instant::now();
                    if t0 >= from && t1 <= until {
                        if ok {
                            lat.push(t1 - t0);
                        } else {
                            errors += 1;
                        }
                    }
                    if !ok {
                        // Do not spin on a refused connection.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((lat, e)) = t.await {
            all.extend(lat);
            errors += e;
        }
    }
    summarize(workers, all, errors, duration)
}

/// Percentiles and rate from raw latencies.
pub fn summarize(workers: usize, mut lat: Vec<Duration>, errors: u64, window: Duration) -> Stats {
    lat.sort_unstable();
    let seconds = window.as_secs_f64();
    Stats {
        workers,
        ok: lat.len() as u64,
        errors,
        seconds,
        per_sec: if seconds > 0.0 {
            lat.len() as f64 / seconds
        } else {
            0.0
        },
        p50_ms: ms(percentile(&lat, 0.50)),
        p99_ms: ms(percentile(&lat, 0.99)),
        max_ms: ms(lat.last().copied().unwrap_or_default()),
    }
}

/// A small xorshift generator, enough to pick keys without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// How long failover may take before the benchmark gives up.
pub const FAILOVER_WAIT: Duration = Duration::from_secs(30);

/// Time from `killed_at` until one of the survivors' `probes` accepts a write: each probe tries
/// every 5 ms (keys cycling over 1,000) until [`FAILOVER_WAIT`]. Cairn and etcd are both timed
/// by this one loop, so their figures compare.
pub async fn first_accepted<P>(
    probes: Vec<P>,
    killed_at: Instant,
    attempt: impl AsyncFn(&mut P, u64) -> bool,
) -> Option<Duration> {
    if probes.is_empty() {
        return None;
    }
    let deadline = killed_at + FAILOVER_WAIT;
    let attempt = &attempt;
    let tries = probes.into_iter().map(|mut probe| {
        Box::pin(async move {
            let mut seq = 0u64;
            while Instant::now() < deadline {
                seq += 1;
                if attempt(&mut probe, seq % 1000).await {
                    return Ok(killed_at.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(())
        })
    });
    futures::future::select_ok(tries)
        .await
        .ok()
        .map(|(took, _)| took)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let lat = millis(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&lat, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&lat, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&lat, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&lat, 0.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
        assert_eq!(percentile(&millis(&[7]), 0.99), Duration::from_millis(7));
    }

    #[test]
    fn summary_sorts_and_rates() {
        let s = summarize(2, millis(&[30, 10, 20, 40]), 1, Duration::from_secs(2));
        assert_eq!((s.ok, s.errors), (4, 1));
        assert!((s.per_sec - 2.0).abs() < 1e-9);
        assert!((s.p50_ms - 20.0).abs() < 1e-9);
        assert!((s.p99_ms - 40.0).abs() < 1e-9);
        assert!((s.max_ms - 40.0).abs() < 1e-9);
    }

    #[test]
    fn rng_stays_in_range() {
        let mut r = Rng::new(0);
        assert!((0..1000).all(|_| r.below(10) < 10));
    }

    #[tokio::test]
    async fn closed_loop_counts_only_the_window() {
        let s = closed_loop(
            2,
            Duration::from_millis(50),
            Duration::from_millis(200),
            |_, seq| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                seq % 2 == 0
            },
        )
        .await;
        assert!(s.ok > 5 && s.errors > 0, "{s:?}");
        assert!(s.p50_ms >= 10.0, "{s:?}");
    }
}
