//! The decision form of the case page: `POST /staff/cases/{id}/decision` (DSA Art. 17). The form
//! becomes the API's `DecisionDraft` and goes through `api::cases::decide_case` — the same
//! validation, statement of reasons, notices, webhooks, banking and audit as
//! `POST /api/v1/cases/{id}/decision`. Field errors come back next to their fields (with
//! `aria-invalid` and `aria-describedby`), in an error summary in form order, with everything
//! typed kept. Nothing chosen under "what to do" is the no-action path; "manifestly unfounded"
//! (Art. 23(2)) goes with it.

use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use staydown_domain::decision::{DecisionDraft, EndDatesDraft};

use super::case::{Extras, respond};
use super::{Console, t, tk};
use crate::AppState;
use crate::auth::Permission;
use crate::pages::form::{Errors, FormData};
use crate::problem::ApiError;

/// The form's fields in the order the form shows them (the error summary follows it).
pub const FIELDS: [&str; 17] = [
    "visibility",
    "visibility_end",
    "account",
    "account_type",
    "account_end",
    "ground",
    "legal_ground",
    "terms_clause",
    "terms_url",
    "territorial_scope",
    "content_date",
    "content_type",
    "explanation",
    "facts",
    "automated_detection",
    "automated_decision",
    "manifestly_unfounded",
];

/// Visibility restrictions the form offers, with their label keys.
pub const VISIBILITY: [(&str, &str); 5] = [
    ("removed", t("staff-vis-removed")),
    ("disabled", t("staff-vis-disabled")),
    ("demoted", t("staff-vis-demoted")),
    ("age_restricted", t("staff-vis-age-restricted")),
    ("labelled", t("staff-vis-labelled")),
];

/// How far the decision was automated (DSA Art. 17(3)(c)), with their label keys.
pub const AUTOMATED_DECISION: [(&str, &str); 3] = [
    ("not_automated", t("staff-decide-automated-not")),
    ("partially", t("staff-decide-automated-partially")),
    ("fully", t("staff-decide-automated-fully")),
];

/// Whether the content was found by automated means (DSA Art. 17(3)(c)): as the case says (a
/// hash match at upload opened it), yes or no; with their label keys.
pub const AUTOMATED_DETECTION: [(&str, &str); 3] =
    [("", t("staff-decide-detection-case")), ("yes", t("staff-yes")), ("no", t("staff-no"))];

/// Content types the form offers, with their label keys.
pub const CONTENT_TYPES: [(&str, &str); 3] =
    [("image", t("staff-ct-image")), ("video", t("staff-ct-video")), ("synthetic_media", t("staff-ct-synthetic"))];

/// What the reviewer typed (kept across an error).
#[derive(Debug, Clone)]
pub struct DecideForm {
    pub visibility: Vec<String>,
    /// `YYYY-MM-DD`, or empty: the visibility restrictions last indefinitely.
    pub visibility_end: String,
    pub account: String,
    pub account_type: String,
    /// `YYYY-MM-DD`, or empty: the account restriction lasts indefinitely.
    pub account_end: String,
    pub ground: String,
    pub legal_ground: String,
    pub terms_clause: String,
    pub terms_url: String,
    pub territorial_scope: String,
    pub content_date: String,
    pub content_type: Vec<String>,
    pub explanation: String,
    pub facts: String,
    /// `""` (as the case says), `yes` or `no`.
    pub automated_detection: String,
    /// `not_automated`, `partially` or `fully`.
    pub automated_decision: String,
    pub manifestly_unfounded: bool,
}

impl Default for DecideForm {
    fn default() -> Self {
        DecideForm {
            visibility: Vec::new(),
            visibility_end: String::new(),
            account: String::new(),
            account_type: String::new(),
            account_end: String::new(),
            ground: String::new(),
            legal_ground: String::new(),
            terms_clause: String::new(),
            terms_url: String::new(),
            territorial_scope: "EEA".to_owned(),
            content_date: String::new(),
            content_type: vec!["image".to_owned()],
            explanation: String::new(),
            facts: String::new(),
            automated_detection: String::new(),
            automated_decision: "not_automated".to_owned(),
            manifestly_unfounded: false,
        }
    }
}

impl DecideForm {
    /// What a posted form holds (field names as [`FIELDS`]).
    pub fn from_form(f: &FormData) -> DecideForm {
        DecideForm {
            visibility: f.all("visibility"),
            visibility_end: f.get("visibility_end"),
            account: f.get("account"),
            account_type: f.get("account_type"),
            account_end: f.get("account_end"),
            ground: f.get("ground"),
            legal_ground: f.get("legal_ground"),
            terms_clause: f.get("terms_clause"),
            terms_url: f.get("terms_url"),
            territorial_scope: f.get("territorial_scope"),
            content_date: f.get("content_date"),
            content_type: f.all("content_type"),
            explanation: f.get("explanation"),
            facts: f.get("facts"),
            automated_detection: f.get("automated_detection"),
            automated_decision: f.get("automated_decision"),
            manifestly_unfounded: f.get("manifestly_unfounded") == "yes",
        }
    }

    /// Whether a checkbox value is ticked.
    pub fn has(&self, field: &str, value: &str) -> bool {
        let list = if field == "visibility" { &self.visibility } else { &self.content_type };
        list.iter().any(|v| v == value)
    }

    /// The API draft. Empty fields are left out, so the API's own defaults and messages apply.
    pub fn draft(&self) -> DecisionDraft {
        let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let no_action = self.visibility.is_empty() && self.account.is_empty();
        DecisionDraft {
            visibility: (!self.visibility.is_empty()).then(|| self.visibility.clone()),
            account: some(&self.account),
            account_type: some(&self.account_type),
            ground: if no_action { None } else { some(&self.ground) },
            legal_ground: if no_action || self.ground != "illegal" { None } else { some(&self.legal_ground) },
            terms_clause: if no_action || self.ground != "incompatible" { None } else { some(&self.terms_clause) },
            terms_url: if no_action || self.ground != "incompatible" { None } else { some(&self.terms_url) },
            territorial_scope: if no_action {
                None
            } else {
                some(&self.territorial_scope).map(|s| {
                    s.split([',', ' ']).map(str::trim).filter(|c| !c.is_empty()).map(str::to_uppercase).collect()
                })
            },
            content_date: if no_action { None } else { some(&self.content_date) },
            content_type: if no_action || self.content_type.is_empty() {
                None
            } else {
                Some(self.content_type.clone())
            },
            explanation: some(&self.explanation),
            facts: some(&self.facts),
            end_dates: (!self.visibility_end.trim().is_empty() || !self.account_end.trim().is_empty()).then(|| {
                EndDatesDraft {
                    visibility: some(&self.visibility_end),
                    account: some(&self.account_end),
                    ..Default::default()
                }
            }),
            automated_detection: match self.automated_detection.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            automated_decision: some(&self.automated_decision),
            manifestly_unfounded: self.manifestly_unfounded.then_some(true),
            ..DecisionDraft::default()
        }
    }
}

/// The catalogue key of the message shown beside a field of the form.
pub fn error_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "visibility" | "visibility_other" => t("staff-decide-err-visibility"),
        "visibility_end" | "account_end" => t("staff-decide-err-end"),
        "account" => t("staff-decide-err-account"),
        "account_type" => t("staff-decide-err-account-type"),
        "ground" => t("staff-decide-err-ground"),
        "legal_ground" => t("staff-decide-err-legal-ground"),
        "terms_clause" => t("staff-decide-err-terms-clause"),
        "terms_url" => t("staff-decide-err-terms-url"),
        "territorial_scope" => t("staff-decide-err-scope"),
        "content_date" | "start_date" => t("staff-decide-err-content-date"),
        "content_type" | "content_type_other" => t("staff-decide-err-content-type"),
        "explanation" => t("staff-decide-err-explanation"),
        "facts" => t("staff-decide-err-facts"),
        "automated_detection" => t("staff-decide-err-detection"),
        "automated_decision" => t("staff-decide-err-automated"),
        "manifestly_unfounded" => t("staff-decide-err-unfounded"),
        _ => return None,
    })
}

/// The form field that shows the API's error on `field` (`end_dates.visibility` →
/// `visibility_end`, `decision.facts` → `facts`), if the form has one.
pub fn form_field(field: &str) -> Option<&'static str> {
    let field = field.strip_prefix("decision.").unwrap_or(field);
    let base = match field {
        "end_dates.visibility" => "visibility_end",
        "end_dates.account" => "account_end",
        other => match other.split(['[', '.']).next().unwrap_or_default() {
            "visibility_other" => "visibility",
            "start_date" => "content_date",
            "content_type_other" => "content_type",
            base => base,
        },
    };
    FIELDS.iter().copied().find(|f| *f == base)
}

/// The decision form's fields as a page shows them: what was typed, the message beside each
/// field, the legal grounds to choose from. The case page shows them for a first decision, the
/// appeal page for the decision that replaces one under appeal (outcome "modified", Art. 20(4)).
#[derive(Debug, Default)]
pub struct DecisionFields {
    pub form: DecideForm,
    pub errors: Errors,
    /// (catalogue id, "title — article") in the page language.
    pub legal_grounds: Vec<(&'static str, String)>,
}

impl DecisionFields {
    /// The fields with what was typed and the errors, labels in `ctx`'s language.
    pub fn new(ctx: &crate::pages::Ctx, form: DecideForm, errors: Errors) -> Self {
        let nl = ctx.code() == "nl";
        let legal_grounds = staydown_domain::legal_grounds::LEGAL_GROUNDS
            .iter()
            .map(|g| {
                (
                    g.id,
                    format!(
                        "{} — {}",
                        if nl { g.label.nl } else { g.label.en },
                        g.reference_in(if nl { "nl" } else { "en" })
                    ),
                )
            })
            .collect();
        DecisionFields { form, errors, legal_grounds }
    }

    /// The message beside `field`, if any.
    pub fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    /// The fields with an error, in the order the form shows them.
    pub fn error_list(&self) -> Vec<(&'static str, &String)> {
        FIELDS.iter().filter_map(|f| self.errors.get(f).map(|m| (*f, m))).collect()
    }

    /// The one-line inputs after the ground: (field, label key, input type, typed value).
    pub fn text_inputs(&self) -> Vec<(&'static str, &'static str, &'static str, &str)> {
        let d = &self.form;
        vec![
            ("terms_clause", t("staff-decide-terms-clause"), "text", d.terms_clause.as_str()),
            ("terms_url", t("staff-decide-terms-url"), "url", d.terms_url.as_str()),
            ("territorial_scope", t("staff-decide-scope"), "text", d.territorial_scope.as_str()),
            ("content_date", t("staff-decide-content-date"), "date", d.content_date.as_str()),
        ]
    }

    /// The text areas: (field, label key, typed value).
    pub fn text_areas(&self) -> Vec<(&'static str, &'static str, &str)> {
        let d = &self.form;
        vec![
            ("explanation", t("staff-decide-explanation"), d.explanation.as_str()),
            ("facts", t("staff-decide-facts"), d.facts.as_str()),
        ]
    }

    /// The label key of an account option.
    pub fn option_key(&self, value: &str) -> &'static str {
        match value {
            "suspended" => t("staff-account-suspended"),
            "terminated" => t("staff-account-terminated"),
            "private" => t("staff-account-private"),
            _ => t("staff-account-business"),
        }
    }
}

/// `POST /staff/cases/{id}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::Decide) {
        return Ok(refused);
    }
    let data = FormData::parse(&body);
    let typed = DecideForm::from_form(&data);
    if !console.csrf_ok(&data.get("csrf")) {
        // Nothing is recorded; the page comes back with what was typed and a fresh token, so a
        // form left open past its session's token is sent again, not typed again.
        let general =
            format!("{} {}", console.ctx.t("staff-form-expired-title"), console.ctx.t("staff-decide-expired"));
        let extras = Extras { decide: Some((typed, Errors::default(), Some(general))), ..Extras::default() };
        return respond(&state, &console, &id, StatusCode::FORBIDDEN, extras).await;
    }
    match crate::api::cases::decide_case(&state, &console.caller(), &id, typed.draft()).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/cases/{id}?done=decided")).into_response()),
        Err(ApiError::Validation(found)) => {
            let mut errors = Errors::default();
            let mut general = Vec::new();
            for e in &found.0 {
                match form_field(&e.field).and_then(|f| error_key(f).map(|key| (f, key))) {
                    Some((field, key)) => errors.add(field, console.ctx.t(key)),
                    None => general.push(e.message.clone()),
                }
            }
            let general = (!general.is_empty())
                .then(|| format!("{} {}", console.ctx.t("staff-decide-err-general"), general.join("; ")));
            let extras = Extras { decide: Some((typed, errors, general)), ..Extras::default() };
            respond(&state, &console, &id, StatusCode::UNPROCESSABLE_ENTITY, extras).await
        }
        Err(ApiError::Conflict(_)) => {
            // Decided by someone else meanwhile: the page shows their decision, and what this
            // person typed stays on it (not recorded) instead of being lost.
            let general =
                format!("{} {}", console.ctx.t("staff-decide-closed-title"), console.ctx.t("staff-decide-closed-text"));
            let extras = Extras { decide: Some((typed, Errors::default(), Some(general))), ..Extras::default() };
            respond(&state, &console, &id, StatusCode::CONFLICT, extras).await
        }
        Err(ApiError::NotFound) => Ok(console.message(StatusCode::NOT_FOUND, tk("staff-not-found"))),
        Err(e) => Err(e),
    }
}
