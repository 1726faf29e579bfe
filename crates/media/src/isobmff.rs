//! The box structure of a HEIF-family file (HEIC, HEIF, AVIF), read without decoding: whether it
//! is complete, and the largest image size it declares (issue 15).
//!
//! ISO/IEC 14496-12 §4.2: a box is a 32-bit size (1: a 64-bit size follows the type; 0: to the
//! end of the file) and a four-character type. ISO/IEC 23008-12 §6.5.3: the `ispe` property
//! (in `meta` → `iprp` → `ipco`) gives an image item's width and height, both 32-bit; a grid
//! image's `ispe` is its full canvas, so the largest `ispe` bounds what the primary image decodes
//! to. Pure Rust, no libheif: the server reads the decode cost from here with or without the
//! `heif` feature.

use crate::MediaError;

/// Most pixels a byte of a HEIF-family file may declare. HEVC (ITU-T H.265 §7.3.8.5, §9.3.2.x):
/// in an intra picture every coding unit (at most 64×64) codes its luma intra mode with at least
/// one bypass bin (`mpm_idx` or `rem_intra_luma_pred_mode`), one bit, so a byte holds at most
/// 8 × 4096 pixels. AV1 has no such mandatory bit; AVIF is held to the same ratio as a policy.
pub const HEIF_PIXELS_PER_BYTE: u64 = 8 * 64 * 64;

/// What the boxes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Declared {
    /// Width and height of the largest `ispe` property, if any.
    pub largest: Option<(u32, u32)>,
}

/// One box: its type, payload range.
struct BoxAt<'a> {
    kind: &'a [u8],
    payload: &'a [u8],
}

/// The boxes in `bytes`, each complete, or `Truncated` when one runs past the end.
fn boxes(bytes: &[u8]) -> Result<Vec<BoxAt<'_>>, MediaError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let header = bytes.get(at..at + 8).ok_or(MediaError::Truncated)?;
        let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as u64;
        let kind = &header[4..8];
        let (size, header_len) = match size32 {
            0 => ((bytes.len() - at) as u64, 8),
            1 => {
                let large = bytes.get(at + 8..at + 16).ok_or(MediaError::Truncated)?;
                (u64::from_be_bytes(large.try_into().map_err(|_| MediaError::Truncated)?), 16)
            }
            n => (n, 8),
        };
        if size < header_len as u64 {
            return Err(MediaError::Corrupt(format!(
                "HEIF: box `{}` is smaller than its header",
                String::from_utf8_lossy(kind)
            )));
        }
        let end = (at as u64).checked_add(size).filter(|e| *e <= bytes.len() as u64).ok_or(MediaError::Truncated)?;
        out.push(BoxAt { kind, payload: &bytes[at + header_len..end as usize] });
        at = end as usize;
    }
    Ok(out)
}

/// Reads the top-level boxes (all must be complete) and the `ispe` properties in `meta`.
///
/// # Errors
/// [`MediaError::Truncated`] when a box, at the top or on the way to the properties, runs past
/// its container; [`MediaError::Corrupt`] for a box smaller than its own header.
pub fn read(bytes: &[u8]) -> Result<Declared, MediaError> {
    let mut declared = Declared::default();
    for top in boxes(bytes)? {
        if top.kind != b"meta" {
            continue;
        }
        // `meta` is a full box: version and flags first.
        for child in boxes(top.payload.get(4..).unwrap_or_default())? {
            if child.kind != b"iprp" {
                continue;
            }
            for container in boxes(child.payload)? {
                if container.kind != b"ipco" {
                    continue;
                }
                for property in boxes(container.payload)? {
                    if property.kind != b"ispe" {
                        continue;
                    }
                    let p = property.payload;
                    let (Some(w), Some(h)) = (p.get(4..8), p.get(8..12)) else { return Err(MediaError::Truncated) };
                    let w = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
                    let h = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
                    let area = |d: Option<(u32, u32)>| d.map_or(0, |(w, h)| u64::from(w) * u64::from(h));
                    if area(Some((w, h))) > area(declared.largest) {
                        declared.largest = Some((w, h));
                    }
                }
            }
        }
    }
    Ok(declared)
}

/// The declared size's data bound: at most [`HEIF_PIXELS_PER_BYTE`] pixels a byte.
pub fn check(bytes: &[u8], declared: &Declared) -> Result<(), MediaError> {
    if let Some((width, height)) = declared.largest
        && u64::from(width) * u64::from(height) > HEIF_PIXELS_PER_BYTE * bytes.len() as u64
    {
        return Err(MediaError::DataTooShort { width, height, size: bytes.len() });
    }
    Ok(())
}
