//! Why a simulator could not be configured or started.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Errors from building a [`crate::SimConfig`], loading a [`crate::Mockup`] or [`crate::start`].
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration is inconsistent (the message names the setting).
    #[error("invalid simulator configuration: {0}")]
    Config(String),
    /// A BMC's listener could not be bound.
    #[error(
        "cannot listen on {addr} (on Linux all of 127.0.0.0/8 is on lo; elsewhere add the address first)"
    )]
    Bind {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A mockup directory or file could not be read.
    #[error("cannot read mockup {path}")]
    MockupIo {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A mockup file is not JSON.
    #[error("mockup file {path} is not valid JSON")]
    MockupJson {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A mockup directory lacks the service root (`index.json` at its top).
    #[error("mockup {0} has no service root (index.json at its top)")]
    MockupNoRoot(PathBuf),
    /// Generating or loading the TLS certificates failed.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}
