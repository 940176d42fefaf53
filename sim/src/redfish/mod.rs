//! The HTTP face of one BMC: `router(bmc)` is an axum `Router` that the server runs per
//! connection and tests can drive with `oneshot`.
//!
//! Paths are not routed statically: a mockup decides where its resources and reset targets are,
//! and vendors' links differ from their files in case and trailing slashes, so one handler
//! resolves every request against the BMC's content.

mod actions;
mod auth;
pub(crate) mod error;
pub(crate) mod sessions;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use self::error::ApiError;
use crate::bmc::{Bmc, SimSystem};
use crate::config::Content;
use crate::faults::normalize;
use crate::generated;
use crate::mockup::Mockup;

/// Request bodies are a reset, a PATCH or credentials: a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;

/// The router of one BMC.
pub(crate) fn router(bmc: Arc<Bmc>) -> Router {
    Router::new()
        .fallback(dispatch)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&bmc),
            auth::path_faults,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&bmc),
            auth::authenticate,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(bmc)
}

fn with_json_headers(status: StatusCode, body: Body) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert("odata-version", HeaderValue::from_static("4.0"));
    response
}

/// A JSON response with the headers Redfish services send.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    // Serializing a `Value` cannot fail: its keys are strings.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    with_json_headers(status, Body::from(bytes))
}

fn parse_object(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, ApiError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(MAX_BODY),
        _ => ApiError::MalformedJson(rejection.body_text()),
    })?;
    match serde_json::from_slice(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::MalformedJson(
            "the body is not a JSON object".into(),
        )),
        Err(e) => Err(ApiError::MalformedJson(e.to_string())),
    }
}

async fn dispatch(
    State(bmc): State<Arc<Bmc>>,
    method: Method,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let path = normalize(uri.path());
    let not_here = |allow| {
        if get(&bmc, path).is_ok() {
            ApiError::MethodNotAllowed(path.to_owned(), allow)
        } else {
            ApiError::NotFound("Resource", path.to_owned())
        }
    };
    match method {
        Method::GET | Method::HEAD => get(&bmc, path),
        Method::POST if sessions::is_collection(path) => {
            sessions::create(&bmc, parse_object(body)?)
        }
        Method::POST => match bmc.system_by_reset_target(path) {
            Some(system) => Ok(actions::reset(&bmc, system, &parse_object(body)?)?.into_response()),
            None => Err(not_here("GET, HEAD")),
        },
        Method::PATCH => match bmc.system_at(path) {
            Some(system) => Ok(actions::patch(system, &parse_object(body)?)?.into_response()),
            None => Err(not_here("GET, HEAD")),
        },
        Method::DELETE => match sessions::session_id(path) {
            Some(id) => Ok(sessions::delete(&bmc, id)?.into_response()),
            None => Err(not_here("GET, HEAD")),
        },
        _ => Err(not_here("GET, HEAD")),
    }
}

fn get(bmc: &Bmc, path: &str) -> Result<Response, ApiError> {
    let ok = |value: Value| json_response(StatusCode::OK, &value);
    let missing = || ApiError::NotFound("Resource", path.to_owned());
    if path.eq_ignore_ascii_case("/redfish") {
        return Ok(ok(json!({ "v1": "/redfish/v1/" })));
    }
    if sessions::is_collection(path) {
        return sessions::get(bmc, None).map(ok);
    }
    if let Some(id) = sessions::session_id(path) {
        return sessions::get(bmc, Some(id)).map(ok);
    }
    match &bmc.content {
        Content::Generated(spec) => generated::resource(bmc, spec, path)
            .map(ok)
            .ok_or_else(missing),
        Content::Mockup(mockup) => match bmc.system_at(path) {
            Some(system) => mockup_system(mockup, system).map(ok).ok_or_else(missing),
            None => mockup
                .get(path)
                .map(|bytes| with_json_headers(StatusCode::OK, Body::from(bytes.clone())))
                .ok_or_else(missing),
        },
    }
}

/// The mockup's system resource with the live power state and boot override laid over it.
fn mockup_system(mockup: &Mockup, system: &SimSystem) -> Option<Value> {
    let mut body = mockup.systems().get(system.mockup_system?)?.body.clone();
    let state = system.power.power_state(std::time::Instant::now());
    body.insert("PowerState".into(), json!(state));
    if let Some(Value::Object(boot)) = body.get_mut("Boot") {
        let live = system.power.boot();
        boot.insert("BootSourceOverrideTarget".into(), json!(live.target));
        boot.insert("BootSourceOverrideEnabled".into(), json!(live.enabled));
        if let Some(mode) = live.mode {
            boot.insert("BootSourceOverrideMode".into(), json!(mode));
        }
    }
    Some(Value::Object(body))
}
