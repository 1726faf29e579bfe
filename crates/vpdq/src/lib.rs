//! staydown-vpdq: vPDQ, the video form of PDQ, compatible with Meta's ThreatExchange `vpdq`
//! (the C++ tool and its PyPI binding `vpdq`, as used by HMA and python-threatexchange).
//!
//! Issue 17. A vPDQ hash is a list of [`Feature`]s, one per sampled frame: the frame's index in
//! decoding order, its PDQ quality (0–100), its PDQ hash and its timestamp in seconds. This crate
//! owns:
//!
//! - **frame hashing** ([`hash_rgb_frame`]): RGB24 pixels → luminance the way the reference's
//!   `fillFloatLumaFromRGB` computes it (f32 coefficients 0.299/0.587/0.114, summed in f32) →
//!   `staydown-pdq` (bit-exact with the reference PDQ core on the same luminance);
//! - **sampling** ([`Sampling`]): the reference keeps decoded frame `n` when
//!   `n % max(1, trunc(seconds_per_hash · fps)) == 0` (one frame per second by default) and stamps
//!   it `n / fps` (f32); optional dropping of near-identical consecutive frames is ours;
//! - **the file format** ([`to_vpdq_file`], [`parse_vpdq_file`]): one line per frame,
//!   `frame_number,quality,pdq_hex,timestamp` with the timestamp to three decimals, as the
//!   reference's `vpdqio` writes it (three-field lines of older tools are read too);
//! - **matching** ([`matching`]): the reference's two percentages (query frames found in the
//!   target, target frames found in the query), after its quality filter;
//! - **decoding** ([`decode`]): the Debian `ffmpeg`/`ffprobe` binaries as bounded subprocesses
//!   (bytes, duration, resolution, frame rate, frame count, wall time and address space bounded,
//!   the child killed on timeout), frames converted the way the reference converts them
//!   (swscale `SWS_AREA` to RGB24 at the coded size).
//!
//! No `unsafe`, no FFI: the decoder is a separate process, so a decoder bug cannot corrupt this one.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod child;
pub mod decode;
#[cfg(feature = "libav")]
pub mod libav;
pub mod matching;

use std::fmt;

pub use staydown_pdq::{PdqHash, PdqOutput};

/// One hashed frame of a video.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Feature {
    /// Index of the frame in decoding order, from 0 (the reference's `frameNumber`).
    pub frame_number: u64,
    /// PDQ quality 0–100.
    pub quality: u8,
    /// PDQ hash of the frame.
    pub hash: PdqHash,
    /// `frame_number / fps` in seconds, as the reference computes it (f32).
    pub timestamp: f64,
}

/// How frames are picked from the decoded stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// Seconds between hashed frames (reference default 1.0; 0 hashes every frame).
    pub seconds_per_hash: f64,
    /// When set, a frame whose hash is within this Hamming distance of the previous *kept* frame
    /// is dropped (a static scene then costs one hash). `None` keeps every sampled frame, as the
    /// reference does.
    pub dedup_distance: Option<u32>,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling { seconds_per_hash: 1.0, dedup_distance: None }
    }
}

impl Sampling {
    /// The reference's frame step: `trunc(seconds_per_hash · fps)`, at least 1.
    pub fn frame_step(&self, fps: f64) -> u64 {
        let step = (self.seconds_per_hash * fps) as i64;
        if step <= 0 { 1 } else { step as u64 }
    }
}

/// The reference's timestamp of frame `n` at `fps` frames per second (f32 arithmetic).
pub fn timestamp(frame_number: u64, fps: f64) -> f64 {
    f64::from(frame_number as f32 / fps as f32)
}

/// Hashes one RGB24 frame (`width × height × 3` bytes, rows packed) as the reference's
/// `PDQFrameBufferHasher` does. `luma` is scratch space reused between frames.
///
/// Frames with a side under [`staydown_pdq::MIN_DIMENSION`] get the zero hash and quality 0.
///
/// # Panics
/// If `rgb` is shorter than `width × height × 3`.
pub fn hash_rgb_frame(width: usize, height: usize, rgb: &[u8], luma: &mut Vec<f32>) -> PdqOutput {
    hash_rgb_rows(width, height, rgb, width * 3, luma)
}

/// [`hash_rgb_frame`] for a frame whose rows start `stride` bytes apart (`stride ≥ width × 3`), as
/// decoders lay them out; the padding between rows is not read.
///
/// # Panics
/// If `stride < width × 3` or `rgb` is shorter than `(height − 1) × stride + width × 3`.
pub fn hash_rgb_rows(width: usize, height: usize, rgb: &[u8], stride: usize, luma: &mut Vec<f32>) -> PdqOutput {
    assert!(stride >= width * 3, "stride {stride} under width × 3");
    // Every element is written below: no need to clear what the previous frame left.
    luma.resize(width * height, 0.0);
    if width > 0 {
        for (y, out) in luma.chunks_exact_mut(width).enumerate() {
            let row = &rgb[y * stride..y * stride + width * 3];
            for (l, p) in out.iter_mut().zip(row.chunks_exact(3)) {
                // The reference: `float yval = 0.299f * R + 0.587f * G + 0.114f * B;` evaluated left to right.
                *l = 0.299f32 * f32::from(p[0]) + 0.587f32 * f32::from(p[1]) + 0.114f32 * f32::from(p[2]);
            }
        }
    }
    match staydown_pdq::ImageRef::luma_f32(width, height, luma) {
        Ok(image) => staydown_pdq::hash(&image),
        Err(_) => PdqOutput { hash: PdqHash::default(), quality: 0 },
    }
}

/// Drops frames within `distance` of the previous kept frame (see [`Sampling::dedup_distance`]).
pub fn dedup_consecutive(features: &mut Vec<Feature>, distance: u32) {
    let mut last: Option<PdqHash> = None;
    features.retain(|f| {
        let keep = last.is_none_or(|l| l.hamming_distance(&f.hash) > distance);
        if keep {
            last = Some(f.hash);
        }
        keep
    });
}

/// Writes features in the reference's vPDQ file format: one line per frame,
/// `frame_number,quality,pdq_hex,timestamp` (timestamp with three decimals), `\n`-terminated.
pub fn to_vpdq_file(features: &[Feature]) -> String {
    let mut out = String::with_capacity(features.len() * 84);
    for f in features {
        use fmt::Write;
        let _ = writeln!(out, "{},{},{},{:.3}", f.frame_number, f.quality, f.hash.to_hex(), f.timestamp);
    }
    out
}

/// Why a vPDQ file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// A line is not `frame_number,quality,pdq_hex[,timestamp]`.
    #[error("line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More frames than the caller allows.
    #[error("more than {max} frames")]
    TooManyFrames {
        /// The bound.
        max: usize,
    },
    /// No frame at all.
    #[error("no frame hashes")]
    Empty,
}

/// Reads a vPDQ file (the format [`to_vpdq_file`] writes; lines without a timestamp, as older
/// reference tools wrote them, get timestamp 0). Blank lines are skipped; at most `max_frames`.
pub fn parse_vpdq_file(text: &str, max_frames: usize) -> Result<Vec<Feature>, FormatError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if out.len() == max_frames {
            return Err(FormatError::TooManyFrames { max: max_frames });
        }
        let bad = |reason| FormatError::BadLine { line: i + 1, reason };
        let mut parts = line.split(',');
        let frame_number = parts.next().and_then(|p| p.trim().parse::<u64>().ok()).ok_or(bad("bad frame number"))?;
        let quality = parts
            .next()
            .and_then(|p| p.trim().parse::<u8>().ok())
            .filter(|q| *q <= 100)
            .ok_or(bad("quality must be 0-100"))?;
        let hash = parts
            .next()
            .and_then(|p| p.trim().parse::<PdqHash>().ok())
            .ok_or(bad("PDQ hash must be 64 hexadecimal digits"))?;
        let timestamp = match parts.next() {
            None => 0.0,
            Some(p) => {
                p.trim().parse::<f64>().ok().filter(|t| t.is_finite() && *t >= 0.0).ok_or(bad("bad timestamp"))?
            }
        };
        if parts.next().is_some() {
            return Err(bad("too many fields"));
        }
        out.push(Feature { frame_number, quality, hash, timestamp });
    }
    if out.is_empty() {
        return Err(FormatError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_round_trips_and_rejects_garbage() {
        let text = "0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000\n\
                    30,87,c0f11178372c6aaccddea259648fbfd62f434c89c9e99b249772be216c8d055c,1.001\n";
        let f = parse_vpdq_file(text, 10).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].frame_number, 30);
        assert_eq!(f[1].quality, 87);
        assert_eq!(to_vpdq_file(&f), text);
        assert_eq!(parse_vpdq_file(text, 1), Err(FormatError::TooManyFrames { max: 1 }));
        assert!(matches!(parse_vpdq_file("0,101,00,0.0", 9), Err(FormatError::BadLine { line: 1, .. })));
        assert!(matches!(parse_vpdq_file("x", 9), Err(FormatError::BadLine { .. })));
        assert_eq!(parse_vpdq_file("\n\n", 9), Err(FormatError::Empty));
        // Three-field lines of older tools.
        let old = parse_vpdq_file("5,90,c0f11178372c6aaccddea259648fbfd62f434c89c9e99b249772be216c8d055c", 9).unwrap();
        assert_eq!(old[0].timestamp, 0.0);
    }

    #[test]
    fn frame_step_is_the_references() {
        let s = Sampling::default();
        assert_eq!(s.frame_step(29.97), 29);
        assert_eq!(s.frame_step(0.5), 1);
        assert_eq!(Sampling { seconds_per_hash: 0.0, dedup_distance: None }.frame_step(30.0), 1);
        assert_eq!(format!("{:.3}", timestamp(1, 30.0)), "0.033");
    }

    #[test]
    fn dedup_keeps_changes() {
        let a = PdqHash::default();
        let mut b_bytes = [0u8; 32];
        b_bytes[..8].fill(0xff);
        let b = PdqHash::from_bytes(b_bytes);
        let f = |n, hash| Feature { frame_number: n, quality: 100, hash, timestamp: 0.0 };
        let mut v = vec![f(0, a), f(1, a), f(2, b), f(3, b), f(4, a)];
        dedup_consecutive(&mut v, 10);
        assert_eq!(v.iter().map(|f| f.frame_number).collect::<Vec<_>>(), vec![0, 2, 4]);
    }
}
