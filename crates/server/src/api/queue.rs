//! `GET /api/v1/queue`: open cases for reviewers, by deadline then priority (DSA Art. 16(6), 22).

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::problem::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct QueueEntry {
    case_id: String,
    state: &'static str,
    priority: u8,
    #[serde(with = "time::serde::rfc3339")]
    deadline: OffsetDateTime,
    overdue: bool,
    category: String,
    notice_count: i64,
    sources: Vec<&'static str>,
    #[serde(with = "time::serde::rfc3339")]
    opened_at: OffsetDateTime,
}

/// Lists open cases.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Vec<QueueEntry>>, ApiError> {
    caller.require(Permission::ViewQueue)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "invalid", "must be between 1 and 1000"));
    }
    let now = state.now();
    let items = state.store().queue(limit).await?;
    Ok(Json(
        items
            .into_iter()
            .map(|i| QueueEntry {
                case_id: i.case_id,
                state: i.state.as_str(),
                priority: i.priority,
                deadline: i.deadline_at,
                overdue: i.deadline_at < now,
                category: i.category,
                notice_count: i.notice_count,
                sources: i.sources.iter().map(|s| s.as_str()).collect(),
                opened_at: i.created_at,
            })
            .collect(),
    ))
}
