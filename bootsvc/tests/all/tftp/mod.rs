//! The TFTP server against busybox's client and an in-test client: transfers, option
//! negotiation, retransmission, path confinement, refusals and garbage.

mod busybox;
mod client;
mod protocol;

use std::net::SocketAddr;
use std::path::Path;

use cairn_bootsvc::tftp::{TftpConfig, TftpServer, TftpStats};
use tempfile::TempDir;
use tokio::task::JoinHandle;

/// A server on 127.0.0.1 port 0 serving a temporary root with a few files.
pub struct Fixture {
    pub root: TempDir,
    pub addr: SocketAddr,
    pub stats: TftpStats,
    task: JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Deterministic, non-repeating-looking content of `len` bytes.
pub fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 9)) as u8 ^ seed)
        .collect()
}

pub async fn start(tweak: impl FnOnce(&mut TftpConfig)) -> Fixture {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("small.bin"), content(1500, 1)).unwrap();
    std::fs::write(root.path().join("exact.bin"), content(1024, 2)).unwrap();
    std::fs::write(root.path().join("empty.bin"), b"").unwrap();
    std::fs::create_dir(root.path().join("sub")).unwrap();
    std::fs::write(root.path().join("sub/inner.bin"), content(700, 3)).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.path().join("outside")).unwrap();
    std::os::unix::fs::symlink("small.bin", root.path().join("alias")).unwrap();
    start_in(root, tweak).await
}

pub async fn start_in(root: TempDir, tweak: impl FnOnce(&mut TftpConfig)) -> Fixture {
    let mut config = TftpConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        root: root.path().to_owned(),
        ..TftpConfig::default()
    };
    tweak(&mut config);
    let server = TftpServer::bind(config).await.unwrap();
    let addr = server.local_addr();
    let stats = server.stats();
    let task = tokio::spawn(server.serve());
    Fixture {
        root,
        addr,
        stats,
        task,
    }
}

/// Poll `condition` until it holds; fails the test after a generous deadline.
pub async fn wait_for(condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met in time"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn bind_errors_name_the_problem() {
    let missing = TftpConfig {
        root: "/nonexistent/cairn-tftp".into(),
        ..TftpConfig::default()
    };
    let error = TftpServer::bind(missing).await.unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/cairn-tftp"),
        "{error}"
    );
    let zero = TftpConfig {
        max_transfers: 0,
        root: "/".into(),
        ..TftpConfig::default()
    };
    let error = TftpServer::bind(zero).await.unwrap_err();
    assert!(error.to_string().contains("max_transfers"), "{error}");
}
