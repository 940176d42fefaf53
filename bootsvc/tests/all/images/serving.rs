//! Serving: one fill for many requests, Range, HEAD, conditional requests, refusals.

use axum::http::StatusCode;

use super::origin::{Env, Origin, content, until};

#[tokio::test]
async fn concurrent_requests_share_one_fill() {
    let origin = Origin::start().await;
    let body = content(1, 300_000);
    origin.put("vmlinuz", body.clone());
    let url = origin.url("gated", "vmlinuz");
    let env = std::sync::Arc::new(Env::new(10 << 20));
    env.want(&[&url]);

    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (env, url) = (env.clone(), url.clone());
        tasks.push(tokio::spawn(async move { env.get(&url, &[]).await }));
    }
    // All twenty are waiting on the one fill, held at the origin. The fill reaches the origin
    // in its own task, over TCP: the nineteen can have joined before its request arrives, so
    // wait for both rather than assume an order.
    until("19 requests joining the fill, held at the origin", || {
        env.cache.stats().joined == 19 && origin.requests("vmlinuz") >= 1
    })
    .await;
    assert_eq!(origin.requests("vmlinuz"), 1);
    origin.open_gate();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-type"), "application/octet-stream");
        assert_eq!(r.body, body);
    }
    assert_eq!(origin.requests("vmlinuz"), 1);
    let s = env.cache.stats();
    assert_eq!((s.fills, s.fill_failures, s.files), (1, 0, 1));
    assert_eq!(s.bytes_cached, 300_000);

    // Later requests are hits.
    assert_eq!(env.get(&url, &[]).await.body, body);
    assert_eq!(env.cache.stats().hits, 1);
    assert_eq!(origin.requests("vmlinuz"), 1);
}

#[tokio::test]
async fn ranges_head_and_conditional_requests() {
    let origin = Origin::start().await;
    let body = content(2, 1000);
    origin.put("initrd", body.clone());
    let url = origin.url("img", "initrd");
    let env = Env::new(10 << 20);
    env.want(&[&url]);

    let r = env.get(&url, &[("range", "bytes=0-99")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-range"), "bytes 0-99/1000");
    assert_eq!(r.body, &body[..100]);

    let r = env.get(&url, &[("range", "bytes=-10")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, &body[990..]);

    let r = env.get(&url, &[("range", "bytes=900-")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, &body[900..]);

    let r = env.get(&url, &[("range", "bytes=5000-6000")]).await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.header("content-range"), "bytes */1000");

    let path = env.path_of(&url);
    let r = env.request("HEAD", &path, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-length"), "1000");
    assert_eq!(r.header("accept-ranges"), "bytes");
    assert!(r.body.is_empty());

    let full = env.get(&url, &[]).await;
    assert_eq!(full.body, body);
    let etag = full.header("etag").to_owned();
    assert!(!etag.is_empty());
    assert!(!full.header("last-modified").is_empty());
    let r = env.get(&url, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);

    // The file name is cosmetic: the id selects the image.
    let other_name = format!("{}/other", path.rsplit_once('/').unwrap().0);
    assert_eq!(env.request("GET", &other_name, &[]).await.body, body);
    // Only GET and HEAD.
    let r = env.request("POST", &path, &[]).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(origin.requests("initrd"), 1);
}

#[tokio::test]
async fn only_wanted_images_are_fetched() {
    let origin = Origin::start().await;
    origin.put("a", content(3, 10));
    origin.put("b", content(4, 10));
    let (a, b) = (origin.url("img", "a"), origin.url("img", "b"));
    let env = Env::new(10 << 20);
    env.want(&[&a]);

    // An id the desired state does not name: 404, and the origin is not asked.
    let r = env.get(&b, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.detail().contains("is not named by the desired state"),
        "{}",
        r.detail()
    );
    let r = env
        .request(
            "GET",
            "/boot/v1/images/00000000000000000000000000000000/x",
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = env.request("GET", "/boot/v1/images/not-an-id/x", &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.detail().contains("32 hex digits"), "{}", r.detail());
    assert_eq!(origin.total_requests(), 0);

    // No longer wanted: refused even though cached.
    assert_eq!(env.get(&a, &[]).await.status, StatusCode::OK);
    env.want(&[&b]);
    assert_eq!(env.get(&a, &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(env.get(&b, &[]).await.status, StatusCode::OK);
}
