//! The console's management pages (issue 12, part B): `/staff/dashboard` (figures and SVG
//! charts), `/staff/banks` (hash banks: create, import, export, entries, recent matches),
//! `/staff/transparency` (the Art. 15/24 report and the Transparency Database queue, Art. 24(5))
//! and `/staff/admin` (accounts, keys, Art. 23 measures, dead letters, the audit-chain check).
//!
//! Every page and form checks the API's permission table (`auth::allowed`) through
//! [`Console::require`], and every state-changing form carries the session's CSRF token. Pages run
//! the same handlers or store calls as the JSON API, so a page never shows a figure or allows a
//! change the API would not; auditors get the views without any form that changes something.
//! After a change the page redirects (303) back with `?done=<what>` and shows a one-line notice;
//! refused input is shown again with the reasons, nothing is lost or changed.

pub mod admin;
pub mod banks;
pub mod dashboard;
pub mod transparency;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use staydown_domain::validation::FieldErrors;

use super::pages::Console;
pub(crate) use super::pages::tk;
use crate::AppState;
use crate::pages::Ctx;
use crate::problem::ApiError;

/// Marks a catalogue key for the completeness test (`pages::i18n`).
pub(crate) const fn t(key: &'static str) -> &'static str {
    key
}

/// The management pages' routes (merged into `staff::routes`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/dashboard", get(dashboard::page))
        .route("/staff/banks", get(banks::list).post(banks::create))
        .route("/staff/banks/{name}", get(banks::show))
        .route("/staff/banks/{name}/settings", post(banks::update))
        .route(
            "/staff/banks/{name}/import",
            post(banks::import).layer(axum::extract::DefaultBodyLimit::max(banks::MAX_IMPORT_BYTES + 64 * 1024)),
        )
        .route("/staff/banks/{name}/export", get(banks::export))
        .route("/staff/transparency", get(transparency::page))
        .route("/staff/transparency/download", get(transparency::download))
        .route("/staff/transparency/requeue", post(transparency::requeue))
        .route("/staff/admin", get(admin::page))
        .route("/staff/admin/accounts", post(admin::create_account))
        .route("/staff/admin/accounts/{id}/{action}", post(admin::account_action))
        .route("/staff/admin/keys", post(admin::issue_key))
        .route("/staff/admin/keys/{id}/revoke", post(admin::revoke_key))
        .route("/staff/admin/dead/{id}/resend", post(admin::resend))
}

/// A form's reason for refusal as the page shows it, in the page language: the field's control
/// `id` (the summary's link), the field's label, and the reason.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The field the reason is about (the form control's `id`), if any.
    pub field: String,
    /// The field's label as the form shows it (empty for a reason about no field).
    pub label: String,
    /// The reason.
    pub message: String,
}

impl Problem {
    /// A reason about `field`, from the catalogue key `key`.
    pub fn new(ctx: &Ctx, field: &str, key: &str) -> Problem {
        Problem::text(ctx, field, ctx.t(key))
    }

    /// A reason about `field` whose text is already in the page language (or is data, such as a
    /// line of an imported file).
    pub fn text(ctx: &Ctx, field: &str, message: String) -> Problem {
        let label = label_key(field).map(|k| ctx.t(k)).unwrap_or_default();
        Problem { field: field.to_owned(), label, message }
    }
}

/// The catalogue key of the label of an admin form's control, by its `id`.
fn label_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => t("staff-admin-bank-name"),
        "description" => t("staff-admin-bank-description"),
        "action" => t("staff-admin-col-action"),
        "threshold" => t("staff-admin-col-threshold"),
        "provenance" => t("staff-admin-col-provenance"),
        "dihedral" => t("staff-admin-bank-dihedral"),
        "file" => t("staff-admin-file"),
        "format" => t("staff-admin-format"),
        "from" => t("staff-admin-from"),
        "to" => t("staff-admin-to"),
        "username" => t("staff-admin-col-username"),
        "role" | "key-role" => t("staff-admin-col-role"),
        "password" => t("staff-admin-password"),
        "key-name" => t("staff-admin-key-name"),
        _ => return None,
    })
}

/// A bank's action on a match (`block`, `hold`, `flag`) in the page language (the code when unknown).
pub fn action_label(ctx: &Ctx, action: &str) -> String {
    match action {
        "block" => ctx.t("staff-admin-action-block"),
        "hold" => ctx.t("staff-admin-action-hold"),
        "flag" => ctx.t("staff-admin-action-flag"),
        other => other.to_owned(),
    }
}

/// Where a bank's hashes come from (`victim_submitted`, …) in the page language.
pub fn provenance_label(ctx: &Ctx, provenance: &str) -> String {
    match provenance {
        "victim_submitted" => ctx.t("staff-admin-provenance-victim"),
        "helpline" => ctx.t("staff-admin-provenance-helpline"),
        "external_list" => ctx.t("staff-admin-provenance-external"),
        "confirmed_decision" => ctx.t("staff-admin-provenance-decision"),
        other => other.to_owned(),
    }
}

/// The page-language text for a field error of the API: the codes the admin forms can meet have
/// their own message; any other is the API's own (English) text on English pages and a general
/// "not accepted" elsewhere, so a Dutch page never shows English.
fn field_error_text(ctx: &Ctx, e: &staydown_domain::validation::FieldError) -> String {
    let key = match (e.field.as_str(), e.code) {
        ("name", "invalid") => t("staff-admin-err-bank-name"),
        ("username", "invalid") => t("staff-admin-err-username"),
        ("role", "invalid") => t("staff-admin-err-role"),
        ("threshold", "invalid") => t("staff-admin-err-threshold"),
        ("password", "too_short") => {
            return ctx.ta("staff-admin-err-password", "min", crate::api::accounts::MIN_PASSWORD_CHARS);
        }
        ("description", "too_long") => {
            return ctx.ta("staff-admin-err-too-long", "max", staydown_domain::bank::MAX_DESCRIPTION_CHARS);
        }
        (_, "required") => t("staff-admin-err-required"),
        _ if ctx.code() == "en" => return e.message.clone(),
        _ => t("staff-admin-err-invalid"),
    };
    ctx.t(key)
}

/// The reasons in an API error, in the page language, for showing on the page that sent the
/// form. `None` for errors that are not about the input (the caller answers those as the API's
/// page would).
pub fn problems(ctx: &Ctx, err: &ApiError) -> Option<Vec<Problem>> {
    match err {
        ApiError::Validation(FieldErrors(list)) => {
            Some(list.iter().map(|e| Problem::text(ctx, &e.field, field_error_text(ctx, e))).collect())
        }
        ApiError::Conflict(m) if ctx.code() == "en" => Some(vec![Problem::text(ctx, "", m.clone())]),
        ApiError::Conflict(_) => Some(vec![Problem::new(ctx, "", t("staff-admin-err-conflict"))]),
        ApiError::NotFound => Some(vec![Problem::new(ctx, "", t("staff-admin-err-not-found"))]),
        _ => None,
    }
}

/// Back to `path` after a change, with the notice `done` (a catalogue key suffix).
pub fn done(path: &str, what: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}done={what}")).into_response()
}

/// The notice for `?done=`, when it is one this page knows.
pub fn notice(done: Option<&str>, known: &[(&str, &'static str)]) -> Option<&'static str> {
    let done = done?;
    known.iter().find(|(k, _)| *k == done).map(|(_, key)| *key)
}

/// The page answer for an error that is not about the form's input.
pub fn failure(console: &Console, err: &ApiError) -> Response {
    match err {
        ApiError::Forbidden(_) | ApiError::Unauthorized(_) => {
            console.message(StatusCode::FORBIDDEN, tk("staff-forbidden"))
        }
        _ => {
            tracing::warn!(error = %err, "console page failed");
            console.message(StatusCode::SERVICE_UNAVAILABLE, tk("staff-unavailable"))
        }
    }
}

/// A number with one decimal, with the page language's decimal sign (`1.5`, Dutch `1,5`).
fn one_decimal(ctx: &Ctx, x: f64) -> String {
    let text = format!("{x:.1}");
    if ctx.code() == "nl" { text.replace('.', ",") } else { text }
}

/// Hours with one decimal for a number of seconds (`–` when nothing was measured).
pub fn hours(ctx: &Ctx, seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "–".to_owned(), |s| one_decimal(ctx, s / 3600.0))
}

/// A share (0..1) as a percentage with one decimal (`–` when undefined).
pub fn percent(ctx: &Ctx, share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{} %", one_decimal(ctx, s * 100.0)))
}

pub use crate::staff::pages::when;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_shown_in_hours_and_percent() {
        let en = Ctx::new(crate::pages::Lang::En, String::new(), String::new(), "/", None);
        let nl = Ctx::new(crate::pages::Lang::Nl, String::new(), String::new(), "/", None);
        assert_eq!(hours(&en, Some(5400.0)), "1.5");
        assert_eq!(hours(&nl, Some(5400.0)), "1,5");
        assert_eq!(hours(&en, None), "–");
        assert_eq!(percent(&en, Some(2.0 / 3.0)), "66.7 %");
        assert_eq!(percent(&nl, Some(2.0 / 3.0)), "66,7 %");
    }
}
