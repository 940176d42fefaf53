//! `cairn bench boot`'s plumbing, cheaply: 10 nodes, one connection count, both modes, both
//! endpoints, 1 s runs. Not a measurement (a debug build, seconds of load): it checks that the
//! bench starts a coordinator and nginx, that nginx serves Cairn's exact bytes (the bench
//! refuses to run otherwise), that wrk's rotation reaches both without errors, and that the
//! JSON report holds every row. Needs Debian's nginx and wrk; skips without them.

use std::process::Command;

use cairn_tests::{cairn_binary, peers};
use serde_json::Value;

#[tokio::test]
async fn bench_boot_runs_cairn_and_nginx_side_by_side_and_reports_each_row() -> anyhow::Result<()> {
    let test = "bench_boot";
    if !["nginx", "wrk"]
        .iter()
        .all(|t| peers::on_path(t) || peers::on_path(&format!("/usr/sbin/{t}")))
    {
        println!("SKIP {test}: nginx or wrk missing (bash .ci/test-deps installs them)");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("boot.json");
    let cairn = cairn_binary()?;
    let out = tokio::task::spawn_blocking({
        let json = json.clone();
        move || {
            Command::new(cairn)
                .args([
                    "bench",
                    "boot",
                    "--nodes",
                    "10",
                    "--duration",
                    "1",
                    "--warmup",
                    "0",
                ])
                .args(["--connections", "8", "--json"])
                .arg(&json)
                .output()
        }
    })
    .await??;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "cairn bench boot failed:\n{text}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json)?)?;
    let rows = report["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 4, "2 endpoints x 2 modes:\n{text}");
    for row in &rows {
        for side in ["cairn", "nginx"] {
            let w = &row[side]["wrk"];
            assert!(w["requests"].as_u64() > Some(0), "{side}: {row}");
            assert_eq!(w["status_errors"], 0, "{side} answered errors: {row}");
        }
    }
    assert_eq!(report["lines"].as_array().map(Vec::len), Some(8), "{text}");
    Ok(())
}
