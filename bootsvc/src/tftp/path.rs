//! Confining a requested file name to the TFTP root.
//!
//! The name is taken relative to the root (leading `/` stripped, `\` read as `/` for DOS-style
//! clients), `..` is refused outright, and the resolved path is canonicalized so a symlink that
//! leads outside the root is refused too, unless the operator allowed that (Debian's
//! `/usr/lib/ipxe/ipxe.efi` is a symlink to `/boot/ipxe.efi`). Only regular files are served.

use std::io;
use std::path::{Component, Path, PathBuf};

use super::packet::ErrorCode;

/// Why a name cannot be served: the error code and message sent to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The TFTP error code.
    pub code: ErrorCode,
    /// The message, safe to send (it never echoes paths outside the root).
    pub message: String,
}

impl Denied {
    fn access(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::AccessViolation,
            message: message.into(),
        }
    }
}

/// The requested name as a relative path with only normal components.
pub fn relative(filename: &[u8]) -> Result<PathBuf, Denied> {
    let name = std::str::from_utf8(filename)
        .map_err(|_| Denied::access("file name is not valid UTF-8"))?;
    let mut relative = PathBuf::new();
    for part in name.split(['/', '\\']) {
        match Path::new(part).components().next() {
            None | Some(Component::CurDir) => {}
            Some(Component::Normal(part)) => relative.push(part),
            Some(Component::ParentDir) => {
                return Err(Denied::access("\"..\" is not allowed in file names"));
            }
            Some(Component::RootDir | Component::Prefix(_)) => {
                return Err(Denied::access("file name is not a plain path"));
            }
        }
    }
    if relative.as_os_str().is_empty() {
        return Err(Denied::access("file name names no file"));
    }
    Ok(relative)
}

/// Resolve `filename` under the canonical `root` and open it for reading; returns the file and
/// its size.
pub async fn open(
    root: &Path,
    filename: &[u8],
    allow_symlinks_out: bool,
) -> Result<(tokio::fs::File, u64), Denied> {
    let relative = relative(filename)?;
    let shown = relative.display().to_string();
    let joined = root.join(&relative);
    let resolved = tokio::fs::canonicalize(&joined)
        .await
        .map_err(|e| not_found(&shown, &e))?;
    if !allow_symlinks_out && !resolved.starts_with(root) {
        return Err(Denied::access(format!(
            "{shown} leads outside the TFTP root"
        )));
    }
    let file = tokio::fs::File::open(&resolved)
        .await
        .map_err(|e| not_found(&shown, &e))?;
    // Checked on the open file, so a swap between canonicalize and open cannot sneak in a
    // device or directory.
    let metadata = file.metadata().await.map_err(|e| not_found(&shown, &e))?;
    if !metadata.is_file() {
        return Err(Denied::access(format!("{shown} is not a regular file")));
    }
    Ok((file, metadata.len()))
}

fn not_found(shown: &str, error: &io::Error) -> Denied {
    match error.kind() {
        io::ErrorKind::PermissionDenied => Denied::access(format!("{shown}: permission denied")),
        _ => Denied {
            code: ErrorCode::FileNotFound,
            message: format!("{shown}: file not found"),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn names_are_made_relative() {
        assert_eq!(
            relative(b"undionly.kpxe").unwrap(),
            PathBuf::from("undionly.kpxe")
        );
        assert_eq!(
            relative(b"/efi//x86/./ipxe.efi").unwrap(),
            PathBuf::from("efi/x86/ipxe.efi")
        );
        assert_eq!(
            relative(b"\\boot\\pxelinux.0").unwrap(),
            PathBuf::from("boot/pxelinux.0")
        );
        assert_eq!(
            relative(b"/etc/passwd").unwrap(),
            PathBuf::from("etc/passwd")
        );
    }

    #[test]
    fn escapes_are_refused() {
        for name in [
            &b"../etc/passwd"[..],
            b"a/../../b",
            b"..",
            b"/",
            b".",
            b"\xff\xfe",
            b"a\\..\\b",
        ] {
            let denied = relative(name).unwrap_err();
            assert_eq!(denied.code, ErrorCode::AccessViolation, "{name:?}");
        }
    }
}
