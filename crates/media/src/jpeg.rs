//! JPEG decoding bounded by the input (issue 15): a declared size the data cannot fill, too many
//! scans, and truncated entropy data are refused before or during decoding instead of being
//! decoded into grey.
//!
//! The pixels come from zune-jpeg, the decoder the `image` crate uses, with the same colour
//! handling as `image`'s `JpegDecoder` (RGB, RGBA, Luma and LumaA kept; YCbCr, CMYK and YCCK
//! converted to RGB by zune-jpeg), so the hashes do not change; what differs is zune-jpeg's
//! strict mode (a premature end of the entropy data, a stray marker: an error instead of a grey
//! fill) and its scan limit, which `image` leaves off.
//!
//! The data bound (ITU-T T.81): every 8×8 block of the full-resolution component carries at
//! least its DC difference, and a Huffman code is at least one bit long, so a JPEG of `W × H`
//! pixels holds at least `⌈W/8⌉·⌈H/8⌉` bits of entropy-coded data. Arithmetic coding (T.81
//! Annex D), which could go below that, is not decoded by zune-jpeg at all.

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

use crate::{DecodeLimits, MediaError};

/// Width, height and scan count from the headers, without decoding any pixel.
pub(crate) struct JpegHeader {
    pub width: u32,
    pub height: u32,
    pub scans: usize,
    pub progressive: bool,
    pub components: u32,
}

/// Walks the marker segments: counts start-of-scan markers and reads the frame header.
/// Entropy-coded data is skipped to its next 0xFF byte (T.81 B.1.1.5: inside it 0xFF is followed by 0x00
/// or a restart marker).
pub(crate) fn header(bytes: &[u8]) -> Result<JpegHeader, MediaError> {
    let corrupt = |what: &str| MediaError::Corrupt(format!("JPEG: {what}"));
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return Err(corrupt("no start-of-image marker"));
    }
    let (mut i, mut scans) = (2usize, 0usize);
    let mut frame: Option<(u32, u32, bool, u32)> = None;
    while i + 1 < bytes.len() {
        if bytes[i] != 0xFF {
            // Entropy-coded data: jump to its next 0xFF (memchr reads a word or a vector at a time).
            match memchr::memchr(0xFF, &bytes[i..]) {
                Some(skip) => i += skip,
                None => break,
            }
            continue;
        }
        let marker = bytes[i + 1];
        match marker {
            0xFF => i += 1,
            0x00 | 0x01 | 0xD0..=0xD7 => i += 2,
            0xD9 => break,
            _ => {
                let Some(len) = bytes.get(i + 2..i + 4).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]]))) else {
                    return Err(corrupt("truncated marker segment"));
                };
                let segment = bytes.get(i + 4..i + 2 + len).ok_or_else(|| corrupt("truncated marker segment"))?;
                match marker {
                    0xDA => scans += 1,
                    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
                    0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) && frame.is_none() => {
                        if segment.len() < 6 {
                            return Err(corrupt("short frame header"));
                        }
                        let height = u32::from(u16::from_be_bytes([segment[1], segment[2]]));
                        let width = u32::from(u16::from_be_bytes([segment[3], segment[4]]));
                        let progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                        frame = Some((width, height, progressive, u32::from(segment[5])));
                    }
                    _ => {}
                }
                i += 2 + len;
            }
        }
    }
    let (width, height, progressive, components) = frame.ok_or_else(|| corrupt("no frame header"))?;
    Ok(JpegHeader { width, height, scans, progressive, components })
}

/// The header checks: scan count, and pixels the data cannot fill.
pub(crate) fn check(bytes: &[u8], head: &JpegHeader, limits: &DecodeLimits) -> Result<(), MediaError> {
    if head.scans > limits.max_jpeg_scans {
        return Err(MediaError::TooManyScans { scans: head.scans, limit: limits.max_jpeg_scans });
    }
    let blocks = u64::from(head.width.div_ceil(8)) * u64::from(head.height.div_ceil(8));
    if blocks > 8 * bytes.len() as u64 {
        return Err(MediaError::DataTooShort { width: head.width, height: head.height, size: bytes.len() });
    }
    Ok(())
}

/// Decodes to 8-bit RGB. The caller has checked the header ([`check`]) and the pixel and
/// allocation limits.
pub(crate) fn decode_rgb(bytes: &[u8], limits: &DecodeLimits) -> Result<Vec<u8>, MediaError> {
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .jpeg_set_max_scans(limits.max_jpeg_scans)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX));
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(map_error)?;
    let input = decoder.input_colorspace().ok_or_else(|| MediaError::Corrupt("JPEG: no colour space".into()))?;
    let out = match input {
        ColorSpace::RGB | ColorSpace::RGBA | ColorSpace::Luma | ColorSpace::LumaA => input,
        _ => ColorSpace::RGB,
    };
    decoder.set_options(decoder.options().jpeg_set_out_colorspace(out));
    let pixels = decoder.decode().map_err(map_error)?;
    Ok(match out {
        ColorSpace::RGBA => pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        ColorSpace::Luma => pixels.iter().flat_map(|&v| [v, v, v]).collect(),
        ColorSpace::LumaA => pixels.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0]]).collect(),
        _ => pixels,
    })
}

fn map_error(e: zune_jpeg::errors::DecodeErrors) -> MediaError {
    use zune_jpeg::errors::DecodeErrors as E;
    match e {
        E::Unsupported(what) => MediaError::UnsupportedFeature(format!("JPEG: {what:?}")),
        E::LargeDimensions(_) => MediaError::Corrupt("JPEG: dimensions out of range".into()),
        other => {
            let text = other.to_string();
            if text.contains("Premature end") || text.contains("Exhausted data") || text.contains("No more bytes") {
                MediaError::Truncated
            } else {
                MediaError::Corrupt(format!("JPEG: {text}"))
            }
        }
    }
}
