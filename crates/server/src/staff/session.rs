//! Staff browser sessions: the cookie, the `StaffSession` extractor, and CSRF tokens.
//!
//! The cookie holds a 256-bit random session id; the database holds only its SHA-256 digest
//! (`store::sessions`). The cookie is `HttpOnly; SameSite=Strict; Path=/`, and `Secure` with the
//! `__Host-` name prefix when the public URL is https (the prefix makes browsers refuse a cookie of
//! that name set by a sub-domain or over plain http, which closes the cookie-planting route to
//! session fixation). A fresh id is issued at every sign-in and any session the browser already
//! had is ended, so an id known before sign-in is never a signed-in id.
//!
//! CSRF: every state-changing staff form carries the session's token (synchronizer token, OWASP
//! CSRF cheat sheet), compared in constant time. `SameSite=Strict` is the second layer. The
//! sign-in form itself has no session yet; it is guarded by the `Origin` / `Sec-Fetch-Site`
//! check in `same_origin`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use staydown_domain::secret_digest;
use staydown_store::StaffSessionRecord;

use crate::AppState;

/// Cookie name over plain http (development, tests).
pub const COOKIE_PLAIN: &str = "staydown_staff";
/// Cookie name over https: the `__Host-` prefix requires `Secure`, `Path=/` and no `Domain`.
pub const COOKIE_SECURE: &str = "__Host-staydown_staff";

/// How long a session's last-seen time may lag before a request moves it (fewer writes).
const TOUCH_AFTER: time::Duration = time::Duration::seconds(60);

/// Whether the service is served over https (cookies then get `Secure`).
pub fn is_https(state: &AppState) -> bool {
    state.settings().public_url.starts_with("https://")
}

/// The session cookie's name for this deployment.
pub fn cookie_name(state: &AppState) -> &'static str {
    if is_https(state) { COOKIE_SECURE } else { COOKIE_PLAIN }
}

/// `Set-Cookie` value carrying a new session id.
pub fn session_cookie(state: &AppState, id: &str) -> HeaderValue {
    let secure = if is_https(state) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{}={id}; Path=/; HttpOnly; SameSite=Strict{secure}", cookie_name(state)))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` value that deletes the session cookie.
pub fn clearing_cookie(state: &AppState) -> HeaderValue {
    let secure = if is_https(state) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}", cookie_name(state)))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A new random secret: 256 bits, hex.
pub fn random_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// True when the request comes from this site's own pages (or from a client that sends neither
/// `Origin` nor `Sec-Fetch-Site`, like curl — which cannot ride on a victim's browser).
pub fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    // Browsers set `Sec-Fetch-Site` themselves (no page script can), and with this site's
    // `Referrer-Policy: no-referrer` they send `Origin: null` on its own forms, so a same-origin
    // answer here is the reliable one.
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin") => return true,
        Some("none") | None => {}
        Some(_) => return false,
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let public = state.settings().public_url.trim_end_matches('/');
    if origin == public {
        return true;
    }
    // Also accept the host the request was sent to (the server reached on another name, tests).
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    !host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}"))
}

/// A signed-in staff member. Extracting it checks the cookie against the live sessions (ended,
/// expired and disabled-account sessions are refused) and moves the idle expiry forward.
/// Without a live session, pages answer with a redirect to `/staff/login`.
#[derive(Debug, Clone)]
pub struct StaffSession {
    /// The session and its account.
    pub record: StaffSessionRecord,
}

impl StaffSession {
    /// The account's principal, `account:<id>` — the same form API keys of the account act as,
    /// so decisions and the four-eyes rule of appeals see one person whichever way they came in.
    pub fn principal(&self) -> String {
        format!("account:{}", self.record.account.id)
    }

    /// The token every state-changing form of this session must carry.
    pub fn csrf_token(&self) -> &str {
        &self.record.csrf_secret
    }

    /// Whether `token` is this session's CSRF token (constant-time comparison).
    pub fn csrf_ok(&self, token: &str) -> bool {
        let expected = self.record.csrf_secret.as_bytes();
        let given = token.as_bytes();
        expected.len() == given.len() && expected.iter().zip(given).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// Why a request has no staff session.
#[derive(Debug)]
pub enum NoSession {
    /// No cookie, or one that names no live session.
    SignInRequired,
    /// The database could not be asked.
    Unavailable,
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            Self::SignInRequired => Redirect::to("/staff/login").into_response(),
            Self::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "The database is unavailable. Please try again in a moment.",
            )
                .into_response(),
        }
    }
}

/// Looks up the live session named by the request's cookie, moving its idle expiry forward.
pub async fn current_session(state: &AppState, headers: &HeaderMap) -> Result<Option<StaffSession>, NoSession> {
    let Some(id) = cookie_value(headers, cookie_name(state)) else { return Ok(None) };
    let digest = secret_digest(id);
    let now = state.now();
    let record = state.store().staff_session(&digest, now).await.map_err(|e| {
        tracing::warn!(error = %e, "session lookup failed");
        NoSession::Unavailable
    })?;
    let Some(record) = record else { return Ok(None) };
    if now - record.last_seen_at >= TOUCH_AFTER {
        let idle = now + state.settings().staff.session_idle;
        if let Err(e) = state.store().touch_staff_session(&digest, now, idle).await {
            tracing::warn!(error = %e, "could not record session use");
        }
    }
    Ok(Some(StaffSession { record }))
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        current_session(state, &parts.headers).await?.ok_or(NoSession::SignInRequired)
    }
}
