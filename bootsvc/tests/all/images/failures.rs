//! Fills that must not cache anything: wrong digest, wrong size, origin errors, unreachable
//! and silent origins, images over the limit.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine as _;
use cairn_bootsvc::images::ImageRef;

use super::origin::{Env, Origin, client, content, hex, sha256, until};

/// Nothing but the index's directory entries: no image, no temporary file.
fn assert_nothing_cached(env: &Env) {
    assert_eq!(env.files(), Vec::<String>::new());
    let s = env.cache.stats();
    assert_eq!((s.files, s.bytes_cached), (0, 0));
}

#[tokio::test]
async fn a_wrong_digest_caches_nothing_and_the_right_one_then_works() {
    let origin = Origin::start().await;
    let body = content(5, 70_000);
    origin.put("k", body.clone());
    let url = origin.url("img", "k");
    let env = Env::new(10 << 20);
    let wrong = hex(&[0x11; 32]);
    env.want(&[&format!("{url}#sha256={wrong}")]);

    let r = env.get(&url, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    let detail = r.detail();
    assert!(
        detail.contains(&format!("expected sha256 {wrong} (the desired state)")),
        "{detail}"
    );
    assert!(detail.contains(&hex(&sha256(&body))), "{detail}");
    assert_nothing_cached(&env);
    assert_eq!(env.cache.stats().fill_failures, 1);

    // The desired state corrected: the same URL, fetched again, served.
    env.want(&[&format!("{url}#sha256={}", hex(&sha256(&body)))]);
    let r = env.get(&url, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, body);
    assert_eq!(origin.requests("k"), 2);
    assert_eq!(env.files(), vec![hex(&sha256(&body))]);
}

#[tokio::test]
async fn a_wrong_size_caches_nothing() {
    let origin = Origin::start().await;
    origin.put("k", content(6, 1000));
    let url = origin.url("img", "k");
    let env = Env::new(10 << 20);
    for (expected, _) in [(1001, "longer"), (999, "shorter")] {
        env.cache.set_wanted([ImageRef {
            size: Some(expected),
            ..ImageRef::parse(&url).unwrap()
        }]);
        let r = env.get(&url, &[]).await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY);
        assert!(
            r.detail().contains(&format!(
                "expected {expected} bytes (the desired state), got 1000"
            )),
            "{}",
            r.detail()
        );
        assert_nothing_cached(&env);
    }
    env.cache.set_wanted([ImageRef {
        size: Some(1000),
        ..ImageRef::parse(&url).unwrap()
    }]);
    assert_eq!(env.get(&url, &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn repr_digest_is_checked() {
    let origin = Origin::start().await;
    let body = content(7, 5000);
    origin.put("k", body.clone());
    let b64 = |d: [u8; 32]| base64::engine::general_purpose::STANDARD.encode(d);
    origin.set_repr_digest("k", &format!("sha-256=:{}:", b64([0; 32])));
    let url = origin.url("img", "k");
    let env = Env::new(10 << 20);
    env.want(&[&url]);

    let r = env.get(&url, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert!(r.detail().contains("(Repr-Digest)"), "{}", r.detail());
    assert_nothing_cached(&env);

    origin.set_repr_digest(
        "k",
        &format!("sha-512=:AAAA:, sha-256=:{}:", b64(sha256(&body))),
    );
    assert_eq!(env.get(&url, &[]).await.body, body);
}

#[tokio::test]
async fn a_failure_answers_every_waiter_and_the_next_request_retries() {
    let origin = Origin::start().await;
    let url = origin.url("gated", "missing");
    let env = Arc::new(Env::new(10 << 20));
    env.want(&[&url]);

    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (env, url) = (env.clone(), url.clone());
        tasks.push(tokio::spawn(async move { env.get(&url, &[]).await }));
    }
    until("4 requests joining the fill", || {
        env.cache.stats().joined == 4
    })
    .await;
    origin.open_gate();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, StatusCode::BAD_GATEWAY);
        assert!(
            r.detail().ends_with("the origin answered 404"),
            "{}",
            r.detail()
        );
    }
    assert_eq!(origin.requests("missing"), 1);
    assert_eq!(env.cache.stats().fill_failures, 1);
    assert_nothing_cached(&env);

    origin.put("missing", content(8, 10));
    assert_eq!(env.get(&url, &[]).await.status, StatusCode::OK);
    assert_eq!(origin.requests("missing"), 2);
}

#[tokio::test]
async fn unreachable_and_silent_origins() {
    // A port nobody listens on any more.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("http://{closed}/vmlinuz");
    let env = Env::new(10 << 20);
    env.want(&[&url]);
    let r = env.get(&url, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert!(
        r.detail().starts_with(&format!("fetching {url} failed: ")),
        "{}",
        r.detail()
    );
    assert_nothing_cached(&env);

    // An origin that never answers, with a client that gives up.
    let origin = Origin::start().await;
    let url = origin.url("hang", "vmlinuz");
    let _ = client(); // installs the TLS provider the builder below needs
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let env = Env::with_client(10 << 20, impatient);
    env.want(&[&url]);
    let r = env.get(&url, &[]).await;
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(r.detail().contains("timed out"), "{}", r.detail());
    assert_nothing_cached(&env);
}

#[tokio::test]
async fn an_image_over_the_limit_is_refused() {
    let origin = Origin::start().await;
    origin.put("big", content(9, 200));
    let url = origin.url("img", "big");
    let env = Env::new(100);
    env.want(&[&url]);
    let r = env.get(&url, &[]).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert!(
        r.detail()
            .contains("larger than the cache's limit of 100 bytes"),
        "{}",
        r.detail()
    );
    assert_nothing_cached(&env);
}
