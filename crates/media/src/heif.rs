//! HEIC/HEIF and AVIF decoding through libheif (Debian `libheif-dev`, via `libheif-rs`), behind
//! the `heif` cargo feature.
//!
//! Issue 14 ("Phone formats"). ISO/IEC 23008-12 (HEIF) and AV1-ISOBMFF (AVIF). The primary image
//! is decoded with the transformations the file declares (rotation `irot`, mirror `imir`, crop
//! `clap`) applied, as `pillow-heif` and Pillow's AVIF plugin do, to interleaved 8-bit RGB;
//! alpha is not requested (so it is dropped, as `convert("RGB")` does). libheif chooses the
//! codec plugin (libde265 for HEVC, dav1d or libaom for AV1) that Debian built it with.
//!
//! Bounded like the other formats: the byte limit is checked by the caller, the primary image's
//! dimensions against the pixel and allocation limits before anything is decoded (a grid image
//! reports its full canvas), and libheif's own security limits stay at their defaults.
//! libheif is C: it is fuzzed through `crates/media/fuzz` like every other decoder.

use image::ImageFormat;
use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};

use crate::{DecodeLimits, DecodedImage, MediaError};

/// Decodes the primary image of a HEIF-family file to RGB within `limits`.
pub(crate) fn decode_rgb(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, MediaError> {
    let corrupt = |e: libheif_rs::HeifError| MediaError::Corrupt(format!("HEIF: {}", e.message));
    let context = HeifContext::read_from_bytes(bytes).map_err(corrupt)?;
    let handle = context.primary_image_handle().map_err(corrupt)?;
    let (width, height) = (handle.width(), handle.height());
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(MediaError::TooManyPixels { width, height, limit: limits.max_pixels });
    }
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt("HEIF: the primary image is empty".to_owned()));
    }
    // Decoded YCbCr planes (at most 16-bit 4:4:4) plus the interleaved RGB and our copy.
    if pixels.saturating_mul(6 + 3 + 3) > limits.max_alloc_bytes {
        return Err(MediaError::TooMuchMemory { limit: limits.max_alloc_bytes });
    }
    let lib = LibHeif::new();
    let image = lib.decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), None).map_err(corrupt)?;
    let planes = image.planes();
    let plane = planes.interleaved.ok_or_else(|| MediaError::Corrupt("HEIF: no interleaved RGB plane".to_owned()))?;
    let (w, h) = (plane.width as usize, plane.height as usize);
    if plane.storage_bits_per_pixel != 24 || w * 3 > plane.stride || plane.data.len() < plane.stride * h {
        return Err(MediaError::UnsupportedFeature(format!(
            "HEIF: decoded to {} bits per pixel",
            plane.storage_bits_per_pixel
        )));
    }
    let mut rgb = Vec::with_capacity(w * h * 3);
    for row in plane.data.chunks(plane.stride).take(h) {
        rgb.extend_from_slice(&row[..w * 3]);
    }
    // The decoded size can differ from the handle's after a crop or rotation.
    Ok(DecodedImage { width: plane.width, height: plane.height, format: ImageFormat::Avif, rgb })
}
