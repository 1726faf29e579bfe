//! `GET /complain/{decision}`: where the link "complain free of charge at …" in a statement of
//! reasons and in the decision notice to a notifier leads (DSA Art. 17(3)(f), 20(1)). A person
//! types the code they were given — the notifier's tracking code from the confirmation of receipt,
//! or the uploader's appeal code from the statement — and is sent to the page that holds the
//! complaint form for them: the tracking page or the statement page. Codes are checked against
//! their digests (`Store::appellant`), so a wrong code learns nothing about the decision.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use staydown_domain::appeal::Appellant;

use super::Ctx;
use super::form::Errors;
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

/// `?code=`.
#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

/// `GET /complain/{decision}[?code=…]`: the form, or with a code that belongs to the decision a
/// redirect (303) to the page with the complaint form; a code that does not belongs gets the form
/// again with the message beside the field (422). An unknown decision is the readable 404 page.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(decision_id): Path<String>,
    Query(q): Query<CodeQuery>,
) -> Response {
    let Ok(Some(decision)) = state.store().decision(&decision_id).await else {
        return super::errors::page(&ctx, StatusCode::NOT_FOUND);
    };
    let code = q.code.map(|c| c.trim().to_owned());
    let mut errors = Errors::default();
    match code.as_deref() {
        None => {}
        Some("") => errors.add("code", ctx.t("complain-err-empty")),
        Some(code) => match state.store().appellant(&decision, &secret_digest(code)).await {
            Ok(Some((Appellant::Uploader, _))) => {
                return Redirect::to(&super::statement::url(&decision_id, code)).into_response();
            }
            Ok(Some((Appellant::Notifier, Some(notice)))) => {
                return Redirect::to(&super::track::url(&notice, code)).into_response();
            }
            Ok(_) => errors.add("code", ctx.t("complain-err-unknown")),
            Err(e) => {
                tracing::error!(error = %e, "checking a complaint code");
                return super::errors::page(&ctx, StatusCode::INTERNAL_SERVER_ERROR);
            }
        },
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, ComplainPage { ctx, decision_id: decision.id, errors }).into_response()
}
