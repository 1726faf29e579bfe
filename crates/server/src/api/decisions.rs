//! Decisions after they are taken: the statement of reasons (DSA Art. 17), complaints against them
//! (Art. 20) and their outcome.
//!
//! - `GET /api/v1/decisions/{id}` — staff.
//! - `GET /api/v1/decisions/{id}/statement` — staff, auditors and the platform (which relays it to
//!   its user), or the uploader with `?token=` (the appeal token their statement came with).
//! - `POST /api/v1/decisions/{id}/appeals` — the uploader (appeal token) or a notifier (tracking
//!   token), within six months.
//! - `GET /api/v1/appeals/{id}`, `POST /api/v1/appeals/{id}/decision` — staff; the outcome only by a
//!   senior reviewer who did not take the decision.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use staydown_domain::appeal::{
    AppealDecisionDraft, AppealDraft, AppealOutcome, Appellant, appeal_deadline, validate_appeal,
    validate_appeal_decision,
};
use staydown_domain::decision::{DecisionContext, validate_decision};
use staydown_domain::secret_digest;
use staydown_store::{AppealRecord, AppealResolution, DecisionRecord, NewAppeal, OutboxMessage};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::api::cases::{decision_json, prepare_decision, redress, restore_webhooks};
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// An appeal as JSON for staff.
pub fn appeal_json(a: &AppealRecord) -> serde_json::Value {
    serde_json::json!({
        "id": a.id,
        "decision_id": a.decision_id,
        "appellant": a.appellant.as_str(),
        "notice_id": a.notice_id,
        "received_at": crate::api::rfc3339(a.received_at),
        "reason": a.reason,
        "state": a.state,
        "outcome": a.outcome.map(AppealOutcome::as_str),
        "reasons": a.reasons,
        "decided_by": a.decided_by,
        "decided_at": a.decided_at.map(crate::api::rfc3339),
        "new_decision_id": a.new_decision_id,
    })
}

async fn load_decision(state: &AppState, id: &str) -> Result<DecisionRecord, ApiError> {
    state.store().decision(id).await?.ok_or(ApiError::NotFound)
}

/// Shows a decision to staff.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::ViewCase)?;
    Ok(Json(decision_json(&load_decision(&state, &id).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenQuery {
    token: Option<String>,
    /// Page only: the form just sent (`appeal`).
    done: Option<String>,
    /// Page only: the language switch.
    #[allow(dead_code)]
    lang: Option<String>,
}

/// The statement of reasons: JSON, or for a browser with the uploader's token the statement page
/// with the complaint form (`pages::statement`).
pub async fn statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
    headers: axum::http::HeaderMap,
    ctx: crate::pages::Ctx,
) -> Result<Response, ApiError> {
    let token = q.token.filter(|t| !t.is_empty());
    if caller.key.is_none()
        && crate::pages::errors::wants_html(&headers)
        && let Some(t) = &token
    {
        let flash = (q.done.as_deref() == Some("appeal")).then(|| ctx.t("track-appeal-done"));
        return Ok(crate::pages::statement::page(&state, ctx, &id, t, Default::default(), String::new(), flash).await);
    }
    if caller.key.is_some() || token.is_none() {
        caller.require(Permission::ViewStatement)?;
    }
    let decision = load_decision(&state, &id).await?;
    if caller.key.is_none() {
        let digest = secret_digest(token.as_deref().unwrap_or_default());
        let holder = state.store().appellant(&decision, &digest).await?;
        if holder.map(|(who, _)| who) != Some(Appellant::Uploader) {
            return Err(ApiError::NotFound);
        }
    }
    let mut statement = decision.statement.ok_or(ApiError::NotFound)?;
    if let Some(obj) = statement.as_object_mut() {
        obj.insert("status".into(), decision.status.into());
    }
    Ok(Json(statement).into_response())
}

/// An internal complaint that was filed.
#[derive(Debug, Clone)]
pub struct FiledAppeal {
    /// Appeal id.
    pub id: String,
    /// The decision appealed.
    pub decision_id: String,
    /// Who appealed.
    pub appellant: Appellant,
    /// When.
    pub received_at: OffsetDateTime,
}

/// Validates and stores an internal complaint (Art. 20): the one path for the API and the pages.
pub async fn file_appeal(
    state: &AppState,
    caller: &Caller,
    id: &str,
    draft: AppealDraft,
) -> Result<FiledAppeal, ApiError> {
    let mut reason = validate_appeal(&draft).map_err(ApiError::Validation)?;
    let decision = load_decision(state, id).await?;
    let digest = secret_digest(draft.token.as_deref().unwrap_or_default().trim());
    // A wrong token and a missing decision look the same.
    let (appellant, notice_id) = state.store().appellant(&decision, &digest).await?.ok_or(ApiError::NotFound)?;
    let now = state.now();
    let closes = appeal_deadline(decision.decided_at);
    if now > closes {
        return Err(ApiError::AppealWindowClosed { closed_at: closes.format(&Rfc3339).unwrap_or_default() });
    }
    let earlier = state.store().appeals_by_party(&decision.id, appellant, notice_id.as_deref()).await?;
    if earlier.iter().any(|a| a.outcome == Some(AppealOutcome::Upheld)) {
        reason = staydown_domain::appeal::with_new_facts(&reason, &draft).map_err(ApiError::Validation)?;
    }
    let appeal_id = uuid::Uuid::now_v7().to_string();
    let language = draft.language.unwrap_or_default().as_str().to_owned();
    state
        .store()
        .file_appeal(&NewAppeal {
            id: appeal_id.clone(),
            decision_id: decision.id.clone(),
            appellant,
            notice_id,
            received_at: now,
            reason,
            language,
            actor: caller.actor(),
        })
        .await?;
    Ok(FiledAppeal { id: appeal_id, decision_id: decision.id, appellant, received_at: now })
}

/// Files an internal complaint.
pub async fn appeal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(draft): ApiJson<AppealDraft>,
) -> Result<Response, ApiError> {
    let FiledAppeal { id: appeal_id, decision_id, appellant, received_at: now } =
        file_appeal(&state, &caller, &id, draft).await?;
    let body = serde_json::json!({
        "id": appeal_id,
        "decision_id": decision_id,
        "appellant": appellant.as_str(),
        "received_at": crate::api::rfc3339(now),
        "status": "open",
        "note": "A person who did not take the decision will review it.",
    });
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/v1/appeals/{appeal_id}"))], Json(body)).into_response())
}

/// Shows an appeal to staff.
pub async fn show_appeal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::ViewCase)?;
    let appeal = state.store().appeal(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(appeal_json(&appeal)))
}

fn outcome_texts(outcome: AppealOutcome, reasons: &str) -> (String, String) {
    let (nl, en) = match outcome {
        AppealOutcome::Upheld => ("Het besluit blijft staan.", "The decision stands."),
        AppealOutcome::Reversed => ("Het besluit is teruggedraaid.", "The decision has been reversed."),
        AppealOutcome::Modified => ("Het besluit is gewijzigd.", "The decision has been changed."),
    };
    (
        format!(
            "Het bezwaar tegen het besluit is door een andere medewerker beoordeeld (DSA art. 20).\n\n{nl}\n\nToelichting: {reasons}\n"
        ),
        format!(
            "The complaint against the decision was reviewed by another member of staff (DSA Art. 20).\n\n{en}\n\nReasons: {reasons}\n"
        ),
    )
}

/// Decides an appeal.
pub async fn decide_appeal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(draft): ApiJson<AppealDecisionDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::DecideAppeal)?;
    Ok(Json(resolve_appeal(&state, &caller, &id, draft).await?).into_response())
}

/// Decides an appeal as `caller` (permission already checked): the four-eyes rule across the
/// chain, validation, restore webhooks, notices and any replacement decision — the one path for
/// the API and the console's appeal page. Returns the API's answer body.
///
/// # Errors
/// `NotFound`, `Conflict` (already decided), `Forbidden` (four eyes), field errors.
pub async fn resolve_appeal(
    state: &AppState,
    caller: &Caller,
    id: &str,
    draft: AppealDecisionDraft,
) -> Result<serde_json::Value, ApiError> {
    let state = state.clone();
    let store = state.store();
    let appeal = store.appeal(id).await?.ok_or(ApiError::NotFound)?;
    if appeal.state != "open" {
        return Err(ApiError::Conflict("this appeal is already decided".into()));
    }
    let old = load_decision(&state, &appeal.decision_id).await?;
    if old.decided_by == caller.principal() {
        return Err(ApiError::Forbidden(
            "you took the decision under appeal; another senior reviewer must decide the appeal (DSA Art. 20)",
        ));
    }
    if store.appeal_excluded_deciders(&old.id).await?.contains(&caller.principal()) {
        return Err(ApiError::Forbidden(
            "you took or replaced an earlier decision in the chain under appeal; another senior reviewer must \
             decide the appeal (DSA Art. 20)",
        ));
    }
    let (outcome, reasons) = validate_appeal_decision(&draft).map_err(ApiError::Validation)?;
    let case = store.case_context(&old.case_id).await?.ok_or(ApiError::NotFound)?;
    let notices = store.case_notices(&old.case_id).await?;
    let mut messages: Vec<OutboxMessage> = Vec::new();
    let mut replacement = None;
    let mut uploader_token = None;
    if matches!(outcome, AppealOutcome::Reversed | AppealOutcome::Modified) {
        messages.extend(restore_webhooks(&state, &old, &notices, &appeal.id));
    }
    if let (AppealOutcome::Modified, Some(new_draft)) = (outcome, draft.decision) {
        let ctx = DecisionContext {
            today: state.now().date(),
            category: old.decision.category.clone(),
            keywords: old.decision.keywords.clone(),
            detected_automatically: old.decision.automated_detection,
            notice_ids: old.notice_ids.clone(),
        };
        let decision = validate_decision(new_draft, &ctx).map_err(|mut e| {
            for err in &mut e.0 {
                err.field = format!("decision.{}", err.field);
            }
            ApiError::Validation(e)
        })?;
        let personal_data = store.case_personal_data(&old.case_id).await?;
        let mut prepared =
            prepare_decision(&state, caller, &old.case_id, decision, &case.sources, &notices, &personal_data)?;
        prepared.new.replaces = Some(old.id.clone());
        prepared.new.appeal_id = Some(appeal.id.clone());
        uploader_token = prepared.uploader_token;
        replacement = Some(prepared.new);
    }
    let base = &state.settings().public_url;
    let new_id = replacement.as_ref().map(|d| d.id.clone());
    messages.push(OutboxMessage {
        channel: "webhook",
        topic: "appeal.decided",
        notice_id: None,
        key: appeal.id.clone(),
        payload: serde_json::json!({
            "at": state.now().unix_timestamp(),
            "appeal_id": appeal.id,
            "decision_id": old.id,
            "case_id": old.case_id,
            "appellant": appeal.appellant.as_str(),
            "outcome": outcome.as_str(),
            "reasons": reasons,
            "new_decision_id": new_id,
            "statement_url": new_id.as_ref().map(|n| format!("{base}/api/v1/decisions/{n}/statement")),
            "uploader_appeal_token": uploader_token.clone(),
        }),
    });
    let (text_nl, text_en) = outcome_texts(outcome, &reasons);
    let redress = redress(&state, &old.id, old.decided_at);
    for notice in notices.iter().filter(|n| old.notice_ids.contains(&n.id)) {
        messages.push(OutboxMessage {
            channel: "email",
            topic: "appeal.decided",
            notice_id: Some(notice.id.clone()),
            key: format!("{}:{}", appeal.id, notice.id),
            payload: serde_json::json!({
                "language": notice.language,
                "subject_nl": "Uitkomst van het bezwaar",
                "subject_en": "Outcome of the complaint",
                "text_nl": format!("{text_nl}\nBuitengerechtelijke geschillenbeslechting (DSA art. 21): {}. Rechter: {}.\n", redress.out_of_court_settlement_nl, redress.court_nl),
                "text_en": format!("{text_en}\nOut-of-court dispute settlement (DSA Art. 21): {}. Court: {}.\n", redress.out_of_court_settlement, redress.court),
            }),
        });
    }
    let resolution = AppealResolution {
        appeal_id: appeal.id.clone(),
        outcome,
        reasons,
        decided_by: caller.principal(),
        actor: caller.actor(),
        at: state.now(),
        messages,
        replacement,
    };
    store.resolve_appeal(&resolution).await?;
    state.wake_outbox();
    if resolution.replacement.as_ref().is_some_and(|d| !d.banks.is_empty()) {
        state.refresh_banks().await;
    }
    Ok(serde_json::json!({
        "id": appeal.id,
        "decision_id": old.id,
        "outcome": outcome.as_str(),
        "decided_by": resolution.decided_by,
        "new_decision_id": new_id,
        "uploader_appeal_token": uploader_token,
    }))
}
