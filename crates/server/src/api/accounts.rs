//! Staff accounts and their API keys: `POST /api/v1/accounts` (admins) and `POST /api/v1/keys`
//! (a person exchanges username and password, HTTP Basic, for a personal API key).
//!
//! Passwords are stored as argon2id hashes. Decisions and appeal outcomes name the account behind
//! the key, which is what the four-eyes rule of appeals (DSA Art. 20) compares.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use staydown_domain::roles::Role;
use staydown_domain::secret_digest;
use staydown_domain::validation::FieldErrors;

use crate::AppState;
use crate::auth::{Caller, Permission, generate_api_key};
use crate::json::ApiJson;
use crate::problem::ApiError;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Roles a staff account may have (organisations' keys are issued with `staydown key create`).
pub const STAFF_ROLES: [Role; 5] = [Role::Reviewer, Role::SeniorReviewer, Role::Admin, Role::Auditor, Role::Caseworker];

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| ApiError::Internal(format!("salt encoding failed: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("password hashing failed: {e}")))
}

/// Whether `password` matches the PHC string (CPU-heavy: call it off the async threads).
pub(crate) fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Checks a new account's fields, collecting every problem.
pub fn validate_account(username: &str, role: &str, password: &str) -> Result<Role, FieldErrors> {
    let mut errors = FieldErrors::default();
    if username.is_empty()
        || username.len() > 64
        || !username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        errors.push("username", "invalid", "1–64 characters: letters, digits, '.', '_' or '-'");
    }
    let role = Role::parse(role).filter(|r| STAFF_ROLES.contains(r));
    if role.is_none() {
        errors.push("role", "invalid", "must be one of: reviewer, senior_reviewer, admin, auditor, caseworker");
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        errors.push("password", "too_short", format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    errors.into_result(role.unwrap_or(Role::Reviewer))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountBody {
    // Optional so that a missing field is a field-level 422 after the role check, not before it.
    username: Option<String>,
    role: Option<String>,
    password: Option<String>,
}

/// Creates a staff account.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewAccountBody>,
) -> Result<Response, ApiError> {
    caller.require(Permission::ManageAccounts)?;
    let username = body.username.unwrap_or_default().trim().to_owned();
    let password = body.password.unwrap_or_default();
    let role = validate_account(&username, body.role.as_deref().unwrap_or_default(), &password)
        .map_err(ApiError::Validation)?;
    let hash = crate::staff::hash_password(password).await?;
    let id = uuid::Uuid::now_v7().to_string();
    state.store().create_account(&id, &username, role, &hash, &caller.actor(), state.now()).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id, "username": username, "role": role.as_str() })))
        .into_response())
}

/// Issues a personal API key to whoever proves an account's password (HTTP Basic). Failed
/// attempts are throttled per account name and per address like browser sign-ins; the key
/// expires after `staff.key_lifetime`.
pub async fn issue_key(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let Some((username, password)) = credentials.as_deref().and_then(|c| c.split_once(':')) else {
        return Err(ApiError::Unauthorized("send your username and password with HTTP Basic authentication"));
    };
    let address = crate::staff::sign_in::peer_ip(peer.as_ref());
    let now = state.now();
    if let Err(wait) = state.sign_in_throttle().check(username, address, now) {
        return Err(ApiError::SignInThrottled { retry_after_secs: wait.as_secs().max(1) });
    }
    let account = state.store().account_by_username(username).await?;
    // Verified against a dummy hash when the account does not exist, so timing does not tell.
    let matches =
        crate::staff::password_matches(password.to_owned(), account.as_ref().map(|a| a.password_hash.clone())).await;
    let account = account.filter(|a| matches && !a.disabled);
    let Some(account) = account else {
        state.sign_in_throttle().record_failure(username, address, now);
        return Err(ApiError::Unauthorized("wrong username or password"));
    };
    state.sign_in_throttle().record_success(username);
    let (key_id, key) = generate_api_key();
    let expires_at = now + state.settings().staff.key_lifetime;
    state.store().create_account_key_expiring(&key_id, &account, &secret_digest(&key), now, Some(expires_at)).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "key": key,
            "key_id": key_id,
            "account": account.id,
            "role": account.role.as_str(),
            "expires_at": expires_at.format(&time::format_description::well_known::Rfc3339).ok(),
            "note": "shown once: only a digest is stored",
        })),
    )
        .into_response())
}

/// argon2id of a random password nobody knows; verifying against it spends the same time on an
/// unknown username as on a known one.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&hex::encode(rand::random::<[u8; 16]>())).unwrap_or_default())
}
