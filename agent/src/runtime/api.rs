//! The agent's own HTTP API: `GET /healthz` and `GET /status` (see [`AgentStatus`]).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::Ctx;
use super::shutdown::Shutdown;
use super::status::AgentStatus;

fn router(ctx: Arc<Ctx>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/status", get(status))
        .with_state(ctx)
}

async fn status(State(ctx): State<Arc<Ctx>>) -> Json<AgentStatus> {
    Json(ctx.status())
}

pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    ctx: Arc<Ctx>,
    mut shutdown: Shutdown,
) {
    let served = axum::serve(listener, router(ctx))
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, "the agent's API stopped");
    }
}
