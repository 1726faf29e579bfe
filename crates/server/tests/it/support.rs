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

    pub async fn start_with(backend: Backend, settings: Settings) -> TestApp {
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
