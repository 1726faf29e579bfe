//! staydown-media: bounded decoding of untrusted image bytes, and the content hashes of an image.
//!
//! Implements the decoding half of `specs/pdq.md` ("The conformance target") and the "untrusted
//! bytes are bounded before decoding" rule of the design (§7.10, rule 5). Bytes in (an upload, a
//! file), 8-bit RGB out, the way Pillow's `Image.open(path).convert("RGB")` produces it, because
//! that is what the reference hashes were computed on:
//!
//! - palette images are expanded, greyscale is replicated to R, G and B;
//! - alpha is **discarded, not composited** (a transparent pixel keeps its stored colour);
//! - **no EXIF orientation** is applied (the dihedral PDQ variants cover rotations at match time);
//! - animated GIF/WebP/PNG: the first frame, composited on the full canvas as Pillow does (GIF:
//!   the area the first frame leaves uncovered takes palette entry 0, or the frame's transparent
//!   entry, see `gif_frame`; WebP: transparent black, as libwebp's animation decoder; APNG: the
//!   default image);
//! - 16-bit channels are scaled to 8 bits (`round(v · 255 / 65535)`). Pillow clips 16-bit greyscale
//!   (`I;16`) instead of scaling it; we do not copy that quirk (fixture `pytx/I16.png`).
//!
//! Formats: JPEG, PNG, WebP, GIF, BMP, and with the `heif` cargo feature (on in the `staydown`
//! binary, off for WebAssembly) HEIC/HEIF and AVIF through Debian's libheif (`heif` module),
//! recognised by their content, never by a file name. Everything else is
//! [`MediaError::UnsupportedFormat`].
//!
//! Limits ([`DecodeLimits`]): the byte length is checked first, then the dimensions from the
//! header, before any pixel buffer is allocated; the `image` crate's own allocation limit bounds
//! what decoders allocate on the way. Work is bounded by the input too (issue 15): a JPEG or PNG
//! whose declared size its data cannot possibly fill is refused ([`MediaError::DataTooShort`]), a
//! JPEG with more scans than [`DecodeLimits::max_jpeg_scans`] is refused, and truncated JPEG data
//! is an error ([`MediaError::Truncated`]) rather than a grey fill (`jpeg` module). WebP, GIF and
//! BMP have data, truncation and frame bounds of their own (`bounds` module), HEIF-family files a
//! complete box structure and a data bound on the size their `ispe` properties declare
//! (`isobmff` module).
//! [`decode_cost`] gives, from the headers alone, the memory a decode will take, so a server can
//! reserve it from a budget before decoding. A decompression bomb, a truncated or corrupt file gives a
//! typed [`MediaError`], never a panic or an unbounded allocation (fuzzed: `crates/media/fuzz`).
//! Time is bounded by the caller: the server runs [`hash_image_bytes`] inside
//! `tokio::task::spawn_blocking` under its own timeout; pixels and bytes bound the work here.
//!
//! ```no_run
//! let bytes = std::fs::read("photo.jpg")?;
//! let hashes = staydown_media::hash_image_bytes(&bytes, &staydown_media::DecodeLimits::default())?;
//! println!("{} q{} sha256 {}", hashes.pdq, hashes.quality, hashes.sha256_hex());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Cursor;

mod bounds;
/// Synthetic photo-like JPEGs: the drift corpus and the screening bench's uploads (issue 16).
#[cfg(feature = "turbojpeg")]
pub mod corpus;
mod gif_frame;
#[cfg(feature = "heif")]
mod heif;
mod isobmff;
mod jpeg;
#[cfg(feature = "turbojpeg")]
mod jpeg_scaled;
mod scaled_grid;
#[cfg(feature = "turbojpeg")]
pub use jpeg_scaled::{MIN_EIGHTH_SIDE, MIN_SCALED_SIDE, scale_denominator};

pub use bounds::{LOSSLESS_PIXELS_PER_BYTE, LZW_PIXELS_PER_BYTE};
pub use isobmff::HEIF_PIXELS_PER_BYTE;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};
use md5::Md5;
use sha2::{Digest, Sha256};
use staydown_pdq::{ImageRef, PdqHash, PdqOutput};

/// Bounds on what one decode may consume. The defaults suit a notice form and a bank import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted input, in bytes (default 50 MB).
    pub max_bytes: usize,
    /// Largest accepted `width × height` (default 100 million pixels).
    pub max_pixels: u64,
    /// Largest total allocation a decoder may make, in bytes, including the decoded image
    /// (default 1 GiB: room for 100 Mpx of 16-bit RGBA, the widest layout).
    pub max_alloc_bytes: u64,
    /// Most scans (start-of-scan markers) a JPEG may have (default 32: libjpeg's standard
    /// progressive script has 10 for colour images, 6 for greyscale). Each scan of a progressive
    /// JPEG is another pass over the whole image, so a file repeating scans multiplies the work.
    pub max_jpeg_scans: usize,
    /// Most frames a GIF or an animated WebP may have (default 1000: 40 s at 25 frames a
    /// second). Only the first frame is decoded, but a file repeating frames by the thousand
    /// costs every later stage that walks it.
    pub max_frames: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_bytes: 50_000_000,
            max_pixels: 100_000_000,
            max_alloc_bytes: 1 << 30,
            max_jpeg_scans: 32,
            max_frames: 1000,
        }
    }
}

/// Why bytes could not be decoded to pixels. Each variant is a stable, user-facing reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The input is larger than [`DecodeLimits::max_bytes`].
    #[error("image is {size} bytes, the limit is {limit}")]
    TooManyBytes {
        /// Input length.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The header announces more pixels than [`DecodeLimits::max_pixels`].
    #[error("image is {width}×{height} pixels, the limit is {limit} pixels")]
    TooManyPixels {
        /// Announced width.
        width: u32,
        /// Announced height.
        height: u32,
        /// The limit.
        limit: u64,
    },
    /// Decoding would allocate more than [`DecodeLimits::max_alloc_bytes`].
    #[error("decoding the image needs more memory than the limit of {limit} bytes")]
    TooMuchMemory {
        /// The limit.
        limit: u64,
    },
    /// Not a JPEG, PNG, WebP, GIF or BMP file (nor HEIC/HEIF/AVIF with the `heif` feature).
    #[error("not a supported image format ({})", SUPPORTED_NAMES)]
    UnsupportedFormat,
    /// A supported format using a feature the decoder does not implement.
    #[error("unsupported image feature: {0}")]
    UnsupportedFeature(String),
    /// Truncated, corrupt or otherwise undecodable data.
    #[error("corrupt or truncated image: {0}")]
    Corrupt(String),
    /// The header declares more pixels than the file's data could possibly describe (a JPEG
    /// needs at least one bit per 8×8 block, a PNG at least 1/1032 of its raw rows: deflate's
    /// largest ratio).
    #[error("the image declares {width}×{height} pixels, more than its {size} bytes can hold")]
    DataTooShort {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Input length in bytes.
        size: usize,
    },
    /// A JPEG with more scans than [`DecodeLimits::max_jpeg_scans`].
    #[error("the JPEG has {scans} scans, the limit is {limit}")]
    TooManyScans {
        /// Scans in the file.
        scans: usize,
        /// The limit.
        limit: usize,
    },
    /// The image data ends before the image does.
    #[error("the image data is truncated")]
    Truncated,
    /// A GIF or animated WebP with more frames than [`DecodeLimits::max_frames`].
    #[error("the image has more than {limit} frames")]
    TooManyFrames {
        /// Frames counted (counting stops just past the limit).
        frames: usize,
        /// The limit.
        limit: usize,
    },
    /// The caller's stop signal was raised ([`hash_image_bytes_until`]): the time was up.
    #[error("decoding was stopped")]
    Stopped,
}

impl MediaError {
    /// A stable, machine-readable reason for API problems (`too_many_bytes`, `too_many_pixels`,
    /// `too_much_memory`, `unsupported_format`, `unsupported_feature`, `corrupt`,
    /// `data_too_short`, `too_many_scans`, `truncated`, `too_many_frames`).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TooManyBytes { .. } => "too_many_bytes",
            Self::TooManyPixels { .. } => "too_many_pixels",
            Self::TooMuchMemory { .. } => "too_much_memory",
            Self::UnsupportedFormat => "unsupported_format",
            Self::UnsupportedFeature(_) => "unsupported_feature",
            Self::Corrupt(_) => "corrupt",
            Self::DataTooShort { .. } => "data_too_short",
            Self::TooManyScans { .. } => "too_many_scans",
            Self::Truncated => "truncated",
            Self::TooManyFrames { .. } => "too_many_frames",
            Self::Stopped => "stopped",
        }
    }
}

/// A decoded image: 8-bit RGB, row-major, no padding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The container format it was decoded from. HEIC/HEIF and AVIF (the `heif` feature) both
    /// report [`ImageFormat::Avif`]: AVIF is the AV1 profile of HEIF and `image` has no HEIC value.
    pub format: ImageFormat,
    /// `width × height × 3` bytes.
    pub rgb: Vec<u8>,
}

impl DecodedImage {
    /// PDQ hash and quality of the pixels.
    pub fn pdq(&self) -> PdqOutput {
        staydown_pdq::hash(&self.image_ref())
    }

    /// The eight dihedral PDQ hashes and quality of the pixels.
    pub fn pdq_dihedral(&self) -> staydown_pdq::DihedralOutput {
        staydown_pdq::hash_dihedral(&self.image_ref())
    }

    fn image_ref(&self) -> ImageRef<'_> {
        // `decode_rgb` builds `rgb` with exactly width × height × 3 bytes and the dimensions fit in
        // memory (the buffer exists), so the checks in `ImageRef::rgb8` cannot fail.
        ImageRef::rgb8(self.width as usize, self.height as usize, &self.rgb)
            .expect("decoded buffer matches its dimensions")
    }
}

#[cfg(feature = "heif")]
const SUPPORTED_NAMES: &str = "JPEG, PNG, WebP, GIF, BMP, HEIC/HEIF, AVIF";
#[cfg(not(feature = "heif"))]
const SUPPORTED_NAMES: &str = "JPEG, PNG, WebP, GIF, BMP";

/// Whether the bytes are an ISO base media file of the HEIF family (HEIC, HEIF, AVIF), by the
/// brands of its leading `ftyp` box (ISO/IEC 23008-12 §10, AV1-ISOBMFF §4).
pub fn is_heif_family(bytes: &[u8]) -> bool {
    const BRANDS: [&[u8; 4]; 11] =
        [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis", b"mif2"];
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = size.clamp(16, bytes.len().min(256));
    let major = &bytes[8..12];
    BRANDS.iter().any(|b| major == *b) || bytes[16..end].chunks_exact(4).any(|c| BRANDS.iter().any(|b| c == *b))
}

const SUPPORTED: [ImageFormat; 5] =
    [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP, ImageFormat::Gif, ImageFormat::Bmp];

fn map_error(err: ImageError, limits: &DecodeLimits) -> MediaError {
    match err {
        ImageError::Limits(_) => MediaError::TooMuchMemory { limit: limits.max_alloc_bytes },
        ImageError::Unsupported(e) => match e.kind() {
            image::error::UnsupportedErrorKind::Format(_) => MediaError::UnsupportedFormat,
            _ => MediaError::UnsupportedFeature(e.to_string()),
        },
        ImageError::Decoding(e) => MediaError::Corrupt(e.to_string()),
        ImageError::Parameter(e) => MediaError::Corrupt(e.to_string()),
        ImageError::IoError(e) => MediaError::Corrupt(e.to_string()),
        ImageError::Encoding(e) => MediaError::Corrupt(e.to_string()),
    }
}

/// Decodes untrusted bytes to 8-bit RGB as `specs/pdq.md` defines, within `limits`.
pub fn decode_rgb(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, MediaError> {
    if bytes.len() > limits.max_bytes {
        return Err(MediaError::TooManyBytes { size: bytes.len(), limit: limits.max_bytes });
    }
    if is_heif_family(bytes) {
        heif_bounds(bytes)?;
        #[cfg(feature = "heif")]
        return heif::decode_rgb(bytes, limits);
        #[cfg(not(feature = "heif"))]
        return Err(MediaError::UnsupportedFormat);
    }
    // Content sniffing only; a Cursor over a slice cannot fail to seek.
    let reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let format = reader.format().ok_or(MediaError::UnsupportedFormat)?;
    if !SUPPORTED.contains(&format) {
        return Err(MediaError::UnsupportedFormat);
    }
    format_bounds(format, bytes, limits)?;
    if format == ImageFormat::Gif {
        let (width, height, rgb) = gif_frame::first_frame_rgb(bytes, limits)?;
        return Ok(DecodedImage { width, height, format, rgb });
    }
    if format == ImageFormat::Jpeg {
        let head = jpeg::header(bytes)?;
        check_dimensions(head.width, head.height, limits)?;
        jpeg::check(bytes, &head, limits)?;
        if jpeg_cost(&head) > limits.max_alloc_bytes {
            return Err(MediaError::TooMuchMemory { limit: limits.max_alloc_bytes });
        }
        let rgb = jpeg::decode_rgb(bytes, limits)?;
        if rgb.len() as u64 != u64::from(head.width) * u64::from(head.height) * 3 {
            return Err(MediaError::Corrupt("JPEG: decoded size differs from the header".into()));
        }
        return Ok(DecodedImage { width: head.width, height: head.height, format, rgb });
    }
    if format == ImageFormat::Png {
        png_data_check(bytes, limits)?;
    }
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_alloc_bytes);
    let mut reader = reader;
    reader.limits(image_limits);
    let decoder = reader.into_decoder().map_err(|e| map_error(e, limits))?;

    // Dimensions come from the header: refuse oversized images before any pixel buffer exists.
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(MediaError::TooManyPixels { width, height, limit: limits.max_pixels });
    }
    // The decoded buffer, plus the RGB copy when the layout is not RGB8 already, must fit the
    // allocation limit (`DynamicImage::from_decoder` does not check it; decoders check their own
    // working memory against the limit set above).
    let rgb_bytes = u64::from(width) * u64::from(height) * 3;
    let needed = decoder.total_bytes().saturating_add(if decoder.color_type() == image::ColorType::Rgb8 {
        0
    } else {
        rgb_bytes
    });
    if needed > limits.max_alloc_bytes {
        return Err(MediaError::TooMuchMemory { limit: limits.max_alloc_bytes });
    }
    let image = DynamicImage::from_decoder(decoder).map_err(|e| map_error(e, limits))?;
    let rgb = to_rgb8(image);
    Ok(DecodedImage { width, height, format, rgb })
}

/// The data, truncation and frame bounds of WebP, GIF and BMP (`bounds`).
fn format_bounds(format: ImageFormat, bytes: &[u8], limits: &DecodeLimits) -> Result<(), MediaError> {
    match format {
        ImageFormat::WebP => bounds::webp(bytes, limits),
        ImageFormat::Gif => bounds::gif(bytes, limits),
        ImageFormat::Bmp => bounds::bmp(bytes),
        _ => Ok(()),
    }
}

/// A HEIF-family file's boxes complete and its declared size within the data bound; the largest
/// size it declares. (The pixel limit is checked on the primary image, in `heif`.)
fn heif_bounds(bytes: &[u8]) -> Result<Option<(u32, u32)>, MediaError> {
    let declared = isobmff::read(bytes)?;
    isobmff::check(bytes, &declared)?;
    Ok(declared.largest)
}

fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), MediaError> {
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(MediaError::TooManyPixels { width, height, limit: limits.max_pixels });
    }
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt("the image is empty".into()));
    }
    Ok(())
}

/// Bytes a JPEG decode holds at its peak: the decoder's output (up to one byte a component) and
/// our RGB copy, plus for a progressive JPEG the coefficients of every component (16 bits each)
/// kept until the last scan.
fn jpeg_cost(head: &jpeg::JpegHeader) -> u64 {
    let pixels = u64::from(head.width) * u64::from(head.height);
    let components = u64::from(head.components.clamp(1, 4));
    let coefficients = if head.progressive { pixels * components * 2 } else { 0 };
    pixels * (components + 3) + coefficients
}

/// A PNG's raw rows (filter byte plus at least one bit per pixel) cannot be more than 1032 times
/// its compressed data (RFC 1951: a 258-byte match costs at least two bits).
fn png_data_check(bytes: &[u8], limits: &DecodeLimits) -> Result<(), MediaError> {
    let Some(ihdr) = bytes.get(16..24) else { return Ok(()) };
    let width = u32::from_be_bytes([ihdr[0], ihdr[1], ihdr[2], ihdr[3]]);
    let height = u32::from_be_bytes([ihdr[4], ihdr[5], ihdr[6], ihdr[7]]);
    check_dimensions(width, height, limits)?;
    let raw = u64::from(height) * (1 + u64::from(width).div_ceil(8));
    if raw > 1032 * bytes.len() as u64 {
        return Err(MediaError::DataTooShort { width, height, size: bytes.len() });
    }
    Ok(())
}

/// The memory, in bytes, that decoding `bytes` and hashing the pixels will hold at its peak,
/// from the headers alone (no pixel is decoded), after every check that needs no pixel: the byte,
/// pixel, data and scan bounds. A server reserves this much from its decode budget first.
///
/// # Errors
/// The [`MediaError`] that [`decode_rgb`] would give for the same headers.
pub fn decode_cost(bytes: &[u8], limits: &DecodeLimits) -> Result<u64, MediaError> {
    if bytes.len() > limits.max_bytes {
        return Err(MediaError::TooManyBytes { size: bytes.len(), limit: limits.max_bytes });
    }
    let input = bytes.len() as u64;
    if is_heif_family(bytes) {
        // At 6 + 3 + 3 bytes a pixel (see `heif`) of the largest image the boxes declare (or of
        // the pixel limit when they declare none), plus the input; never more than the decoder
        // may allocate at all, so a budget as large as `max_alloc_bytes` always admits one HEIF
        // decode at a time. libheif's own limits stay on.
        let declared = heif_bounds(bytes)?;
        if let Some((width, height)) = declared {
            check_dimensions(width, height, limits)?;
        }
        let pixels = declared.map_or(limits.max_pixels, |(w, h)| u64::from(w) * u64::from(h));
        return Ok(limits.max_alloc_bytes.min(input.saturating_add(pixels.saturating_mul(12))));
    }
    let reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| MediaError::Corrupt(e.to_string()))?;
    let format = reader.format().ok_or(MediaError::UnsupportedFormat)?;
    if !SUPPORTED.contains(&format) {
        return Err(MediaError::UnsupportedFormat);
    }
    if format == ImageFormat::Jpeg {
        let head = jpeg::header(bytes)?;
        check_dimensions(head.width, head.height, limits)?;
        jpeg::check(bytes, &head, limits)?;
        return Ok(input + jpeg_cost(&head));
    }
    format_bounds(format, bytes, limits)?;
    if format == ImageFormat::Png {
        png_data_check(bytes, limits)?;
    }
    let (width, height) = reader.into_dimensions().map_err(|e| map_error(e, limits))?;
    check_dimensions(width, height, limits)?;
    // The widest decoded layout (16-bit RGBA, 8 bytes) plus the RGB copy.
    Ok(input + u64::from(width) * u64::from(height) * (8 + 3))
}

/// Pillow-style `convert("RGB")`: grey replicated, alpha dropped (not composited), 16-bit and
/// float channels scaled to 8 bits by the `image` crate's rounding conversion.
fn to_rgb8(image: DynamicImage) -> Vec<u8> {
    match image {
        DynamicImage::ImageRgb8(buf) => buf.into_raw(),
        DynamicImage::ImageRgba8(buf) => buf.into_raw().chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        DynamicImage::ImageLuma8(buf) => buf.into_raw().iter().flat_map(|&v| [v, v, v]).collect(),
        DynamicImage::ImageLumaA8(buf) => buf.into_raw().chunks_exact(2).flat_map(|p| [p[0], p[0], p[0]]).collect(),
        other => other.into_rgb8().into_raw(),
    }
}

/// Everything staydown records about an image's content: the perceptual hash for stay-down
/// matching and the exact-match digests external hash lists use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentHashes {
    /// PDQ hash of the decoded pixels.
    pub pdq: PdqHash,
    /// PDQ quality 0–100 (below 50: do not match on the PDQ hash).
    pub quality: u8,
    /// The eight dihedral PDQ variants (rotations and mirror images) from the same DCT;
    /// `dihedral.original == pdq`. Screening matches them against banks with `dihedral` on.
    pub dihedral: staydown_pdq::DihedralHashes,
    /// SHA-256 of the bytes as received.
    pub sha256: [u8; 32],
    /// MD5 of the bytes as received.
    pub md5: [u8; 16],
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl ContentHashes {
    /// SHA-256 as 64 lowercase hex digits.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// MD5 as 32 lowercase hex digits.
    pub fn md5_hex(&self) -> String {
        hex::encode(self.md5)
    }
}

/// Decodes `bytes` within `limits` and computes PDQ (with quality), SHA-256 and MD5.
///
/// This is the entry point for the server (inside `spawn_blocking`, under its timeout) and for
/// `staydown hash`. The digests are of the bytes exactly as given.
pub fn hash_image_bytes(bytes: &[u8], limits: &DecodeLimits) -> Result<ContentHashes, MediaError> {
    hash_image_bytes_until(bytes, limits, &|| false)
}

/// [`hash_image_bytes`] that gives up with [`MediaError::Stopped`] as soon as `stop` returns true
/// at one of its steps (before decoding, after decoding, after hashing), dropping what it holds.
/// One step itself (the pixel decode, the PDQ hash) runs to its end; the data and scan bounds
/// bound how long that is.
pub fn hash_image_bytes_until(
    bytes: &[u8],
    limits: &DecodeLimits,
    stop: &dyn Fn() -> bool,
) -> Result<ContentHashes, MediaError> {
    if stop() {
        return Err(MediaError::Stopped);
    }
    let decoded = decode_rgb(bytes, limits)?;
    if stop() {
        return Err(MediaError::Stopped);
    }
    // One DCT gives the plain hash and its seven dihedral variants (specs/pdq.md step 6).
    let pdq = decoded.pdq_dihedral();
    Ok(ContentHashes {
        pdq: pdq.hashes.original,
        quality: pdq.quality,
        dihedral: pdq.hashes,
        sha256: Sha256::digest(bytes).into(),
        md5: Md5::digest(bytes).into(),
        width: decoded.width,
        height: decoded.height,
    })
}

/// A JPEG decoded at a reduced scale for the screening lookup ([`decode_jpeg_scaled`]): 8-bit
/// luminance (JFIF's Y), `width × height`, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaledLuma {
    /// Width of the reduced image, `ceil(original width / denominator)`.
    pub(crate) width: u32,
    /// Height of the reduced image.
    pub(crate) height: u32,
    /// The scale's denominator: 2, 4 or 8.
    pub(crate) denominator: u32,
    /// Width of the image as the file declares it.
    pub(crate) original_width: u32,
    /// Height of the image as the file declares it.
    pub(crate) original_height: u32,
    /// `width × height` bytes.
    pub(crate) luma: Vec<u8>,
}

impl ScaledLuma {
    /// Width and height of the reduced image.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The scale's denominator: 2, 4 or 8.
    pub fn denominator(&self) -> u32 {
        self.denominator
    }

    /// The luminance, `width × height` bytes, row-major.
    pub fn luma(&self) -> &[u8] {
        &self.luma
    }

    /// The eight dihedral PDQ hashes and quality of the original image, estimated from the
    /// reduced one: PDQ's 64×64 grid is filtered on the original image's pixel positions
    /// (`scaled_grid::pdq_grid`), then the DCT and the bits as usual.
    pub fn pdq_dihedral(&self) -> staydown_pdq::DihedralOutput {
        let grid = scaled_grid::pdq_grid(
            &self.luma,
            (self.width, self.height),
            (self.original_width, self.original_height),
            self.denominator,
        );
        // A 64×64 input is hashed without further filtering (specs/pdq.md step 2).
        let image = ImageRef::luma_f32(64, 64, &grid).expect("64×64 grid");
        staydown_pdq::hash_dihedral(&image)
    }
}

/// Decodes a JPEG straight to ½, ¼ or ⅛ of its size, as luminance, after every header bound of
/// [`decode_rgb`] (bytes, pixels, data, scans, memory). `Ok(None)` when the bytes are not a
/// JPEG this path takes (another format, CMYK/YCCK/RGB coding, smaller than
/// [`MIN_SCALED_SIDE`] at ½, or a file libjpeg-turbo refuses or warns about): decode those with
/// [`decode_rgb`], which gives the exact answer or the typed error. Without the `turbojpeg`
/// feature it is always `Ok(None)`.
///
/// For looking an upload up only: the PDQ hash of the reduced image differs from the exact one
/// by a few bits (docs/perf.md); hashes that are stored, exported or shared come from
/// [`hash_image_bytes`].
///
/// # Errors
/// The header bounds' [`MediaError`]s, as [`decode_rgb`] gives them.
pub fn decode_jpeg_scaled(bytes: &[u8], limits: &DecodeLimits) -> Result<Option<ScaledLuma>, MediaError> {
    Ok(checked_jpeg_header(bytes, limits)?.and_then(|head| scaled_luma(bytes, &head, None)))
}

/// [`decode_jpeg_scaled`] at a chosen denominator (2, 4 or 8) instead of the one
/// [`MIN_SCALED_SIDE`] gives: for measuring each scale's drift (docs/screening-perf.md).
///
/// # Errors
/// As [`decode_jpeg_scaled`].
pub fn decode_jpeg_scaled_at(
    bytes: &[u8],
    limits: &DecodeLimits,
    denominator: u32,
) -> Result<Option<ScaledLuma>, MediaError> {
    if !matches!(denominator, 2 | 4 | 8) {
        return Ok(None);
    }
    Ok(checked_jpeg_header(bytes, limits)?.and_then(|head| scaled_luma(bytes, &head, Some(denominator))))
}

/// The header of a JPEG after every bound [`decode_rgb`] checks before decoding; `None` for
/// another format.
fn checked_jpeg_header(bytes: &[u8], limits: &DecodeLimits) -> Result<Option<jpeg::JpegHeader>, MediaError> {
    if bytes.len() > limits.max_bytes {
        return Err(MediaError::TooManyBytes { size: bytes.len(), limit: limits.max_bytes });
    }
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(None);
    }
    let head = jpeg::header(bytes)?;
    check_dimensions(head.width, head.height, limits)?;
    jpeg::check(bytes, &head, limits)?;
    if jpeg_cost(&head) > limits.max_alloc_bytes {
        return Err(MediaError::TooMuchMemory { limit: limits.max_alloc_bytes });
    }
    Ok(Some(head))
}

#[cfg(feature = "turbojpeg")]
fn scaled_luma(bytes: &[u8], head: &jpeg::JpegHeader, denominator: Option<u32>) -> Option<ScaledLuma> {
    let denominator = denominator.unwrap_or_else(|| scale_denominator(head.width, head.height));
    if denominator == 1 || !matches!(head.components, 1 | 3) {
        return None;
    }
    let (width, height, luma) = jpeg_scaled::decode_luma(bytes, head.width, head.height, denominator)?;
    Some(ScaledLuma { width, height, denominator, original_width: head.width, original_height: head.height, luma })
}

#[cfg(not(feature = "turbojpeg"))]
fn scaled_luma(_bytes: &[u8], _head: &jpeg::JpegHeader, _denominator: Option<u32>) -> Option<ScaledLuma> {
    None
}

/// Which exact-match digests a screening lookup computes ([`hash_image_for_lookup_until`]): only
/// those some bank holds can match anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digests {
    /// SHA-256 of the bytes.
    pub sha256: bool,
    /// MD5 of the bytes.
    pub md5: bool,
}

impl Digests {
    /// Both digests.
    pub const ALL: Digests = Digests { sha256: true, md5: true };
}

/// What [`hash_image_for_lookup_until`] gives: the PDQ hashes an upload is looked up by, and the
/// digests that were asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupHashes {
    /// PDQ hash (from the scaled decode when `scale` is set: for the lookup only).
    pub pdq: PdqHash,
    /// PDQ quality 0–100.
    pub quality: u8,
    /// The eight dihedral PDQ variants; `dihedral.original == pdq`.
    pub dihedral: staydown_pdq::DihedralHashes,
    /// SHA-256 of the bytes as received, when asked for.
    pub sha256: Option<[u8; 32]>,
    /// MD5 of the bytes as received, when asked for.
    pub md5: Option<[u8; 16]>,
    /// Width of the image as the file declares it, in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The scale's denominator when the PDQ hashes came from a DCT-scaled decode; `None`: decoded
    /// exactly, the hashes are the stored kind.
    pub scale: Option<u32>,
}

/// The screening lookup's hashes: a JPEG that [`decode_jpeg_scaled`] takes is hashed from its
/// reduced decode, anything else exactly; SHA-256 and MD5 (of the bytes either way) only as
/// `digests` says. Stops as [`hash_image_bytes_until`] does.
///
/// # Errors
/// As [`hash_image_bytes_until`].
pub fn hash_image_for_lookup_until(
    bytes: &[u8],
    limits: &DecodeLimits,
    stop: &dyn Fn() -> bool,
    digests: Digests,
) -> Result<LookupHashes, MediaError> {
    if stop() {
        return Err(MediaError::Stopped);
    }
    let (pdq, width, height, scale) = match decode_jpeg_scaled(bytes, limits)? {
        Some(scaled) => {
            if stop() {
                return Err(MediaError::Stopped);
            }
            (scaled.pdq_dihedral(), scaled.original_width, scaled.original_height, Some(scaled.denominator))
        }
        None => {
            let decoded = decode_rgb(bytes, limits)?;
            if stop() {
                return Err(MediaError::Stopped);
            }
            (decoded.pdq_dihedral(), decoded.width, decoded.height, None)
        }
    };
    Ok(LookupHashes {
        pdq: pdq.hashes.original,
        quality: pdq.quality,
        dihedral: pdq.hashes,
        sha256: digests.sha256.then(|| Sha256::digest(bytes).into()),
        md5: digests.md5.then(|| Md5::digest(bytes).into()),
        width,
        height,
        scale,
    })
}

/// [`hash_image_for_lookup_until`] with both digests, as [`ContentHashes`]. The second value is
/// the scale's denominator (`None`: decoded exactly, the hashes are the stored kind). Width and
/// height are the original image's.
///
/// # Errors
/// As [`hash_image_bytes_until`].
pub fn hash_image_bytes_for_lookup_until(
    bytes: &[u8],
    limits: &DecodeLimits,
    stop: &dyn Fn() -> bool,
) -> Result<(ContentHashes, Option<u32>), MediaError> {
    let l = hash_image_for_lookup_until(bytes, limits, stop, Digests::ALL)?;
    Ok((
        ContentHashes {
            pdq: l.pdq,
            quality: l.quality,
            dihedral: l.dihedral,
            sha256: l.sha256.unwrap_or_else(|| Sha256::digest(bytes).into()),
            md5: l.md5.unwrap_or_else(|| Md5::digest(bytes).into()),
            width: l.width,
            height: l.height,
        },
        l.scale,
    ))
}
