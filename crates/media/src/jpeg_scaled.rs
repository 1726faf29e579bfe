//! DCT-scaled JPEG decoding for the screening lookup (issue 16, goal 1).
//!
//! A JPEG stores 8×8 blocks of DCT coefficients; an inverse DCT of only the lowest 4×4, 2×2 or
//! 1×1 coefficients of each block yields the image at ½, ¼ or ⅛ of its size (ITU-T T.81 leaves
//! the IDCT to the decoder; libjpeg's `scale_num/scale_denom`). libjpeg-turbo (Debian's
//! `libturbojpeg`, through the `turbojpeg` crate) does that, and decodes straight to one
//! luminance plane: for a YCbCr file the Y component, without chroma upsampling or colour
//! conversion. PDQ reads nothing but luminance (specs/pdq.md step 1, `0.299 R + 0.587 G + 0.114
//! B`, JFIF's Y) and filters it down to 64×64 anyway (step 2), so the reduced decode changes the
//! hash by a few bits only (the drift test, `crates/media/tests/drift.rs`; docs/screening-perf.md).
//!
//! The scale is the smallest of ⅛, ¼, ½ that leaves both sides at least [`MIN_SCALED_SIDE`]
//! pixels (at ⅛, [`MIN_EIGHTH_SIDE`]); an image smaller than that at ½ is decoded exactly. Only
//! YCbCr and greyscale files take this path; CMYK, YCCK and RGB-coded files, and any file
//! libjpeg-turbo refuses or warns about (truncated data, a corrupt stream), are decoded by the
//! exact path, which gives the same answer and the same typed error as without this module; all
//! the exact path's header bounds (bytes, pixels, data, scans, memory) are checked first.
//!
//! The hashes of this path are for looking an upload up only: a hash that is stored, exported or
//! shared comes from the exact decode (`hash_image_bytes`).

use std::cell::RefCell;

use turbojpeg::{Colorspace, Decompressor, Image, PixelFormat};

/// Both sides of a scaled decode are at least this many pixels: twice PDQ's 64×64 grid, so each
/// grid cell still averages at least 2×2 decoded pixels (each of them an 8×8, 4×4 or 2×2
/// block's mean). Chosen from the drift measured at 64, 128 and 256 (docs/screening-perf.md).
pub const MIN_SCALED_SIDE: u32 = 128;

/// A decode at ⅛ (each pixel one block's DC) also needs both sides at least this many pixels,
/// i.e. 1,408 in the original: there PDQ's box window (`⌈n / 128⌉` pixels) spans at least 11
/// pixels, 1.4 blocks. Below it the ⅛ drift reached 6–8 bits on 1,024–1,280-pixel photos (the
/// drift corpus keeps four of them), against at most 4 at ¼ (docs/screening-perf.md).
pub const MIN_EIGHTH_SIDE: u32 = 176;

/// The denominator (1, 2, 4 or 8) of the scale a `width × height` JPEG is decoded at: the
/// largest that keeps both sides at least [`MIN_SCALED_SIDE`] (for ⅛, [`MIN_EIGHTH_SIDE`]; 1:
/// decoded exactly).
pub fn scale_denominator(width: u32, height: u32) -> u32 {
    [8, 4, 2]
        .into_iter()
        .find(|d| {
            let least = if *d == 8 { MIN_EIGHTH_SIDE } else { MIN_SCALED_SIDE };
            width.div_ceil(*d).min(height.div_ceil(*d)) >= least
        })
        .unwrap_or(1)
}

thread_local! {
    // A decompressor holds libjpeg's state (a few KiB); one per thread saves its set-up.
    static DECOMPRESSOR: RefCell<Option<Decompressor>> = const { RefCell::new(None) };
}

/// Decodes at `1/denominator` scale to 8-bit luminance, `ceil(width / d) × ceil(height / d)`.
/// `None` when this path does not apply or libjpeg-turbo refuses the file (the caller then
/// decodes exactly).
pub(crate) fn decode_luma(bytes: &[u8], width: u32, height: u32, denominator: u32) -> Option<(u32, u32, Vec<u8>)> {
    // A progressive file's AC scans are entropy-decoded even where the output cannot use them;
    // without them the Y plane is the same, byte for byte.
    let stripped = without_unused_ac_scans(bytes, denominator == 8);
    let bytes = stripped.as_deref().unwrap_or(bytes);
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

/// A progressive JPEG (T.81 Annex G) without the AC scans a luminance-only decode does not use.
/// In progressive mode an AC scan holds exactly one component (G.1.1.1.1), so a scan of chroma AC
/// coefficients feeds nothing but that component, and a luminance-only decode of the remaining
/// file is identical. With `eighth` (a decode at ⅛ scale, whose 1×1 inverse DCT reads only each
/// block's DC coefficient) the luminance AC scans go too, except the first pass of the band that
/// starts at coefficient 1 (`Ss = 1`, `Ah = 0`): libjpeg-turbo's block smoothing (2.1,
/// `jdcoefct.c`) re-estimates the DC coefficients themselves when none of AC coefficients 1–9
/// has arrived, and that one scan keeps it from doing so. The first component of the frame is the
/// luminance (JFIF's Y, or the only component of a greyscale file). `None` when the file is not
/// progressive, has no such scan, or its markers cannot be walked (the caller then decodes the
/// file as it is).
pub(crate) fn without_unused_ac_scans(bytes: &[u8], eighth: bool) -> Option<Vec<u8>> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return None;
    }
    let mut luma: Option<u8> = None;
    let mut drop: Vec<(usize, usize)> = Vec::new();
    let (mut luma_ac, mut first_luma_ac) = (Vec::new(), false);
    let mut i = 2usize;
    while i + 1 < bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        match marker {
            0xFF => {
                i += 1;
                continue;
            }
            0xD9 => break,
            0x00 | 0x01 | 0xD0..=0xD7 => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
        let segment = bytes.get(i + 4..i + 2 + len)?;
        let mut end = i + 2 + len;
        match marker {
            // Progressive Huffman frame: remember the luminance component's id.
            0xC2 => {
                if *segment.get(5)? < 3 && !eighth {
                    return None;
                }
                luma = Some(*segment.get(6)?);
            }
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => return None,
            0xDA => {
                // The entropy-coded data runs to the next marker other than RSTn (0xFF00 is a
                // stuffed data byte).
                loop {
                    end += memchr::memchr(0xFF, bytes.get(end..)?)?;
                    match bytes.get(end + 1)? {
                        0x00 | 0xD0..=0xD7 => end += 2,
                        0xFF => end += 1,
                        _ => break,
                    }
                }
                let luma = luma?;
                let components = usize::from(*segment.first()?);
                let spectral_start = *segment.get(1 + 2 * components)?;
                let approximation_high = *segment.get(3 + 2 * components)? >> 4;
                if components == 1 && spectral_start > 0 {
                    if *segment.get(1)? != luma {
                        drop.push((i, end));
                    } else if eighth && spectral_start == 1 && approximation_high == 0 {
                        first_luma_ac = true;
                    } else if eighth {
                        luma_ac.push((i, end));
                    }
                }
            }
            _ => {}
        }
        i = end;
    }
    if first_luma_ac {
        drop.extend(luma_ac);
        drop.sort_unstable();
    }
    if drop.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut from = 0;
    for (a, b) in drop {
        out.extend_from_slice(&bytes[from..a]);
        from = b;
    }
    out.extend_from_slice(&bytes[from..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::{PhotoSpec, Sampling, photo_jpeg};

    #[test]
    fn progressive_files_lose_the_ac_scans_a_scaled_decode_does_not_read_and_keep_their_luminance_byte_for_byte() {
        for (i, sampling) in [Sampling::S420, Sampling::S444, Sampling::Gray].into_iter().enumerate() {
            for progressive in [false, true] {
                let spec =
                    PhotoSpec { width: 800, height: 600, quality: 85, sampling, progressive, seed: 11 + i as u64 };
                let bytes = photo_jpeg(&spec).unwrap();
                let scans = |b: &[u8]| crate::jpeg::header(b).unwrap().scans;
                let colour = !matches!(sampling, Sampling::Gray);
                let stripped = without_unused_ac_scans(&bytes, false);
                assert_eq!(stripped.is_some(), progressive && colour, "{spec:?}");
                if let Some(stripped) = stripped {
                    assert!(stripped.len() < bytes.len(), "{spec:?}");
                    assert!(scans(&stripped) < scans(&bytes), "{spec:?}");
                    for d in [1, 2, 4, 8] {
                        let (w, h, a) = decode_gray(&bytes, d);
                        let (w2, h2, b) = decode_gray(&stripped, d);
                        assert_eq!((w, h), (w2, h2));
                        assert!(a == b, "{spec:?} at 1/{d}: luminance differs");
                    }
                }
                // For a decode at 1/8 the luminance AC scans go as well, but for the first pass of
                // the band from coefficient 1.
                let for_eighth = without_unused_ac_scans(&bytes, true);
                assert_eq!(for_eighth.is_some(), progressive, "{spec:?}");
                let Some(for_eighth) = for_eighth else { continue };
                assert!(
                    for_eighth.len() * 2 < bytes.len(),
                    "{spec:?}: {} of {} bytes kept",
                    for_eighth.len(),
                    bytes.len()
                );
                assert!(a_eighth_equal(&bytes, &for_eighth), "{spec:?} at 1/8: luminance differs");
                // Without that first pass libjpeg-turbo re-estimates the DC coefficients: the
                // kept scan is what keeps the decode exact.
                let without_first = without_scans(&for_eighth, |ss, ah, luma| luma && ss == 1 && ah == 0);
                assert!(scans(&without_first) < scans(&for_eighth), "{spec:?}");
                assert!(!a_eighth_equal(&bytes, &without_first), "{spec:?}: the first AC pass made no difference");
            }
        }
        // Not a JPEG, or cut short: left alone.
        assert!(without_unused_ac_scans(b"GIF89a", false).is_none());
        assert!(without_unused_ac_scans(b"GIF89a", true).is_none());
        let spec =
            PhotoSpec { width: 400, height: 300, quality: 80, sampling: Sampling::S420, progressive: true, seed: 3 };
        let bytes = photo_jpeg(&spec).unwrap();
        assert!(without_unused_ac_scans(&bytes[..bytes.len() / 2], false).is_none());
        assert!(without_unused_ac_scans(&bytes[..bytes.len() / 2], true).is_none());
    }

    fn a_eighth_equal(a: &[u8], b: &[u8]) -> bool {
        decode_gray(a, 8) == decode_gray(b, 8)
    }

    /// `bytes` without the single-component AC scans for which `drop(Ss, Ah, is_luma)` holds (a
    /// plain marker walk for the test; the files here have no restart markers).
    fn without_scans(bytes: &[u8], drop: impl Fn(u8, u8, bool) -> bool) -> Vec<u8> {
        let mut out = bytes[..2].to_vec();
        let mut i = 2;
        let mut luma = 0u8;
        while i + 4 <= bytes.len() && bytes[i + 1] != 0xD9 {
            let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
            let mut end = i + 2 + len;
            if bytes[i + 1] == 0xC2 {
                luma = bytes[i + 4 + 6];
            }
            let mut keep = true;
            if bytes[i + 1] == 0xDA {
                while bytes[end] != 0xFF || matches!(bytes[end + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
                    end += 1;
                }
                let n = usize::from(bytes[i + 4]);
                let (ss, ah) = (bytes[i + 5 + 2 * n], bytes[i + 7 + 2 * n] >> 4);
                keep = !(n == 1 && ss > 0 && drop(ss, ah, bytes[i + 5] == luma));
            }
            if keep {
                out.extend_from_slice(&bytes[i..end]);
            }
            i = end;
        }
        out.extend_from_slice(&bytes[i..]);
        out
    }

    /// libjpeg-turbo's own luminance decode of the file as it is.
    fn decode_gray(bytes: &[u8], d: u32) -> (usize, usize, Vec<u8>) {
        let mut decompressor = Decompressor::new().unwrap();
        let header = decompressor.read_header(bytes).unwrap();
        let (w, h) = (header.width.div_ceil(d as usize), header.height.div_ceil(d as usize));
        let mut pixels = vec![0u8; w * h];
        let image = Image { pixels: &mut pixels[..], width: w, pitch: w, height: h, format: PixelFormat::GRAY };
        decompressor.decompress(bytes, image).unwrap();
        (w, h, pixels)
    }
}
