//! One fill: download an image from its origin into a temporary file, hashing as it is
//! written, and check its size and digest before anyone may see it.

use std::path::{Path, PathBuf};

use axum::http::HeaderMap;
use base64::Engine as _;
use tokio::io::{AsyncWriteExt as _, BufWriter};

use super::reference::hex;
use super::{ImageError, ImageRef};

/// Write buffer: large writes keep the blocking-pool round trips of `tokio::fs` few.
const WRITE_BUFFER: usize = 1 << 20;

/// A verified download, still in its temporary file.
pub(super) struct Fetched {
    /// The temporary file, removed unless persisted.
    pub tmp: TempFile,
    /// The body's SHA-256.
    pub sha256: [u8; 32],
    /// The body's size.
    pub size: u64,
}

/// A file removed when dropped unless [`TempFile::persist`] renamed it: a failed or
/// abandoned fill leaves nothing behind.
pub(super) struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl TempFile {
    /// Renames the file to `to` (atomically replacing it: same name, same content).
    pub fn persist(mut self, to: &Path) -> Result<(), ImageError> {
        std::fs::rename(&self.path, to).map_err(ImageError::io(format!(
            "renaming {} to {}",
            self.path.display(),
            to.display()
        )))?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Downloads `image` into a new file at `tmp_path` and checks it: the size against
/// `Content-Length` and the expected size, the digest against the expected one and the
/// response's `Repr-Digest` (RFC 9530). The file is synced before this returns.
pub(super) async fn fetch(
    client: &reqwest::Client,
    image: &ImageRef,
    tmp_path: PathBuf,
    max_bytes: u64,
) -> Result<Fetched, ImageError> {
    let url = image.display_url();
    let mut resp = client
        .get(&image.url)
        .send()
        .await
        .map_err(|e| ImageError::transport(&url, e))?;
    if !resp.status().is_success() {
        return Err(ImageError::OriginStatus {
            url,
            status: resp.status().as_u16(),
        });
    }
    let announced = resp.content_length();
    let limits = Limits {
        url: &url,
        expected: image.size,
        announced,
        max_bytes,
    };
    if let Some(n) = announced {
        limits.check_announced(n)?;
    }
    let header_digest = repr_digest(resp.headers(), &url);

    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp_path)
        .await
        .map_err(ImageError::io(format!("creating {}", tmp_path.display())))?;
    let tmp = TempFile {
        path: tmp_path,
        kept: false,
    };
    let write_err = || ImageError::io(format!("writing {}", tmp.path.display()));
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
    let mut size: u64 = 0;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ImageError::transport(&url, e))?
    {
        size = size.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        limits.check_running(size)?;
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(write_err())?;
    }
    out.flush().await.map_err(write_err())?;
    out.into_inner().sync_all().await.map_err(write_err())?;

    limits.check_final(size)?;
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(hasher.finish().as_ref());
    for (what, expected) in [
        ("the desired state", image.sha256),
        ("Repr-Digest", header_digest),
    ] {
        if let Some(expected) = expected.filter(|d| *d != sha256) {
            return Err(ImageError::DigestMismatch {
                url,
                what,
                expected: hex(&expected),
                actual: hex(&sha256),
            });
        }
    }
    Ok(Fetched { tmp, sha256, size })
}

/// The sizes a body must respect.
struct Limits<'a> {
    url: &'a str,
    expected: Option<u64>,
    announced: Option<u64>,
    max_bytes: u64,
}

impl Limits<'_> {
    fn mismatch(&self, what: &'static str, expected: u64, actual: u64) -> ImageError {
        ImageError::SizeMismatch {
            url: self.url.to_owned(),
            what,
            expected,
            actual,
        }
    }

    fn too_large(&self) -> ImageError {
        ImageError::TooLarge {
            url: self.url.to_owned(),
            max: self.max_bytes,
        }
    }

    /// Before the body: refuse at once what cannot end well.
    fn check_announced(&self, announced: u64) -> Result<(), ImageError> {
        if let Some(e) = self.expected.filter(|e| *e != announced) {
            return Err(self.mismatch("the desired state", e, announced));
        }
        if announced > self.max_bytes {
            return Err(self.too_large());
        }
        Ok(())
    }

    /// During the body: stop as soon as it is too long.
    fn check_running(&self, size: u64) -> Result<(), ImageError> {
        if let Some(e) = self.expected.filter(|e| size > *e) {
            return Err(self.mismatch("the desired state", e, size));
        }
        if let Some(a) = self.announced.filter(|a| size > *a) {
            return Err(self.mismatch("Content-Length", a, size));
        }
        if size > self.max_bytes {
            return Err(self.too_large());
        }
        Ok(())
    }

    /// After the body: it must be exactly as long as announced and expected.
    fn check_final(&self, size: u64) -> Result<(), ImageError> {
        if let Some(a) = self.announced.filter(|a| size != *a) {
            return Err(self.mismatch("Content-Length", a, size));
        }
        if let Some(e) = self.expected.filter(|e| size != *e) {
            return Err(self.mismatch("the desired state", e, size));
        }
        Ok(())
    }
}

/// The `sha-256` member of the response's `Repr-Digest` (RFC 9530:
/// `Repr-Digest: sha-256=:<base64>:`), if it has one that parses. The response body is the
/// representation here: the client asks for no content coding. An unreadable header is
/// logged and ignored, as the RFC allows; the desired state's digest, when given, still holds.
fn repr_digest(headers: &HeaderMap, url: &str) -> Option<[u8; 32]> {
    for value in headers.get_all("repr-digest") {
        let Ok(text) = value.to_str() else {
            tracing::warn!(url, "ignoring a Repr-Digest header that is not ASCII");
            continue;
        };
        for member in text.split(',') {
            let Some((alg, rest)) = member.trim().split_once('=') else {
                continue;
            };
            if !alg.trim().eq_ignore_ascii_case("sha-256") {
                continue;
            }
            let item = rest.split(';').next().unwrap_or_default().trim();
            let decoded = item
                .strip_prefix(':')
                .and_then(|s| s.strip_suffix(':'))
                .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
            match decoded {
                Some(d) => return Some(d),
                None => tracing::warn!(url, value = text, "ignoring an unreadable Repr-Digest"),
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_digest_reads_the_sha256_member() {
        let d = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        let mut h = HeaderMap::new();
        h.insert(
            "repr-digest",
            format!("sha-512=:AAAA:, sha-256=:{d}:").parse().unwrap(),
        );
        assert_eq!(repr_digest(&h, "u"), Some([9; 32]));
        h.insert("repr-digest", "sha-256=:notbase64!:".parse().unwrap());
        assert_eq!(repr_digest(&h, "u"), None);
        assert_eq!(repr_digest(&HeaderMap::new(), "u"), None);
    }

    #[test]
    fn limits_name_what_was_exceeded() {
        let l = Limits {
            url: "u",
            expected: Some(10),
            announced: None,
            max_bytes: 100,
        };
        assert!(l.check_announced(10).is_ok());
        assert!(matches!(
            l.check_announced(11),
            Err(ImageError::SizeMismatch {
                what: "the desired state",
                ..
            })
        ));
        assert!(matches!(
            l.check_running(11),
            Err(ImageError::SizeMismatch { .. })
        ));
        assert!(matches!(
            l.check_final(9),
            Err(ImageError::SizeMismatch { .. })
        ));
        let l = Limits {
            expected: None,
            ..l
        };
        assert!(matches!(
            l.check_running(101),
            Err(ImageError::TooLarge { .. })
        ));
    }
}
