//! Prometheus metrics: the process-wide recorder and `GET /metrics` (text exposition format).
//!
//! design.md §7 ("Metrics at /metrics"); issue 5 asks for screening latency and verdict counts
//! (`staydown_screen_seconds`, `staydown_screen_verdicts_total{verdict}`), issue 7 for request
//! latency per route (`staydown_http_request_seconds{method,route,status}`, routes as templates from
//! `MatchedPath` so ids do not explode the series), decisions by restriction kind
//! (`staydown_decisions_total{restriction}`) and two gauges that DSA Art. 16(6)'s "timely" needs
//! watched: open cases (`staydown_queue_depth`) and open cases past their deadline
//! (`staydown_overdue_open_cases`). The gauges are read from the store at scrape time, so every
//! server of a cluster reports the shared queue, not what it alone saw. The `metrics` recorder is
//! global to the process, so it is installed once ([`OnceLock`]) however many `AppState`s a process
//! (a test binary) creates; they then share one set of series.

use std::sync::OnceLock;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use staydown_domain::decision::Decision;

use crate::AppState;

/// Screening latency buckets, in seconds: screening should answer in milliseconds.
const SCREEN_BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// Request latency buckets, in seconds.
const REQUEST_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder on first call; `None` if another recorder was installed first (then
/// `/metrics` answers 503 and recording is a no-op).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("staydown_screen_seconds".into()), &SCREEN_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full("staydown_http_request_seconds".into()), &REQUEST_BUCKETS)
                })
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => {
                    metrics::describe_histogram!(
                        "staydown_screen_seconds",
                        metrics::Unit::Seconds,
                        "Time to answer POST /api/v1/screen, from the request to the verdict"
                    );
                    metrics::describe_counter!(
                        "staydown_screen_verdicts_total",
                        "Screened uploads by verdict (allow, hold, block)"
                    );
                    metrics::describe_histogram!(
                        "staydown_http_request_seconds",
                        metrics::Unit::Seconds,
                        "Time to answer an HTTP request, by method, route template and status"
                    );
                    metrics::describe_counter!(
                        "staydown_decisions_total",
                        "Decisions by restriction kind (visibility, monetary, provision, account, none)"
                    );
                    metrics::describe_gauge!("staydown_queue_depth", "Open cases waiting for a first decision");
                    metrics::describe_gauge!("staydown_overdue_open_cases", "Open cases past their deadline");
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics is unavailable");
                    None
                }
            }
        })
        .as_ref()
}

/// Records one screening.
pub fn record_screening(seconds: f64, verdict: &'static str) {
    metrics::histogram!("staydown_screen_seconds").record(seconds);
    metrics::counter!("staydown_screen_verdicts_total", "verdict" => verdict).increment(1);
}

/// Counts one decision under each kind of restriction it imposes (`none` for no action).
pub fn record_decision(decision: &Decision) {
    let r = &decision.restrictions;
    let kinds = [
        (!r.visibility.is_empty(), "visibility"),
        (r.monetary.is_some(), "monetary"),
        (r.provision.is_some(), "provision"),
        (r.account.is_some(), "account"),
        (r.is_empty(), "none"),
    ];
    for (_, kind) in kinds.into_iter().filter(|(applies, _)| *applies) {
        metrics::counter!("staydown_decisions_total", "restriction" => kind).increment(1);
    }
}

/// Middleware: times every request under its route template (`unmatched` for unknown paths).
///
/// Also writes the access log: one `tracing` line per request at `info` (target
/// `staydown::access`) with the method, the route *template* (never the path with its ids, never
/// the query, which may hold a tracking token), the status, the duration in milliseconds and a
/// request id — the caller's `X-Request-Id` when it is a short token, else a fresh UUID — which
/// the response echoes in `X-Request-Id`.
pub async fn track_requests(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let started = std::time::Instant::now();
    let mut response = next.run(req).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(
        target: "staydown::access",
        method = %method,
        route = %route,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        request_id = %request_id,
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    metrics::histogram!("staydown_http_request_seconds", "method" => method, "route" => route, "status" => status.to_string())
        .record(elapsed.as_secs_f64());
    response
}

/// `GET /metrics` on the main router: checks [`crate::MetricsAccess`], then [`render`]. A refused
/// caller gets the same 404 problem as an unknown path.
pub async fn guarded(
    State(state): State<AppState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let allowed = match &state.settings().metrics_access {
        // Without connection info (an embedded router in tests) there is no peer to judge.
        crate::MetricsAccess::Loopback => peer.is_none_or(|p| p.0.0.ip().is_loopback()),
        crate::MetricsAccess::Token(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                given.len() == token.len() && given.bytes().zip(token.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
            }),
        crate::MetricsAccess::Elsewhere => false,
    };
    if allowed { render(State(state)).await } else { crate::problem::ApiError::NotFound.into_response() }
}

/// Renders every series after refreshing the queue gauges from the store (the separate metrics
/// listener serves this directly).
pub async fn render(State(state): State<AppState>) -> Response {
    match handle() {
        Some(handle) => {
            match state.store().queue_gauges(state.now()).await {
                Ok(g) => {
                    metrics::gauge!("staydown_queue_depth").set(g.open as f64);
                    metrics::gauge!("staydown_overdue_open_cases").set(g.overdue as f64);
                }
                // The other series are still worth serving; the gauges keep their last value.
                Err(e) => tracing::warn!(error = %e, "queue gauges not refreshed"),
            }
            handle.run_upkeep();
            let mut response = handle.render().into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
            response
        }
        None => (StatusCode::SERVICE_UNAVAILABLE, "metrics recorder unavailable\n").into_response(),
    }
}
