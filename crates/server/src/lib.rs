//! staydown's HTTP server: the JSON API under `/api/v1`, health, and the background workers.
//!
//! The only crate that knows HTTP and the JSON wire format. Handlers are thin: they authenticate
//! (`auth`), parse (`json`), call the domain for rules and the store for durability, and map every
//! error through `problem` (RFC 9457). State is an `AppState` handle shared by all handlers,
//! including the in-memory screening index (`screening`) that upload screening searches.

pub mod api;
pub mod auth;
pub mod bank_formats;
pub mod blobs;
pub mod client;
pub mod decode_budget;
pub mod helpline;
pub mod idempotency;
pub mod json;
pub mod mail;
pub mod metrics;
pub mod nodes;
pub mod outbox;
pub mod pages;
pub mod problem;
pub mod report_formats;
pub mod screening;
pub mod staff;
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

use crate::api::contract::ApiRoutes;
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
    /// Memory, in bytes, that image decodes may hold together ([`decode_budget`], issue 15).
    pub screen_decode_memory: u64,
    /// How an uploaded JPEG is decoded for the screening lookup (`screen_jpeg_decode`, issue 16):
    /// exactly, or DCT-scaled. Hashes that are stored or answered always come from the exact decode.
    pub screen_jpeg_decode: decode_budget::JpegDecode,
    /// How often the screening index catches up with the database even without a notification.
    pub bank_refresh_interval: Duration,
    /// The service's name in statements of reasons.
    pub platform_name: String,
    /// Out-of-court dispute settlement (Art. 21): the certified body or bodies, as shown to users.
    pub out_of_court_settlement: String,
    /// The same in Dutch, for Dutch statements and pages.
    pub out_of_court_settlement_nl: String,
    /// Judicial redress, as shown to users.
    pub court: String,
    /// The same in Dutch.
    pub court_nl: String,
    /// Where action webhooks go; `None` keeps them queued until configured.
    pub webhook: Option<WebhookSettings>,
    /// Art. 23(2) thresholds.
    pub misuse: staydown_domain::misuse::MisusePolicy,
    /// Staff sign-in: session lifetimes, key lifetime, throttling of password guesses.
    pub staff: staff::StaffSettings,
    /// Where DSA Art. 18 notifications go (an email address of the competent law-enforcement or
    /// judicial authority's contact point); `None` refuses to mark cases.
    pub law_enforcement_contact: Option<String>,
    /// Helpline mode: answer times, sync interval, the URL check's bounds (issue 13).
    pub helpline: helpline::HelplineSettings,
    /// Keys that seal attached content and evidence at rest; `None` refuses to store such bytes.
    pub vault: Option<staydown_vault::Keyring>,
    /// How long stored blobs are kept before retention erases them (unless under legal hold).
    pub blob_retention: Option<Duration>,
    /// Reverse proxies whose `Forwarded`/`X-Forwarded-For` name the client (`server::client`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Who may read `/metrics` on this router.
    pub metrics_access: MetricsAccess,
    /// Video screening (issue 17): sampling and decoding bounds.
    pub video: VideoSettings,
    /// What the public pages show from configuration: support contacts, privacy contact (issue 11).
    pub public: pages::info::PublicInfo,
    /// Which roles this process runs (issue 16 goal 4, `nodes`); all three by default.
    pub roles: nodes::Roles,
    /// Where a screening node reads its index snapshot at start and writes one after building the
    /// index from the database (`screening_snapshot`); `None`: always build from the database.
    pub index_snapshot: Option<std::path::PathBuf>,
}

/// Who may read `GET /metrics`. Prometheus deployments scrape a private port or send a bearer
/// token; the exposition names routes and volumes that are nobody else's business.
#[derive(Clone, Default)]
pub enum MetricsAccess {
    /// Only callers connected from a loopback address (the default; a local agent scrapes).
    #[default]
    Loopback,
    /// Anyone presenting `Authorization: Bearer <token>`.
    Token(String),
    /// Not on this router: the binary serves it on its own listen address.
    Elsewhere,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Loopback => f.write_str("Loopback"),
            Self::Token(_) => f.write_str("Token(<redacted>)"),
            Self::Elsewhere => f.write_str("Elsewhere"),
        }
    }
}

/// Video screening settings (issue 17, docs/video.md).
#[derive(Debug, Clone)]
pub struct VideoSettings {
    /// Largest video accepted by `POST /api/v1/screen` (multipart field `video`), in bytes.
    pub max_bytes: usize,
    /// Frame sampling (default one frame per second, no deduplication: the reference's default).
    pub sampling: staydown_vpdq::Sampling,
    /// Decoding bounds (duration, resolution, frame rate, frames, wall time, memory).
    pub limits: staydown_vpdq::decode::Limits,
    /// Most frames accepted in a vPDQ sent as JSON or imported.
    pub max_vpdq_frames: usize,
    /// Which decoder hashes uploaded videos.
    pub decoder: VideoDecoder,
}

/// Which decoder hashes uploaded videos (docs/video.md). Both run in a child process under the
/// video bounds (address space, wall time) and give the same vPDQ records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum VideoDecoder {
    /// The `ffmpeg` and `ffprobe` binaries ([`staydown_vpdq::decode`]).
    #[default]
    Ffmpeg,
    /// A program that runs [`staydown_vpdq::child::child_main`] (the in-process libav decoder that
    /// skips what is not sampled and decodes independent segments side by side): `program` with
    /// `args`, then the request and the file ([`staydown_vpdq::child::hash_file`]).
    Child {
        /// The program (usually this very binary, built with its `video-libav` feature).
        program: std::path::PathBuf,
        /// Arguments before the request (e.g. the hidden `video-child` command).
        args: Vec<std::ffi::OsString>,
    },
}

impl VideoSettings {
    /// Largest JSON body that carries a vPDQ (`max_vpdq_frames` lines of at most 100 bytes, plus
    /// room for the other fields).
    pub fn json_limit(&self) -> usize {
        self.max_vpdq_frames.saturating_mul(100).saturating_add(64 * 1024)
    }
}

impl Default for VideoSettings {
    fn default() -> Self {
        let limits = staydown_vpdq::decode::Limits {
            max_bytes: 200 << 20,
            max_duration_s: 3.0 * 3600.0,
            max_wall: Duration::from_secs(120),
            ..Default::default()
        };
        Self {
            max_bytes: 200 << 20,
            sampling: staydown_vpdq::Sampling::default(),
            limits,
            max_vpdq_frames: 20_000,
            decoder: VideoDecoder::Ffmpeg,
        }
    }
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
            out_of_court_settlement_nl: "een instantie voor buitengerechtelijke geschillenbeslechting die is \
                                         gecertificeerd volgens DSA art. 21; de Europese Commissie houdt de lijst bij \
                                         (digital-strategy.ec.europa.eu)"
                .into(),
            court_nl: "de bevoegde rechter (in Nederland: de rechtbank)".into(),
            webhook: None,
            misuse: staydown_domain::misuse::MisusePolicy::default(),
            public: pages::info::PublicInfo::default(),
            screen_body_limit: 20 * 1024 * 1024,
            screen_decode_timeout: Duration::from_secs(10),
            screen_decode_memory: 1 << 30,
            screen_jpeg_decode: decode_budget::JpegDecode::Exact,
            bank_refresh_interval: Duration::from_secs(30),
            staff: staff::StaffSettings::default(),
            law_enforcement_contact: None,
            helpline: helpline::HelplineSettings::default(),
            vault: None,
            blob_retention: None,
            trusted_proxies: Vec::new(),
            metrics_access: MetricsAccess::Loopback,
            video: VideoSettings::default(),
            roles: nodes::Roles::ALL,
            index_snapshot: None,
        }
    }
}

/// Per-address limiter for anonymous intake.
pub type IntakeLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

/// The limiter key of an anonymous caller (see [`client`]); `None` without connection info.
pub fn limiter_key_of(
    state: &AppState,
    peer: Option<SocketAddr>,
    headers: &axum::http::HeaderMap,
) -> Option<std::net::IpAddr> {
    client::client_ip(peer, headers, &state.settings().trusted_proxies).map(client::limiter_key)
}

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
    decode_budget: decode_budget::DecodeBudget,
    sign_in_throttle: staff::throttle::SignInThrottle,
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
        let sign_in_throttle = staff::throttle::SignInThrottle::new(settings.staff.throttle);
        let settings_decode_memory = settings.screen_decode_memory;
        let http = reqwest::Client::new();
        metrics::handle();
        // Decoding is CPU-bound: about one image per core at a time, the rest wait. One slot more
        // than cores, so that a core is not left idle while a finished decode hands its slot on.
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get) + 1;
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
            decode_budget: decode_budget::DecodeBudget::new(settings_decode_memory),
            sign_in_throttle,
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

    /// The memory budget of image decodes (issue 15).
    pub fn decode_budget(&self) -> &decode_budget::DecodeBudget {
        &self.0.decode_budget
    }

    /// Applies committed bank changes to this process's screening index (building it on first
    /// use). Call after committing a bank mutation (e.g. a decision that banked a case's hashes).
    /// A failure is logged; the periodic catch-up (`screening::spawn_bank_sync`) retries it.
    pub async fn refresh_banks(&self) {
        // A node without the screen role holds no index; the screeners learn from the change log.
        if !self.0.settings.roles.screen {
            return;
        }
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

    /// The throttle of password guesses (staff sign-in and `POST /api/v1/keys`).
    pub fn sign_in_throttle(&self) -> &staff::throttle::SignInThrottle {
        &self.0.sign_in_throttle
    }

    /// Tells the outbox worker there is new work.
    pub fn wake_outbox(&self) {
        self.0.outbox_wake.notify_one();
    }

    async fn outbox_woken(&self) {
        self.0.outbox_wake.notified().await;
    }
}

/// The `/api/v1` routes, each checked by the contract layer (`api::contract`) before its body is
/// read: credentials and role come from the table the OpenAPI document is written from (issue 15).
pub fn api_routes(state: &AppState) -> ApiRoutes {
    let limit = state.settings().body_limit;
    let screen_limit = state.settings().screen_body_limit;
    ApiRoutes::new()
        .route("/categories", get(api::catalogue::categories))
        .route("/legal-grounds", get(api::catalogue::legal_grounds))
        .route("/notices", post(api::notices::create))
        .route("/notices/{id}", get(api::notices::show))
        .route("/queue", get(api::queue::list))
        .route("/accounts", post(api::accounts::create).get(staff::api::list_accounts))
        .route("/keys", post(api::accounts::issue_key).get(staff::api::list_keys))
        .route("/keys/{id}", axum::routing::delete(staff::api::revoke_key))
        .route("/accounts/{id}/disable", post(staff::api::disable_account))
        .route("/accounts/{id}/enable", post(staff::api::enable_account))
        .route("/accounts/{id}/password", post(staff::api::reset_password))
        .route("/account/password", post(staff::api::change_own_password))
        .route("/session", get(staff::api::session))
        .route("/cases/{id}", get(api::cases::show))
        .route("/cases/{id}/decision", post(api::cases::decide))
        .route("/cases/{id}/take", post(api::review::take))
        .route("/cases/{id}/art18", post(api::art18::notify).get(api::art18::list))
        .route("/cases/{id}/content", post(api::content::attach).layer(DefaultBodyLimit::max(screen_limit.max(limit))))
        .route("/cases/{id}/content/{item}", get(api::content::read))
        .route("/cases/{id}/content/{item}/legal-hold", post(api::content::legal_hold))
        .route("/appeals", get(api::review::list_appeals))
        .route("/decisions/{id}", get(api::decisions::show))
        .route("/decisions/{id}/statement", get(api::decisions::statement))
        .route("/decisions/{id}/appeals", post(api::decisions::appeal))
        .route("/appeals/{id}", get(api::decisions::show_appeal))
        .route("/appeals/{id}/decision", post(api::decisions::decide_appeal))
        .route("/outbox/dead", get(api::operations::dead_letters))
        .route("/outbox/dead/{id}/resend", post(api::operations::resend_dead_letter))
        .route("/misuse", get(api::operations::misuse))
        .route(
            "/screen",
            axum::routing::post(api::screen::screen)
                .layer(DefaultBodyLimit::max(screen_limit.max(limit).max(state.settings().video.max_bytes))),
        )
        .route("/banks", get(api::banks::list).post(api::banks::create))
        .route("/banks/{name}", get(api::banks::show).patch(api::banks::update))
        .route("/banks/{name}/entries", axum::routing::post(api::banks::add_entry))
        .route("/banks/{name}/entries/{id}", axum::routing::delete(api::banks::remove_entry))
        .route(
            "/banks/{name}/videos",
            get(api::videos::list_videos)
                .post(api::videos::add_video)
                .layer(DefaultBodyLimit::max(state.settings().video.json_limit().max(limit))),
        )
        .route("/banks/{name}/video-thresholds", axum::routing::put(api::videos::set_thresholds))
        .route("/transparency/submissions", get(api::transparency::submissions))
        .route("/transparency/submissions/requeue", post(api::transparency::requeue))
        .route("/stats", get(api::stats::stats))
        .merge(api::helpline::routes().body_limit(api::helpline::MAX_EVIDENCE_BYTES.max(limit)))
        .route("/openapi.json", get(api::openapi::serve))
}

/// The full router.
pub fn router(state: AppState) -> Router {
    let limit = state.settings().body_limit;
    let screen_limit = state.settings().screen_body_limit;
    let api = api_routes(&state).into_router(&state);
    Router::new()
        .merge(pages::router())
        .route("/healthz", get(healthz))
        .route("/livez", get(livez))
        .route("/readyz", get(healthz))
        .route("/metrics", get(metrics::guarded))
        // The old hashing page: the hash-only report now does this and files it (issue 11).
        .route(
            "/hash",
            get(|uri: axum::http::Uri| async move {
                // Keep `?lang=` (and anything else the old link carried).
                let target = uri.query().map_or_else(|| "/report/hashes".to_owned(), |q| format!("/report/hashes?{q}"));
                axum::response::Redirect::permanent(&target)
            }),
        )
        .route("/static/pdq/{file}", get(web::pdq_file))
        .nest("/api/v1", api)
        .merge(staff::routes())
        .merge(staff::pages::routes(screen_limit.max(limit)))
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(middleware::from_fn(problem::framework_rejections))
        .layer(middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(middleware::from_fn_with_state(state.clone(), nodes::gate))
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

/// `GET /livez`: the process answers (no dependency checked: a restart would not fix the database).
async fn livez() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz` (and `/healthz`): ready for traffic when the database answers. The screening
/// index is built before the listener accepts connections, so it needs no check here.
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

/// A router with only `GET /metrics`, for a separate, private listen address
/// (`[metrics] listen`; pair it with [`MetricsAccess::Elsewhere`] on the main router).
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics::render)).fallback(problem::not_found).with_state(state)
}

/// Serves [`metrics_router`] on its own listener until the task is aborted.
pub async fn serve_metrics(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, metrics_router(state)).await
}

/// Serves `router(state)` on an already bound listener until `shutdown` resolves, with the outbox
/// worker and the bank sync running beside it. The screening index is built before the first
/// request is accepted.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let roles = state.settings().roles;
    // Background jobs run on worker nodes only, so each runs once per item (`nodes`, issue 16).
    let worker = roles.worker.then(|| tokio::spawn(outbox::run(state.clone())));
    let helpline_worker = roles.worker.then(|| tokio::spawn(helpline::run(state.clone())));
    let retention = roles.worker.then(|| tokio::spawn(nodes::run_retention(state.clone())));
    // Screening nodes build (or load) the index before accepting the first request.
    let sync = if roles.screen {
        match &state.settings().index_snapshot {
            Some(path) => screening::snapshot::start(state.banks(), state.store(), path).await,
            None => state.refresh_banks().await,
        }
        Some(screening::spawn_bank_sync(state.clone(), state.settings().bank_refresh_interval))
    } else {
        None
    };
    let upkeep_state = state.clone();
    let upkeep = tokio::spawn(async move {
        // Histogram samples are buffered until drained; drain them even if nobody scrapes.
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        let mut ticks = 0u64;
        loop {
            tick.tick().await;
            if let Some(handle) = metrics::handle() {
                handle.run_upkeep();
            }
            ticks += 1;
            // Forget addresses whose limit has fully replenished, so the table does not grow
            // with every address that ever sent a notice.
            if ticks.is_multiple_of(12) {
                upkeep_state.intake_limiter().retain_recent();
                upkeep_state.intake_limiter().shrink_to_fit();
            }
        }
    });
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    for task in [worker, helpline_worker, retention, sync].into_iter().flatten() {
        task.abort();
    }
    upkeep.abort();
    state.store().close().await;
    result
}
