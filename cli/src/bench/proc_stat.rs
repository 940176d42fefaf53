//! CPU time and memory of a child process, from /proc/PID/stat and /proc/PID/status.

use std::time::Duration;

/// /proc's clock ticks per second (USER_HZ, `getconf CLK_TCK`): 100 on Linux, whatever the
/// kernel's internal HZ, because it is part of the /proc ABI.
const TICKS_PER_SECOND: u64 = 100;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// User plus system CPU time so far.
    pub cpu: Duration,
    /// Resident set size now, bytes.
    pub rss: u64,
    /// Peak resident set size, bytes.
    pub peak_rss: u64,
}

/// Read `pid`'s CPU time and memory.
pub fn sample(pid: u32) -> anyhow::Result<Sample> {
    let read = |file: &str| {
        let path = format!("/proc/{pid}/{file}");
        std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("cannot read {path}: {e}"))
    };
    let ticks = parse_cpu_ticks(&read("stat")?)
        .ok_or_else(|| anyhow::anyhow!("/proc/{pid}/stat has no CPU times"))?;
    let status = read("status")?;
    Ok(Sample {
        cpu: Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND),
        rss: status_kb(&status, "VmRSS:").unwrap_or(0) * 1024,
        peak_rss: status_kb(&status, "VmHWM:").unwrap_or(0) * 1024,
    })
}

/// CPU time used so far by each of `pids` together (a process that is gone counts 0).
pub fn cpu_of(pids: &[u32]) -> Duration {
    pids.iter()
        .filter_map(|p| sample(*p).ok())
        .map(|s| s.cpu)
        .sum()
}

/// utime + stime (fields 14 and 15) of a /proc/PID/stat line. The command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last `)`.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14, at index 11.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `Key:  1234 kB` line of /proc/PID/status, in kB.
fn status_kb(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stat_lines() {
        let line = "4242 (cairn (agent) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    250 37 0 0 20 0 8 0 12345 100000 2000";
        assert_eq!(parse_cpu_ticks(line), Some(287));
        assert_eq!(parse_cpu_ticks("4242 (x) S 1"), None);
        let own = sample(std::process::id()).expect("own /proc");
        assert!(own.rss > 0 && own.peak_rss >= own.rss);
    }
}
