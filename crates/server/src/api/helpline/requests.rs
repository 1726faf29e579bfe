//! Removal requests (DSA Art. 16): create (an e-mail or a staydown notice is sent at once; a letter
//! or a web form is sent by a person, who then marks it sent), show with every timestamp, record a
//! platform's answer, check the URL now, release a held send, and sync every open request.

use super::*;

/// A removal request as shown (never the tracking token).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    id: String,
    case_id: String,
    platform_id: String,
    channel: &'static str,
    trusted_flagger: bool,
    /// `null` for a hash-only notice.
    url: Option<String>,
    /// The hash sets of a hash-only notice.
    hashes: Option<serde_json::Value>,
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

pub(super) fn request_view(r: RequestRecord) -> RequestView {
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
        url: Some(r.url).filter(|u| !u.is_empty()),
        hashes: r.hashes,
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

pub(super) async fn create_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    ApiJson(draft): ApiJson<RequestDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let record = create(&state, &caller.principal(), &case_id, draft).await?;
    let location = format!("/api/v1/helpline/requests/{}", record.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(request_view(record))).into_response())
}

/// Validates, stores and sends a removal request: an e-mail platform's request e-mail is queued,
/// a staydown platform's notice filed at once, and the URL watched from the start. Shared with
/// the caseworker's pages.
pub async fn create(
    state: &AppState,
    actor: &str,
    case_id: &str,
    draft: RequestDraft,
) -> Result<RequestRecord, ApiError> {
    let (state, case_id) = (state.clone(), case_id.to_owned());
    let request = validate_request(draft).map_err(ApiError::Validation)?;
    let store = state.store();
    store.help_case(&case_id).await?.ok_or(ApiError::NotFound)?;
    let platform = store
        .helpline_platform(&request.platform)
        .await?
        .ok_or_else(|| ApiError::field("platform", "unknown", "no platform with this id in the registry"))?;
    // A second open request for the same URL to the same platform would be counted twice in the
    // helpline's figures and annoy the platform; point to the one already open instead.
    if !request.url.is_empty()
        && let Some(open) = store
            .helpline_case_requests(&case_id)
            .await?
            .into_iter()
            .find(|r| r.platform_id == platform.id && r.url == request.url && !r.state.is_final())
    {
        return Err(ApiError::field(
            "url",
            "already_open",
            format!("a request for this URL to this platform is still open: /api/v1/helpline/requests/{}", open.id),
        ));
    }
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
    let mut record =
        store.insert_helpline_request(&id, &case_id, &request, &platform, &language, due, email, actor, now).await?;
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
    Ok(record)
}

/// Files the case's pre-emptive hashes (made in the caseworker's browser) as one hash-only
/// trusted-flagger notice with a platform running staydown, tracked like any removal request.
/// Body: a request without `url`.
pub(super) async fn file_hash_notice(
    State(state): State<AppState>,
    caller: Caller,
    Path(case_id): Path<String>,
    ApiJson(draft): ApiJson<RequestDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let (status, record) = file_hashes(&state, &caller.principal(), &case_id, draft).await?;
    let location = format!("/api/v1/helpline/requests/{}", record.id);
    Ok((status, [(header::LOCATION, location)], Json(request_view(record))).into_response())
}

/// Validates, stores and sends a hash-only notice (shared with the caseworker's pages).
pub async fn file_hashes(
    state: &AppState,
    actor: &str,
    case_id: &str,
    draft: RequestDraft,
) -> Result<(StatusCode, RequestRecord), ApiError> {
    let store = state.store();
    store.help_case(case_id).await?.ok_or(ApiError::NotFound)?;
    let hashes: Vec<MediaHashes> = super::evidence::case_hashes(state, case_id)
        .await?
        .into_iter()
        .map(|e| MediaHashes { pdq: e.pdq, pdq_quality: e.quality, sha256: e.sha256, md5: e.md5, video: None })
        .collect();
    if hashes.is_empty() {
        return Err(ApiError::field("hashes", "required", "the case has no pre-emptive hashes yet"));
    }
    let request = validate_hash_notice(draft, hashes).map_err(ApiError::Validation)?;
    let platform = store
        .helpline_platform(&request.platform)
        .await?
        .ok_or_else(|| ApiError::field("platform", "unknown", "no platform with this id in the registry"))?;
    if platform.channel != PlatformChannel::Staydown {
        return Err(ApiError::field(
            "platform",
            "not_staydown",
            "hash-only notices go only to platforms running staydown (their screening can use them)",
        ));
    }
    let now = state.now();
    let language = request.language.map_or_else(|| platform.language.clone(), |l| l.as_str().to_owned());
    let id = uuid::Uuid::now_v7().to_string();
    let due = state.settings().helpline.answer_times.due(now, platform.trusted_flagger);
    store.insert_helpline_request(&id, case_id, &request, &platform, &language, due, None, actor, now).await?;
    let record = crate::helpline::send(state, &id)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, record))
}

pub(super) async fn show_request(
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// `acknowledged`, `removed` or `refused`.
    pub state: Option<String>,
    /// When the platform acted (RFC 3339); now when absent.
    pub at: Option<String>,
    /// The platform's words, or the caseworker's note.
    pub note: Option<String>,
}

/// The time a person gives for something that happened (field `at`, RFC 3339): now when absent;
/// a field error `in_future` (with `future`, the message) or `invalid` otherwise.
fn past_or_now(
    at: Option<&str>,
    now: OffsetDateTime,
    future: &str,
    errors: &mut staydown_domain::validation::FieldErrors,
) -> Option<OffsetDateTime> {
    match at.map(|t| OffsetDateTime::parse(t, &Rfc3339)) {
        None => Some(now),
        Some(Ok(t)) if t <= now => Some(t),
        Some(Ok(_)) => {
            errors.push("at", "in_future", future);
            None
        }
        Some(Err(_)) => {
            errors.push("at", "invalid", "an RFC 3339 timestamp");
            None
        }
    }
}

pub(super) async fn record_answer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Json<RequestView>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    Ok(Json(request_view(answer(&state, &caller.principal(), &id, body).await?)))
}

/// Records a platform's answer to a sent request (e-mail, letter, web form): `acknowledged`,
/// `removed` (a URL check follows at once) or `refused`, at `at` (RFC 3339, not in the future,
/// not before the request was sent (field error `before_sent`); now when absent). Shared with the caseworker's pages.
pub async fn answer(state: &AppState, principal: &str, id: &str, body: AnswerBody) -> Result<RequestRecord, ApiError> {
    let mut errors = staydown_domain::validation::FieldErrors::default();
    let target = match body.state.as_deref().and_then(RequestState::parse) {
        Some(s @ (RequestState::Acknowledged | RequestState::Removed | RequestState::Refused)) => Some(s),
        _ => {
            errors.push("state", "invalid", "one of: acknowledged, removed, refused");
            None
        }
    };
    let now = state.now();
    let at = past_or_now(body.at.as_deref(), now, "an answer cannot be recorded in the future", &mut errors);
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
    let record = store.helpline_request(id).await?.ok_or(ApiError::NotFound)?;
    if record.state == RequestState::Drafted {
        return Err(ApiError::Conflict("the request has not been sent yet".into()));
    }
    // An answer before the request went out would count a negative time to removal in the
    // league table.
    if let Some(sent) = record.sent_at
        && at < sent
    {
        return Err(ApiError::field("at", "before_sent", "an answer cannot come before the request was sent"));
    }
    let answer = serde_json::json!({"source": "recorded", "note": body.note, "recorded_by": principal});
    store
        .record_helpline_answer(
            id,
            RequestAnswer { state: target, at, answer: Some(answer), decision_id: None, actor: principal },
            now,
        )
        .await?;
    if target == RequestState::Removed && !record.is_hash_only() {
        store.schedule_helpline_check(id, Some(now)).await?;
    }
    store.helpline_request(id).await?.ok_or(ApiError::NotFound)
}

pub(super) async fn check_now(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<crate::helpline::UrlCheck>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    let record = state.store().helpline_request(&id).await?.ok_or(ApiError::NotFound)?;
    let found = crate::helpline::check_request(&state, &record).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(found))
}

/// When a person sent a letter or web-form request by hand.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SentBody {
    /// When it was sent (RFC 3339, not in the future, not before the draft); now when absent.
    pub at: Option<String>,
}

pub(super) async fn mark_sent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SentBody>,
) -> Result<Json<RequestView>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    Ok(Json(request_view(sent(&state, &caller.principal(), &id, body).await?)))
}

/// Records that the victim posted the letter, or the caseworker filled in the platform's web
/// form, at `at` (now when absent); the answer is due from then on, and the time to removal is
/// measured from then. Errors: field `at` (invalid, in the future, before the draft); 404; 409
/// when the request is not a drafted letter or web-form request. Shared with the caseworker's
/// pages.
pub async fn sent(state: &AppState, principal: &str, id: &str, body: SentBody) -> Result<RequestRecord, ApiError> {
    let now = state.now();
    let mut errors = staydown_domain::validation::FieldErrors::default();
    let Some(at) = past_or_now(body.at.as_deref(), now, "a request cannot be sent in the future", &mut errors) else {
        return Err(ApiError::Validation(errors));
    };
    let store = state.store();
    let record = store.helpline_request(id).await?.ok_or(ApiError::NotFound)?;
    if at < record.drafted_at {
        return Err(ApiError::field("at", "before_draft", "a request cannot be sent before it was drafted"));
    }
    let due = state.settings().helpline.answer_times.due(at, record.trusted_flagger);
    Ok(store.mark_helpline_sent(id, at, due, principal, now).await?)
}

pub(super) async fn release(
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

pub(super) async fn sync(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<crate::helpline::SyncReport>, ApiError> {
    caller.require(Permission::HelplineWork)?;
    Ok(Json(crate::helpline::sync(&state).await.map_err(|e| ApiError::Internal(e.to_string()))?))
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
            hashes: None,
        }
    }
}
