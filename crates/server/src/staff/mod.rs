//! The staff console's sign-in backend (issue 12): browser sessions, sign-in and sign-out, CSRF
//! tokens, throttling of password guesses, and the account and key administration API.
//!
//! Serves accountability under DSA Art. 20(6) and Art. 17 (every decision names the person who
//! took it, whether they came in with a key or a browser session) and protects the personal data
//! staff can see (GDPR Art. 32: access control). Sessions live in the database (`store::sessions`)
//! so they survive restarts, work across several servers, and stop at once when an account is
//! disabled. Password hashing (argon2id, deliberately slow) runs on the blocking pool so that a
//! burst of sign-ins cannot stall the async workers that serve notices.

pub mod admin_pages;
pub mod api;
pub mod charts;
pub mod helpline;
pub mod pages;
pub mod session;
pub mod sign_in;
pub mod throttle;

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::problem::ApiError;

/// Staff sign-in settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffSettings {
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub session_absolute: Duration,
    /// Personal API keys from `POST /api/v1/keys` expire after this long.
    pub key_lifetime: Duration,
    /// Throttling of failed sign-ins and key requests.
    pub throttle: throttle::ThrottleLimits,
}

impl Default for StaffSettings {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 3600),
            key_lifetime: Duration::from_secs(90 * 24 * 3600),
            throttle: throttle::ThrottleLimits::default(),
        }
    }
}

/// The short id the console shows for a case, appeal or help case: its last eight characters.
/// Ids are UUID v7, whose first characters are a timestamp shared by ids made close together;
/// the last ones are random, so they tell cases apart (the queue's search finds a case by them).
pub fn short_id(id: &str) -> String {
    let skip = id.chars().count().saturating_sub(8);
    id.chars().skip(skip).collect()
}

/// The staff console's routes outside `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/login", get(sign_in::login_form).post(sign_in::sign_in))
        .route("/staff/logout", post(sign_in::sign_out))
        .route("/staff/password", post(sign_in::change_password))
        .merge(helpline::routes())
        .merge(admin_pages::routes())
}

/// Hashes a password with argon2id on the blocking pool.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || crate::api::accounts::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing task failed: {e}")))?
}

/// Checks a password against a stored argon2id hash on the blocking pool. With no hash (unknown
/// account) it verifies against a dummy hash, so the answer takes as long either way.
pub async fn password_matches(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match &phc {
        Some(phc) => crate::api::accounts::password_matches(&password, phc),
        None => {
            crate::api::accounts::password_matches(&password, crate::api::accounts::dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}
