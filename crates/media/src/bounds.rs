//! Data bounds of WebP, GIF and BMP files, read from their headers and block structure before any
//! pixel buffer exists (issue 15: "decoding bounded relative to the input").
//!
//! Each format gets the same three kinds of check the JPEG and PNG paths have:
//!
//! - **declared pixels out of proportion to the bytes** ([`MediaError::DataTooShort`]): the most
//!   pixels the file's coded data could fill, from its format's cheapest coding of a pixel:
//!   - WebP lossy (VP8, RFC 6386): every 16×16 macroblock of a key frame codes its luma and chroma
//!     intra modes with the fixed probabilities of §11.2 (`kf_ymode_prob` = 145, 156, 163, 128;
//!     `kf_uv_mode_prob` = 142, 114, 183), so it costs at least −log2(145/256) − log2(142/256)
//!     ≈ 1.67 bits; we allow one bit: `⌈W/16⌉·⌈H/16⌉ ≤ 8 × bytes` of the `VP8 ` chunk;
//!   - WebP lossless (VP8L, RFC 9649 §3) can code a flat image in zero bits a pixel, so it has no
//!     such floor; we hold it (and an extended file's canvas) to the densest PNG, the other
//!     lossless format we take: at most [`LOSSLESS_PIXELS_PER_BYTE`] pixels a byte;
//!   - GIF (GIF89a §22, Appendix F): an LZW code is at least 3 bits wide and expands to at most
//!     4096 pixels (the code table's size), so a frame holds at most [`LZW_PIXELS_PER_BYTE`]
//!     pixels a byte of its data; the logical screen, which the first frame need not cover (the
//!     rest is filled, not decoded), is held to the same ratio over the whole file;
//!   - BMP run-length (`BI_RLE8`, `BI_RLE4`): a two-byte run paints at most 255 pixels; the
//!     escapes that skip pixels (end of line, delta, end of bitmap) leave them undefined, so a
//!     bitmap with more than 255 pixels per two bytes of its data is mostly skipped: refused;
//! - **truncation** ([`MediaError::Truncated`]): a RIFF size or chunk past the end of a WebP, a
//!   GIF ending inside a block (before its first image is complete), an uncompressed BMP whose
//!   pixel array is shorter than its rows;
//! - **repetition** ([`MediaError::TooManyFrames`]): more than [`DecodeLimits::max_frames`] frames
//!   in a GIF or an animated WebP. Only the first frame is decoded, but every later stage that
//!   walks the file (and a person reviewing it) pays for the rest.
//!
//! A file too malformed to parse here is left to its decoder, which reports it as corrupt.

use crate::{DecodeLimits, MediaError};

/// Most pixels a byte of lossless data may declare (WebP lossless, a WebP canvas): the densest a
/// PNG can be, one-bit rows at deflate's largest ratio (1032, RFC 1951) — 8 × 1032.
pub const LOSSLESS_PIXELS_PER_BYTE: u64 = 8 * 1032;

/// Most pixels a byte of GIF image data can describe: 4096 pixels per code of at least 3 bits.
pub const LZW_PIXELS_PER_BYTE: u64 = 4096 * 8 / 3;

fn too_short(width: u64, height: u64, size: usize) -> MediaError {
    MediaError::DataTooShort {
        width: u32::try_from(width).unwrap_or(u32::MAX),
        height: u32::try_from(height).unwrap_or(u32::MAX),
        size,
    }
}

fn u16_le(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?)))
}

fn u24_le(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at + 3)?;
    Some(u64::from(s[0]) | u64::from(s[1]) << 8 | u64::from(s[2]) << 16)
}

fn u32_le(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?)))
}

fn check_frames(frames: usize, limits: &DecodeLimits) -> Result<(), MediaError> {
    if frames > limits.max_frames {
        return Err(MediaError::TooManyFrames { frames, limit: limits.max_frames });
    }
    Ok(())
}

/// WebP (RFC 9649): the RIFF and chunk sizes against the file, the lossy and lossless bitstreams'
/// declared size against their chunk, the extended canvas against the file, the frame count.
pub(crate) fn webp(bytes: &[u8], limits: &DecodeLimits) -> Result<(), MediaError> {
    if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WEBP") {
        return Ok(());
    }
    let riff_end = u32_le(bytes, 4).map_or(u64::MAX, |size| size + 8);
    if riff_end > bytes.len() as u64 {
        return Err(MediaError::Truncated);
    }
    let riff_end = riff_end as usize;
    let mut at = 12;
    let mut frames = 0;
    let mut bitstream_seen = false;
    while at + 8 <= riff_end {
        let kind = &bytes[at..at + 4];
        let size = u32_le(bytes, at + 4).unwrap_or(0) as usize;
        let start = at + 8;
        let end = start.checked_add(size).filter(|e| *e <= riff_end).ok_or(MediaError::Truncated)?;
        let payload = &bytes[start..end];
        match kind {
            b"VP8X" => {
                let (w, h) = (u24_le(payload, 4).unwrap_or(0) + 1, u24_le(payload, 7).unwrap_or(0) + 1);
                if w * h > LOSSLESS_PIXELS_PER_BYTE * bytes.len() as u64 {
                    return Err(too_short(w, h, bytes.len()));
                }
            }
            b"ANMF" => {
                frames += 1;
                check_frames(frames, limits)?;
                // The frame's own bitstream chunks follow its 16-byte header; check the first.
                if !bitstream_seen && payload.len() > 16 {
                    bitstream_seen = true;
                    frame_chunks(&payload[16..])?;
                }
            }
            b"VP8 " | b"VP8L" if !bitstream_seen => {
                bitstream_seen = true;
                bitstream(kind, payload)?;
            }
            _ => {}
        }
        at = end + (size & 1);
    }
    Ok(())
}

/// The chunks inside an `ANMF` frame: its bitstream.
fn frame_chunks(bytes: &[u8]) -> Result<(), MediaError> {
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let kind = &bytes[at..at + 4];
        let size = u32_le(bytes, at + 4).unwrap_or(0) as usize;
        let end = (at + 8).checked_add(size).filter(|e| *e <= bytes.len()).ok_or(MediaError::Truncated)?;
        if kind == b"VP8 " || kind == b"VP8L" {
            return bitstream(kind, &bytes[at + 8..end]);
        }
        at = end + (size & 1);
    }
    Ok(())
}

/// A `VP8 ` (RFC 6386 §9.1: frame tag, start code, 14-bit sizes) or `VP8L` (RFC 9649 §3.2:
/// signature 0x2f, 14-bit sizes minus one) chunk's declared size against its data.
fn bitstream(kind: &[u8], payload: &[u8]) -> Result<(), MediaError> {
    if kind == b"VP8 " {
        let Some(tag) = u24_le(payload, 0) else { return Ok(()) };
        let key_frame = tag & 1 == 0;
        if !key_frame || payload.get(3..6) != Some(&[0x9d, 0x01, 0x2a]) {
            return Ok(());
        }
        let first_partition = (tag >> 5) as usize;
        if 10 + first_partition > payload.len() {
            return Err(MediaError::Truncated);
        }
        let (w, h) = (u16_le(payload, 6).unwrap_or(0) & 0x3fff, u16_le(payload, 8).unwrap_or(0) & 0x3fff);
        if w.div_ceil(16) * h.div_ceil(16) > 8 * payload.len() as u64 {
            return Err(too_short(w, h, payload.len()));
        }
    } else {
        if payload.first() != Some(&0x2f) {
            return Ok(());
        }
        let Some(bits) = u32_le(payload, 1) else { return Err(MediaError::Truncated) };
        let (w, h) = ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
        if w * h > LOSSLESS_PIXELS_PER_BYTE * payload.len() as u64 {
            return Err(too_short(w, h, payload.len()));
        }
    }
    Ok(())
}

/// The data sub-blocks starting at `at` (GIF89a §15): where they end (after the terminator) and
/// how many data bytes they hold; `Truncated` if the file ends first.
fn sub_blocks(bytes: &[u8], mut at: usize) -> Result<(usize, u64), MediaError> {
    let mut data = 0;
    loop {
        let size = usize::from(*bytes.get(at).ok_or(MediaError::Truncated)?);
        at += 1;
        if size == 0 {
            return Ok((at, data));
        }
        at += size;
        data += size as u64;
        if at > bytes.len() {
            return Err(MediaError::Truncated);
        }
    }
}

/// GIF (GIF89a): the logical screen against the file, each frame against its LZW data, the first
/// frame complete, the frame count.
pub(crate) fn gif(bytes: &[u8], limits: &DecodeLimits) -> Result<(), MediaError> {
    let (Some(sw), Some(sh), Some(&packed)) = (u16_le(bytes, 6), u16_le(bytes, 8), bytes.get(10)) else {
        return Err(MediaError::Truncated);
    };
    if sw * sh > LZW_PIXELS_PER_BYTE * bytes.len() as u64 {
        return Err(too_short(sw, sh, bytes.len()));
    }
    let table = |packed: u8| if packed & 0x80 != 0 { 3usize << ((packed & 7) + 1) } else { 0 };
    let mut at = 13 + table(packed);
    let mut frames = 0;
    loop {
        let Some(&introducer) = bytes.get(at) else {
            // The file ends between blocks: a missing trailer, accepted once an image is whole.
            return if frames > 0 { Ok(()) } else { Err(MediaError::Truncated) };
        };
        match introducer {
            0x3b => return Ok(()),
            0x21 => at = sub_blocks(bytes, at + 2)?.0,
            0x2c => {
                let (Some(w), Some(h), Some(&packed)) =
                    (u16_le(bytes, at + 5), u16_le(bytes, at + 7), bytes.get(at + 9))
                else {
                    return Err(MediaError::Truncated);
                };
                // Descriptor (10 bytes), local colour table, LZW minimum code size, data.
                let data_at = at + 10 + table(packed) + 1;
                let (end, data) = sub_blocks(bytes, data_at)?;
                if w * h > LZW_PIXELS_PER_BYTE * data {
                    return Err(too_short(w, h, data as usize));
                }
                frames += 1;
                check_frames(frames, limits)?;
                at = end;
            }
            // Not a block the format defines: the decoder reports what it makes of it.
            _ => return Ok(()),
        }
    }
}

/// BMP (`BITMAPINFOHEADER` and later): run-length data against the pixels it must paint, an
/// uncompressed pixel array against its rows.
pub(crate) fn bmp(bytes: &[u8]) -> Result<(), MediaError> {
    let (Some(offset), Some(header)) = (u32_le(bytes, 10), u32_le(bytes, 14)) else {
        return Err(MediaError::Truncated);
    };
    if header == 12 {
        // OS/2 `BITMAPCOREHEADER`: uncompressed, 16-bit sizes.
        let (Some(w), Some(h), Some(bpp)) = (u16_le(bytes, 18), u16_le(bytes, 20), u16_le(bytes, 24)) else {
            return Err(MediaError::Truncated);
        };
        return rows_present(bytes, offset, w, h, bpp);
    }
    if header < 40 {
        // OS/2 2.x headers: left to the decoder.
        return Ok(());
    }
    let (Some(w), Some(h), Some(bpp), Some(compression)) =
        (u32_le(bytes, 18), u32_le(bytes, 22), u16_le(bytes, 28), u32_le(bytes, 30))
    else {
        return Err(MediaError::Truncated);
    };
    // Signed; a negative height is a top-down bitmap.
    let (w, h) = (u64::from((w as u32 as i32).unsigned_abs()), u64::from((h as u32 as i32).unsigned_abs()));
    match compression {
        // BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS.
        0 | 3 | 6 => rows_present(bytes, offset, w, h, bpp),
        // BI_RLE8, BI_RLE4.
        1 | 2 => {
            let data = bytes.len().saturating_sub(offset as usize) as u64;
            if w * h > 255 * data.div_ceil(2) {
                return Err(too_short(w, h, data as usize));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn rows_present(bytes: &[u8], offset: u64, w: u64, h: u64, bpp: u64) -> Result<(), MediaError> {
    let stride = (w * bpp).div_ceil(32) * 4;
    if offset.saturating_add(stride.saturating_mul(h)) > bytes.len() as u64 {
        return Err(MediaError::Truncated);
    }
    Ok(())
}
