use staydown_provenance::{Limits, MetadataError, ProvenanceError, Source, Strength, Verdict, read_metadata};

use crate::build::{
    dst, itext, jpeg_exif, jpeg_with_app1, jpeg_xmp, png_chunk, png_with, text, tiff, webp_with, xmp_packet, ztext,
};
use crate::{analyze, signal};

#[test]
fn zip_bomb_ztxt_stops_at_the_limit() {
    // 64 MiB of zeros compress to ~64 KiB; the limit is 4 MiB per chunk.
    let bomb = vec![0u8; 64 * 1024 * 1024];
    let png = png_with(&[ztext("parameters", &bomb), itext("parameters", &"A".repeat(1 << 23), true)]);
    assert!(png.len() < 200_000);
    let metadata = read_metadata(&png, &Limits::default());
    assert!(metadata.png_text.is_empty());
    assert!(
        metadata
            .png_text_errors
            .iter()
            .all(|e| matches!(e, MetadataError::LimitExceeded { what: "inflated PNG text bytes", .. })),
        "{:?}",
        metadata.png_text_errors
    );
    assert_eq!(metadata.png_text_errors.len(), 2);
    let p = analyze(&png);
    assert_eq!(p.ai_generated, Verdict::Unknown);
    assert!(p.signals.iter().all(|s| s.source == Source::PngText && s.key == "error" && s.strength == Strength::Weak));
}

#[test]
fn total_inflated_budget_is_shared_by_all_chunks() {
    let limits = Limits { max_inflated_bytes: 1000, max_total_inflated_bytes: 1500, ..Limits::default() };
    let chunk = ztext("Comment", &[b'x'; 800]);
    let metadata = read_metadata(&png_with(&[chunk.clone(), chunk]), &limits);
    assert_eq!(metadata.png_text.len(), 1);
    assert_eq!(
        metadata.png_text_errors,
        vec![MetadataError::LimitExceeded { what: "inflated PNG text bytes", limit: 700 }]
    );
}

#[test]
fn corrupt_compressed_text_is_an_inflate_error() {
    let mut data = b"parameters\0\0".to_vec();
    data.extend_from_slice(&[0x78, 0x9C, 0xFF, 0xFF, 0xFF]);
    let metadata = read_metadata(&png_with(&[png_chunk(b"zTXt", &data)]), &Limits::default());
    assert!(matches!(metadata.png_text_errors.as_slice(), [MetadataError::Inflate { .. }]));
}

#[test]
fn deep_xml_nesting_is_reported_not_followed() {
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let xmp = xmp_packet(&format!(r#"Iptc4xmpExt:DigitalSourceType="{}""#, dst("trainedAlgorithmicMedia")), &deep);
    let p = analyze(&png_with(&[itext("XML:com.adobe.xmp", &xmp, true)]));
    // The packet is not trusted piecemeal: no verdict from it, one error signal.
    assert_eq!(p.ai_generated, Verdict::Unknown);
    assert!(signal(&p, Source::Xmp, "error").value.contains("XMP nesting depth"));
}

#[test]
fn oversized_xmp_packet_is_refused() {
    let limits = Limits { max_xmp_bytes: 100, ..Limits::default() };
    let xmp = xmp_packet("", "");
    let p = staydown_provenance::analyze(&webp_with(None, Some(&xmp)), &limits).expect("analyze");
    assert!(signal(&p, Source::Xmp, "error").value.contains("XMP packet bytes"));
}

#[test]
fn too_large_input_is_a_typed_error() {
    let limits = Limits { max_bytes: 10, ..Limits::default() };
    assert_eq!(staydown_provenance::analyze(&[0u8; 11], &limits), Err(ProvenanceError::TooLarge { len: 11, max: 10 }));
}

#[test]
fn malformed_text_chunks_are_skipped_with_typed_errors() {
    let no_nul = png_chunk(b"tEXt", b"parameters-without-separator");
    let long_keyword = png_chunk(b"tEXt", &[&[b'k'; 100][..], b"\0v"].concat());
    let bad_flag = png_chunk(b"iTXt", b"k\0\x07\0\0\0text");
    let good = text("Software", "NovelAI");
    let metadata = read_metadata(&png_with(&[no_nul, long_keyword, bad_flag, good]), &Limits::default());
    assert_eq!(metadata.png_text.len(), 1, "the good chunk after the bad ones is still read");
    assert_eq!(metadata.png_text_errors.len(), 3);
    assert!(metadata.png_text_errors.iter().all(|e| matches!(e, MetadataError::Malformed { .. })));
}

#[test]
fn text_chunk_count_is_bounded() {
    let limits = Limits { max_text_chunks: 5, ..Limits::default() };
    let chunks: Vec<_> = (0..20).map(|i| text("Comment", &i.to_string())).collect();
    let metadata = read_metadata(&png_with(&chunks), &limits);
    assert_eq!(metadata.png_text.len(), 5);
    assert_eq!(metadata.png_text_errors.len(), 15);
}

#[test]
fn signal_values_and_counts_are_bounded() {
    let limits = Limits { max_value_chars: 20, max_signals: 3, ..Limits::default() };
    let long = format!("x\nSteps: 1, Sampler: {}, Model: flux1-dev", "y".repeat(10_000));
    let chunks: Vec<_> = [
        "GIMP",
        "Photoshop",
        "Snapseed",
        "Pixelmator",
        "Lightroom",
        "Paint.NET",
        "Midjourney",
        "Firefly",
        "Grok",
        "Flux",
    ]
    .into_iter()
    .map(|tool| text("Software", tool))
    .chain([text("parameters", &long)])
    .collect();
    let p = staydown_provenance::analyze(&png_with(&chunks), &limits).expect("analyze");
    assert_eq!(p.signals.len(), 3);
    // Values are tokens now (issue 14), but the bound still holds for a long error token.
    let p = staydown_provenance::analyze(&png_with(&[text("parameters", &long)]), &limits).expect("analyze");
    assert_eq!(p.signals[0].value, "Flux");
    let limits = Limits { max_value_chars: 5, ..Limits::default() };
    let p = staydown_provenance::analyze(&png_with(&[text("parameters", &long)]), &limits).expect("analyze");
    assert_eq!(p.signals[0].value, "Flux");
    let p = staydown_provenance::analyze(
        &png_with(&[text("Software", "GIMP 2.10")]),
        &Limits { max_value_chars: 2, ..Limits::default() },
    )
    .expect("analyze");
    assert_eq!(p.signals[0].value.chars().count(), 3, "2 chars + …");
}

#[test]
fn malformed_exif_is_an_error_signal() {
    let mut block = tiff(&[(0x0131, "Adobe Firefly")], None);
    block[8] = 0xFF; // entry count 255 → entries run past the block
    let p = analyze(&jpeg_with_app1(&[jpeg_exif(&block)]));
    assert_eq!(p.ai_generated, Verdict::Unknown);
    assert!(signal(&p, Source::Exif, "error").value.contains("truncated"));
}

/// Every prefix and many single-byte corruptions of real and generated files: no panic, and the
/// result is always bounded by the limits.
#[test]
fn truncations_and_bit_flips_never_panic() {
    let xmp = xmp_packet(&format!(r#"Iptc4xmpExt:DigitalSourceType="{}""#, dst("trainedAlgorithmicMedia")), "");
    let samples = vec![
        png_with(&[
            text("parameters", "Steps: 1, Sampler: a"),
            ztext("Comment", b"zz"),
            itext("XML:com.adobe.xmp", &xmp, true),
        ]),
        jpeg_with_app1(&[jpeg_xmp(&xmp), jpeg_exif(&tiff(&[(0x0131, "GIMP")], Some("Steps: 2, Seed: 3")))]),
        webp_with(Some(&tiff(&[(0x010F, "Canon")], None)), Some(&xmp)),
        crate::fixture("test_xmp.webp"),
    ];
    let limits = Limits::default();
    for sample in &samples {
        let step = (sample.len() / 300).max(1);
        for cut in (0..sample.len()).step_by(step) {
            let metadata = read_metadata(&sample[..cut], &limits);
            assert!(metadata.xmp.len() + metadata.exif.len() + metadata.png_text.len() <= limits.max_chunks);
            #[cfg(not(feature = "c2pa"))]
            staydown_provenance::analyze(&sample[..cut], &limits).expect("analyze");
        }
        for at in (0..sample.len()).step_by(step) {
            let mut bytes = sample.clone();
            bytes[at] ^= 0xA5;
            let p = staydown_provenance::analyze(&bytes, &limits).expect("analyze");
            assert!(p.signals.len() <= limits.max_signals);
        }
    }
}
