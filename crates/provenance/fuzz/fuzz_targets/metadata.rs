//! Fuzz target for the metadata parsers of staydown-provenance: the JPEG/PNG/WebP walkers, the
//! HEIC/AVIF metadata items (through libheif, issue 14), PNG text inflation, XMP, EXIF and the
//! combination rules. Run with
//! `cargo +nightly fuzz run metadata -- -dict=metadata.dict` from `crates/provenance/fuzz`.
//!
//! A leading 0x00 or 0x01 byte feeds the rest straight to the XMP or EXIF parser so they are
//! reached without a valid container around them; anything else is a whole file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use staydown_provenance::{Limits, analyze, exif, read_metadata, xmp};

fuzz_target!(|data: &[u8]| {
    // Small limits so that the bounds themselves are exercised, not just the happy path.
    let limits = Limits {
        max_chunks: 64,
        max_xml_depth: 16,
        max_xml_events: 4096,
        max_text_chunks: 8,
        max_inflated_bytes: 64 * 1024,
        max_total_inflated_bytes: 128 * 1024,
        max_ifd_entries: 64,
        max_signals: 32,
        max_stealth_pixels: 1 << 20,
        ..Limits::default()
    };
    match data.split_first() {
        Some((0, rest)) => {
            if let Ok(properties) = xmp::parse(rest, &limits) {
                assert!(properties.iter().all(|(_, value)| value.len() <= rest.len() * 4 + 4));
            }
        }
        Some((1, rest)) => {
            let _ = exif::parse(rest, &limits);
        }
        _ => {
            let metadata = read_metadata(data, &limits);
            assert!(metadata.png_text.len() <= limits.max_text_chunks);
            let provenance = analyze(data, &limits).expect("input is below max_bytes");
            assert!(provenance.signals.len() <= limits.max_signals);
            for signal in &provenance.signals {
                assert!(signal.value.chars().count() <= limits.max_value_chars + 1);
            }
            // The result must always serialise.
            let _ = format!("{provenance:?}");
        }
    }
});
