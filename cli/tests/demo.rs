//! End to end: `cairn demo --once` starts 3 replica processes, loads the sample inventory and
//! boot data, shows a node's iPXE script and cloud-init data, SIGKILLs the leader, checks that
//! writes resume and nothing is lost, restarts the replica, then has two agents discover two
//! simulated racks, powers every node on, and boots every node from its rack's agent, one rack
//! while cut off from the coordinators. Also the hardware benchmarks' plumbing, small.

use std::process::Command;

#[test]
fn demo_once_succeeds() {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["demo", "--once"])
        .env_remove("CAIRN_API")
        .output()
        .expect("cairn runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cairn demo --once failed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
    assert!(stdout.contains("every record intact"), "{stdout}");
    assert!(stdout.contains("writes accepted again"), "{stdout}");
    // A node's boot, as the node sees it: its script, and cloud-init from its own address.
    assert!(
        stdout.contains("kernel --name kernel http://10.100.255.254/images/compute/vmlinuz"),
        "{stdout}"
    );
    assert!(stdout.contains("local-hostname: nid0001"), "{stdout}");
    assert!(stdout.contains("/cloud-init/compute.yaml"), "{stdout}");
    assert!(stdout.contains("32 BMCs: 32 new"), "{stdout}");
    assert!(stdout.contains("On: 64 succeeded, 0 failed"), "{stdout}");
    assert!(stdout.contains("every node reports power on"), "{stdout}");
    // The racks boot their nodes, one of them cut off, whose boots reach the inventory later.
    assert!(
        stdout.contains("rack-x1001's nodes still booted, cut off"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the inventory shows the boots of 32 nodes served by rack-x1001"),
        "{stdout}"
    );
}

/// The hardware benchmarks' plumbing, on a tiny farm: simulated racks, agents started as
/// `cairn agent`, discovery and a transition measured, JSON written. (Figures mean nothing
/// here: a debug build, a few BMCs.)
#[test]
fn hardware_benches_run_small() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str], json: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(args)
            .arg("--json")
            .arg(json)
            .env_remove("CAIRN_API")
            .output()
            .expect("cairn runs");
        assert!(
            out.status.success(),
            "cairn {args:?} failed\n--- stdout ---\n{}\n--- stderr ---\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(json).expect("JSON written");
        serde_json::from_str::<serde_json::Value>(&text).expect("valid JSON")
    };
    let d = run(
        &[
            "bench",
            "discovery",
            "--bmcs",
            "6",
            "--runs",
            "1",
            "--replicas",
            "1",
        ],
        &dir.path().join("discovery.json"),
    );
    assert_eq!(
        d["results"]["runs"].as_array().map(Vec::len),
        Some(1),
        "{d}"
    );
    assert!(
        d["results"]["median_wall_seconds"]
            .as_f64()
            .is_some_and(|w| w > 0.0),
        "{d}"
    );
    let p = run(
        &[
            "bench",
            "power",
            "--bmcs",
            "6",
            "--agents",
            "2",
            "--runs",
            "2",
            "--replicas",
            "1",
            "--power-delay",
            "200ms",
        ],
        &dir.path().join("power.json"),
    );
    let runs = p["results"]["runs"].as_array().cloned().unwrap_or_default();
    assert_eq!(runs.len(), 2, "{p}");
    for r in &runs {
        assert_eq!(
            (r["succeeded"].as_u64(), r["not_succeeded"].as_u64()),
            (Some(12), Some(0)),
            "{p}"
        );
    }
}
