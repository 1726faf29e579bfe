//! `staydown bench intake [--database postgres://…]`: durable notices per second and latency
//! through the real HTTP stack on SQLite or PostgreSQL (with group commit), against the reference of the same inserts made directly on the
//! store with one transaction per notice (no HTTP, no group commit), in the same run.
//!
//! Every notice is committed (WAL, synchronous=FULL) before its 201 arrives, so the figure is
//! the durable rate, not a buffered one. The HTTP run goes first so the reference does not
//! benefit from a warm file.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use staydown_domain::notice::{NoticeDraft, Submitter, validate_notice};
use staydown_domain::policy::Policy;
use staydown_server::{AppState, Mailer, Settings, system_clock};
use staydown_store::{Store, StoredNotice};

#[derive(Debug, clap::Args)]
pub struct BenchIntakeArgs {
    /// Notices to file.
    #[arg(long, default_value_t = 5000)]
    notices: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Database for both runs, e.g. `postgres://user@127.0.0.1/bench` (default: two fresh SQLite
    /// files). Its existing rows stay; the bench counts the notices it added.
    #[arg(long)]
    database: Option<String>,
}

fn body(i: usize) -> serde_json::Value {
    serde_json::json!({
        "locations": [{"url": format!("https://bench.example/p/{i}")}],
        "explanation": "Intimate image shared without consent (benchmark notice).",
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
        "notifier": {"name": "Bench", "email": "bench@example.org"},
        "good_faith": true
    })
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

pub(crate) async fn run_clients<F, Fut>(n: usize, concurrency: usize, f: F) -> anyhow::Result<(Duration, Vec<Duration>)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let f = f.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let t = Instant::now();
                f(i).await?;
                lat.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed();
    all.sort();
    Ok((elapsed, all))
}

/// CPU time this process has used so far (user + system, all threads), from `/proc/self/stat`
/// (clock ticks of `USER_HZ`, 100 a second on Linux); `None` where there is no such file.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces) start with the state (field 3);
    // utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// `HH:MM:SS` in UTC, as `pidstat` prints it on a machine set to UTC (`bench/cpu_split.py`).
fn clock(t: time::OffsetDateTime) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

pub async fn run(args: BenchIntakeArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let concurrency = args.concurrency.max(1);

    let db_url =
        |name: &str| args.database.clone().unwrap_or_else(|| format!("sqlite://{}", dir.path().join(name).display()));
    let backend = if args.database.as_deref().is_some_and(|u| u.starts_with("postgres")) {
        "PostgreSQL (synchronous_commit as configured)"
    } else {
        "SQLite WAL synchronous=FULL"
    };

    // The real HTTP stack, in-process on loopback.
    let store = Store::connect(&db_url("http.db")).await?;
    let before = store.count_notices().await?;
    // The bench measures intake, not the anonymous rate limit.
    let settings =
        Settings { public_notices_per_minute: u32::MAX, public_notice_burst: u32::MAX, ..Settings::default() };
    let state = AppState::new(store, Policy::default(), settings, Mailer::None, system_clock());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(staydown_server::serve(listener, state.clone(), async {
        stop_rx.await.ok();
    }));
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let url = format!("http://{addr}/api/v1/notices");
    let (http_from, cpu_from) = (time::OffsetDateTime::now_utc(), process_cpu());
    let (http_elapsed, http_lat) = run_clients(args.notices, concurrency, move |i| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let r = client.post(&url).json(&body(i)).send().await?;
            anyhow::ensure!(r.status() == 201, "unexpected status {}", r.status());
            Ok(())
        }
    })
    .await?;
    let (http_to, cpu_to) = (time::OffsetDateTime::now_utc(), process_cpu());
    let stored = state.store().count_notices().await? - before;
    let writer = state.store().intake_stats();
    state.store().verify_audit().await?.broken.map_or(Ok(()), |b| Err(anyhow::anyhow!("audit chain broken: {b:?}")))?;
    anyhow::ensure!(stored as usize == args.notices, "stored {stored} of {} notices", args.notices);
    stop_tx.send(()).ok();
    server.await.context("server task")??;

    // Reference: the same durable inserts straight into the store, no HTTP, no JSON.
    let direct_store = Arc::new(Store::connect(&db_url("direct.db")).await?);
    let policy = Policy::default();
    let store = direct_store.clone();
    let (direct_elapsed, direct_lat) = run_clients(args.notices, concurrency, move |i| {
        let store = store.clone();
        let policy = policy.clone();
        async move {
            let draft: NoticeDraft = serde_json::from_value(body(i))?;
            let now = time::OffsetDateTime::now_utc();
            let notice = validate_notice(draft, &Submitter::Public, now).map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = uuid::Uuid::now_v7().to_string();
            let meta = StoredNotice {
                notifier_ref: None,
                new_case_id: uuid::Uuid::now_v7().to_string(),
                received_at: now,
                assessment: policy.assess(&notice, now),
                tracking_digest: "bench".into(),
                api_key_id: None,
                actor: "bench".into(),
                confirmation: Some(serde_json::json!({"notice_id": id})),
                id,
            };
            store.insert_notice_alone(&notice, &meta).await?;
            Ok(())
        }
    })
    .await?;

    let http_rate = args.notices as f64 / http_elapsed.as_secs_f64();
    let direct_rate = args.notices as f64 / direct_elapsed.as_secs_f64();
    println!(
        "intake benchmark: {} notices, {concurrency} concurrent clients, {backend}; audit chain verified after the HTTP run",
        args.notices
    );
    println!(
        "  HTTP API      : {http_rate:8.0} notices/s   p50 {:6.2} ms   p99 {:6.2} ms",
        percentile(&http_lat, 0.5),
        percentile(&http_lat, 0.99)
    );
    println!(
        "  reference     : {direct_rate:8.0} notices/s   p50 {:6.2} ms   p99 {:6.2} ms   (store, one commit per notice, no HTTP)",
        percentile(&direct_lat, 0.5),
        percentile(&direct_lat, 0.99)
    );
    println!("  ratio HTTP with group commit / reference: {:.2}", http_rate / direct_rate);
    // The window to give `bench/cpu_split.py` (whole seconds around the HTTP run), and this
    // process's own CPU (HTTP server, intake writer and the bench's clients) in it.
    let cpu_ms = cpu_from.zip(cpu_to).map(|(a, b)| (b - a).as_secs_f64() * 1000.0);
    println!(
        "  HTTP run      : {} to {} UTC; this process (server + clients) {} ms CPU a notice",
        clock(http_from),
        clock(http_to + Duration::from_secs(1)),
        cpu_ms.map_or("?".to_owned(), |ms| format!("{:.3}", ms / args.notices as f64))
    );
    let per_batch = writer.notices as f64 / writer.batches.max(1) as f64;
    let batch_ms = writer.busy_micros as f64 / 1000.0 / writer.batches.max(1) as f64;
    println!(
        "  intake writer : {} batches ({} by the multi-row path), {per_batch:.1} notices a batch, {batch_ms:.2} ms a batch from BEGIN to durable COMMIT",
        writer.batches, writer.fast_batches
    );
    println!(
        "{}",
        serde_json::json!({
            "notices": args.notices, "concurrency": concurrency,
            "http_notices_per_s": http_rate.round(), "http_p50_ms": percentile(&http_lat, 0.5), "http_p99_ms": percentile(&http_lat, 0.99),
            "reference_notices_per_s": direct_rate.round(), "ratio": http_rate / direct_rate,
            "http_process_cpu_ms_per_notice": cpu_ms.map(|ms| ms / args.notices as f64),
            "batches": writer.batches, "fast_batches": writer.fast_batches, "notices_per_batch": per_batch, "batch_ms": batch_ms,
        })
    );
    Ok(ExitCode::SUCCESS)
}
