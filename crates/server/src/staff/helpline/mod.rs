//! The helpline's pages under `/staff/helpline` (issue 13): help cases, removal requests with
//! every timestamp, recorded answers, URL checks, evidence and the police bundle, referrals,
//! pre-emptive hashes made in the caseworker's browser (and filed as hash-only notices), the
//! platforms registry, the league table with server-rendered SVG charts and the yearly figures,
//! and the escalation pack download.
//!
//! The helpline's side of DSA Art. 16 and 22. Every page uses the staff console's sign-in and
//! frame (`staff::pages::Console`) and runs the JSON API's own validation and storage paths
//! (`api::helpline`), so a page never does what the same person could not do with a key: case
//! work needs `HelplineWork` (caseworkers); the league table and yearly figures
//! `ViewHelplineFigures` (also admins and auditors, read-only). No page an auditor or the league
//! table shows carries personal data of the person helped; contact details appear only on the
//! case page when asked for, and that view is an audit entry. Strings: `locales/*/helpline.ftl`.

pub mod cases;
pub mod chart;
pub mod evidence;
pub mod figures;
pub mod intake;
pub mod platforms;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use staydown_domain::validation::FieldErrors;
use time::OffsetDateTime;

use super::pages::{Console, tk};
use crate::AppState;
use crate::pages::form::{Errors, FormData};
use crate::problem::ApiError;

/// Marks a catalogue key for the completeness test (`pages::i18n`).
pub(crate) const fn t(key: &'static str) -> &'static str {
    key
}

/// The pages' routes (merged by `staff::routes`).
pub fn routes() -> Router<AppState> {
    let evidence_limit = crate::api::helpline::MAX_EVIDENCE_BYTES + 64 * 1024;
    Router::new()
        .route("/staff/helpline", get(cases::list))
        .route("/staff/helpline/cases", post(intake::create))
        .route("/staff/helpline/cases/new", get(intake::new_form))
        .route("/staff/helpline/cases/{id}", get(cases::show))
        .route("/staff/helpline/cases/{id}/requests", post(cases::add_request))
        .route("/staff/helpline/cases/{id}/referrals", post(cases::refer))
        .route("/staff/helpline/cases/{id}/hashes", post(cases::add_hashes))
        .route("/staff/helpline/cases/{id}/hash-notices", post(cases::file_hash_notice))
        .route(
            "/staff/helpline/cases/{id}/evidence",
            post(evidence::upload_evidence).layer(DefaultBodyLimit::max(evidence_limit)),
        )
        .route("/staff/helpline/cases/{id}/police-bundle", get(evidence::police_bundle))
        .route("/staff/helpline/requests/{id}/answer", post(cases::record_answer))
        .route("/staff/helpline/requests/{id}/check", post(cases::check_now))
        .route("/staff/helpline/requests/{id}/sent", post(cases::mark_sent))
        .route("/staff/helpline/platforms", get(platforms::list).post(platforms::create))
        .route("/staff/helpline/platforms/{id}/pack", get(figures::pack))
        .route("/staff/helpline/league", get(figures::league))
}

use crate::pages::Ctx;
pub use crate::staff::pages::when;

/// An optional time as [`when`] writes it, or "—".
pub fn when_opt(ctx: &Ctx, t: Option<OffsetDateTime>) -> String {
    t.map_or_else(|| "—".to_owned(), |t| when(ctx, t))
}

/// The fields of the new-case form in their order on the page, with the catalogue keys of their
/// labels (`summary_lines`).
pub const NEW_CASE_FIELDS: &[(&str, &str)] = &[
    ("summary", t("helpline-case-summary")),
    ("channel", t("helpline-case-channel")),
    ("image_kind", t("helpline-case-kind")),
    ("sextortion", t("helpline-case-sextortion")),
    ("exposure", t("helpline-case-exposure")),
    ("minor_involved", t("helpline-case-minor")),
    ("municipality", t("helpline-case-municipality")),
    ("reporting_organisation", t("helpline-case-organisation")),
    ("consent", t("helpline-case-consent")),
    ("name", t("helpline-contact-name")),
    ("email", t("helpline-contact-email")),
    ("phone", t("helpline-contact-phone")),
];

/// The fields of the add-platform form in their order on the page, with their labels' keys.
pub const PLATFORM_FIELDS: &[(&str, &str)] = &[
    ("name", t("helpline-platform-name")),
    ("staydown_url", t("helpline-platform-staydown-url")),
    ("api_key", t("helpline-platform-key")),
    ("email", t("helpline-platform-email")),
    ("web_form_url", t("helpline-platform-web-form")),
    ("member_state", t("helpline-platform-member-state")),
    ("digital_services_coordinator", t("helpline-platform-dsc")),
    ("channel", t("helpline-platform-channel")),
    ("language", t("helpline-platform-language")),
    ("trusted_flagger", t("helpline-platform-trusted-check")),
];

/// An error summary's lines, in the order of `fields` (the form's order; fields not listed come
/// last): each field's anchor and "Label: message", so a line says which field it is about.
pub fn summary_lines(ctx: &Ctx, errors: &Errors, fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let listed =
        fields.iter().filter_map(|(f, k)| errors.get(f).map(|m| ((*f).to_owned(), format!("{}: {m}", ctx.t(k)))));
    let rest =
        errors.0.iter().filter(|(f, _)| !fields.iter().any(|(g, _)| g == f)).map(|(f, m)| (f.clone(), m.clone()));
    listed.chain(rest).collect()
}

/// A submitted urlencoded form whose CSRF token is this session's, or the readable refusal.
#[allow(
    clippy::result_large_err,
    reason = "a page handler answers with a whole page either way, as axum rejections do"
)]
pub fn checked_form(console: &Console, body: &[u8]) -> Result<FormData, Response> {
    let form = FormData::parse(body);
    if console.csrf_ok(&form.get("csrf")) { Ok(form) } else { Err(console.csrf_refused()) }
}

/// The catalogue key for a field error's code (the API's codes; messages in the page language).
fn error_key(code: &str) -> &'static str {
    match code {
        "required" => t("helpline-error-required"),
        "unknown" => t("helpline-error-unknown"),
        "too_long" => t("helpline-error-too-long"),
        "duplicate" => t("helpline-error-duplicate"),
        "not_allowed" => t("helpline-error-not-allowed"),
        "not_staydown" => t("helpline-error-not-staydown"),
        "in_future" => t("helpline-error-in-future"),
        "too_many" => t("helpline-error-too-many"),
        "control_character" => t("helpline-error-control-character"),
        "already_open" => t("helpline-error-already-open"),
        "before_draft" => t("helpline-error-before-draft"),
        "before_sent" => t("helpline-error-before-sent"),
        _ => t("helpline-error-invalid"),
    }
}

/// Field errors in the page language, keyed by form field (`contact.email` → `email`, `hashes[0]`
/// → `hashes`).
pub fn translate(console: &Console, errors: &FieldErrors) -> Errors {
    let mut out = Errors::default();
    for e in &errors.0 {
        let field = e.field.split(['.', '[']).next_back().unwrap_or(&e.field);
        let field = if e.field.starts_with("contact.") { field } else { e.field.split('[').next().unwrap_or(field) };
        let key = match (field, e.code) {
            // What a valid value looks like, where the code alone says too little.
            ("phone", "invalid") => t("helpline-error-phone"),
            ("email", "invalid") => t("helpline-error-email"),
            ("url" | "staydown_url" | "web_form_url", "invalid") => t("helpline-error-url"),
            (_, code) => error_key(code),
        };
        out.add(field, console.ctx.t(key));
    }
    out
}

/// A validation problem becomes field errors for the form; anything else the readable error
/// page (the pages' layer renders problem+json for browsers).
#[allow(
    clippy::result_large_err,
    reason = "a page handler answers with a whole page either way, as axum rejections do"
)]
pub fn form_errors(console: &Console, e: ApiError) -> Result<Errors, Response> {
    match e {
        ApiError::Validation(f) | ApiError::BadRequest(f) => Ok(translate(console, &f)),
        // The request or case changed since the page was opened (a form sent twice, or from a
        // stale page): a readable page that says so, never the API's problem+json.
        ApiError::Conflict(_) => Err(console.message(StatusCode::CONFLICT, tk("helpline-conflict"))),
        ApiError::NotFound => Err(console.message(StatusCode::NOT_FOUND, tk("staff-not-found"))),
        ApiError::Forbidden(_) => Err(console.message(StatusCode::FORBIDDEN, tk("staff-forbidden"))),
        other => {
            tracing::error!(error = %other, "a helpline form failed");
            Err(console.message(StatusCode::SERVICE_UNAVAILABLE, tk("staff-unavailable")))
        }
    }
}

/// A number with one decimal and the page language's decimal sign: `2.5`, Dutch `2,5`.
pub fn one_decimal(ctx: &Ctx, x: f64) -> String {
    let text = format!("{x:.1}");
    if ctx.code() == "nl" { text.replace('.', ",") } else { text }
}

/// `303 See Other` to `to` (after a form).
pub fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_service_time_zone_to_the_minute() {
        let mut ctx = Ctx::new(crate::pages::Lang::En, String::new(), String::new(), "/", None);
        let winter = OffsetDateTime::from_unix_timestamp(1_764_493_200).expect("time");
        let summer = OffsetDateTime::from_unix_timestamp(1_751_274_000).expect("time");
        assert_eq!(when(&ctx, winter), "2025-11-30 09:00 UTC");
        ctx.tz = jiff::tz::TimeZone::get("Europe/Amsterdam").expect("bundled");
        assert_eq!(when(&ctx, winter), "2025-11-30 10:00 CET");
        assert_eq!(when(&ctx, summer), "2025-06-30 11:00 CEST");
        assert_eq!(when_opt(&ctx, None), "—");
    }
}
