//! `GET /staff/queue`: open cases by deadline with overdue ones marked (in words, not by colour
//! alone), the API's filters as a GET form, search by URL, content id or hash, and a "Take" button
//! per case. `POST /staff/cases/{id}/take` records who picked the case up and when (DSA Art. 16(6):
//! time to pick-up is measured), through the same store call as `POST /api/v1/cases/{id}/take`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use staydown_domain::notice::Source;
use staydown_store::QueueFilter;

use super::{Chrome, Console, t, tk, when};
use crate::AppState;
use crate::auth::Permission;
use crate::pages::Ctx;
use crate::pages::form::Errors;
use crate::problem::ApiError;

/// How many cases the page lists at most.
const PAGE_SIZE: i64 = 200;

/// The filter form, as typed (every field optional; empty means "any").
#[derive(Debug, Default, Clone, Deserialize)]
pub struct QueueForm {
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub priority: String,
    /// `yes`, `no` or empty.
    #[serde(default)]
    pub overdue: String,
    /// `me` or empty.
    #[serde(default)]
    pub assigned: String,
    /// `yes`, `no` or empty.
    #[serde(default)]
    pub ai: String,
    #[serde(default)]
    pub q: String,
    /// The language switch.
    #[serde(default)]
    #[allow(dead_code)]
    lang: String,
}

/// A row of the queue.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub short: String,
    pub category: String,
    pub sources: Vec<&'static str>,
    pub priority: u8,
    pub deadline: String,
    pub overdue: bool,
    pub notices: i64,
    /// `mine`, `other` or `none`.
    pub taken: &'static str,
    /// Who has it, by name, when someone else does.
    pub taken_by: String,
}

/// The queue page.
#[derive(Template, WebTemplate)]
#[template(path = "staff/queue.html")]
pub struct QueuePage {
    ctx: Ctx,
    chrome: Chrome,
    form: QueueForm,
    errors: Errors,
    rows: Vec<Row>,
    categories: Vec<(&'static str, &'static str)>,
    may_take: bool,
}

impl QueuePage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
    fn sources(&self) -> [(&'static str, &'static str); 5] {
        SOURCES
    }
}

/// Sources and the catalogue keys of their names.
pub const SOURCES: [(&str, &str); 5] = [
    ("article_16", t("staff-source-article-16")),
    ("trusted_flagger", t("staff-source-trusted-flagger")),
    ("authority_order", t("staff-source-authority-order")),
    ("own_initiative", t("staff-source-own-initiative")),
    ("automated_match", t("staff-source-automated-match")),
];

/// The catalogue key naming a source.
pub fn source_key(source: &str) -> &'static str {
    SOURCES.iter().find(|(s, _)| *s == source).map_or(t("staff-source-unknown"), |(_, k)| k)
}

/// A category's name in the page language (the code itself when unknown).
pub fn category_label(ctx: &Ctx, id: &str) -> String {
    staydown_domain::taxonomy::category(id).map_or_else(
        || id.to_owned(),
        |c| if ctx.code() == "nl" { c.label.nl.to_owned() } else { c.label.en.to_owned() },
    )
}

fn yes_no(value: &str, field: &str, ctx: &Ctx, errors: &mut Errors) -> Option<bool> {
    match value {
        "" => None,
        "yes" => Some(true),
        "no" => Some(false),
        _ => {
            errors.add(field, ctx.t("staff-queue-invalid-choice"));
            None
        }
    }
}

/// The store filter for the form, with a message per field that is not one of the offered values.
fn filter(form: &QueueForm, console: &Console) -> (QueueFilter, Errors) {
    let ctx = &console.ctx;
    let mut errors = Errors::default();
    let source = match form.source.as_str() {
        "" => None,
        s if Source::parse(s).is_some() => Some(s.to_owned()),
        _ => {
            errors.add("source", ctx.t("staff-queue-invalid-choice"));
            None
        }
    };
    let category = match form.category.as_str() {
        "" => None,
        c if staydown_domain::taxonomy::category(c).is_some() => Some(c.to_owned()),
        _ => {
            errors.add("category", ctx.t("staff-queue-invalid-choice"));
            None
        }
    };
    let priority = match form.priority.as_str() {
        "" => None,
        p => match p.parse::<u8>() {
            Ok(p) if p <= 9 => Some(p),
            _ => {
                errors.add("priority", ctx.t("staff-queue-invalid-choice"));
                None
            }
        },
    };
    let overdue = yes_no(&form.overdue, "overdue", ctx, &mut errors);
    let ai_generated = yes_no(&form.ai, "ai", ctx, &mut errors);
    let assignee = match form.assigned.as_str() {
        "" => None,
        "me" => Some(console.session.principal()),
        _ => {
            errors.add("assigned", ctx.t("staff-queue-invalid-choice"));
            None
        }
    };
    let term = form.q.trim();
    let search = if term.is_empty() {
        Vec::new()
    } else if term.len() > 2048 || term.chars().any(char::is_control) {
        errors.add("q", ctx.t("staff-queue-search-invalid"));
        Vec::new()
    } else {
        crate::api::queue::search_terms(term)
    };
    (QueueFilter { source, category, priority, overdue, assignee, ai_generated, search }, errors)
}

/// `GET /staff/queue`.
pub async fn queue(
    State(state): State<AppState>,
    console: Console,
    Query(form): Query<QueueForm>,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::ViewQueue) {
        return Ok(refused);
    }
    // A whole case or notice id (a notifier reads theirs out on the phone) opens that case,
    // whatever its state; the queue itself lists open cases only.
    let term = form.q.trim();
    if term.len() == 36
        && term.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        && let Some(case) = state.store().case_of(&term.to_ascii_lowercase()).await?
    {
        return Ok(Redirect::to(&format!("/staff/cases/{case}")).into_response());
    }
    let (filter, errors) = filter(&form, &console);
    let now = state.now();
    let me = console.session.principal();
    let who = super::names::Principals::load(state.store(), &console.ctx).await?;
    let rows = if errors.is_empty() {
        state
            .store()
            .review_queue(&filter, now, PAGE_SIZE)
            .await?
            .into_iter()
            .map(|r| Row {
                taken_by: r.assignee.as_deref().map(|a| who.name(a)).unwrap_or_default(),
                short: crate::staff::short_id(&r.item.case_id),
                category: category_label(&console.ctx, &r.item.category),
                sources: r.item.sources.iter().map(|s| source_key(s.as_str())).collect(),
                priority: r.item.priority,
                deadline: when(&console.ctx, r.item.deadline_at),
                overdue: r.item.deadline_at < now,
                notices: r.item.notice_count,
                taken: match r.assignee.as_deref() {
                    Some(a) if a == me => "mine",
                    Some(_) => "other",
                    None => "none",
                },
                id: r.item.case_id,
            })
            .collect()
    } else {
        Vec::new()
    };
    let lang_nl = console.ctx.code() == "nl";
    let categories = staydown_domain::taxonomy::CATEGORIES
        .iter()
        .map(|c| (c.id, if lang_nl { c.label.nl } else { c.label.en }))
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let may_take = console.may(Permission::Decide);
    let Console { ctx, chrome, .. } = console;
    Ok((status, QueuePage { ctx, chrome, form, errors, rows, categories, may_take }).into_response())
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /staff/cases/{id}/take`: the person takes the case, then sees it.
pub async fn take(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::Decide) {
        return Ok(refused);
    }
    if !console.csrf_ok(&form.csrf) {
        return Ok(console.csrf_refused());
    }
    match state.store().take_case(&id, &console.session.principal(), false, state.now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/cases/{id}?taken=1")).into_response()),
        Err(staydown_store::StoreError::NotFound) => Ok(console.message(StatusCode::NOT_FOUND, tk("staff-not-found"))),
        // Someone else has it, or it is decided: the case page itself (409), which names who has
        // it or shows the decision.
        Err(staydown_store::StoreError::Conflict(_)) => {
            let flash = Some(console.ctx.t("staff-take-conflict-flash"));
            super::case::respond(
                &state,
                &console,
                &id,
                StatusCode::CONFLICT,
                super::case::Extras { flash, ..Default::default() },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
