//! staydown's HTTP server: the JSON API under `/api/v1`, health, and the background workers.
//!
//! The only crate that knows HTTP and the JSON wire format. Handlers are thin: they authenticate
//! (`auth`), parse (`json`), call the domain for rules and the store for durability, and map every
//! error through `problem` (RFC 9457). State is an `AppState` handle shared by all handlers.

pub mod api;
pub mod auth;
pub mod json;
pub mod mail;
pub mod outbox;
pub mod problem;
pub mod tdb;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use staydown_domain::policy::Policy;
use staydown_store::Store;
use time::OffsetDateTime;
use tokio::sync::Notify;

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: "http://localhost:8080".into(),
            body_limit: json::DEFAULT_BODY_LIMIT,
            public_notices_per_minute: 30,
            public_notice_burst: 10,
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
        Self(Arc::new(Inner { store, policy, settings, mailer, clock, outbox_wake: Notify::new(), intake_limiter }))
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
    let api = Router::new()
        .route("/categories", get(api::catalogue::categories))
        .route("/legal-grounds", get(api::catalogue::legal_grounds))
        .route("/notices", axum::routing::post(api::notices::create))
        .route("/notices/{id}", get(api::notices::show))
        .route("/queue", get(api::queue::list))
        .route("/transparency/submissions", get(api::transparency::submissions));
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/hash", get(web::hash_page))
        .route("/static/pdq/{file}", get(web::pdq_file))
        .nest("/api/v1", api)
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(move |mut req: Request, next: Next| async move {
            req.extensions_mut().insert(BodyLimit(limit));
            next.run(req).await
        }))
        .layer(tower_http::trace::TraceLayer::new_for_http())
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

async fn home() -> Html<&'static str> {
    Html(include_str!("home.html"))
}

/// Serves `router(state)` on an already bound listener until `shutdown` resolves, with the outbox
/// worker running beside it.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = tokio::spawn(outbox::run(state.clone()));
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    worker.abort();
    state.store().close().await;
    result
}
