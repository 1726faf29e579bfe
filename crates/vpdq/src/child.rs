//! The in-process decoder ([`crate::libav`]) run in a bounded child process, so that a server gets
//! its speed without its risk: a decoder crash, hang or memory blow-up stays in the child, which
//! runs under `prlimit --as` ([`Limits::max_memory_bytes`]) and is killed at [`Limits::max_wall`],
//! like the `ffmpeg` child of [`crate::decode`].
//!
//! The child is any program that calls [`child_main`] (the `staydown` binary built with its
//! `video-libav` feature has a hidden `video-child` command for it). Protocol, one exchange per
//! process: the parent passes a JSON request (sampling and bounds) and the file's path as the last
//! two arguments; the child writes one JSON answer to stdout — the hashed video or the refusal —
//! and exits. Frame timestamps are recomputed by the parent from the frame numbers, so the record is
//! the one [`crate::libav::hash_file`] gives in-process.

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::decode::{Bounded, Container, HashedVideo, Limits, Tools, VideoError, VideoInfo, known_token};
use crate::{Feature, PdqHash, Sampling, timestamp};

/// The request the parent passes as the child's second-to-last argument.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    seconds_per_hash: f64,
    dedup_distance: Option<u32>,
    max_bytes: u64,
    max_duration_s: f64,
    max_width: u32,
    max_height: u32,
    max_pixels: u64,
    max_frame_rate: f64,
    max_frames: u64,
    max_wall_ms: u64,
    threads: u32,
}

/// The child's answer (stdout).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Ok(Hashed),
    Err(Refusal),
}

#[derive(Debug, Serialize, Deserialize)]
struct Hashed {
    container: String,
    codec: String,
    width: u32,
    height: u32,
    frame_rate: f64,
    duration_s: Option<f64>,
    encoder_tokens: Vec<String>,
    /// `[frame_number, quality, hash_hex]` per kept frame.
    features: Vec<(u64, u8, String)>,
    frames_hashed: u64,
    sha256: String,
    md5: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Refusal {
    TooLarge { size: u64, max: u64 },
    UnsupportedContainer,
    NoVideoStream,
    TooManyPixels { width: u32, height: u32, max_width: u32, max_height: u32, max_pixels: u64 },
    BadFrameRate { fps: f64, max: f64 },
    TooLong { max_s: f64 },
    TimedOut { ms: u64 },
    Undecodable { reason: String },
}

/// The `Undecodable` reasons the decoders give; any other text maps to the first.
const REASONS: &[&str] = &[
    "libav could not read the stream",
    "libav could not be initialised",
    "decoding failed",
    "no frame could be decoded",
    "a frame changed size or format",
    "unsupported pixel format",
    "the stream's size is inconsistent",
    "a decoder thread failed",
    "the file could not be read",
];

fn request(sampling: &Sampling, limits: &Limits) -> Request {
    Request {
        seconds_per_hash: sampling.seconds_per_hash,
        dedup_distance: sampling.dedup_distance,
        max_bytes: limits.max_bytes,
        max_duration_s: limits.max_duration_s,
        max_width: limits.max_width,
        max_height: limits.max_height,
        max_pixels: limits.max_pixels,
        max_frame_rate: limits.max_frame_rate,
        max_frames: limits.max_frames,
        max_wall_ms: u64::try_from(limits.max_wall.as_millis()).unwrap_or(u64::MAX),
        threads: limits.threads,
    }
}

/// The child's side: hashes `path` with [`crate::libav::hash_file`] under the request's bounds and
/// returns the JSON answer to print. `request_json` is what [`hash_file`] passed.
///
/// # Errors
/// Only when the request itself cannot be read (a caller that is not [`hash_file`]).
#[cfg(feature = "libav")]
pub fn child_main(request_json: &str, path: &Path) -> Result<String, serde_json::Error> {
    let r: Request = serde_json::from_str(request_json)?;
    let sampling = Sampling { seconds_per_hash: r.seconds_per_hash, dedup_distance: r.dedup_distance };
    let limits = Limits {
        max_bytes: r.max_bytes,
        max_duration_s: r.max_duration_s,
        max_width: r.max_width,
        max_height: r.max_height,
        max_pixels: r.max_pixels,
        max_frame_rate: r.max_frame_rate,
        max_frames: r.max_frames,
        max_wall: Duration::from_millis(r.max_wall_ms),
        threads: r.threads,
        ..Limits::default()
    };
    let answer = match crate::libav::hash_file(path, &sampling, &limits, None) {
        Ok((v, _)) => Answer::Ok(Hashed {
            container: v.info.container.to_owned(),
            codec: v.info.codec,
            width: v.info.width,
            height: v.info.height,
            frame_rate: v.info.frame_rate,
            duration_s: v.info.duration_s,
            encoder_tokens: v.info.encoder_tokens.iter().map(|t| (*t).to_owned()).collect(),
            features: v.features.iter().map(|f| (f.frame_number, f.quality, f.hash.to_hex())).collect(),
            frames_hashed: v.frames_hashed,
            sha256: hex::encode(v.sha256),
            md5: hex::encode(v.md5),
        }),
        Err(e) => Answer::Err(match e {
            VideoError::TooLarge { size, max } => Refusal::TooLarge { size, max },
            VideoError::UnsupportedContainer => Refusal::UnsupportedContainer,
            VideoError::NoVideoStream => Refusal::NoVideoStream,
            VideoError::TooManyPixels { width, height, max_width, max_height, max_pixels } => {
                Refusal::TooManyPixels { width, height, max_width, max_height, max_pixels }
            }
            VideoError::BadFrameRate { fps, max } => Refusal::BadFrameRate { fps, max },
            VideoError::TooLong { max_s } => Refusal::TooLong { max_s },
            VideoError::TimedOut(d) => Refusal::TimedOut { ms: u64::try_from(d.as_millis()).unwrap_or(u64::MAX) },
            VideoError::Undecodable(reason) => Refusal::Undecodable { reason: reason.to_owned() },
            VideoError::Tool { .. } | VideoError::Io(_) => {
                Refusal::Undecodable { reason: "the file could not be read".to_owned() }
            }
        }),
    };
    serde_json::to_string(&answer)
}

/// The parent's side: hashes `path` in a child (`program`, a path to a file, with `args`, then the request and the
/// path) under `limits` — address space `max_memory_bytes` through `tools.prlimit`, killed at
/// `max_wall` — and returns what [`crate::libav::hash_file`] returns there (without its decode
/// statistics).
///
/// # Errors
/// The child's refusal as the same [`VideoError`]; [`VideoError::TimedOut`] when it was killed;
/// [`VideoError::Tool`] (tool `video-child`) when it cannot start; [`VideoError::Undecodable`] when
/// it died or answered nothing readable (a crash, or out of its memory bound).
pub fn hash_file(
    program: &Path,
    args: &[OsString],
    path: &Path,
    sampling: &Sampling,
    limits: &Limits,
    tools: &Tools,
) -> Result<HashedVideo, VideoError> {
    let size = std::fs::metadata(path)?.len();
    if size > limits.max_bytes {
        return Err(VideoError::TooLarge { size, max: limits.max_bytes });
    }
    // Checked here: under `prlimit`, a missing program would only show as a child that said nothing.
    if !program.is_file() {
        let source = std::io::Error::new(std::io::ErrorKind::NotFound, format!("{} is not a file", program.display()));
        return Err(VideoError::Tool { tool: "video-child", source });
    }
    let bounded = Bounded {
        tools: tools.clone(),
        deadline: Instant::now() + limits.max_wall,
        max_wall: limits.max_wall,
        max_memory: limits.max_memory_bytes,
    };
    let request = serde_json::to_string(&request(sampling, limits))
        .map_err(|_| VideoError::Undecodable("the request could not be written"))?;
    let mut all: Vec<OsString> = args.to_vec();
    all.push(request.into());
    all.push(path.as_os_str().to_owned());
    // glibc's allocator returns a freed block of 128 KiB or more to the system at once, so every
    // decoder the child opens (one per segment) faults its frame buffers in afresh: measured on a
    // 3-minute 1080p video, 165,000 page faults and 0.53 s of system time, against 42,000 and
    // 0.18 s with these limits raised (docs/video.md). The child lives for one video and its
    // address space is bounded by `prlimit`, so keeping freed memory costs nothing.
    let env = [("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824")];
    let mut running = bounded.spawn_with_env("video-child", program, &all, &env)?;
    // An answer is at most ~90 bytes per hashed frame plus the metadata.
    let max = usize::try_from(limits.max_frames).unwrap_or(usize::MAX).saturating_mul(96).saturating_add(64 * 1024);
    let mut out = Vec::new();
    let read = (&mut running.stdout).take(max as u64 + 1).read_to_end(&mut out);
    let (timed_out, _) = running.finish(read.is_err() || out.len() > max);
    if timed_out {
        return Err(VideoError::TimedOut(limits.max_wall));
    }
    let answer: Answer = serde_json::from_slice(&out).map_err(|_| VideoError::Undecodable("the decoder stopped"))?;
    match answer {
        Answer::Ok(h) => hashed(h),
        Answer::Err(r) => Err(match r {
            Refusal::TooLarge { size, max } => VideoError::TooLarge { size, max },
            Refusal::UnsupportedContainer => VideoError::UnsupportedContainer,
            Refusal::NoVideoStream => VideoError::NoVideoStream,
            Refusal::TooManyPixels { width, height, max_width, max_height, max_pixels } => {
                VideoError::TooManyPixels { width, height, max_width, max_height, max_pixels }
            }
            Refusal::BadFrameRate { fps, max } => VideoError::BadFrameRate { fps, max },
            Refusal::TooLong { max_s } => VideoError::TooLong { max_s },
            Refusal::TimedOut { ms } => VideoError::TimedOut(Duration::from_millis(ms)),
            Refusal::Undecodable { reason } => {
                VideoError::Undecodable(REASONS.iter().find(|r| **r == reason).copied().unwrap_or(REASONS[0]))
            }
        }),
    }
}

fn hashed(h: Hashed) -> Result<HashedVideo, VideoError> {
    let bad = || VideoError::Undecodable("the decoder stopped");
    let container = Container::from_name(&h.container).ok_or_else(bad)?;
    let mut features = Vec::with_capacity(h.features.len());
    for (frame_number, quality, hex) in h.features {
        let hash: PdqHash = hex.parse().map_err(|_| bad())?;
        features.push(Feature { frame_number, quality, hash, timestamp: timestamp(frame_number, h.frame_rate) });
    }
    if features.windows(2).any(|w| w[0].frame_number >= w[1].frame_number) {
        return Err(bad());
    }
    let digest = |s: &str, n: usize| hex::decode(s).ok().filter(|b| b.len() == n).ok_or_else(bad);
    let (sha, md5) = (digest(&h.sha256, 32)?, digest(&h.md5, 16)?);
    Ok(HashedVideo {
        info: VideoInfo {
            container: container.as_str(),
            codec: crate::decode::controlled_token(&h.codec, 16),
            width: h.width,
            height: h.height,
            frame_rate: h.frame_rate,
            duration_s: h.duration_s,
            encoder_tokens: h.encoder_tokens.iter().map(|t| known_token(t)).collect(),
        },
        features,
        frames_hashed: h.frames_hashed,
        sha256: sha.try_into().map_err(|_| bad())?,
        md5: md5.try_into().map_err(|_| bad())?,
    })
}
