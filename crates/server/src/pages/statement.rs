//! The uploader's statement of reasons (DSA Art. 17) as a page, with the complaint form (Art. 20).
//!
//! The statement link the uploader receives (`/api/v1/decisions/{id}/statement?token=…`) answers
//! JSON to machines and this page to browsers (`Accept: text/html`), like the tracking URL.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use staydown_domain::appeal::{AppealDraft, Appellant, appeal_deadline};
use staydown_domain::secret_digest;

use super::form::{Errors, FormData};
use super::report::datetime;
use super::{Ctx, csrf, errors};
use crate::AppState;
use crate::api::decisions::file_appeal;
use crate::auth::Caller;
use crate::problem::ApiError;

/// The statement page.
#[derive(Template, WebTemplate)]
#[template(path = "views/statement.html")]
pub struct StatementPage {
    ctx: Ctx,
    id: String,
    token: String,
    text: String,
    status: String,
    appeal_until: String,
    appeal_open: bool,
    out_of_court: String,
    court: String,
    errors: Errors,
    reason: String,
    flash: Option<String>,
}

impl StatementPage {
    fn error(&self, field: &str) -> Option<String> {
        self.errors.get(field).cloned()
    }
    fn invalid(&self, field: &str) -> &'static str {
        if self.errors.get(field).is_some() { "field invalid" } else { "field" }
    }
}

/// Renders the statement of decision `id` for the holder of its uploader token; 404 otherwise.
pub async fn page(
    state: &AppState,
    ctx: Ctx,
    id: &str,
    token: &str,
    errors: Errors,
    reason: String,
    flash: Option<String>,
) -> Response {
    let Ok(Some(decision)) = state.store().decision(id).await else { return errors::page(&ctx, StatusCode::NOT_FOUND) };
    let holder = state.store().appellant(&decision, &secret_digest(token)).await.ok().flatten();
    if holder.map(|(who, _)| who) != Some(Appellant::Uploader) {
        return errors::page(&ctx, StatusCode::NOT_FOUND);
    }
    let Some(statement) = decision.statement.as_ref() else { return errors::page(&ctx, StatusCode::NOT_FOUND) };
    let text = statement["text"][ctx.code()].as_str().unwrap_or_default().to_owned();
    let until = appeal_deadline(decision.decided_at);
    let status = if decision.status == "reversed" { ctx.t("statement-reversed") } else { String::new() };
    StatementPage {
        id: id.to_owned(),
        token: token.to_owned(),
        text,
        status,
        appeal_until: datetime(until),
        appeal_open: state.now() <= until,
        out_of_court: if ctx.lang == super::Lang::Nl {
            state.settings().out_of_court_settlement_nl.clone()
        } else {
            state.settings().out_of_court_settlement.clone()
        },
        court: if ctx.lang == super::Lang::Nl {
            state.settings().court_nl.clone()
        } else {
            state.settings().court.clone()
        },
        errors,
        reason,
        flash,
        ctx,
    }
    .into_response()
}

/// `POST /statement/{id}/appeal`: the uploader's complaint.
pub async fn appeal(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let form = FormData::parse(&body);
    let (token, reason) = (form.get("token"), form.get("reason"));
    let mut errs = Errors::default();
    if !csrf::verify_anonymous(&headers, &form.get(csrf::FIELD)) {
        errs.add("reason", ctx.t("form-expired"));
        return status(page(&state, ctx, &id, &token, errs, reason, None).await, StatusCode::BAD_REQUEST);
    }
    let draft = AppealDraft {
        token: Some(token.clone()),
        reason: Some(reason.clone()),
        language: Some(ctx.lang.domain()),
        new_facts: None,
    };
    match file_appeal(&state, &Caller { key: None }, &id, draft).await {
        Ok(_) => Redirect::to(&format!("/api/v1/decisions/{id}/statement?token={token}&done=appeal")).into_response(),
        Err(ApiError::Validation(_)) => {
            errs.add("reason", ctx.t("track-appeal-err-reason"));
            status(page(&state, ctx, &id, &token, errs, reason, None).await, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(ApiError::AppealWindowClosed { .. }) => {
            errs.add("reason", ctx.t("track-appeal-closed"));
            status(page(&state, ctx, &id, &token, errs, reason, None).await, StatusCode::CONFLICT)
        }
        Err(ApiError::NotFound) => errors::page(&ctx, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = ?e, "appeal from the statement page");
            errors::page(&ctx, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

fn status(mut r: Response, s: StatusCode) -> Response {
    if r.status().is_success() {
        *r.status_mut() = s;
    }
    r
}
