//! Golden bootscript responses: `tests/golden/<case>.{ipxe,json}` hold the exact body.
//! `UPDATE_GOLDEN=1 cargo test -p cairn-bootsvc --test all golden` rewrites them.

use std::path::PathBuf;

use axum::http::StatusCode;

use crate::fixture::{app, cluster, get, state};

fn check(case: &str, ext: &str, body: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{case}.{ext}"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, body).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert_eq!(body, want, "{case} differs from {}", path.display());
}

#[tokio::test]
async fn bootscripts() {
    let st = state(cluster());
    let app = app(&st);
    let cases: &[(&str, &str, StatusCode, &str)] = &[
        (
            "known_node",
            "mac=AA-BB-CC-00-00-01",
            StatusCode::OK,
            "ipxe",
        ),
        (
            "known_by_name",
            "name=x1000c0s0b0n0",
            StatusCode::OK,
            "ipxe",
        ),
        ("known_by_nid_second_mac", "nid=2", StatusCode::OK, "ipxe"),
        (
            "role_fallback",
            "mac=aa:bb:cc:00:00:02",
            StatusCode::OK,
            "ipxe",
        ),
        ("default", "mac=aa:bb:cc:00:00:03", StatusCode::OK, "ipxe"),
        (
            "no_initrd_params_kept",
            "name=x1000c0s2b0n0",
            StatusCode::OK,
            "ipxe",
        ),
        (
            "unknown_no_arch",
            "mac=de:ad:be:ef:00:01&ts=1700000000",
            StatusCode::OK,
            "ipxe",
        ),
        (
            "unknown_with_arch",
            "mac=de:ad:be:ef:00:01&arch=x86_64",
            StatusCode::OK,
            "ipxe",
        ),
        (
            "unknown_no_config",
            "mac=de:ad:be:ef:00:01&arch=arm64",
            StatusCode::NOT_FOUND,
            "json",
        ),
        (
            "disabled_is_unknown",
            "mac=aa:bb:cc:00:00:04&arch=X86_64",
            StatusCode::OK,
            "ipxe",
        ),
        (
            "retry",
            "mac=aa:bb:cc:00:00:01&retry=3",
            StatusCode::OK,
            "ipxe",
        ),
        (
            "retry_cap",
            "mac=aa:bb:cc:00:00:01&retry=10",
            StatusCode::OK,
            "ipxe",
        ),
        (
            "json",
            "mac=aa:bb:cc:00:00:01&json=1",
            StatusCode::OK,
            "json",
        ),
        (
            "missing_selector",
            "arch=x86_64",
            StatusCode::BAD_REQUEST,
            "json",
        ),
        (
            "bad_mac",
            "mac=aa:bb:cc:00:00:zz",
            StatusCode::BAD_REQUEST,
            "json",
        ),
    ];
    for (case, query, status, ext) in cases {
        let r = get(&app, &format!("/boot/v1/bootscript?{query}"), None).await;
        assert_eq!(r.status, *status, "{case}: {}", r.body);
        let want_type = match (*ext, status.is_success()) {
            ("ipxe", _) => "text/plain; charset=utf-8",
            ("json", true) => "application/json",
            _ => "application/problem+json",
        };
        assert_eq!(r.content_type, want_type, "{case}");
        let body = if *ext == "json" {
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            serde_json::to_string_pretty(&v).unwrap() + "\n"
        } else {
            r.body
        };
        check(case, ext, &body);
    }
}

#[tokio::test]
async fn known_node_without_boot_data_is_asked_for_its_arch() {
    let mut src = cluster();
    src.entries.remove(&cairn_protocols::BootKey::Default);
    let app = app(&state(src));
    let r = get(&app, "/boot/v1/bootscript?name=x1000c0s1b0n0", None).await;
    assert_eq!(r.status, StatusCode::OK);
    check("unconfigured_no_arch", "ipxe", &r.body);
    let r = get(
        &app,
        "/boot/v1/bootscript?name=x1000c0s1b0n0&arch=x86_64",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    check("unconfigured_with_arch", "ipxe", &r.body);
}
