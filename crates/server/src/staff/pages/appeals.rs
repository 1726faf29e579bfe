//! `GET /staff/appeals` (open internal complaints, oldest first, with their age) and
//! `/staff/appeals/{id}` (the decision under appeal and, for a senior reviewer, the form that
//! decides the appeal). DSA Art. 20: the appeal goes through `api::decisions::resolve_appeal`, which
//! enforces the four-eyes rule across the whole chain; a refusal is shown as a readable error.
//! The page offers "upheld" and "reversed"; a modified decision (a new decision replacing the
//! old) is made through the API.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use staydown_domain::appeal::AppealDecisionDraft;

use super::case::restriction_key;
use super::{Chrome, Console, t, tk, when};
use crate::AppState;
use crate::auth::Permission;
use crate::pages::Ctx;
use crate::pages::form::Errors;
use crate::problem::ApiError;

/// An open appeal as listed.
#[derive(Debug, Clone)]
pub struct AppealRow {
    pub id: String,
    pub short: String,
    pub case_id: String,
    pub case_short: String,
    pub appellant: &'static str,
    pub received: String,
    pub age_hours: i64,
    pub may_decide: bool,
}

/// The catalogue key naming who appealed.
pub fn appellant_key(a: &str) -> &'static str {
    if a == "uploader" { t("staff-appeal-by-uploader") } else { t("staff-appeal-by-notifier") }
}

/// The appeals list.
#[derive(Template, WebTemplate)]
#[template(path = "staff/appeals.html")]
pub struct AppealsPage {
    ctx: Ctx,
    chrome: Chrome,
    rows: Vec<AppealRow>,
}

/// `GET /staff/appeals`.
pub async fn list(State(state): State<AppState>, console: Console) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::ViewQueue) {
        return Ok(refused);
    }
    let now = state.now();
    let me = console.session.principal();
    let senior = console.may(Permission::DecideAppeal);
    let mut rows = Vec::new();
    for a in state.store().open_appeals(500).await? {
        let may_decide = senior && !state.store().appeal_excluded_deciders(&a.decision_id).await?.contains(&me);
        rows.push(AppealRow {
            short: crate::staff::short_id(&a.id),
            case_short: crate::staff::short_id(&a.case_id),
            case_id: a.case_id,
            appellant: appellant_key(&a.appellant),
            received: when(a.received_at),
            age_hours: (now - a.received_at).whole_hours(),
            may_decide,
            id: a.id,
        });
    }
    let Console { ctx, chrome, .. } = console;
    Ok(AppealsPage { ctx, chrome, rows }.into_response())
}

/// One appeal with the decision under appeal.
#[derive(Template, WebTemplate)]
#[template(path = "staff/appeal.html")]
pub struct AppealPage {
    ctx: Ctx,
    chrome: Chrome,
    id: String,
    short: String,
    case_id: String,
    appellant: &'static str,
    received: String,
    reason: String,
    state: String,
    outcome: Option<String>,
    decision_at: String,
    decision_by: String,
    restrictions: Vec<&'static str>,
    explanation: String,
    may_decide: bool,
    excluded: bool,
    typed: (String, String),
    errors: Errors,
    refusal: Option<String>,
}

impl AppealPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

async fn page(
    state: &AppState,
    console: &Console,
    id: &str,
    status: StatusCode,
    typed: (String, String),
    errors: Errors,
    refusal: Option<String>,
) -> Result<Response, ApiError> {
    let store = state.store();
    let Some(appeal) = store.appeal(id).await? else {
        return Ok(console.message(StatusCode::NOT_FOUND, tk("staff-not-found")));
    };
    let Some(decision) = store.decision(&appeal.decision_id).await? else {
        return Ok(console.message(StatusCode::NOT_FOUND, tk("staff-not-found")));
    };
    let excluded = store.appeal_excluded_deciders(&decision.id).await?.contains(&console.session.principal());
    let r = &decision.decision.restrictions;
    let mut restrictions: Vec<&'static str> = r.visibility.iter().map(|v| restriction_key(v.as_str())).collect();
    if let Some(a) = r.account {
        restrictions.push(restriction_key(a.as_str()));
    }
    let page = AppealPage {
        ctx: console.ctx.clone(),
        chrome: console.chrome.clone(),
        short: crate::staff::short_id(&appeal.id),
        id: appeal.id.clone(),
        case_id: decision.case_id.clone(),
        appellant: appellant_key(appeal.appellant.as_str()),
        received: when(appeal.received_at),
        reason: appeal.reason.clone(),
        state: appeal.state.clone(),
        outcome: appeal.outcome.map(|o| o.as_str().to_owned()),
        decision_at: when(decision.decided_at),
        decision_by: decision.decided_by.clone(),
        restrictions,
        explanation: decision.decision.explanation.clone(),
        may_decide: console.may(Permission::DecideAppeal) && appeal.state == "open",
        excluded,
        typed,
        errors,
        refusal,
    };
    Ok((status, page).into_response())
}

/// `GET /staff/appeals/{id}`.
pub async fn show(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::ViewCase) {
        return Ok(refused);
    }
    page(&state, &console, &id, StatusCode::OK, Default::default(), Errors::default(), None).await
}

/// The appeal form.
#[derive(Debug, Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    reasons: String,
}

/// `POST /staff/appeals/{id}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Form(form): Form<AppealForm>,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::DecideAppeal) {
        return Ok(refused);
    }
    if !console.csrf_ok(&form.csrf) {
        return Ok(console.csrf_refused());
    }
    let typed = (form.outcome.trim().to_owned(), form.reasons.trim().to_owned());
    // The page offers upheld and reversed; anything else is refused here with the field message.
    let outcome = matches!(typed.0.as_str(), "upheld" | "reversed").then(|| typed.0.clone());
    let draft = AppealDecisionDraft {
        outcome: outcome.clone(),
        reasons: (!typed.1.is_empty()).then(|| typed.1.clone()),
        decision: None,
    };
    let mut errors = Errors::default();
    if outcome.is_none() {
        errors.add("outcome", console.ctx.t("staff-appeal-err-outcome"));
    }
    if typed.1.is_empty() {
        errors.add("reasons", console.ctx.t("staff-appeal-err-reasons"));
    }
    if !errors.is_empty() {
        return page(&state, &console, &id, StatusCode::UNPROCESSABLE_ENTITY, typed, errors, None).await;
    }
    match crate::api::decisions::resolve_appeal(&state, &console.caller(), &id, draft).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/appeals/{id}")).into_response()),
        Err(ApiError::Forbidden(_)) => {
            let refusal = Some(console.ctx.t("staff-appeal-four-eyes"));
            page(&state, &console, &id, StatusCode::FORBIDDEN, typed, Errors::default(), refusal).await
        }
        Err(ApiError::Validation(found)) => {
            for e in &found.0 {
                let field = if e.field == "outcome" { "outcome" } else { "reasons" };
                let key =
                    if field == "outcome" { t("staff-appeal-err-outcome") } else { t("staff-appeal-err-reasons") };
                errors.add(field, console.ctx.t(key));
            }
            page(&state, &console, &id, StatusCode::UNPROCESSABLE_ENTITY, typed, errors, None).await
        }
        Err(ApiError::Conflict(_)) => {
            let refusal = Some(console.ctx.t("staff-appeal-already-decided"));
            page(&state, &console, &id, StatusCode::CONFLICT, typed, Errors::default(), refusal).await
        }
        Err(ApiError::NotFound) => Ok(console.message(StatusCode::NOT_FOUND, tk("staff-not-found"))),
        Err(e) => Err(e),
    }
}
