//! Extractors that turn every malformed request into an [`ApiError`] naming what is wrong.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// `axum::Json` whose rejections become problem bodies (400 naming the field, 413 for size).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge(format!(
            "request body is larger than the {} MiB limit",
            super::BODY_LIMIT >> 20
        ));
    }
    match r {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::BadRequest("expected a JSON body with Content-Type: application/json".into())
        }
        // axum's text carries serde's path to the bad field ("Components[0].ID: ...").
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// A path parameter, with rejections as problem bodies.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|r: PathRejection| ApiError::BadRequest(r.body_text()))
    }
}

/// The query string as ordered pairs: SMD repeats keys (`id=a&id=b`), which plain
/// `axum::extract::Query` cannot express.
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    /// Borrowed pairs for the filter parsers.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether the caller asked for a local, possibly stale read.
    pub fn stale(&self) -> bool {
        self.0
            .iter()
            .any(|(k, v)| k == "stale" && (v == "true" || v == "1"))
    }

    /// Every value of `key`.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        Ok(QueryPairs(
            form_urlencoded::parse(q.as_bytes()).into_owned().collect(),
        ))
    }
}

/// Read consistency: linearizable unless the query says `stale=true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// Sees every write acknowledged before the request.
    Linearizable,
    /// This replica's applied state, without a round trip to the leader.
    Stale,
}

impl<S: Send + Sync> FromRequestParts<S> for ReadMode {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let pairs = QueryPairs::from_request_parts(parts, state).await?;
        Ok(if pairs.stale() {
            ReadMode::Stale
        } else {
            ReadMode::Linearizable
        })
    }
}
