//! `staydown hash PATH…`: content hashes (PDQ + quality, SHA-256, MD5) of image files and folders.
//!
//! Implements the user-facing part of issue 4: one JSON object (or CSV row) per image on stdout,
//! in the order the paths were given (folders walked recursively, entries sorted by name), a
//! progress bar on stderr only when stderr is a terminal, and a clear `error: PATH: reason` line on
//! stderr for each file that cannot be read or decoded; the rest continue, and the exit status is
//! non-zero at the end if any file failed. Decoding is `staydown_media`'s bounded decoder.
//!
//! Videos (issue 17): a file whose first bytes are a video container (MP4/MOV, Matroska/WebM, AVI,
//! MPEG-TS, FLV, Ogg) is decoded by the server's video decoder (`hash_video`: the bounded libav child,
//! or the bounded ffmpeg subprocess in a build without `video-libav`) and reported as its
//! vPDQ (one frame per `--seconds-per-hash`, default 1 s, as the reference tools), the file's
//! SHA-256/MD5, and what the container says as controlled tokens (container, codec, encoder
//! tokens — never the tags' text). `--format vpdq` prints the vPDQ in the reference's file format.
//!
//! Files named explicitly are always attempted; inside folders only files with an image extension
//! (jpg, jpeg, png, webp, gif, bmp; any case) are, so that a folder's README or sidecar files do not
//! count as failures. Symbolic links to folders are not followed (no cycles).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use staydown_media::{ContentHashes, DecodeLimits, MediaError, hash_image_bytes};
use staydown_provenance::{Provenance, Verdict};

/// Output format of `staydown hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// CSV with a header row: path,pdq,quality,sha256,md5,width,height,ai_generated,generator,edited.
    Csv,
    /// Videos only: the vPDQ in the reference's file format (`frame,quality,pdq,timestamp` lines).
    Vpdq,
}

#[derive(Debug, clap::Args)]
pub struct HashArgs {
    /// Image files and folders (folders are searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Largest file accepted, in bytes.
    #[arg(long, default_value_t = DecodeLimits::default().max_bytes)]
    pub max_bytes: usize,
    /// Largest image accepted, in pixels (width × height).
    #[arg(long, default_value_t = DecodeLimits::default().max_pixels)]
    pub max_pixels: u64,
    /// Videos: seconds between hashed frames (0: every frame).
    #[arg(long, default_value_t = 1.0)]
    pub seconds_per_hash: f64,
    /// Videos: drop frames within this Hamming distance of the previous kept frame.
    #[arg(long)]
    pub dedup_distance: Option<u32>,
}

const VIDEO_EXTENSIONS: [&str; 8] = ["mp4", "mov", "m4v", "mkv", "webm", "avi", "ts", "flv"];

const IMAGE_EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "png", "webp", "gif", "bmp"];

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().chain(&VIDEO_EXTENSIONS).any(|x| x.eq_ignore_ascii_case(e)))
}

/// One unit of work: a file to hash, or a path that already failed while listing.
enum Item {
    File(PathBuf),
    Unreadable(PathBuf, String),
}

fn walk(dir: &Path, out: &mut Vec<Item>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return out.push(Item::Unreadable(dir.to_owned(), e.to_string())),
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => paths.push(entry.path()),
            Err(e) => out.push(Item::Unreadable(dir.to_owned(), e.to_string())),
        }
    }
    paths.sort();
    for path in paths {
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, out),
            // Symlinks: follow to files, never into folders.
            Ok(meta) if meta.file_type().is_symlink() => {
                if path.is_file() && has_image_extension(&path) {
                    out.push(Item::File(path));
                }
            }
            Ok(_) if has_image_extension(&path) => out.push(Item::File(path)),
            Ok(_) => {}
            Err(e) => out.push(Item::Unreadable(path, e.to_string())),
        }
    }
}

fn collect(paths: &[PathBuf]) -> Vec<Item> {
    let mut items = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut items),
            Ok(_) => items.push(Item::File(path.clone())),
            Err(e) => items.push(Item::Unreadable(path.clone(), e.to_string())),
        }
    }
    items
}

/// Reads at most `max_bytes + 1` bytes, so an oversized file is refused without reading it whole.
fn read_bounded(path: &Path, max_bytes: usize) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(max_bytes as u64 + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// What `staydown hash` reports for one image: its hashes and what the file says about its origin.
struct Hashed {
    hashes: ContentHashes,
    /// `None` only if the provenance reader refused the bytes (it bounds them itself).
    provenance: Option<Provenance>,
    /// Set instead of `hashes` for a video (issue 17).
    video: Option<staydown_vpdq::decode::HashedVideo>,
}

fn is_video(path: &Path) -> bool {
    let mut head = [0u8; 376];
    let Ok(mut f) = File::open(path) else { return false };
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    staydown_vpdq::decode::Container::sniff(&head[..n]).is_some()
}

/// A video through the decoder `staydown serve` uses by default: the libav child (this binary's
/// `video-child`, bounded like the server's) when built in, else the `ffmpeg` subprocess. Both give
/// the same record (docs/video.md).
fn hash_video(
    path: &Path,
    sampling: &staydown_vpdq::Sampling,
) -> Result<staydown_vpdq::decode::HashedVideo, staydown_vpdq::decode::VideoError> {
    let limits = staydown_vpdq::decode::Limits::default();
    let tools = staydown_vpdq::decode::Tools::default();
    #[cfg(feature = "video-libav")]
    if let Ok(exe) = std::env::current_exe() {
        return staydown_vpdq::child::hash_file(&exe, &["video-child".into()], path, sampling, &limits, &tools);
    }
    staydown_vpdq::decode::hash_file(path, sampling, &limits, &tools)
}

fn hash_item(item: &Item, limits: &DecodeLimits, sampling: &staydown_vpdq::Sampling) -> Result<Hashed, String> {
    match item {
        Item::Unreadable(_, reason) => Err(reason.clone()),
        Item::File(path) if is_video(path) => {
            let video = hash_video(path, sampling).map_err(|e| e.to_string())?;
            // C2PA in MP4 and XMP, when the provenance reader takes the file (it bounds its input).
            let provenance = read_bounded(path, staydown_provenance::Limits::default().max_bytes)
                .ok()
                .and_then(|bytes| staydown_provenance::analyze(&bytes, &staydown_provenance::Limits::default()).ok());
            let zero = staydown_pdq::PdqHash::ZERO;
            let hashes = ContentHashes {
                pdq: zero,
                quality: 0,
                dihedral: staydown_pdq::DihedralHashes {
                    original: zero,
                    rotate90: zero,
                    rotate180: zero,
                    rotate270: zero,
                    flip_x: zero,
                    flip_y: zero,
                    flip_plus1: zero,
                    flip_minus1: zero,
                },
                sha256: video.sha256,
                md5: video.md5,
                width: video.info.width,
                height: video.info.height,
            };
            Ok(Hashed { hashes, provenance, video: Some(video) })
        }
        Item::File(path) => {
            let bytes = read_bounded(path, limits.max_bytes)?;
            let hashes = hash_image_bytes(&bytes, limits).map_err(|e| match e {
                // The length is only known up to the limit; say so instead of a wrong size.
                MediaError::TooManyBytes { limit, .. } => {
                    format!("file is larger than the limit of {limit} bytes")
                }
                other => other.to_string(),
            })?;
            let provenance = staydown_provenance::analyze(&bytes, &staydown_provenance::Limits::default()).ok();
            Ok(Hashed { hashes, provenance, video: None })
        }
    }
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Yes => "yes",
        Verdict::No => "no",
        Verdict::Unknown => "unknown",
    }
}

fn item_path(item: &Item) -> &Path {
    match item {
        Item::File(p) | Item::Unreadable(p, _) => p,
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

fn write_record(out: &mut impl Write, format: Format, path: &Path, item: &Hashed) -> std::io::Result<()> {
    let path = path.to_string_lossy();
    let h = &item.hashes;
    let p = item.provenance.as_ref();
    if let Some(v) = &item.video {
        return match format {
            Format::Vpdq => write!(out, "{}", staydown_vpdq::to_vpdq_file(&v.features)),
            _ => {
                let frames: Vec<serde_json::Value> = v
                    .features
                    .iter()
                    .map(|f| {
                        serde_json::json!({
                            "frame_number": f.frame_number, "quality": f.quality,
                            "pdq": f.hash.to_hex(), "timestamp": (f.timestamp * 1000.0).round() / 1000.0,
                        })
                    })
                    .collect();
                let record = serde_json::json!({
                    "path": path,
                    "kind": "video",
                    "sha256": hex::encode(v.sha256),
                    "md5": hex::encode(v.md5),
                    "video": v.info,
                    "frames_hashed": v.frames_hashed,
                    "vpdq": frames,
                    "provenance": p,
                });
                writeln!(out, "{record}")
            }
        };
    }
    match format {
        Format::Json => {
            let record = serde_json::json!({
                "path": path,
                "pdq": h.pdq.to_hex(),
                "quality": h.quality,
                "sha256": h.sha256_hex(),
                "md5": h.md5_hex(),
                "width": h.width,
                "height": h.height,
                "provenance": p,
            });
            writeln!(out, "{record}")
        }
        Format::Vpdq => Err(std::io::Error::other("--format vpdq is for videos")),
        Format::Csv => writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            csv_field(&path),
            h.pdq,
            h.quality,
            h.sha256_hex(),
            h.md5_hex(),
            h.width,
            h.height,
            p.map_or("unknown", |p| verdict(p.ai_generated)),
            csv_field(p.and_then(|p| p.generator.as_deref()).unwrap_or("")),
            p.map_or("unknown", |p| verdict(p.edited)),
        ),
    }
}

pub fn run(args: HashArgs) -> anyhow::Result<ExitCode> {
    let HashArgs { paths, format, jobs, max_bytes, max_pixels, seconds_per_hash, dedup_distance } = args;
    if !(seconds_per_hash.is_finite() && seconds_per_hash >= 0.0) {
        anyhow::bail!("--seconds-per-hash must be 0 or more");
    }
    let sampling = staydown_vpdq::Sampling { seconds_per_hash, dedup_distance };
    let limits = DecodeLimits { max_bytes, max_pixels, ..DecodeLimits::default() };
    let items = collect(&paths);
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, items.len().max(1));

    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(items.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} images {per_sec} eta {eta}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if format == Format::Csv {
        writeln!(out, "path,pdq,quality,sha256,md5,width,height,ai_generated,generator,edited")
            .context("writing to stdout")?;
    }

    // Workers take items by index; results are printed in input order as they become ready.
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Result<Hashed, String>)>();
    let mut failures = 0usize;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, items, limits, sampling) = (&next, &items, &limits, &sampling);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if tx.send((i, hash_item(item, limits, sampling))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut ready: BTreeMap<usize, Result<Hashed, String>> = BTreeMap::new();
        let mut printed = 0usize;
        for (i, result) in rx {
            ready.insert(i, result);
            while let Some(result) = ready.remove(&printed) {
                let path = item_path(&items[printed]);
                match result {
                    Ok(h) if h.video.is_none() && format == Format::Vpdq => {
                        failures += 1;
                        progress.suspend(|| eprintln!("error: {}: --format vpdq is for videos", path.display()));
                    }
                    Ok(h) if h.video.is_some() && format == Format::Csv => {
                        failures += 1;
                        progress.suspend(|| eprintln!("error: {}: a video; use --format json or vpdq", path.display()));
                    }
                    Ok(h) => write_record(&mut out, format, path, &h).context("writing to stdout")?,
                    Err(reason) => {
                        failures += 1;
                        progress.suspend(|| eprintln!("error: {}: {reason}", path.display()));
                    }
                }
                printed += 1;
                progress.inc(1);
            }
        }
        Ok(())
    })?;
    out.flush().context("writing to stdout")?;
    progress.finish_and_clear();

    if failures > 0 {
        eprintln!("{failures} of {} file(s) could not be hashed", items.len());
        Ok(ExitCode::FAILURE)
    } else {
        Ok(ExitCode::SUCCESS)
    }
}
