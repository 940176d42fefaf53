//! Progress bars on stderr for commands that follow long work (discovery, power transitions).
//! indicatif draws nothing when stderr is not a terminal, so scripts and tests see only the
//! final output.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps titled `title`, ticking on its own so the elapsed time moves.
pub fn bar(title: &str, len: u64) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{spinner} {prefix} [{bar:32}] {pos}/{len} {wide_msg} {elapsed}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    let pb = ProgressBar::new(len)
        .with_style(style)
        .with_prefix(title.to_owned());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Plural-aware count: `1 node`, `3 nodes`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Seconds with a precision that suits them: `850 ms`, `2.4 s`.
pub fn took(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(count(1, "node", "nodes"), "1 node");
        assert_eq!(count(0, "node", "nodes"), "0 nodes");
        assert_eq!(took(Duration::from_millis(850)), "850 ms");
        assert_eq!(took(Duration::from_millis(2440)), "2.4 s");
        let pb = bar("test", 3);
        pb.inc(1);
        pb.finish_and_clear();
    }
}
