//! The first frame of a GIF, composited on the full logical screen the way Pillow does it.
//!
//! Issue 14 ("Animated and multi-frame images"). GIF89a §20–§23: a frame is an image descriptor
//! placed at (left, top) on the logical screen, with its own or the global colour table. Pillow
//! (`GifImagePlugin`, frame 0) keeps the image in palette mode: it starts from a canvas of the
//! frame's transparency index when the frame has one, else of index 0, decodes the frame's
//! indices into its rectangle (transparent pixels keep their index), and `convert("RGB")` then
//! maps every index through the palette. So the area a first frame does not cover takes the
//! colour of palette entry 0 (or of the transparent entry), not black and not the GIF's
//! background colour. The `image` crate fills that area with transparent black instead, which
//! moved the PDQ hash of such files far from the reference; this module replaces it for GIF.
//!
//! Bounded like every decode: the logical screen is checked against the pixel and allocation
//! limits before any buffer exists, and the `gif` crate's per-frame memory limit bounds the
//! frame decode.

use std::io::Cursor;
use std::num::NonZeroU64;

use crate::{DecodeLimits, MediaError};

/// Decodes the first frame of `bytes` (a GIF) to RGB on the full logical screen.
/// Returns `(width, height, rgb)`.
pub(crate) fn first_frame_rgb(bytes: &[u8], limits: &DecodeLimits) -> Result<(u32, u32, Vec<u8>), MediaError> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    if let Some(limit) = NonZeroU64::new(limits.max_alloc_bytes) {
        options.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    let map_error = |e| map_error(e, limits);
    let mut decoder = options.read_info(Cursor::new(bytes)).map_err(map_error)?;
    let (width, height) = (u32::from(decoder.width()), u32::from(decoder.height()));
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(MediaError::TooManyPixels { width, height, limit: limits.max_pixels });
    }
    // Indices plus RGB.
    if pixels.saturating_mul(4) > limits.max_alloc_bytes {
        return Err(MediaError::TooMuchMemory { limit: limits.max_alloc_bytes });
    }
    let global = decoder.global_palette().map(<[u8]>::to_vec);
    let frame = decoder
        .read_next_frame()
        .map_err(map_error)?
        .ok_or_else(|| MediaError::Corrupt("the GIF has no image".to_owned()))?;
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt("the GIF's logical screen is empty".to_owned()));
    }
    let fill = frame.transparent.unwrap_or(0);
    let (w, h) = (width as usize, height as usize);
    let mut canvas = vec![fill; w * h];
    let (left, top) = (usize::from(frame.left), usize::from(frame.top));
    let frame_width = usize::from(frame.width);
    if frame_width > 0 {
        for (row, line) in frame.buffer.chunks_exact(frame_width).enumerate() {
            let y = top + row;
            if y >= h || left >= w {
                break;
            }
            let n = frame_width.min(w - left);
            canvas[y * w + left..][..n].copy_from_slice(&line[..n]);
        }
    }
    let palette = frame.palette.as_deref().or(global.as_deref());
    let rgb = match palette {
        Some(palette) => {
            // Pillow's palette has 256 entries; entries the file does not define are black.
            let mut table = [[0u8; 3]; 256];
            for (entry, colour) in table.iter_mut().zip(palette.chunks_exact(3)) {
                entry.copy_from_slice(colour);
            }
            canvas.iter().flat_map(|&i| table[usize::from(i)]).collect()
        }
        // No colour table at all: Pillow reads the indices as grey levels ("L" mode).
        None => canvas.iter().flat_map(|&v| [v, v, v]).collect(),
    };
    Ok((width, height, rgb))
}

fn map_error(err: gif::DecodingError, limits: &DecodeLimits) -> MediaError {
    match err {
        gif::DecodingError::MemoryLimit | gif::DecodingError::OutOfMemory => {
            MediaError::TooMuchMemory { limit: limits.max_alloc_bytes }
        }
        other => MediaError::Corrupt(other.to_string()),
    }
}
