//! What can go wrong talking to a BMC, and which SMD discovery status each failure stands for.

use std::error::Error as _;
use std::time::Duration;

use cairn_protocols::DiscoveryStatus;

use super::address::AddressError;
use super::tls::TlsSetupError;

/// A Redfish request failed. Display names the request (`GET /redfish/v1/Systems`) and the
/// kind of failure; [`RedfishError::detail`] adds the underlying causes.
#[derive(Debug, thiserror::Error)]
pub enum RedfishError {
    /// TCP connect (or DNS) failed: refused, unreachable, no route.
    #[error("{request}: cannot connect")]
    Connect {
        /// Method and path.
        request: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// No complete answer in time.
    #[error("{request}: no answer within {} ms", .after.as_millis())]
    Timeout {
        /// Method and path.
        request: String,
        /// The limit that ran out.
        after: Duration,
    },
    /// The connection failed after it was opened: TLS refused, reset, closed mid-answer.
    #[error("{request}: connection failed")]
    Transport {
        /// Method and path.
        request: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// 401 or 403: the BMC refused the credentials (Basic, then a session login, were tried).
    #[error("{request}: credentials refused (HTTP {status}){}", if *.configured { "" } else { "; no credentials are configured" })]
    Unauthorized {
        /// Method and path.
        request: String,
        /// 401 or 403.
        status: u16,
        /// Whether any credentials were sent.
        configured: bool,
    },
    /// Any other non-success HTTP status.
    #[error("{request}: HTTP {status}{}", .message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Status {
        /// Method and path.
        request: String,
        /// The status code.
        status: u16,
        /// The Redfish error message of the body, if any.
        message: Option<String>,
    },
    /// The body exceeded the configured limit.
    #[error("{request}: response larger than {limit} bytes")]
    TooLarge {
        /// Method and path.
        request: String,
        /// The limit.
        limit: usize,
    },
    /// The body is not the JSON expected.
    #[error("{request}: malformed JSON")]
    Decode {
        /// Method and path.
        request: String,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// A link points somewhere it cannot be followed.
    #[error("{request}: bad link ({reason})")]
    Link {
        /// Method and the link.
        request: String,
        /// Why.
        reason: String,
    },
    /// The BMC's address does not form a URL.
    #[error("bad BMC address")]
    Address(#[source] AddressError),
    /// The CA file is unusable.
    #[error("cannot set up TLS")]
    Tls(#[source] TlsSetupError),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
}

impl RedfishError {
    /// The discovery status a crawl failing with this error is recorded with.
    pub fn discovery_status(&self) -> DiscoveryStatus {
        match self {
            RedfishError::Decode { .. } => DiscoveryStatus::EpResponseFailedDecode,
            RedfishError::Link { .. } => DiscoveryStatus::ChildVerificationFailed,
            _ => DiscoveryStatus::HttpsGetFailed,
        }
    }

    /// Whether the resource does not exist (404), which some optional links tolerate.
    pub fn is_not_found(&self) -> bool {
        matches!(self, RedfishError::Status { status: 404, .. })
    }

    /// The message with every underlying cause, for logs and `DiscoveryInfo` details.
    pub fn detail(&self) -> String {
        let mut text = self.to_string();
        let mut source = self.source();
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            // reqwest repeats the URL in its outer message; the inner causes say what happened.
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        text
    }
}
