//! Protocol behaviour with an in-test client: options, retransmission, refusals, garbage.

use super::client::{Client, Reply, ack, rrq};
use super::{content, start, wait_for};

#[tokio::test]
async fn options_are_negotiated_in_an_oack() {
    let fixture = start(|_| {}).await;
    let mut client = Client::new(fixture.addr).await;
    let request = rrq(
        "small.bin",
        "octet",
        &[
            ("blksize", "2000"),
            ("tsize", "0"),
            ("timeout", "3"),
            ("windowsize", "4"),
            ("x-unknown", "1"),
        ],
    );
    client.send_to_server(&request).await;
    let Reply::Oack(options) = client.recv().await else {
        panic!("expected an OACK")
    };
    let expected: Vec<(String, String)> = [
        ("blksize", "1468"),
        ("tsize", "1500"),
        ("timeout", "3"),
        ("windowsize", "4"),
    ]
    .iter()
    .map(|(n, v)| ((*n).into(), (*v).into()))
    .collect();
    assert_eq!(options, expected);
    client.send(&ack(0)).await;
    assert_eq!(client.receive_all(1468, 4).await, content(1500, 1));
}

#[tokio::test]
async fn a_window_of_blocks_is_acknowledged_once() {
    let fixture = start(|_| {}).await;
    std::fs::write(fixture.root.path().join("w.bin"), content(10 * 64 + 5, 9)).unwrap();
    let mut client = Client::new(fixture.addr).await;
    client
        .send_to_server(&rrq(
            "w.bin",
            "octet",
            &[("blksize", "64"), ("windowsize", "3")],
        ))
        .await;
    assert!(matches!(client.recv().await, Reply::Oack(_)));
    client.send(&ack(0)).await;
    assert_eq!(client.receive_all(64, 3).await, content(10 * 64 + 5, 9));
}

#[tokio::test]
async fn a_lost_ack_gets_the_block_again_and_duplicates_change_nothing() {
    let fixture = start(|_| {}).await;
    let mut client = Client::new(fixture.addr).await;
    client
        .send_to_server(&rrq("small.bin", "netascii", &[]))
        .await;
    let first = client.recv().await;
    assert!(matches!(first, Reply::Data(1, _)));
    // No ACK: after the server's timeout (1 s) the same block comes again.
    assert_eq!(client.recv().await, first);
    client.send(&ack(1)).await;
    client.send(&ack(1)).await;
    let Reply::Data(2, second) = client.recv().await else {
        panic!("expected block 2")
    };
    client.send(&ack(2)).await;
    // Had the duplicate ACK triggered a resend, block 2 would arrive before block 3.
    let Reply::Data(3, third) = client.recv().await else {
        panic!("expected block 3")
    };
    assert_eq!(second.len() + third.len(), 1500 - 512);
    client.send(&ack(3)).await;
    wait_for(|| fixture.stats.transfers_done() == 1).await;
}

#[tokio::test]
async fn a_silent_client_is_given_up_on() {
    let fixture = start(|config| {
        config.timeout = std::time::Duration::from_millis(50);
        config.retries = 2;
    })
    .await;
    let mut client = Client::new(fixture.addr).await;
    client.send_to_server(&rrq("small.bin", "octet", &[])).await;
    for _ in 0..3 {
        assert!(matches!(client.recv().await, Reply::Data(1, _)));
    }
    assert_eq!(client.expect_error().await.0, 0);
    wait_for(|| fixture.stats.transfers_failed() == 1).await;
}

#[tokio::test]
async fn paths_are_confined_to_the_root() {
    let fixture = start(|_| {}).await;
    for (name, code) in [
        ("../etc/passwd", 2),
        ("sub/../../etc/passwd", 2),
        ("/etc/passwd", 1),
        ("outside", 2),
        ("sub", 2),
        ("missing.bin", 1),
        ("..\\etc\\passwd", 2),
    ] {
        let mut client = Client::new(fixture.addr).await;
        client.send_to_server(&rrq(name, "octet", &[])).await;
        let (got, message) = client.expect_error().await;
        assert_eq!(got, code, "{name}: {message}");
        assert!(!message.contains("root:"), "{message}");
    }
    // A symlink inside the root, and a leading slash, are fine.
    for name in ["alias", "/small.bin", "/sub/inner.bin"] {
        let mut client = Client::new(fixture.addr).await;
        client.send_to_server(&rrq(name, "octet", &[])).await;
        assert!(!client.receive_all(512, 1).await.is_empty(), "{name}");
    }
    assert_eq!(fixture.stats.requests_refused(), 7);
}

#[tokio::test]
async fn symlinks_out_of_the_root_can_be_allowed() {
    let fixture = start(|config| config.allow_symlinks_out_of_root = true).await;
    let mut client = Client::new(fixture.addr).await;
    client.send_to_server(&rrq("outside", "octet", &[])).await;
    let served = client.receive_all(512, 1).await;
    assert_eq!(served, std::fs::read("/etc/passwd").unwrap());
}

#[tokio::test]
async fn writes_modes_and_bad_options_are_refused() {
    let fixture = start(|_| {}).await;
    let mut wrq = rrq("new.bin", "octet", &[]);
    wrq[1] = 2;
    for (request, code) in [
        (wrq, 2),
        (rrq("small.bin", "mail", &[]), 4),
        (rrq("small.bin", "octet", &[("blksize", "7")]), 8),
        (rrq("small.bin", "octet", &[("timeout", "0")]), 8),
        (rrq("small.bin", "octet", &[("tsize", "many")]), 8),
    ] {
        let mut client = Client::new(fixture.addr).await;
        client.send_to_server(&request).await;
        let (got, message) = client.expect_error().await;
        assert_eq!(got, code, "{message}");
        assert!(!message.is_empty());
    }
    assert!(!std::path::Path::new(&fixture.root.path().join("new.bin")).exists());
}

#[tokio::test]
async fn a_client_error_ends_the_transfer() {
    let fixture = start(|_| {}).await;
    let mut client = Client::new(fixture.addr).await;
    // UEFI firmware: ask for tsize, read the OACK, abort, then ask again.
    client
        .send_to_server(&rrq("small.bin", "octet", &[("tsize", "0")]))
        .await;
    assert_eq!(
        client.recv().await,
        Reply::Oack(vec![("tsize".into(), "1500".into())])
    );
    client.send(b"\x00\x05\x00\x08tsize only\x00").await;
    wait_for(|| fixture.stats.transfers_aborted() == 1).await;
}

#[tokio::test]
async fn garbage_is_ignored_and_the_server_keeps_serving() {
    let fixture = start(|_| {}).await;
    let client = Client::new(fixture.addr).await;
    let mut garbage: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![0, 1],
        b"\x00\x01no-terminator".to_vec(),
        b"\x00\x01file\x00".to_vec(),
        b"\x00\x01file\x00octet\x00blksize\x00".to_vec(),
        b"\x00\x09\x00\x01".to_vec(),
        b"\x00\x03\x00\x01data".to_vec(),
        b"\x00\x04\x00\x01".to_vec(),
        b"\x00\x05\x00\x01oops\x00".to_vec(),
        vec![0xff; 3000],
    ];
    garbage.extend((0..50u8).map(|seed| content(usize::from(seed) * 7, seed)));
    for datagram in &garbage {
        client.send_to_server(datagram).await;
    }
    let mut client = Client::new(fixture.addr).await;
    client.send_to_server(&rrq("small.bin", "octet", &[])).await;
    assert_eq!(client.receive_all(512, 1).await, content(1500, 1));
}

#[tokio::test]
async fn requests_beyond_max_transfers_get_server_busy() {
    let fixture = start(|config| config.max_transfers = 1).await;
    let mut first = Client::new(fixture.addr).await;
    first
        .send_to_server(&rrq("small.bin", "octet", &[("timeout", "255")]))
        .await;
    assert!(matches!(first.recv().await, Reply::Oack(_)));
    let mut second = Client::new(fixture.addr).await;
    second.send_to_server(&rrq("small.bin", "octet", &[])).await;
    assert_eq!(second.expect_error().await, (0, "server busy".into()));
    first.send(&ack(0)).await;
    assert_eq!(first.receive_all(512, 1).await, content(1500, 1));
    // The permit returns when the first transfer's task ends: poll until a request gets in.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let mut third = Client::new(fixture.addr).await;
        third.send_to_server(&rrq("small.bin", "octet", &[])).await;
        match third.recv().await {
            Reply::Data(1, _) => break,
            Reply::Error(0, _) if tokio::time::Instant::now() < deadline => {
                tokio::task::yield_now().await
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_repeated_request_does_not_start_a_second_transfer() {
    // With one permit, a second transfer for the same client would be answered "server busy".
    let fixture = start(|config| config.max_transfers = 1).await;
    let mut client = Client::new(fixture.addr).await;
    let request = rrq("small.bin", "octet", &[]);
    client.send_to_server(&request).await;
    client.send_to_server(&request).await;
    assert_eq!(client.receive_all(512, 1).await, content(1500, 1));
    wait_for(|| fixture.stats.transfers_done() == 1).await;
    assert_eq!(fixture.stats.requests_refused(), 0);
}
