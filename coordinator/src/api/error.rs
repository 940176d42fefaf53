//! The API's one error type and its one mapping to HTTP: RFC 7807 problem bodies, as SMD.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_protocols::Problem;

use crate::inventory::{ApplyError, FilterError};

/// Every way a request can fail. Handlers return `Result<_, ApiError>`; logging happens in the
/// trace middleware, not here.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: bad JSON, bad xname, wrong type... The text names the field.
    #[error("{0}")]
    BadRequest(String),
    /// The named record does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with an existing record.
    #[error("{0}")]
    Conflict(String),
    /// The path exists, but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body is larger than the API accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// No quorum or no leader right now: retry later.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or a storage failure.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let problem = Problem::new(status.as_u16(), self.to_string());
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        resp
    }
}

impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::NotFound(m) => ApiError::NotFound(m),
            ApplyError::Conflict(m) => ApiError::Conflict(m),
            ApplyError::Invalid(m) => ApiError::BadRequest(m),
        }
    }
}

impl From<FilterError> for ApiError {
    fn from(e: FilterError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<cairn_protocols::XnameError> for ApiError {
    fn from(e: cairn_protocols::XnameError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<cairn_protocols::MacError> for ApiError {
    fn from(e: cairn_protocols::MacError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<cairn_protocols::FieldError> for ApiError {
    fn from(e: cairn_protocols::FieldError) -> Self {
        if e.too_large {
            ApiError::PayloadTooLarge(e.to_string())
        } else {
            ApiError::BadRequest(e.to_string())
        }
    }
}
