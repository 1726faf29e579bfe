//! DSA Art. 18: `POST /api/v1/cases/{id}/art18` — a reviewer who sees information giving rise to a
//! suspicion of a criminal offence involving a threat to the life or safety of a person (a minor
//! being extorted, a threat of violence) marks the case, and staydown notifies the configured
//! law-enforcement contact through the durable outbox. `GET /api/v1/cases/{id}/art18` lists a
//! case's notifications; the count is `art18_notifications_total` on `/metrics`.
//!
//! The message carries what the authority needs to act — the case, its locations, the grounds and
//! the reviewer's account of the suspicion — and a link to the case; the audit entry carries only
//! the grounds and the notification id (no free text).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use staydown_domain::validation::FieldErrors;
use staydown_store::{Art18Notification, OutboxMessage};

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// The Art. 18 grounds a reviewer can name.
pub const GROUNDS: [&str; 2] = ["threat_to_life", "threat_to_safety"];

/// Body of the mark.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Art18Body {
    grounds: Option<String>,
    explanation: Option<String>,
}

/// `POST /api/v1/cases/{id}/art18`.
pub async fn notify(
    State(state): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    ApiJson(body): ApiJson<Art18Body>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Decide)?;
    let record =
        notify_case(&state, &caller, &case_id, body.grounds.unwrap_or_default(), &body.explanation.unwrap_or_default())
            .await?;
    let id = record.id.clone();
    Ok((
        StatusCode::CREATED,
        Json(
            serde_json::json!({"id": id, "case_id": case_id, "grounds": record.grounds, "marked_by": record.marked_by}),
        ),
    )
        .into_response())
}

/// Validates and sends an Art. 18 notification about a case as `caller` (permission already
/// checked): the one path for the API and the console's form. Returns what was recorded.
///
/// # Errors
/// Field errors (`grounds`, `explanation`), `NotConfigured` without a law-enforcement contact,
/// `NotFound` for an unknown case.
pub async fn notify_case(
    state: &AppState,
    caller: &Caller,
    case_id: &str,
    grounds: String,
    explanation: &str,
) -> Result<Art18Notification, ApiError> {
    let mut errors = FieldErrors::default();
    if !GROUNDS.contains(&grounds.as_str()) {
        errors.push("grounds", "invalid", "threat_to_life or threat_to_safety");
    }
    let explanation = explanation.trim().to_owned();
    if explanation.chars().count() < 10 || explanation.chars().count() > 4000 {
        errors.push("explanation", "invalid", "say what you saw, in 10 to 4000 characters");
    }
    errors.into_result(()).map_err(ApiError::Validation)?;
    let to = state.settings().law_enforcement_contact.clone().ok_or(ApiError::NotConfigured(
        "Art. 18 notifications need a law-enforcement contact: set [staff] law_enforcement_contact",
    ))?;
    let notices = state.store().case_notices(case_id).await?;
    if notices.is_empty() {
        return Err(ApiError::NotFound);
    }
    let locations: Vec<serde_json::Value> = notices
        .iter()
        .flat_map(|n| n.locations.iter())
        .map(|l| serde_json::json!({"url": l.get("url"), "content_id": l.get("content_id")}))
        .collect();
    let now = state.now();
    let id = uuid::Uuid::now_v7().to_string();
    let link = format!("{}/staff/cases/{case_id}", state.settings().public_url);
    let platform = &state.settings().platform_name;
    let text = format!(
        "Notification under Article 18 of the Digital Services Act (Regulation (EU) 2022/2065) from {platform}.\n\n\
         Grounds: {}\nCase: {case_id}\nMarked at: {}\n\nWhat the reviewer saw:\n{explanation}\n\n\
         Locations:\n{}\n\nThe full case, including the reported content, is available to you on request: {link}\n",
        grounds.replace('_', " "),
        now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        locations
            .iter()
            .map(|l| format!(
                "- {} {}",
                l["url"].as_str().unwrap_or("(no URL)"),
                l["content_id"].as_str().unwrap_or("")
            ))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let message = OutboxMessage {
        channel: "email",
        topic: "art18.notification",
        notice_id: None,
        key: id.clone(),
        payload: serde_json::json!({
            "to": to,
            "subject": format!("DSA Art. 18 notification: {} (case {case_id})", grounds.replace('_', " ")),
            "text": text,
            "case_id": case_id,
        }),
    };
    let record = Art18Notification {
        id: id.clone(),
        case_id: case_id.to_owned(),
        grounds,
        marked_by: caller.principal(),
        marked_at: now,
    };
    state.store().notify_art18(&record, &message, now).await?;
    metrics::counter!("art18_notifications_total").increment(1);
    state.wake_outbox();
    Ok(record)
}

/// `GET /api/v1/cases/{id}/art18`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    caller.require(Permission::ViewCase)?;
    let items = state.store().art18_notifications(Some(&case_id)).await?;
    Ok(Json(
        items
            .into_iter()
            .map(|n| {
                serde_json::json!({
                    "id": n.id, "grounds": n.grounds, "marked_by": n.marked_by,
                    "marked_at": n.marked_at.format(&time::format_description::well_known::Rfc3339).ok(),
                })
            })
            .collect(),
    ))
}
