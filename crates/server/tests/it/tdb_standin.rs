//! A stand-in for the EU Transparency Database API (specs/dsa.md §3): validates with our own
//! validator, stores by puid, answers in the real API's shapes, and fails on request.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use staydown_domain::tdb::{BatchErrors, MAX_BATCH, Statement, TdbErrors, normalise, validate};
use tokio::sync::Notify;

pub const TOKEN: &str = "42|stand-in-secret";

#[derive(Default)]
pub struct Inner {
    /// puid → (uuid, stored statement).
    pub stored: BTreeMap<String, (String, Value)>,
    /// The puids of every `POST /statements`, in order, whatever the answer.
    pub posts: Vec<Vec<String>>,
    /// Every `existing-puid` look-up.
    pub lookups: Vec<String>,
    /// Statuses to answer the next `POST /statements` with, before doing anything.
    pub fail_next: VecDeque<u16>,
    /// Answer the next `POST /statements` with this, before doing anything.
    pub canned_next: Option<(u16, Value)>,
    /// Store the next batch, then answer 500 (the answer is lost after the commit).
    pub lose_next_answer: bool,
    /// On the n-th `POST /statements` (1-based): store, signal, then never answer (the client dies waiting).
    pub hang_on_post: Option<(usize, Arc<Notify>)>,
}

#[derive(Clone)]
pub struct StandIn {
    pub base: String,
    pub inner: Arc<Mutex<Inner>>,
}

impl StandIn {
    pub async fn start() -> StandIn {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/api/v1/statements", post(create))
            .route("/api/v1/statement/existing-puid/{puid}", get(existing))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind stand-in");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        StandIn { base, inner }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap())
    }

    pub fn stored(&self) -> usize {
        self.with(|i| i.stored.len())
    }

    /// How many times each puid was sent.
    pub fn sends(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for puid in self.with(|i| i.posts.concat()) {
            *counts.entry(puid).or_default() += 1;
        }
        counts
    }

    pub fn batch_sizes(&self) -> Vec<usize> {
        self.with(|i| i.posts.iter().map(Vec::len).collect())
    }
}

fn authorised(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

fn unauthenticated() -> Response {
    (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "Unauthenticated."}))).into_response()
}

fn status(code: u16, body: Value) -> Response {
    (StatusCode::from_u16(code).unwrap(), axum::Json(body)).into_response()
}

async fn create(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: String) -> Response {
    if !authorised(&headers) {
        return unauthenticated();
    }
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let items = body["statements"].as_array().cloned().unwrap_or_default();
    let puids: Vec<String> = items.iter().map(|s| s["puid"].as_str().unwrap_or_default().to_owned()).collect();
    let hang = {
        let mut state = inner.lock().unwrap();
        state.posts.push(puids.clone());
        if let Some((code, body)) = state.canned_next.take() {
            return status(code, body);
        }
        if let Some(code) = state.fail_next.pop_front() {
            let message = if code == 429 { "Limit Reached. Please do not overload the API" } else { "Server Error" };
            return status(code, json!({"message": message}));
        }
        if !(1..=MAX_BATCH).contains(&items.len()) {
            let message = "The statements field must have between 1 and 100 items.";
            return status(422, json!({"message": message, "errors": {"statements": [message]}}));
        }
        let mut errors = Vec::new();
        let mut statements = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match serde_json::from_value::<Statement>(item.clone()) {
                Err(e) => {
                    let mut err = TdbErrors::default();
                    err.push("statement", "parse", e.to_string());
                    errors.push((i, err));
                }
                Ok(s) => match validate(&s) {
                    Err(err) => errors.push((i, err)),
                    Ok(()) => statements.push(s),
                },
            }
        }
        if !errors.is_empty() {
            return status(422, serde_json::to_value(BatchErrors(errors)).unwrap());
        }
        let mut seen = std::collections::BTreeSet::new();
        let duplicates: Vec<&String> =
            puids.iter().filter(|p| state.stored.contains_key(*p) || !seen.insert(p.as_str())).collect();
        if !duplicates.is_empty() {
            let message = "The platform identifier(s) are not all unique within this call.";
            return status(
                422,
                json!({"message": message, "errors": {"puid": [message], "existing_puids": duplicates}}),
            );
        }
        let mut answers = Vec::new();
        for mut s in statements {
            normalise(&mut s);
            let uuid = uuid::Uuid::new_v4().to_string();
            answers.push(json!({
                "uuid": uuid, "created_at": "2026-11-23 12:00:00", "platform_name": "staydown test platform",
                "puid": s.puid, "self": format!("/api/v1/statement/{uuid}"), "permalink": format!("/statement/{uuid}"),
            }));
            state.stored.insert(s.puid.clone(), (uuid, serde_json::to_value(&s).unwrap()));
        }
        if std::mem::take(&mut state.lose_next_answer) {
            return status(500, json!({"message": "Server Error"}));
        }
        let post_number = state.posts.len();
        match state.hang_on_post.take_if(|(n, _)| *n == post_number) {
            Some((_, signal)) => signal,
            None => return status(201, json!({"statements": answers})),
        }
    };
    hang.notify_one();
    std::future::pending::<Response>().await
}

async fn existing(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, Path(puid): Path<String>) -> Response {
    if !authorised(&headers) {
        return unauthenticated();
    }
    let mut state = inner.lock().unwrap();
    state.lookups.push(puid.clone());
    if state.stored.contains_key(&puid) {
        status(302, json!({"message": "statement of reason found", "puid": puid}))
    } else {
        status(404, json!({"message": "statement of reason not found", "puid": puid}))
    }
}
