//! Account and key administration over the JSON API (Bearer keys), and the session check.
//!
//! `GET /api/v1/accounts` (admins, auditors), `POST /api/v1/accounts/{id}/disable|enable` and
//! `POST /api/v1/accounts/{id}/password` (admins: reset — ends the account's sessions and revokes
//! its keys), `POST /api/v1/account/password` (a person changes their own), `GET /api/v1/keys`
//! (admins and auditors see all; a person sees their own), `DELETE /api/v1/keys/{id}` (admins, or
//! the key's own account), `GET /api/v1/session` (the browser session's account and CSRF token).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use staydown_store::{AccountRecord, ApiKeyListing, PasswordChange};
use time::OffsetDateTime;

use super::session;
use super::{hash_password, password_matches};
use crate::AppState;
use crate::api::accounts::MIN_PASSWORD_CHARS;
use crate::auth::{Caller, Permission, allowed};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// An account as listed (never the password hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    id: String,
    username: String,
    role: &'static str,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    disabled: bool,
}

impl From<&AccountRecord> for AccountView {
    fn from(a: &AccountRecord) -> Self {
        Self {
            id: a.id.clone(),
            username: a.username.clone(),
            role: a.role.as_str(),
            created_at: a.created_at,
            disabled: a.disabled,
        }
    }
}

/// `GET /api/v1/accounts`.
pub async fn list_accounts(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<AccountView>>, ApiError> {
    caller.require(Permission::ViewAccounts)?;
    let accounts = state.store().list_accounts().await?;
    Ok(Json(accounts.iter().map(AccountView::from).collect()))
}

async fn set_disabled(state: &AppState, caller: &Caller, id: &str, disabled: bool) -> Result<Response, ApiError> {
    caller.require(Permission::ManageAccounts)?;
    if disabled && caller.key.as_ref().and_then(|k| k.account_id.as_deref()) == Some(id) {
        return Err(ApiError::Conflict("you cannot disable your own account".into()));
    }
    state.store().set_account_disabled(id, disabled, &caller.principal(), state.now()).await?;
    let account = state.store().account_by_id(id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(AccountView::from(&account)).into_response())
}

/// `POST /api/v1/accounts/{id}/disable`: the account's sessions and keys stop working at once.
pub async fn disable_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_disabled(&state, &caller, &id, true).await
}

/// `POST /api/v1/accounts/{id}/enable`.
pub async fn enable_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_disabled(&state, &caller, &id, false).await
}

/// Body of an admin's password reset.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    password: Option<String>,
}

fn check_new_password(field: &str, password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::field(field, "too_short", format!("must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

/// `POST /api/v1/accounts/{id}/password`: an admin sets a new password; the account's sessions
/// end and its keys are revoked (whoever knew the old password may hold one).
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::ManageAccounts)?;
    let password = body.password.unwrap_or_default();
    check_new_password("password", &password)?;
    if state.store().account_by_id(&id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let hash = hash_password(password).await?;
    let actor = caller.principal();
    state
        .store()
        .set_account_password(
            &id,
            &hash,
            PasswordChange { actor: &actor, keep_session: None, revoke_keys: true },
            state.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of a person's own password change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    current_password: Option<String>,
    new_password: Option<String>,
}

/// `POST /api/v1/account/password`: the key's own account changes its password (the current one
/// is required); every browser session of the account ends.
pub async fn change_own_password(
    State(state): State<AppState>,
    caller: Caller,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<StatusCode, ApiError> {
    let Some(account_id) = caller.key.as_ref().and_then(|k| k.account_id.clone()) else {
        return Err(if caller.key.is_none() {
            ApiError::Unauthorized("this needs a personal API key: send Authorization: Bearer <key>")
        } else {
            ApiError::Forbidden("only a staff account's personal key can change its password")
        });
    };
    let account = state.store().account_by_id(&account_id).await?.ok_or(ApiError::NotFound)?;
    let address = super::sign_in::peer_ip(peer.as_ref());
    let now = state.now();
    if let Err(wait) = state.sign_in_throttle().check(&account.username, address, now) {
        return Err(ApiError::SignInThrottled { retry_after_secs: wait.as_secs().max(1) });
    }
    let new_password = body.new_password.unwrap_or_default();
    check_new_password("new_password", &new_password)?;
    if !password_matches(body.current_password.unwrap_or_default(), Some(account.password_hash.clone())).await {
        state.sign_in_throttle().record_failure(&account.username, address, now);
        return Err(ApiError::field("current_password", "wrong", "is not this account's password"));
    }
    let hash = hash_password(new_password).await?;
    let actor = caller.principal();
    state
        .store()
        .set_account_password(
            &account.id,
            &hash,
            PasswordChange { actor: &actor, keep_session: None, revoke_keys: false },
            now,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A key as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    id: String,
    name: String,
    role: &'static str,
    account_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    /// `active`, `expired` or `revoked`.
    state: &'static str,
}

fn key_view(k: ApiKeyListing, now: OffsetDateTime) -> KeyView {
    let state = if k.revoked_at.is_some() {
        "revoked"
    } else if k.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    };
    KeyView {
        id: k.id,
        name: k.name,
        role: k.role.as_str(),
        account_id: k.account_id,
        created_at: k.created_at,
        expires_at: k.expires_at,
        revoked_at: k.revoked_at,
        state,
    }
}

/// `GET /api/v1/keys`: all keys for admins and auditors; a person's own keys otherwise.
pub async fn list_keys(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<KeyView>>, ApiError> {
    let scope = if allowed(caller.role(), Permission::ViewAccounts) {
        None
    } else {
        match caller.key.as_ref().and_then(|k| k.account_id.clone()) {
            Some(account) => Some(account),
            None => {
                caller.require(Permission::ViewAccounts)?;
                None
            }
        }
    };
    let now = state.now();
    let keys = state.store().list_api_keys(scope.as_deref()).await?;
    Ok(Json(keys.into_iter().map(|k| key_view(k, now)).collect()))
}

/// `DELETE /api/v1/keys/{id}`: admins revoke any key, a person their own.
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !allowed(caller.role(), Permission::ManageAccounts) {
        let own = match caller.key.as_ref().and_then(|k| k.account_id.clone()) {
            Some(account) => state.store().list_api_keys(Some(&account)).await?.iter().any(|k| k.id == id),
            None => {
                caller.require(Permission::ManageAccounts)?;
                false
            }
        };
        if !own {
            return Err(ApiError::Forbidden("you may revoke only your own keys"));
        }
    }
    state.store().revoke_api_key_by(&id, &caller.principal(), state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The browser session as its page scripts and tests see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    account_id: String,
    username: String,
    role: &'static str,
    csrf_token: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    idle_expires_at: OffsetDateTime,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    absolute_expires_at: OffsetDateTime,
}

/// `GET /api/v1/session`: the signed-in account of the session cookie; 401 without one.
pub async fn session(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let current = session::current_session(&state, &headers).await.map_err(|_| ApiError::Unavailable)?;
    let Some(s) = current else { return Err(ApiError::Unauthorized("no staff session: sign in at /staff/login")) };
    let r = s.record;
    let mut response = Json(SessionView {
        account_id: r.account.id.clone(),
        username: r.account.username.clone(),
        role: r.account.role.as_str(),
        csrf_token: r.csrf_secret.clone(),
        idle_expires_at: r.idle_expires_at,
        absolute_expires_at: r.absolute_expires_at,
    })
    .into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}
