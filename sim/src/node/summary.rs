//! What a boot storm amounts to: how many booted, where the others failed, and the latency
//! distribution of each step, for `cairn bench bootstorm` and the demo to print.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{BootOutcome, NodeError, Step, StepTimes};

/// How many failures are kept verbatim (the rest are only counted).
const SAMPLE_ERRORS: usize = 5;

/// Latency of one step over the nodes that completed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latency {
    /// Median.
    pub p50: Duration,
    /// 99th percentile (nearest rank).
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl Latency {
    /// Over `samples` (in any order); all zero when there are none.
    pub fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort_unstable();
        let rank = |p: usize| {
            // Nearest rank: the smallest sample at or above p % of them.
            let i = (samples.len() * p).div_ceil(100).saturating_sub(1);
            samples.get(i).copied().unwrap_or_default()
        };
        Latency {
            p50: rank(50),
            p99: rank(99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

/// The results of [`boot_all`](super::boot_all), summed up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootSummary {
    /// Nodes attempted.
    pub nodes: usize,
    /// Nodes that completed every step.
    pub booted: usize,
    /// Failures by the step they happened in.
    pub failed: BTreeMap<Step, usize>,
    /// The first few failures, as text.
    pub sample_errors: Vec<String>,
    /// Per step, over the booted nodes.
    pub dhcp: Latency,
    /// See [`BootSummary::dhcp`].
    pub bootscript: Latency,
    /// See [`BootSummary::dhcp`].
    pub meta_data: Latency,
    /// See [`BootSummary::dhcp`].
    pub user_data: Latency,
    /// See [`BootSummary::dhcp`].
    pub vendor_data: Latency,
    /// Whole boots.
    pub total: Latency,
}

impl BootSummary {
    /// Sums up per-node results.
    pub fn of(results: &[Result<BootOutcome, NodeError>]) -> BootSummary {
        let mut summary = BootSummary {
            nodes: results.len(),
            ..BootSummary::default()
        };
        let mut times: Vec<StepTimes> = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(out) => times.push(out.times),
                Err(e) => {
                    *summary.failed.entry(e.step).or_default() += 1;
                    if summary.sample_errors.len() < SAMPLE_ERRORS {
                        summary.sample_errors.push(e.to_string());
                    }
                }
            }
        }
        summary.booted = times.len();
        let step = |f: fn(&StepTimes) -> Duration| Latency::of(times.iter().map(f).collect());
        summary.dhcp = step(|t| t.dhcp);
        summary.bootscript = step(|t| t.bootscript);
        summary.meta_data = step(|t| t.meta_data);
        summary.user_data = step(|t| t.user_data);
        summary.vendor_data = step(|t| t.vendor_data);
        summary.total = step(StepTimes::total);
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn nearest_rank_percentiles() {
        let l = Latency::of((1..=100).rev().map(ms).collect());
        assert_eq!((l.p50, l.p99, l.max), (ms(50), ms(99), ms(100)));
        let l = Latency::of(vec![ms(7)]);
        assert_eq!((l.p50, l.p99, l.max), (ms(7), ms(7), ms(7)));
        assert_eq!(Latency::of(Vec::new()), Latency::default());
    }

    #[test]
    fn failures_are_counted_by_step_and_sampled() {
        let times = StepTimes {
            dhcp: ms(1),
            bootscript: ms(2),
            meta_data: ms(3),
            user_data: ms(4),
            vendor_data: ms(5),
        };
        let ok = || {
            Ok(BootOutcome {
                ip: std::net::Ipv4Addr::LOCALHOST,
                bootfile: String::new(),
                script: String::new(),
                times,
            })
        };
        let fail = |i: u32, step| {
            Err(NodeError {
                mac: super::super::mac_of(i),
                step,
                reason: super::super::FailReason::Timeout { ignored: None },
            })
        };
        let mut results = vec![ok(), ok()];
        results.extend((0..7).map(|i| fail(i, Step::Discover)));
        results.push(fail(9, Step::UserData));
        let s = BootSummary::of(&results);
        assert_eq!((s.nodes, s.booted), (10, 2));
        assert_eq!(
            s.failed,
            BTreeMap::from([(Step::Discover, 7), (Step::UserData, 1)])
        );
        assert_eq!(s.sample_errors.len(), SAMPLE_ERRORS);
        assert_eq!(
            s.sample_errors[0],
            "node 02:cb:00:00:00:00: DHCP discover: timed out"
        );
        assert_eq!(s.total.max, ms(15));
        assert_eq!(s.meta_data.p99, ms(3));
    }
}
