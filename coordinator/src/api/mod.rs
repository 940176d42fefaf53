//! The REST API: SMD-compatible `/hsm/v2`, Cairn's `/apis/cairn/v1`, health, metrics and the
//! generated OpenAPI document. [`router`] is apart from serving so tests drive it with
//! `oneshot`, without sockets.

mod agents;
mod boot_params;
mod boot_service;
pub mod boot_source;
mod boots;
mod cloud_init_admin;
mod cluster;
mod component_patch;
mod components;
pub mod error;
pub mod extract;
mod groups;
mod interfaces;
mod magellan;
mod memberships;
pub mod metrics;
mod partitions;
mod power;
mod power_status;
mod power_targets;
mod redfish;
mod service;
pub mod state;

use axum::Json;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tower_http::trace::TraceLayer;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

pub use cluster::{AddMember, ClusterView, MemberView};
pub use error::ApiError;
pub use state::AppState;

/// Largest accepted request body: bulk loads of thousands of components fit, a runaway
/// client does not.
pub const BODY_LIMIT: usize = 16 << 20;

/// SMD's `Response_1.0.0`: a CAPMC-style message for successful deletes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// 0 on success.
    pub code: i32,
    /// What happened.
    pub message: String,
}

/// SMD's resource URI answer to a create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResourceUri {
    /// Path of the created resource.
    #[serde(rename = "URI")]
    pub uri: String,
}

fn deleted(count: usize) -> Json<Message> {
    let message = if count == 1 {
        "deleted 1 entry".to_owned()
    } else {
        format!("deleted {count} entries")
    };
    Json(Message { code: 0, message })
}

/// The HMS type a record's xname implies; a `Type` given in the body must agree with it.
fn derived_type(
    at: &str,
    id: &cairn_protocols::Xname,
    given: Option<cairn_protocols::HmsType>,
) -> Result<cairn_protocols::HmsType, ApiError> {
    let derived = id.hms_type();
    match given {
        Some(t) if t != derived => Err(ApiError::BadRequest(format!(
            "{at}.Type: {t} does not match ID {id} (a {derived})"
        ))),
        _ => Ok(derived),
    }
}

/// Wall-clock time for records' `LastUpdate`, fixed at proposal so every replica stores the same.
fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cairn coordinator API",
        description = "OpenCHAMI SMD-compatible inventory (/hsm/v2) and Cairn's cluster API (/apis/cairn/v1)."
    ),
    components(schemas(cairn_protocols::Problem))
)]
struct ApiDoc;

/// Every route with its OpenAPI description.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi().merge_from(boot_source::NodeRoutesDoc::openapi()))
        .merge(components::routes())
        .merge(interfaces::routes())
        .merge(redfish::routes())
        .merge(groups::routes())
        .merge(cluster::routes())
        .merge(service::routes())
        .merge(agents::routes())
        .merge(boots::routes())
        .merge(power::routes())
        .merge(power_status::routes())
        .merge(boot_params::routes())
        .merge(boot_service::routes())
        .merge(cloud_init_admin::routes())
        .routes(utoipa_axum::routes!(metrics::metrics))
}

/// The OpenAPI document for every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().split_for_parts().1
}

/// The whole API over one replica's state.
pub fn router(state: AppState) -> axum::Router {
    let (router, doc) = documented().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router
        .merge(boot_source::node_routes(&state))
        .route(
            "/openapi.json",
            get(move || {
                let d = doc.clone();
                async move { Json((*d).clone()) }
            }),
        )
        .fallback(|| async { ApiError::NotFound("no such API path".into()) })
        .method_not_allowed_fallback(|req: Request| async move {
            ApiError::MethodNotAllowed(format!(
                "{} is not allowed on {}",
                req.method(),
                req.uri().path()
            ))
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span of one API request. Fields are borrowed, not formatted, so a disabled span costs
/// nothing; the raw path is recorded only when no route matched (the route names the rest).
///
/// The node-facing boot routes get none here: `cairn-bootsvc` opens their request span with
/// what identifies the node (client address, query), and at boot-storm rates a second,
/// nested span per request is a measurable share of the serving cost.
fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    if route.is_some_and(boot_source::is_node_route) {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        "request",
        method = req.method().as_str(),
        route,
        path = tracing::field::Empty
    );
    if route.is_none() {
        span.record("path", req.uri().path());
    }
    span
}

/// The router wrapped so trailing slashes are ignored, as SMD's `StripSlashes` does, with
/// gRPC (the agents' `AgentService`) multiplexed onto the same listener by content type: an
/// agent's `--coordinator URL` is simply a replica's API URL.
pub fn service(state: AppState) -> axum::Router {
    use tower::{Layer, ServiceExt};
    let grpc = tonic::service::Routes::new(crate::agents::AgentGrpc::server(state.clone()));
    let rest =
        tower_http::normalize_path::NormalizePathLayer::trim_trailing_slash().layer(router(state));
    let both = tower::service_fn(move |req: Request| {
        let is_grpc = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
        let (grpc, rest) = (grpc.clone(), rest.clone());
        async move {
            if is_grpc {
                grpc.oneshot(req)
                    .await
                    .map(|r| r.map(axum::body::Body::new))
            } else {
                rest.oneshot(req).await
            }
        }
    });
    axum::Router::new().fallback_service(both)
}
