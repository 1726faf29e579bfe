//! The uploader's statement of reasons (DSA Art. 17) as a page, with the complaint form (Art. 20).
//!
//! The page's own address is `/statement/{id}?token=…` ([`url`], [`show`]): always this page, the
//! link to give the uploader. The API's statement address (`/api/v1/decisions/{id}/statement?token=…`,
//! the `statement_url` platforms relay) answers JSON to machines and this page to browsers
//! (`Accept: text/html`), like the API's notice address.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use staydown_domain::appeal::{Appellant, appeal_deadline};
use staydown_domain::secret_digest;

use super::appeal::{AppealTyped, Refusal};
use super::form::{Errors, FormData};
use super::{Ctx, csrf, errors};
use crate::AppState;

/// The statement page.
#[derive(Template, WebTemplate)]
#[template(path = "views/statement.html")]
pub struct StatementPage {
    ctx: Ctx,
    token: String,
    text: String,
    status: String,
    appeal_until: String,
    appeal_open: bool,
    out_of_court: String,
    court: String,
    errors: Errors,
    reason: String,
    new_facts: String,
    needs_new_facts: bool,
    max_appeal: usize,
    appeal_action: String,
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

/// The statement page's address for a decision and the uploader's token (a path):
/// `/statement/{id}?token={token}`.
pub fn url(id: &str, token: &str) -> String {
    format!("/statement/{id}?token={token}")
}

/// `GET /statement/{id}?token=…`: the statement page, whatever the client accepts; a missing or
/// wrong token gets the 404 page.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<crate::api::notices::TokenQuery>,
) -> Response {
    let token = q.token.unwrap_or_default();
    if token.is_empty() {
        return errors::page(&ctx, StatusCode::NOT_FOUND);
    }
    let flash = (q.done.as_deref() == Some("appeal")).then(|| ctx.t("track-appeal-done"));
    page(&state, ctx, &id, &token, Errors::default(), String::new(), flash).await
}

/// Renders the statement of decision `id` for the holder of its uploader token; 404 otherwise.
pub async fn page(
    state: &AppState,
    ctx: Ctx,
    id: &str,
    token: &str,
    errors: Errors,
    typed: impl Into<AppealTyped>,
    flash: Option<String>,
) -> Response {
    let typed: AppealTyped = typed.into();
    let ctx = ctx.on_page(format!("/statement/{id}"), &[("token", token)]);
    let Ok(Some(decision)) = state.store().decision(id).await else { return errors::page(&ctx, StatusCode::NOT_FOUND) };
    let holder = state.store().appellant(&decision, &secret_digest(token)).await.ok().flatten();
    if holder.map(|(who, _)| who) != Some(Appellant::Uploader) {
        return errors::page(&ctx, StatusCode::NOT_FOUND);
    }
    let Some(statement) = decision.statement.as_ref() else { return errors::page(&ctx, StatusCode::NOT_FOUND) };
    let text = statement["text"][ctx.code()].as_str().unwrap_or_default().to_owned();
    let until = appeal_deadline(decision.decided_at);
    let needs_new_facts = super::appeal::needs_new_facts(state, &decision.id, Appellant::Uploader, None).await
        || errors.get("new_facts").is_some();
    let status = if decision.status == "reversed" { ctx.t("statement-reversed") } else { String::new() };
    StatementPage {
        token: token.to_owned(),
        text,
        status,
        appeal_until: ctx.when(until),
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
        reason: typed.reason,
        new_facts: typed.new_facts,
        needs_new_facts,
        max_appeal: staydown_domain::appeal::MAX_APPEAL_TEXT,
        appeal_action: format!("/statement/{id}/appeal"),
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
    let token = form.get("token");
    let typed = AppealTyped::from_form(&form);
    // Reached through the complaint form: every answer stays in place (the address would carry
    // the code).
    let private = form.get("via") == "complain";
    let ctx = if private { ctx.private(format!("/complain/{id}")) } else { ctx };
    if !csrf::verify_anonymous(&headers, &form.get(csrf::FIELD)) {
        let mut errs = Errors::default();
        errs.add("reason", ctx.t("form-expired"));
        return status(page(&state, ctx, &id, &token, errs, typed, None).await, StatusCode::BAD_REQUEST);
    }
    match super::appeal::file(&state, &ctx, &id, &token, &typed).await {
        Ok(()) if private => {
            let flash = Some(ctx.t("track-appeal-done"));
            page(&state, ctx, &id, &token, Errors::default(), String::new(), flash).await
        }
        Ok(()) => Redirect::to(&format!("{}&done=appeal", url(&id, &token))).into_response(),
        Err(Refusal::Form(errs, s)) => status(page(&state, ctx, &id, &token, errs, typed, None).await, s),
        Err(Refusal::Page(s)) => errors::page(&ctx, s),
    }
}

fn status(mut r: Response, s: StatusCode) -> Response {
    if r.status().is_success() {
        *r.status_mut() = s;
    }
    r
}
