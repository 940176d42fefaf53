//! `GET /boot/v1/bootscript`.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};

use crate::bootscript::{BootscriptQuery, BootscriptReply, bootscript as answer};
use crate::cache::AnswerKey;
use crate::source::BootSource;
use crate::state::BootState;

const PLAIN: &str = "text/plain; charset=utf-8";

pub(super) async fn bootscript<S: BootSource>(
    State(state): State<BootState<S>>,
    RawQuery(query): RawQuery,
) -> Response {
    let span = tracing::info_span!("bootscript", query = query.as_deref().unwrap_or_default());
    super::in_span(span, async move {
        let q = BootscriptQuery::parse(query.as_deref().unwrap_or_default())?;
        // Only scripts are kept: `?json=1` is for tools, not booting nodes.
        let revision = state.source().revision();
        let key = (!q.json).then(|| AnswerKey::Bootscript(q.clone()));
        if let Some(hit) = key.as_ref().and_then(|k| state.stored(revision, k)) {
            return Ok(super::text(PLAIN, hit));
        }
        Ok(match answer(&state, &q).await? {
            BootscriptReply::Script(s) => match key {
                Some(key) => super::text(PLAIN, state.keep(revision, key, s)),
                None => super::text(PLAIN, s),
            },
            BootscriptReply::Json(d) => Json(d).into_response(),
        })
    })
    .await
}
