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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ffmpeg_next as ff;

use crate::decode::{
    Container, HashedVideo, Limits, VideoError, VideoInfo, controlled_token, encoder_token, file_digests,
};
use crate::{Feature, Sampling, dedup_consecutive, hash_rgb_rows, timestamp};

/// How a file was decoded (for benchmarks and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Packets of the video stream.
    pub packets: u64,
    /// Frames the decoders produced (all of them on the every-frame path).
    pub frames_decoded: u64,
    /// Whether non-reference frames that are not sampled were skipped.
    pub skipped_nonref: bool,
    /// Independently decodable segments the stream was cut into (1 when it was decoded in one
    /// piece; 0 on the every-frame path).
    pub segments: u64,
    /// Threads that decoded segments side by side.
    pub workers: u64,
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

/// What the demux-only pass learns of one packet of the video stream (in decode order).
#[derive(Clone, Copy, Debug)]
struct PacketMeta {
    pts: i64,
    /// The packet is an IDR access unit: the decoder's state is reset there.
    idr: bool,
}

/// A run of packets (decode order, `start..end`) that decodes on a fresh decoder exactly as it
/// does after everything before it: it begins at an IDR picture and no frame of it is presented
/// before a frame of an earlier run (and none after a later one's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    start: usize,
    end: usize,
    /// One past the last sampled packet: nothing after it in the segment feeds a sampled frame
    /// (a picture refers only to pictures decoded before it), so it is not sent. `start` when the
    /// segment holds no sampled frame.
    send_end: usize,
    /// Sampled frames in the segment.
    sampled: u64,
}

/// Segments shorter than this (in packets) are joined to the one before: a decoder per few frames
/// costs more than it saves (all-intra streams would otherwise make one segment per frame).
const MIN_SEGMENT_PACKETS: usize = 48;

/// Where the stream may be cut: at packet `i` when it is an IDR picture and every packet before it
/// is presented before every packet from it on. `sampled[i]`: packet `i`'s frame is hashed.
fn segments(meta: &[PacketMeta], sampled: &[bool]) -> Vec<Segment> {
    let n = meta.len();
    let mut suffix_min = vec![i64::MAX; n + 1];
    for i in (0..n).rev() {
        suffix_min[i] = suffix_min[i + 1].min(meta[i].pts);
    }
    let mut cuts = vec![0];
    let mut prefix_max = i64::MIN;
    for i in 0..n {
        if i > 0 && meta[i].idr && prefix_max < suffix_min[i] && i - cuts[cuts.len() - 1] >= MIN_SEGMENT_PACKETS {
            cuts.push(i);
        }
        prefix_max = prefix_max.max(meta[i].pts);
    }
    cuts.push(n);
    cuts.windows(2)
        .map(|w| {
            let (start, end) = (w[0], w[1]);
            let last = (start..end).rev().find(|&i| sampled[i]);
            Segment {
                start,
                end,
                send_end: last.map_or(start, |i| i + 1),
                sampled: sampled[start..end].iter().filter(|&&s| s).count() as u64,
            }
        })
        .collect()
}

/// Whether an H.264 or HEVC packet holds an IDR picture: H.264 `nal_unit_type` 5, HEVC 19 or 20
/// (IDR_W_RADL, IDR_N_LP). CRA and other random-access points are not IDR: pictures after them may
/// refer to pictures before them. The packet must be NAL units with 4-byte big-endian lengths (as
/// MP4 and Matroska carry them, ISO/IEC 14496-15, with the usual `lengthSizeMinusOne = 3`) that
/// cover it exactly; any other packet counts as not IDR, so the stream is simply not cut there.
fn is_idr(data: &[u8], hevc: bool) -> bool {
    let mut pos = 0usize;
    let mut idr = false;
    while pos < data.len() {
        let Some(len) = data.get(pos..pos + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize) else {
            return false;
        };
        pos += 4;
        if len == 0 || len > data.len() - pos || data[pos] & 0x80 != 0 {
            return false;
        }
        let header = data[pos];
        idr |= if hevc { matches!((header >> 1) & 0x3f, 19 | 20) } else { header & 0x1f == 5 };
        pos += len;
    }
    idr
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
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers_wanted = if limits.threads == 0 { cores } else { limits.threads as usize };

    std::thread::scope(|scope| {
        // The file's digests are read beside the decoding.
        let digests = scope.spawn(|| file_digests(path));
        let result = (|| {
            // Pass 1: presentation index of every packet, from its pts (demuxing only).
            let codec_ok = matches!(info.codec.as_str(), "h264" | "hevc");
            let container_ok = matches!(container, Container::Mp4 | Container::Matroska);
            let mut plan: Option<(HashMap<i64, u64>, Vec<Segment>)> = None;
            let mut packets = 0u64;
            if codec_ok && container_ok && step > 1 {
                let hevc = info.codec == "hevc";
                let mut meta = Vec::new();
                let mut all_pts = true;
                while let Some(packet) = read_packet(&mut input, deadline, limits)? {
                    if packet.stream() != index {
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
                        Some(pts) if all_pts => meta.push(PacketMeta {
                            pts,
                            idr: packet.is_key() && packet.data().is_some_and(|d| is_idr(d, hevc)),
                        }),
                        _ => all_pts = false,
                    }
                }
                if all_pts {
                    let mut pts: Vec<i64> = meta.iter().map(|m| m.pts).collect();
                    pts.sort_unstable();
                    let n = pts.len();
                    pts.dedup();
                    if pts.len() == n {
                        let ranks: HashMap<i64, u64> =
                            pts.into_iter().enumerate().map(|(i, p)| (p, i as u64)).collect();
                        let sampled: Vec<bool> = meta.iter().map(|m| ranks[&m.pts].is_multiple_of(step)).collect();
                        if sampled.iter().filter(|&&s| s).count() as u64 > allowed {
                            return Err(too_long());
                        }
                        plan = Some((ranks, segments(&meta, &sampled)));
                    }
                }
            }
            let out_size = size.unwrap_or((info.width, info.height));
            let job =
                Job { path, container, index, info: &info, step, allowed, max_packets, out_size, limits, deadline };
            let mut stats = DecodeStats { packets, ..DecodeStats::default() };
            if let Some((ranks, segs)) = &plan {
                match job.segmented(ranks, segs, workers_wanted, &mut stats) {
                    Ok(Some(f)) => return Ok((f, stats)),
                    Ok(None) => {}
                    Err(Decode::TooLong) => return Err(too_long()),
                    Err(Decode::Error(e)) => return Err(e),
                }
                stats = DecodeStats { packets, ..DecodeStats::default() };
            }
            match job.every_frame(&mut stats) {
                Ok(f) => Ok((f, stats)),
                Err(Decode::TooLong) => Err(too_long()),
                Err(Decode::Error(e)) => Err(e),
            }
        })();
        let digests = digests.join().map_err(|_| VideoError::Undecodable("the file could not be read"))?;
        let (mut features, stats) = result?;
        let (sha256, md5) = digests?;
        if features.is_empty() {
            return Err(VideoError::Undecodable("no frame could be decoded"));
        }
        let frames_hashed = features.len() as u64;
        if let Some(d) = sampling.dedup_distance {
            dedup_consecutive(&mut features, d);
        }
        Ok((HashedVideo { info: info.clone(), features, frames_hashed, sha256, md5 }, stats))
    })
}

/// The next packet of any stream; `None` at the end of the file or at the first read error, as the
/// reference's `while (av_read_frame(…) >= 0)` loop ends (`ffmpeg-next`'s own packet iterator
/// retries a failing read forever: fuzzing found a file whose reads fail with ENOMEM each time).
/// The deadline is checked before each read, whatever stream the packets belong to.
fn read_packet(
    input: &mut ff::format::context::Input,
    deadline: Instant,
    limits: &Limits,
) -> Result<Option<ff::Packet>, VideoError> {
    if Instant::now() > deadline {
        return Err(VideoError::TimedOut(limits.max_wall));
    }
    let mut packet = ff::Packet::empty();
    Ok(packet.read(input).ok().map(|()| packet))
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

struct Hasher {
    scaler: ff::software::scaling::Context,
    rgb: ff::frame::Video,
    luma: Vec<f32>,
    size: (u32, u32),
}

impl Hasher {
    /// A converter for frames like `frame` (made from the first decoded frame: the decoder's own
    /// format is not known before it, and swscale aborts the process on a format it cannot read).
    fn for_frame(frame: &ff::frame::Video, coded: (u32, u32), size: (u32, u32)) -> Result<Hasher, VideoError> {
        let format = frame.format();
        if format == ff::format::Pixel::None || !ff::software::scaling::support::input(format) {
            return Err(VideoError::Undecodable("unsupported pixel format"));
        }
        if (frame.width(), frame.height()) != coded {
            return Err(VideoError::Undecodable("a frame changed size or format"));
        }
        let scaler = ff::software::scaling::Context::get(
            format,
            coded.0,
            coded.1,
            ff::format::Pixel::RGB24,
            size.0,
            size.1,
            ff::software::scaling::Flags::AREA,
        )
        .map_err(|_| VideoError::Undecodable("unsupported pixel format"))?;
        Ok(Hasher { scaler, rgb: ff::frame::Video::empty(), luma: Vec::new(), size })
    }

    fn hash(&mut self, frame: &ff::frame::Video) -> Result<crate::PdqOutput, VideoError> {
        self.scaler.run(frame, &mut self.rgb).map_err(|_| VideoError::Undecodable("a frame changed size or format"))?;
        let (w, h) = (self.size.0 as usize, self.size.1 as usize);
        Ok(hash_rgb_rows(w, h, self.rgb.data(0), self.rgb.stride(0), &mut self.luma))
    }
}

/// What every decoding pass of one file shares.
struct Job<'a> {
    path: &'a Path,
    container: Container,
    index: usize,
    info: &'a VideoInfo,
    step: u64,
    allowed: u64,
    max_packets: u64,
    out_size: (u32, u32),
    limits: &'a Limits,
    deadline: Instant,
}

/// A decoder for the stream and the converter of its frames to the hashed RGB size.
struct FrameDecoder {
    decoder: ff::decoder::Video,
    /// Made at the first frame to hash.
    hasher: Option<Hasher>,
    frame: ff::frame::Video,
}

impl FrameDecoder {
    fn hash(&mut self, coded: (u32, u32), size: (u32, u32)) -> Result<crate::PdqOutput, VideoError> {
        let hasher = match &mut self.hasher {
            Some(h) => h,
            None => self.hasher.insert(Hasher::for_frame(&self.frame, coded, size)?),
        };
        hasher.hash(&self.frame)
    }
}

impl Job<'_> {
    fn parameters(&self, input: &ff::format::context::Input) -> Result<ff::codec::Parameters, Decode> {
        Ok(input.stream(self.index).ok_or(VideoError::NoVideoStream)?.parameters())
    }

    fn decoder(&self, params: &ff::codec::Parameters, threads: u32) -> Result<FrameDecoder, Decode> {
        let mut context = ff::codec::context::Context::from_parameters(params.clone()).map_err(undecodable)?;
        if threads != 1 {
            context.set_threading(ff::codec::threading::Config {
                kind: ff::codec::threading::Type::Frame,
                count: threads as usize,
                ..Default::default()
            });
        }
        let decoder = context.decoder().video().map_err(|_| VideoError::NoVideoStream)?;
        if (decoder.width(), decoder.height()) != (self.info.width, self.info.height) {
            return Err(VideoError::Undecodable("the stream's size is inconsistent").into());
        }
        Ok(FrameDecoder { decoder, hasher: None, frame: ff::frame::Video::empty() })
    }

    fn feature(&self, n: u64, out: crate::PdqOutput) -> Feature {
        Feature { frame_number: n, quality: out.quality, hash: out.hash, timestamp: timestamp(n, self.info.frame_rate) }
    }

    fn check_packet(&self, packets: &mut u64) -> Result<(), Decode> {
        *packets += 1;
        if *packets > self.max_packets {
            return Err(Decode::TooLong);
        }
        if Instant::now() > self.deadline {
            return Err(VideoError::TimedOut(self.limits.max_wall).into());
        }
        Ok(())
    }

    /// Every frame decoded and counted as the reference counts them (the decoder's output order).
    fn every_frame(&self, stats: &mut DecodeStats) -> Result<Vec<Feature>, Decode> {
        let mut input = open(self.path, self.container)?;
        let params = self.parameters(&input)?;
        let mut d = self.decoder(&params, self.limits.threads)?;
        let mut features = Vec::new();
        let (mut decoded, mut packets) = (0u64, 0u64);
        let mut drain = |d: &mut FrameDecoder, features: &mut Vec<Feature>| -> Result<(), Decode> {
            while d.decoder.receive_frame(&mut d.frame).is_ok() {
                let n = decoded;
                decoded += 1;
                if !n.is_multiple_of(self.step) {
                    continue;
                }
                if features.len() as u64 == self.allowed {
                    return Err(Decode::TooLong);
                }
                let out = d.hash((self.info.width, self.info.height), self.out_size)?;
                features.push(self.feature(n, out));
            }
            Ok(())
        };
        while let Some(packet) = read_packet(&mut input, self.deadline, self.limits)? {
            if packet.stream() != self.index {
                continue;
            }
            self.check_packet(&mut packets)?;
            // A packet the decoder refuses is an error in the reference too.
            d.decoder.send_packet(&packet).map_err(undecodable)?;
            drain(&mut d, &mut features)?;
        }
        d.decoder.send_eof().map_err(undecodable)?;
        drain(&mut d, &mut features)?;
        stats.frames_decoded = decoded;
        stats.packets = packets;
        Ok(features)
    }

    /// Decodes the segments on up to `workers` threads, each claiming the next segment in file
    /// order and decoding it on a fresh decoder, skipping unsampled non-reference pictures and
    /// everything after a segment's last sampled picture. `Ok(None)` when some decoder's output
    /// disagrees with the presentation index (the caller then decodes every frame).
    fn segmented(
        &self,
        ranks: &HashMap<i64, u64>,
        segs: &[Segment],
        workers: usize,
        stats: &mut DecodeStats,
    ) -> Result<Option<Vec<Feature>>, Decode> {
        let busy = segs.iter().filter(|s| s.sampled > 0).count();
        let workers = workers.clamp(1, busy.max(1));
        // Side by side, one thread per decoder; but the last segments (one per worker) get the
        // codec's frame threads too, so that a core whose worker has run out of segments helps
        // finish the others. One worker on one segment keeps them throughout.
        let threads = if workers == 1 && busy <= 1 { self.limits.threads } else { 1 };
        let tail_from =
            segs.iter().enumerate().filter(|(_, s)| s.sampled > 0).map(|(i, _)| i).rev().nth(workers - 1).unwrap_or(0);
        let threads = |i: usize| if i >= tail_from { self.limits.threads } else { threads };
        let next = AtomicUsize::new(0);
        let results: Vec<Result<Option<Worked>, Decode>> = std::thread::scope(|scope| {
            let handles: Vec<_> =
                (0..workers).map(|_| scope.spawn(|| self.segment_worker(ranks, segs, &next, &threads))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Err(Decode::Error(VideoError::Undecodable("a decoder thread failed")))))
                .collect()
        });
        let mut by_segment: Vec<Option<Vec<Feature>>> = vec![None; segs.len()];
        let mut decoded = 0u64;
        for r in results {
            let Some(worked) = r? else { return Ok(None) };
            decoded += worked.decoded;
            for (i, f) in worked.segments {
                by_segment[i] = Some(f);
            }
        }
        let mut features = Vec::new();
        for (seg, f) in segs.iter().zip(by_segment) {
            let f = f.unwrap_or_default();
            if f.len() as u64 != seg.sampled {
                return Ok(None);
            }
            features.extend(f);
        }
        if features.windows(2).any(|w| w[0].frame_number >= w[1].frame_number) {
            return Ok(None);
        }
        *stats = DecodeStats {
            packets: stats.packets,
            frames_decoded: decoded,
            skipped_nonref: true,
            segments: segs.len() as u64,
            workers: workers as u64,
        };
        Ok(Some(features))
    }

    fn segment_worker(
        &self,
        ranks: &HashMap<i64, u64>,
        segs: &[Segment],
        next: &AtomicUsize,
        threads: &dyn Fn(usize) -> u32,
    ) -> Result<Option<Worked>, Decode> {
        let mut input = open(self.path, self.container)?;
        let params = self.parameters(&input)?;
        let mut worked = Worked { segments: Vec::new(), decoded: 0 };
        let (index, deadline, limits) = (self.index, self.deadline, self.limits);
        let mut packets = std::iter::from_fn(|| read_packet(&mut input, deadline, limits).transpose())
            .filter(|p| p.as_ref().map_or(true, |p| p.stream() == index))
            .enumerate();
        let mut counted = 0u64;
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(seg) = segs.get(i) else { break };
            if seg.sampled == 0 {
                worked.segments.push((i, Vec::new()));
                continue;
            }
            let mut d = self.decoder(&params, threads(i))?;
            let mut features = Vec::new();
            let mut last: Option<u64> = None;
            let mut sent_sampled = 0u64;
            let mut drain =
                |d: &mut FrameDecoder, features: &mut Vec<Feature>, decoded: &mut u64| -> Result<bool, Decode> {
                    while d.decoder.receive_frame(&mut d.frame).is_ok() {
                        let n = match d.frame.pts().and_then(|p| ranks.get(&p)) {
                            Some(&n) if last.is_none_or(|l| n > l) => n,
                            _ => return Ok(false),
                        };
                        *decoded += 1;
                        last = Some(n);
                        if !n.is_multiple_of(self.step) {
                            continue;
                        }
                        let out = d.hash((self.info.width, self.info.height), self.out_size)?;
                        features.push(self.feature(n, out));
                    }
                    Ok(true)
                };
            for (k, packet) in packets.by_ref() {
                let packet = packet?;
                self.check_packet(&mut counted)?;
                if k < seg.start {
                    continue;
                }
                let sampled = packet.pts().and_then(|p| ranks.get(&p)).is_some_and(|n| n.is_multiple_of(self.step));
                sent_sampled += u64::from(sampled);
                d.decoder.skip_frame(if sampled { ff::Discard::Default } else { ff::Discard::NonReference });
                d.decoder.send_packet(&packet).map_err(undecodable)?;
                if !drain(&mut d, &mut features, &mut worked.decoded)? {
                    return Ok(None);
                }
                if k + 1 == seg.send_end {
                    break;
                }
            }
            d.decoder.send_eof().map_err(undecodable)?;
            if !drain(&mut d, &mut features, &mut worked.decoded)? || sent_sampled != seg.sampled {
                return Ok(None);
            }
            worked.segments.push((i, features));
        }
        Ok(Some(worked))
    }
}

/// What one segment worker decoded: features per segment index, frames the decoders produced.
struct Worked {
    segments: Vec<(usize, Vec<Feature>)>,
    decoded: u64,
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
