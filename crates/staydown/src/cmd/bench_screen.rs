//! `staydown bench screen`: uploads screened per second over HTTP (issue 16, goal 1), against
//! the pipeline Meta's Hasher-Matcher-Actioner uses, in the same run.
//!
//! staydown: the real server in-process on a loopback listener, a bank of `--bank` random PDQ
//! hashes (1M by default) imported through the store and loaded into the screening index,
//! `--concurrency` clients (8) posting multipart `image` uploads to `POST /api/v1/screen` with a
//! platform key, round-robin over `--photos` generated photo-like JPEGs of about one megapixel
//! (`staydown_media::corpus`: several sizes, qualities 60–92, 4:2:0 and 4:4:4, baseline and
//! progressive). Every answer must be 200 `allow` (the bank is random, nothing matches).
//!
//! Reference: `bench/screen_reference.py`, a Python HTTP server doing what HMA does per upload
//! (Pillow decode to RGB, PyPI `pdqhash`, SHA-256 and MD5, a FAISS `IndexBinaryMultiHash` range
//! search at radius 31 over the same hashes), forked into as many worker processes as the
//! machine has cores, driven by the same client code with the same bodies.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use staydown_domain::bank::NewEntry;
use staydown_domain::policy::Policy;
use staydown_domain::roles::Role;
use staydown_media::corpus::{PhotoSpec, Sampling, photo_jpeg};
use staydown_server::decode_budget::JpegDecode;
use staydown_server::{AppState, Mailer, Settings, system_clock};
use staydown_store::Store;

use super::bench_intake::{percentile, run_clients};

#[derive(Debug, clap::Args)]
pub struct BenchScreenArgs {
    /// PDQ hashes in the bank.
    #[arg(long, default_value_t = 1_000_000)]
    bank: usize,
    /// Uploads screened per run (after a warm-up of `concurrency × 10`).
    #[arg(long, default_value_t = 4000)]
    requests: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Distinct photos, posted round-robin.
    #[arg(long, default_value_t = 48)]
    photos: usize,
    /// `screen_jpeg_decode` for the run: `exact` or `scaled`.
    #[arg(long, default_value = "scaled")]
    jpeg_decode: String,
    /// The Python of the reference (with pillow, numpy, pdqhash, faiss-cpu); `none` skips it.
    #[arg(long, default_value = "python3")]
    reference_python: String,
    /// The reference's worker processes (default: the machine's cores).
    #[arg(long)]
    reference_workers: Option<usize>,
}

/// The photos: about one megapixel each, varied like uploads.
fn photos(n: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    const SIZES: [(u32, u32); 6] = [(1152, 864), (864, 1152), (1024, 1024), (1280, 800), (1200, 900), (1000, 1000)];
    const QUALITIES: [u8; 4] = [60, 75, 85, 92];
    (0..n)
        .map(|i| {
            let (width, height) = SIZES[i % SIZES.len()];
            let spec = PhotoSpec {
                width,
                height,
                quality: QUALITIES[(i / 2) % QUALITIES.len()],
                sampling: if i % 4 == 3 { Sampling::S444 } else { Sampling::S420 },
                progressive: i % 3 == 2,
                seed: 50_000 + i as u64,
            };
            photo_jpeg(&spec).map_err(|e| anyhow::anyhow!("encoding photo {i}: {e}"))
        })
        .collect()
}

fn multipart(image: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(image.len() + 256);
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"upload.jpg\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(image);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

const BOUNDARY: &str = "staydown-bench-screen-4f2a";

/// SplitMix64: the bank's random hashes.
fn random_hashes(n: usize) -> Vec<[u8; 32]> {
    let mut state = 0x0BAD_5EED_u64;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    (0..n)
        .map(|_| {
            let mut h = [0u8; 32];
            for chunk in h.chunks_exact_mut(8) {
                chunk.copy_from_slice(&next().to_le_bytes());
            }
            h
        })
        .collect()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Posts the bodies round-robin from `concurrency` clients: a warm-up, then `requests` timed.
async fn drive(
    url: &str,
    key: Option<&str>,
    bodies: &Arc<Vec<Vec<u8>>>,
    requests: usize,
    concurrency: usize,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let (url, key, bodies) = (url.to_owned(), key.map(str::to_owned), bodies.clone());
    let post = move |i: usize| {
        let client = client.clone();
        let url = url.clone();
        let key = key.clone();
        let bodies = bodies.clone();
        async move {
            let mut req = client
                .post(&url)
                .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
                .body(bodies[i % bodies.len()].clone());
            if let Some(k) = key {
                req = req.bearer_auth(k);
            }
            let r = req.send().await?;
            let status = r.status();
            let body: serde_json::Value = r.json().await?;
            anyhow::ensure!(status == 200 && body["verdict"] == "allow", "unexpected answer {status}: {body}");
            Ok(())
        }
    };
    let post = Arc::new(post);
    let warm = post.clone();
    run_clients(concurrency * 10, concurrency, move |i| warm(i)).await?;
    run_clients(requests, concurrency, move |i| post(i)).await
}

pub async fn run(args: BenchScreenArgs) -> anyhow::Result<ExitCode> {
    let decode: JpegDecode = args.jpeg_decode.parse().map_err(|e| anyhow::anyhow!("--jpeg-decode: {e}"))?;
    let concurrency = args.concurrency.max(1);
    let dir = tempfile::tempdir()?;
    let load_before = load_average();

    let started = Instant::now();
    let photos = photos(args.photos.max(1))?;
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(photos.iter().map(|p| multipart(p)).collect());
    let mean_kib = photos.iter().map(Vec::len).sum::<usize>() as f64 / photos.len() as f64 / 1024.0;
    eprintln!("{} photos generated ({mean_kib:.0} KiB mean) in {:.1} s", photos.len(), started.elapsed().as_secs_f64());

    // The bank: random hashes imported through the store, and the same bytes for the reference.
    let hashes = random_hashes(args.bank);
    let bank_file = dir.path().join("bank.bin");
    std::fs::File::create(&bank_file)?.write_all(&hashes.concat())?;
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("screen.db").display())).await?;
    let entries: Vec<NewEntry> = hashes
        .iter()
        .map(|h| NewEntry {
            pdq: Some(hex::encode(h)),
            quality: Some(100),
            sha256: None,
            md5: None,
            note: None,
            reason: None,
        })
        .collect();
    let now = time::OffsetDateTime::now_utc();
    let t = Instant::now();
    store.import_bank_entries("confirmed", &entries, "bench", "bench", now, &|_| {}).await?;
    drop(entries);
    eprintln!("bank of {} hashes imported in {:.1} s", args.bank, t.elapsed().as_secs_f64());
    let (key_id, key) = staydown_server::auth::generate_api_key();
    store.create_api_key(&key_id, "bench", Role::Platform, &staydown_domain::secret_digest(&key), now).await?;

    let settings = Settings { screen_jpeg_decode: decode, ..Settings::default() };
    let state = AppState::new(store, Policy::default(), settings, Mailer::None, system_clock());
    let t = Instant::now();
    state.banks().catch_up(state.store()).await?;
    anyhow::ensure!(state.banks().len() >= args.bank, "index holds {} of {} hashes", state.banks().len(), args.bank);
    eprintln!("screening index loaded in {:.1} s", t.elapsed().as_secs_f64());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(staydown_server::serve(listener, state.clone(), async {
        stop_rx.await.ok();
    }));
    let url = format!("http://{addr}/api/v1/screen");
    let (ours_elapsed, ours_lat) = drive(&url, Some(&key), &bodies, args.requests, concurrency).await?;
    stop_tx.send(()).ok();
    server.await.context("server task")??;
    let ours_rate = args.requests as f64 / ours_elapsed.as_secs_f64();
    drop(state);

    let workers = args.reference_workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let reference = if args.reference_python == "none" {
        None
    } else {
        Some(reference(&args, &bank_file, workers, &bodies, concurrency).await?)
    };
    let load_after = load_average();

    println!(
        "screen benchmark: {} uploads, {concurrency} concurrent clients, {} photos of about 1 MP, bank of {} PDQ hashes, screen_jpeg_decode = {}",
        args.requests,
        photos.len(),
        args.bank,
        decode.as_str()
    );
    println!("  load average before {load_before}, after {load_after}");
    println!(
        "  staydown   : {ours_rate:8.0} uploads/s   p50 {:6.2} ms   p99 {:6.2} ms",
        percentile(&ours_lat, 0.5),
        percentile(&ours_lat, 0.99)
    );
    let mut json = serde_json::json!({
        "requests": args.requests, "concurrency": concurrency, "bank": args.bank, "jpeg_decode": decode.as_str(),
        "uploads_per_s": ours_rate.round(), "p50_ms": percentile(&ours_lat, 0.5), "p99_ms": percentile(&ours_lat, 0.99),
        "load_before": load_before, "load_after": load_after,
    });
    if let Some((elapsed, lat)) = reference {
        let rate = args.requests as f64 / elapsed.as_secs_f64();
        println!(
            "  reference  : {rate:8.0} uploads/s   p50 {:6.2} ms   p99 {:6.2} ms   (bench/screen_reference.py: Pillow + pdqhash + FAISS IndexBinaryMultiHash, {workers} worker processes)",
            percentile(&lat, 0.5),
            percentile(&lat, 0.99)
        );
        println!("  ratio staydown / reference: {:.1}", ours_rate / rate);
        json["reference_uploads_per_s"] = rate.round().into();
        json["reference_p50_ms"] = percentile(&lat, 0.5).into();
        json["reference_p99_ms"] = percentile(&lat, 0.99).into();
        json["ratio"] = (ours_rate / rate).into();
    }
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

/// Starts `bench/screen_reference.py` on the bank file, waits for its `ready` line, drives it.
async fn reference(
    args: &BenchScreenArgs,
    bank_file: &std::path::Path,
    workers: usize,
    bodies: &Arc<Vec<Vec<u8>>>,
    concurrency: usize,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/screen_reference.py");
    let mut child = std::process::Command::new(&args.reference_python)
        .arg(&script)
        .arg("--bank")
        .arg(bank_file)
        .arg("--workers")
        .arg(workers.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {} {}", args.reference_python, script.display()))?;
    let stdout = child.stdout.take().context("reference stdout")?;
    let port = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            if let Some(port) = line.strip_prefix("ready ") {
                return port.trim().parse::<u16>().ok();
            }
        }
        None
    })
    .await?;
    let result = match port {
        Some(port) => {
            let t = Instant::now();
            let url = format!("http://127.0.0.1:{port}/api/v1/screen");
            let r = drive(&url, None, bodies, args.requests, concurrency).await;
            eprintln!("reference run took {:.1} s", t.elapsed().as_secs_f64());
            r
        }
        None => Err(anyhow::anyhow!("the reference exited before it was ready")),
    };
    // SIGTERM, so that the script stops its workers (they also end with it by PR_SET_PDEATHSIG).
    std::process::Command::new("kill").arg(child.id().to_string()).status().ok();
    child.wait().ok();
    result
}
