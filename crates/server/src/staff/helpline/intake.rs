//! The helpline's intake form (`/staff/helpline/cases/new`, `POST /staff/helpline/cases`): a help
//! case opened through the JSON API's own validation (`api::helpline::open_case`), with the
//! person's contact details kept apart; sent twice, it opens one case (`pages::once`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawForm, State};
use axum::response::{IntoResponse, Response};
use staydown_domain::helpline::{ContactDraft, HelpCaseDraft};

use super::cases::opt;
use super::{checked_form, form_errors, see_other};
use crate::AppState;
use crate::api::helpline as api;
use crate::auth::Permission;
use crate::pages::Ctx;
use crate::pages::form::{Errors, FormData};
use crate::staff::pages::{Chrome, Console};

/// `GET /staff/helpline/cases/new` and its re-display with errors.
#[derive(Template, WebTemplate)]
#[template(path = "staff/helpline/new_case.html")]
pub struct NewCasePage {
    ctx: Ctx,
    chrome: Chrome,
    errors: Errors,
    typed: FormData,
    /// This form's submission value (`pages::once`): sent twice, it opens one case.
    submission: String,
}

impl NewCasePage {
    fn summary(&self) -> Vec<(String, String)> {
        super::summary_lines(&self.ctx, &self.errors, super::NEW_CASE_FIELDS)
    }
    fn error(&self, name: &str) -> Option<&String> {
        self.errors.get(name)
    }
    fn invalid(&self, name: &str) -> &'static str {
        if self.errors.get(name).is_some() { "field invalid" } else { "field" }
    }
    fn described(&self, name: &str, hint: bool) -> String {
        let mut ids = Vec::new();
        if hint {
            ids.push(format!("{name}-hint"));
        }
        if self.errors.get(name).is_some() {
            ids.push(format!("{name}-error"));
        }
        ids.join(" ")
    }
    fn val(&self, name: &str) -> String {
        self.typed.get(name)
    }
    fn is(&self, name: &str, value: &str) -> bool {
        self.typed.get(name) == value
    }
}

/// The intake form.
pub async fn new_form(console: Console) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    Ok(NewCasePage {
        ctx: console.ctx,
        chrome: console.chrome,
        errors: Errors::default(),
        typed: FormData::default(),
        submission: crate::pages::once::new_submission(),
    }
    .into_response())
}

fn parse_vocab<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    if value.is_empty() { None } else { serde_json::from_value(serde_json::Value::String(value.to_owned())).ok() }
}

/// `POST /staff/helpline/cases`: opens a case (the API's validation), then shows it.
pub async fn create(
    State(state): State<AppState>,
    console: Console,
    RawForm(body): RawForm,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    let form = checked_form(&console, &body)?;
    let mut errors = Errors::default();
    let vocab = |field: &str| -> Option<String> {
        let v = form.get(field);
        if v.is_empty() { None } else { Some(v) }
    };
    let (channel, kind, exposure, minor) =
        (vocab("channel"), vocab("image_kind"), vocab("exposure"), vocab("minor_involved"));
    let contact =
        ContactDraft { name: opt(form.get("name")), email: opt(form.get("email")), phone: opt(form.get("phone")) };
    let has_contact = contact.name.is_some() || contact.email.is_some() || contact.phone.is_some();
    let draft = HelpCaseDraft {
        summary: opt(form.get("summary")),
        channel: channel.as_deref().and_then(parse_vocab),
        image_kind: kind.as_deref().and_then(parse_vocab),
        sextortion: Some(form.get("sextortion") == "yes"),
        exposure: exposure.as_deref().and_then(parse_vocab),
        minor_involved: minor.as_deref().and_then(parse_vocab),
        municipality: opt(form.get("municipality")),
        consent: Some(form.get("consent") == "yes"),
        reporting_organisation: opt(form.get("reporting_organisation")),
        contact: has_contact.then_some(contact),
    };
    // A second send of the same form (double click, reload of the answer) opens one case.
    let submission = form.get(crate::pages::once::FIELD);
    let ctx = console.ctx.clone();
    let filing = async {
        match api::open_case(&state, &console.caller().principal(), draft).await {
            Ok(id) => return see_other(&format!("/staff/helpline/cases/{id}")),
            Err(e) => match form_errors(&console, e) {
                Ok(found) => {
                    for (field, message) in found.0 {
                        errors.add(&field, message);
                    }
                }
                Err(r) => return r,
            },
        }
        let kept = if crate::pages::once::well_formed(&submission) {
            submission.clone()
        } else {
            crate::pages::once::new_submission()
        };
        let mut page = NewCasePage { ctx: console.ctx, chrome: console.chrome, errors, typed: form, submission: kept }
            .into_response();
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        page
    };
    Ok(crate::pages::once::file_once(&state, &ctx, "staff:/staff/helpline/cases", &submission, &body, filing).await)
}
