//! `GET /staff/appeals` (open internal complaints, oldest first, with their age) and
//! `/staff/appeals/{id}` (the decision under appeal and, for a senior reviewer, the form that
//! decides the appeal). DSA Art. 20: the appeal goes through `api::decisions::resolve_appeal`, which
//! enforces the four-eyes rule across the whole chain; a refusal is shown as a readable error.
//! The page offers all three outcomes of Art. 20(4): "upheld", "reversed", and "modified" — a
//! new decision, made with the case page's decision fields, replaces the one under appeal (the
//! way out when reversing a "no action" decision would leave the content with no decision).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use staydown_domain::appeal::AppealDecisionDraft;

use super::case::restriction_key;
use super::decide::{DecideForm, DecisionFields};
use super::{Chrome, Console, t, tk, when};
use crate::AppState;
use crate::auth::Permission;
use crate::pages::Ctx;
use crate::pages::form::{Errors, FormData};
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
    /// What the decision under appeal did, in words (its restrictions, or "no action").
    pub decided: String,
}

/// What a decision did, in the page language: its restrictions joined, or "No action".
fn decided_in_words(ctx: &Ctx, decision: &staydown_store::DecisionRecord) -> String {
    let r = &decision.decision.restrictions;
    let mut keys: Vec<&'static str> = r.visibility.iter().map(|v| restriction_key(v.as_str())).collect();
    if let Some(a) = r.account {
        keys.push(restriction_key(a.as_str()));
    }
    if keys.is_empty() {
        return ctx.t("staff-decide-no-action");
    }
    keys.into_iter().map(|k| ctx.t(k)).collect::<Vec<_>>().join(", ")
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
        let decided = match state.store().decision(&a.decision_id).await? {
            Some(d) => decided_in_words(&console.ctx, &d),
            None => "—".to_owned(),
        };
        rows.push(AppealRow {
            decided,
            short: crate::staff::short_id(&a.id),
            case_short: crate::staff::short_id(&a.case_id),
            case_id: a.case_id,
            appellant: appellant_key(&a.appellant),
            received: when(&console.ctx, a.received_at),
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
    /// "Open" / "Decided" in the page language.
    state: String,
    /// The outcome's label key, once decided.
    outcome: Option<&'static str>,
    /// The decision that replaced the one under appeal (outcome "modified").
    replaced_by: Option<String>,
    decision_at: String,
    decision_by: String,
    restrictions: Vec<&'static str>,
    explanation: String,
    may_decide: bool,
    excluded: bool,
    typed: Typed,
    errors: Errors,
    /// The replacement decision's fields (outcome "modified").
    dform: DecisionFields,
    refusal: Option<String>,
}

/// What the senior reviewer typed: the outcome, the reasons, the replacement decision.
#[derive(Debug, Default)]
struct Typed {
    outcome: String,
    reasons: String,
    decision: DecideForm,
}

/// The catalogue key of an appeal outcome (DSA Art. 20(4)).
pub fn outcome_key(outcome: &str) -> &'static str {
    match outcome {
        "upheld" => t("staff-appeal-upheld"),
        "reversed" => t("staff-appeal-reversed"),
        _ => t("staff-appeal-modified"),
    }
}

impl AppealPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
    /// Every field with an error, in form order: the outcome, the reasons, then the replacement
    /// decision's fields (their ids carry the `d-` prefix of the decision fields).
    fn error_links(&self) -> Vec<(String, &String)> {
        let own = ["outcome", "reasons"].into_iter().filter_map(|f| self.errors.get(f).map(|m| (format!("ap-{f}"), m)));
        own.chain(self.dform.error_list().into_iter().map(|(f, m)| (format!("d-{f}"), m))).collect()
    }
}

async fn page(
    state: &AppState,
    console: &Console,
    id: &str,
    status: StatusCode,
    mut typed: Typed,
    errors: (Errors, Errors),
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
    let who = super::names::Principals::load(store, &console.ctx).await?;
    let replaced_by = match &appeal.outcome {
        Some(staydown_domain::appeal::AppealOutcome::Modified) => store
            .case_decisions(&decision.case_id)
            .await?
            .into_iter()
            .find(|d| d.replaces.as_deref() == Some(decision.id.as_str()))
            .map(|d| d.id),
        _ => None,
    };
    let (errors, decision_errors) = errors;
    let dform = DecisionFields::new(&console.ctx, std::mem::take(&mut typed.decision), decision_errors);
    let page = AppealPage {
        ctx: console.ctx.clone(),
        chrome: console.chrome.clone(),
        short: crate::staff::short_id(&appeal.id),
        id: appeal.id.clone(),
        case_id: decision.case_id.clone(),
        appellant: appellant_key(appeal.appellant.as_str()),
        received: when(&console.ctx, appeal.received_at),
        reason: appeal.reason.clone(),
        state: console.ctx.t(if appeal.state == "open" { "staff-appeal-open" } else { "staff-appeal-decided" }),
        outcome: appeal.outcome.map(|o| outcome_key(o.as_str())),
        replaced_by,
        decision_at: when(&console.ctx, decision.decided_at),
        decision_by: who.name(&decision.decided_by),
        restrictions,
        explanation: decision.decision.explanation.clone(),
        may_decide: console.may(Permission::DecideAppeal) && appeal.state == "open",
        excluded,
        typed,
        errors,
        dform,
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
    page(&state, &console, &id, StatusCode::OK, Typed::default(), Default::default(), None).await
}

/// `POST /staff/appeals/{id}/decision`: `outcome` (`upheld`, `reversed`, `modified`), `reasons`,
/// and with `modified` the replacement decision's fields (named as on the case page's form).
pub async fn decide(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::DecideAppeal) {
        return Ok(refused);
    }
    let data = FormData::parse(&body);
    if !console.csrf_ok(&data.get("csrf")) {
        return Ok(console.csrf_refused());
    }
    let typed = Typed {
        outcome: data.get("outcome").trim().to_owned(),
        reasons: data.get("reasons").trim().to_owned(),
        decision: DecideForm::from_form(&data),
    };
    let outcome = matches!(typed.outcome.as_str(), "upheld" | "reversed" | "modified").then(|| typed.outcome.clone());
    let modified = outcome.as_deref() == Some("modified");
    let draft = AppealDecisionDraft {
        outcome: outcome.clone(),
        reasons: (!typed.reasons.is_empty()).then(|| typed.reasons.clone()),
        decision: modified.then(|| typed.decision.draft()),
    };
    let mut errors = Errors::default();
    if outcome.is_none() {
        errors.add("outcome", console.ctx.t("staff-appeal-err-outcome"));
    }
    if typed.reasons.is_empty() {
        errors.add("reasons", console.ctx.t("staff-appeal-err-reasons"));
    }
    if !errors.is_empty() {
        let errors = (errors, Errors::default());
        return page(&state, &console, &id, StatusCode::UNPROCESSABLE_ENTITY, typed, errors, None).await;
    }
    match crate::api::decisions::resolve_appeal(&state, &console.caller(), &id, draft).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/appeals/{id}")).into_response()),
        Err(ApiError::Forbidden(_)) => {
            let refusal = Some(console.ctx.t("staff-appeal-four-eyes"));
            page(&state, &console, &id, StatusCode::FORBIDDEN, typed, Default::default(), refusal).await
        }
        Err(ApiError::Validation(found)) => {
            let mut decision_errors = Errors::default();
            let mut general = Vec::new();
            for e in &found.0 {
                if e.field == "outcome" {
                    errors.add("outcome", console.ctx.t("staff-appeal-err-outcome"));
                } else if e.field == "reasons" {
                    errors.add("reasons", console.ctx.t("staff-appeal-err-reasons"));
                } else if e.field == "decision" {
                    // "modified" needs a replacement decision; the API names the whole object.
                    errors.add("outcome", console.ctx.t("staff-appeal-err-modified"));
                } else if let Some((field, key)) =
                    super::decide::form_field(&e.field).and_then(|f| super::decide::error_key(f).map(|key| (f, key)))
                {
                    decision_errors.add(field, console.ctx.t(key));
                } else {
                    general.push(e.message.clone());
                }
            }
            let refusal = (!general.is_empty())
                .then(|| format!("{} {}", console.ctx.t("staff-decide-err-general"), general.join("; ")));
            let errors = (errors, decision_errors);
            page(&state, &console, &id, StatusCode::UNPROCESSABLE_ENTITY, typed, errors, refusal).await
        }
        Err(ApiError::Conflict(_)) => {
            let refusal = Some(console.ctx.t("staff-appeal-already-decided"));
            page(&state, &console, &id, StatusCode::CONFLICT, typed, Default::default(), refusal).await
        }
        Err(ApiError::NotFound) => Ok(console.message(StatusCode::NOT_FOUND, tk("staff-not-found"))),
        Err(e) => Err(e),
    }
}
