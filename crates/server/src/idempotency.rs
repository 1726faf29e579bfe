//! `Idempotency-Key` on create calls (design brief §7; draft-ietf-httpapi-idempotency-key-header):
//! a platform, flagger or helpline that retries a `POST` after a lost answer gets the first answer
//! again — the same notice id, decision or screening — never a duplicate.
//!
//! Applies to every `POST` that carries the header. The key is scoped to the caller (a digest of
//! the `Authorization` header, or the anonymous client's address) so nobody can read another
//! caller's answer by guessing a key, and bound to a digest of method, path and body: the same key
//! with a different request is refused (422), a retry while the first is still running gets 409.
//! A 5xx or a dropped handler releases the key, so the retry runs again. Keys live 24 hours.

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use staydown_store::IdempotencyState;

use crate::AppState;
use crate::problem::ApiError;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";
/// Largest answer kept for replay, in bytes.
const MAX_ANSWER: usize = 1024 * 1024;

/// The middleware.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::POST || !req.headers().contains_key(HEADER) {
        return next.run(req).await;
    }
    match handle(&state, req, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn handle(state: &AppState, req: Request, next: Next) -> Result<Response, Response> {
    let key = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"').to_owned())
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::BadRequest({
                let mut e = staydown_domain::validation::FieldErrors::default();
                e.push("Idempotency-Key", "invalid", "use 1-255 visible ASCII characters, e.g. a UUID");
                e
            })
            .into_response()
        })?;
    let caller = caller_scope(state, &req);
    let limit =
        state.settings().screen_body_limit.max(state.settings().body_limit).max(state.settings().video.max_bytes);
    let (parts, body) = req.into_parts();
    let bytes =
        axum::body::to_bytes(body, limit).await.map_err(|_| ApiError::PayloadTooLarge { limit }.into_response())?;
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(parts.uri.to_string().as_bytes());
    hasher.update([0]);
    hasher.update(&bytes);
    let digest = hex::encode(hasher.finalize());
    let claimed = state
        .store()
        .claim_idempotency_key(&caller, &key, &digest, state.now())
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    match claimed {
        IdempotencyState::Answered { request_digest, .. } | IdempotencyState::InProgress { request_digest }
            if request_digest != digest =>
        {
            Err(ApiError::field(
                "Idempotency-Key",
                "reused",
                "this key was already used for a different request; use a new key for a new request",
            )
            .into_response())
        }
        IdempotencyState::InProgress { .. } => Err(ApiError::Conflict(
            "a request with this Idempotency-Key is still being answered; retry in a moment".into(),
        )
        .into_response()),
        IdempotencyState::Answered { status, content_type, location, body, .. } => {
            let mut response = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            let headers = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                headers.insert(header::CONTENT_TYPE, v);
            }
            if let Some(v) = location.as_deref().and_then(|l| HeaderValue::from_str(l).ok()) {
                headers.insert(header::LOCATION, v);
            }
            headers.insert(REPLAYED, HeaderValue::from_static("true"));
            Ok(response)
        }
        IdempotencyState::Claimed => {
            // Run in its own task: if the client goes away (the "lost answer" a retry is for), the
            // work still finishes and its answer is kept for the retry.
            let task_state = state.clone();
            let task = tokio::spawn(async move {
                let mut guard = Release { state: task_state.clone(), caller, key, armed: true };
                let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
                if response.status().is_server_error() {
                    return response;
                }
                let (parts, body) = response.into_parts();
                let Ok(body) = axum::body::to_bytes(body, MAX_ANSWER).await else {
                    return ApiError::Internal("answer too large to keep for Idempotency-Key".into()).into_response();
                };
                let content_type =
                    parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let location = parts.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
                match task_state
                    .store()
                    .record_idempotent_answer(
                        &guard.caller,
                        &guard.key,
                        parts.status.as_u16(),
                        &content_type,
                        location.as_deref(),
                        &body,
                    )
                    .await
                {
                    Ok(()) => guard.armed = false,
                    // The work is committed; only the replay record failed. The key is released,
                    // so a retry would run again: say so in the log.
                    Err(e) => tracing::error!(error = %e, "could not keep the answer for an Idempotency-Key"),
                }
                Response::from_parts(parts, Body::from(body))
            });
            task.await.map_err(|e| ApiError::Internal(format!("idempotent request task failed: {e}")).into_response())
        }
    }
}

fn caller_scope(state: &AppState, req: &Request) -> String {
    if let Some(auth) = req.headers().get(header::AUTHORIZATION) {
        return format!("auth:{}", hex::encode(Sha256::digest(auth.as_bytes())));
    }
    let peer = req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0);
    match crate::limiter_key_of(state, peer, req.headers()) {
        Some(ip) => format!("anon:{ip}"),
        None => "anon".to_owned(),
    }
}

/// Releases a claimed key unless disarmed (answer recorded).
struct Release {
    state: AppState,
    caller: String,
    key: String,
    armed: bool,
}

impl Drop for Release {
    fn drop(&mut self) {
        if self.armed {
            let (state, caller, key) =
                (self.state.clone(), std::mem::take(&mut self.caller), std::mem::take(&mut self.key));
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    if let Err(e) = state.store().release_idempotency_key(&caller, &key).await {
                        tracing::warn!(error = %e, "could not release an Idempotency-Key");
                    }
                });
            }
        }
    }
}
