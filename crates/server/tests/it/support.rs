//! A real server on a loopback port per test, over a fresh database, with a controllable clock and
//! an in-memory mailer.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use staydown_domain::policy::Policy;
use staydown_domain::roles::Role;
use staydown_domain::secret_digest;
use staydown_server::mail::Email;
use staydown_server::{AppState, Mailer, Settings};
use staydown_store::Store;
use staydown_testkit::{Backend, TestDatabase, backends, fresh_database};

pub struct TestApp {
    pub state: AppState,
    pub base: String,
    pub client: reqwest::Client,
    pub sent: Arc<Mutex<Vec<Email>>>,
    pub fail_next: Arc<Mutex<u32>>,
    pub clock_offset_ms: Arc<AtomicI64>,
    pub backend: Backend,
    _stop: tokio::sync::oneshot::Sender<()>,
    _db: TestDatabase,
}

/// Runs `test` once per available backend, each time on a fresh database and server.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends().await {
        test(TestApp::start(backend).await).await;
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, Settings { public_url: "http://staydown.test".into(), ..Settings::default() }).await
    }

    pub async fn start_with(backend: Backend, mut settings: Settings) -> TestApp {
        // `.ci/run` runs the video tests a second time with the libav child decoder: the path of a
        // `staydown` binary built with its `video-libav` feature.
        if let Some(program) = std::env::var_os("STAYDOWN_TEST_VIDEO_CHILD") {
            settings.video.decoder =
                staydown_server::VideoDecoder::Child { program: program.into(), args: vec!["video-child".into()] };
        }
        let db = fresh_database(backend).await;
        let store = Store::connect(&db.url).await.expect("connect test store");
        let (mailer, sent, fail_next) = Mailer::memory();
        let offset = Arc::new(AtomicI64::new(0));
        let clock_offset = offset.clone();
        let clock: staydown_server::Clock = Arc::new(move || {
            time::OffsetDateTime::now_utc() + time::Duration::milliseconds(clock_offset.load(Ordering::SeqCst))
        });
        let state = AppState::new(store, Policy::default(), settings, mailer, clock);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = staydown_server::router(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .await
                .ok();
        });
        TestApp {
            state,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            sent,
            fail_next,
            clock_offset_ms: offset,
            backend,
            _stop: stop,
            _db: db,
        }
    }

    pub fn store(&self) -> &Store {
        self.state.store()
    }

    /// The test database's URL (to open a second store or server on it).
    pub fn db_url(&self) -> &str {
        &self._db.url
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, by: time::Duration) {
        self.clock_offset_ms.fetch_add(by.whole_milliseconds() as i64, Ordering::SeqCst);
    }

    /// Creates an API key with `role` and returns it in clear.
    pub async fn key(&self, role: Role, name: &str) -> String {
        let (id, key) = staydown_server::auth::generate_api_key();
        self.store().create_api_key(&id, name, role, &secret_digest(&key), self.state.now()).await.expect("create key");
        key
    }

    pub async fn post(&self, path: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
        let mut req = self.client.put(format!("{}{path}", self.base)).json(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch(&self, path: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
        let mut req = self.client.patch(format!("{}{path}", self.base)).json(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, path: &str, key: Option<&str>) -> u16 {
        let mut req = self.client.delete(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send().await.expect("request").status().as_u16()
    }

    /// Posts a multipart/form-data body: `(name, filename, bytes)` parts.
    pub async fn post_multipart(
        &self,
        path: &str,
        parts: &[(&str, Option<&str>, &[u8])],
        key: Option<&str>,
    ) -> (u16, Value) {
        let boundary = "staydown-test-boundary-7d1c";
        let mut body = Vec::new();
        for (name, filename, bytes) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match filename {
                Some(f) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> (u16, Value) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Files a notice and asserts a 201.
    pub async fn file(&self, body: &Value, key: Option<&str>) -> Value {
        let (status, receipt) = self.post("/api/v1/notices", body, key).await;
        assert_eq!(status, 201, "[{:?}] expected 201, got {status}: {receipt}", self.backend);
        receipt
    }

    pub async fn queue(&self, key: &str) -> Vec<Value> {
        let (status, body) = self.get("/api/v1/queue", Some(key)).await;
        assert_eq!(status, 200, "{body}");
        body.as_array().cloned().expect("queue is an array")
    }
}

/// A complete, valid Art. 16 notice about `url`.
pub fn notice(url: &str) -> Value {
    json!({
        "locations": [{"url": url}],
        "explanation": "A nude image of me is shared here without my consent.",
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
        "notifier": {"name": "Test Person", "email": "test.person@example.org"},
        "good_faith": true
    })
}

/// The fields named in a problem document's `errors`.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map_or_else(Vec::new, |errors| errors.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
}

pub fn parse_time(v: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(v.as_str().expect("timestamp string"), &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 timestamp")
}

impl TestApp {
    /// Creates a staff account through the API (an admin creates it, the person exchanges the
    /// password for a key) and returns the key.
    pub async fn staff(&self, role: Role, username: &str) -> String {
        let admin = self.key(Role::Admin, "bootstrap admin").await;
        let password = format!("{username}-correct-horse-battery");
        let (status, body) = self
            .post(
                "/api/v1/accounts",
                &json!({"username": username, "role": role.as_str(), "password": password}),
                Some(&admin),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let resp = self
            .client
            .post(format!("{}/api/v1/keys", self.base))
            .basic_auth(username, Some(&password))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), 201);
        let body: Value = resp.json().await.expect("json");
        body["key"].as_str().expect("key").to_owned()
    }

    /// The case id of the only open case.
    pub async fn only_case(&self, reviewer: &str) -> String {
        let queue = self.queue(reviewer).await;
        assert_eq!(queue.len(), 1, "{queue:?}");
        queue[0]["case_id"].as_str().expect("case id").to_owned()
    }

    /// Delivers the outbox now (emails and webhooks).
    pub async fn deliver(&self) -> usize {
        staydown_server::outbox::deliver_due(&self.state).await.expect("deliver outbox")
    }
}

/// One webhook delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub event: String,
    pub signature_ok: bool,
    pub body: Value,
}

/// A platform's webhook endpoint: verifies signatures, applies each delivery id once, and can be
/// told to fail (before applying) or to lose its answer (after applying).
#[derive(Clone, Default)]
pub struct Receiver {
    pub url: String,
    pub attempts: Arc<Mutex<Vec<Delivery>>>,
    pub applied: Arc<Mutex<Vec<Delivery>>>,
    pub fail_next: Arc<Mutex<u32>>,
    pub lose_answer_next: Arc<Mutex<u32>>,
}

pub const WEBHOOK_SECRET: &str = "test-webhook-secret-0123456789";

impl Receiver {
    pub async fn start() -> Receiver {
        let mut receiver = Receiver::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        receiver.url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
        let r = receiver.clone();
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let r = r.clone();
                async move { r.handle(&headers, &body) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        receiver
    }

    fn handle(&self, headers: &axum::http::HeaderMap, body: &[u8]) -> axum::http::StatusCode {
        let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let delivery = Delivery {
            id: header("staydown-delivery"),
            event: header("staydown-event"),
            signature_ok: staydown_server::webhook::verify(
                WEBHOOK_SECRET,
                &header("staydown-signature"),
                body,
                time::OffsetDateTime::now_utc().unix_timestamp(),
                // The server's clock is moved in tests; accept any age, check the MAC.
                i64::MAX / 2,
            ),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        };
        self.attempts.lock().expect("lock").push(delivery.clone());
        if take_one(&self.fail_next) {
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
        }
        let mut applied = self.applied.lock().expect("lock");
        if delivery.signature_ok && !applied.iter().any(|d| d.id == delivery.id) {
            applied.push(delivery);
        }
        drop(applied);
        if take_one(&self.lose_answer_next) {
            return axum::http::StatusCode::BAD_GATEWAY;
        }
        axum::http::StatusCode::NO_CONTENT
    }

    /// Events applied, in order.
    pub fn applied_events(&self) -> Vec<String> {
        self.applied.lock().expect("lock").iter().map(|d| d.event.clone()).collect()
    }
}

fn take_one(counter: &Mutex<u32>) -> bool {
    let mut n = counter.lock().expect("lock");
    if *n > 0 {
        *n -= 1;
        true
    } else {
        false
    }
}

/// Settings with webhooks to `receiver`.
pub fn settings_with_webhook(receiver: &Receiver) -> Settings {
    Settings {
        public_url: "http://staydown.test".into(),
        webhook: Some(staydown_server::WebhookSettings { url: receiver.url.clone(), secret: WEBHOOK_SECRET.into() }),
        ..Settings::default()
    }
}

/// A complete removal decision under art. 254ba Sr.
pub fn removal() -> Value {
    json!({
        "visibility": ["removed"],
        "ground": "illegal",
        "legal_ground": "nl-sr-254ba",
        "explanation": "The image shows a person nude, published without their consent.",
        "territorial_scope": ["EEA"],
        "content_date": "2026-01-05",
        "facts": "A notice reported the image; the reviewer compared the image with the report.",
        "content_type": ["image", "synthetic_media"]
    })
}
