//! staydown-pdq: Meta's PDQ perceptual image hash, bit-exact with the reference C++ core.
//!
//! Implements `specs/pdq.md` (the conformance target and the algorithm outline): decoded pixels in,
//! a 256-bit [`PdqHash`] and an integer quality 0–100 out, identical to what the PyPI `pdqhash`
//! package (a binding of Meta's C++ core, used by HMA and python-threatexchange) returns for the
//! same pixels. The eight dihedral variants (rotations and flips) come from the same DCT, and
//! [`PdqHash::hamming_distance`] compares hashes.
//!
//! The crate is pure: it takes pixels, does no I/O, has no decoder and no dependencies, forbids
//! `unsafe`, and builds for `wasm32-unknown-unknown` (the public notice form hashes in the browser
//! with this same code). Decoding untrusted bytes is `staydown-media`'s job.
//!
//! Being bit-exact means reproducing the reference's float operations one for one: luminance is
//! what numpy's f64 arithmetic rounded to f32 gives (the binding computes it with numpy), the box
//! filters add the
//! entering value before subtracting the leaving one, the DCT sums products in order. Speed comes
//! from scheduling those same operations better (see the `downsample` module), never from changing
//! them.
//!
//! ```
//! use staydown_pdq::{hash, ImageRef};
//! let (width, height) = (64, 48);
//! let rgb: Vec<u8> = (0..width * height * 3).map(|i| (i * 7 % 251) as u8).collect();
//! let out = hash(&ImageRef::rgb8(width, height, &rgb)?);
//! assert_eq!(out.hash.to_hex().len(), 64);
//! assert!(out.quality <= 100);
//! # Ok::<(), staydown_pdq::PdqError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod dct;
mod downsample;
mod hash;
#[cfg(test)]
mod naive;
pub mod reference;
#[cfg(test)]
mod tests;

use std::fmt;

use dct::Dihedral;
use downsample::LumaSource;

pub use hash::{ParseHashError, PdqHash};

/// Images with a side shorter than this get the zero hash and quality 0, as in the reference.
pub const MIN_DIMENSION: usize = 5;

/// Hashes with a quality below this are unreliable (flat or near-empty images) and should not be
/// matched or banked (`specs/pdq.md`, step 5).
pub const MIN_USEFUL_QUALITY: u8 = 50;

/// The field's default match threshold in Hamming distance (python-threatexchange's default).
pub const DEFAULT_MATCH_THRESHOLD: u32 = 31;

/// A PDQ hash with the quality score the reference reports for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PdqOutput {
    /// The 256-bit hash.
    pub hash: PdqHash,
    /// Quality 0–100; below [`MIN_USEFUL_QUALITY`] the hash should not be relied on.
    pub quality: u8,
}

/// The hashes of the eight rotations and flips of one image, computed from a single DCT.
///
/// Each field is the hash the reference gives for the transformed image's pixels (up to rounding:
/// see the crate tests). Names follow the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DihedralHashes {
    /// The image as given.
    pub original: PdqHash,
    /// Rotated 90° counter-clockwise.
    pub rotate90: PdqHash,
    /// Rotated 180°.
    pub rotate180: PdqHash,
    /// Rotated 270° counter-clockwise (90° clockwise).
    pub rotate270: PdqHash,
    /// Mirrored top to bottom.
    pub flip_x: PdqHash,
    /// Mirrored left to right.
    pub flip_y: PdqHash,
    /// Transposed (mirrored about the main diagonal).
    pub flip_plus1: PdqHash,
    /// Mirrored about the anti-diagonal.
    pub flip_minus1: PdqHash,
}

/// Names of the eight dihedral transforms, in [`DihedralHashes::to_array`] order: what the image
/// was turned into before hashing. Stable wire names (the screening answer uses them).
pub const DIHEDRAL_NAMES: [&str; 8] =
    ["original", "rotate90", "rotate180", "rotate270", "flip_x", "flip_y", "flip_plus1", "flip_minus1"];

impl DihedralHashes {
    /// The eight hashes in the reference's order (original, rotate 90/180/270, flip x/y, flip
    /// plus-1, flip minus-1).
    pub fn to_array(&self) -> [PdqHash; 8] {
        [
            self.original,
            self.rotate90,
            self.rotate180,
            self.rotate270,
            self.flip_x,
            self.flip_y,
            self.flip_plus1,
            self.flip_minus1,
        ]
    }

    /// The smallest Hamming distance between `other` and any of the eight variants: how a
    /// rotated or mirrored copy is recognised.
    pub fn min_distance(&self, other: &PdqHash) -> u32 {
        self.to_array().iter().map(|h| h.hamming_distance(other)).min().unwrap_or(PdqHash::BITS)
    }
}

/// The eight dihedral hashes of an image and its quality (the same for all eight).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DihedralOutput {
    /// The eight hashes.
    pub hashes: DihedralHashes,
    /// Quality 0–100.
    pub quality: u8,
}

/// Why pixels could not be taken as an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PdqError {
    /// The buffer does not hold `width × height` pixels of the stated layout.
    BufferLength {
        /// Values the dimensions call for.
        expected: usize,
        /// Values given.
        actual: usize,
    },
    /// `width × height × channels` does not fit in memory addresses.
    DimensionsTooLarge {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
}

impl fmt::Display for PdqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PdqError::BufferLength { expected, actual } => {
                write!(f, "pixel buffer holds {actual} values, the dimensions need {expected}")
            }
            PdqError::DimensionsTooLarge { width, height } => {
                write!(f, "image dimensions {width}×{height} are too large")
            }
        }
    }
}

impl std::error::Error for PdqError {}

#[derive(Clone, Copy, Debug)]
enum Pixels<'a> {
    Rgb8(&'a [u8]),
    Rgba8(&'a [u8]),
    Gray8(&'a [u8]),
    LumaF32(&'a [f32]),
}

/// A borrowed, validated pixel buffer: dimensions plus row-major pixels without padding.
#[derive(Clone, Copy, Debug)]
pub struct ImageRef<'a> {
    width: usize,
    height: usize,
    pixels: Pixels<'a>,
}

fn check_len(width: usize, height: usize, channels: usize, actual: usize) -> Result<(), PdqError> {
    let expected = width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(channels))
        .ok_or(PdqError::DimensionsTooLarge { width, height })?;
    if expected == actual { Ok(()) } else { Err(PdqError::BufferLength { expected, actual }) }
}

impl<'a> ImageRef<'a> {
    /// Interleaved 8-bit R, G, B (what `staydown-media` decodes to; the conformance input).
    pub fn rgb8(width: usize, height: usize, data: &'a [u8]) -> Result<Self, PdqError> {
        check_len(width, height, 3, data.len())?;
        Ok(ImageRef { width, height, pixels: Pixels::Rgb8(data) })
    }

    /// Interleaved 8-bit R, G, B, A (a browser canvas's `ImageData`); alpha is ignored, not
    /// composited, as `specs/pdq.md` says.
    pub fn rgba8(width: usize, height: usize, data: &'a [u8]) -> Result<Self, PdqError> {
        check_len(width, height, 4, data.len())?;
        Ok(ImageRef { width, height, pixels: Pixels::Rgba8(data) })
    }

    /// 8-bit greyscale; hashes exactly like the same grey replicated to R, G and B.
    pub fn gray8(width: usize, height: usize, data: &'a [u8]) -> Result<Self, PdqError> {
        check_len(width, height, 1, data.len())?;
        Ok(ImageRef { width, height, pixels: Pixels::Gray8(data) })
    }

    /// A luminance plane in f32, as the reference's `pdqHash256FromFloatLuma` takes it (for
    /// callers with their own colour conversion, e.g. video frames).
    pub fn luma_f32(width: usize, height: usize, data: &'a [f32]) -> Result<Self, PdqError> {
        check_len(width, height, 1, data.len())?;
        Ok(ImageRef { width, height, pixels: Pixels::LumaF32(data) })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }
}

/// Luminance exactly as the reference binding computes it: numpy evaluates
/// `R·0.299 + G·0.587 + B·0.114` in float64 and the result is rounded to float32. For 8-bit inputs
/// that equals the f32 quotient `(299·R + 587·G + 114·B) / 1000` for every one of the 2²⁴ colours
/// (checked exhaustively by a test), which is cheaper: integer arithmetic and one division.
#[inline(always)]
fn luma(r: u8, g: u8, b: u8) -> f32 {
    let n = 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b);
    // n ≤ 255 000 < 2²⁴, so the conversion to f32 is exact.
    n as f32 / 1000.0
}

impl LumaSource for ImageRef<'_> {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    fn luma_row(&self, row: usize, out: &mut [f32]) {
        let w = self.width;
        match self.pixels {
            Pixels::Rgb8(data) => luma_row_interleaved::<3>(&data[row * w * 3..][..w * 3], out),
            Pixels::Rgba8(data) => luma_row_interleaved::<4>(&data[row * w * 4..][..w * 4], out),
            Pixels::Gray8(data) => {
                for (o, &v) in out.iter_mut().zip(&data[row * w..][..w]) {
                    *o = luma(v, v, v);
                }
            }
            Pixels::LumaF32(data) => out.copy_from_slice(&data[row * w..][..w]),
        }
    }
}

/// Luminance of one row of interleaved pixels with `C` channels (R, G, B first), eight pixels at a
/// time so that the integer and float arithmetic vectorises.
fn luma_row_interleaved<const C: usize>(pixels: &[u8], out: &mut [f32]) {
    let (pixels, _) = pixels.as_chunks::<C>();
    let mut out_chunks = out.chunks_exact_mut(8);
    let mut pixel_chunks = pixels.chunks_exact(8);
    for (o, p) in (&mut out_chunks).zip(&mut pixel_chunks) {
        let mut n = [0u32; 8];
        for (n, p) in n.iter_mut().zip(p) {
            *n = 299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]);
        }
        for (o, &n) in o.iter_mut().zip(&n) {
            *o = n as f32 / 1000.0;
        }
    }
    for (o, p) in out_chunks.into_remainder().iter_mut().zip(pixel_chunks.remainder()) {
        *o = luma(p[0], p[1], p[2]);
    }
}

/// The 16×16 DCT block and quality, or `None` for images too small to hash.
fn dct_and_quality(image: &ImageRef<'_>) -> Option<(dct::Block16, u8)> {
    if image.width < MIN_DIMENSION || image.height < MIN_DIMENSION {
        return None;
    }
    let block = downsample::downsample(image);
    let quality = dct::quality(&block);
    Some((dct::dct64_to_16(&block), quality))
}

/// PDQ hash and quality of an image.
///
/// Images with a side shorter than [`MIN_DIMENSION`] get [`PdqHash::ZERO`] and quality 0, as the
/// reference does.
pub fn hash(image: &ImageRef<'_>) -> PdqOutput {
    match dct_and_quality(image) {
        Some((coefficients, quality)) => PdqOutput { hash: dct::to_bits(&coefficients), quality },
        None => PdqOutput { hash: PdqHash::ZERO, quality: 0 },
    }
}

/// PDQ hashes of the eight rotations and flips of an image, and its quality.
///
/// `original` always equals [`hash`]'s result. (The reference's own dihedral entry point skips
/// the special case for exactly 64×64 inputs that its plain entry point has; we apply it in both,
/// so the variants always belong to the plain hash.)
pub fn hash_dihedral(image: &ImageRef<'_>) -> DihedralOutput {
    let Some((coefficients, quality)) = dct_and_quality(image) else {
        let zero = PdqHash::ZERO;
        return DihedralOutput {
            hashes: DihedralHashes {
                original: zero,
                rotate90: zero,
                rotate180: zero,
                rotate270: zero,
                flip_x: zero,
                flip_y: zero,
                flip_plus1: zero,
                flip_minus1: zero,
            },
            quality: 0,
        };
    };
    let [original, rotate90, rotate180, rotate270, flip_x, flip_y, flip_plus1, flip_minus1] =
        Dihedral::ALL.map(|d| dct::to_bits(&d.apply(&coefficients)));
    DihedralOutput {
        hashes: DihedralHashes { original, rotate90, rotate180, rotate270, flip_x, flip_y, flip_plus1, flip_minus1 },
        quality,
    }
}

/// Convenience: [`hash`] of interleaved RGB8 pixels.
pub fn hash_rgb8(width: usize, height: usize, rgb: &[u8]) -> Result<PdqOutput, PdqError> {
    Ok(hash(&ImageRef::rgb8(width, height, rgb)?))
}
