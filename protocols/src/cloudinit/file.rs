//! Group files: `{content, filename, encoding}` with the content decoded once, on the way in.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How [`CloudConfigFile::content`] travels in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileEncoding {
    /// The text as is (the default when `encoding` is absent).
    #[default]
    Plain,
    /// Standard base64 of the UTF-8 text.
    Base64,
}

/// `cistore.CloudConfigFile`: `{content, filename, encoding}`.
///
/// `content` holds the decoded text; JSON carries it in `encoding` (base64 input is returned
/// as base64), so a record round-trips unchanged through the API and the Raft log.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "FileWire", into = "FileWire")]
pub struct CloudConfigFile {
    /// The file's text, decoded.
    pub content: String,
    /// A file name (informational).
    pub filename: String,
    /// How `content` is encoded in JSON.
    pub encoding: FileEncoding,
}

#[derive(Serialize, Deserialize)]
struct FileWire {
    #[serde(default)]
    content: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    filename: String,
    #[serde(default, deserialize_with = "crate::json::null_as_default")]
    encoding: FileEncoding,
}

impl TryFrom<FileWire> for CloudConfigFile {
    type Error = String;

    fn try_from(w: FileWire) -> Result<Self, Self::Error> {
        let content = match w.encoding {
            FileEncoding::Plain => w.content,
            FileEncoding::Base64 => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(w.content.trim())
                    .map_err(|e| format!("content: invalid base64: {e}"))?;
                String::from_utf8(bytes)
                    .map_err(|_| "content: the decoded file is not UTF-8 text".to_owned())?
            }
        };
        Ok(CloudConfigFile {
            content,
            filename: w.filename,
            encoding: w.encoding,
        })
    }
}

impl From<CloudConfigFile> for FileWire {
    fn from(f: CloudConfigFile) -> Self {
        let content = match f.encoding {
            FileEncoding::Plain => f.content,
            FileEncoding::Base64 => base64::engine::general_purpose::STANDARD.encode(f.content),
        };
        FileWire {
            content,
            filename: f.filename,
            encoding: f.encoding,
        }
    }
}
