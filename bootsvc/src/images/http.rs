//! `GET`/`HEAD /boot/v1/images/{id}/{name}`: a wanted image, from the cache (filled first
//! if need be), with Range, `ETag`/`If-None-Match` and `Last-Modified` from tower-http's
//! `ServeFile`.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt as _;
use tower_http::services::ServeFile;
use tracing::Instrument as _;

use super::{IMAGES_PATH, ImageCache, ImageError, ImageId};

/// `GET`/`HEAD /boot/v1/images/{id}/{name}`, to merge into the host's router. `{name}` is
/// only for people reading logs: the id alone selects the image. The returned router has its
/// state applied, so it merges into a router of any state type.
pub fn images_router<T: Clone + Send + Sync + 'static>(cache: ImageCache) -> Router<T> {
    Router::new()
        .route(&format!("{IMAGES_PATH}/{{id}}/{{name}}"), get(serve))
        .with_state(cache)
}

async fn serve(
    State(cache): State<ImageCache>,
    Path((id, _name)): Path<(String, String)>,
    req: Request,
) -> Response {
    let span = tracing::info_span!("image_request", %id, method = %req.method());
    async move {
        // A malformed id names no wanted image either.
        let Some(id) = ImageId::parse(&id) else {
            return ImageError::InvalidUrl {
                url: req.uri().path().to_owned(),
                reason: "the image id is not 32 hex digits".into(),
            }
            .into_response();
        };
        let path = match cache.open_image(id).await {
            Ok(path) => path,
            Err(e) => return e.to_response(),
        };
        // Files are named by digest: they never change in place, so ServeFile's ETag
        // (size and mtime) and Last-Modified hold for the content.
        let resp = match ServeFile::new(&path).oneshot(req).await {
            Ok(resp) => resp.map(Body::new),
            Err(never) => match never {},
        };
        tracing::debug!(status = resp.status().as_u16(), "answered");
        resp
    }
    .instrument(span)
    .await
}
