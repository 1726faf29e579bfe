//! Conformance of the issue-14 format kinds with the reference: files made by
//! `fixtures/media/make.py`, expected values from Pillow (`Image.open(p).convert("RGB")`, first
//! frame) and Meta's PDQ core (PyPI `pdqhash`), in `fixtures/media/expected.csv`.
//!
//! Lossless kinds (GIF, APNG, animated WebP, palette PNG) must give Pillow's exact RGB bytes and
//! hence the exact hash; lossy ones (CMYK JPEG, HEIC, AVIF) are within a decoder tolerance.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use staydown_media::{DecodeLimits, MediaError, decode_rgb, hash_image_bytes};
use staydown_pdq::PdqHash;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media")
}

struct Row {
    file: String,
    width: u32,
    height: u32,
    pdq: PdqHash,
    quality: u8,
    rgb_sha256: String,
    pytx_pdq: Option<PdqHash>,
    pytx_quality: Option<u8>,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(dir().join("expected.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 8, "{line}");
            Row {
                file: f[0].to_owned(),
                width: f[1].parse().unwrap(),
                height: f[2].parse().unwrap(),
                pdq: f[3].parse().unwrap(),
                quality: f[4].parse().unwrap(),
                rgb_sha256: f[5].to_owned(),
                pytx_pdq: (!f[6].is_empty()).then(|| f[6].parse().unwrap()),
                pytx_quality: (!f[7].is_empty()).then(|| f[7].parse().unwrap()),
            }
        })
        .collect()
}

fn row(file: &str) -> Row {
    rows().into_iter().find(|r| r.file == file).unwrap_or_else(|| panic!("no row {file}"))
}

/// Pixel-exact: same RGB bytes as Pillow, same hash and quality as the reference.
fn exact(file: &str) {
    let r = row(file);
    let bytes = std::fs::read(dir().join(file)).unwrap();
    let decoded = decode_rgb(&bytes, &DecodeLimits::default()).unwrap();
    assert_eq!((decoded.width, decoded.height), (r.width, r.height), "{file}");
    assert_eq!(hex::encode(Sha256::digest(&decoded.rgb)), r.rgb_sha256, "{file}: RGB differs from Pillow's");
    let got = hash_image_bytes(&bytes, &DecodeLimits::default()).unwrap();
    assert_eq!((got.pdq, got.quality), (r.pdq, r.quality), "{file}");
}

#[test]
fn gif_first_frame_is_composited_on_the_canvas_like_pillow() {
    exact("gif-partial.gif");
}

#[test]
fn gif_first_frame_with_transparency_fills_with_the_transparent_entry() {
    exact("gif-partial-transparent.gif");
}

#[test]
fn apng_hashes_its_default_image() {
    exact("apng.png");
}

#[test]
fn animated_webp_first_frame_starts_from_transparent_black() {
    exact("webp-anim-partial.webp");
}

#[test]
fn palette_png_is_expanded_through_its_palette() {
    exact("palette.png");
}

/// CMYK JPEG: Pillow inverts Adobe's stored ink and converts CMYK → RGB its own way; the `image`
/// crate's conversion differs slightly. Within the JPEG tolerance of docs/pdq.md.
#[test]
fn cmyk_jpeg_is_within_the_jpeg_tolerance() {
    let r = row("cmyk.jpg");
    let got = hash_image_bytes(&std::fs::read(dir().join("cmyk.jpg")).unwrap(), &DecodeLimits::default()).unwrap();
    let distance = got.pdq.hamming_distance(&r.pdq);
    eprintln!("cmyk.jpg: distance {distance}, quality {} vs {}", got.quality, r.quality);
    assert!(distance <= 8, "distance {distance}");
}

/// HEIC and AVIF through libheif, against Pillow with pillow-heif / Pillow's AVIF plugin (libavif).
/// Both are lossy and the YCbCr → RGB conversions differ by rounding, so: close, not equal.
#[cfg(feature = "heif")]
#[test]
fn heic_and_avif_decode_close_to_the_reference() {
    for file in ["phone.heic", "phone.avif"] {
        let r = row(file);
        let got = hash_image_bytes(&std::fs::read(dir().join(file)).unwrap(), &DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!((got.width, got.height), (r.width, r.height), "{file}");
        let distance = got.pdq.hamming_distance(&r.pdq);
        eprintln!("{file}: distance {distance}, quality {} vs {}", got.quality, r.quality);
        assert!(distance <= 8, "{file}: distance {distance}");
    }
}

#[cfg(feature = "heif")]
#[test]
fn heif_limits_are_checked_before_decoding() {
    let bytes = std::fs::read(dir().join("phone.heic")).unwrap();
    let limits = DecodeLimits { max_pixels: 100, ..DecodeLimits::default() };
    assert!(matches!(decode_rgb(&bytes, &limits), Err(MediaError::TooManyPixels { width: 64, height: 48, .. })));
    let mut truncated = bytes.clone();
    truncated.truncate(bytes.len() / 2);
    // Refused from its boxes before libheif sees it (issue 15).
    assert!(matches!(decode_rgb(&truncated, &DecodeLimits::default()), Err(MediaError::Truncated)));
}

#[cfg(not(feature = "heif"))]
#[test]
fn without_the_heif_feature_heic_is_unsupported() {
    let bytes = std::fs::read(dir().join("phone.heic")).unwrap();
    assert!(matches!(decode_rgb(&bytes, &DecodeLimits::default()), Err(MediaError::UnsupportedFormat)));
}

/// docs/banks.md ("Interoperability"): python-threatexchange (and so HMA) hashes palette images on
/// their palette indices and CMYK JPEGs on raw ink values. Pins both values: staydown's hash is
/// the reference's on Pillow RGB, and pytx's is far from it, so such banked hashes never match.
#[test]
fn python_threatexchange_differs_on_palette_and_cmyk_images() {
    for file in ["palette.png", "gif-partial.gif", "cmyk.jpg"] {
        let r = row(file);
        let pytx = r.pytx_pdq.unwrap_or_else(|| panic!("{file}: make.py ran without threatexchange"));
        let ours = hash_image_bytes(&std::fs::read(dir().join(file)).unwrap(), &DecodeLimits::default()).unwrap();
        let to_reference = ours.pdq.hamming_distance(&r.pdq);
        let to_pytx = ours.pdq.hamming_distance(&pytx);
        eprintln!(
            "{file}: staydown vs reference {to_reference}, staydown vs python-threatexchange {to_pytx} \
             (pytx quality {:?}, ours {})",
            r.pytx_quality, ours.quality
        );
        assert!(to_reference <= 8, "{file}");
        assert!(to_pytx > staydown_pdq::DEFAULT_MATCH_THRESHOLD, "{file}: {to_pytx}");
    }
    // Truecolour files agree: the difference is only palette and CMYK handling.
    let r = row("apng.png");
    assert_eq!(r.pytx_pdq, Some(r.pdq));
}
