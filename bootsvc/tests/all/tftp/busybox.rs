//! Transfers with a real client: busybox `tftp -g`.

use std::path::Path;
use std::process::Stdio;

use super::{Fixture, content, read, start, wait_for};

/// Run `busybox tftp -g`; `None` when busybox is missing (the test then skips).
async fn fetch(fixture: &Fixture, remote: &str, out: &Path, blksize: Option<u32>) -> Option<bool> {
    let mut command = tokio::process::Command::new("busybox");
    command.args(["tftp", "-g", "-r", remote, "-l"]).arg(out);
    if let Some(blksize) = blksize {
        command.args(["-b", &blksize.to_string()]);
    }
    command
        .arg(fixture.addr.ip().to_string())
        .arg(fixture.addr.port().to_string());
    command.stdin(Stdio::null()).kill_on_drop(true);
    match command.output().await {
        Ok(output) => {
            if !output.status.success() {
                eprintln!("busybox tftp: {}", String::from_utf8_lossy(&output.stderr));
            }
            Some(output.status.success())
        }
        Err(error) => {
            eprintln!("SKIP: busybox not runnable: {error}");
            None
        }
    }
}

#[tokio::test]
async fn busybox_fetches_small_exact_and_empty_files() {
    let fixture = start(|_| {}).await;
    let out = tempfile::tempdir().unwrap();
    for (name, blksize) in [
        ("small.bin", None),
        ("exact.bin", None),
        ("empty.bin", None),
        ("small.bin", Some(1432)),
        ("sub/inner.bin", Some(64)),
    ] {
        let local = out.path().join("got");
        let Some(ok) = fetch(&fixture, name, &local, blksize).await else {
            return;
        };
        assert!(ok, "{name} blksize {blksize:?}");
        assert_eq!(
            read(&local),
            read(&fixture.root.path().join(name)),
            "{name}"
        );
    }
    // The server counts a transfer when the final ACK arrives, which may be after busybox exits.
    wait_for(|| fixture.stats.transfers_done() == 5).await;
    assert_eq!(fixture.stats.bytes_sent(), 1500 + 1024 + 1500 + 700);
}

#[tokio::test]
async fn busybox_fetches_a_file_past_65535_blocks() {
    let fixture = start(|_| {}).await;
    // 40 MB at 512-byte blocks is 78,126 blocks: the block number wraps once.
    let big = content(40_000_000, 7);
    std::fs::write(fixture.root.path().join("big.bin"), &big).unwrap();
    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("big.bin");
    let Some(ok) = fetch(&fixture, "big.bin", &local, None).await else {
        return;
    };
    assert!(ok);
    assert!(read(&local) == big, "content differs");
    wait_for(|| fixture.stats.bytes_sent() == 40_000_000).await;
}

#[tokio::test]
async fn busybox_fetches_debian_undionly() {
    let real = Path::new("/usr/lib/ipxe/undionly.kpxe");
    if !real.is_file() {
        eprintln!("SKIP: {} missing (apt-get install ipxe)", real.display());
        return;
    }
    let fixture = super::start_in(tempfile::tempdir().unwrap(), |config| {
        config.root = "/usr/lib/ipxe".into();
    })
    .await;
    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("undionly.kpxe");
    let Some(ok) = fetch(&fixture, "undionly.kpxe", &local, Some(1432)).await else {
        return;
    };
    assert!(ok);
    assert!(read(&local) == read(real), "undionly.kpxe differs");
}

/// Debian's `/usr/lib/ipxe/ipxe.efi` is a symlink to `/boot/ipxe.efi`: refused by default,
/// served once the operator allows symlinks out of the root.
#[tokio::test]
async fn debian_ipxe_efi_needs_symlinks_out_of_the_root() {
    let link = Path::new("/usr/lib/ipxe/ipxe.efi");
    let target_outside = std::fs::canonicalize(link)
        .map(|target| !target.starts_with("/usr/lib/ipxe"))
        .unwrap_or(false);
    if !target_outside {
        eprintln!(
            "SKIP: {} missing or not a symlink out of its directory",
            link.display()
        );
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let local = out.path().join("ipxe.efi");
    for allow in [false, true] {
        let fixture = super::start_in(tempfile::tempdir().unwrap(), |config| {
            config.root = "/usr/lib/ipxe".into();
            config.allow_symlinks_out_of_root = allow;
        })
        .await;
        let Some(ok) = fetch(&fixture, "ipxe.efi", &local, Some(1432)).await else {
            return;
        };
        assert_eq!(ok, allow, "allow_symlinks_out_of_root = {allow}");
        if allow {
            assert!(read(&local) == read(link), "ipxe.efi differs");
        } else {
            assert_eq!(fixture.stats.requests_refused(), 1);
        }
    }
}
