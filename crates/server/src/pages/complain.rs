//! `/complain/{decision}`: where the link "complain free of charge at …" in a statement of
//! reasons and in the decision notice to a notifier leads (DSA Art. 17(3)(f), 20(1)). A person
//! types the code they were given — the notifier's tracking code from the confirmation of receipt,
//! or the uploader's appeal code from the statement — and gets the page that holds the complaint
//! form for them: the tracking page or the statement page. Codes are checked against their digests
//! (`Store::appellant`), so a wrong code learns nothing about the decision.
//!
//! The code is sent with `POST` (CSRF-checked) and the page is answered in place
//! ([`super::Ctx::private`]), so the code never becomes part of an address: not in the browser's
//! history, not in a proxy's access log, not in a `Location` header. `GET` only shows the form; an
//! old link with `?code=` (only this form ever made one) gets the empty form, its code unused.
//!
//! The answers of the complaint forms stay at their POST-only addresses (`/track/{id}/appeal`,
//! `/statement/{id}/appeal`), which hold no code; opening such an address again (a restored tab,
//! Enter in the address bar) leads here ([`after_statement_form`], [`after_tracking_form`])
//! rather than to a 405 page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use staydown_domain::appeal::Appellant;

use super::form::{Errors, FormData};
use super::{Ctx, csrf};
use crate::AppState;
use staydown_domain::secret_digest;

/// The page.
#[derive(Template, WebTemplate)]
#[template(path = "views/complain.html")]
pub struct ComplainPage {
    ctx: Ctx,
    decision_id: String,
    errors: Errors,
}

impl ComplainPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// `GET /complain/{decision}`: the form (any query but `lang` is ignored). An unknown decision is
/// the readable 404 page.
pub async fn page(State(state): State<AppState>, ctx: Ctx, Path(decision_id): Path<String>) -> Response {
    let Ok(Some(decision)) = state.store().decision(&decision_id).await else {
        return super::errors::page(&ctx, StatusCode::NOT_FOUND);
    };
    // The language switch must not carry an old `?code=` along.
    let ctx = ctx.on_page(format!("/complain/{}", decision.id), &[]);
    ComplainPage { ctx, decision_id: decision.id, errors: Errors::default() }.into_response()
}

/// `POST /complain/{decision}` (form fields `csrf`, `code`): with a code that belongs to the
/// decision, the page with that person's complaint form, answered in place (200); an empty or
/// foreign code gets the form again with the message beside the field (422), an expired form
/// (CSRF) the same with 400. An unknown decision is the readable 404 page.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(decision_id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    let Ok(Some(decision)) = state.store().decision(&decision_id).await else {
        return super::errors::page(&ctx, StatusCode::NOT_FOUND);
    };
    let form = FormData::parse(&body);
    let code = form.get("code").trim().to_owned();
    let mut errors = Errors::default();
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if !csrf::verify_anonymous(&headers, &form.get(csrf::FIELD)) {
        errors.add("code", ctx.t("form-expired"));
        status = StatusCode::BAD_REQUEST;
    } else if code.is_empty() {
        errors.add("code", ctx.t("complain-err-empty"));
    } else {
        let private = ctx.clone().private(format!("/complain/{}", decision.id));
        match state.store().appellant(&decision, &secret_digest(&code)).await {
            Ok(Some((Appellant::Uploader, _))) => {
                return super::statement::page(
                    &state,
                    private,
                    &decision.id,
                    &code,
                    Errors::default(),
                    String::new(),
                    None,
                )
                .await;
            }
            Ok(Some((Appellant::Notifier, Some(notice)))) => {
                return super::track::page(&state, private, &notice, &code, Errors::default(), String::new(), None)
                    .await;
            }
            Ok(_) => errors.add("code", ctx.t("complain-err-unknown")),
            Err(e) => {
                tracing::error!(error = %e, "checking a complaint code");
                return super::errors::page(&ctx, StatusCode::INTERNAL_SERVER_ERROR);
            }
        }
    }
    (status, ComplainPage { ctx, decision_id: decision.id, errors }).into_response()
}

/// `GET /statement/{id}/appeal`: the address a statement page's complaint form answers at, opened
/// again without the form: to the code form of that decision (303); unknown decision: 404 page.
pub async fn after_statement_form(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    match state.store().decision(&id).await {
        Ok(Some(decision)) => Redirect::to(&format!("/complain/{}?lang={}", decision.id, ctx.code())).into_response(),
        _ => super::errors::page(&ctx, StatusCode::NOT_FOUND),
    }
}

/// `GET /track/{id}/appeal`, `GET /track/{id}/withdraw`: the addresses a tracking page's forms
/// answer at, opened again without the form: to the code form of the report's decision (303);
/// a report without a decision has no such page, so the 404 page says to use the link again.
pub async fn after_tracking_form(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    match state.store().notice_decision(&id).await {
        Ok(Some(record)) => Redirect::to(&format!("/complain/{}?lang={}", record.id, ctx.code())).into_response(),
        _ => super::errors::page(&ctx, StatusCode::NOT_FOUND),
    }
}
