//! Bounded video decoding through the `ffmpeg` and `ffprobe` binaries (Debian's `ffmpeg` package).
//!
//! Video files are hostile input. Each bound below is checked before the work it bounds:
//!
//! 1. **bytes**: the file's length against [`Limits::max_bytes`] before anything runs;
//! 2. **container**: sniffed from the first bytes (MP4/MOV, Matroska/WebM, AVI, MPEG-TS, FLV, Ogg)
//!    and passed to ffmpeg as `-f <demuxer>`, with `-protocol_whitelist file`: a playlist, a concat
//!    script or an image sequence can never make ffmpeg open another file or a URL;
//! 3. **metadata** (`ffprobe`, itself under the same time and memory bounds): width, height, pixel
//!    count, frame rate and duration against their limits;
//! 4. **frames**: ffmpeg is told to emit at most the number of sampled frames the duration limit
//!    allows (+1); reading one more means the stream is longer than it claimed (an "endless" or
//!    frame-bomb stream) and is refused ([`VideoError::TooLong`]);
//! 5. **bytes on the pipe**: every frame is read as exactly `width × height × 3` bytes; a short
//!    frame is an error, never a partial hash;
//! 6. **wall time**: a watchdog kills the child at [`Limits::max_wall`] ([`VideoError::TimedOut`]);
//! 7. **memory**: the child runs under `prlimit --as` ([`Limits::max_memory_bytes`]) and this
//!    process holds one frame at a time.
//!
//! Frames are produced the way the reference (ThreatExchange `vpdq`, `filehasher.cpp`) produces
//! them: the first video stream, decoded in order, frame `n` kept when `n % step == 0`
//! (`select='not(mod(n,step))'`, so the index is the decoder's own count, not a timestamp
//! resampling as `-vf fps=` would do), converted by swscale with `SWS_AREA` to RGB24 at the coded
//! width and height (`scale=W:H:flags=area`), no autorotation, every frame passed through
//! (`-fps_mode passthrough`). The frame rate is the stream's `avg_frame_rate`, falling back to
//! `r_frame_rate`, as in the reference.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::{Feature, Sampling, dedup_consecutive, hash_rgb_frame, timestamp};

/// Bounds on one video's decoding. Defaults suit uploads to a platform's screening endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Largest file, in bytes (default 512 MiB).
    pub max_bytes: u64,
    /// Longest duration, in seconds (default 4 hours).
    pub max_duration_s: f64,
    /// Widest frame, in pixels (default 7680).
    pub max_width: u32,
    /// Tallest frame, in pixels (default 4320).
    pub max_height: u32,
    /// Largest `width × height` (default 3840 × 2160).
    pub max_pixels: u64,
    /// Highest frame rate, frames per second (default 240).
    pub max_frame_rate: f64,
    /// Most hashed frames (default 20 000: 5.5 hours at one per second).
    pub max_frames: u64,
    /// Wall-clock time for probing plus decoding (default 10 minutes).
    pub max_wall: Duration,
    /// Address space of each ffmpeg/ffprobe child, in bytes (default 4 GiB).
    pub max_memory_bytes: u64,
    /// Decoder threads (0: ffmpeg chooses).
    pub threads: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 512 << 20,
            max_duration_s: 4.0 * 3600.0,
            max_width: 7680,
            max_height: 4320,
            max_pixels: 3840 * 2160,
            max_frame_rate: 240.0,
            max_frames: 20_000,
            max_wall: Duration::from_secs(600),
            max_memory_bytes: 4 << 30,
            threads: 0,
        }
    }
}

/// Why a video could not be hashed. Messages are for the person who sent the file; they never
/// contain text taken from the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VideoError {
    /// The file is larger than [`Limits::max_bytes`].
    #[error("the video is {size} bytes; at most {max} are accepted")]
    TooLarge {
        /// The file's size.
        size: u64,
        /// The bound.
        max: u64,
    },
    /// Not a container this decoder accepts.
    #[error("not a supported video container (MP4/MOV, Matroska/WebM, AVI, MPEG-TS, FLV, Ogg)")]
    UnsupportedContainer,
    /// The container has no decodable video stream.
    #[error("the file has no video stream ffmpeg can decode")]
    NoVideoStream,
    /// Frames larger than the limits.
    #[error("the video is {width}×{height}; at most {max_width}×{max_height} and {max_pixels} pixels are accepted")]
    TooManyPixels {
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
        /// Bound on the width.
        max_width: u32,
        /// Bound on the height.
        max_height: u32,
        /// Bound on the pixel count.
        max_pixels: u64,
    },
    /// Frame rate missing, zero or above the limit.
    #[error("the video's frame rate ({fps:.3}/s) is not between 0 and {max}/s")]
    BadFrameRate {
        /// The frame rate read.
        fps: f64,
        /// The bound.
        max: f64,
    },
    /// Longer than [`Limits::max_duration_s`] (by its metadata, or by the frames it kept producing).
    #[error("the video is longer than the {max_s} seconds accepted")]
    TooLong {
        /// The bound.
        max_s: f64,
    },
    /// Decoding took longer than [`Limits::max_wall`]; the decoder was killed.
    #[error("decoding took longer than {0:?}; stopped")]
    TimedOut(Duration),
    /// ffmpeg failed (corrupt or truncated stream, or out of its memory bound).
    #[error("the video could not be decoded ({0})")]
    Undecodable(&'static str),
    /// The decoder binaries are missing or could not run.
    #[error("cannot run {tool}: {source}")]
    Tool {
        /// `ffmpeg` or `ffprobe`.
        tool: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// Reading the file failed.
    #[error("cannot read the video: {0}")]
    Io(#[from] std::io::Error),
}

/// A container family recognised by its first bytes, with the ffmpeg demuxer that reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// ISO base media (MP4, MOV, 3GP, M4V).
    Mp4,
    /// Matroska or WebM.
    Matroska,
    /// RIFF AVI.
    Avi,
    /// MPEG transport stream.
    MpegTs,
    /// Flash video.
    Flv,
    /// Ogg (Theora).
    Ogg,
}

impl Container {
    /// Recognises the container from the file's first bytes (at least 12; 376 for MPEG-TS).
    pub fn sniff(head: &[u8]) -> Option<Container> {
        let at = |i: usize, m: &[u8]| head.get(i..i + m.len()) == Some(m);
        // HEIF/AVIF still images share the ISO base media box structure; they are images.
        const IMAGE_BRANDS: [&[u8; 4]; 8] = [b"heic", b"heix", b"heim", b"heis", b"mif1", b"avif", b"avis", b"msf1"];
        if at(4, b"ftyp") && IMAGE_BRANDS.iter().any(|b| at(8, *b)) {
            return None;
        }
        if head.len() >= 12
            && (at(4, b"ftyp")
                || at(4, b"moov")
                || at(4, b"mdat")
                || at(4, b"free")
                || at(4, b"wide")
                || at(4, b"skip"))
        {
            return Some(Container::Mp4);
        }
        if at(0, &[0x1a, 0x45, 0xdf, 0xa3]) {
            return Some(Container::Matroska);
        }
        if at(0, b"RIFF") && at(8, b"AVI ") {
            return Some(Container::Avi);
        }
        if at(0, b"FLV\x01") {
            return Some(Container::Flv);
        }
        if at(0, b"OggS") {
            return Some(Container::Ogg);
        }
        if head.len() >= 376 && head[0] == 0x47 && head[188] == 0x47 {
            return Some(Container::MpegTs);
        }
        None
    }

    /// The ffmpeg demuxer name.
    pub fn demuxer(self) -> &'static str {
        match self {
            Container::Mp4 => "mov",
            Container::Matroska => "matroska",
            Container::Avi => "avi",
            Container::MpegTs => "mpegts",
            Container::Flv => "flv",
            Container::Ogg => "ogg",
        }
    }

    /// The container [`Container::as_str`] names.
    pub fn from_name(name: &str) -> Option<Container> {
        [Container::Mp4, Container::Matroska, Container::Avi, Container::MpegTs, Container::Flv, Container::Ogg]
            .into_iter()
            .find(|c| c.as_str() == name)
    }

    /// A short stable name for reports (`mp4`, `matroska`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Matroska => "matroska",
            Container::Avi => "avi",
            Container::MpegTs => "mpegts",
            Container::Flv => "flv",
            Container::Ogg => "ogg",
        }
    }
}

/// What the container says about the video, as controlled tokens only.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VideoInfo {
    /// Container family.
    pub container: &'static str,
    /// Codec as ffmpeg names it (`h264`, `vp9`, …), lowercase `[a-z0-9_]`, at most 16 characters.
    pub codec: String,
    /// Coded width in pixels.
    pub width: u32,
    /// Coded height in pixels.
    pub height: u32,
    /// Frames per second (`avg_frame_rate`, else `r_frame_rate`).
    pub frame_rate: f64,
    /// Duration in seconds, when the container states it.
    pub duration_s: Option<f64>,
    /// Encoder and brand tags mapped to known tool tokens (`ffmpeg`, `apple`, `android`, …;
    /// `other` for an unknown one). Never the tag's own text.
    pub encoder_tokens: Vec<&'static str>,
}

/// A hashed video file.
#[derive(Clone, Debug)]
pub struct HashedVideo {
    /// Metadata.
    pub info: VideoInfo,
    /// The vPDQ features, in frame order.
    pub features: Vec<Feature>,
    /// Frames hashed before any deduplication.
    pub frames_hashed: u64,
    /// SHA-256 of the file.
    pub sha256: [u8; 32],
    /// MD5 of the file.
    pub md5: [u8; 16],
}

/// Where the tools are. [`Tools::default`] finds `ffmpeg`, `ffprobe` and `prlimit` on `PATH`
/// (`STAYDOWN_FFMPEG` / `STAYDOWN_FFPROBE` override the first two).
#[derive(Clone, Debug)]
pub struct Tools {
    /// The ffmpeg binary.
    pub ffmpeg: PathBuf,
    /// The ffprobe binary.
    pub ffprobe: PathBuf,
    /// util-linux `prlimit`, to bound the child's address space; `None` runs without that bound.
    pub prlimit: Option<PathBuf>,
}

impl Default for Tools {
    fn default() -> Self {
        let env = |k: &str, d: &str| std::env::var_os(k).map_or_else(|| PathBuf::from(d), PathBuf::from);
        let prlimit = ["/usr/bin/prlimit", "/bin/prlimit"].iter().map(PathBuf::from).find(|p| p.exists());
        Tools { ffmpeg: env("STAYDOWN_FFMPEG", "ffmpeg"), ffprobe: env("STAYDOWN_FFPROBE", "ffprobe"), prlimit }
    }
}

/// Maps one encoder/brand tag to a known tool token; the tag text itself is never kept.
pub fn encoder_token(raw: &str) -> &'static str {
    let s = raw.to_ascii_lowercase();
    TOKENS.iter().find(|(k, _)| s.contains(k)).map_or("other", |(_, v)| v)
}

/// Tag fragments and the tool token each maps to.
const TOKENS: &[(&str, &str)] = &[
    ("lavf", "ffmpeg"),
    ("lavc", "ffmpeg"),
    ("ffmpeg", "ffmpeg"),
    ("handbrake", "handbrake"),
    ("x264", "x264"),
    ("x265", "x265"),
    ("premiere", "adobe"),
    ("adobe", "adobe"),
    ("after effects", "adobe"),
    ("davinci", "davinci_resolve"),
    ("resolve", "davinci_resolve"),
    ("final cut", "apple"),
    ("core media", "apple"),
    ("apple", "apple"),
    ("iphone", "apple"),
    ("quicktime", "apple"),
    ("android", "android"),
    ("google", "google"),
    ("capcut", "capcut"),
    ("tiktok", "tiktok"),
    ("obs", "obs"),
    ("runway", "runway"),
    ("sora", "openai"),
    ("openai", "openai"),
    ("pika", "pika"),
    ("kling", "kling"),
    ("luma", "luma"),
    ("gstreamer", "gstreamer"),
    ("mencoder", "mencoder"),
    ("videohandler", "generic_handler"),
    ("soundhandler", "generic_handler"),
];

/// The token `t` names (as [`encoder_token`] gives it), `other` for any other text.
pub(crate) fn known_token(t: &str) -> &'static str {
    TOKENS.iter().find(|(_, v)| *v == t).map_or("other", |(_, v)| v)
}

pub(crate) fn controlled_token(raw: &str, max: usize) -> String {
    let t: String = raw.to_ascii_lowercase().chars().take(max).collect();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') { t } else { "other".into() }
}

/// Runs children with a wall-clock deadline and an address-space bound.
pub(crate) struct Bounded {
    pub(crate) tools: Tools,
    pub(crate) deadline: Instant,
    pub(crate) max_wall: Duration,
    pub(crate) max_memory: u64,
}

pub(crate) struct Running {
    child: Arc<Mutex<Child>>,
    pub(crate) stdout: std::process::ChildStdout,
    stop: mpsc::Sender<()>,
    watchdog: std::thread::JoinHandle<bool>,
}

impl Bounded {
    pub(crate) fn spawn(&self, tool: &'static str, program: &Path, args: &[OsString]) -> Result<Running, VideoError> {
        self.spawn_with_env(tool, program, args, &[])
    }

    /// [`Bounded::spawn`] with variables added to the child's environment.
    pub(crate) fn spawn_with_env(
        &self,
        tool: &'static str,
        program: &Path,
        args: &[OsString],
        env: &[(&str, &str)],
    ) -> Result<Running, VideoError> {
        let mut cmd = match &self.tools.prlimit {
            Some(prlimit) => {
                let mut c = Command::new(prlimit);
                c.arg(format!("--as={}", self.max_memory)).arg("--core=0").arg("--").arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.args(args).envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().map_err(|source| VideoError::Tool { tool, source })?;
        let stdout = child.stdout.take().ok_or(VideoError::Undecodable("no output pipe"))?;
        let child = Arc::new(Mutex::new(child));
        let (stop, stopped) = mpsc::channel::<()>();
        let left = self.deadline.saturating_duration_since(Instant::now());
        let watched = Arc::clone(&child);
        let watchdog = std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(left) {
                if let Ok(mut c) = watched.lock() {
                    let _ = c.kill();
                }
                return true;
            }
            false
        });
        Ok(Running { child, stdout, stop, watchdog })
    }
}

impl Running {
    /// Stops the watchdog, kills the child if `kill`, reaps it; returns (timed out, exit success).
    pub(crate) fn finish(self, kill: bool) -> (bool, bool) {
        let _ = self.stop.send(());
        let timed_out = self.watchdog.join().unwrap_or(false);
        let Ok(mut child) = self.child.lock() else { return (timed_out, false) };
        if kill {
            let _ = child.kill();
        }
        drop(self.stdout);
        let ok = child.wait().is_ok_and(|s| s.success());
        (timed_out, ok)
    }
}

fn read_to_bound(r: &mut impl Read, max: usize) -> std::io::Result<(Vec<u8>, bool)> {
    let mut buf = Vec::new();
    r.take(max as u64 + 1).read_to_end(&mut buf)?;
    let over = buf.len() > max;
    buf.truncate(max);
    Ok((buf, over))
}

fn parse_rate(s: Option<&str>) -> Option<f64> {
    let s = s?;
    let (n, d) = s.split_once('/').unwrap_or((s, "1"));
    let (n, d) = (n.trim().parse::<f64>().ok()?, d.trim().parse::<f64>().ok()?);
    (n > 0.0 && d > 0.0).then(|| n / d).filter(|r| r.is_finite())
}

/// Reads a video's metadata with `ffprobe` under `limits` (container sniffed first). Returns the
/// container too, for the decode that follows.
pub fn probe(path: &Path, limits: &Limits, tools: &Tools) -> Result<(Container, VideoInfo), VideoError> {
    let bounded = Bounded {
        tools: tools.clone(),
        deadline: Instant::now() + limits.max_wall,
        max_wall: limits.max_wall,
        max_memory: limits.max_memory_bytes,
    };
    probe_bounded(path, limits, &bounded)
}

fn probe_bounded(path: &Path, limits: &Limits, bounded: &Bounded) -> Result<(Container, VideoInfo), VideoError> {
    let size = std::fs::metadata(path)?.len();
    if size > limits.max_bytes {
        return Err(VideoError::TooLarge { size, max: limits.max_bytes });
    }
    let mut head = [0u8; 376];
    let mut file = std::fs::File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let container = Container::sniff(&head[..n]).ok_or(VideoError::UnsupportedContainer)?;
    let args: Vec<OsString> = [
        "-v",
        "error",
        "-hide_banner",
        "-protocol_whitelist",
        "file",
        "-f",
        container.demuxer(),
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-select_streams",
        "v:0",
        "-i",
    ]
    .iter()
    .map(OsString::from)
    .chain([path.as_os_str().to_owned()])
    .collect();
    let mut run = bounded.spawn("ffprobe", &bounded.tools.ffprobe, &args)?;
    let read = read_to_bound(&mut run.stdout, 1 << 20);
    let (timed_out, ok) = run.finish(false);
    if timed_out {
        return Err(VideoError::TimedOut(bounded.max_wall));
    }
    let (json, over) = read?;
    if over || !ok {
        return Err(VideoError::Undecodable("the container could not be read"));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&json).map_err(|_| VideoError::Undecodable("unreadable probe output"))?;
    let stream = v.get("streams").and_then(|s| s.get(0)).ok_or(VideoError::NoVideoStream)?;
    let dim = |k: &str| stream.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let (w, h) = (dim("width"), dim("height"));
    if w == 0 || h == 0 {
        return Err(VideoError::NoVideoStream);
    }
    if w > u64::from(limits.max_width) || h > u64::from(limits.max_height) || w * h > limits.max_pixels {
        return Err(VideoError::TooManyPixels {
            width: u32::try_from(w).unwrap_or(u32::MAX),
            height: u32::try_from(h).unwrap_or(u32::MAX),
            max_width: limits.max_width,
            max_height: limits.max_height,
            max_pixels: limits.max_pixels,
        });
    }
    let fps = parse_rate(stream.get("avg_frame_rate").and_then(|r| r.as_str()))
        .or_else(|| parse_rate(stream.get("r_frame_rate").and_then(|r| r.as_str())))
        .unwrap_or(0.0);
    if !(fps > 0.0 && fps <= limits.max_frame_rate) {
        return Err(VideoError::BadFrameRate { fps, max: limits.max_frame_rate });
    }
    let format = v.get("format");
    let duration = [stream, format.unwrap_or(&serde_json::Value::Null)]
        .iter()
        .filter_map(|o| o.get("duration").and_then(|d| d.as_str()).and_then(|d| d.parse::<f64>().ok()))
        .filter(|d| d.is_finite() && *d >= 0.0)
        .fold(None, |acc: Option<f64>, d| Some(acc.map_or(d, |a| a.max(d))));
    if duration.is_some_and(|d| d > limits.max_duration_s) {
        return Err(VideoError::TooLong { max_s: limits.max_duration_s });
    }
    let mut encoder_tokens: Vec<&'static str> = Vec::new();
    for tags in [format.and_then(|f| f.get("tags")), stream.get("tags")].into_iter().flatten() {
        if let Some(obj) = tags.as_object() {
            for (k, val) in obj {
                let k = k.to_ascii_lowercase();
                if matches!(k.as_str(), "encoder" | "handler_name" | "com.apple.quicktime.software" | "software")
                    && let Some(s) = val.as_str()
                {
                    let t = encoder_token(s);
                    if !encoder_tokens.contains(&t) {
                        encoder_tokens.push(t);
                    }
                }
            }
        }
    }
    let codec = controlled_token(stream.get("codec_name").and_then(|c| c.as_str()).unwrap_or(""), 16);
    Ok((
        container,
        VideoInfo {
            container: container.as_str(),
            codec,
            width: w as u32,
            height: h as u32,
            frame_rate: fps,
            duration_s: duration,
            encoder_tokens,
        },
    ))
}

pub(crate) fn file_digests(path: &Path) -> std::io::Result<([u8; 32], [u8; 16])> {
    let mut file = std::fs::File::open(path)?;
    let (mut sha, mut md5) = (Sha256::new(), Md5::new());
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
        md5.update(&buf[..n]);
    }
    Ok((sha.finalize().into(), md5.finalize().into()))
}

/// Hashes a video file: probe, bounded decode, vPDQ of the sampled frames, SHA-256 and MD5.
pub fn hash_file(path: &Path, sampling: &Sampling, limits: &Limits, tools: &Tools) -> Result<HashedVideo, VideoError> {
    hash_file_with(path, sampling, limits, tools, None)
}

/// [`hash_file`] with the frames scaled to `size` (width, height) before hashing, as the
/// reference's `downsample_width`/`downsample_height` options do (`None`: the coded size).
pub fn hash_file_with(
    path: &Path,
    sampling: &Sampling,
    limits: &Limits,
    tools: &Tools,
    size: Option<(u32, u32)>,
) -> Result<HashedVideo, VideoError> {
    let bounded = Bounded {
        tools: tools.clone(),
        deadline: Instant::now() + limits.max_wall,
        max_wall: limits.max_wall,
        max_memory: limits.max_memory_bytes,
    };
    let (container, info) = probe_bounded(path, limits, &bounded)?;
    let (width, height) = size.unwrap_or((info.width, info.height));
    let step = sampling.frame_step(info.frame_rate);
    // Sampled frames the duration bound allows; one more proves the stream runs past it.
    let by_duration = (limits.max_duration_s * info.frame_rate / step as f64).ceil() as u64 + 1;
    let allowed = by_duration.min(limits.max_frames);
    let filter = format!("select='not(mod(n\\,{step}))',scale={width}:{height}:flags=area,format=rgb24");
    let threads = limits.threads.to_string();
    let args: Vec<OsString> = ["-nostdin", "-hide_banner", "-loglevel", "error", "-threads", &threads, "-noautorotate"]
        .iter()
        .map(OsString::from)
        .chain(["-protocol_whitelist", "file", "-f", container.demuxer(), "-i"].iter().map(OsString::from))
        .chain([path.as_os_str().to_owned()])
        .chain(
            [
                "-map",
                "0:v:0",
                "-an",
                "-sn",
                "-dn",
                "-filter_threads",
                "1",
                "-vf",
                &filter,
                "-fps_mode",
                "passthrough",
                "-frames:v",
                &(allowed + 1).to_string(),
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgb24",
                "pipe:1",
            ]
            .iter()
            .map(OsString::from),
        )
        .collect();
    let (sha256, md5) = file_digests(path)?;
    let mut run = bounded.spawn("ffmpeg", &bounded.tools.ffmpeg, &args)?;
    let frame_bytes = width as usize * height as usize * 3;
    let mut frame = vec![0u8; frame_bytes];
    let mut luma = Vec::with_capacity(width as usize * height as usize);
    let mut features = Vec::new();
    let mut error = None;
    let mut index = 0u64;
    loop {
        match read_frame(&mut run.stdout, &mut frame) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        if index == allowed {
            error = Some(if allowed == limits.max_frames && allowed < by_duration {
                VideoError::TooLong { max_s: limits.max_frames as f64 * step as f64 / info.frame_rate }
            } else {
                VideoError::TooLong { max_s: limits.max_duration_s }
            });
            break;
        }
        let out = hash_rgb_frame(width as usize, height as usize, &frame, &mut luma);
        let frame_number = index * step;
        features.push(Feature {
            frame_number,
            quality: out.quality,
            hash: out.hash,
            timestamp: timestamp(frame_number, info.frame_rate),
        });
        index += 1;
    }
    let (timed_out, ok) = run.finish(error.is_some());
    if timed_out {
        return Err(VideoError::TimedOut(bounded.max_wall));
    }
    if let Some(e) = error {
        return Err(e);
    }
    if !ok {
        return Err(VideoError::Undecodable("ffmpeg stopped with an error"));
    }
    if features.is_empty() {
        return Err(VideoError::Undecodable("no frame could be decoded"));
    }
    let frames_hashed = features.len() as u64;
    if let Some(d) = sampling.dedup_distance {
        dedup_consecutive(&mut features, d);
    }
    Ok(HashedVideo { info, features, frames_hashed, sha256, md5 })
}

/// Reads exactly one frame; `Ok(false)` at a clean end of stream, an error on a partial frame.
fn read_frame(r: &mut impl Read, buf: &mut [u8]) -> Result<bool, VideoError> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) if n == 0 => return Ok(false),
            Ok(0) => return Err(VideoError::Undecodable("a frame was cut short")),
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(VideoError::Io(e)),
        }
    }
    Ok(true)
}

/// Hashes video bytes (an upload): written to a private temporary file first, because MP4 needs
/// seeking; the byte bound is checked before writing.
pub fn hash_bytes(
    bytes: &[u8],
    sampling: &Sampling,
    limits: &Limits,
    tools: &Tools,
) -> Result<HashedVideo, VideoError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(VideoError::TooLarge { size: bytes.len() as u64, max: limits.max_bytes });
    }
    if Container::sniff(&bytes[..bytes.len().min(376)]).is_none() {
        return Err(VideoError::UnsupportedContainer);
    }
    let mut file = tempfile::NamedTempFile::new()?;
    std::io::Write::write_all(&mut file, bytes)?;
    std::io::Write::flush(&mut file)?;
    hash_file(file.path(), sampling, limits, tools)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_containers_and_refuses_others() {
        assert_eq!(Container::sniff(b"\0\0\0\x20ftypisom\0\0\0\0"), Some(Container::Mp4));
        assert_eq!(Container::sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), None, "a HEIC photo is an image");
        assert_eq!(Container::sniff(b"\0\0\0\x1cftypavif\0\0\0\0"), None, "an AVIF photo is an image");
        assert_eq!(Container::sniff(&[0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0]), Some(Container::Matroska));
        assert_eq!(Container::sniff(b"RIFF\0\0\0\0AVI LIST"), Some(Container::Avi));
        assert_eq!(Container::sniff(b"#EXTM3U\nhttp://x/"), None);
        assert_eq!(Container::sniff(b"ffconcat version 1.0\n"), None);
        assert_eq!(Container::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\0"), None);
    }

    #[test]
    fn encoder_tags_become_tokens_only() {
        assert_eq!(encoder_token("Lavf58.29.100"), "ffmpeg");
        assert_eq!(encoder_token("Core Media Video"), "apple");
        assert_eq!(encoder_token("Alice's phone, 5 Main St"), "other");
        assert_eq!(controlled_token("h264", 16), "h264");
        assert_eq!(controlled_token("h264 <script>", 16), "other");
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate(Some("30000/1001")).map(|r| (r * 1000.0).round()), Some(29970.0));
        assert_eq!(parse_rate(Some("0/0")), None);
        assert_eq!(parse_rate(Some("25")), Some(25.0));
    }
}
