//! End to end: `cairn demo --once` starts 3 replica processes, loads the sample inventory,
//! SIGKILLs the leader, checks that writes resume and nothing is lost, restarts the replica.

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
}
