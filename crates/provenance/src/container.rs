//! Bounded walkers for the image containers whose metadata we read: JPEG segments, PNG chunks,
//! WebP (RIFF) chunks, and HEIC/AVIF metadata items (through libheif, `crate::heif`). They only locate payloads (XMP packets, EXIF blocks, PNG text chunks); the
//! payloads are parsed elsewhere.
//!
//! Written by hand rather than through an image library because the walk is small, needs no pixel
//! decoding, and keeps every bound (chunk count, declared lengths, inflated sizes) in this crate's
//! [`Limits`]. References: JPEG ITU T.81 Annex B (markers), XMP Specification Part 3 §1.1 (JPEG
//! APP1, PNG iTXt, WebP chunk), PNG 3rd ed. §11.3 (text chunks, eXIf), WebP container spec (RIFF).

use miniz_oxide::inflate::decompress_to_vec_zlib_with_limit;

use crate::{Limits, MetadataError};

/// The container format, sniffed from the first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JPEG / JFIF / EXIF (`FF D8 FF`).
    Jpeg,
    /// PNG (8-byte signature).
    Png,
    /// WebP (`RIFF` … `WEBP`).
    Webp,
    /// HEIC/HEIF (ISO/IEC 23008-12): an ISOBMFF `ftyp` box naming a HEIF brand.
    Heif,
    /// AVIF: an ISOBMFF `ftyp` box naming `avif` or `avis`.
    Avif,
    /// Anything else: only C2PA (which knows more formats) is tried.
    Other,
}

impl Format {
    /// Sniffs the format from magic bytes.
    #[must_use]
    pub fn sniff(bytes: &[u8]) -> Self {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Self::Jpeg
        } else if bytes.starts_with(PNG_SIGNATURE) {
            Self::Png
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Self::Webp
        } else if let Some(format) = sniff_isobmff(bytes) {
            format
        } else {
            Self::Other
        }
    }

    /// The MIME type, for libraries that want a format hint.
    #[must_use]
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Heif => "image/heic",
            Self::Avif => "image/avif",
            Self::Other => "application/octet-stream",
        }
    }
}

/// HEIF brands (ISO/IEC 23008-12 Annex B, HEVC and generic image brands) and AVIF brands.
const HEIF_BRANDS: [&[u8; 4]; 8] = [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"];
const AVIF_BRANDS: [&[u8; 4]; 2] = [b"avif", b"avis"];

/// An ISOBMFF file starting with an `ftyp` box (ISO/IEC 14496-12 §4.3): HEIF or AVIF by its major
/// or compatible brands, AVIF first (AVIF files list `mif1` too).
fn sniff_isobmff(bytes: &[u8]) -> Option<Format> {
    if bytes.get(4..8)? != b"ftyp" {
        return None;
    }
    let size = usize::try_from(u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?)).ok()?;
    // Major brand, minor version, then compatible brands up to the box's end.
    let ftyp = bytes.get(8..size.clamp(16, 4096).min(bytes.len()))?;
    let brands: Vec<&[u8]> =
        std::iter::once(ftyp.get(0..4)?).chain(ftyp.get(8..).unwrap_or_default().chunks_exact(4)).collect();
    if brands.iter().any(|b| AVIF_BRANDS.iter().any(|a| b == a)) {
        Some(Format::Avif)
    } else if brands.iter().any(|b| HEIF_BRANDS.iter().any(|h| b == h)) {
        Some(Format::Heif)
    } else {
        None
    }
}

/// One PNG text chunk, decoded to a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChunk {
    /// The chunk type: `tEXt`, `zTXt` or `iTXt`; `stealth_pngcomp` / `stealth_pnginfo` for
    /// NovelAI's alpha-channel payload (`Software` and `Source` only).
    pub chunk: &'static str,
    /// The keyword (Latin-1 per the PNG spec; decoded lossily).
    pub keyword: String,
    /// The text (Latin-1 for tEXt/zTXt, UTF-8 for iTXt; decoded lossily).
    pub text: String,
}

/// The metadata payloads found in one file, plus the problems met while looking for them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata {
    /// XMP packets, as raw bytes (parsed by [`crate::xmp`]).
    pub xmp: Vec<Vec<u8>>,
    /// EXIF blocks (TIFF structure starting at the byte-order mark).
    pub exif: Vec<Vec<u8>>,
    /// PNG text chunks other than the XMP one.
    pub png_text: Vec<TextChunk>,
    /// XMP packets refused (too large).
    pub xmp_errors: Vec<MetadataError>,
    /// PNG text chunks that could not be decoded (bad structure, inflate failure, limits).
    pub png_text_errors: Vec<MetadataError>,
    /// Structural problems of the container itself; the walk stopped at the first one, and what
    /// was read before it is kept.
    pub errors: Vec<MetadataError>,
}

const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const XMP_JPEG_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
pub(crate) const EXIF_JPEG_ID: &[u8] = b"Exif\0\0";
const XMP_PNG_KEYWORD: &str = "XML:com.adobe.xmp";

/// Finds the metadata payloads in `bytes`. Never fails: structural problems are recorded in
/// [`Metadata::errors`] and the walk stops there.
#[must_use]
pub fn read_metadata(bytes: &[u8], limits: &Limits) -> Metadata {
    let mut metadata = Metadata::default();
    let result = match Format::sniff(bytes) {
        Format::Jpeg => walk_jpeg(bytes, limits, &mut metadata),
        Format::Png => {
            let walked = walk_png(bytes, limits, &mut metadata);
            for chunk in crate::stealth::read(bytes, limits) {
                if metadata.png_text.len() < limits.max_text_chunks {
                    metadata.png_text.push(chunk);
                }
            }
            walked
        }
        Format::Webp => walk_webp(bytes, limits, &mut metadata),
        #[cfg(feature = "heif")]
        Format::Heif | Format::Avif => crate::heif::walk_heif(bytes, limits, &mut metadata),
        // Built without libheif: only C2PA is tried on these.
        #[cfg(not(feature = "heif"))]
        Format::Heif | Format::Avif => Ok(()),
        Format::Other => Ok(()),
    };
    if let Err(err) = result {
        metadata.errors.push(err);
    }
    metadata
}

fn truncated(what: &'static str, offset: usize, needed: u64, available: usize) -> MetadataError {
    MetadataError::Truncated { what, offset, needed, available }
}

/// `bytes[offset..offset + len]`, or a `Truncated` error naming `what`.
fn slice<'a>(bytes: &'a [u8], offset: usize, len: u64, what: &'static str) -> Result<&'a [u8], MetadataError> {
    let available = bytes.len().saturating_sub(offset);
    match usize::try_from(len) {
        Ok(len) if len <= available => Ok(&bytes[offset..offset + len]),
        _ => Err(truncated(what, offset, len, available)),
    }
}

fn be_u16(bytes: &[u8], offset: usize, what: &'static str) -> Result<u16, MetadataError> {
    let b = slice(bytes, offset, 2, what)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn be_u32(bytes: &[u8], offset: usize, what: &'static str) -> Result<u32, MetadataError> {
    let b = slice(bytes, offset, 4, what)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn le_u32(bytes: &[u8], offset: usize, what: &'static str) -> Result<u32, MetadataError> {
    let b = slice(bytes, offset, 4, what)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn count_chunk(count: &mut usize, limits: &Limits) -> Result<(), MetadataError> {
    *count += 1;
    if *count > limits.max_chunks {
        return Err(MetadataError::LimitExceeded { what: "chunks/segments per file", limit: limits.max_chunks });
    }
    Ok(())
}

pub(crate) fn push_xmp(payload: &[u8], limits: &Limits, metadata: &mut Metadata) {
    if payload.len() > limits.max_xmp_bytes {
        metadata
            .xmp_errors
            .push(MetadataError::LimitExceeded { what: "XMP packet bytes", limit: limits.max_xmp_bytes });
    } else {
        metadata.xmp.push(payload.to_vec());
    }
}

/// Walks JPEG marker segments up to the first SOS (T.81 B.1.1.2). Metadata lives in APPn
/// segments before the scan; we stop at SOS rather than scanning entropy-coded data.
fn walk_jpeg(bytes: &[u8], limits: &Limits, metadata: &mut Metadata) -> Result<(), MetadataError> {
    let mut offset = 2; // after SOI
    let mut count = 0;
    loop {
        count_chunk(&mut count, limits)?;
        // Markers are 0xFF followed by a code; extra 0xFF fill bytes are allowed (B.1.1.2).
        let first = *bytes.get(offset).ok_or_else(|| truncated("JPEG marker", offset, 2, 0))?;
        if first != 0xFF {
            return Err(MetadataError::Malformed {
                what: "JPEG marker",
                detail: format!("expected 0xFF at offset {offset}, found {first:#04x}"),
            });
        }
        while bytes.get(offset + 1) == Some(&0xFF) {
            offset += 1;
        }
        let code = *bytes.get(offset + 1).ok_or_else(|| truncated("JPEG marker", offset, 2, 1))?;
        offset += 2;
        match code {
            // Standalone markers without a length: TEM, RSTn, SOI.
            0x01 | 0xD0..=0xD8 => continue,
            // EOI or SOS: no more metadata segments to read.
            0xD9 | 0xDA => return Ok(()),
            _ => {}
        }
        let length = be_u16(bytes, offset, "JPEG segment length")?;
        if length < 2 {
            return Err(MetadataError::Malformed {
                what: "JPEG segment length",
                detail: format!("{length} at offset {offset} (minimum 2)"),
            });
        }
        let payload = slice(bytes, offset + 2, u64::from(length) - 2, "JPEG segment")?;
        offset += usize::from(length);
        if code == 0xE1 {
            if let Some(xmp) = payload.strip_prefix(XMP_JPEG_ID) {
                push_xmp(xmp, limits, metadata);
            } else if let Some(exif) = payload.strip_prefix(EXIF_JPEG_ID) {
                metadata.exif.push(exif.to_vec());
            }
        }
    }
}

/// Walks PNG chunks (PNG §5.3) up to IEND. CRCs are not checked: a bad CRC does not make the
/// metadata less informative, and the decoder that renders the image checks them.
fn walk_png(bytes: &[u8], limits: &Limits, metadata: &mut Metadata) -> Result<(), MetadataError> {
    let mut offset = PNG_SIGNATURE.len();
    let mut count = 0;
    let mut inflated_total = 0usize;
    while offset < bytes.len() {
        count_chunk(&mut count, limits)?;
        let length = be_u32(bytes, offset, "PNG chunk length")?;
        if length > 0x7FFF_FFFF {
            return Err(MetadataError::Malformed {
                what: "PNG chunk length",
                detail: format!("{length} at offset {offset} exceeds 2^31-1"),
            });
        }
        let kind = slice(bytes, offset + 4, 4, "PNG chunk type")?;
        let data = slice(bytes, offset + 8, u64::from(length), "PNG chunk data")?;
        // CRC must be present even though it is not checked.
        slice(bytes, offset + 8 + data.len(), 4, "PNG chunk CRC")?;
        offset += 12 + data.len();
        match kind {
            b"IEND" => return Ok(()),
            b"eXIf" => metadata.exif.push(data.to_vec()),
            b"tEXt" | b"zTXt" | b"iTXt" => {
                if metadata.png_text.len() >= limits.max_text_chunks {
                    metadata
                        .png_text_errors
                        .push(MetadataError::LimitExceeded { what: "PNG text chunks", limit: limits.max_text_chunks });
                    continue;
                }
                match decode_text_chunk(kind, data, limits, &mut inflated_total) {
                    Ok(chunk) if chunk.keyword == XMP_PNG_KEYWORD => push_xmp(chunk.text.as_bytes(), limits, metadata),
                    Ok(chunk) => metadata.png_text.push(chunk),
                    Err(err) => metadata.png_text_errors.push(err),
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Decodes `tEXt`, `zTXt` and `iTXt` (PNG §11.3.3), inflating compressed text within
/// `max_inflated_bytes` per chunk and `max_total_inflated_bytes` per file (zip-bomb guard).
fn decode_text_chunk(
    kind: &[u8],
    data: &[u8],
    limits: &Limits,
    inflated_total: &mut usize,
) -> Result<TextChunk, MetadataError> {
    let (chunk, what) = match kind {
        b"tEXt" => ("tEXt", "PNG tEXt"),
        b"zTXt" => ("zTXt", "PNG zTXt"),
        _ => ("iTXt", "PNG iTXt"),
    };
    let nul = data
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| MetadataError::Malformed { what, detail: "keyword not NUL-terminated".to_owned() })?;
    // Keywords are 1–79 bytes (PNG §11.3.3.2).
    if nul == 0 || nul > 79 {
        return Err(MetadataError::Malformed { what, detail: format!("keyword length {nul}") });
    }
    let keyword = latin1(&data[..nul]);
    let rest = &data[nul + 1..];
    let text = match chunk {
        "tEXt" => latin1(rest),
        "zTXt" => {
            let (&method, compressed) = rest.split_first().ok_or_else(|| truncated(what, nul + 1, 1, 0))?;
            check_method(method, what)?;
            latin1(&inflate(compressed, what, limits, inflated_total)?)
        }
        _ => {
            let [flag, method, tail @ ..] = rest else {
                return Err(truncated(what, nul + 1, 2, rest.len()));
            };
            // Language tag and translated keyword, each NUL-terminated, precede the text.
            let mut tail = tail;
            for _ in 0..2 {
                let end = tail.iter().position(|&b| b == 0).ok_or_else(|| MetadataError::Malformed {
                    what,
                    detail: "language tag or translated keyword not NUL-terminated".to_owned(),
                })?;
                tail = &tail[end + 1..];
            }
            match flag {
                0 => String::from_utf8_lossy(tail).into_owned(),
                1 => {
                    check_method(*method, what)?;
                    String::from_utf8_lossy(&inflate(tail, what, limits, inflated_total)?).into_owned()
                }
                other => {
                    return Err(MetadataError::Malformed { what, detail: format!("compression flag {other}") });
                }
            }
        }
    };
    Ok(TextChunk { chunk, keyword, text })
}

fn check_method(method: u8, what: &'static str) -> Result<(), MetadataError> {
    // 0 (zlib deflate) is the only method PNG defines.
    if method == 0 {
        Ok(())
    } else {
        Err(MetadataError::Malformed { what, detail: format!("compression method {method}") })
    }
}

fn inflate(
    compressed: &[u8],
    what: &'static str,
    limits: &Limits,
    inflated_total: &mut usize,
) -> Result<Vec<u8>, MetadataError> {
    let remaining = limits.max_total_inflated_bytes.saturating_sub(*inflated_total);
    let cap = limits.max_inflated_bytes.min(remaining);
    let out = decompress_to_vec_zlib_with_limit(compressed, cap).map_err(|err| {
        if err.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
            MetadataError::LimitExceeded { what: "inflated PNG text bytes", limit: cap }
        } else {
            MetadataError::Inflate { what, detail: format!("{:?}", err.status) }
        }
    })?;
    *inflated_total += out.len();
    Ok(out)
}

/// PNG text is ISO 8859-1: every byte is the code point of the same value.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Walks RIFF chunks of a WebP file (WebP container spec): `EXIF` and `XMP ` chunks.
fn walk_webp(bytes: &[u8], limits: &Limits, metadata: &mut Metadata) -> Result<(), MetadataError> {
    let riff_size = le_u32(bytes, 4, "RIFF size")?;
    // The RIFF size counts from offset 8; never read past it or past the buffer.
    let end = usize::try_from(riff_size).map_or(bytes.len(), |size| bytes.len().min(size.saturating_add(8)));
    let bytes = &bytes[..end];
    let mut offset = 12;
    let mut count = 0;
    while offset + 8 <= bytes.len() {
        count_chunk(&mut count, limits)?;
        let fourcc = slice(bytes, offset, 4, "RIFF chunk id")?;
        let size = le_u32(bytes, offset + 4, "RIFF chunk size")?;
        let data = slice(bytes, offset + 8, u64::from(size), "RIFF chunk data")?;
        // Chunks are padded to an even size.
        offset = offset + 8 + data.len() + (data.len() & 1);
        match fourcc {
            b"EXIF" => {
                // Some writers keep JPEG's "Exif\0\0" prefix; the spec says the TIFF header
                // starts the payload. Accept both.
                let exif = data.strip_prefix(EXIF_JPEG_ID).unwrap_or(data);
                metadata.exif.push(exif.to_vec());
            }
            b"XMP " => push_xmp(data, limits, metadata),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_formats() {
        assert_eq!(Format::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Format::Jpeg);
        assert_eq!(Format::sniff(PNG_SIGNATURE), Format::Png);
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Format::Webp);
        assert_eq!(Format::sniff(b"GIF89a"), Format::Other);
        assert_eq!(Format::sniff(b""), Format::Other);
        assert_eq!(Format::sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"), Format::Heif);
        assert_eq!(Format::sniff(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf"), Format::Avif);
        assert_eq!(Format::sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif"), Format::Avif);
        // An MP4 video is ISOBMFF too, but not an image.
        assert_eq!(Format::sniff(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2"), Format::Other);
        assert_eq!(Format::sniff(b"\0\0\0\x08ftyp"), Format::Other);
    }

    #[test]
    fn jpeg_segment_longer_than_file_is_truncated_error() {
        let bytes = [0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, b'E', b'x'];
        let metadata = read_metadata(&bytes, &Limits::default());
        assert!(matches!(
            metadata.errors.as_slice(),
            [MetadataError::Truncated { what: "JPEG segment", needed: 65533, .. }]
        ));
    }

    #[test]
    fn png_chunk_with_huge_declared_length_is_rejected_without_allocating() {
        let mut bytes = PNG_SIGNATURE.to_vec();
        bytes.extend_from_slice(&0x7FFF_FFF0u32.to_be_bytes());
        bytes.extend_from_slice(b"tEXt");
        bytes.extend_from_slice(b"a\0b");
        let metadata = read_metadata(&bytes, &Limits::default());
        assert!(matches!(metadata.errors.as_slice(), [MetadataError::Truncated { what: "PNG chunk data", .. }]));
        assert!(metadata.png_text.is_empty());
    }

    #[test]
    fn chunk_count_is_bounded() {
        let mut bytes = PNG_SIGNATURE.to_vec();
        for _ in 0..50 {
            bytes.extend_from_slice(&[0, 0, 0, 0, b'a', b'b', b'c', b'd', 0, 0, 0, 0]);
        }
        let limits = Limits { max_chunks: 10, ..Limits::default() };
        let metadata = read_metadata(&bytes, &limits);
        assert_eq!(metadata.errors, vec![MetadataError::LimitExceeded { what: "chunks/segments per file", limit: 10 }]);
    }

    #[test]
    fn webp_riff_size_smaller_than_chunks_stops_cleanly() {
        let mut bytes = b"RIFF".to_vec();
        bytes.extend_from_slice(&4u32.to_le_bytes());
        bytes.extend_from_slice(b"WEBPXMP ");
        bytes.extend_from_slice(&100u32.to_le_bytes());
        let metadata = read_metadata(&bytes, &Limits::default());
        assert!(metadata.xmp.is_empty());
        assert!(metadata.errors.is_empty());
    }
}
