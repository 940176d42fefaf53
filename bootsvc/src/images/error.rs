//! [`ImageError`]: why an image could not be named, fetched or served, and its HTTP mapping
//! (RFC 7807 problems, as the rest of boot serving answers).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::ImageId;

/// Why an image could not be named, fetched or served.
///
/// URLs in messages have their credentials removed: messages go to clients and logs.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// An origin URL that the cache cannot fetch (400).
    #[error("image URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given (credentials removed when it parsed).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The id names no image of the desired state: the cache fetches nothing else (404).
    #[error("image {0} is not named by the desired state")]
    NotWanted(ImageId),
    /// The origin could not be reached or broke off the transfer (502).
    #[error("fetching {url} failed: {reason}")]
    Unreachable {
        /// The origin URL.
        url: String,
        /// The transport error, with its causes.
        reason: String,
    },
    /// The origin did not answer in time, per the HTTP client's timeouts (504).
    #[error("fetching {url} timed out: {reason}")]
    Timeout {
        /// The origin URL.
        url: String,
        /// The transport error, with its causes.
        reason: String,
    },
    /// The origin answered with an error status (502).
    #[error("fetching {url}: the origin answered {status}")]
    OriginStatus {
        /// The origin URL.
        url: String,
        /// Its status code.
        status: u16,
    },
    /// The body's length is not the one announced or expected (502); nothing was kept.
    #[error("fetching {url}: expected {expected} bytes ({what}), got {actual}")]
    SizeMismatch {
        /// The origin URL.
        url: String,
        /// Where the expectation comes from: `Content-Length` or `the desired state`.
        what: &'static str,
        /// The expected size.
        expected: u64,
        /// The size announced or received (so far, when the body ran past the expected size).
        actual: u64,
    },
    /// The body's SHA-256 is not the one expected (502); nothing was kept.
    #[error("fetching {url}: expected sha256 {expected} ({what}), got sha256 {actual}")]
    DigestMismatch {
        /// The origin URL.
        url: String,
        /// Where the expectation comes from: `Repr-Digest` or `the desired state`.
        what: &'static str,
        /// The expected digest, hex.
        expected: String,
        /// The body's digest, hex.
        actual: String,
    },
    /// The image is larger than the whole cache may hold (502); nothing was kept.
    #[error("fetching {url}: the image is larger than the cache's limit of {max} bytes")]
    TooLarge {
        /// The origin URL.
        url: String,
        /// The cache's `max_bytes`.
        max: u64,
    },
    /// A file operation of the cache failed (500).
    #[error("{what}")]
    Io {
        /// The operation and file.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The persistent index failed (500).
    #[error("the image index failed")]
    Index(#[from] sled::Error),
    /// The fill task ended without a result (500); the next request starts a new fill.
    #[error("the fill of image {0} ended without a result")]
    Aborted(ImageId),
}

impl ImageError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ImageError::InvalidUrl { .. } => StatusCode::BAD_REQUEST,
            ImageError::NotWanted(_) => StatusCode::NOT_FOUND,
            ImageError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ImageError::Unreachable { .. }
            | ImageError::OriginStatus { .. }
            | ImageError::SizeMismatch { .. }
            | ImageError::DigestMismatch { .. }
            | ImageError::TooLarge { .. } => StatusCode::BAD_GATEWAY,
            ImageError::Io { .. } | ImageError::Index(_) | ImageError::Aborted(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// A transport error of the HTTP client while fetching `url`.
    pub(super) fn transport(url: &str, e: reqwest::Error) -> Self {
        let timeout = e.is_timeout();
        let reason = chain(&e.without_url());
        let url = url.to_owned();
        if timeout {
            ImageError::Timeout { url, reason }
        } else {
            ImageError::Unreachable { url, reason }
        }
    }

    /// A failed file operation, described by `what`.
    pub(super) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| ImageError::Io { what, source }
    }

    /// The problem response for this error; one error can answer many waiters of one fill.
    pub fn to_response(&self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // Fill failures were logged by the fill, once; this is one client's answer.
            tracing::debug!(error = %chain(self), status = status.as_u16(), "image request failed");
        } else {
            tracing::debug!(error = %self, status = status.as_u16(), "image request refused");
        }
        crate::error::problem_response(status, self.to_string())
    }
}

impl IntoResponse for ImageError {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

/// An error and its sources, `: `-separated.
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    crate::error::ErrorChain(e).to_string()
}
