//! Data, truncation and frame bounds of WebP, GIF, BMP and HEIF-family files (issue 15): each
//! hostile kind is refused from its headers with its reason, before any pixel buffer exists, and
//! well-formed files of the same format still decode. The files are built here, from the format
//! specifications; the expected figures are the specifications' (see `staydown_media::bounds`).

use std::path::{Path, PathBuf};

use staydown_media::{
    DecodeLimits, HEIF_PIXELS_PER_BYTE, LOSSLESS_PIXELS_PER_BYTE, LZW_PIXELS_PER_BYTE, MediaError, decode_cost,
    decode_rgb,
};
use staydown_testkit::hostile::{bmp8, heif_declaring as heif, riff, vp8l};

fn fixture(name: &str) -> Vec<u8> {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media");
    std::fs::read(dir.join(name)).unwrap()
}

/// `decode_rgb` and `decode_cost` both refuse `bytes`; the error of `decode_rgb`.
fn refused(bytes: &[u8]) -> MediaError {
    let limits = DecodeLimits::default();
    let cost = decode_cost(bytes, &limits);
    let err = decode_rgb(bytes, &limits).expect_err("refused");
    assert_eq!(cost.map_err(|e| e.reason()), Err(err.reason()), "decode_cost agrees with decode_rgb");
    err
}

// --- WebP (RFC 9649, RFC 6386) ---

/// A VP8 key frame header (RFC 6386 §9.1) declaring `w`×`h`, padded to `len` bytes.
fn vp8(w: u16, h: u16, len: usize) -> Vec<u8> {
    let first_partition = 0u32; // key frame, version 0, shown, partition size 0
    let tag = (first_partition << 5) | (1 << 4);
    let mut p = vec![tag as u8, (tag >> 8) as u8, (tag >> 16) as u8, 0x9d, 0x01, 0x2a];
    p.extend_from_slice(&w.to_le_bytes());
    p.extend_from_slice(&h.to_le_bytes());
    p.resize(len, 0);
    p
}

/// A lossy WebP needs at least one bit per 16×16 macroblock: 16000×6000 is 1000 × 375 = 375000
/// macroblocks, which 30 bytes (240 bits) cannot hold.
#[test]
fn a_lossy_webp_declaring_more_than_its_data_can_hold_is_refused() {
    let err = refused(&riff(&[(b"VP8 ", vp8(16000, 6000, 30))]));
    assert!(matches!(err, MediaError::DataTooShort { width: 16000, height: 6000, size: 30 }), "{err:?}");
    // 480 macroblocks (320×384) in 60 bytes (480 bits) is within the bound: the decoder, not the
    // bound, rejects the zero data.
    let within = decode_rgb(&riff(&[(b"VP8 ", vp8(320, 384, 60))]), &DecodeLimits::default());
    assert!(!matches!(within, Err(MediaError::DataTooShort { .. })), "{within:?}");
    let err = refused(&riff(&[(b"VP8 ", vp8(320, 400, 60))]));
    assert!(matches!(err, MediaError::DataTooShort { width: 320, height: 400, .. }), "{err:?}");
}

/// Lossless WebP is held to the densest PNG: 8256 pixels a byte. With 100 bytes of data,
/// 800×1032 = 825600 pixels is the most (exactly at the bound), 801×1032 is over it.
#[test]
fn a_lossless_webp_declaring_more_than_its_data_can_hold_is_refused() {
    assert_eq!(LOSSLESS_PIXELS_PER_BYTE, 8256);
    let err = refused(&riff(&[(b"VP8L", vp8l(801, 1032, 100))]));
    assert!(matches!(err, MediaError::DataTooShort { width: 801, height: 1032, size: 100 }), "{err:?}");
    let at_bound = decode_rgb(&riff(&[(b"VP8L", vp8l(800, 1032, 100))]), &DecodeLimits::default());
    assert!(!matches!(at_bound, Err(MediaError::DataTooShort { .. })), "at the bound: {at_bound:?}");
    let err = refused(&riff(&[(b"VP8L", vp8l(16384, 6000, 40))]));
    assert!(matches!(err, MediaError::DataTooShort { width: 16384, height: 6000, .. }), "{err:?}");
}

/// An extended WebP's canvas (VP8X, 24-bit sizes) is held to the same ratio over the file.
#[test]
fn an_extended_webp_canvas_out_of_proportion_is_refused() {
    let mut vp8x = vec![0u8; 10];
    let (w, h) = (10000u32 - 1, 10000u32 - 1);
    vp8x[4..7].copy_from_slice(&w.to_le_bytes()[..3]);
    vp8x[7..10].copy_from_slice(&h.to_le_bytes()[..3]);
    let err = refused(&riff(&[(b"VP8X", vp8x), (b"VP8L", vp8l(1, 1, 10))]));
    assert!(matches!(err, MediaError::DataTooShort { width: 10000, height: 10000, .. }), "{err:?}");
}

/// An animated WebP with more frames than the limit is refused before its first frame decodes.
#[test]
fn an_animated_webp_with_too_many_frames_is_refused() {
    let vp8x = vec![0x02u8, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // animation flag, 1×1 canvas
    let mut chunks: Vec<(&[u8; 4], Vec<u8>)> = vec![(b"VP8X", vp8x), (b"ANIM", vec![0; 6])];
    let mut frame = vec![0u8; 16];
    frame.extend_from_slice(&riff(&[(b"VP8L", vp8l(1, 1, 6))])[12..]);
    for _ in 0..1001 {
        chunks.push((b"ANMF", frame.clone()));
    }
    let err = refused(&riff(&chunks));
    assert!(matches!(err, MediaError::TooManyFrames { frames: 1001, limit: 1000 }), "{err:?}");
}

fn lossless_webp() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 90]));
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .encode(img.as_raw(), 64, 48, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A WebP cut short (its RIFF size past the end) is refused, not decoded in part; the whole file
/// decodes, and the lossy fixture too.
#[test]
fn a_truncated_webp_is_refused() {
    let webp = lossless_webp();
    let limits = DecodeLimits::default();
    assert_eq!(decode_rgb(&webp, &limits).unwrap().width, 64);
    decode_rgb(&fixture("canary.webp"), &limits).unwrap();
    decode_rgb(&fixture("webp-anim-partial.webp"), &limits).unwrap();
    for cut in [20, webp.len() / 2, webp.len() - 1] {
        let err = refused(&webp[..cut]);
        assert!(matches!(err, MediaError::Truncated), "cut at {cut}: {err:?}");
    }
}

// --- GIF (GIF89a) ---

fn gif(screen: (u16, u16), frames: usize, frame: (u16, u16)) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette = [0u8, 0, 0, 255, 255, 255];
        let mut encoder = gif::Encoder::new(&mut out, screen.0, screen.1, &palette).unwrap();
        for i in 0..frames {
            let pixels: Vec<u8> =
                (0..usize::from(frame.0) * usize::from(frame.1)).map(|p| ((p + i) % 2) as u8).collect();
            let mut f = gif::Frame::from_indexed_pixels(frame.0, frame.1, pixels, None);
            f.delay = 4;
            encoder.write_frame(&f).unwrap();
        }
    }
    out
}

/// A 10000×10000 logical screen (within the 100-million-pixel limit) around one 1×1 frame is a
/// few dozen bytes: more than 10922 pixels a byte, refused before a 100-million-byte canvas is
/// allocated. A normal GIF decodes.
#[test]
fn a_gif_with_a_huge_logical_screen_is_refused() {
    assert_eq!(LZW_PIXELS_PER_BYTE, 10922);
    let bomb = gif((10000, 10000), 1, (1, 1));
    assert!(bomb.len() < 100, "{} bytes", bomb.len());
    let err = refused(&bomb);
    assert!(matches!(err, MediaError::DataTooShort { width: 10000, height: 10000, .. }), "{err:?}");
    let fine = gif((64, 48), 3, (64, 48));
    let decoded = decode_rgb(&fine, &DecodeLimits::default()).unwrap();
    assert_eq!((decoded.width, decoded.height), (64, 48));
    decode_rgb(&fixture("gif-partial.gif"), &DecodeLimits::default()).unwrap();
}

/// 2000 frames: refused at the 1001st, before any is decoded; 1000 frames pass.
#[test]
fn a_gif_with_thousands_of_frames_is_refused() {
    let err = refused(&gif((2, 2), 2000, (2, 2)));
    assert!(matches!(err, MediaError::TooManyFrames { frames: 1001, limit: 1000 }), "{err:?}");
    decode_rgb(&gif((2, 2), 1000, (2, 2)), &DecodeLimits::default()).unwrap();
    let limits = DecodeLimits { max_frames: 10, ..DecodeLimits::default() };
    assert!(matches!(decode_rgb(&gif((2, 2), 11, (2, 2)), &limits), Err(MediaError::TooManyFrames { frames: 11, .. })));
}

/// A GIF cut inside its first image is refused as truncated, not filled.
#[test]
fn a_truncated_gif_is_refused() {
    let whole = gif((64, 48), 1, (64, 48));
    for cut in [12, 30, whole.len() / 2, whole.len() - 3] {
        let err = refused(&whole[..cut]);
        assert!(matches!(err, MediaError::Truncated), "cut at {cut} of {}: {err:?}", whole.len());
    }
    // Without its trailer byte the image is whole: accepted.
    decode_rgb(&whole[..whole.len() - 1], &DecodeLimits::default()).unwrap();
}

// --- BMP ---

/// RLE8: two bytes paint at most 255 pixels; a 10000×10000 bitmap whose data is one
/// end-of-bitmap escape (`00 01`) would leave 100 million pixels undefined. A bitmap painted by
/// runs decodes.
#[test]
fn an_rle_bmp_bomb_is_refused() {
    let err = refused(&bmp8(10000, 10000, 1, &[0, 1]));
    assert!(matches!(err, MediaError::DataTooShort { width: 10000, height: 10000, size: 2 }), "{err:?}");
    // Delta escapes (`00 02 dx dy`) skip pixels just as cheaply.
    let skips: Vec<u8> = (0..100).flat_map(|_| [0, 2, 255, 255]).chain([0, 1]).collect();
    let err = refused(&bmp8(5000, 5000, 1, &skips));
    assert!(matches!(err, MediaError::DataTooShort { .. }), "{err:?}");
    // 16×4 painted by one run a row: 4 × (run + end of line) + end of bitmap.
    let mut rows = Vec::new();
    for y in 0..4u8 {
        rows.extend_from_slice(&[16, y % 2, 0, 0]);
    }
    rows.extend_from_slice(&[0, 1]);
    let decoded = decode_rgb(&bmp8(16, 4, 1, &rows), &DecodeLimits::default()).unwrap();
    assert_eq!((decoded.width, decoded.height), (16, 4));
}

/// An uncompressed BMP whose pixel array is shorter than its rows is refused as truncated.
#[test]
fn a_truncated_bmp_is_refused() {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut bmp = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bmp, image::ImageFormat::Bmp).unwrap();
    let bmp = bmp.into_inner();
    assert_eq!(decode_rgb(&bmp, &DecodeLimits::default()).unwrap().width, 64);
    for cut in [40, bmp.len() / 2, bmp.len() - 1] {
        let err = refused(&bmp[..cut]);
        assert!(matches!(err, MediaError::Truncated), "cut at {cut}: {err:?}");
    }
    // Top-down (negative height) rows count the same.
    let err = refused(&bmp8(64, -48, 0, &[0; 64 * 47]));
    assert!(matches!(err, MediaError::Truncated), "{err:?}");
}

// --- HEIF / AVIF (ISO/IEC 14496-12, 23008-12) ---

/// HEVC codes at least one bit per 64×64 coding unit: 32768 pixels a byte. A 20000×5000 image in
/// a file of about a hundred bytes is refused; its decode cost is never reserved.
#[test]
fn a_heif_declaring_more_than_its_data_can_hold_is_refused() {
    assert_eq!(HEIF_PIXELS_PER_BYTE, 32768);
    let bomb = heif(20000, 5000, 16);
    let err = refused(&bomb);
    assert!(matches!(err, MediaError::DataTooShort { width: 20000, height: 5000, .. }), "{err:?}");
    // At the bound: the decode cost is read from the boxes (12 bytes a pixel plus the input).
    let file = heif(1, 1, 0);
    let at_bound = file.len() as u64 * HEIF_PIXELS_PER_BYTE;
    let fitting = heif(u32::try_from(at_bound).unwrap(), 1, 0);
    assert_eq!(decode_cost(&fitting, &DecodeLimits::default()).unwrap(), fitting.len() as u64 + at_bound * 12);
    let over = heif(u32::try_from(at_bound).unwrap() + 1, 1, 0);
    assert!(matches!(decode_cost(&over, &DecodeLimits::default()), Err(MediaError::DataTooShort { .. })));
}

/// A HEIF cut short (its last box running past the end) is refused; the phone's HEIC and AVIF
/// give a decode cost from their own size instead of the 100-megapixel worst case.
#[test]
fn a_truncated_heif_is_refused_and_a_whole_one_costs_its_size() {
    let limits = DecodeLimits::default();
    for name in ["phone.heic", "phone.avif", "canary.heic", "canary.avif"] {
        let bytes = fixture(name);
        let cost = decode_cost(&bytes, &limits).unwrap();
        assert!(cost < 100_000_000, "{name}: {cost}");
        for cut in [30, bytes.len() / 2, bytes.len() - 1] {
            let err = refused(&bytes[..cut]);
            assert!(matches!(err, MediaError::Truncated), "{name} cut at {cut}: {err:?}");
        }
    }
}
