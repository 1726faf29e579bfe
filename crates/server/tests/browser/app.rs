//! A real server on a loopback port for browser tests, over a fresh SQLite database, with every
//! request's method, path and body recorded (to prove what the browser sent).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::middleware::{self, Next};
use staydown_domain::policy::Policy;
use staydown_server::mail::Email;
use staydown_server::{AppState, Mailer, Settings};
use staydown_store::Store;
use staydown_testkit::browser::{Browser, Session};
use staydown_testkit::{Backend, TestDatabase, fresh_database};

/// One request as the server received it.
#[allow(dead_code)] // read by the report tests
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

#[allow(dead_code)] // read by the report tests
pub struct App {
    pub state: AppState,
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub sent: Arc<Mutex<Vec<Email>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
    _db: TestDatabase,
}

impl App {
    pub async fn start() -> App {
        Self::start_with(|s| s).await
    }

    /// Starts with settings changed by `change` (the public URL and platform name are set first).
    pub async fn start_with(change: impl FnOnce(Settings) -> Settings) -> App {
        let db = fresh_database(Backend::Sqlite).await;
        let store = Store::connect(&db.url).await.expect("connect test store");
        let (mailer, sent, _) = Mailer::memory();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let settings = change(Settings {
            public_url: format!("http://{addr}"),
            platform_name: "Fotoplek".into(),
            ..Settings::default()
        });
        let state = AppState::new(store, Policy::default(), settings, mailer, staydown_server::system_clock());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        let router =
            staydown_server::router(state.clone()).layer(middleware::from_fn(move |req: Request, next: Next| {
                let log = log.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let bytes = to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
                    log.lock().unwrap().push(Seen {
                        method: parts.method.to_string(),
                        path: parts.uri.to_string(),
                        body: bytes.to_vec(),
                    });
                    next.run(Request::from_parts(parts, Body::from(bytes))).await
                }
            }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    stopped.await.ok();
                })
                .await
                .ok();
        });
        App { state, base: format!("http://{addr}"), seen, sent, _stop: stop, _db: db }
    }

    /// How many notices the store holds.
    pub async fn store_notice_count(&self) -> i64 {
        self.state.store().count_notices().await.expect("count notices")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A browser session, or `None` when the browser is not installed (the test is then skipped).
pub async fn session(test: &str) -> Option<Session> {
    Some(Browser::get(test)?.session().await)
}

/// The screenshots the README shows (only these are written, to keep the repository small).
const SHOTS: &[&str] = &[
    "home-phone",
    "report-errors-en-phone",
    "report-hashes-ready",
    "received-nl",
    "tracking-decided",
    "console-dashboard",
];

/// Where a screenshot goes when `STAYDOWN_SCREENSHOTS=1`.
pub fn screenshot_path(name: &str) -> Option<PathBuf> {
    let wanted = std::env::var("STAYDOWN_SCREENSHOTS").is_ok_and(|v| v == "1") && SHOTS.contains(&name);
    wanted.then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots").join(format!("{name}.png")))
}

/// Runs axe-core on the page at desktop and at phone width, checks the phone layout does not
/// scroll sideways, and takes the screenshots when asked.
pub async fn check_page(s: &Session, label: &str) {
    use staydown_testkit::browser::{DESKTOP, PHONE};
    s.size(DESKTOP).await;
    s.axe(&format!("{label} (desktop)")).await;
    if let Some(p) = screenshot_path(label) {
        s.screenshot(&p, true).await;
    }
    s.size(PHONE).await;
    s.axe(&format!("{label} (phone)")).await;
    assert!(!s.scrolls_sideways().await, "{label} scrolls sideways at {} px", PHONE.0);
    if let Some(p) = screenshot_path(&format!("{label}-phone")) {
        s.screenshot(&p, true).await;
    }
    s.size(DESKTOP).await;
}
