//! Partition, restart, eviction and prefetch.

use axum::http::StatusCode;

use super::origin::{Env, Origin, content, hex, sha256, until};

#[tokio::test]
async fn a_partitioned_then_restarted_agent_still_serves() {
    let origin = Origin::start().await;
    let body = content(10, 100_000);
    origin.put("vmlinuz", body.clone());
    let url = origin.url("img", "vmlinuz");
    let env = Env::new(10 << 20);
    env.want(&[&url]);
    assert_eq!(env.get(&url, &[]).await.body, body);

    // The origin goes away: served from disk, the origin not asked.
    origin.fail(true);
    let r = env.get(&url, &[("range", "bytes=10-19")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, &body[10..20]);
    assert_eq!(origin.requests("vmlinuz"), 1);

    // Leftovers of a crash: an unfinished fill and a file the index does not name.
    std::fs::write(env.dir().join(".tmp-0123-7"), b"partial").unwrap();
    std::fs::write(env.dir().join(hex(&[0xee; 32])), b"orphan").unwrap();
    std::fs::write(env.dir().join("README"), b"not ours").unwrap();

    // Restarted while still cut off: the index and files survive, the leftovers do not.
    let env = env.restart(10 << 20).await;
    let mut expect = vec!["README".to_owned(), hex(&sha256(&body))];
    expect.sort();
    assert_eq!(env.files(), expect);
    assert_eq!(env.cache.stats().bytes_cached, 100_000);
    env.want(&[&url]);
    let r = env.get(&url, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, body);
    assert_eq!(origin.requests("vmlinuz"), 1);
    assert_eq!(env.cache.stats().hits, 1);
}

#[tokio::test]
async fn a_damaged_file_is_fetched_again() {
    let origin = Origin::start().await;
    let body = content(11, 1000);
    origin.put("k", body.clone());
    let url = origin.url("img", "k");
    let env = Env::new(10 << 20);
    env.want(&[&url]);
    assert_eq!(env.get(&url, &[]).await.body, body);
    std::fs::remove_file(env.dir().join(hex(&sha256(&body)))).unwrap();
    assert_eq!(env.get(&url, &[]).await.body, body);
    assert_eq!(origin.requests("k"), 2);

    // Removed while the agent was down: the entry is dropped at start, the image refetched.
    std::fs::remove_file(env.dir().join(hex(&sha256(&body)))).unwrap();
    let env = env.restart(10 << 20).await;
    assert_eq!(env.cache.stats().files, 0);
    env.want(&[&url]);
    assert_eq!(env.get(&url, &[]).await.body, body);
    assert_eq!(origin.requests("k"), 3);
}

#[tokio::test]
async fn eviction_keeps_wanted_images_and_drops_the_least_recently_used() {
    let origin = Origin::start().await;
    let [a, b, c] = ["a", "b", "c"].map(|n| {
        origin.put(n, content(n.as_bytes()[0], 100));
        origin.url("img", n)
    });
    let file = |n: &str| hex(&sha256(&content(n.as_bytes()[0], 100)));
    let env = Env::new(250);

    env.want(&[&a, &b]);
    assert_eq!(env.get(&a, &[]).await.status, StatusCode::OK);
    assert_eq!(env.get(&b, &[]).await.status, StatusCode::OK);
    // b is no longer wanted but fits: it stays until room is needed.
    env.want(&[&a, &c]);
    assert_eq!(env.cache.stats().files, 2);
    assert_eq!(env.get(&c, &[]).await.status, StatusCode::OK);
    // 300 bytes > 250: b, the only file not wanted, goes.
    let mut expect = vec![file("a"), file("c")];
    expect.sort();
    assert_eq!(env.files(), expect);
    assert_eq!(env.cache.stats().evictions, 1);
    assert_eq!(env.get(&a, &[]).await.status, StatusCode::OK);
    assert_eq!(env.get(&c, &[]).await.status, StatusCode::OK);
    assert_eq!(origin.total_requests(), 3);

    // Now only b is wanted: it is fetched again, and of a and c the one used least
    // recently (a, before c) goes.
    env.want(&[&b]);
    assert_eq!(env.get(&c, &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(env.get(&b, &[]).await.status, StatusCode::OK);
    let mut expect = vec![file("b"), file("c")];
    expect.sort();
    assert_eq!(env.files(), expect);
    assert_eq!(origin.requests("b"), 2);

    // Wanted images alone over the limit: all kept.
    env.want(&[&a, &b, &c]);
    for u in [&a, &b, &c] {
        assert_eq!(env.get(u, &[]).await.status, StatusCode::OK);
    }
    assert_eq!(env.cache.stats().files, 3);
}

#[tokio::test]
async fn prefetch_fills_wanted_images_before_any_request() {
    let origin = Origin::start().await;
    let urls: Vec<String> = (0..6u8)
        .map(|i| {
            let name = format!("img{i}");
            origin.put(&name, content(20 + i, 5000));
            origin.url("img", &name)
        })
        .collect();
    let env = Env::new(10 << 20);
    let refs: Vec<&str> = urls.iter().map(String::as_str).collect();
    env.want(&refs);
    env.cache.prefetch();
    until("six prefetched images", || env.cache.stats().fills == 6).await;
    // A second prefetch has nothing to do.
    env.cache.prefetch();
    origin.fail(true);
    for u in &urls {
        assert_eq!(env.get(u, &[]).await.status, StatusCode::OK);
    }
    assert_eq!(origin.total_requests(), 6);
    assert_eq!(env.cache.stats().hits, 6);
}
