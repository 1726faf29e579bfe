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
    /// Before the HTTP run, time each step of the screening path on one thread, over every photo
    /// (at least `--stages` rounds of them and half a second of CPU per step), and print the CPU
    /// microseconds per upload of each.
    #[arg(long, default_value_t = 0)]
    stages: usize,
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

/// `--stages`: each step an image upload goes through in `POST /api/v1/screen` (after the HTTP
/// and multipart layers), timed alone on this thread over every photo, `rounds` times: the
/// microseconds per upload of each, for baseline and progressive photos apart.
fn stages(state: &AppState, photos: &[Vec<u8>], rounds: usize) -> anyhow::Result<String> {
    use sha2::Digest;
    let limits = staydown_media::DecodeLimits { max_bytes: state.settings().screen_body_limit, ..Default::default() };
    let provenance_limits = staydown_provenance::Limits { max_bytes: limits.max_bytes, ..Default::default() };
    let progressive: Vec<bool> = photos.iter().map(|p| p.windows(2).any(|w| w == [0xFF, 0xC2])).collect();
    let scaled: Vec<_> = photos
        .iter()
        .map(|p| staydown_media::decode_jpeg_scaled(p, &limits)?.ok_or(staydown_media::MediaError::UnsupportedFormat))
        .collect::<Result<_, _>>()?;
    let hashed: Vec<_> =
        photos.iter().map(|p| staydown_media::hash_image_bytes(p, &limits)).collect::<Result<Vec<_>, _>>()?;
    // Mean CPU microseconds of this thread per photo of `step`: over all photos and over each kind.
    // The thread's CPU clock advances by scheduler ticks (a few ms), so each kind runs for at least
    // `rounds` passes and at least half a second of CPU.
    let time = |step: &dyn Fn(usize)| -> [f64; 3] {
        let kind = |progressive_kind: bool| {
            let chosen: Vec<usize> = (0..photos.len()).filter(|i| progressive[*i] == progressive_kind).collect();
            let (cpu, mut passes) = (thread_cpu(), 0usize);
            while !chosen.is_empty()
                && (passes < rounds || thread_cpu().saturating_sub(cpu) < Duration::from_millis(500))
            {
                for &i in &chosen {
                    step(i);
                }
                passes += 1;
            }
            (thread_cpu().saturating_sub(cpu), chosen.len() * passes)
        };
        let (base, prog) = (kind(false), kind(true));
        let us = |d: Duration, n: usize| d.as_secs_f64() * 1e6 / n.max(1) as f64;
        let (b, p) = (us(base.0, base.1), us(prog.0, prog.1));
        // "all": the mean over the set's photos, each kind by its share.
        let n_prog = progressive.iter().filter(|x| **x).count() as f64;
        [(b * (photos.len() as f64 - n_prog) + p * n_prog) / photos.len() as f64, b, p]
    };
    let steps: Vec<(&str, [f64; 3])> = vec![
        ("header bounds (decode_cost)", time(&|i| sink(staydown_media::decode_cost(&photos[i], &limits)))),
        (
            "scaled JPEG decode (libjpeg-turbo)",
            time(&|i| sink(staydown_media::decode_jpeg_scaled(&photos[i], &limits))),
        ),
        ("PDQ grid + DCT + 8 dihedral hashes", time(&|i| sink(scaled[i].pdq_dihedral()))),
        ("SHA-256", time(&|i| sink(sha2::Sha256::digest(&photos[i])))),
        ("MD5", time(&|i| sink(md5::Md5::digest(&photos[i])))),
        ("provenance (C2PA, XMP, EXIF)", time(&|i| sink(staydown_provenance::analyze(&photos[i], &provenance_limits)))),
        (
            "index search (8 dihedral hashes, digests)",
            time(&|i| {
                let h = &hashed[i];
                sink(state.banks().search(&staydown_server::screening::Query {
                    pdq: Some(h.pdq.to_bytes()),
                    pdq_dihedral: Some(h.dihedral.to_array().map(|d| d.to_bytes())),
                    sha256: Some(h.sha256),
                    md5: Some(h.md5),
                }))
            }),
        ),
        (
            "(for comparison) exact decode + PDQ + digests",
            time(&|i| sink(staydown_media::hash_image_bytes(&photos[i], &limits))),
        ),
    ];
    let n_prog = progressive.iter().filter(|p| **p).count();
    let mut out = format!(
        "stages of one upload, one thread, {} photos ({} baseline, {n_prog} progressive), CPU microseconds per upload:\n  {:<46} {:>9} {:>9} {:>11}\n",
        photos.len(),
        photos.len() - n_prog,
        "step",
        "all",
        "baseline",
        "progressive"
    );
    let mut sum = [0.0; 3];
    for (name, t) in &steps {
        out += &format!("  {name:<46} {:>9.1} {:>9.1} {:>11.1}\n", t[0], t[1], t[2]);
        if !name.starts_with('(') {
            for k in 0..3 {
                sum[k] += t[k];
            }
        }
    }
    out += &format!(
        "  {:<46} {:>9.1} {:>9.1} {:>11.1}\n",
        "sum of the steps above the comparison", sum[0], sum[1], sum[2]
    );
    Ok(out)
}

/// Keeps a timed step's result from being optimised away.
fn sink<T>(value: T) {
    drop(std::hint::black_box(value));
}

/// What one driven run measured.
struct Run {
    /// Wall time of the timed uploads.
    elapsed: Duration,
    /// Each timed upload's latency, sorted.
    latencies: Vec<Duration>,
    /// CPU time of the client thread over the timed uploads.
    client_cpu: Duration,
    /// CPU time of the server over the timed uploads (see `drive`'s `server_cpu`).
    server_cpu: Duration,
}

/// CPU time the calling thread has run, from `/proc/thread-self/schedstat` (nanoseconds).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// User + system CPU time of process `pid` (every thread, living or ended), from `/proc/PID/stat`
/// (clock ticks of 10 ms: the timed runs last seconds).
fn process_cpu(pid: u32) -> Duration {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // The fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// The processes whose parent is `pid` (the reference's workers).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| s[s.rfind(')')? + 2..].split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(pid)
        })
        .collect()
}

/// Posts the bodies round-robin from `concurrency` connections: a warm-up, then `requests` timed.
///
/// The client is kept lean, as a separate client machine would be: it runs on one thread of its
/// own (a single-threaded runtime), so its CPU time is measured apart from the server's; the
/// bodies are built once (`&'static` slices, sent without a copy), connections are kept alive,
/// and each answer is checked (status 200, `verdict` `allow`) by reading that one field.
/// `server_cpu` gives the server's CPU time so far, sampled before and after the timed uploads.
async fn drive(
    url: &str,
    key: Option<&str>,
    bodies: &Arc<Vec<&'static [u8]>>,
    requests: usize,
    concurrency: usize,
    server_cpu: impl Fn() -> Duration + Send + 'static,
) -> anyhow::Result<Run> {
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        verdict: &'a str,
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let content_type = reqwest::header::HeaderValue::from_str(&format!("multipart/form-data; boundary={BOUNDARY}"))?;
    let authorization = key.map(|k| reqwest::header::HeaderValue::from_str(&format!("Bearer {k}"))).transpose()?;
    let (url, bodies) = (reqwest::Url::parse(url)?, bodies.clone());
    let post = move |i: usize| {
        let mut req = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, content_type.clone())
            .body(bodies[i % bodies.len()]);
        if let Some(a) = &authorization {
            req = req.header(reqwest::header::AUTHORIZATION, a.clone());
        }
        async move {
            let r = req.send().await?;
            let status = r.status();
            let body = r.bytes().await?;
            let verdict = serde_json::from_slice::<Answer<'_>>(&body).map(|a| a.verdict == "allow").unwrap_or(false);
            anyhow::ensure!(
                status == 200 && verdict,
                "unexpected answer {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(500)])
            );
            Ok(())
        }
    };
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new().name("bench-client".into()).spawn(move || {
        let result = (|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async move {
                let post = Arc::new(post);
                let warm = post.clone();
                run_clients(concurrency * 10, concurrency, move |i| warm(i)).await?;
                let (cpu0, server0) = (thread_cpu(), server_cpu());
                let (elapsed, latencies) = run_clients(requests, concurrency, move |i| post(i)).await?;
                let (cpu1, server1) = (thread_cpu(), server_cpu());
                Ok(Run {
                    elapsed,
                    latencies,
                    client_cpu: cpu1.saturating_sub(cpu0),
                    server_cpu: server1.saturating_sub(server0),
                })
            })
        })();
        done_tx.send(result).ok();
    })?;
    done_rx.await.context("the client thread ended without an answer")?
}

/// The summary line of one side.
fn line(name: &str, requests: usize, run: &Run) -> String {
    format!(
        "{name}: {:8.0} uploads/s   p50 {:6.2} ms   p99 {:6.2} ms   server CPU {:.3} ms/upload   client CPU {:.3} ms/upload ({:.1} % of the server's)",
        requests as f64 / run.elapsed.as_secs_f64(),
        percentile(&run.latencies, 0.5),
        percentile(&run.latencies, 0.99),
        run.server_cpu.as_secs_f64() * 1000.0 / requests as f64,
        run.client_cpu.as_secs_f64() * 1000.0 / requests as f64,
        100.0 * run.client_cpu.as_secs_f64() / run.server_cpu.as_secs_f64().max(1e-9),
    )
}

pub async fn run(args: BenchScreenArgs) -> anyhow::Result<ExitCode> {
    let decode: JpegDecode = args.jpeg_decode.parse().map_err(|e| anyhow::anyhow!("--jpeg-decode: {e}"))?;
    let concurrency = args.concurrency.max(1);
    let dir = tempfile::tempdir()?;
    let load_before = load_average();

    let started = Instant::now();
    let photos = photos(args.photos.max(1))?;
    // Built once for the whole run (both servers get the same bytes) and sent without a copy.
    let bodies: Arc<Vec<&'static [u8]>> = Arc::new(photos.iter().map(|p| &*multipart(p).leak()).collect());
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
    if args.stages > 0 {
        let (state, photos, rounds) = (state.clone(), photos.clone(), args.stages);
        let text = tokio::task::spawn_blocking(move || stages(&state, &photos, rounds)).await??;
        print!("{text}");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(staydown_server::serve(listener, state.clone(), async {
        stop_rx.await.ok();
    }));
    let url = format!("http://{addr}/api/v1/screen");
    // The server shares this process with the client thread, whose own CPU time is taken off.
    let me = std::process::id();
    let mut ours = drive(&url, Some(&key), &bodies, args.requests, concurrency, move || process_cpu(me)).await?;
    ours.server_cpu = ours.server_cpu.saturating_sub(ours.client_cpu);
    stop_tx.send(()).ok();
    server.await.context("server task")??;
    let ours_rate = args.requests as f64 / ours.elapsed.as_secs_f64();
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
    println!("  {}", line("staydown  ", args.requests, &ours));
    let ms_per = |cpu: Duration| cpu.as_secs_f64() * 1000.0 / args.requests as f64;
    let mut json = serde_json::json!({
        "requests": args.requests, "concurrency": concurrency, "bank": args.bank, "jpeg_decode": decode.as_str(),
        "uploads_per_s": ours_rate.round(), "p50_ms": percentile(&ours.latencies, 0.5),
        "p99_ms": percentile(&ours.latencies, 0.99), "server_cpu_ms_per_upload": ms_per(ours.server_cpu),
        "client_cpu_ms_per_upload": ms_per(ours.client_cpu), "load_before": load_before, "load_after": load_after,
    });
    if let Some(theirs) = reference {
        let rate = args.requests as f64 / theirs.elapsed.as_secs_f64();
        println!(
            "  {}   (bench/screen_reference.py: Pillow + pdqhash + FAISS IndexBinaryMultiHash, {workers} worker processes)",
            line("reference ", args.requests, &theirs)
        );
        println!("  ratio staydown / reference: {:.1}", ours_rate / rate);
        json["reference_uploads_per_s"] = rate.round().into();
        json["reference_p50_ms"] = percentile(&theirs.latencies, 0.5).into();
        json["reference_p99_ms"] = percentile(&theirs.latencies, 0.99).into();
        json["reference_server_cpu_ms_per_upload"] = ms_per(theirs.server_cpu).into();
        json["reference_client_cpu_ms_per_upload"] = ms_per(theirs.client_cpu).into();
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
    bodies: &Arc<Vec<&'static [u8]>>,
    concurrency: usize,
) -> anyhow::Result<Run> {
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
            // The reference's CPU: the parent and its worker processes.
            let parent = child.id();
            let workers = children_of(parent);
            let cpu = move || process_cpu(parent) + workers.iter().map(|w| process_cpu(*w)).sum::<Duration>();
            let r = drive(&url, None, bodies, args.requests, concurrency, cpu).await;
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
