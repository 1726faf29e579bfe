//! Sign-in, sign-out and a person's own password change from the browser (HTML forms).
//!
//! `POST /staff/login` (username, password, next): throttled per account name and per address
//! (`throttle`), the password checked off the async threads, then a **new** session id is issued
//! and any session the browser already held is ended (session fixation). `POST /staff/logout`
//! and `POST /staff/password` need the session's CSRF token.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use staydown_domain::secret_digest;
use staydown_store::{NewStaffSession, PasswordChange, SessionEnd};

use askama::Template;
use askama_web::WebTemplate;

use super::pages::{Chrome, chrome_for, message_page, tk};
use super::session::{self, StaffSession};
use super::{hash_password, password_matches};
use crate::AppState;
use crate::api::accounts::MIN_PASSWORD_CHARS;
use crate::pages::Ctx;
use crate::problem::ApiError;

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    /// Where to go after signing in: a path under `/staff/`.
    #[serde(default)]
    next: String,
    /// A form sent after the session ended (its urlencoded fields without the token), to send
    /// again after signing in ([`carry_page`]).
    #[serde(default)]
    carry: String,
    /// Where that form was sent: a path under `/staff/`.
    #[serde(default)]
    carry_to: String,
}

/// A staff page to return to, or `/staff` (the first page the person's role may see). Only local
/// `/staff/…` paths are followed, so the form cannot be used to bounce a person to another site.
fn landing(next: &str) -> &str {
    let local = next.starts_with("/staff/") && !next.starts_with("//") && !next.contains(['\\', '\r', '\n']);
    if local { next } else { "/staff" }
}

/// The client's address, when the server was started with connection info.
pub(crate) fn peer_ip(peer: Option<&Extension<ConnectInfo<SocketAddr>>>) -> Option<std::net::IpAddr> {
    peer.map(|Extension(ConnectInfo(addr))| addr.ip())
}

/// The sign-in page.
#[derive(Template, WebTemplate)]
#[template(path = "staff/login.html")]
pub struct LoginPage {
    ctx: Ctx,
    chrome: Chrome,
    /// The page to return to.
    next: String,
    /// The username typed (kept after a failure).
    username: String,
    /// Why the last attempt failed, in the page language.
    error: Option<String>,
    /// Why the person is asked to sign in again: a form was sent after the session ended.
    ended: Option<String>,
    /// The form to send again after signing in (urlencoded fields, and where it goes).
    carry: Option<(String, String)>,
}

/// The page after signing in again with a form that was sent after the session ended: the form
/// once more, with everything that was typed and this session's token, to send with one click.
#[derive(Template, WebTemplate)]
#[template(path = "staff/resend.html")]
pub struct ResendPage {
    ctx: Ctx,
    chrome: Chrome,
    /// Where the form goes.
    action: String,
    /// The form's page, to go to without sending.
    back: String,
    /// The typed fields.
    fields: Vec<(String, String)>,
    /// This session's CSRF token.
    csrf: String,
}

/// The sign-in page for a form sent after the session ended (`pages::layer`): nothing was
/// recorded; the form's fields (`body`, urlencoded; its token is dropped) travel with the
/// sign-in, and [`sign_in`] offers to send them again.
pub fn carry_page(ctx: Ctx, to: &str, body: &[u8]) -> Response {
    let kept: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(url::form_urlencoded::parse(body).filter(|(k, _)| k != "csrf"))
        .finish();
    let next = crate::pages::form_page(to);
    let ended = Some(ctx.t("staff-login-session-ended-kept"));
    let carry = Some((kept, to.to_owned()));
    let page = LoginPage { ctx, chrome: Chrome::default(), next, username: String::new(), error: None, ended, carry };
    no_store((StatusCode::UNAUTHORIZED, page).into_response())
}

/// Query of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    /// Set when a form was sent after the session ended (`staff::pages::Console`).
    #[serde(default)]
    ended: Option<String>,
}

/// `GET /staff/login`: the sign-in form; a person already signed in goes on to the page asked for.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    if let Ok(Some(_)) = session::current_session(&state, &headers).await {
        return Redirect::to(landing(&q.next)).into_response();
    }
    let ended = q
        .ended
        .as_deref()
        .map(|e| ctx.t(if e == "file" { "staff-login-session-ended-file" } else { "staff-login-session-ended" }));
    let next = landing(&q.next).to_owned();
    let page =
        LoginPage { ctx, chrome: Chrome::default(), next, username: String::new(), error: None, ended, carry: None };
    no_store((StatusCode::OK, page).into_response())
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The sign-in page after too many attempts, with `Retry-After`; a form carried across the
/// sign-in (`carry`) stays with it, to be sent once signing in works.
fn throttled(
    ctx: Ctx,
    next: String,
    username: String,
    retry_after: std::time::Duration,
    carry: Option<(String, String)>,
) -> Response {
    let secs = retry_after.as_secs().max(1);
    let message = ctx.ta("staff-login-throttled", "seconds", secs);
    let page = LoginPage { ctx, chrome: Chrome::default(), next, username, error: Some(message), ended: None, carry };
    let mut response = no_store((StatusCode::TOO_MANY_REQUESTS, page).into_response());
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// `POST /staff/login`.
pub async fn sign_in(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ctx: Ctx,
    Form(mut form): Form<SignInForm>,
) -> Result<Response, ApiError> {
    if !session::same_origin(&state, &headers) {
        return Ok(message_page(ctx, Chrome::default(), StatusCode::FORBIDDEN, tk("staff-login-cross-site"), None));
    }
    let address = peer_ip(peer.as_ref());
    let now = state.now();
    let username = form.username.trim().to_owned();
    let next = landing(&form.next).to_owned();
    if let Err(wait) = state.sign_in_throttle().check(&username, address, now) {
        let carry = carried(&form).map(|(to, _)| (form.carry.clone(), to));
        return Ok(throttled(ctx, next, username, wait, carry));
    }
    let account = state.store().account_by_username(&username).await?;
    let matches =
        password_matches(std::mem::take(&mut form.password), account.as_ref().map(|a| a.password_hash.clone())).await;
    let Some(account) = account.filter(|a| matches && !a.disabled) else {
        state.sign_in_throttle().record_failure(&username, address, now);
        let message = ctx.t("staff-login-wrong");
        let carry = carried(&form).map(|(to, _)| (form.carry.clone(), to));
        let page =
            LoginPage { ctx, chrome: Chrome::default(), next, username, error: Some(message), ended: None, carry };
        return Ok(no_store((StatusCode::UNAUTHORIZED, page).into_response()));
    };
    state.sign_in_throttle().record_success(&username);
    // Session fixation: whatever id the browser arrived with is ended, never promoted.
    if let Some(old) = session::cookie_value(&headers, session::cookie_name(&state)) {
        state.store().end_staff_session(&secret_digest(old), SessionEnd::Replaced, now).await?;
    }
    let id = session::random_secret();
    let csrf = session::random_secret();
    let settings = state.settings().staff;
    let absolute = now + settings.session_absolute;
    let idle = (now + settings.session_idle).min(absolute);
    state
        .store()
        .create_staff_session(
            &NewStaffSession {
                id_digest: &secret_digest(&id),
                account_id: &account.id,
                csrf_secret: &csrf,
                idle_expires_at: idle,
                absolute_expires_at: absolute,
            },
            now,
        )
        .await?;
    let mut response = match carried(&form) {
        Some((action, fields)) => ResendPage {
            back: crate::pages::form_page(&action),
            action,
            fields,
            csrf: csrf.clone(),
            ctx,
            chrome: Chrome::default(),
        }
        .into_response(),
        None => Redirect::to(&next).into_response(),
    };
    response.headers_mut().insert(header::SET_COOKIE, session::session_cookie(&state, &id));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The carried form of a sign-in, if any: where it goes (a local `/staff/` path other than the
/// sign-in) and its fields.
fn carried(form: &SignInForm) -> Option<(String, Vec<(String, String)>)> {
    let to = form.carry_to.as_str();
    let local = to.starts_with("/staff/") && !to.starts_with("/staff/login") && landing(to) == to && !to.contains('?');
    if !local || form.carry.is_empty() {
        return None;
    }
    let fields = url::form_urlencoded::parse(form.carry.as_bytes())
        .filter(|(k, _)| k != "csrf")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Some((to.to_owned(), fields))
}

/// A form that only carries the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn csrf_refused(ctx: Ctx, session: &StaffSession) -> Response {
    let chrome = chrome_for(session, "");
    message_page(ctx, chrome, StatusCode::FORBIDDEN, tk("staff-form-expired"), None)
}

/// `POST /staff/logout`.
pub async fn sign_out(
    State(state): State<AppState>,
    session: StaffSession,
    ctx: Ctx,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if !session.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(ctx, &session));
    }
    state.store().end_staff_session(&session.record.id_digest, SessionEnd::SignedOut, state.now()).await?;
    let mut response = Redirect::to("/staff/login").into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::clearing_cookie(&state));
    Ok(response)
}

/// The change-password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /staff/password`: a person changes their own password. Their other sessions end; this
/// one stays signed in.
pub async fn change_password(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    session: StaffSession,
    ctx: Ctx,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ApiError> {
    if !session.csrf_ok(&form.csrf) {
        return Ok(csrf_refused(ctx, &session));
    }
    let account = &session.record.account;
    let address = peer_ip(peer.as_ref());
    let now = state.now();
    let chrome = chrome_for(&session, "");
    if let Err(wait) = state.sign_in_throttle().check(&account.username, address, now) {
        let secs = wait.as_secs().max(1);
        let detail = Some(ctx.ta("staff-login-throttled", "seconds", secs));
        let mut r = message_page(ctx, chrome, StatusCode::TOO_MANY_REQUESTS, tk("staff-password-not-changed"), detail);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(r);
    }
    if !password_matches(form.current_password, Some(account.password_hash.clone())).await {
        state.sign_in_throttle().record_failure(&account.username, address, now);
        let detail = Some(ctx.t("staff-password-wrong-current"));
        return Ok(message_page(
            ctx,
            chrome,
            StatusCode::UNPROCESSABLE_ENTITY,
            tk("staff-password-not-changed"),
            detail,
        ));
    }
    if form.new_password.chars().count() < MIN_PASSWORD_CHARS {
        let detail = Some(ctx.ta("staff-password-too-short", "min", MIN_PASSWORD_CHARS));
        return Ok(message_page(
            ctx,
            chrome,
            StatusCode::UNPROCESSABLE_ENTITY,
            tk("staff-password-not-changed"),
            detail,
        ));
    }
    let hash = hash_password(form.new_password).await?;
    let principal = session.principal();
    state
        .store()
        .set_account_password(
            &account.id,
            &hash,
            PasswordChange { actor: &principal, keep_session: Some(&session.record.id_digest), revoke_keys: false },
            now,
        )
        .await?;
    Ok(Redirect::to("/staff/account?password=changed").into_response())
}
