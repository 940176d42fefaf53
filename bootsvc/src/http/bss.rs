//! `GET /boot/v1/bootscript`.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};

use crate::bootscript::{BootscriptQuery, BootscriptReply, bootscript as answer};
use crate::source::BootSource;
use crate::state::BootState;

pub(super) async fn bootscript<S: BootSource>(
    State(state): State<BootState<S>>,
    RawQuery(query): RawQuery,
) -> Response {
    let span = tracing::info_span!("bootscript", query = query.as_deref().unwrap_or_default());
    super::in_span(span, async move {
        let q = BootscriptQuery::parse(query.as_deref().unwrap_or_default())?;
        let reply = answer(&state, &q).await?;
        Ok(match reply {
            BootscriptReply::Script(s) => super::text("text/plain; charset=utf-8", s),
            BootscriptReply::Json(d) => Json(d).into_response(),
        })
    })
    .await
}
