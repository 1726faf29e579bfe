//! The submitter: sends queued statements of reasons to the EU DSA Transparency Database (TDB).
//!
//! DSA Art. 24(5) (send each Art. 17 statement without undue delay); the API is specs/dsa.md §3.
//! `POST {endpoint}/api/v1/statements` takes 1–100 statements and is all or nothing, so the
//! worker reads every answer as a statement about the whole batch:
//! - `201`: all stored; each gets the TDB's uuid.
//! - `422` keyed `statement_<i>`: nothing stored; those statements are refused for good (kept
//!   with the API's error for the failure view) and the rest is sent again at once.
//! - `422` duplicate puid: nothing stored; each named puid is looked up with `existing-puid`, and
//!   found ones (302) are marked submitted without sending them again.
//! - `429`, `5xx`, transport errors: retried with back-off on the server's clock, never given up.
//! - `401` / `403`: the token is wrong or lacks a platform; the worker stops and says so loudly.
//!
//! Idempotency comes from the TDB's unique puid: a statement claimed for the second time may have
//! been stored by an attempt whose answer we never saw (a crash, a lost response), so it is looked
//! up with `existing-puid` before it is sent again. Claims are leases (`claim_statements`), longer
//! than the HTTP timeout, so a worker killed mid-batch leaves rows that the next pass picks up.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use staydown_store::{QueuedStatement, StoreError, SubmittedStatement};

use crate::AppState;
use crate::outbox::backoff;

/// How long a claim lasts; longer than [`HTTP_TIMEOUT`] plus the look-ups of a batch.
pub const LEASE: Duration = Duration::from_secs(600);
/// Timeout of one HTTP request to the TDB.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the worker looks for due statements.
const POLL: Duration = Duration::from_secs(5);

/// Connection settings, validated by the binary's configuration layer.
#[derive(Clone)]
pub struct TdbSettings {
    /// Base URL, e.g. `https://transparency.dsa.ec.europa.eu` (no trailing slash needed).
    pub endpoint: String,
    /// The API token from the TDB user profile (`<id>|<secret>`).
    pub token: String,
    /// Statements per request, 1–100.
    pub batch_size: usize,
}

impl std::fmt::Debug for TdbSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TdbSettings")
            .field("endpoint", &self.endpoint)
            .field("token", &"********")
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

/// Why a pass stopped early.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The TDB refused our credentials (401/403): nothing will succeed until the token is fixed.
    #[error("the Transparency Database refused the token (HTTP {status}): {body}")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The response body.
        body: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client could not be built (bad endpoint or TLS set-up).
    #[error("cannot set up the Transparency Database client: {0}")]
    Client(String),
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Statements now known to be stored by the TDB.
    pub submitted: usize,
    /// Statements the TDB refused.
    pub failed: usize,
    /// Statements put back for a later attempt.
    pub deferred: usize,
    /// `POST /statements` requests made.
    pub requests: usize,
}

/// The TDB's HTTP API.
#[derive(Debug, Clone)]
pub struct TdbClient {
    http: reqwest::Client,
    base: reqwest::Url,
    token: String,
    batch_size: usize,
}

enum Answer {
    Status(u16, String, Option<u64>),
    Transport(String),
}

impl TdbClient {
    /// A client for `settings` (HTTPS through rustls with the Mozilla root certificates).
    pub fn new(settings: &TdbSettings) -> Result<Self, SubmitError> {
        let base = reqwest::Url::parse(settings.endpoint.trim_end_matches('/'))
            .map_err(|e| SubmitError::Client(format!("endpoint `{}`: {e}", settings.endpoint)))?;
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            // existing-puid answers 302 with a JSON body and no Location: never follow it.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("staydown/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SubmitError::Client(e.to_string()))?;
        Ok(Self { http, base, token: settings.token.clone(), batch_size: settings.batch_size.clamp(1, 100) })
    }

    fn url(&self, segments: &[&str]) -> reqwest::Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let request = request.bearer_auth(&self.token).header(reqwest::header::ACCEPT, "application/json");
        match request.send().await {
            Err(e) => Answer::Transport(error_chain(&e)),
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok());
                match response.text().await {
                    Ok(body) => Answer::Status(status, body, retry_after),
                    Err(e) => Answer::Transport(format!("HTTP {status}, body unreadable: {e}")),
                }
            }
        }
    }

    async fn post_batch(&self, batch: &[QueuedStatement]) -> Answer {
        // The stored JSON is exactly what was validated: splice it in rather than re-encode it.
        let items: Vec<&str> = batch.iter().map(|s| s.statement_json.as_str()).collect();
        let body = format!("{{\"statements\":[{}]}}", items.join(","));
        let request = self
            .http
            .post(self.url(&["api", "v1", "statements"]))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.send(request).await
    }

    /// `Ok(true)` when the TDB already holds `puid` (302), `Ok(false)` when not (404).
    async fn exists(&self, puid: &str) -> Result<bool, Answer> {
        let url = self.url(&["api", "v1", "statement", "existing-puid", puid]);
        match self.send(self.http.get(url)).await {
            Answer::Status(302, _, _) => Ok(true),
            Answer::Status(404, _, _) => Ok(false),
            other => Err(other),
        }
    }
}

/// Sends every due statement once, in batches. Returns what happened, or stops at a credentials
/// error (after putting the claimed statements back) or a store error.
pub async fn submit_due(state: &AppState, client: &TdbClient) -> Result<PassReport, SubmitError> {
    let store = state.store();
    let mut report = PassReport::default();
    loop {
        let claimed = store.claim_statements(client.batch_size as i64, state.now(), LEASE).await?;
        if claimed.is_empty() {
            return Ok(report);
        }
        let mut batch = Vec::with_capacity(claimed.len());
        let mut already = Vec::new();
        for (i, s) in claimed.iter().enumerate() {
            if s.attempts <= 1 {
                batch.push(s.clone());
                continue;
            }
            // Tried before: the TDB may have stored it although we never saw the answer.
            match client.exists(&s.puid).await {
                Ok(true) => already.push(SubmittedStatement { puid: s.puid.clone(), uuid: None }),
                Ok(false) => batch.push(s.clone()),
                Err(answer) => {
                    let rest: Vec<QueuedStatement> = claimed[i..].to_vec();
                    store.mark_submitted(&already, state.now()).await?;
                    report.submitted += already.len();
                    return settle_unsent(state, answer, &rest, batch, report).await;
                }
            }
        }
        report.submitted += already.len();
        store.mark_submitted(&already, state.now()).await?;
        send(state, client, batch, &mut report).await?;
    }
}

/// An `existing-puid` look-up failed: the statements not yet sent go back as that answer says.
async fn settle_unsent(
    state: &AppState,
    answer: Answer,
    rest: &[QueuedStatement],
    checked: Vec<QueuedStatement>,
    mut report: PassReport,
) -> Result<PassReport, SubmitError> {
    let all: Vec<QueuedStatement> = checked.into_iter().chain(rest.iter().cloned()).collect();
    retry(state, &all, &answer, &mut report).await?;
    if let Answer::Status(status @ (401 | 403), body, _) = answer {
        return Err(SubmitError::Unauthorized { status, body });
    }
    Ok(report)
}

/// Sends one claimed batch until it is settled: stored, refused, or put back for later.
async fn send(
    state: &AppState,
    client: &TdbClient,
    mut batch: Vec<QueuedStatement>,
    report: &mut PassReport,
) -> Result<(), SubmitError> {
    let store = state.store();
    while !batch.is_empty() {
        report.requests += 1;
        let answer = client.post_batch(&batch).await;
        let (status, body) = match &answer {
            Answer::Status(status, body, _) => (*status, body.as_str()),
            Answer::Transport(_) => (0, ""),
        };
        match status {
            201 => {
                let uuids = uuids_by_puid(body);
                let stored: Vec<SubmittedStatement> = batch
                    .iter()
                    .map(|s| SubmittedStatement { puid: s.puid.clone(), uuid: uuids.get(&s.puid).cloned() })
                    .collect();
                store.mark_submitted(&stored, state.now()).await?;
                report.submitted += stored.len();
                return Ok(());
            }
            422 => {
                let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
                let by_index = statement_errors(&parsed);
                let before = batch.len();
                if !by_index.is_empty() {
                    // All or nothing: nothing was stored. Refuse the named ones, resend the rest.
                    let mut keep = Vec::with_capacity(batch.len());
                    for (i, s) in batch.into_iter().enumerate() {
                        match by_index.get(&i) {
                            Some(error) => {
                                tracing::warn!(puid = %s.puid, error = %staydown_domain::scrub::scrub(error), "the Transparency Database refused a statement");
                                store.mark_failed_permanently(&s.puid, error, state.now()).await?;
                                report.failed += 1;
                            }
                            None => keep.push(s),
                        }
                    }
                    batch = keep;
                } else if let Some(duplicates) = duplicate_puids(&parsed, &batch) {
                    batch = settle_duplicates(state, client, batch, &duplicates, &answer, report).await?;
                }
                if batch.len() < before {
                    continue;
                }
                // Guard against resending forever: the answer named nothing in this batch.
                tracing::error!(body = %staydown_domain::scrub::scrub(body), "the Transparency Database refused a whole batch; retrying later");
                return retry(state, &batch, &answer, report).await;
            }
            401 | 403 => {
                retry(state, &batch, &answer, report).await?;
                return Err(SubmitError::Unauthorized { status, body: body.to_owned() });
            }
            _ => return retry(state, &batch, &answer, report).await,
        }
    }
    Ok(())
}

/// After a duplicate-puid 422: marks the named puids the TDB holds as submitted, puts the named
/// ones it does not hold (yet: a concurrent submission may hold the lock) back for later, and
/// returns the statements still to send.
async fn settle_duplicates(
    state: &AppState,
    client: &TdbClient,
    batch: Vec<QueuedStatement>,
    duplicates: &[String],
    answer: &Answer,
    report: &mut PassReport,
) -> Result<Vec<QueuedStatement>, SubmitError> {
    let (named, rest): (Vec<_>, Vec<_>) = batch.into_iter().partition(|s| duplicates.contains(&s.puid));
    let mut found = Vec::new();
    let mut later = Vec::new();
    for s in named {
        match client.exists(&s.puid).await {
            Ok(true) => found.push(SubmittedStatement { puid: s.puid.clone(), uuid: None }),
            Ok(false) => later.push(s),
            Err(answer) => {
                later.push(s);
                tracing::warn!(error = %staydown_domain::scrub::scrub(&describe(&answer)), "existing-puid look-up failed");
            }
        }
    }
    report.submitted += found.len();
    state.store().mark_submitted(&found, state.now()).await?;
    retry(state, &later, answer, report).await?;
    Ok(rest)
}

/// Puts statements back, due after the back-off (or the API's `Retry-After`, if longer).
async fn retry(
    state: &AppState,
    batch: &[QueuedStatement],
    answer: &Answer,
    report: &mut PassReport,
) -> Result<(), SubmitError> {
    if batch.is_empty() {
        return Ok(());
    }
    let attempts = batch.iter().map(|s| s.attempts).max().unwrap_or(1);
    let mut delay = backoff(attempts);
    if let Answer::Status(_, _, Some(seconds)) = answer {
        delay = delay.max(time::Duration::seconds(i64::try_from(*seconds).unwrap_or(i64::MAX).min(86_400)));
    }
    let error = describe(answer);
    tracing::warn!(statements = batch.len(), attempts, error = %staydown_domain::scrub::scrub(&error), "Transparency Database submission deferred");
    let puids: Vec<String> = batch.iter().map(|s| s.puid.clone()).collect();
    state.store().retry_later(&puids, &error, state.now() + delay).await?;
    report.deferred += batch.len();
    Ok(())
}

/// An error with its causes (reqwest's own message omits them: "error sending request" alone
/// does not tell an operator that TLS or DNS failed).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

fn describe(answer: &Answer) -> String {
    match answer {
        Answer::Status(status, body, _) => format!("HTTP {status}: {}", truncate(body, 2000)),
        Answer::Transport(e) => format!("transport: {e}"),
    }
}

fn truncate(s: &str, max_chars: usize) -> &str {
    s.char_indices().nth(max_chars).map_or(s, |(i, _)| &s[..i])
}

/// `puid → uuid` from a `201 {"statements": [...]}` body.
fn uuids_by_puid(body: &str) -> HashMap<String, String> {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    parsed["statements"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|s| Some((s["puid"].as_str()?.to_owned(), s["uuid"].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Index → error body from a batch 422 keyed `statement_<i>`.
fn statement_errors(body: &Value) -> HashMap<usize, String> {
    body["errors"]
        .as_object()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("statement_")?.parse().ok()?, v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The puids a duplicate-puid 422 names (`errors.existing_puids`, or the batch when it names none).
fn duplicate_puids(body: &Value, batch: &[QueuedStatement]) -> Option<Vec<String>> {
    let errors = body.get("errors")?;
    let listed: Vec<String> = errors
        .get("existing_puids")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if !listed.is_empty() {
        return Some(listed);
    }
    errors.get("puid").is_some().then(|| batch.iter().map(|s| s.puid.clone()).collect())
}

/// Runs [`submit_due`] every few seconds until the task is dropped; stops for good, with an error
/// in the log, when the TDB refuses the token.
pub async fn run(state: AppState, settings: TdbSettings) {
    let client = match TdbClient::new(&settings) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "Transparency Database submission NOT started");
            return;
        }
    };
    tracing::info!(endpoint = %settings.endpoint, batch_size = client.batch_size, "Transparency Database submission started");
    let mut tick = tokio::time::interval(POLL);
    loop {
        tick.tick().await;
        match submit_due(&state, &client).await {
            Ok(r) if r != PassReport::default() => tracing::info!(?r, "Transparency Database pass"),
            Ok(_) => {}
            Err(e @ SubmitError::Unauthorized { .. }) => {
                tracing::error!(
                    error = %e,
                    "STOPPED submitting statements of reasons to the EU Transparency Database (DSA Art. 24(5)): \
                     fix [transparency_database] token (STAYDOWN_TRANSPARENCY_DATABASE__TOKEN) and restart; \
                     statements stay queued"
                );
                return;
            }
            Err(e) => tracing::warn!(error = %e, "Transparency Database pass failed"),
        }
    }
}
