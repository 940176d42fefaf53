//! PCS's transitions (`/power-control/v1/transitions`): power operations on sets of nodes,
//! recorded through Raft, executed by the rack agents that serve the nodes' cabinets (which
//! receive them on their Watch streams) and tracked task by task.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use cairn_protocols::Problem;
use cairn_protocols::power::{
    AbortResponse, PowerOperation, TaskData, TransitionCreate, TransitionDetail, TransitionList,
    TransitionStart, TransitionSummary,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ReadMode};
use super::power_targets::{expand, initial_task};
use super::state::AppState;
use crate::clock::{now_ms, rfc3339_ms};
use crate::inventory::{Command, NewTask, PowerCommand, TransitionRecord};

/// Where PCS's API lives.
pub(super) const BASE: &str = "/power-control/v1";

/// `taskDeadlineMinutes` when the request gives none (PCS's default).
const DEFAULT_DEADLINE_MINUTES: i64 = 5;

/// Longest `taskDeadlineMinutes` (a transition record lives 24 hours).
const MAX_DEADLINE_MINUTES: i64 = 24 * 60;

/// How long transition records are kept (PCS's default expiry).
const KEEP_MS: u64 = 24 * 60 * 60 * 1000;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one, abort))
}

fn summary(t: &TransitionRecord) -> TransitionSummary {
    TransitionSummary {
        transition_id: t.id.clone(),
        create_time: rfc3339_ms(t.created_ms),
        automatic_expiration_time: rfc3339_ms(t.expires_ms),
        transition_status: t.status(),
        operation: t.operation,
        task_counts: t.counts(),
    }
}

/// A transition ID from the path: a UUID, in canonical form.
fn transition_id(raw: &str) -> Result<String, ApiError> {
    uuid::Uuid::parse_str(raw)
        .map(|u| u.to_string())
        .map_err(|e| ApiError::BadRequest(format!("transitionID: {raw:?} is not a UUID: {e}")))
}

/// `(deadline, confirm)` for `taskDeadlineMinutes`.
fn deadline(minutes: Option<i64>, now_ms: u64) -> Result<(Option<u64>, bool), ApiError> {
    let minutes = minutes.unwrap_or(DEFAULT_DEADLINE_MINUTES);
    let after = |m: i64| now_ms + u64::try_from(m).unwrap_or(0) * 60_000;
    match minutes {
        -1 => Ok((None, true)),
        // "0 disables waiting": no confirmation, but sending the resets is still bounded.
        0 => Ok((Some(after(DEFAULT_DEADLINE_MINUTES)), false)),
        m if (1..=MAX_DEADLINE_MINUTES).contains(&m) => Ok((Some(after(m)), true)),
        m => Err(ApiError::BadRequest(format!(
            "taskDeadlineMinutes: {m} is out of range (1 to {MAX_DEADLINE_MINUTES}, 0 for no \
             confirmation, -1 for no deadline)"
        ))),
    }
}

/// Start a transition.
#[utoipa::path(post, path = "/power-control/v1/transitions", tag = "transitions",
    request_body = TransitionCreate,
    responses((status = 200, body = TransitionStart), (status = 400, body = Problem),
        (status = 503, body = Problem)))]
async fn create(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<TransitionCreate>,
) -> Result<
    (
        StatusCode,
        [(header::HeaderName, String); 1],
        Json<TransitionStart>,
    ),
    ApiError,
> {
    let operation: PowerOperation = body
        .operation
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("operation: {e}")))?;
    let now = now_ms();
    let (deadline_ms, confirm) = deadline(body.task_deadline_minutes, now)?;
    let tasks = s
        .read(ReadMode::Linearizable, |inv| {
            expand(inv, &body.location).map(|nodes| {
                nodes
                    .into_iter()
                    .map(|x| NewTask {
                        task: initial_task(inv, operation, &x),
                        xname: x,
                    })
                    .collect::<Vec<_>>()
            })
        })
        .await??;
    let id = uuid::Uuid::new_v4().to_string();
    tracing::info!(transition = %id, %operation, targets = tasks.len(), "transition requested");
    s.submit(Command::Power(PowerCommand::Create {
        id: id.clone(),
        operation,
        created_ms: now,
        deadline_ms,
        confirm,
        expires_ms: now + KEEP_MS,
        tasks,
    }))
    .await?;
    Ok((
        StatusCode::OK,
        [(header::LOCATION, format!("{BASE}/transitions/{id}"))],
        Json(TransitionStart {
            transition_id: id,
            operation,
        }),
    ))
}

/// Every transition (kept 24 hours), oldest first, with task counts.
#[utoipa::path(get, path = "/power-control/v1/transitions", tag = "transitions",
    params(("stale" = Option<bool>, Query)),
    responses((status = 200, body = TransitionList)))]
async fn list(State(s): State<AppState>, mode: ReadMode) -> Result<Json<TransitionList>, ApiError> {
    let mut transitions: Vec<(u64, TransitionSummary)> = s
        .read(mode, |inv| {
            inv.power()
                .transitions()
                .map(|t| (t.created_ms, summary(t)))
                .collect()
        })
        .await?;
    transitions.sort_by(|a, b| (a.0, &a.1.transition_id).cmp(&(b.0, &b.1.transition_id)));
    Ok(Json(TransitionList {
        transitions: transitions.into_iter().map(|(_, t)| t).collect(),
    }))
}

/// One transition with its tasks.
#[utoipa::path(get, path = "/power-control/v1/transitions/{transitionID}", tag = "transitions",
    params(("transitionID" = String, Path), ("stale" = Option<bool>, Query)),
    responses((status = 200, body = TransitionDetail), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
async fn get_one(
    State(s): State<AppState>,
    mode: ReadMode,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<TransitionDetail>, ApiError> {
    let id = transition_id(&raw)?;
    s.read(mode, |inv| {
        inv.power().transition(&id).map(|t| TransitionDetail {
            summary: summary(t),
            tasks: t
                .tasks
                .iter()
                .map(|(x, task)| TaskData {
                    xname: x.to_string(),
                    task_status: task.status,
                    task_status_description: task.description.clone(),
                    error: task.error.clone(),
                })
                .collect(),
        })
    })
    .await?
    .map(Json)
    .ok_or_else(|| ApiError::NotFound(format!("TransitionID {id} does not exist")))
}

/// Abort a transition: tasks not started fail at once, agents stop the others.
#[utoipa::path(delete, path = "/power-control/v1/transitions/{transitionID}", tag = "transitions",
    params(("transitionID" = String, Path)),
    responses((status = 202, body = AbortResponse), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
async fn abort(
    State(s): State<AppState>,
    ApiPath(raw): ApiPath<String>,
) -> Result<(StatusCode, Json<AbortResponse>), ApiError> {
    let id = transition_id(&raw)?;
    s.submit(Command::Power(PowerCommand::Abort { id })).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(AbortResponse {
            abort_status: "Accepted - abort initiated".into(),
        }),
    ))
}
