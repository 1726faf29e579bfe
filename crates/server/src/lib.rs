//! staydown's HTTP server: the JSON API under `/api/v1`, health, and the background workers.
//!
//! The only crate that knows HTTP and the JSON wire format. Handlers are thin: they authenticate
//! (`auth`), parse (`json`), call the domain for rules and the store for durability, and map every
//! error through `problem` (RFC 9457). State is an `AppState` handle shared by all handlers,
//! including the in-memory screening index (`screening`) that upload screening searches.

pub mod api;
pub mod auth;
pub mod json;
pub mod mail;
pub mod metrics;
pub mod outbox;
pub mod pages;
pub mod problem;
pub mod screening;
pub mod tdb;
pub mod web;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use staydown_domain::policy::Policy;
use staydown_store::Store;
use time::OffsetDateTime;
use tokio::sync::{Notify, Semaphore};

use crate::json::BodyLimit;
pub use crate::mail::Mailer;

/// Where "now" comes from; tests replace it to move time.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(OffsetDateTime::now_utc)
}

/// Server settings, already validated by the binary's configuration layer.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL the public reaches this server at (for tracking links), without trailing slash.
    pub public_url: String,
    /// Largest JSON body accepted, in bytes.
    pub body_limit: usize,
    /// Anonymous notices accepted per client address per minute (sustained rate).
    pub public_notices_per_minute: u32,
    /// Anonymous notices a client address may send in a burst.
    pub public_notice_burst: u32,
    /// Largest body `POST /api/v1/screen` accepts with image bytes (multipart), in bytes; also the
    /// largest image decoded.
    pub screen_body_limit: usize,
    /// Longest time one screened image may take to decode and read provenance from.
    pub screen_decode_timeout: Duration,
    /// How often the screening index catches up with the database even without a notification.
    pub bank_refresh_interval: Duration,
    /// The service's name in statements of reasons.
    pub platform_name: String,
    /// Out-of-court dispute settlement (Art. 21): the certified body or bodies, as shown to users.
    pub out_of_court_settlement: String,
    /// Judicial redress, as shown to users.
    pub court: String,
    /// Where action webhooks go; `None` keeps them queued until configured.
    pub webhook: Option<WebhookSettings>,
    /// Art. 23(2) thresholds.
    pub misuse: staydown_domain::misuse::MisusePolicy,
    /// What the public pages show from configuration: support contacts, privacy contact (issue 11).
    pub public: pages::info::PublicInfo,
}

/// The platform's webhook receiver.
#[derive(Clone)]
pub struct WebhookSettings {
    /// URL that receives `POST`s.
    pub url: String,
    /// Shared secret for the HMAC-SHA256 signature.
    pub secret: String,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings").field("url", &self.url).field("secret", &"<redacted>").finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: "http://localhost:8080".into(),
            body_limit: json::DEFAULT_BODY_LIMIT,
            public_notices_per_minute: 30,
            public_notice_burst: 10,
            platform_name: "this service".into(),
            out_of_court_settlement: "a dispute settlement body certified under DSA Art. 21; the list is kept by \
                                      the European Commission (digital-strategy.ec.europa.eu)"
                .into(),
            court: "the competent court (in the Netherlands: the district court, rechtbank)".into(),
            webhook: None,
            misuse: staydown_domain::misuse::MisusePolicy::default(),
            public: pages::info::PublicInfo::default(),
            screen_body_limit: 20 * 1024 * 1024,
            screen_decode_timeout: Duration::from_secs(10),
            bank_refresh_interval: Duration::from_secs(30),
        }
    }
}

/// Per-address limiter for anonymous intake.
pub type IntakeLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

fn intake_limiter(settings: &Settings) -> IntakeLimiter {
    let per_minute =
        std::num::NonZeroU32::new(settings.public_notices_per_minute.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
    let burst = std::num::NonZeroU32::new(settings.public_notice_burst.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
    governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute).allow_burst(burst))
}

struct Inner {
    store: Store,
    policy: Policy,
    settings: Settings,
    mailer: Mailer,
    clock: Clock,
    outbox_wake: Notify,
    intake_limiter: IntakeLimiter,
    http: reqwest::Client,
    banks: screening::BankIndex,
    decode_slots: Semaphore,
}

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.0.settings).finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds the state.
    pub fn new(store: Store, policy: Policy, settings: Settings, mailer: Mailer, clock: Clock) -> Self {
        let intake_limiter = intake_limiter(&settings);
        let http = reqwest::Client::new();
        metrics::handle();
        // Decoding is CPU-bound: at most one image per core at a time, the rest wait.
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self(Arc::new(Inner {
            store,
            policy,
            settings,
            mailer,
            clock,
            outbox_wake: Notify::new(),
            intake_limiter,
            http,
            banks: screening::BankIndex::default(),
            decode_slots: Semaphore::new(cores),
        }))
    }

    /// The in-memory screening index.
    pub fn banks(&self) -> &screening::BankIndex {
        &self.0.banks
    }

    /// Permits for concurrent image decodes in screening.
    pub fn decode_slots(&self) -> &Semaphore {
        &self.0.decode_slots
    }

    /// Applies committed bank changes to this process's screening index (building it on first
    /// use). Call after committing a bank mutation (e.g. a decision that banked a case's hashes).
    /// A failure is logged; the periodic catch-up (`screening::spawn_bank_sync`) retries it.
    pub async fn refresh_banks(&self) {
        if let Err(e) = self.0.banks.catch_up(&self.0.store).await {
            tracing::warn!(error = %e, "bank index catch-up failed; will retry");
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The review policy.
    pub fn policy(&self) -> &Policy {
        &self.0.policy
    }

    /// Settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The mailer.
    pub fn mailer(&self) -> &Mailer {
        &self.0.mailer
    }

    /// Now, by the state's clock.
    pub fn now(&self) -> OffsetDateTime {
        (self.0.clock)()
    }

    /// The HTTP client for outgoing calls (webhooks).
    pub fn http(&self) -> &reqwest::Client {
        &self.0.http
    }

    /// The limiter for anonymous intake.
    pub fn intake_limiter(&self) -> &IntakeLimiter {
        &self.0.intake_limiter
    }

    /// Tells the outbox worker there is new work.
    pub fn wake_outbox(&self) {
        self.0.outbox_wake.notify_one();
    }

    async fn outbox_woken(&self) {
        self.0.outbox_wake.notified().await;
    }
}

/// The full router.
pub fn router(state: AppState) -> Router {
    let limit = state.settings().body_limit;
    let screen_limit = state.settings().screen_body_limit;
    let api = Router::new()
        .route("/categories", get(api::catalogue::categories))
        .route("/legal-grounds", get(api::catalogue::legal_grounds))
        .route("/notices", post(api::notices::create))
        .route("/notices/{id}", get(api::notices::show))
        .route("/queue", get(api::queue::list))
        .route("/accounts", post(api::accounts::create))
        .route("/keys", post(api::accounts::issue_key))
        .route("/cases/{id}", get(api::cases::show))
        .route("/cases/{id}/decision", post(api::cases::decide))
        .route("/decisions/{id}", get(api::decisions::show))
        .route("/decisions/{id}/statement", get(api::decisions::statement))
        .route("/decisions/{id}/appeals", post(api::decisions::appeal))
        .route("/appeals/{id}", get(api::decisions::show_appeal))
        .route("/appeals/{id}/decision", post(api::decisions::decide_appeal))
        .route("/outbox/dead", get(api::operations::dead_letters))
        .route("/misuse", get(api::operations::misuse))
        .route(
            "/screen",
            axum::routing::post(api::screen::screen).layer(DefaultBodyLimit::max(screen_limit.max(limit))),
        )
        .route("/banks", get(api::banks::list).post(api::banks::create))
        .route("/banks/{name}", get(api::banks::show))
        .route("/banks/{name}/entries", axum::routing::post(api::banks::add_entry))
        .route("/banks/{name}/entries/{id}", axum::routing::delete(api::banks::remove_entry))
        .route("/transparency/submissions", get(api::transparency::submissions))
        .route("/stats", get(api::stats::stats));
    Router::new()
        .merge(pages::router())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        // The old hashing page: the hash-only report now does this and files it (issue 11).
        .route("/hash", get(|| async { axum::response::Redirect::permanent("/report/hashes") }))
        .route("/static/pdq/{file}", get(web::pdq_file))
        .nest("/api/v1", api)
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(move |mut req: Request, next: Next| async move {
            req.extensions_mut().insert(BodyLimit(limit));
            next.run(req).await
        }))
        .layer(middleware::from_fn_with_state(state.clone(), pages::layer))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(middleware::from_fn(metrics::track_requests))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => axum::Json(serde_json::json!({"status": "ok", "database": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable", "database": "unreachable"})),
            )
                .into_response()
        }
    }
}

/// Serves `router(state)` on an already bound listener until `shutdown` resolves, with the outbox
/// worker and the bank sync running beside it. The screening index is built before the first
/// request is accepted.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = tokio::spawn(outbox::run(state.clone()));
    state.refresh_banks().await;
    let sync = screening::spawn_bank_sync(state.clone(), state.settings().bank_refresh_interval);
    let upkeep = tokio::spawn(async {
        // Histogram samples are buffered until drained; drain them even if nobody scrapes.
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Some(handle) = metrics::handle() {
                handle.run_upkeep();
            }
        }
    });
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    worker.abort();
    sync.abort();
    upkeep.abort();
    state.store().close().await;
    result
}
