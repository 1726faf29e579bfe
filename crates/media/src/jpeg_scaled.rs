//! DCT-scaled JPEG decoding for the screening lookup (issue 16, goal 1).
//!
//! A JPEG stores 8×8 blocks of DCT coefficients; an inverse DCT of only the lowest 4×4, 2×2 or
//! 1×1 coefficients of each block yields the image at ½, ¼ or ⅛ of its size (ITU-T T.81 leaves
//! the IDCT to the decoder; libjpeg's `scale_num/scale_denom`). libjpeg-turbo (Debian's
//! `libturbojpeg`, through the `turbojpeg` crate) does that, and decodes straight to one
//! luminance plane: for a YCbCr file the Y component, without chroma upsampling or colour
//! conversion. PDQ reads nothing but luminance (specs/pdq.md step 1, `0.299 R + 0.587 G + 0.114 B`,
//! which is JFIF's Y) and filters it down to 64×64 anyway (step 2), so the reduced decode changes
//! the hash by a few bits only (the drift test, `crates/media/tests/drift.rs`, and docs/perf.md).
//!
//! The scale is the smallest of ⅛, ¼, ½ that leaves both sides at least [`MIN_SCALED_SIDE`]
//! pixels; an image smaller than that at ½ is decoded exactly. Only YCbCr and greyscale files
//! take this path; CMYK, YCCK and RGB-coded files, and any file libjpeg-turbo refuses or warns
//! about (truncated data, a corrupt stream), are decoded by the exact path, which gives the same
//! answer and the same typed error as without this module. All of the exact path's header
//! bounds (bytes, pixels, data, scans, memory) are checked before this decode runs.
//!
//! The hashes of this path are for looking an upload up only: a hash that is stored, exported or
//! shared comes from the exact decode (`hash_image_bytes`).

use std::cell::RefCell;

use turbojpeg::{Colorspace, Decompressor, Image, PixelFormat};

/// Both sides of a scaled decode are at least this many pixels: twice PDQ's 64×64 grid, so each
/// grid cell still averages at least 2×2 decoded pixels (each of them an 8×8, 4×4 or 2×2
/// block's mean). Chosen from the drift measured at 64, 128 and 256 (docs/perf.md).
pub const MIN_SCALED_SIDE: u32 = 128;

/// The denominator (1, 2, 4 or 8) of the scale a `width × height` JPEG is decoded at: the
/// largest that keeps both sides at least [`MIN_SCALED_SIDE`] (1: decoded exactly).
pub fn scale_denominator(width: u32, height: u32) -> u32 {
    [8, 4, 2].into_iter().find(|d| width.div_ceil(*d).min(height.div_ceil(*d)) >= MIN_SCALED_SIDE).unwrap_or(1)
}

thread_local! {
    // A decompressor holds libjpeg's state (a few KiB); one per thread saves its set-up.
    static DECOMPRESSOR: RefCell<Option<Decompressor>> = const { RefCell::new(None) };
}

/// Decodes at `1/denominator` scale to 8-bit luminance, `ceil(width / d) × ceil(height / d)`.
/// `None` when this path does not apply or libjpeg-turbo refuses the file (the caller then
/// decodes exactly).
pub(crate) fn decode_luma(bytes: &[u8], width: u32, height: u32, denominator: u32) -> Option<(u32, u32, Vec<u8>)> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Decompressor::new().ok();
        }
        let decompressor = slot.as_mut()?;
        let header = decompressor.read_header(bytes).ok()?;
        if !matches!(header.colorspace, Colorspace::YCbCr | Colorspace::Gray)
            || header.width != width as usize
            || header.height != height as usize
        {
            return None;
        }
        let (w, h) = (width.div_ceil(denominator), height.div_ceil(denominator));
        let mut pixels = vec![0u8; w as usize * h as usize];
        // tjDecompress2 picks the largest scaling factor whose output fits the size asked for:
        // exactly 1/denominator here, since TJSCALED(side, 1/d) = ceil(side / d).
        let image = Image {
            pixels: &mut pixels[..],
            width: w as usize,
            pitch: w as usize,
            height: h as usize,
            format: PixelFormat::GRAY,
        };
        decompressor.decompress(bytes, image).ok()?;
        Some((w, h, pixels))
    })
}
