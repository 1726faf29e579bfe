//! `GET /api/v1/transparency/submissions`: the queue of statements of reasons for the EU
//! Transparency Database, with the API's error for each refused or delayed one (DSA Art. 24(5)).
//!
//! For admins and auditors: a refused statement (`state=failed`) is a decision that has not
//! reached the Commission's database and needs a person.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use staydown_store::SubmissionState;
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::problem::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmissionsQuery {
    state: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Submission {
    puid: String,
    decision_id: String,
    state: &'static str,
    attempts: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    queued_at: OffsetDateTime,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    next_attempt_at: Option<OffsetDateTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    submitted_at: Option<OffsetDateTime>,
    tdb_uuid: Option<String>,
    last_error: Option<String>,
}

/// Lists queued statements, newest first, optionally in one state.
pub async fn submissions(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SubmissionsQuery>,
) -> Result<Json<Vec<Submission>>, ApiError> {
    caller.require(Permission::ViewSubmissions)?;
    let filter = match q.state.as_deref() {
        None => None,
        Some(s) => Some(
            SubmissionState::parse(s)
                .ok_or_else(|| ApiError::field("state", "invalid", "must be pending, submitted or failed"))?,
        ),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "invalid", "must be between 1 and 1000"));
    }
    let items = state.store().submission_queue(filter, limit).await?;
    Ok(Json(
        items
            .into_iter()
            .map(|s| Submission {
                state: s.state.as_str(),
                next_attempt_at: (s.state == SubmissionState::Pending).then_some(s.next_attempt_at),
                puid: s.puid,
                decision_id: s.decision_id,
                attempts: s.attempts,
                queued_at: s.created_at,
                submitted_at: s.submitted_at,
                tdb_uuid: s.tdb_uuid,
                last_error: s.last_error,
            })
            .collect(),
    ))
}

/// Body of `POST /api/v1/transparency/submissions/requeue`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequeueBody {
    /// The refused statements to send again.
    puids: Option<Vec<String>>,
    /// Send every refused statement again.
    all_failed: Option<bool>,
}

/// `POST /api/v1/transparency/submissions/requeue` (admins): refused statements go back in the
/// queue, due now — after the cause (a changed rule, a mapping fixed in an upgrade) is gone.
/// `staydown sor requeue` does the same from the command line.
pub async fn requeue(
    State(state): State<AppState>,
    caller: Caller,
    crate::json::ApiJson(body): crate::json::ApiJson<RequeueBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::RequeueSubmissions)?;
    let puids = match (body.puids, body.all_failed) {
        (Some(p), None | Some(false)) if !p.is_empty() && p.len() <= 10_000 => Some(p),
        (None, Some(true)) => None,
        _ => {
            return Err(ApiError::field(
                "puids",
                "invalid",
                "give either `puids` (1 to 10000 refused statements) or `all_failed: true`",
            ));
        }
    };
    let requeued = state.store().requeue_failed_statements(puids.as_deref(), &caller.principal(), state.now()).await?;
    Ok(Json(serde_json::json!({ "requeued": requeued })))
}
