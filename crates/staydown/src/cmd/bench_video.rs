//! `staydown bench video`: vPDQ hashing throughput against PyPI `vpdq`, and the matching time of a
//! long video against a large bank, measured in the same run (issue 17).
//!
//! Hashing: for each video file, staydown (`--decoder ffmpeg`:
//! `staydown_vpdq::decode::hash_file`, the `ffmpeg` subprocess decoding and converting, PDQ in this
//! process; in a binary built with the feature `video-libav`, `--decoder libav-child`:
//! `staydown_vpdq::child::hash_file`, this binary's `video-child` command in a bounded child
//! process, as `staydown serve` runs it, and `--decoder libav`: `staydown_vpdq::libav::hash_file`
//! in this process — libav that skips what the sampled frames do not need and decodes independent
//! segments side by side; `auto`, the default, is the server's default decoder) and the reference
//! (`bench/vpdq_reference.py`: PyPI `vpdq`, ThreatExchange's C++ vPDQ with libav in-process) hash
//! the same file at the same sampling rate on the same cores (both decoders choose their own
//! thread count; `--threads` sets both). Reported: frames hashed per second and seconds of video
//! screened per second, medians of `--repeat` runs, and the ratio; and whether the two vPDQ records
//! are the same frame for frame (frame numbers, qualities, hashes: the reference prints its own).
//!
//! Matching: a bank of `--bank-frames` random frame hashes (SplitMix64, seeded) in the exact
//! match index, and a query of `--query-frames` frames (default 3600: one hour at one frame per
//! second), a quarter of them planted within distance 8 of banked frames; each query frame is one
//! index search at radius 31, as `server::screening` does. Baseline in the same run: the
//! reference's matching rule (`matchTwoHashBrute`: every query frame against every banked frame,
//! stopping at the first hit) written in Rust, timed on a sample of query frames and scaled to the
//! whole query (labelled as such). The hot code of both sides lives in crates built at opt-level 3
//! even in the dev profile (staydown-vpdq, staydown-pdq, staydown-index), so a debug binary measures
//! the same code as a release one. Nothing is asserted; docs/video.md records the figures.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, bail};
use staydown_index::{Hash256, MatchIndex, SplitMix64};
use staydown_vpdq::Sampling;
use staydown_vpdq::decode::{HashedVideo, Limits, Tools, hash_file};

#[derive(Debug, clap::Args)]
pub struct BenchVideoArgs {
    /// Video files or folders of them (default: the conformance videos).
    #[arg(default_value = "fixtures/vpdq/videos")]
    pub paths: Vec<PathBuf>,
    /// Seconds between hashed frames (1: the reference tools' default).
    #[arg(long, default_value_t = 1.0)]
    pub seconds_per_hash: f64,
    /// Timed runs per file; the median is used.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Decoder threads for both sides (0: each chooses).
    #[arg(long, default_value_t = 0)]
    pub threads: u32,
    /// Frame hashes in the bank for the matching figure.
    #[arg(long, default_value_t = 1_000_000)]
    pub bank_frames: usize,
    /// Query frames for the matching figure (3600: one hour at one frame per second).
    #[arg(long, default_value_t = 3600)]
    pub query_frames: usize,
    /// The reference script.
    #[arg(long, default_value = "bench/vpdq_reference.py")]
    pub reference: PathBuf,
    /// Python interpreter for the reference.
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Our decoder: `ffmpeg` (the bounded ffmpeg subprocess), `libav-child` (this binary's libav
    /// decoder in a bounded child, as the server runs it) or `libav` (the same in this process);
    /// the libav ones need a binary built with `--features video-libav`. `auto`: the server's
    /// default (`libav-child` when built in, else `ffmpeg`).
    #[arg(long, default_value = "auto", value_parser = ["auto", "ffmpeg", "libav", "libav-child"])]
    pub decoder: String,
    /// Skip the reference even if it is available.
    #[arg(long)]
    pub no_reference: bool,
}

fn files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        bail!("no video files");
    }
    Ok(out)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Row {
    seconds: f64,
    /// The vPDQ record of the last run, in the reference's file format.
    vpdq: String,
    /// Frames the decoder produced, when known (libav).
    decoded: Option<u64>,
    /// CPU seconds of this process and its waited-for children (ffprobe, ffmpeg).
    cpu: f64,
    frames: usize,
    duration: f64,
}

/// CPU seconds (user + system) of this process plus its reaped children, from `/proc/self/stat`
/// (fields 14–17, in clock ticks of 1/100 s on Linux). The machine is shared: wall time measures
/// the neighbours as much as the code, CPU time measures the work.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return f64::NAN };
    // The command name may contain spaces; fields start after its closing parenthesis.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return f64::NAN };
    let f: Vec<f64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // After ')' the state letter is dropped by the numeric filter, so field k is at index k − 4:
    // utime (14), stime (15), cutime (16), cstime (17).
    if f.len() < 15 {
        return f64::NAN;
    }
    (f[10] + f[11] + f[12] + f[13]) / 100.0
}

#[cfg(feature = "video-libav")]
fn hash_libav(path: &Path, sampling: &Sampling, limits: &Limits) -> anyhow::Result<(HashedVideo, Option<u64>)> {
    let (v, stats) = staydown_vpdq::libav::hash_file(path, sampling, limits, None)?;
    Ok((v, Some(stats.frames_decoded)))
}

#[cfg(feature = "video-libav")]
fn hash_libav_child(path: &Path, sampling: &Sampling, limits: &Limits) -> anyhow::Result<(HashedVideo, Option<u64>)> {
    let exe = std::env::current_exe().context("where is this binary?")?;
    let v = staydown_vpdq::child::hash_file(&exe, &["video-child".into()], path, sampling, limits, &Tools::default())?;
    Ok((v, None))
}

#[cfg(not(feature = "video-libav"))]
fn hash_libav_child(_: &Path, _: &Sampling, _: &Limits) -> anyhow::Result<(HashedVideo, Option<u64>)> {
    bail!("this binary was built without the feature `video-libav`")
}

/// The decoder `--decoder auto` stands for.
fn decoder(args: &BenchVideoArgs) -> &str {
    match args.decoder.as_str() {
        "auto" if cfg!(feature = "video-libav") => "libav-child",
        "auto" => "ffmpeg",
        other => other,
    }
}

#[cfg(not(feature = "video-libav"))]
fn hash_libav(_: &Path, _: &Sampling, _: &Limits) -> anyhow::Result<(HashedVideo, Option<u64>)> {
    bail!("this binary was built without the feature `video-libav`")
}

fn ours(path: &Path, args: &BenchVideoArgs) -> anyhow::Result<Row> {
    let sampling = Sampling { seconds_per_hash: args.seconds_per_hash, dedup_distance: None };
    let limits = Limits { threads: args.threads, ..Limits::default() };
    let tools = Tools::default();
    let mut times = Vec::new();
    let mut cpus = Vec::new();
    let mut last = None;
    for _ in 0..args.repeat.max(1) {
        let (t, c) = (Instant::now(), cpu_seconds());
        let v = match decoder(args) {
            "libav" => hash_libav(path, &sampling, &limits),
            "libav-child" => hash_libav_child(path, &sampling, &limits),
            _ => hash_file(path, &sampling, &limits, &tools).map(|v| (v, None)).map_err(anyhow::Error::from),
        }
        .with_context(|| format!("hashing {}", path.display()))?;
        times.push(t.elapsed().as_secs_f64());
        cpus.push(cpu_seconds() - c);
        last = Some(v);
    }
    let (v, decoded) = last.context("no run")?;
    let duration = v.info.duration_s.unwrap_or(v.frames_hashed as f64 * args.seconds_per_hash);
    Ok(Row {
        seconds: median(times),
        vpdq: staydown_vpdq::to_vpdq_file(&v.features),
        decoded,
        cpu: median(cpus),
        frames: v.features.len(),
        duration,
    })
}

/// The reference's figures per file: (wall seconds, frames, CPU seconds, its vPDQ file text).
type RefRow = (f64, usize, f64, String);

fn reference(files: &[PathBuf], args: &BenchVideoArgs) -> anyhow::Result<Vec<RefRow>> {
    let out = Command::new(&args.python)
        .arg(&args.reference)
        .args(["--threads", &args.threads.to_string()])
        .args(["--seconds-per-hash", &args.seconds_per_hash.to_string()])
        .args(["--repeat", &args.repeat.max(1).to_string()])
        .args(files)
        .output()
        .context("running the reference")?;
    if !out.status.success() {
        bail!("{}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("failed"));
    }
    let mut rows = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        rows.push((
            v["seconds"].as_f64().unwrap_or(f64::NAN),
            v["frames"].as_u64().unwrap_or(0) as usize,
            v["cpu"].as_f64().unwrap_or(f64::NAN),
            v["vpdq"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    Ok(rows)
}

fn matching(args: &BenchVideoArgs) {
    let mut rng = SplitMix64(0x5eed_0017);
    let bank: Vec<Hash256> = (0..args.bank_frames).map(|_| rng.hash()).collect();
    let t = Instant::now();
    let index = MatchIndex::from_entries(bank.iter().enumerate().map(|(i, h)| (i as u64, *h)));
    let build = t.elapsed().as_secs_f64();
    let query: Vec<Hash256> = (0..args.query_frames)
        .map(|i| {
            if i % 4 == 0 && !bank.is_empty() {
                let mut b = bank[rng.below(bank.len() as u64) as usize].to_bytes();
                for _ in 0..8 {
                    let bit = rng.below(256) as usize;
                    b[bit / 8] ^= 1 << (bit % 8);
                }
                Hash256::from_bytes(b)
            } else {
                rng.hash()
            }
        })
        .collect();
    let (t, c) = (Instant::now(), cpu_seconds());
    let mut hits = Vec::new();
    let mut matched = 0usize;
    for q in &query {
        hits.clear();
        index.search_into(q, 31, &mut hits);
        matched += usize::from(!hits.is_empty());
    }
    let indexed = t.elapsed().as_secs_f64();
    let indexed_cpu = cpu_seconds() - c;
    // The reference's rule (`matchTwoHashBrute`: both percentages, every pair), on a sample of
    // query frames; both directions cost query × bank distance computations, so it scales linearly.
    let sample = query.len().min(32);
    let feature = |h: &Hash256| staydown_vpdq::Feature {
        frame_number: 0,
        quality: 100,
        hash: staydown_vpdq::PdqHash::from_bytes(h.to_bytes()),
        timestamp: 0.0,
    };
    let bank_features: Vec<staydown_vpdq::Feature> = bank.iter().map(feature).collect();
    let sample_features: Vec<staydown_vpdq::Feature> = query[..sample].iter().map(feature).collect();
    let (t, c) = (Instant::now(), cpu_seconds());
    let reference = staydown_vpdq::matching::match_two_hash_brute(&sample_features, &bank_features, 32, 50);
    let brute = t.elapsed().as_secs_f64() * query.len() as f64 / sample.max(1) as f64;
    let brute_cpu = (cpu_seconds() - c) * query.len() as f64 / sample.max(1) as f64;
    let _ = reference;
    println!(
        "matching, CPU seconds: exact index {indexed_cpu:.3} s, brute force {brute_cpu:.1} s (scaled), ratio {:.0}x",
        brute_cpu / indexed_cpu.max(0.01)
    );
    println!(
        "matching, wall: {} query frames against {} banked frames: exact index {:.3} s ({} frames matched; index built in {:.1} s); \
         brute force (the reference's matchTwoHashBrute rule, staydown_vpdq::matching, {} frames timed and scaled) {:.1} s; ratio {:.0}x",
        query.len(),
        bank.len(),
        indexed,
        matched,
        build,
        sample,
        brute,
        brute / indexed.max(1e-9)
    );
}

pub fn run(args: &BenchVideoArgs) -> anyhow::Result<ExitCode> {
    let files = files(&args.paths)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "vPDQ hashing at one frame per {} s, {} file(s), {} core(s), decoder {}, decoder threads {}, median of {} run(s)",
        args.seconds_per_hash,
        files.len(),
        cores,
        decoder(args),
        if args.threads == 0 { "auto".to_owned() } else { args.threads.to_string() },
        args.repeat
    );
    let mut rows = Vec::new();
    for f in &files {
        rows.push(ours(f, args)?);
    }
    let refs = if args.no_reference {
        None
    } else {
        match reference(&files, args) {
            Ok(r) if r.len() == files.len() => Some(r),
            Ok(_) => {
                println!("reference: unexpected output; skipped");
                None
            }
            Err(e) => {
                println!("reference (PyPI vpdq via {}): not available: {e:#}", args.reference.display());
                None
            }
        }
    };
    println!(
        "{:<44} {:>8} {:>8} {:>10} {:>10} {:>10} {:>10} {:>7}",
        "file", "video s", "frames", "ours s", "ours f/s", "ref s", "ref f/s", "ratio"
    );
    let (mut t_ours, mut t_ref, mut frames, mut video) = (0.0, 0.0, 0usize, 0.0);
    let (mut c_ours, mut c_ref) = (0.0, 0.0);
    for (i, (f, r)) in files.iter().zip(&rows).enumerate() {
        let name = f.file_name().map_or_else(|| f.display().to_string(), |n| n.to_string_lossy().into_owned());
        t_ours += r.seconds;
        c_ours += r.cpu;
        frames += r.frames;
        video += r.duration;
        if let Some(d) = r.decoded {
            println!("{name}: libav decoded {d} frames to hash {}", r.frames);
        }
        match refs.as_ref().map(|v| &v[i]) {
            Some(&(rs, rf, rc, ref text)) => {
                t_ref += rs;
                c_ref += rc;
                let note = if text.is_empty() {
                    if rf == r.frames { "" } else { " (frame counts differ!)" }
                } else if *text == r.vpdq {
                    " (vPDQ identical)"
                } else {
                    " (vPDQ DIFFERS)"
                };
                println!(
                    "{name:<44} {:>8.1} {:>8} {:>10.3} {:>10.1} {:>10.3} {:>10.1} {:>6.2}x{note}",
                    r.duration,
                    r.frames,
                    r.seconds,
                    r.frames as f64 / r.seconds,
                    rs,
                    rf as f64 / rs,
                    rs / r.seconds
                );
            }
            None => println!(
                "{name:<44} {:>8.1} {:>8} {:>10.3} {:>10.1}",
                r.duration,
                r.frames,
                r.seconds,
                r.frames as f64 / r.seconds
            ),
        }
    }
    println!(
        "total: ours {frames} frames in {t_ours:.2} s = {:.1} frames/s, {:.1} s of video per second",
        frames as f64 / t_ours,
        video / t_ours
    );
    if refs.is_some() {
        println!(
            "total: reference (PyPI vpdq) {:.2} s = {:.1} frames/s, {:.1} s of video per second; ratio {:.2}x",
            t_ref,
            frames as f64 / t_ref,
            video / t_ref,
            t_ref / t_ours
        );
    }
    println!("CPU seconds (process + children): ours {c_ours:.2}, {:.1} s of video per CPU second", video / c_ours);
    if refs.is_some() {
        println!(
            "CPU seconds: reference {c_ref:.2}, {:.1} s of video per CPU second; ratio {:.2}x",
            video / c_ref,
            c_ref / c_ours
        );
    }
    if args.bank_frames > 0 && args.query_frames > 0 {
        matching(args);
    }
    Ok(ExitCode::SUCCESS)
}
