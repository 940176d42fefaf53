//! Golden files for `cairn --help` and a subcommand's help, so changes show up in review.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test -p cairn-cli --test help`.

use std::path::PathBuf;
use std::process::Command;

fn check(args: &[&str], golden: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env_remove("CAIRN_API")
        .env("COLUMNS", "100")
        .output()
        .expect("cairn runs");
    assert!(out.status.success(), "cairn {args:?} failed: {out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8 help");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(golden);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("golden file written");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        text == expected,
        "`cairn {}` differs from {}; rerun with UPDATE_GOLDEN=1 if the change is intended\n--- got ---\n{text}",
        args.join(" "),
        path.display()
    );
}

#[test]
fn top_level_help() {
    check(&["--help"], "help.txt");
}

#[test]
fn components_set_state_help() {
    check(
        &["components", "set-state", "--help"],
        "components-set-state-help.txt",
    );
}

#[test]
fn boot_params_set_help() {
    check(
        &["boot", "params", "set", "--help"],
        "boot-params-set-help.txt",
    );
}

#[test]
fn power_on_help() {
    check(&["power", "on", "--help"], "power-on-help.txt");
}

#[test]
fn discover_help() {
    check(&["discover", "--help"], "discover-help.txt");
}

#[test]
fn bad_power_targets_exit_2_before_any_request() {
    // Port 9 (discard) is closed: had a request been sent, the error would say so.
    for target in ["x1000c0s[0-3b0n0", "x1000c0q3", "x1000c[0-9]"] {
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--api", "http://127.0.0.1:9", "power", "on", target])
            .output()
            .expect("cairn runs");
        assert_eq!(out.status.code(), Some(2), "{target}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("cannot reach"), "{target}: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["components", "get", "not-an-xname"])
        .output()
        .expect("cairn runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not-an-xname"), "{err}");
}

#[test]
fn unreachable_api_says_what_to_do() {
    // Port 9 (discard) is closed on test machines.
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["--api", "http://127.0.0.1:9", "components", "list"])
        .output()
        .expect("cairn runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach the Cairn API at http://127.0.0.1:9"),
        "{err}"
    );
    assert!(err.contains("cairn demo"), "{err}");
}
