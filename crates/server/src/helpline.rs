//! Helpline mode's worker: files removal requests with platforms, follows them to their outcome,
//! marks the unanswered, and checks that content is really gone (issue 13).
//!
//! The helpline's side of DSA Art. 16 and 22. A platform running staydown gets a trusted-flagger
//! notice through its own `POST /api/v1/notices`; the helpline then reads that notice's tracking
//! view (`GET {staydown_url}/api/v1/notices/{id}` with `X-Tracking-Token` and
//! `Accept: application/json`), so the platform's decision and its time arrive without typing.
//! A request is stored before it is sent and claimed with a lease while sending; a send whose
//! outcome is unknown (the connection broke after the request may have arrived) is never repeated
//! by itself, only when the caseworker releases it. Every attempt for one request carries the same
//! `Idempotency-Key` ([`idempotency_key`]), so a platform running staydown answers such a retry
//! with the notice it already filed rather than filing it twice. Pre-emptive hashes go out the
//! same way as hash-only notices, tracked like any removal request (no URL to check).
//!
//! The URL check is bounded: a connect and total timeout, a byte limit on what is read, no more
//! than a few redirects, and no request to a private, loopback or link-local address (each host is
//! resolved, checked and pinned, so DNS cannot swap in an internal address between check and
//! connect). Its states are honest: `present` (2xx), `gone` (404, 410, 451) and `unknown`
//! (anything else, including timeouts and refusals to follow).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;
use staydown_domain::helpline::PlatformChannel;
use staydown_domain::helpline::request::{AnswerTimes, RequestState};
use staydown_store::{RequestAnswer, RequestRecord, StoreError};
use time::OffsetDateTime;

use crate::AppState;

/// Helpline mode's settings.
#[derive(Debug, Clone)]
pub struct HelplineSettings {
    /// How long platforms have to answer before a request counts as unanswered.
    pub answer_times: AnswerTimes,
    /// How often the worker brings open requests up to date.
    pub sync_interval: Duration,
    /// Timeout of one call to a platform's staydown API.
    pub platform_timeout: Duration,
    /// The URL check's bounds.
    pub url_check: UrlCheckSettings,
    /// How long after a check that found the content present (or could not tell) to check again.
    pub recheck_interval: Duration,
    /// How long after a check that found the content gone to check again (it may come back).
    pub recheck_gone_after: Duration,
    /// How long after drafting a request its URL stays under watch.
    pub watch_for: Duration,
}

impl Default for HelplineSettings {
    fn default() -> Self {
        Self {
            answer_times: AnswerTimes::default(),
            sync_interval: Duration::from_secs(300),
            platform_timeout: Duration::from_secs(30),
            url_check: UrlCheckSettings::default(),
            recheck_interval: Duration::from_secs(6 * 3600),
            recheck_gone_after: Duration::from_secs(7 * 86_400),
            watch_for: Duration::from_secs(180 * 86_400),
        }
    }
}

/// Bounds of the URL check.
#[derive(Debug, Clone)]
pub struct UrlCheckSettings {
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Total timeout per request.
    pub timeout: Duration,
    /// Most bytes of a body read.
    pub max_bytes: usize,
    /// Most redirects followed.
    pub max_redirects: usize,
    /// Allows loopback addresses (127.0.0.0/8, ::1) — for tests and local setups only. Private and
    /// link-local addresses stay refused.
    pub danger_allow_loopback: bool,
}

impl Default for UrlCheckSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            max_bytes: 1024 * 1024,
            max_redirects: 3,
            danger_allow_loopback: false,
        }
    }
}

/// What a URL check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UrlCheck {
    /// `present`, `gone` or `unknown`.
    pub state: &'static str,
    /// The final HTTP status, if a response came.
    pub http_status: Option<u16>,
    /// Why, in a few words.
    pub detail: String,
}

impl UrlCheck {
    fn unknown(detail: impl Into<String>) -> Self {
        Self { state: "unknown", http_status: None, detail: detail.into() }
    }
}

/// Whether an address may be fetched: public unicast only (loopback when allowed).
pub fn address_allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return address_allowed(IpAddr::V4(v4), allow_loopback);
            }
            let s = v6.segments();
            !(v6.is_unspecified() || v6.is_multicast() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Checks whether `url` still serves content, within `settings`' bounds.
pub async fn check_url(settings: &UrlCheckSettings, url: &str) -> UrlCheck {
    let mut current = match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => return UrlCheck::unknown("not an http(s) URL"),
    };
    for _ in 0..=settings.max_redirects {
        let Some(host) = current.host_str().map(str::to_owned) else { return UrlCheck::unknown("no host") };
        let port = current.port_or_known_default().unwrap_or(80);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => match tokio::time::timeout(settings.connect_timeout, tokio::net::lookup_host((bare, port))).await
            {
                Ok(Ok(found)) => found.collect(),
                Ok(Err(_)) => return UrlCheck::unknown("the host name does not resolve"),
                Err(_) => return UrlCheck::unknown("timeout resolving the host name"),
            },
        };
        let Some(addr) = addrs.first().copied() else { return UrlCheck::unknown("the host name does not resolve") };
        if addrs.iter().any(|a| !address_allowed(a.ip(), settings.danger_allow_loopback)) {
            return UrlCheck::unknown("refused: the address is private, loopback or link-local");
        }
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .resolve(bare, addr)
            .user_agent("staydown-helpline-url-check")
            .build()
        {
            Ok(c) => c,
            Err(e) => return UrlCheck::unknown(format!("client: {e}")),
        };
        let mut response = match client.get(current.clone()).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return UrlCheck::unknown("timeout"),
            Err(_) => return UrlCheck::unknown("no connection"),
        };
        let status = response.status();
        if status.is_redirection() {
            let Some(next) = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| current.join(l).ok())
            else {
                return UrlCheck {
                    state: "unknown",
                    http_status: Some(status.as_u16()),
                    detail: "redirect without a location".into(),
                };
            };
            current = next;
            continue;
        }
        // Read a bounded amount so the connection is used honestly, then drop it.
        let mut read = 0usize;
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout(settings.timeout, response.chunk()).await {
            read += chunk.len();
            if read >= settings.max_bytes {
                break;
            }
        }
        let code = status.as_u16();
        return match code {
            200..=299 => UrlCheck { state: "present", http_status: Some(code), detail: format!("status {code}") },
            404 | 410 | 451 => UrlCheck { state: "gone", http_status: Some(code), detail: format!("status {code}") },
            _ => UrlCheck { state: "unknown", http_status: Some(code), detail: format!("status {code}") },
        };
    }
    UrlCheck::unknown("too many redirects")
}

/// Prefix of a secret stored sealed with the vault.
const SEALED: &str = "sealed:v1:";

/// Seals a secret the helpline holds for a platform (its API key there, a tracking token) with
/// the vault keys when they are configured, binding `context` (what the secret belongs to); stored
/// as-is otherwise (the operator chose no encryption at rest).
pub fn seal_secret(state: &AppState, context: &str, secret: &str) -> String {
    use base64::Engine as _;
    match &state.settings().vault {
        Some(keys) => format!(
            "{SEALED}{}",
            base64::engine::general_purpose::STANDARD.encode(keys.seal(secret.as_bytes(), context.as_bytes()))
        ),
        None => secret.to_owned(),
    }
}

/// Opens a secret stored by [`seal_secret`].
pub fn open_secret(state: &AppState, context: &str, stored: &str) -> Result<String, String> {
    use base64::Engine as _;
    let Some(sealed) = stored.strip_prefix(SEALED) else { return Ok(stored.to_owned()) };
    let keys = state.settings().vault.as_ref().ok_or("a sealed secret needs the vault keys")?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(sealed).map_err(|_| "malformed sealed secret")?;
    let plain = keys.open(&bytes, context.as_bytes()).map_err(|e| format!("sealed secret: {e}"))?;
    String::from_utf8(plain).map_err(|_| "sealed secret is not text".to_owned())
}

/// The sealing context of a platform's API key.
pub fn api_key_context(platform_id: &str) -> String {
    format!("helpline_platform:{platform_id}:api_key")
}

fn token_context(request_id: &str) -> String {
    format!("helpline_request:{request_id}:tracking_token")
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SyncReport {
    /// Requests filed with staydown platforms.
    pub sent: usize,
    /// Requests whose state changed from the platform's answer.
    pub updated: usize,
    /// Requests newly marked unanswered.
    pub unanswered: usize,
    /// URL checks made.
    pub checked: usize,
    /// Calls that failed (kept for the next pass).
    pub errors: usize,
}

/// Errors of the worker.
#[derive(Debug, thiserror::Error)]
pub enum HelplineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Files one drafted request with its staydown platform, if it can be claimed. Returns the
/// request as it stands afterwards.
pub async fn send(state: &AppState, request_id: &str) -> Result<Option<RequestRecord>, HelplineError> {
    let store = state.store();
    let settings = &state.settings().helpline;
    let Some(request) = store.claim_helpline_send(request_id, state.now(), settings.platform_timeout * 2).await? else {
        return Ok(store.helpline_request(request_id).await?);
    };
    let Some(platform) = store.helpline_platform(&request.platform_id).await? else {
        store.record_helpline_send_failed(request_id, "platform not found", false, state.now()).await?;
        return Ok(store.helpline_request(request_id).await?);
    };
    let key = platform.api_key.as_deref().map(|k| open_secret(state, &api_key_context(&platform.id), k));
    let (Some(base), Some(Ok(key))) = (&platform.staydown_url, key) else {
        store
            .record_helpline_send_failed(request_id, "platform has no staydown URL or usable key", false, state.now())
            .await?;
        return Ok(store.helpline_request(request_id).await?);
    };
    let body = notice_body(&request);
    let result = state
        .http()
        .post(format!("{base}/api/v1/notices"))
        .bearer_auth(key)
        .header(reqwest::header::ACCEPT, "application/json")
        .header(crate::idempotency::HEADER, idempotency_key(request_id))
        .timeout(settings.platform_timeout)
        .json(&body)
        .send()
        .await;
    let now = state.now();
    match result {
        Ok(resp) if resp.status().as_u16() == 201 => {
            let receipt: serde_json::Value = match resp.json().await {
                Ok(v) => v,
                Err(_) => {
                    // Filed, but the receipt was lost: the platform has it; hold for the caseworker.
                    store
                        .record_helpline_send_failed(request_id, "filed but the receipt was unreadable", true, now)
                        .await?;
                    return Ok(store.helpline_request(request_id).await?);
                }
            };
            let (Some(id), Some(token)) = (receipt["id"].as_str(), receipt["tracking_token"].as_str()) else {
                store
                    .record_helpline_send_failed(request_id, "filed but the receipt had no id or token", true, now)
                    .await?;
                return Ok(store.helpline_request(request_id).await?);
            };
            let received_at = receipt["received_at"]
                .as_str()
                .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
                .unwrap_or(now);
            let due = settings.answer_times.due(now, platform.trusted_flagger);
            let token = seal_secret(state, &token_context(request_id), token);
            store.record_helpline_filed(request_id, id, &token, received_at, due, now).await?;
        }
        Ok(resp) => {
            // The platform answered and did not file it: safe to retry after fixing the cause.
            let status = resp.status().as_u16();
            let detail = resp.text().await.unwrap_or_default();
            let detail: String = detail.chars().take(500).collect();
            tracing::warn!(request = %request_id, status, "platform refused the notice");
            store
                .record_helpline_send_failed(request_id, &format!("platform answered {status}: {detail}"), false, now)
                .await?;
        }
        Err(e) if e.is_connect() => {
            store.record_helpline_send_failed(request_id, "could not connect to the platform", false, now).await?;
        }
        Err(e) => {
            // Timeouts and broken connections after the request went out: it may have been filed.
            tracing::warn!(request = %request_id, error = %e, "send outcome unknown; held for the caseworker");
            store
                .record_helpline_send_failed(
                    request_id,
                    "no answer from the platform; it may have been filed",
                    true,
                    now,
                )
                .await?;
        }
    }
    Ok(store.helpline_request(request_id).await?)
}

/// The `Idempotency-Key` of every notice filed for one request: the same on each attempt, so a
/// platform running staydown answers a retry after a lost answer with the notice it filed the
/// first time (its keys live 24 hours) instead of filing it twice.
pub fn idempotency_key(request_id: &str) -> String {
    format!("staydown-helpline-request-{request_id}")
}

/// The notice a request files: its location, or for a hash-only notice its hash sets.
fn notice_body(r: &RequestRecord) -> serde_json::Value {
    if let Some(hashes) = &r.hashes {
        return serde_json::json!({
            "hashes": hashes,
            "explanation": r.explanation,
            "category": r.category,
            "keywords": r.keywords,
            "legal_ground": r.legal_ground,
            "good_faith": true,
            "minor_involved": r.minor_involved,
            "ai_generated": r.ai_generated,
            "language": r.language,
        });
    }
    serde_json::json!({
        "locations": [{"url": r.url}],
        "explanation": r.explanation,
        "category": r.category,
        "keywords": r.keywords,
        "legal_ground": r.legal_ground,
        "good_faith": true,
        "minor_involved": r.minor_involved,
        "ai_generated": r.ai_generated,
        "language": r.language,
    })
}

/// Reads a staydown request's tracking view and records the platform's answer. Returns whether
/// the state changed.
pub async fn follow(state: &AppState, request: &RequestRecord) -> Result<bool, String> {
    let store = state.store();
    let platform =
        store.helpline_platform(&request.platform_id).await.map_err(|e| e.to_string())?.ok_or("platform not found")?;
    let (Some(base), Some(id), Some(token)) =
        (&platform.staydown_url, &request.remote_notice_id, &request.remote_token)
    else {
        return Err("not filed with a staydown platform".into());
    };
    let token = open_secret(state, &token_context(&request.id), token)?;
    let resp = state
        .http()
        .get(format!("{base}/api/v1/notices/{id}"))
        .header("x-tracking-token", &token)
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(state.settings().helpline.platform_timeout)
        .send()
        .await
        .map_err(|e| if e.is_timeout() { "timeout".to_owned() } else { "no connection".to_owned() })?;
    if !resp.status().is_success() {
        return Err(format!("tracking view answered {}", resp.status().as_u16()));
    }
    let view: serde_json::Value = resp.json().await.map_err(|_| "tracking view is not JSON".to_owned())?;
    let Some(decision) = view.get("decision").filter(|d| !d.is_null()) else {
        store.record_helpline_synced(&request.id, None, state.now()).await.map_err(|e| e.to_string())?;
        return Ok(false);
    };
    let restricts = decision["restricts"].as_bool().unwrap_or(false);
    // RFC 3339 in the tracking view; Unix seconds from staydown versions before issue 11.
    let decided_at = decision["decided_at"]
        .as_str()
        .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
        .or_else(|| decision["decided_at"].as_i64().and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()))
        .unwrap_or_else(|| state.now());
    let answer = serde_json::json!({
        "source": "staydown_tracking",
        "status": view["status"],
        "decision": {
            "id": decision["id"],
            "decided_at": decision["decided_at"],
            "restricts": restricts,
            "automated_detection": decision["automated_detection"],
            "automated_decision": decision["automated_decision"],
            "statement": decision["text"],
        },
    });
    let target = if restricts { RequestState::Removed } else { RequestState::Refused };
    let changed = store
        .record_helpline_answer(
            &request.id,
            RequestAnswer {
                state: target,
                at: decided_at,
                answer: Some(answer),
                decision_id: decision["id"].as_str(),
                actor: "system",
            },
            state.now(),
        )
        .await
        .map_err(|e| e.to_string())?;
    if changed && target == RequestState::Removed && !request.is_hash_only() {
        // Check at once that it is really gone.
        store.schedule_helpline_check(&request.id, Some(state.now())).await.map_err(|e| e.to_string())?;
    }
    Ok(changed)
}

/// Runs one URL check for a request, records it and schedules the next.
pub async fn check_request(state: &AppState, request: &RequestRecord) -> Result<UrlCheck, HelplineError> {
    let settings = &state.settings().helpline;
    if request.is_hash_only() {
        // Nothing to look at: a hash-only notice names no URL. Stop any schedule.
        state.store().schedule_helpline_check(&request.id, None).await?;
        return Ok(UrlCheck { state: "unknown", http_status: None, detail: "hash-only notice: no URL".into() });
    }
    let found = check_url(&settings.url_check, &request.url).await;
    let now = state.now();
    let watch_until = request.drafted_at + settings.watch_for;
    let after = if found.state == "gone" { settings.recheck_gone_after } else { settings.recheck_interval };
    let next = Some(now + after).filter(|n| *n < watch_until);
    let id = uuid::Uuid::now_v7().to_string();
    state
        .store()
        .record_helpline_url_check(&id, &request.id, found.state, found.http_status, &found.detail, next, now)
        .await?;
    Ok(found)
}

/// Brings every open request up to date: files drafted staydown requests, follows filed ones,
/// marks overdue ones unanswered (queueing reminders to e-mail platforms), runs due URL checks.
pub async fn sync(state: &AppState) -> Result<SyncReport, HelplineError> {
    let store = state.store();
    let mut report = SyncReport::default();
    // A claim that ran out without an outcome means a send was interrupted: never guess, hold it.
    store.hold_abandoned_helpline_sends(state.now()).await?;
    for r in store.helpline_requests_in(RequestState::Drafted, 200).await? {
        if r.channel == PlatformChannel::Staydown && !r.send_uncertain {
            let after = send(state, &r.id).await?;
            if after.is_some_and(|a| a.state != RequestState::Drafted) {
                report.sent += 1;
            } else {
                report.errors += 1;
            }
        }
    }
    for r in store.helpline_open_requests(PlatformChannel::Staydown, 500).await? {
        match follow(state, &r).await {
            Ok(true) => report.updated += 1,
            Ok(false) => {}
            Err(e) => {
                report.errors += 1;
                store.record_helpline_synced(&r.id, Some(&e), state.now()).await?;
            }
        }
    }
    let lang_of = |r: &RequestRecord| r.language.clone();
    let platforms = store.helpline_platforms().await?;
    let marked = store
        .mark_helpline_unanswered(state.now(), |r| {
            let p = platforms.iter().find(|p| p.id == r.platform_id)?;
            Some(email_payload(r, p.email.as_deref()?, &p.name, &lang_of(r), r.reminders + 1))
        })
        .await?;
    report.unanswered = marked.len();
    if !marked.is_empty() {
        state.wake_outbox();
    }
    for r in store.helpline_checks_due(state.now(), 100).await? {
        check_request(state, &r).await?;
        report.checked += 1;
    }
    Ok(report)
}

/// The outbox payload of a request e-mail (`reminder` 0 for the first). Holds what the platform
/// needs under Art. 16(2) and nothing about the person helped.
pub fn email_payload(r: &RequestRecord, to: &str, platform: &str, language: &str, reminder: i64) -> serde_json::Value {
    let reference = staydown_domain::legal_grounds::legal_ground(&r.legal_ground)
        .map_or(r.legal_ground.as_str(), |g| g.reference_in(language));
    serde_json::json!({
        "to": to,
        "language": language,
        "request_id": r.id,
        "platform": platform,
        "url": r.url,
        "category": r.category,
        "legal_ground": reference,
        "explanation": r.explanation,
        "trusted_flagger": r.trusted_flagger,
        "reminder": reminder,
        "sent_at": r.sent_at.map(|t| t.unix_timestamp()),
    })
}

/// Renders a request or reminder e-mail (NL or EN) from its payload.
pub fn render_email(topic: &str, p: &serde_json::Value) -> (String, String) {
    let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
    let nl = p["language"].as_str() == Some("nl");
    let reminder = topic == "helpline.reminder";
    let id = s("request_id");
    let subject = match (nl, reminder) {
        (true, false) => format!("Verzoek tot verwijdering (DSA art. 16) — {id}"),
        (true, true) => format!("Herinnering: verzoek tot verwijdering (DSA art. 16) — {id}"),
        (false, false) => format!("Removal request (DSA Art. 16) — {id}"),
        (false, true) => format!("Reminder: removal request (DSA Art. 16) — {id}"),
    };
    let tf = p["trusted_flagger"].as_bool() == Some(true);
    let body = if nl {
        format!(
            "{}Geachte {},\n\nNamens een slachtoffer vragen wij u de volgende inhoud te verwijderen (melding onder art. 16 DSA{}).\n\n\
             Exacte locatie: {}\nCategorie: {}\nWettelijke grondslag: {}\nToelichting: {}\n\n\
             Wij verklaren te goeder trouw dat de informatie in deze melding juist en volledig is.\n\
             Vermeld bij uw antwoord ons kenmerk {}.\n",
            if reminder { "Wij hebben nog geen antwoord ontvangen op onderstaand verzoek.\n\n" } else { "" },
            s("platform"),
            if tf { "; wij zijn betrouwbare flagger onder art. 22 DSA" } else { "" },
            s("url"),
            s("category"),
            s("legal_ground"),
            s("explanation"),
            id,
        )
    } else {
        format!(
            "{}Dear {},\n\nOn behalf of a victim we ask you to remove the following content (a notice under DSA Art. 16{}).\n\n\
             Exact location: {}\nCategory: {}\nLegal ground: {}\nExplanation: {}\n\n\
             We confirm in good faith that the information in this notice is accurate and complete.\n\
             Please quote our reference {} in your answer.\n",
            if reminder { "We have not yet received an answer to the request below.\n\n" } else { "" },
            s("platform"),
            if tf { "; we are a trusted flagger under DSA Art. 22" } else { "" },
            s("url"),
            s("category"),
            s("legal_ground"),
            s("explanation"),
            id,
        )
    };
    (subject, body)
}

/// Runs `sync` on the configured interval until the server stops.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(state.settings().helpline.sync_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match sync(&state).await {
            Ok(report) if report != SyncReport::default() => tracing::info!(?report, "helpline sync"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "helpline sync failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_fetched() {
        for (ip, loopback_ok, allowed) in [
            ("93.184.216.34", false, true),
            ("2606:2800:220:1::1", false, true),
            ("127.0.0.1", false, false),
            ("127.0.0.1", true, true),
            ("::1", true, true),
            ("10.0.0.1", true, false),
            ("172.16.5.4", true, false),
            ("192.168.1.1", true, false),
            ("169.254.169.254", true, false),
            ("100.64.0.1", false, false),
            ("0.0.0.0", true, false),
            ("fd00::1", true, false),
            ("fe80::1", true, false),
            ("::ffff:10.0.0.1", true, false),
            ("::ffff:127.0.0.1", false, false),
        ] {
            assert_eq!(
                address_allowed(ip.parse().unwrap(), loopback_ok),
                allowed,
                "{ip} (loopback allowed: {loopback_ok})"
            );
        }
    }

    #[test]
    fn emails_carry_the_art16_elements_in_both_languages() {
        let p = serde_json::json!({"language": "nl", "request_id": "r1", "platform": "Q", "url": "https://q.example/1",
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE", "legal_ground": "art. 254ba Wetboek van Strafrecht",
            "explanation": "Deepnude", "trusted_flagger": false});
        let (subject, body) = render_email("helpline.request", &p);
        assert!(subject.starts_with("Verzoek tot verwijdering"));
        for part in ["https://q.example/1", "art. 254ba", "Deepnude", "te goeder trouw", "r1"] {
            assert!(body.contains(part), "{part}: {body}");
        }
        let mut en = p;
        en["language"] = "en".into();
        let (subject, body) = render_email("helpline.reminder", &en);
        assert!(subject.starts_with("Reminder: removal request"));
        assert!(body.contains("not yet received") && body.contains("good faith"));
    }
}
