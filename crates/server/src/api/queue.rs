//! `GET /api/v1/queue`: open cases for reviewers, by deadline then priority (DSA Art. 16(6), 22),
//! with filters (source, category, priority, overdue, assigned to me, AI-generated) and search by
//! URL, content id or hash (`q`).

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use staydown_domain::notice::Source;
use staydown_domain::validation::FieldErrors;
use staydown_store::QueueFilter;

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::problem::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    limit: Option<i64>,
    /// A notice source: `article_16`, `trusted_flagger`, `authority_order`, `own_initiative`, `automated_match`.
    source: Option<String>,
    /// A statement category (`STATEMENT_CATEGORY_…`).
    category: Option<String>,
    /// 0 (most urgent) to 9.
    priority: Option<u8>,
    /// `true`: only overdue cases; `false`: only cases still within their deadline.
    overdue: Option<bool>,
    /// `me`: cases the caller has taken.
    assigned: Option<String>,
    /// `true`: cases where a notice says the content is AI-generated; `false`: none says so.
    ai_generated: Option<bool>,
    /// A URL, a platform content id, or a SHA-256 / MD5 / PDQ hash (hex).
    q: Option<String>,
}

/// Turns the query into a store filter, collecting every field problem.
pub fn queue_filter(q: &QueueQuery, caller: &Caller) -> Result<QueueFilter, ApiError> {
    let mut errors = FieldErrors::default();
    if let Some(source) = &q.source
        && Source::parse(source).is_none()
    {
        errors.push(
            "source",
            "invalid",
            "one of article_16, trusted_flagger, authority_order, own_initiative, automated_match",
        );
    }
    if q.category.as_ref().is_some_and(|c| c.is_empty() || c.len() > 100) {
        errors.push("category", "invalid", "a statement category such as STATEMENT_CATEGORY_CYBER_VIOLENCE");
    }
    if q.priority.is_some_and(|p| p > 9) {
        errors.push("priority", "invalid", "must be between 0 and 9");
    }
    if q.assigned.as_deref().is_some_and(|a| a != "me") {
        errors.push("assigned", "invalid", "only `me` is supported");
    }
    let search = match q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Vec::new(),
        Some(term) if term.len() > 2048 => {
            errors.push("q", "too_long", "at most 2048 characters");
            Vec::new()
        }
        Some(term) => search_terms(term),
    };
    errors
        .into_result(QueueFilter {
            source: q.source.clone(),
            category: q.category.clone(),
            priority: q.priority,
            overdue: q.overdue,
            assignee: q.assigned.as_ref().map(|_| caller.principal()),
            ai_generated: q.ai_generated,
            search,
        })
        .map_err(ApiError::Validation)
}

/// What a search term may be stored as: a URL as given and normalised like intake does; a hash
/// in lower case; a content id as given.
pub fn search_terms(term: &str) -> Vec<String> {
    let mut terms = vec![term.to_owned()];
    if let Ok(url) = url::Url::parse(term)
        && matches!(url.scheme(), "http" | "https")
    {
        terms.push(staydown_domain::notice::normalize_url(&url));
    }
    if term.chars().all(|c| c.is_ascii_hexdigit()) {
        terms.push(term.to_ascii_lowercase());
    }
    terms.sort();
    terms.dedup();
    terms
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueEntry {
    case_id: String,
    state: &'static str,
    priority: u8,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    deadline: OffsetDateTime,
    overdue: bool,
    category: String,
    notice_count: i64,
    sources: Vec<&'static str>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    opened_at: OffsetDateTime,
    /// Who has taken the case (`account:<id>`).
    assignee: Option<String>,
    /// When it was first picked up.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    picked_up_at: Option<OffsetDateTime>,
}

/// Lists open cases.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Vec<QueueEntry>>, ApiError> {
    caller.require(Permission::ViewQueue)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "invalid", "must be between 1 and 1000"));
    }
    let filter = queue_filter(&q, &caller)?;
    let now = state.now();
    let items = state.store().review_queue(&filter, now, limit).await?;
    Ok(Json(
        items
            .into_iter()
            .map(|r| (r.item, r.assignee, r.picked_up_at))
            .map(|(i, assignee, picked_up_at)| QueueEntry {
                case_id: i.case_id,
                state: i.state.as_str(),
                priority: i.priority,
                deadline: i.deadline_at,
                overdue: i.deadline_at < now,
                category: i.category,
                notice_count: i.notice_count,
                sources: i.sources.iter().map(|s| s.as_str()).collect(),
                opened_at: i.created_at,
                assignee,
                picked_up_at,
            })
            .collect(),
    ))
}
