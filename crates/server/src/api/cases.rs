//! The reviewer's side of a case: `GET /api/v1/cases/{id}` (notices, decisions, appeals) and
//! `POST /api/v1/cases/{id}/decision` (DSA Art. 17).
//!
//! A decision is stored in one transaction with the statement of reasons for the uploader
//! (Art. 17(3)), the decision notice for every notifier (Art. 16(5)), the action webhooks for the
//! platform, the audit entries and any Art. 23(2) measure it triggers.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use staydown_domain::appeal::appeal_deadline;
use staydown_domain::decision::{Decision, DecisionContext, DecisionDraft, validate_decision};
use staydown_domain::notice::Source;
use staydown_domain::secret_digest;
use staydown_domain::statement::{InternalComplaint, Redress, StatementContext, decision_notice, statement_of_reasons};
use staydown_domain::transparency::{RecordContext, transparency_record};
use staydown_domain::validation::FieldErrors;
use staydown_store::{CaseNotice, DecisionRecord, NewDecision, OutboxMessage};
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{Caller, Permission, generate_tracking_token};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// Redress options for a decision taken at `decided_at` (Art. 17(3)(f), 20, 21).
pub fn redress(state: &AppState, decision_id: &str, decided_at: OffsetDateTime) -> Redress {
    let settings = state.settings();
    Redress {
        internal_complaint: InternalComplaint {
            // The page where a person types their code and reaches the complaint form; API
            // clients appeal at `/api/v1/decisions/{id}/appeals` (webhooks carry `appeal_url`).
            url: format!("{}/complain/{decision_id}", settings.public_url),
            deadline: appeal_deadline(decided_at),
        },
        out_of_court_settlement: settings.out_of_court_settlement.clone(),
        court: settings.court.clone(),
        out_of_court_settlement_nl: settings.out_of_court_settlement_nl.clone(),
        court_nl: settings.court_nl.clone(),
        deadline_local: local_time(&settings.public.time_zone, appeal_deadline(decided_at)),
    }
}

/// `at` on the wall clock of `tz` (`[public] time_zone`), for texts people read; `None` for a
/// moment outside the zone database's range (the text then writes UTC).
pub fn local_time(tz: &jiff::tz::TimeZone, at: OffsetDateTime) -> Option<staydown_domain::statement::LocalTime> {
    let ts = jiff::Timestamp::from_nanosecond(at.unix_timestamp_nanos()).ok()?;
    let zoned = tz.to_datetime(ts);
    let date = time::Date::from_calendar_date(
        i32::from(zoned.year()),
        time::Month::try_from(u8::try_from(zoned.month()).ok()?).ok()?,
        u8::try_from(zoned.day()).ok()?,
    )
    .ok()?;
    let clock = time::Time::from_hms(u8::try_from(zoned.hour()).ok()?, u8::try_from(zoned.minute()).ok()?, 0).ok()?;
    Some(staydown_domain::statement::LocalTime {
        at: time::PrimitiveDateTime::new(date, clock),
        zone: ts.to_zoned_datetime(tz.clone()).strftime("%Z").to_string(),
    })
}

/// Everything a decision causes, ready to store with it.
pub struct Prepared {
    /// The decision row.
    pub new: NewDecision,
    /// The uploader's appeal token, shown once.
    pub uploader_token: Option<String>,
}

/// Builds the stored decision with its statement of reasons, notifier messages and webhooks.
pub fn prepare_decision(
    state: &AppState,
    caller: &Caller,
    case_id: &str,
    decision: Decision,
    sources: &[Source],
    notices: &[CaseNotice],
    personal_data: &[String],
) -> Result<Prepared, ApiError> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = state.now();
    let redress = redress(state, &id, now);
    // Everything that leaves for another party (the statement for the platform and the uploader,
    // webhooks, the notices to each notifier) carries no personal string of the case.
    let full_decision = decision;
    let decision = full_decision.redacted(personal_data);
    let statement = decision.restricts().then(|| {
        let ctx = StatementContext {
            decision_id: id.clone(),
            decided_at: now,
            sources: sources.to_vec(),
            platform_name: state.settings().platform_name.clone(),
            redress: redress.clone(),
        };
        statement_of_reasons(&decision, &ctx)
    });
    let uploader_token = decision.restricts().then(generate_tracking_token);
    let mut messages = action_webhooks(state, &id, case_id, &decision, notices, uploader_token.as_deref(), now);
    for notice in notices.iter().filter(|n| decision.notice_ids.contains(&n.id)) {
        let texts = decision_notice(&decision, &redress, &notice.id);
        messages.push(OutboxMessage {
            channel: "email",
            topic: "notice.decided",
            notice_id: Some(notice.id.clone()),
            key: format!("{id}:{}", notice.id),
            payload: serde_json::json!({
                "language": notice.language,
                "decision_id": id,
                "subject_nl": "Besluit over uw melding",
                "subject_en": "Decision on your report",
                "text_nl": texts.nl,
                "text_en": texts.en,
            }),
        });
    }
    // Stay-down. A removed image's hashes block its re-upload. A case of hash-only reports (a
    // victim's pre-emptive report: nothing online yet, and the reviewer saw only hashes) holds
    // future uploads for a person to look at instead, once a reviewer confirms the report.
    let hash_only = notices.iter().all(|n| n.locations.is_empty());
    let mut banks = Vec::new();
    if hash_only && decision.restricts() {
        banks.push(staydown_domain::bank::VICTIM_SUBMITTED_BANK);
    } else if decision.restrictions.takes_content_down() {
        banks.push(staydown_domain::bank::CONFIRMED_BANK);
    }
    if hash_only {
        // Nothing is online to act on, and there is no uploader to tell.
        messages.retain(|m| m.channel != "webhook");
    }
    let transparency = transparency_record(
        &decision,
        &RecordContext { decision_id: &id, sources, content_online: !hash_only, personal_data },
    )
    .map_err(|e| {
        let mut errors = FieldErrors::default();
        for err in e.iter() {
            errors.push(err.field.clone(), "transparency_database", err.message.clone());
        }
        ApiError::Validation(errors)
    })?;
    let new = NewDecision {
        banks,
        transparency,
        id,
        case_id: case_id.to_owned(),
        decided_by: caller.principal(),
        actor: caller.actor(),
        decided_at: now,
        statement: statement.map(|s| serde_json::to_value(s).unwrap_or_default()),
        uploader_token_digest: uploader_token.as_deref().map(secret_digest),
        messages,
        replaces: None,
        appeal_id: None,
        decision: full_decision,
    };
    Ok(Prepared { new, uploader_token })
}

/// The webhooks that carry a decision out: `content.remove`, `content.restrict`, `account.suspend`.
fn action_webhooks(
    state: &AppState,
    decision_id: &str,
    case_id: &str,
    decision: &Decision,
    notices: &[CaseNotice],
    uploader_token: Option<&str>,
    now: OffsetDateTime,
) -> Vec<OutboxMessage> {
    let r = &decision.restrictions;
    let topics = [
        (r.takes_content_down(), "content.remove"),
        (r.restricts_content_otherwise(), "content.restrict"),
        (r.restricts_account(), "account.suspend"),
    ];
    let base = &state.settings().public_url;
    let payload = serde_json::json!({
        "at": now.unix_timestamp(),
        "decision_id": decision_id,
        "case_id": case_id,
        "locations": locations(notices),
        "restrictions": r,
        "territorial_scope": decision.territorial_scope.0,
        "start_date": decision.start_date.to_string(),
        "statement_url": format!("{base}/api/v1/decisions/{decision_id}/statement"),
        "appeal_url": format!("{base}/api/v1/decisions/{decision_id}/appeals"),
        "appeal_deadline": appeal_deadline(now).unix_timestamp(),
        "uploader_appeal_token": uploader_token,
    });
    let mut payload = payload;
    crate::outbox::seal_secrets(state, &mut payload);
    webhooks(&topics, decision_id, &payload)
}

/// One webhook per topic that applies, all keyed by the decision they carry out or undo.
fn webhooks(topics: &[(bool, &'static str)], decision_id: &str, payload: &serde_json::Value) -> Vec<OutboxMessage> {
    topics
        .iter()
        .filter(|(applies, _)| *applies)
        .map(|&(_, topic)| OutboxMessage {
            channel: "webhook",
            topic,
            notice_id: None,
            key: decision_id.to_owned(),
            payload: payload.clone(),
        })
        .collect()
}

/// Every location named by the case's notices, deduplicated.
pub fn locations(notices: &[CaseNotice]) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = Vec::new();
    for l in notices.iter().flat_map(|n| n.locations.iter()) {
        if !out.contains(l) {
            out.push(l.clone());
        }
    }
    out
}

/// The webhooks that undo a decision: `content.restore`, `account.reinstate`.
pub fn restore_webhooks(
    state: &AppState,
    old: &DecisionRecord,
    notices: &[CaseNotice],
    appeal_id: &str,
) -> Vec<OutboxMessage> {
    let r = &old.decision.restrictions;
    let topics = [
        (r.takes_content_down() || r.restricts_content_otherwise(), "content.restore"),
        (r.restricts_account(), "account.reinstate"),
    ];
    let payload = serde_json::json!({
        "at": state.now().unix_timestamp(),
        "decision_id": old.id,
        "case_id": old.case_id,
        "appeal_id": appeal_id,
        "locations": locations(notices),
        "lifted": r,
    });
    webhooks(&topics, &old.id, &payload)
}

fn content_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::api::openapi::array_of("CaseContent")
}

fn decisions_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::api::openapi::array_of("DecisionRecord")
}

fn appeals_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::api::openapi::array_of("Appeal")
}

/// The case page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    id: String,
    state: &'static str,
    priority: u8,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    deadline: OffsetDateTime,
    overdue: bool,
    category: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    opened_at: OffsetDateTime,
    sources: Vec<&'static str>,
    notices: Vec<CaseNotice>,
    /// Uploads held or blocked by screening, with what the files say about themselves
    /// (provenance: AI-generated, generator, edited, and the signals behind it).
    #[schema(schema_with = content_schema)]
    content: Vec<serde_json::Value>,
    #[schema(schema_with = decisions_schema)]
    decisions: Vec<serde_json::Value>,
    #[schema(schema_with = appeals_schema)]
    appeals: Vec<serde_json::Value>,
}

/// Shows a case to staff.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    caller.require(Permission::ViewCase)?;
    let store = state.store();
    let summary = store.case_summary(&id).await?.ok_or(ApiError::NotFound)?;
    let notices = store.case_notices(&id).await?;
    let content = store
        .content_items_for_case(&id)
        .await?
        .into_iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id,
                "content_id": c.content_id,
                "url": c.url,
                "uploader": c.uploader_ref,
                "hashes": {"sha256": c.sha256, "md5": c.md5, "pdq": c.pdq, "pdq_quality": c.pdq_quality},
                "provenance": c.provenance,
                "screened_at": crate::api::rfc3339(c.created_at),
            })
        })
        .collect();
    let decisions = store.case_decisions(&id).await?.iter().map(decision_json).collect();
    let appeals = store.case_appeals(&id).await?.iter().map(super::decisions::appeal_json).collect();
    let now = state.now();
    Ok(Json(CaseView {
        id: summary.case_id,
        state: summary.state.as_str(),
        priority: summary.priority,
        deadline: summary.deadline_at,
        overdue: summary.state.is_open() && summary.deadline_at < now,
        category: summary.category,
        opened_at: summary.created_at,
        sources: summary.sources.iter().map(|s| s.as_str()).collect(),
        notices,
        content,
        decisions,
        appeals,
    }))
}

/// A stored decision as JSON for staff.
pub fn decision_json(d: &DecisionRecord) -> serde_json::Value {
    serde_json::json!({
        "id": d.id,
        "case_id": d.case_id,
        "decided_by": d.decided_by,
        "decided_at": crate::api::rfc3339(d.decided_at),
        "status": d.status,
        "ended_at": d.ended_at.map(crate::api::rfc3339),
        "replaces": d.replaces,
        "notices": d.notice_ids,
        "decision": d.decision,
        "has_statement": d.statement.is_some(),
    })
}

/// A stored decision and what the caller is shown once.
#[derive(Debug)]
pub struct Decided {
    /// The stored decision.
    pub new: NewDecision,
    /// The uploader's appeal token (only its digest is stored).
    pub uploader_token: Option<String>,
    /// Art. 23 measures it triggered.
    pub measures: Vec<staydown_store::MisuseMeasure>,
}

/// Validates and stores a first decision on an open case: the one decision path, used by the API
/// and by the demo seeder alike.
pub async fn decide_case(
    state: &AppState,
    caller: &Caller,
    case_id: &str,
    draft: DecisionDraft,
) -> Result<Decided, ApiError> {
    let store = state.store();
    let case = store.case_context(case_id).await?.ok_or(ApiError::NotFound)?;
    if !case.state.is_open() {
        return Err(ApiError::Conflict(format!(
            "the case is {}; it was already decided (appeal the decision instead)",
            case.state.as_str()
        )));
    }
    let ctx = DecisionContext {
        today: state.now().date(),
        category: case.category.clone(),
        keywords: case.keywords.clone(),
        detected_automatically: case.sources.contains(&Source::AutomatedMatch),
        notice_ids: case.notice_ids.clone(),
    };
    let decision = validate_decision(draft, &ctx).map_err(ApiError::Validation)?;
    let notices = store.case_notices(case_id).await?;
    let personal_data = store.case_personal_data(case_id).await?;
    let prepared = prepare_decision(state, caller, case_id, decision, &case.sources, &notices, &personal_data)?;
    let measures = store.record_decision(&prepared.new, &state.settings().misuse).await?;
    crate::metrics::record_decision(&prepared.new.decision);
    state.wake_outbox();
    if !prepared.new.banks.is_empty() {
        state.refresh_banks().await;
    }
    Ok(Decided { new: prepared.new, uploader_token: prepared.uploader_token, measures })
}

/// Decides a case.
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    ApiJson(draft): ApiJson<DecisionDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Decide)?;
    let decided = decide_case(&state, &caller, &case_id, draft).await?;
    let new = &decided.new;
    let id = &new.id;
    let base = &state.settings().public_url;
    let body = serde_json::json!({
        "id": id,
        "case_id": case_id,
        "decided_at": crate::api::rfc3339(new.decided_at),
        "decided_by": new.decided_by,
        "restricts": new.decision.restricts(),
        "statement_url": new.statement.as_ref().map(|_| format!("{base}/api/v1/decisions/{id}/statement")),
        "statement": new.statement,
        "uploader_appeal_token": decided.uploader_token,
        "misuse_measures": decided.measures.iter().map(|m| serde_json::json!({
            "kind": m.kind, "notifier": m.notifier_ref, "until": m.until.map(crate::api::rfc3339), "reason": m.reason,
        })).collect::<Vec<_>>(),
    });
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/v1/decisions/{id}"))], Json(body)).into_response())
}
