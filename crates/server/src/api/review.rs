//! `POST /api/v1/cases/{id}/take` (a reviewer takes a case: assignee and pick-up time) and
//! `GET /api/v1/appeals` (open appeals, oldest first, with whether the caller may decide each).
//!
//! DSA Art. 16(6) (time to pick-up is measured from the case's opening to its first pick-up) and
//! Art. 20 (the four-eyes rule across the chain: `store::appeal_excluded_deciders`).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{Caller, Permission, allowed};
use crate::problem::ApiError;

/// Body of `take` (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeBody {
    /// Take over a case someone else holds.
    #[serde(default)]
    reassign: bool,
}

/// The answer to `take`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TakenView {
    case_id: String,
    assignee: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    picked_up_at: OffsetDateTime,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    assigned_at: OffsetDateTime,
    /// Seconds from the case's opening to its first pick-up.
    time_to_pick_up_seconds: i64,
}

/// `POST /api/v1/cases/{id}/take`: the caller becomes the case's assignee. 409 when someone else
/// holds it, unless `{"reassign": true}`.
pub async fn take(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<TakenView>, ApiError> {
    caller.require(Permission::Decide)?;
    // The body is optional: empty means `{}`.
    let reassign = if body.iter().all(u8::is_ascii_whitespace) {
        false
    } else {
        serde_json::from_slice::<TakeBody>(&body)
            .map_err(|e| {
                ApiError::field("reassign", "invalid", format!("the body must be {{\"reassign\": bool}}: {e}"))
            })?
            .reassign
    };
    let summary = state.store().case_summary(&id).await?.ok_or(ApiError::NotFound)?;
    let taken = state.store().take_case(&id, &caller.principal(), reassign, state.now()).await?;
    Ok(Json(TakenView {
        case_id: id,
        assignee: taken.assignee,
        picked_up_at: taken.picked_up_at,
        assigned_at: taken.assigned_at,
        time_to_pick_up_seconds: (taken.picked_up_at - summary.created_at).whole_seconds(),
    }))
}

/// Query of the appeals list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealsQuery {
    limit: Option<i64>,
}

/// An open appeal as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppealEntry {
    id: String,
    decision_id: String,
    case_id: String,
    appellant: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
    /// Whole hours since the appeal was received.
    age_hours: i64,
    /// Who took the decision under appeal.
    decided_by: String,
    /// Whether the caller may decide it: a senior reviewer who took or replaced no decision in
    /// the chain under appeal.
    may_decide: bool,
}

/// `GET /api/v1/appeals`: open appeals, oldest first.
pub async fn list_appeals(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AppealsQuery>,
) -> Result<Json<Vec<AppealEntry>>, ApiError> {
    caller.require(Permission::ViewQueue)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "invalid", "must be between 1 and 1000"));
    }
    let now = state.now();
    let principal = caller.principal();
    let senior = allowed(caller.role(), Permission::DecideAppeal);
    let mut out = Vec::new();
    for a in state.store().open_appeals(limit).await? {
        let may_decide = senior && !state.store().appeal_excluded_deciders(&a.decision_id).await?.contains(&principal);
        out.push(AppealEntry {
            age_hours: (now - a.received_at).whole_hours(),
            id: a.id,
            decision_id: a.decision_id,
            case_id: a.case_id,
            appellant: a.appellant,
            received_at: a.received_at,
            decided_by: a.decided_by,
            may_decide,
        });
    }
    Ok(Json(out))
}
