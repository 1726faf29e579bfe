//! Operational views for admins and auditors: dead letters of the outbox (messages and webhooks
//! that failed every attempt) and the Art. 23(2) measures taken against notifiers.

use axum::Json;
use axum::extract::{Path, State};

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::problem::ApiError;

/// `GET /api/v1/outbox/dead`: deliveries given up on, newest first, with their last error.
pub async fn dead_letters(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::ViewOperations)?;
    let items = state.store().outbox_dead(500).await?;
    Ok(Json(serde_json::Value::Array(
        items
            .into_iter()
            .map(|i| {
                // Payloads may hold a notifier's message text; the view shows what failed and why.
                serde_json::json!({
                    "id": i.id,
                    "channel": i.channel,
                    "topic": i.topic,
                    "attempts": i.attempts,
                    "dead_at": i.dead_at.map(crate::api::rfc3339),
                    "last_error": i.last_error,
                })
            })
            .collect(),
    )))
}

/// `POST /api/v1/outbox/dead/{id}/resend` (admins): a dead letter goes back in the outbox, due
/// now, with its attempts reset — after the cause (a receiver down, a wrong address) is fixed.
/// Answers the item as the dead-letter view shows it; 404 for an unknown id, 409 when the item is
/// not a dead letter (pending or delivered). Audited as `outbox.resent`.
pub async fn resend_dead_letter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::ResendDeadLetters)?;
    let item = state.store().resend_dead_letter(&id, &caller.principal(), state.now()).await?;
    Ok(Json(serde_json::json!({
        "id": item.id,
        "channel": item.channel,
        "topic": item.topic,
        "attempts": item.attempts,
        "resent": true,
    })))
}

/// `GET /api/v1/misuse`: warnings and suspensions (DSA Art. 23(2)), newest first.
pub async fn misuse(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::ViewOperations)?;
    let measures = state.store().misuse_measures(500).await?;
    Ok(Json(serde_json::Value::Array(
        measures
            .into_iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id,
                    "notifier": m.notifier_ref,
                    "kind": m.kind,
                    "at": crate::api::rfc3339(m.at),
                    "until": m.until.map(crate::api::rfc3339),
                    "reason": m.reason,
                })
            })
            .collect(),
    )))
}
