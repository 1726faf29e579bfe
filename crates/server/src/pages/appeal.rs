//! The complaint form shared by the tracking page (notifier) and the statement page (uploader):
//! DSA Art. 20 internal complaints, through the API's own path (`api::decisions::file_appeal`).
//!
//! A person whose earlier complaint about the same decision was rejected (upheld decision) must say
//! what is new (`new_facts`); the form shows that field only then.

use axum::http::StatusCode;
use staydown_domain::appeal::{AppealDraft, AppealOutcome, Appellant};

use super::Ctx;
use super::form::{Errors, FormData};
use crate::AppState;
use crate::api::decisions::file_appeal;
use crate::auth::Caller;
use crate::problem::ApiError;

/// What the person typed into the complaint form, kept across an error.
#[derive(Debug, Clone, Default)]
pub struct AppealTyped {
    /// Why the decision is wrong.
    pub reason: String,
    /// What is new since an earlier, rejected complaint.
    pub new_facts: String,
}

impl From<String> for AppealTyped {
    fn from(reason: String) -> Self {
        AppealTyped { reason, new_facts: String::new() }
    }
}

impl AppealTyped {
    /// Reads `reason` and `new_facts` from a submitted form.
    pub fn from_form(form: &FormData) -> AppealTyped {
        AppealTyped { reason: form.get("reason"), new_facts: form.get("new_facts") }
    }
}

/// Whether `appellant` already had a complaint about `decision_id` rejected, so a new one must
/// carry new facts (the same rule `file_appeal` applies).
pub async fn needs_new_facts(
    state: &AppState,
    decision_id: &str,
    appellant: Appellant,
    notice_id: Option<&str>,
) -> bool {
    match state.store().appeals_by_party(decision_id, appellant, notice_id).await {
        Ok(earlier) => earlier.iter().any(|a| a.outcome == Some(AppealOutcome::Upheld)),
        Err(e) => {
            tracing::warn!(error = %e, "reading earlier complaints for the complaint form");
            false
        }
    }
}

/// What went wrong when filing from a page: field errors to show with a status, or a whole-page
/// status (404, 500).
pub enum Refusal {
    /// Show the form again with these errors.
    Form(Errors, StatusCode),
    /// Show an error page.
    Page(StatusCode),
}

/// Files the complaint; on a refusal says which field is wrong in the person's language.
pub async fn file(
    state: &AppState,
    ctx: &Ctx,
    decision_id: &str,
    token: &str,
    typed: &AppealTyped,
) -> Result<(), Refusal> {
    let draft = AppealDraft {
        token: Some(token.to_owned()),
        reason: Some(typed.reason.clone()),
        language: Some(ctx.lang.domain()),
        new_facts: Some(typed.new_facts.clone()).filter(|f| !f.is_empty()),
    };
    let mut errs = Errors::default();
    match file_appeal(state, &Caller { key: None }, decision_id, draft).await {
        Ok(_) => Ok(()),
        Err(ApiError::Validation(fields)) => {
            for e in &fields.0 {
                match (e.field.as_str(), e.code) {
                    ("new_facts", "required") => errs.add("new_facts", ctx.t("track-appeal-err-new-facts")),
                    ("new_facts", _) => errs.add("new_facts", ctx.t("report-err-too-long")),
                    ("reason", "too_long") => errs.add("reason", ctx.t("report-err-too-long")),
                    _ => errs.add("reason", ctx.t("track-appeal-err-reason")),
                }
            }
            Err(Refusal::Form(errs, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(ApiError::AppealWindowClosed { .. }) => {
            errs.add("reason", ctx.t("track-appeal-closed"));
            Err(Refusal::Form(errs, StatusCode::CONFLICT))
        }
        Err(ApiError::Conflict(_)) => {
            // An open complaint by the same person, or a decision replaced since the page loaded.
            errs.add("reason", ctx.t("track-appeal-conflict"));
            Err(Refusal::Form(errs, StatusCode::CONFLICT))
        }
        Err(ApiError::NotFound) => Err(Refusal::Page(StatusCode::NOT_FOUND)),
        Err(e) => {
            tracing::error!(error = ?e, "a complaint from a page");
            Err(Refusal::Page(StatusCode::INTERNAL_SERVER_ERROR))
        }
    }
}
