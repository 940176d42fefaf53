//! [`BootError`], the one error of boot serving, and its one HTTP mapping.
//!
//! Every error answers an RFC 7807 problem (`application/problem+json`), BSS's error shape on
//! `/boot/v1/bootscript` too: iPXE shows only the status, people with curl read the detail.

use std::net::IpAddr;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use cairn_protocols::{FieldError, Problem};

use crate::ipxe::Unrenderable;
use crate::source::SourceError;

/// Why a boot or cloud-init request failed.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// A bootscript request named no node (BSS's exact message).
    #[error("Need a mac=, name=, or nid= parameter")]
    MissingSelector,
    /// A query parameter, path segment or form field is malformed (400), or too large (413).
    #[error(transparent)]
    BadInput(#[from] FieldError),
    /// Nothing to serve (404); the message says what is missing.
    #[error("{0}")]
    NotFound(String),
    /// The request's source address belongs to no node in the inventory (422, as OpenCHAMI's
    /// cloud-init server answers).
    #[error("no node in the inventory has address {0}")]
    UnknownAddress(IpAddr),
    /// The server does not know the connection's peer address: the host service must serve
    /// the router with `into_make_service_with_connect_info::<SocketAddr>()` (500).
    #[error("the connection's peer address is unavailable (serve with connect info)")]
    NoPeerAddress,
    /// Stored data failed its render-time check (500); names the record.
    #[error("{what} cannot be rendered: {reason}")]
    Unrenderable {
        /// The record, e.g. `boot parameters of Compute`.
        what: String,
        /// The failed check.
        reason: Unrenderable,
    },
    /// Stored cloud-init data failed its render-time check (500).
    #[error("{what} is invalid: {reason}")]
    BadStoredData {
        /// The record, e.g. `group compute`.
        what: String,
        /// The failed check.
        reason: FieldError,
    },
    /// YAML output failed (500).
    #[error("rendering YAML failed")]
    Yaml(#[source] serde_yaml_ng::Error),
    /// The [`crate::BootSource`] failed (503 when it says so, else 500).
    #[error(transparent)]
    Source(#[from] SourceError),
}

impl BootError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            BootError::MissingSelector => StatusCode::BAD_REQUEST,
            BootError::BadInput(e) if e.too_large => StatusCode::PAYLOAD_TOO_LARGE,
            BootError::BadInput(_) => StatusCode::BAD_REQUEST,
            BootError::NotFound(_) => StatusCode::NOT_FOUND,
            BootError::UnknownAddress(_) => StatusCode::UNPROCESSABLE_ENTITY,
            BootError::Source(SourceError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            BootError::NoPeerAddress
            | BootError::Unrenderable { .. }
            | BootError::BadStoredData { .. }
            | BootError::Yaml(_)
            | BootError::Source(SourceError::Internal(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for BootError {
    fn into_response(self) -> Response {
        let status = self.status();
        // Server-side faults are logged with their whole chain here, once; the client gets
        // the top-level message only.
        if status.is_server_error() {
            tracing::error!(error = %ErrorChain(&self), "boot request failed");
        } else {
            tracing::debug!(error = %self, status = status.as_u16(), "boot request refused");
        }
        problem_response(status, self.to_string())
    }
}

/// An RFC 7807 problem+json response.
pub(crate) fn problem_response(status: StatusCode, detail: String) -> Response {
    let problem = Problem::new(status.as_u16(), detail);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

/// Displays an error and its sources, `: `-separated.
pub(crate) struct ErrorChain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}
