//! Debian's `wrk` as the load generator, for Cairn and nginx alike. A Lua script rotates the
//! requests over a list of (path, `X-Forwarded-For`) pairs, each wrk thread from its own
//! offset, and prints the summary as one JSON line that [`parse`] reads.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use tokio::process::Command;

/// The Lua side. Targets file: one request per line, `PATH` or `PATH<TAB>X-Forwarded-For`.
const SCRIPT: &str = r#"-- written by cairn bench boot
local targets = {}
local counter = 0

local function load(file)
  local list = {}
  for line in io.lines(file) do
    local path, xff = line:match("^([^\t]+)\t?(.*)$")
    if path then
      -- wrk.format uses these instead of wrk.headers: keep the -H ones (Connection: close).
      local headers = {}
      for k, v in pairs(wrk.headers) do headers[k] = v end
      if xff ~= "" then headers["X-Forwarded-For"] = xff end
      list[#list + 1] = { path = path, headers = headers }
    end
  end
  return list
end

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end

function init(args)
  targets = load(args[1])
  local threads = tonumber(args[2]) or 1
  -- Threads start spread over the list, so they do not ask for the same node together.
  index = math.floor((offset or 0) * #targets / threads)
end

function request()
  index = index % #targets + 1
  local t = targets[index]
  return wrk.format("GET", t.path, t.headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'CAIRN-WRK {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
"#;

/// How the connections are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnMode {
    /// Persistent connections (HTTP/1.1 keep-alive).
    KeepAlive,
    /// `Connection: close`: one TCP connection per request.
    Close,
}

impl ConnMode {
    /// For tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::KeepAlive => "keep-alive",
            Self::Close => "Connection: close",
        }
    }
}

/// One wrk run.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// The wrk binary.
    pub wrk: &'a Path,
    /// The Lua script, written by [`write_script`].
    pub script: &'a Path,
    /// `http://host:port` (paths come from the targets file).
    pub base_url: &'a str,
    /// The targets file.
    pub targets: &'a Path,
    /// wrk threads.
    pub threads: usize,
    /// Open connections.
    pub connections: usize,
    /// How long.
    pub duration: Duration,
    /// Keep-alive or not.
    pub mode: ConnMode,
}

/// What wrk reported.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WrkResult {
    /// Completed requests (any status).
    pub requests: u64,
    /// Measured time, microseconds.
    pub duration_us: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Failed connects.
    pub connect_errors: u64,
    /// Failed reads.
    pub read_errors: u64,
    /// Failed writes.
    pub write_errors: u64,
    /// Answers with a status ≥ 400.
    pub status_errors: u64,
    /// Requests without an answer within wrk's timeout.
    pub timeouts: u64,
    /// Median latency, microseconds.
    pub p50_us: u64,
    /// 99th percentile latency, microseconds.
    pub p99_us: u64,
    /// Worst latency, microseconds.
    pub max_us: u64,
    /// Mean latency, microseconds.
    pub mean_us: f64,
}

impl WrkResult {
    /// Successful requests per second (errors of any kind excluded).
    pub fn per_sec(&self) -> f64 {
        let ok = self.requests.saturating_sub(self.status_errors);
        if self.duration_us == 0 {
            0.0
        } else {
            ok as f64 * 1e6 / self.duration_us as f64
        }
    }

    /// p99 in milliseconds.
    pub fn p99_ms(&self) -> f64 {
        self.p99_us as f64 / 1e3
    }

    /// Every failure wrk counted.
    pub fn errors(&self) -> u64 {
        self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.status_errors
            + self.timeouts
    }
}

/// Write the Lua script into `dir`.
pub fn write_script(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("rotate.lua");
    std::fs::write(&path, SCRIPT).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Write a targets file: one `(path, forwarded-for)` per line.
pub fn write_targets(path: &Path, targets: &[(String, Option<String>)]) -> anyhow::Result<()> {
    let mut text = String::with_capacity(targets.len() * 48);
    for (p, xff) in targets {
        text.push_str(p);
        if let Some(x) = xff {
            text.push('\t');
            text.push_str(x);
        }
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Run wrk to the end and parse its summary.
pub async fn run(r: &Run<'_>) -> anyhow::Result<WrkResult> {
    let mut cmd = Command::new(r.wrk);
    cmd.arg("-t")
        .arg(r.threads.min(r.connections).max(1).to_string())
        .arg("-c")
        .arg(r.connections.to_string())
        .arg("-d")
        // wrk takes whole seconds ("1000ms" would read as 1000 minutes).
        .arg(format!("{}s", r.duration.as_secs().max(1)))
        .args(["--timeout", "5s", "-s"])
        .arg(r.script);
    if r.mode == ConnMode::Close {
        cmd.args(["-H", "Connection: close"]);
    }
    cmd.arg(r.base_url)
        .arg("--")
        .arg(r.targets)
        .arg(r.threads.to_string())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(r.duration + Duration::from_secs(30), cmd.output())
        .await
        .context("wrk did not finish in time")?
        .with_context(|| format!("cannot run {}", r.wrk.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "wrk failed ({}): {}{}",
        out.status,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&stdout).with_context(|| format!("no summary in wrk's output:\n{stdout}"))
}

/// The `CAIRN-WRK {json}` line of wrk's output.
pub fn parse(stdout: &str) -> anyhow::Result<WrkResult> {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CAIRN-WRK "))
        .context("no CAIRN-WRK line")?;
    Ok(serde_json::from_str(line)?)
}

/// `wrk --version`'s first words (wrk prints it and exits 1).
pub async fn version(wrk: &Path) -> Option<String> {
    let out = Command::new(wrk).arg("-v").output().await.ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_parses() {
        let out = "Running 1s test @ http://127.0.0.1:1\n  2 threads and 8 connections\n\
            CAIRN-WRK {\"requests\":2000,\"duration_us\":1000000,\"bytes\":800000,\
            \"connect_errors\":0,\"read_errors\":1,\"write_errors\":0,\"status_errors\":10,\
            \"timeouts\":0,\"p50_us\":900,\"p99_us\":2500,\"max_us\":9000,\"mean_us\":950.5}\n";
        let r = parse(out).expect("parses");
        assert_eq!((r.requests, r.status_errors, r.errors()), (2000, 10, 11));
        assert!((r.per_sec() - 1990.0).abs() < 1e-9);
        assert!((r.p99_ms() - 2.5).abs() < 1e-9);
        assert!(parse("Running 1s test").is_err());
    }

    #[test]
    fn targets_file_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t");
        write_targets(
            &path,
            &[
                ("/a?mac=1".into(), None),
                ("/m".into(), Some("10.0.0.1".into())),
            ],
        )
        .expect("written");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "/a?mac=1\n/m\t10.0.0.1\n"
        );
    }
}
