//! Why a virtual node's boot failed, and at which step.

use std::fmt;

use cairn_protocols::MacAddr;

/// The steps of a boot, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// DHCPDISCOVER until an OFFER.
    Discover,
    /// DHCPREQUEST until an ACK.
    Request,
    /// Connecting from the leased address and `GET` of the boot script.
    Bootscript,
    /// `GET /cloud-init/meta-data`.
    MetaData,
    /// `GET /cloud-init/user-data`.
    UserData,
    /// `GET /cloud-init/vendor-data`.
    VendorData,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Discover => "DHCP discover",
            Step::Request => "DHCP request",
            Step::Bootscript => "bootscript",
            Step::MetaData => "meta-data",
            Step::UserData => "user-data",
            Step::VendorData => "vendor-data",
        })
    }
}

/// What went wrong in a step.
#[derive(Debug, thiserror::Error)]
pub enum FailReason {
    /// The boot's time ran out during the step. For DHCP, `ignored` is the last reply that
    /// arrived but did not count (wrong type, missing server identifier, undecodable), which
    /// usually explains the timeout.
    #[error("timed out{}", ignored.as_deref().map(|i| format!(" (last reply ignored: {i})")).unwrap_or_default())]
    Timeout {
        /// Why the last reply received was not taken.
        ignored: Option<String>,
    },
    /// A socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// The server refused the request (DHCPNAK), with its message (option 56) if any.
    #[error("DHCPNAK{}", if .0.is_empty() { String::new() } else { format!(": {}", .0) })]
    Nak(String),
    /// An answer the node cannot use (no address offered, no usable boot file, not a script).
    #[error("{0}")]
    Protocol(String),
    /// An HTTP status other than the ones the step accepts.
    #[error("GET {path} answered {status}")]
    Status {
        /// The request's path and query.
        path: String,
        /// The status code.
        status: u16,
    },
    /// The HTTP exchange failed (connection closed, malformed response, body too large).
    #[error("HTTP: {0}")]
    Http(String),
}

/// A failed boot: which node, at which step, why.
#[derive(Debug, thiserror::Error)]
#[error("node {mac}: {step}: {reason}")]
pub struct NodeError {
    /// The node.
    pub mac: MacAddr,
    /// The step that failed (the later steps did not run).
    pub step: Step,
    /// Why.
    #[source]
    pub reason: FailReason,
}
