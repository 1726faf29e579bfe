//! `POST /api/v1/notices` (DSA Art. 16 intake, Art. 22 trusted flaggers, Art. 9 orders) and
//! `GET /api/v1/notices/{id}` (the notifier's tracking view).
//!
//! A 201 is sent only after the notice, its case, its audit entries and the confirmation of
//! receipt (Art. 16(4)) are committed together.

use axum::{Extension, Json};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use staydown_domain::notice::{NoticeDraft, validate_notice};
use staydown_domain::secret_digest;
use staydown_store::StoredNotice;
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{Caller, Permission, generate_tracking_token};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// The receipt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeCreated {
    id: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
    /// Shown once: keep it to follow the notice. Only its digest is stored.
    tracking_token: String,
    tracking_url: String,
    status: &'static str,
    /// Present for keyed callers (trusted flaggers, authorities, platform).
    #[serde(skip_serializing_if = "Option::is_none")]
    case_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<u8>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    deadline: Option<OffsetDateTime>,
}

/// A notice that intake accepted and stored.
#[derive(Debug, Clone)]
pub struct Filed {
    /// Notice id.
    pub id: String,
    /// Receipt time.
    pub received_at: OffsetDateTime,
    /// The tracking token (shown once).
    pub tracking_token: String,
    /// Link to the tracking view.
    pub tracking_url: String,
    /// Its case.
    pub case_id: String,
    /// Priority and deadline.
    pub assessment: staydown_domain::policy::Assessment,
}

/// Validates, assesses and stores a notice durably: the one intake path, used by the API and by
/// the demo seeder alike.
pub async fn file_notice(state: &AppState, caller: &Caller, draft: NoticeDraft) -> Result<Filed, ApiError> {
    let received_at = state.now();
    let notice = validate_notice(draft, &caller.submitter(), received_at).map_err(ApiError::Validation)?;
    // A suspended notifier (DSA Art. 23) is refused by the store, in the transaction that would
    // file the notice (`StoreError::Suspended`, answered as `ApiError::NotifierSuspended`): one
    // check per group-committed batch instead of a query per notice before it.
    let notifier_ref = caller.notifier_ref(notice.notifier.as_ref().map(|c| c.email.as_str()));
    let assessment = state.policy().assess(&notice, received_at);
    let id = uuid::Uuid::now_v7().to_string();
    let new_case_id = uuid::Uuid::now_v7().to_string();
    let token = generate_tracking_token();
    let tracking_url = format!("{}{}", state.settings().public_url, crate::pages::track::url(&id, &token));
    let confirmation = notice.notifier.as_ref().map(|_| {
        let mut payload = serde_json::json!({
            "language": notice.language.as_str(),
            "notice_id": id,
            "received_at": received_at.unix_timestamp(),
            "category": notice.category,
            "tracking_url": tracking_url,
        });
        crate::outbox::seal_secrets(state, &mut payload);
        payload
    });
    let meta = StoredNotice {
        id: id.clone(),
        new_case_id,
        received_at,
        assessment,
        tracking_digest: secret_digest(&token),
        api_key_id: caller.key.as_ref().map(|k| k.id.clone()),
        actor: caller.actor(),
        notifier_ref,
        confirmation,
    };
    let receipt = state.store().insert_notice(notice, meta).await?;
    state.wake_outbox();
    Ok(Filed { id, received_at, tracking_token: token, tracking_url, case_id: receipt.case_id, assessment })
}

/// Files a notice.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: axum::http::HeaderMap,
    ApiJson(draft): ApiJson<NoticeDraft>,
) -> Result<Response, ApiError> {
    caller.require(Permission::FileNotice)?;
    // Anonymous intake is limited per address (behind trusted proxies: the forwarded one; IPv6
    // per /64) so a flood cannot drown real reports; keyed callers (trusted flaggers,
    // authorities) are identified and accountable, so not limited.
    if caller.key.is_none()
        && let Some(key) = crate::limiter_key_of(&state, peer.map(|Extension(ConnectInfo(a))| a), &headers)
        && let Err(not_until) = state.intake_limiter().check_key(&key)
    {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
        return Err(ApiError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
    }
    let filed = file_notice(&state, &caller, draft).await?;
    let keyed = caller.key.is_some();
    let location = format!("/api/v1/notices/{}", filed.id);
    let body = NoticeCreated {
        id: filed.id,
        received_at: filed.received_at,
        tracking_token: filed.tracking_token,
        tracking_url: filed.tracking_url,
        status: "received",
        case_id: keyed.then_some(filed.case_id),
        priority: keyed.then_some(filed.assessment.priority),
        deadline: keyed.then_some(filed.assessment.deadline),
    };
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenQuery {
    pub(crate) token: Option<String>,
    /// Page only: which form the browser just sent (`appeal`, `withdrawn`), for a confirmation line.
    pub(crate) done: Option<String>,
    /// Page only: the language switch (`pages::i18n`).
    #[allow(dead_code)]
    lang: Option<String>,
}

/// The notifier's view.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    id: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
    status: &'static str,
    source: &'static str,
    category: String,
    keywords: Vec<String>,
    locations: Vec<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    acknowledged_at: Option<OffsetDateTime>,
    /// The decision, once there is one (DSA Art. 16(5)).
    #[schema(schema_with = decision_schema)]
    decision: Option<serde_json::Value>,
}

fn decision_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::api::openapi::nullable_ref("NoticeDecision")
}

/// Shows a notice to whoever holds its tracking token (query `token` or header `X-Tracking-Token`):
/// JSON for machines, the tracking page (`pages::track`) for a browser (`Accept: text/html`).
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    ctx: crate::pages::Ctx,
) -> Result<Response, ApiError> {
    let token = q.token.or_else(|| headers.get("x-tracking-token").and_then(|v| v.to_str().ok()).map(str::to_owned));
    let Some(token) = token.filter(|t| !t.is_empty()) else { return Err(ApiError::NotFound) };
    if crate::pages::errors::wants_html(&headers) {
        let flash = crate::pages::track::flash(&ctx, q.done.as_deref());
        return Ok(crate::pages::track::page(&state, ctx, &id, &token, Default::default(), String::new(), flash).await);
    }
    let status = state.store().notice_status(&id, &secret_digest(&token)).await?.ok_or(ApiError::NotFound)?;
    let decision = state.store().notice_decision(&id).await?.map(|d| {
        let redress = crate::api::cases::redress(&state, &d.id, d.decided_at);
        let reversed = d.status == "reversed";
        let texts = if reversed {
            staydown_domain::statement::reversed_notice()
        } else {
            staydown_domain::statement::decision_notice(&d.decision, &redress, &id)
        };
        serde_json::json!({
            "id": d.id,
            "decided_at": d.decided_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "status": d.status,
            "restricts": d.decision.restricts() && !reversed,
            "automated_detection": d.decision.automated_detection,
            "automated_decision": d.decision.automated_decision.as_str(),
            "redress": redress,
            "text": texts,
        })
    });
    Ok(Json(NoticeView {
        id: status.id,
        received_at: status.received_at,
        // One set of status names with the receipt: a case not yet picked up is `received`.
        status: match status.case_state {
            staydown_domain::case::CaseState::New => "received",
            other => other.as_str(),
        },
        source: status.source.as_str(),
        category: status.category,
        keywords: status.keywords,
        locations: status.locations,
        acknowledged_at: status.acknowledged_at,
        decision,
    })
    .into_response())
}
