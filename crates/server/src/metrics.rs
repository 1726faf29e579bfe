//! Prometheus metrics: the process-wide recorder and `GET /metrics` (text exposition format).
//!
//! design.md §7 ("Metrics at /metrics"); issue 5 asks for screening latency and verdict counts
//! (`staydown_screen_seconds`, `staydown_screen_verdicts_total{verdict}`). The `metrics` recorder is
//! global to the process, so it is installed once ([`OnceLock`]) however many `AppState`s a process
//! (a test binary) creates; they then share one set of series.

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Screening latency buckets, in seconds: screening should answer in milliseconds.
const SCREEN_BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder on first call; `None` if another recorder was installed first (then
/// `/metrics` answers 503 and recording is a no-op).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("staydown_screen_seconds".into()), &SCREEN_BUCKETS)
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

/// `GET /metrics`.
pub async fn render() -> Response {
    match handle() {
        Some(handle) => {
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
