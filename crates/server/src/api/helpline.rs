//! `/api/v1/helpline/…`: helpline mode's JSON API (issue 13) — the platform registry, help cases,
//! removal requests and their answers, URL checks, the league table, the yearly figures and the
//! escalation pack.
//!
//! The helpline's side of DSA Art. 16 and 22. Handlers authenticate (`caseworker`; figures also
//! for admins and auditors), parse, validate in `domain::helpline`, store in `store::helpline`
//! and leave sending and following to `crate::helpline`. No response carries a platform's API key
//! or a tracking token; contact details of the person helped are shown only when asked for, and
//! each such view is an audit entry.

use std::io::Write;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use staydown_domain::helpline::league::league as league_table;
use staydown_domain::helpline::request::{RequestDraft, RequestState, validate_request};
use staydown_domain::helpline::{
    HelpCaseDraft, PlatformChannel, PlatformDraft, ReferralKind, validate_case, validate_platform,
};
use staydown_store::{PlatformRecord, RequestAnswer, RequestRecord, StoreError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// The routes, nested under `/api/v1` by the router.
pub fn routes() -> crate::api::contract::ApiRoutes {
    crate::api::contract::ApiRoutes::new()
        .route("/helpline/platforms", get(list_platforms).post(create_platform))
        .route("/helpline/platforms/{id}/pack", get(pack))
        .route("/helpline/cases", post(create_case))
        .route("/helpline/cases/{id}", get(show_case))
        .route("/helpline/cases/{id}/contact", delete(erase_contact))
        .route("/helpline/cases/{id}/referrals", post(refer))
        .route("/helpline/cases/{id}/requests", post(create_request))
        .route("/helpline/cases/{id}/evidence", get(list_evidence).post(add_evidence))
        .route("/helpline/cases/{id}/police-bundle", get(police_bundle))
        .route("/helpline/cases/{id}/hashes", get(list_hashes).post(add_hash))
        .route("/helpline/evidence/{id}", get(view_evidence).delete(erase_evidence))
        .route("/helpline/evidence/{id}/legal-hold", post(legal_hold))
        .route("/helpline/requests/{id}", get(show_request))
        .route("/helpline/requests/{id}/answer", post(record_answer))
        .route("/helpline/requests/{id}/check", post(check_now))
        .route("/helpline/requests/{id}/release", post(release))
        .route("/helpline/sync", post(sync))
        .route("/helpline/league", get(league))
        .route("/helpline/figures", get(figures))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn opt(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(rfc3339)
}

/// A platform as shown (never its API key).
#[derive(Debug, Serialize)]
pub struct PlatformView {
    id: String,
    name: String,
    channel: &'static str,
    staydown_url: Option<String>,
    email: Option<String>,
    web_form_url: Option<String>,
    member_state: Option<String>,
    trusted_flagger: bool,
    digital_services_coordinator: Option<String>,
    has_api_key: bool,
}

impl From<PlatformRecord> for PlatformView {
    fn from(p: PlatformRecord) -> Self {
        Self {
            id: p.id,
            name: p.name,
            channel: p.channel.as_str(),
            staydown_url: p.staydown_url,
            email: p.email,
            web_form_url: p.web_form_url,
            member_state: p.member_state,
            trusted_flagger: p.trusted_flagger,
            digital_services_coordinator: p.dsc,
            has_api_key: p.api_key.is_some(),
        }
    }
}

async fn create_platform(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(draft): ApiJson<PlatformDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let mut platform = validate_platform(draft).map_err(ApiError::Validation)?;
    let id = uuid::Uuid::now_v7().to_string();
    // The helpline's key at the platform is sealed at rest when vault keys are configured.
    platform.api_key =
        platform.api_key.map(|k| crate::helpline::seal_secret(&state, &crate::helpline::api_key_context(&id), &k));
    match state.store().insert_helpline_platform(&id, &platform, &caller.principal(), state.now()).await {
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::field("name", "duplicate", "a platform with this name is registered already"));
        }
        other => other?,
    }
    let record = state.store().helpline_platform(&id).await?.ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(PlatformView::from(record))).into_response())
}

async fn list_platforms(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<PlatformView>>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    Ok(Json(state.store().helpline_platforms().await?.into_iter().map(PlatformView::from).collect()))
}

async fn create_case(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(draft): ApiJson<HelpCaseDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let case = validate_case(draft).map_err(ApiError::Validation)?;
    let id = uuid::Uuid::now_v7().to_string();
    state.store().insert_help_case(&id, &case, &caller.principal(), state.now()).await?;
    let location = format!("/api/v1/helpline/cases/{id}");
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(serde_json::json!({"id": id}))).into_response())
}

/// A removal request as shown (never the tracking token).
#[derive(Debug, Serialize)]
pub struct RequestView {
    id: String,
    case_id: String,
    platform_id: String,
    channel: &'static str,
    trusted_flagger: bool,
    url: String,
    category: String,
    legal_ground: String,
    explanation: String,
    state: &'static str,
    drafted_at: String,
    sent_at: Option<String>,
    acknowledged_at: Option<String>,
    removed_at: Option<String>,
    refused_at: Option<String>,
    no_answer_at: Option<String>,
    answer_due_at: Option<String>,
    overdue: bool,
    reminders: i64,
    send_attempts: i64,
    send_uncertain: bool,
    last_error: Option<String>,
    platform_notice_id: Option<String>,
    platform_decision_id: Option<String>,
    answer: Option<serde_json::Value>,
    hours_to_removal: Option<f64>,
    url_state: Option<String>,
    url_checked_at: Option<String>,
    offline_at: Option<String>,
    next_check_at: Option<String>,
}

fn request_view(r: RequestRecord) -> RequestView {
    RequestView {
        hours_to_removal: match (r.sent_at, r.removed_at) {
            (Some(s), Some(rm)) => Some((rm - s).as_seconds_f64().max(0.0) / 3600.0),
            _ => None,
        },
        overdue: r.state == RequestState::NoAnswer,
        id: r.id,
        case_id: r.case_id,
        platform_id: r.platform_id,
        channel: r.channel.as_str(),
        trusted_flagger: r.trusted_flagger,
        url: r.url,
        category: r.category,
        legal_ground: r.legal_ground,
        explanation: r.explanation,
        state: r.state.as_str(),
        drafted_at: rfc3339(r.drafted_at),
        sent_at: opt(r.sent_at),
        acknowledged_at: opt(r.acknowledged_at),
        removed_at: opt(r.removed_at),
        refused_at: opt(r.refused_at),
        no_answer_at: opt(r.no_answer_at),
        answer_due_at: opt(r.answer_due_at),
        reminders: r.reminders,
        send_attempts: r.send_attempts,
        send_uncertain: r.send_uncertain,
        last_error: r.last_error,
        platform_notice_id: r.remote_notice_id,
        platform_decision_id: r.remote_decision_id,
        answer: r.answer,
        url_state: r.url_state,
        url_checked_at: opt(r.url_checked_at),
        offline_at: opt(r.offline_at),
        next_check_at: opt(r.next_check_at),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseQuery {
    /// Show the contact details (audited).
    #[serde(default)]
    contact: bool,
}

async fn show_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let store = state.store();
    let case = store.help_case(&id).await?.ok_or(ApiError::NotFound)?;
    let requests: Vec<RequestView> = store.helpline_case_requests(&id).await?.into_iter().map(request_view).collect();
    let referrals: Vec<serde_json::Value> = store
        .helpline_referrals(&id)
        .await?
        .into_iter()
        .map(|(kind, at)| serde_json::json!({"kind": kind, "referred_at": rfc3339(at)}))
        .collect();
    let contact = if q.contact {
        store
            .help_case_contact(&id, &caller.principal(), state.now())
            .await?
            .map(|c| serde_json::json!({"name": c.name, "email": c.email, "phone": c.phone}))
    } else {
        None
    };
    Ok(Json(serde_json::json!({
        "id": case.id,
        "summary": case.summary,
        "channel": case.channel,
        "image_kind": case.image_kind,
        "sextortion": case.sextortion,
        "exposure": case.exposure,
        "minor_involved": case.minor_involved,
        "municipality": case.municipality,
        "consent": case.consent,
        "reporting_organisation": case.reporting_organisation,
        "created_at": rfc3339(case.created_at),
        "contact": contact,
        "referrals": referrals,
        "requests": requests,
    })))
}

async fn erase_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::HelplineWork)?;
    state.store().erase_help_case_contact(&id, &caller.principal(), state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferralBody {
    kind: Option<String>,
}

async fn refer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReferralBody>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let kinds = ReferralKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ");
    let kind = body
        .kind
        .as_deref()
        .and_then(ReferralKind::parse)
        .ok_or_else(|| ApiError::field("kind", "invalid", format!("one of: {kinds}")))?;
    state.store().help_case(&id).await?.ok_or(ApiError::NotFound)?;
    let referral = uuid::Uuid::now_v7().to_string();
    state.store().insert_helpline_referral(&referral, &id, kind.as_str(), &caller.principal(), state.now()).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": referral, "kind": kind.as_str()}))).into_response())
}

async fn create_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    ApiJson(draft): ApiJson<RequestDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let request = validate_request(draft).map_err(ApiError::Validation)?;
    let store = state.store();
    store.help_case(&case_id).await?.ok_or(ApiError::NotFound)?;
    let platform = store
        .helpline_platform(&request.platform)
        .await?
        .ok_or_else(|| ApiError::field("platform", "unknown", "no platform with this id in the registry"))?;
    let now = state.now();
    let language = request.language.map_or_else(|| platform.language.clone(), |l| l.as_str().to_owned());
    let id = uuid::Uuid::now_v7().to_string();
    let due = state.settings().helpline.answer_times.due(now, platform.trusted_flagger);
    let email = match (&platform.channel, &platform.email) {
        (PlatformChannel::Email, Some(to)) => {
            // The payload is built from the request as it will be stored.
            let draft_record = RequestRecord::for_email(&id, &case_id, &request, &platform, &language, now);
            Some(crate::helpline::email_payload(&draft_record, to, &platform.name, &language, 0))
        }
        _ => None,
    };
    let is_email = email.is_some();
    let mut record = store
        .insert_helpline_request(&id, &case_id, &request, &platform, &language, due, email, &caller.principal(), now)
        .await?;
    // Watch the URL from the start: the first check records that it was there.
    store.schedule_helpline_check(&id, Some(now)).await?;
    if is_email {
        state.wake_outbox();
    }
    if platform.channel == PlatformChannel::Staydown {
        record = crate::helpline::send(&state, &id)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .ok_or(ApiError::NotFound)?;
    }
    let location = format!("/api/v1/helpline/requests/{id}");
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(request_view(record))).into_response())
}

async fn show_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let store = state.store();
    let record = store.helpline_request(&id).await?.ok_or(ApiError::NotFound)?;
    let checks: Vec<serde_json::Value> = store
        .helpline_url_checks(&id)
        .await?
        .into_iter()
        .map(|c| serde_json::json!({"checked_at": rfc3339(c.checked_at), "state": c.state, "http_status": c.http_status, "detail": c.detail}))
        .collect();
    let mut view = serde_json::to_value(request_view(record)).map_err(|e| ApiError::Internal(e.to_string()))?;
    view["url_checks"] = checks.into();
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    /// `acknowledged`, `removed` or `refused`.
    state: Option<String>,
    /// When the platform acted (RFC 3339); now when absent.
    at: Option<String>,
    /// The platform's words, or the caseworker's note.
    note: Option<String>,
}

async fn record_answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Json<RequestView>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let mut errors = staydown_domain::validation::FieldErrors::default();
    let target = match body.state.as_deref().and_then(RequestState::parse) {
        Some(s @ (RequestState::Acknowledged | RequestState::Removed | RequestState::Refused)) => Some(s),
        _ => {
            errors.push("state", "invalid", "one of: acknowledged, removed, refused");
            None
        }
    };
    let now = state.now();
    let at = match body.at.as_deref().map(|t| OffsetDateTime::parse(t, &Rfc3339)) {
        None => Some(now),
        Some(Ok(t)) if t <= now => Some(t),
        Some(Ok(_)) => {
            errors.push("at", "in_future", "an answer cannot be recorded in the future");
            None
        }
        Some(Err(_)) => {
            errors.push("at", "invalid", "an RFC 3339 timestamp");
            None
        }
    };
    if let Some(note) = &body.note {
        staydown_domain::notice::MAX_EXPLANATION_CHARS
            .lt(&note.chars().count())
            .then(|| errors.push("note", "too_long", "at most 10000 characters"));
    }
    let (Some(target), Some(at)) = (target, at) else { return Err(ApiError::Validation(errors)) };
    if !errors.0.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let store = state.store();
    let record = store.helpline_request(&id).await?.ok_or(ApiError::NotFound)?;
    if record.state == RequestState::Drafted {
        return Err(ApiError::Conflict("the request has not been sent yet".into()));
    }
    let answer = serde_json::json!({"source": "recorded", "note": body.note, "recorded_by": caller.principal()});
    let principal = caller.principal();
    store
        .record_helpline_answer(
            &id,
            RequestAnswer { state: target, at, answer: Some(answer), decision_id: None, actor: &principal },
            now,
        )
        .await?;
    if target == RequestState::Removed {
        store.schedule_helpline_check(&id, Some(now)).await?;
    }
    Ok(Json(request_view(store.helpline_request(&id).await?.ok_or(ApiError::NotFound)?)))
}

async fn check_now(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<crate::helpline::UrlCheck>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let record = state.store().helpline_request(&id).await?.ok_or(ApiError::NotFound)?;
    let found = crate::helpline::check_request(&state, &record).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(found))
}

async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    state.store().release_helpline_send(&id, &caller.principal(), state.now()).await?;
    let record = crate::helpline::send(&state, &id)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(request_view(record)))
}

async fn sync(State(state): State<AppState>, caller: Caller) -> Result<Json<crate::helpline::SyncReport>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    Ok(Json(crate::helpline::sync(&state).await.map_err(|e| ApiError::Internal(e.to_string()))?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    /// Escalation packs only: include the victim's contact details and the case summaries.
    #[serde(default)]
    victim_details: bool,
}

/// `from`/`to` as RFC 3339 or `YYYY-MM-DD` (UTC midnight); defaults: the epoch and now.
fn period(q: &PeriodQuery, now: OffsetDateTime) -> Result<(OffsetDateTime, OffsetDateTime), ApiError> {
    let mut errors = staydown_domain::validation::FieldErrors::default();
    let mut parse = |field: &str, v: Option<&str>, default: OffsetDateTime| -> OffsetDateTime {
        let Some(v) = v else { return default };
        if let Ok(t) = OffsetDateTime::parse(v, &Rfc3339) {
            return t;
        }
        let date = time::Date::parse(v, &time::macros::format_description!("[year]-[month]-[day]"));
        match date {
            Ok(d) => d.midnight().assume_utc(),
            Err(_) => {
                errors.push(field, "invalid", "an RFC 3339 timestamp or a date YYYY-MM-DD");
                default
            }
        }
    };
    let from = parse("from", q.from.as_deref(), OffsetDateTime::UNIX_EPOCH);
    let to = parse("to", q.to.as_deref(), now + time::Duration::seconds(1));
    if from >= to && errors.0.is_empty() {
        errors.push("to", "before_from", "must be after `from`");
    }
    errors.into_result((from, to)).map_err(ApiError::Validation)
}

async fn league(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<Vec<staydown_domain::helpline::league::LeagueRow>>, ApiError> {
    caller.require(Permission::ViewHelplineFigures)?;
    let (from, to) = period(&q, state.now())?;
    let inputs = state.store().helpline_league_inputs(from, to).await?;
    Ok(Json(league_table(&inputs)))
}

async fn figures(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::ViewHelplineFigures)?;
    let (from, to) = period(&q, state.now())?;
    let store = state.store();
    let year = store.helpline_year_figures(from, to).await?;
    let rows = league_table(&store.helpline_league_inputs(from, to).await?);
    let inputs = store.helpline_league_inputs(from, to).await?;
    let mut hours: Vec<f64> = inputs
        .iter()
        .filter(|i| i.state == RequestState::Removed)
        .filter_map(|i| i.removed_at.map(|r| (r - i.sent_at).as_seconds_f64().max(0.0) / 3600.0))
        .collect();
    hours.sort_by(f64::total_cmp);
    let pairs = |v: &[(String, i64)]| {
        v.iter().map(|(k, n)| (k.clone(), serde_json::Value::from(*n))).collect::<serde_json::Map<_, _>>()
    };
    Ok(Json(serde_json::json!({
        "from": rfc3339(from),
        "to": rfc3339(to),
        "cases": year.cases,
        "by_image_kind": pairs(&year.by_image_kind),
        "by_channel": pairs(&year.by_channel),
        "by_municipality": pairs(&year.by_municipality),
        "sextortion": year.sextortion,
        "minor_involved": year.minor_involved,
        "referrals": pairs(&year.referrals),
        "requests_sent": rows.iter().map(|r| r.requests).sum::<u64>(),
        "honoured": rows.iter().map(|r| r.honoured).sum::<u64>(),
        "refused": rows.iter().map(|r| r.refused).sum::<u64>(),
        "unanswered": rows.iter().map(|r| r.unanswered).sum::<u64>(),
        "median_hours_to_removal": staydown_domain::helpline::league::median(&hours),
        "p90_hours_to_removal": staydown_domain::helpline::league::nearest_rank(&hours, 90),
    })))
}

/// Builds the escalation pack for one platform over a period: a ZIP of `requests.json`,
/// `url_checks.json`, `audit.json` (the audit entries of those requests with their hashes and the
/// chain head, so each entry's hash can be recomputed) and `manifest.json` naming every other
/// file's SHA-256. Victim details (case summaries, contact details) only when asked for.
pub async fn build_pack(
    state: &AppState,
    platform_id: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    victim_details: bool,
    actor: &str,
) -> Result<(Vec<u8>, String), ApiError> {
    let store = state.store();
    let platform = store.helpline_platform(platform_id).await?.ok_or(ApiError::NotFound)?;
    let now = state.now();
    let records = store.helpline_platform_requests(platform_id, from, to).await?;
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let mut checks = Vec::new();
    for id in &ids {
        for c in store.helpline_url_checks(id).await? {
            checks.push(serde_json::json!({
                "request_id": c.request_id, "checked_at": rfc3339(c.checked_at), "state": c.state,
                "http_status": c.http_status, "detail": c.detail,
            }));
        }
    }
    let mut requests = Vec::new();
    let mut case_ids: Vec<String> = Vec::new();
    for r in records {
        if !case_ids.contains(&r.case_id) {
            case_ids.push(r.case_id.clone());
        }
        requests.push(request_view(r));
    }
    let mut victims = Vec::new();
    if victim_details {
        for case_id in &case_ids {
            let case = store.help_case(case_id).await?;
            let contact = store.help_case_contact(case_id, actor, now).await?;
            victims.push(serde_json::json!({
                "case_id": case_id,
                "summary": case.map(|c| c.summary),
                "contact": contact.map(|c| serde_json::json!({"name": c.name, "email": c.email, "phone": c.phone})),
            }));
        }
    }
    let (entries, head_seq, head_hash) = store.helpline_audit_proof(&ids).await?;
    let audit = serde_json::json!({
        "hash": "SHA-256 over prev_hash, seq and at_ms (big-endian i64) and the length-prefixed actor, action, subject, detail (domain::audit::entry_hash)",
        "head": {"seq": head_seq, "hash": head_hash},
        "entries": entries.iter().map(|e| serde_json::json!({
            "seq": e.seq, "at_ms": e.at_ms, "actor": e.actor, "action": e.action, "subject": e.subject,
            "detail": e.detail, "prev_hash": e.prev_hash, "hash": e.hash,
        })).collect::<Vec<_>>(),
    });
    let platform_json = serde_json::json!({
        "name": platform.name, "channel": platform.channel.as_str(), "member_state": platform.member_state,
        "trusted_flagger": platform.trusted_flagger, "digital_services_coordinator": platform.dsc,
        "staydown_url": platform.staydown_url, "email": platform.email, "web_form_url": platform.web_form_url,
    });
    let pretty = |v: &serde_json::Value| serde_json::to_vec_pretty(v).map_err(|e| ApiError::Internal(e.to_string()));
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("platform.json", pretty(&platform_json)?),
        ("requests.json", pretty(&serde_json::to_value(&requests).map_err(|e| ApiError::Internal(e.to_string()))?)?),
        ("url_checks.json", pretty(&serde_json::Value::from(checks))?),
        ("audit.json", pretty(&audit)?),
    ];
    if victim_details {
        files.push(("victim_details.json", pretty(&serde_json::Value::from(victims))?));
    }
    let manifest = serde_json::json!({
        "kind": "staydown helpline escalation pack",
        "platform": platform.name,
        "from": rfc3339(from),
        "to": rfc3339(to),
        "generated_at": rfc3339(now),
        "victim_details": victim_details,
        "requests": ids.len(),
        "audit_head": {"seq": head_seq, "hash": head_hash},
        "files": files.iter().map(|(name, bytes)| serde_json::json!({
            "name": name, "bytes": bytes.len(), "sha256": hex::encode(Sha256::digest(bytes)),
        })).collect::<Vec<_>>(),
    });
    let manifest_bytes = pretty(&manifest)?;
    let manifest_sha = hex::encode(Sha256::digest(&manifest_bytes));
    files.push(("manifest.json", manifest_bytes));
    let zip_err = |e: zip::result::ZipError| ApiError::Internal(format!("zip: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    if let Ok(t) = zip::DateTime::try_from(time::PrimitiveDateTime::new(now.date(), now.time())) {
        options = options.last_modified_time(t);
    }
    for (name, bytes) in &files {
        zip.start_file(*name, options).map_err(zip_err)?;
        zip.write_all(bytes).map_err(|e| ApiError::Internal(format!("zip: {e}")))?;
    }
    let bytes = zip.finish().map_err(zip_err)?.into_inner();
    store.audit_helpline_export(actor, platform_id, &manifest_sha, victim_details, now).await?;
    Ok((bytes, manifest_sha))
}

async fn pack(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let (from, to) = period(&q, state.now())?;
    let (bytes, _) = build_pack(&state, &id, from, to, q.victim_details, &caller.principal()).await?;
    let name = format!("escalation-{id}.zip");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}

fn evidence_owner(case_id: &str) -> String {
    format!("helpline_case:{case_id}")
}

fn evidence_json(b: &staydown_store::BlobMeta) -> serde_json::Value {
    serde_json::json!({
        "id": b.id, "kind": b.kind, "content_type": b.content_type, "size": b.size, "sha256": b.sha256,
        "created_at": rfc3339(b.created_at), "retain_until": opt(b.retain_until), "legal_hold": b.legal_hold,
        "erased_at": opt(b.erased_at),
    })
}

/// Largest evidence file accepted, in bytes.
pub const MAX_EVIDENCE_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceQuery {
    /// `evidence` (default) or `screenshot`.
    kind: Option<String>,
}

/// Stores a file or screenshot for a case: the raw request body, sealed at rest with its SHA-256
/// taken at intake (the vault's `store::blobs`; every later read is an audit entry).
async fn add_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<EvidenceQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    state.store().help_case(&id).await?.ok_or(ApiError::NotFound)?;
    let kind = match q.kind.as_deref() {
        None | Some("evidence") => "evidence",
        Some("screenshot") => "screenshot",
        Some(_) => return Err(ApiError::field("kind", "invalid", "evidence or screenshot")),
    };
    if body.is_empty() {
        return Err(ApiError::field("body", "required", "send the file's bytes as the request body"));
    }
    if body.len() > MAX_EVIDENCE_BYTES {
        return Err(ApiError::PayloadTooLarge { limit: MAX_EVIDENCE_BYTES });
    }
    // Only a plain media type is kept: no parameters or free text from the client.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .filter(|v| v.len() <= 100 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"/.+-".contains(&b)))
        .unwrap_or("application/octet-stream")
        .to_owned();
    let meta = crate::blobs::seal_and_store(
        &state,
        &evidence_owner(&id),
        kind,
        &content_type,
        body.to_vec(),
        &caller.principal(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(evidence_json(&meta))).into_response())
}

async fn list_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    state.store().help_case(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(state.store().blobs_of(&evidence_owner(&id)).await?.iter().map(evidence_json).collect()))
}

async fn evidence_meta(state: &AppState, id: &str) -> Result<staydown_store::BlobMeta, ApiError> {
    let meta = match state.store().blob_meta(id).await {
        Err(StoreError::NotFound) => return Err(ApiError::NotFound),
        other => other?,
    };
    if !meta.owner.starts_with("helpline_case:") {
        return Err(ApiError::NotFound);
    }
    Ok(meta)
}

/// The file's bytes, opened and checked against its intake digest; the view is an audit entry.
async fn view_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    evidence_meta(&state, &id).await?;
    let (meta, bytes) = crate::blobs::open(&state, &id, &caller.principal(), "view").await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, meta.content_type),
            (header::HeaderName::from_static("x-content-sha256"), meta.sha256),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldBody {
    hold: Option<bool>,
    reason: Option<String>,
}

async fn legal_hold(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HoldBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    evidence_meta(&state, &id).await?;
    let hold = body.hold.ok_or_else(|| ApiError::field("hold", "required", "true or false"))?;
    let reason = body.reason.unwrap_or_default();
    if reason.chars().count() > 500 {
        return Err(ApiError::field("reason", "too_long", "at most 500 characters"));
    }
    state.store().set_blob_legal_hold(&id, hold, &reason, &caller.principal(), state.now()).await?;
    Ok(Json(evidence_json(&state.store().blob_meta(&id).await?)))
}

/// Erases the bytes on request; refused under legal hold. The description and the custody log
/// stay, so the audit chain is unbroken.
async fn erase_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::HelplineWork)?;
    evidence_meta(&state, &id).await?;
    state.store().erase_blob(&id, "erasure on request", &caller.principal(), state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The police bundle for one case: every evidence file still held (opened and digest-checked,
/// each read logged with purpose `export:police`), `custody.json` (each file's custody log from the
/// audit chain) and `manifest.json` with each file's SHA-256 at intake and in the bundle.
async fn police_bundle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    state.store().help_case(&id).await?.ok_or(ApiError::NotFound)?;
    let actor = caller.principal();
    let blobs = state.store().blobs_of(&evidence_owner(&id)).await?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut listed = Vec::new();
    for b in blobs.iter().filter(|b| b.erased_at.is_none()) {
        let (meta, bytes) = crate::blobs::open(&state, &b.id, &actor, "export:police").await?;
        let name = format!("evidence/{}", meta.id);
        listed.push(serde_json::json!({
            "name": name, "kind": meta.kind, "content_type": meta.content_type, "bytes": bytes.len(),
            "sha256_at_intake": meta.sha256, "sha256": hex::encode(Sha256::digest(&bytes)),
            "stored_at": rfc3339(meta.created_at),
        }));
        files.push((name, bytes));
    }
    let mut custody = Vec::new();
    for b in &blobs {
        let entries = state.store().blob_custody(&b.id).await?;
        custody.push(serde_json::json!({
            "blob": b.id,
            "erased_at": opt(b.erased_at),
            "entries": entries.iter().map(|e| serde_json::json!({
                "seq": e.seq, "at_ms": e.at_ms, "actor": e.actor, "action": e.action, "detail": e.detail,
                "prev_hash": e.prev_hash, "hash": e.hash,
            })).collect::<Vec<_>>(),
        }));
    }
    let custody_bytes = serde_json::to_vec_pretty(&custody).map_err(|e| ApiError::Internal(e.to_string()))?;
    listed.push(serde_json::json!({"name": "custody.json", "bytes": custody_bytes.len(), "sha256": hex::encode(Sha256::digest(&custody_bytes))}));
    files.push(("custody.json".into(), custody_bytes));
    let now = state.now();
    let manifest = serde_json::json!({
        "kind": "staydown helpline police bundle", "case": id, "generated_at": rfc3339(now), "files": listed,
    });
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| ApiError::Internal(e.to_string()))?;
    files.push(("manifest.json".into(), manifest_bytes));
    let zip_err = |e: zip::result::ZipError| ApiError::Internal(format!("zip: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in &files {
        zip.start_file(name.as_str(), options).map_err(zip_err)?;
        zip.write_all(bytes).map_err(|e| ApiError::Internal(format!("zip: {e}")))?;
    }
    let bytes = zip.finish().map_err(zip_err)?.into_inner();
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"police-bundle-{id}.zip\"")),
        ],
        bytes,
    )
        .into_response())
}

/// The bank that holds pre-emptive hashes (sextortion cases: images not yet shared), exportable
/// with `staydown bank export --bank helpline-preemptive --format csv|json|te`.
pub const PREEMPTIVE_BANK: &str = "helpline-preemptive";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HashBody {
    pdq: Option<String>,
    quality: Option<u8>,
    sha256: Option<String>,
    md5: Option<String>,
}

/// Adds hashes computed in the caseworker's browser (as on the public hash page; the image never
/// reaches the server) to the helpline's pre-emptive bank, referenced by the case id only.
async fn add_hash(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HashBody>,
) -> Result<Response, ApiError> {
    use staydown_domain::bank::{BankAction, BankDraft, BankProvenance, EntryDraft, validate_bank, validate_entry};
    caller.require(Permission::HelplineWork)?;
    let store = state.store();
    store.help_case(&id).await?.ok_or(ApiError::NotFound)?;
    let entry = validate_entry(EntryDraft {
        pdq: body.pdq,
        quality: body.quality,
        sha256: body.sha256,
        md5: body.md5,
        note: None,
        reason: Some(evidence_owner(&id)),
    })
    .map_err(ApiError::Validation)?;
    let actor = caller.principal();
    if store.bank(PREEMPTIVE_BANK).await?.is_none() {
        let bank = validate_bank(BankDraft {
            name: Some(PREEMPTIVE_BANK.into()),
            description: Some("Pre-emptive hashes from helpline cases (images not yet shared)".into()),
            action: Some(BankAction::Hold),
            threshold: None,
            provenance: Some(BankProvenance::Helpline),
            // Victims' own photos: a re-upload may well be rotated or mirrored.
            dihedral: Some(true),
        })
        .map_err(ApiError::Validation)?;
        match store.create_bank(&bank, &actor, state.now()).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let added = store.add_bank_entry(PREEMPTIVE_BANK, &entry, &actor, state.now()).await?;
    state.refresh_banks().await;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"id": added.id, "bank": PREEMPTIVE_BANK, "pdq": added.pdq, "sha256": added.sha256, "md5": added.md5})),
    )
        .into_response())
}

async fn list_hashes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let store = state.store();
    store.help_case(&id).await?.ok_or(ApiError::NotFound)?;
    if store.bank(PREEMPTIVE_BANK).await?.is_none() {
        return Ok(Json(Vec::new()));
    }
    let reason = evidence_owner(&id);
    Ok(Json(
        store
            .bank_entries(PREEMPTIVE_BANK, i64::MIN, 100_000)
            .await?
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some(reason.as_str()) && e.removed_at.is_none())
            .map(|e| serde_json::json!({"id": e.id, "pdq": e.pdq, "sha256": e.sha256, "md5": e.md5, "added_at": rfc3339(e.added_at)}))
            .collect(),
    ))
}

/// `RequestRecord` as it will be stored, to build the e-mail payload before the insert.
trait ForEmail {
    fn for_email(
        id: &str,
        case_id: &str,
        r: &staydown_domain::helpline::request::NewRequest,
        p: &PlatformRecord,
        language: &str,
        now: OffsetDateTime,
    ) -> RequestRecord;
}

impl ForEmail for RequestRecord {
    fn for_email(
        id: &str,
        case_id: &str,
        r: &staydown_domain::helpline::request::NewRequest,
        p: &PlatformRecord,
        language: &str,
        now: OffsetDateTime,
    ) -> RequestRecord {
        RequestRecord {
            id: id.to_owned(),
            case_id: case_id.to_owned(),
            platform_id: p.id.clone(),
            channel: p.channel,
            trusted_flagger: p.trusted_flagger,
            url: r.url.clone(),
            category: r.category.clone(),
            keywords: r.keywords.clone(),
            legal_ground: r.legal_ground.clone(),
            explanation: r.explanation.clone(),
            minor_involved: r.minor_involved.as_str().to_owned(),
            ai_generated: r.ai_generated.as_str().to_owned(),
            language: language.to_owned(),
            state: RequestState::Sent,
            drafted_at: now,
            sent_at: Some(now),
            acknowledged_at: None,
            removed_at: None,
            refused_at: None,
            no_answer_at: None,
            answer_due_at: None,
            reminders: 0,
            send_attempts: 0,
            send_uncertain: false,
            last_error: None,
            remote_notice_id: None,
            remote_token: None,
            remote_decision_id: None,
            answer: None,
            last_synced_at: None,
            url_state: None,
            url_checked_at: None,
            offline_at: None,
            next_check_at: None,
        }
    }
}
