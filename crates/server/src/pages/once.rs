//! One filing per form submission: a form sent twice (a double click, a reload of the answer, a
//! retry over a bad connection) files once, and the second send lands on the first one's result.
//!
//! The page puts a random `submission` value in the form when it renders it ([`new_submission`]).
//! When the form comes back, [`file_once`] keys the filing on a digest of the whole form body
//! (so the same form with different contents is a different filing) in the store's idempotency
//! keys (`store::idempotency`, the same table as the API's `Idempotency-Key`, 24 hours):
//! - the first send runs the filing; a redirect (the filing's result page) is kept, anything else
//!   (a form error, a refusal, a failure) releases the key so a corrected form can be sent again;
//! - a later send of the same body is redirected to the kept result page;
//! - a send while the first is still running waits for it (up to [`WAIT`]), then redirects to its
//!   result, or answers a readable 409 page asking to try again in a moment.
//!
//! A form whose answer is shown only once (an API key) uses [`file_once_shown`]: its second send
//! gets a page saying so, never the secret again and never a second one.
//!
//! A form without a well-formed `submission` value (an old page, a hand-made request) is filed
//! without this protection, as before.

use std::future::Future;
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use staydown_store::IdempotencyState;

use super::{Ctx, errors};
use crate::AppState;

/// Name of the hidden form field.
pub const FIELD: &str = "submission";
/// How long a second send waits for the first to finish.
pub const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);

/// A fresh submission value: 32 hex characters (128 random bits).
pub fn new_submission() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Whether `value` is a submission value this module issued in form (32 lowercase hex digits).
pub fn well_formed(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Runs `filing` once for this form body (see the module doc). `scope` names the form (e.g.
/// `page:/report`), `submission` is the form's `submission` field and `body` its raw bytes.
///
/// # Errors
/// None of its own: a store failure while claiming is logged and the filing runs unprotected, so
/// a report is never refused because the duplicate check failed.
pub async fn file_once<F>(
    state: &AppState,
    ctx: &Ctx,
    scope: &str,
    submission: &str,
    body: &[u8],
    filing: F,
) -> Response
where
    F: Future<Output = Response>,
{
    once(state, ctx, scope, submission, body, filing, None::<fn() -> Response>).await
}

/// Like [`file_once`] for a form whose answer is a page shown only once (an API key): a successful
/// (2xx) answer is remembered without its body, and a second send of the same form gets
/// `repeated()` (a page that says it was done and shown once) instead of doing it again.
pub async fn file_once_shown<F, R>(
    state: &AppState,
    ctx: &Ctx,
    scope: &str,
    submission: &str,
    body: &[u8],
    filing: F,
    repeated: R,
) -> Response
where
    F: Future<Output = Response>,
    R: FnOnce() -> Response,
{
    once(state, ctx, scope, submission, body, filing, Some(repeated)).await
}

async fn once<F, R>(
    state: &AppState,
    ctx: &Ctx,
    scope: &str,
    submission: &str,
    body: &[u8],
    filing: F,
    repeated: Option<R>,
) -> Response
where
    F: Future<Output = Response>,
    R: FnOnce() -> Response,
{
    if !well_formed(submission) {
        return filing.await;
    }
    let key = hex::encode(Sha256::digest(body));
    let store = state.store();
    let mut waited = Duration::ZERO;
    let shown = repeated.is_some();
    loop {
        match store.claim_idempotency_key(scope, &key, &key, state.now()).await {
            Ok(IdempotencyState::Claimed) => break,
            Ok(IdempotencyState::Answered { location: Some(to), .. }) => return Redirect::to(&to).into_response(),
            Ok(IdempotencyState::Answered { .. }) => {
                return match repeated {
                    Some(page) => page(),
                    None => filing.await,
                };
            }
            Ok(IdempotencyState::InProgress { .. }) if waited < WAIT => {
                tokio::time::sleep(POLL).await;
                waited += POLL;
            }
            Ok(IdempotencyState::InProgress { .. }) => return errors::page(ctx, StatusCode::CONFLICT),
            Err(e) => {
                tracing::warn!(error = %e, scope, "could not check a form for a second send; filing it");
                return filing.await;
            }
        }
    }
    let mut release = Release { state: state.clone(), scope: scope.to_owned(), key: key.clone(), armed: true };
    let response = filing.await;
    let status = response.status();
    let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let keep = match (&location, status) {
        (Some(_), s) if s.is_redirection() => true,
        (_, s) => shown && s.is_success(),
    };
    if keep {
        // Never the body: a page shown once (a key) must not be kept anywhere.
        match store.record_idempotent_answer(scope, &key, status.as_u16(), "", location.as_deref(), &[]).await {
            Ok(()) => release.armed = false,
            Err(e) => tracing::warn!(error = %e, scope, "could not keep a form's result for a second send"),
        }
    }
    response
}

/// Releases a claimed key unless its result was kept (also when the handler is dropped midway).
struct Release {
    state: AppState,
    scope: String,
    key: String,
    armed: bool,
}

impl Drop for Release {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (state, scope, key) = (self.state.clone(), std::mem::take(&mut self.scope), std::mem::take(&mut self.key));
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = state.store().release_idempotency_key(&scope, &key).await {
                    tracing::warn!(error = %e, "could not release a form's submission key");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submissions_are_random_and_recognised() {
        let (a, b) = (new_submission(), new_submission());
        assert_ne!(a, b);
        assert!(well_formed(&a) && well_formed(&b));
        assert!(!well_formed("") && !well_formed(&a[..31]) && !well_formed(&a.to_uppercase()));
        assert!(!well_formed("zz0123456789abcdef0123456789abcd"));
    }
}
