//! axum routers over a [`BootSource`], mounted by the host service.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::source::BootSource;
use crate::state::BootState;

mod bss;
mod client;
mod cloud_init;

pub use client::{ClientIp, client_ip};

/// `GET /boot/v1/bootscript` (BSS). The host adds the rest of `/boot/v1`.
///
/// The returned router has its state applied, so it merges into a router of any state type:
/// `app.merge(bss_router(state.clone()))`.
pub fn bss_router<S: BootSource, T: Clone + Send + Sync + 'static>(
    state: BootState<S>,
) -> Router<T> {
    Router::new()
        .route("/boot/v1/bootscript", get(bss::bootscript::<S>))
        .with_state(state)
}

/// The node-facing cloud-init routes, to nest under `/cloud-init`: `GET /meta-data`,
/// `/user-data`, `/vendor-data`, `/{group}.yaml` and `POST /phone-home/{id}`. The node is
/// identified by its address, so serve with
/// `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn cloud_init_router<S: BootSource, T: Clone + Send + Sync + 'static>(
    state: BootState<S>,
) -> Router<T> {
    Router::new()
        .route("/meta-data", get(cloud_init::meta_data::<S>))
        .route("/user-data", get(cloud_init::user_data::<S>))
        .route("/vendor-data", get(cloud_init::vendor_data::<S>))
        .route("/{file}", get(cloud_init::group_file::<S>))
        .route("/phone-home/{id}", post(cloud_init::phone_home::<S>))
        .with_state(state)
}

/// A 200 response with this body and content type.
fn text(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    let mut resp = Response::new(body.into());
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// Runs a handler body in its request span, turning its error into a response there so the
/// error's log line carries the span.
async fn in_span(
    span: tracing::Span,
    body: impl std::future::Future<Output = Result<Response, crate::error::BootError>>,
) -> Response {
    use tracing::Instrument as _;
    async move {
        let resp = body.await.unwrap_or_else(IntoResponse::into_response);
        tracing::debug!(status = resp.status().as_u16(), "answered");
        resp
    }
    .instrument(span)
    .await
}
