//! [`ImageRef`] and [`ImageId`]: which images exist for the cache, and how they are named in
//! URLs.

use std::fmt;

use reqwest::Url;

use super::ImageError;
use super::index::Entry;

/// The fragment key giving an image's digest in its URL, as pip's `#sha256=`.
const DIGEST_FRAGMENT: &str = "sha256=";

/// The longest file name kept in a local path: the name is only for people reading logs.
const MAX_NAME_LEN: usize = 100;

/// One image the desired state names: its origin URL (http or https), with the size and
/// SHA-256 it must have when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The URL fetched: normalized, without a fragment.
    pub url: String,
    /// The expected size in bytes.
    pub size: Option<u64>,
    /// The expected SHA-256 of the body.
    pub sha256: Option<[u8; 32]>,
}

impl ImageRef {
    /// Parses an origin URL; a `#sha256=<64 hex>` fragment (as pip uses) gives the digest and
    /// is stripped from the URL fetched. Only http and https URLs with a host are accepted.
    pub fn parse(url: &str) -> Result<ImageRef, ImageError> {
        let bad = |reason: String| ImageError::InvalidUrl {
            url: redact(url),
            reason,
        };
        let mut parsed = Url::parse(url).map_err(|e| bad(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad(format!(
                "scheme {:?} is not served from the image cache: use http or https",
                parsed.scheme()
            )));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(bad("the URL has no host".into()));
        }
        let sha256 = match parsed.fragment() {
            None => None,
            Some(f) => {
                let digest = f
                    .strip_prefix(DIGEST_FRAGMENT)
                    .and_then(parse_hex::<32>)
                    .ok_or_else(|| {
                        bad(format!(
                            "the fragment {f:?} is not {DIGEST_FRAGMENT}<64 hex digits>"
                        ))
                    })?;
                Some(digest)
            }
        };
        parsed.set_fragment(None);
        Ok(ImageRef {
            url: parsed.into(),
            size: None,
            sha256,
        })
    }

    /// The id this image is served under.
    pub fn id(&self) -> ImageId {
        ImageId::of(&self.url)
    }

    /// Whether a cached copy with this record is this image.
    pub(super) fn accepts(&self, entry: &Entry) -> bool {
        self.size.is_none_or(|s| s == entry.size) && self.sha256.is_none_or(|d| d == entry.sha256)
    }

    /// The URL without credentials, for messages and logs.
    pub(super) fn display_url(&self) -> String {
        redact(&self.url)
    }

    /// A file name for the local path: the URL's last path segment, reduced to characters
    /// that need no escaping anywhere (the iPXE script, a shell, a log).
    pub(super) fn file_name(&self) -> String {
        let last = Url::parse(&self.url)
            .ok()
            .and_then(|u| {
                u.path_segments()
                    .and_then(|mut s| s.rfind(|p| !p.is_empty()).map(str::to_owned))
            })
            .unwrap_or_default();
        let mut name: String = last
            .chars()
            .take(MAX_NAME_LEN)
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '~') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // `.` and `..` would be resolved away by the client; a leading dot hides nothing
        // worth keeping.
        if name.is_empty() || name.starts_with('.') {
            name.insert_str(0, "image");
        }
        name
    }
}

/// What an image is served under: the first 16 bytes of the SHA-256 of its URL, shown as 32
/// hex digits. It names the URL, not the content, so it is known before the first fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageId(pub [u8; 16]);

impl ImageId {
    /// The id of the image at this (normalized, fragment-less) URL.
    pub fn of(url: &str) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, url.as_bytes());
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest.as_ref()[..16]);
        ImageId(id)
    }

    /// Parses 32 hex digits.
    pub fn parse(s: &str) -> Option<Self> {
        parse_hex::<16>(s).map(ImageId)
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Exactly `2 * N` hex digits (either case) as bytes.
pub(crate) fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// `url` without user name and password.
pub(crate) fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.into()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_strips_the_digest_fragment() {
        let d = "ab".repeat(32);
        let r = ImageRef::parse(&format!("HTTP://Example.COM/a/vmlinuz#sha256={d}")).unwrap();
        assert_eq!(r.url, "http://example.com/a/vmlinuz");
        assert_eq!(r.sha256, Some([0xab; 32]));
        assert_eq!(
            r.id(),
            ImageRef::parse("http://example.com/a/vmlinuz")
                .unwrap()
                .id()
        );
        assert_eq!(r.file_name(), "vmlinuz");
        for bad in [
            "tftp://h/k",
            "/boot/k",
            "http://h/k#sha256=12",
            "http://h/k#md5=00",
            "file:///etc/passwd",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn file_names_need_no_escaping() {
        let name = |u: &str| ImageRef::parse(u).unwrap().file_name();
        assert_eq!(name("http://h/"), "image");
        assert_eq!(name("http://h/a/..%2f/"), "image.._2f");
        assert_eq!(name("http://h/a b;c/"), "a_20b_c");
        assert_eq!(name("http://h/k?x=1"), "k");
    }

    #[test]
    fn ids_and_hex_round_trip() {
        let id = ImageId::of("http://h/k");
        assert_eq!(ImageId::parse(&id.to_string()), Some(id));
        assert_eq!(ImageId::parse(&id.to_string().to_uppercase()), Some(id));
        assert_eq!(ImageId::parse("zz"), None);
        assert_eq!(redact("http://u:p@h/k"), "http://h/k");
    }
}
