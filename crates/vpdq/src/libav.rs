//! In-process video decoding through FFmpeg's libraries (`ffmpeg-next` over Debian's libav* 5.1),
//! behind the crate feature `libav`, giving **the reference's frames while decoding fewer of them**.
//!
//! The reference (ThreatExchange `vpdq`, `filehasher.cpp`) decodes every frame of the first video
//! stream and keeps frame `n` (the decoder's output count) when `n % step == 0`. Decoding is most of
//! its cost, and at one frame per second most decoded frames are thrown away. A frame that no other
//! frame refers to (a non-reference picture, e.g. most B-frames) need not be decoded unless it is
//! sampled: its pixels feed nothing else. This module
//!
//! 1. demuxes the stream once (no decoding) to learn each packet's presentation index — the rank of
//!    its `pts` among all packets' — which is the decoder's output count when every packet yields
//!    one frame (H.264 and HEVC access units in MP4 or Matroska);
//! 2. decodes again with `skip_frame = AVDISCARD_NONREF` for packets whose index is not sampled and
//!    `AVDISCARD_DEFAULT` for those that are (the decoder skips only non-reference pictures, so
//!    every sampled frame and everything it refers to is decoded bit for bit as the reference does);
//! 3. checks that the decoder's output agrees with the mapping (indices strictly increasing, every
//!    sampled packet came out) and otherwise decodes everything again, counting output frames as the
//!    reference does. Other codecs and containers, or packets without distinct timestamps, take that
//!    every-frame path directly.
//!
//! Frames are converted as the reference does (swscale `SWS_AREA` to RGB24 at the coded size or at
//! the requested size) and hashed with [`crate::hash_rgb_frame`]. Decoding uses the codec's frame
//! threads ([`Limits::threads`]; 0 lets libavcodec choose), which the reference does not (it asks
//! for slice threads only).
//!
//! Bounds (as [`crate::decode`]'s, checked before the work they bound): bytes; container sniffed and
//! forced, `protocol_whitelist=file`; width, height, pixels, frame rate and duration from the stream
//! parameters; packets and hashed frames against what the duration allows; wall time checked between
//! packets. **Not bounded here**: the decoder's memory, and a single libav call that does not
//! return — this runs inside the calling process, which is why the server keeps the `ffmpeg`
//! subprocess of [`crate::decode`] (address-space bound, killable) unless told otherwise.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use ffmpeg_next as ff;

use crate::decode::{
    Container, HashedVideo, Limits, VideoError, VideoInfo, controlled_token, encoder_token, file_digests,
};
use crate::{Feature, Sampling, dedup_consecutive, hash_rgb_frame, timestamp};

/// How a file was decoded (for benchmarks and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Packets of the video stream.
    pub packets: u64,
    /// Frames the decoder produced (all of them on the every-frame path).
    pub frames_decoded: u64,
    /// Whether non-reference frames that are not sampled were skipped.
    pub skipped_nonref: bool,
}

fn undecodable(_: ff::Error) -> VideoError {
    VideoError::Undecodable("libav could not read the stream")
}

fn init() -> Result<(), VideoError> {
    static INIT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *INIT.get_or_init(|| {
        let ok = ff::init().is_ok();
        // Messages may quote the file's own text; none is wanted on stderr.
        ff::util::log::set_level(ff::util::log::Level::Quiet);
        ok
    });
    if ok { Ok(()) } else { Err(VideoError::Undecodable("libav could not be initialised")) }
}

fn open(path: &Path, container: Container) -> Result<ff::format::context::Input, VideoError> {
    // `format_whitelist` holds libavformat to the demuxer the first bytes were sniffed as (a
    // playlist or concat script can never be opened), `protocol_whitelist` to the local file.
    let mut options = ff::Dictionary::new();
    options.set("protocol_whitelist", "file");
    options.set("format_whitelist", container.demuxer());
    ff::format::input_with_dictionary(path, options).map_err(undecodable)
}

fn rate(r: ff::Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0).then(|| f64::from(r.numerator()) / f64::from(r.denominator()))
}

/// Reads metadata from an opened input and checks the bounds that need no decoding.
fn describe(
    input: &ff::format::context::Input,
    container: Container,
    limits: &Limits,
) -> Result<(usize, VideoInfo), VideoError> {
    let stream =
        input.streams().find(|s| s.parameters().medium() == ff::media::Type::Video).ok_or(VideoError::NoVideoStream)?;
    let params = stream.parameters();
    let decoder = ff::codec::context::Context::from_parameters(params.clone())
        .and_then(|c| c.decoder().video())
        .map_err(|_| VideoError::NoVideoStream)?;
    let (w, h) = (u64::from(decoder.width()), u64::from(decoder.height()));
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
    let fps = rate(stream.avg_frame_rate()).or_else(|| rate(stream.rate())).unwrap_or(0.0);
    if !(fps > 0.0 && fps <= limits.max_frame_rate) {
        return Err(VideoError::BadFrameRate { fps, max: limits.max_frame_rate });
    }
    let tb = stream.time_base();
    let stream_s = (stream.duration() > 0 && tb.denominator() > 0)
        .then(|| stream.duration() as f64 * f64::from(tb.numerator()) / f64::from(tb.denominator()));
    let format_s = (input.duration() > 0).then(|| input.duration() as f64 / f64::from(ff::ffi::AV_TIME_BASE));
    let duration = [stream_s, format_s]
        .into_iter()
        .flatten()
        .filter(|d| d.is_finite() && *d >= 0.0)
        .fold(None, |acc: Option<f64>, d| Some(acc.map_or(d, |a| a.max(d))));
    if duration.is_some_and(|d| d > limits.max_duration_s) {
        return Err(VideoError::TooLong { max_s: limits.max_duration_s });
    }
    let mut encoder_tokens: Vec<&'static str> = Vec::new();
    for tags in [input.metadata(), stream.metadata()] {
        for (k, v) in tags.iter() {
            let k = k.to_ascii_lowercase();
            if matches!(k.as_str(), "encoder" | "handler_name" | "com.apple.quicktime.software" | "software") {
                let t = encoder_token(v);
                if !encoder_tokens.contains(&t) {
                    encoder_tokens.push(t);
                }
            }
        }
    }
    let codec = controlled_token(params.id().name(), 16);
    Ok((
        stream.index(),
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

/// Hashes a video file in-process; see the module documentation. `size`: the frames are scaled to
/// (width, height) before hashing, as the reference's `downsample_width/height` (`None`: coded size).
pub fn hash_file(
    path: &Path,
    sampling: &Sampling,
    limits: &Limits,
    size: Option<(u32, u32)>,
) -> Result<(HashedVideo, DecodeStats), VideoError> {
    let deadline = Instant::now() + limits.max_wall;
    let file_size = std::fs::metadata(path)?.len();
    if file_size > limits.max_bytes {
        return Err(VideoError::TooLarge { size: file_size, max: limits.max_bytes });
    }
    let mut head = Vec::with_capacity(376);
    std::io::Read::read_to_end(&mut std::io::Read::take(std::fs::File::open(path)?, 376), &mut head)?;
    let container = Container::sniff(&head).ok_or(VideoError::UnsupportedContainer)?;
    init()?;
    let mut input = open(path, container)?;
    let (index, info) = describe(&input, container, limits)?;
    let step = sampling.frame_step(info.frame_rate);
    let by_duration = (limits.max_duration_s * info.frame_rate / step as f64).ceil() as u64 + 1;
    let allowed = by_duration.min(limits.max_frames);
    let too_long = || {
        if allowed == limits.max_frames && allowed < by_duration {
            VideoError::TooLong { max_s: limits.max_frames as f64 * step as f64 / info.frame_rate }
        } else {
            VideoError::TooLong { max_s: limits.max_duration_s }
        }
    };
    let max_packets = allowed.saturating_mul(step).saturating_add(step);

    // Pass 1: presentation index of every packet, from its pts (demuxing only).
    let codec_ok = matches!(info.codec.as_str(), "h264" | "hevc");
    let container_ok = matches!(container, Container::Mp4 | Container::Matroska);
    let mut ranks: Option<HashMap<i64, u64>> = None;
    let mut packets = 0u64;
    if codec_ok && container_ok && step > 1 {
        let mut pts = Vec::new();
        let mut all_pts = true;
        for (stream, packet) in input.packets() {
            if stream.index() != index {
                continue;
            }
            packets += 1;
            if packets > max_packets {
                return Err(too_long());
            }
            if Instant::now() > deadline {
                return Err(VideoError::TimedOut(limits.max_wall));
            }
            match packet.pts() {
                Some(p) if all_pts => pts.push(p),
                _ => all_pts = false,
            }
        }
        if all_pts {
            pts.sort_unstable();
            let n = pts.len();
            pts.dedup();
            if pts.len() == n {
                ranks = Some(pts.into_iter().enumerate().map(|(i, p)| (p, i as u64)).collect());
            }
        }
        input = open(path, container)?;
    }
    let (sha256, md5) = file_digests(path)?;
    let out_size = size.unwrap_or((info.width, info.height));
    let mut stats = DecodeStats { packets, ..DecodeStats::default() };
    let run = |input: ff::format::context::Input, ranks: Option<&HashMap<i64, u64>>, stats: &mut DecodeStats| {
        decode(input, index, &info, step, allowed, max_packets, ranks, out_size, limits, deadline, stats)
    };
    let features = match ranks.as_ref() {
        Some(r) => match run(input, Some(r), &mut stats) {
            Ok(Some(f)) => {
                stats.skipped_nonref = true;
                f
            }
            Ok(None) => match run(open(path, container)?, None, &mut stats) {
                Ok(f) => f.ok_or(VideoError::Undecodable("decoding failed"))?,
                Err(Decode::TooLong) => return Err(too_long()),
                Err(Decode::Error(e)) => return Err(e),
            },
            Err(Decode::TooLong) => return Err(too_long()),
            Err(Decode::Error(e)) => return Err(e),
        },
        None => match run(input, None, &mut stats) {
            Ok(f) => f.ok_or(VideoError::Undecodable("decoding failed"))?,
            Err(Decode::TooLong) => return Err(too_long()),
            Err(Decode::Error(e)) => return Err(e),
        },
    };
    if features.is_empty() {
        return Err(VideoError::Undecodable("no frame could be decoded"));
    }
    let frames_hashed = features.len() as u64;
    let mut features = features;
    if let Some(d) = sampling.dedup_distance {
        dedup_consecutive(&mut features, d);
    }
    Ok((HashedVideo { info, features, frames_hashed, sha256, md5 }, stats))
}

enum Decode {
    TooLong,
    Error(VideoError),
}

impl From<VideoError> for Decode {
    fn from(e: VideoError) -> Self {
        Decode::Error(e)
    }
}

struct State {
    features: Vec<Feature>,
    decoded: u64,
    last: Option<u64>,
    consistent: bool,
}

struct Hasher {
    scaler: ff::software::scaling::Context,
    rgb: ff::frame::Video,
    buf: Vec<u8>,
    luma: Vec<f32>,
    size: (u32, u32),
}

impl Hasher {
    fn hash(&mut self, frame: &ff::frame::Video) -> Result<crate::PdqOutput, VideoError> {
        self.scaler.run(frame, &mut self.rgb).map_err(|_| VideoError::Undecodable("a frame changed size or format"))?;
        let (w, h) = (self.size.0 as usize, self.size.1 as usize);
        let stride = self.rgb.stride(0);
        let data = self.rgb.data(0);
        self.buf.clear();
        for y in 0..h {
            self.buf.extend_from_slice(&data[y * stride..y * stride + w * 3]);
        }
        Ok(hash_rgb_frame(w, h, &self.buf, &mut self.luma))
    }
}

/// One decoding pass. `ranks`: skip non-reference frames that are not sampled, using the
/// presentation index; `Ok(None)` when the decoder's output disagrees with that index (the caller
/// then decodes every frame). Without `ranks`, the index is the output count, as the reference's.
#[allow(clippy::too_many_arguments)]
fn decode(
    mut input: ff::format::context::Input,
    index: usize,
    info: &VideoInfo,
    step: u64,
    allowed: u64,
    max_packets: u64,
    ranks: Option<&HashMap<i64, u64>>,
    size: (u32, u32),
    limits: &Limits,
    deadline: Instant,
    stats: &mut DecodeStats,
) -> Result<Option<Vec<Feature>>, Decode> {
    let stream = input.stream(index).ok_or(VideoError::NoVideoStream)?;
    let mut context = ff::codec::context::Context::from_parameters(stream.parameters()).map_err(undecodable)?;
    if limits.threads != 1 {
        context.set_threading(ff::codec::threading::Config {
            kind: ff::codec::threading::Type::Frame,
            count: limits.threads as usize,
            ..Default::default()
        });
    }
    let mut decoder = context.decoder().video().map_err(|_| VideoError::NoVideoStream)?;
    let (cw, ch) = (decoder.width(), decoder.height());
    if (cw, ch) != (info.width, info.height) {
        return Err(VideoError::Undecodable("the stream's size is inconsistent").into());
    }
    let scaler = ff::software::scaling::Context::get(
        decoder.format(),
        cw,
        ch,
        ff::format::Pixel::RGB24,
        size.0,
        size.1,
        ff::software::scaling::Flags::AREA,
    )
    .map_err(|_| VideoError::Undecodable("unsupported pixel format"))?;
    let mut hasher = Hasher { scaler, rgb: ff::frame::Video::empty(), buf: Vec::new(), luma: Vec::new(), size };
    let mut frame = ff::frame::Video::empty();
    let mut st = State { features: Vec::new(), decoded: 0, last: None, consistent: true };
    let (mut packets, mut sampled_sent) = (0u64, 0u64);
    let mut drain = |decoder: &mut ff::decoder::Video, st: &mut State| -> Result<(), Decode> {
        while decoder.receive_frame(&mut frame).is_ok() {
            let n = match ranks {
                Some(r) => match frame.pts().and_then(|p| r.get(&p)) {
                    Some(&n) if st.last.is_none_or(|l| n > l) => n,
                    _ => {
                        st.consistent = false;
                        return Ok(());
                    }
                },
                None => st.decoded,
            };
            st.decoded += 1;
            st.last = Some(n);
            if n % step != 0 {
                continue;
            }
            if st.features.len() as u64 == allowed {
                return Err(Decode::TooLong);
            }
            let out = hasher.hash(&frame)?;
            st.features.push(Feature {
                frame_number: n,
                quality: out.quality,
                hash: out.hash,
                timestamp: timestamp(n, info.frame_rate),
            });
        }
        Ok(())
    };
    for (s, packet) in input.packets() {
        if s.index() != index {
            continue;
        }
        packets += 1;
        if packets > max_packets {
            return Err(Decode::TooLong);
        }
        if Instant::now() > deadline {
            return Err(VideoError::TimedOut(limits.max_wall).into());
        }
        if let Some(r) = ranks {
            let sampled = packet.pts().and_then(|p| r.get(&p)).is_some_and(|n| n % step == 0);
            sampled_sent += u64::from(sampled);
            decoder.skip_frame(if sampled { ff::Discard::Default } else { ff::Discard::NonReference });
        }
        // A packet the decoder refuses is an error in the reference too.
        decoder.send_packet(&packet).map_err(undecodable)?;
        drain(&mut decoder, &mut st)?;
        if !st.consistent {
            return Ok(None);
        }
    }
    decoder.send_eof().map_err(undecodable)?;
    drain(&mut decoder, &mut st)?;
    stats.frames_decoded = st.decoded;
    stats.packets = packets;
    if !st.consistent || (ranks.is_some() && st.features.len() as u64 != sampled_sent) {
        return Ok(None);
    }
    Ok(Some(st.features))
}

/// [`hash_file`] for bytes (an upload): written to a private temporary file first.
pub fn hash_bytes(
    bytes: &[u8],
    sampling: &Sampling,
    limits: &Limits,
) -> Result<(HashedVideo, DecodeStats), VideoError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(VideoError::TooLarge { size: bytes.len() as u64, max: limits.max_bytes });
    }
    if Container::sniff(&bytes[..bytes.len().min(376)]).is_none() {
        return Err(VideoError::UnsupportedContainer);
    }
    let mut file = tempfile::NamedTempFile::new()?;
    std::io::Write::write_all(&mut file, bytes)?;
    std::io::Write::flush(&mut file)?;
    hash_file(file.path(), sampling, limits, None)
}
