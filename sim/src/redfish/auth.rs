//! Authentication (Basic or `X-Auth-Token`) on everything but the service root and session
//! creation, as Redfish requires; then the per-path faults, which only authenticated requests
//! reach.

use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::error::ApiError;
use super::sessions;
use crate::bmc::Bmc;
use crate::faults::{PathFault, normalize};

/// What Redfish lets anyone read or do without credentials.
fn is_public(method: &Method, path: &str) -> bool {
    let read = *method == Method::GET || *method == Method::HEAD;
    (read && (path.eq_ignore_ascii_case("/redfish") || path.eq_ignore_ascii_case("/redfish/v1")))
        || (*method == Method::POST && sessions::is_collection(path))
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn is_authorized(bmc: &Bmc, headers: &HeaderMap) -> bool {
    let token_ok = headers
        .get("x-auth-token")
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| bmc.sessions.is_valid(t));
    token_ok || basic_credentials(headers).is_some_and(|(user, pw)| bmc.check_password(&user, &pw))
}

/// Refuses unauthenticated requests with 401.
pub(crate) async fn authenticate(
    State(bmc): State<Arc<Bmc>>,
    request: Request,
    next: Next,
) -> Response {
    let path = normalize(request.uri().path());
    if is_public(request.method(), path) || is_authorized(&bmc, request.headers()) {
        next.run(request).await
    } else {
        tracing::debug!(path, "unauthenticated request refused");
        ApiError::Unauthorized.into_response()
    }
}

/// Applies `Status500` and `MalformedJson` faults to the paths they name.
pub(crate) async fn path_faults(
    State(bmc): State<Arc<Bmc>>,
    request: Request,
    next: Next,
) -> Response {
    match bmc.path_fault(request.uri().path()) {
        None => next.run(request).await,
        Some(PathFault::Status500) => {
            tracing::debug!(path = request.uri().path(), "fault: 500");
            ApiError::Internal.into_response()
        }
        Some(PathFault::MalformedJson) => {
            tracing::debug!(path = request.uri().path(), "fault: malformed JSON");
            let (mut parts, body) = next.run(request).await.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            // Half a document: what a BMC whose web server dies mid-write sends.
            let cut = match bytes.len() / 2 {
                0 => Bytes::from_static(b"{\"@odata.id\": "),
                half => bytes.slice(..half),
            };
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(cut))
        }
    }
}
