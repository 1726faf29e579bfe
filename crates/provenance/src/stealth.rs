//! NovelAI's data hidden in the alpha channel of a PNG (`stealth_pngcomp`, `stealth_pnginfo`),
//! written so that the generation metadata survives sites that strip text chunks (issue 14).
//!
//! Format (as NovelAI and the `stable-diffusion-webui-stealth-pnginfo` extension write and read
//! it): the least significant bit of each alpha value, pixels taken column by column (x outer,
//! y inner), forms a bit stream, most significant bit first per byte: 15 bytes of signature
//! (`stealth_pngcomp` = gzip-compressed payload, `stealth_pnginfo` = plain), a 32-bit big-endian
//! payload length in **bits**, then the payload: a JSON object with `Software`, `Source`,
//! `Description` (the prompt), `Comment` (settings)…
//!
//! Only `Software` and `Source` are returned, as text chunks for `interpret` (which turns them into
//! tokens); the prompt is never read out of the JSON. Bounded: only 8-bit RGBA PNGs of at most
//! [`Limits::max_stealth_pixels`] are decoded (the `png` crate's own limit set to that size), the
//! payload length is capped by [`Limits::max_inflated_bytes`], and the gzip stream is inflated with
//! that cap.

use std::io::Cursor;

use miniz_oxide::inflate::decompress_to_vec_with_limit;

use crate::Limits;
use crate::container::TextChunk;

const SIGNATURE_LEN: usize = 15;

/// The `Software` and `Source` fields of the hidden payload, if the PNG carries one.
pub(crate) fn read(bytes: &[u8], limits: &Limits) -> Vec<TextChunk> {
    payload(bytes, limits)
        .map(|(kind, json)| {
            ["Software", "Source"]
                .into_iter()
                .filter_map(|field| {
                    let value = crate::interpret::first_string_value(&json, field)?;
                    Some(TextChunk { chunk: kind, keyword: field.to_owned(), text: value })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn payload(bytes: &[u8], limits: &Limits) -> Option<(&'static str, String)> {
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits { bytes: usize::try_from(limits.max_stealth_pixels.saturating_mul(4)).ok()? },
    );
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().ok()?;
    let info = reader.info();
    if info.color_type != png::ColorType::Rgba || info.bit_depth != png::BitDepth::Eight {
        return None;
    }
    let (width, height) = (info.width as usize, info.height as usize);
    if (width as u64) * (height as u64) > limits.max_stealth_pixels || width == 0 || height == 0 {
        return None;
    }
    let mut buf = vec![0; reader.output_buffer_size()?];
    let frame = reader.next_frame(&mut buf).ok()?;
    let stride = frame.line_size;
    let total_bits = width * height;
    let bit = |n: usize| -> u8 {
        let (x, y) = (n / height, n % height);
        buf[y * stride + x * 4 + 3] & 1
    };
    let byte = |at: usize| -> u8 { (0..8).fold(0u8, |acc, i| (acc << 1) | bit(at * 8 + i)) };
    if total_bits < (SIGNATURE_LEN + 4) * 8 {
        return None;
    }
    let signature: Vec<u8> = (0..SIGNATURE_LEN).map(byte).collect();
    let kind = match signature.as_slice() {
        b"stealth_pngcomp" => "stealth_pngcomp",
        b"stealth_pnginfo" => "stealth_pnginfo",
        _ => return None,
    };
    let length_bits = (SIGNATURE_LEN..SIGNATURE_LEN + 4).fold(0usize, |acc, i| (acc << 8) | usize::from(byte(i)));
    let length = length_bits / 8;
    let start = SIGNATURE_LEN + 4;
    if length > limits.max_inflated_bytes || (start + length) * 8 > total_bits {
        return None;
    }
    let data: Vec<u8> = (start..start + length).map(byte).collect();
    let text = if kind == "stealth_pngcomp" { gunzip(&data, limits.max_inflated_bytes)? } else { data };
    Some((kind, String::from_utf8_lossy(&text).into_owned()))
}

/// Inflates a gzip member (RFC 1952): header, optional fields, raw deflate data.
fn gunzip(data: &[u8], max: usize) -> Option<Vec<u8>> {
    if data.len() < 18 || data[0] != 0x1f || data[1] != 0x8b || data[2] != 8 {
        return None;
    }
    let flags = data[3];
    let mut at = 10;
    if flags & 0x04 != 0 {
        let extra = usize::from(u16::from_le_bytes([*data.get(at)?, *data.get(at + 1)?]));
        at += 2 + extra;
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            at += data.get(at..)?.iter().position(|&b| b == 0)? + 1;
        }
    }
    if flags & 0x02 != 0 {
        at += 2;
    }
    decompress_to_vec_with_limit(data.get(at..)?, max).ok()
}
