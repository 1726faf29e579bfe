//! Integration tests of staydown-provenance, one binary (link time matters on 2 cores).

mod build; // builders for small PNG/JPEG/WebP images carrying metadata written by the tests
#[cfg(feature = "c2pa")]
mod c2pa_fixtures; // the c2pa-rs sample files: manifests, ingredients, validation, stripping
#[cfg(feature = "c2pa")]
mod c2pa_kinds; // issue 14: source type in parameters, product not library, watermark-only actions
mod canary; // canary prompts through every container and field: nothing leaks (issue 14)
mod exif; // EXIF Software/Make/Model/UserComment in JPEG, PNG and WebP
#[cfg(feature = "heif")]
mod heif; // issue 14: EXIF and XMP items inside HEIC and AVIF, against Pillow + pillow-heif
mod hostile; // malformed and hostile metadata: bounded, typed errors, no panic
mod notifier; // notifier claims: weaker, never overwrite the file
mod png_text; // generator parameters in PNG text chunks
mod xmp; // IPTC DigitalSourceType and CreatorTool in XMP (JPEG, PNG, WebP)

use staydown_provenance::{Limits, Provenance, Signal, Source, Strength};

/// Analyses with default limits; the tests' inputs are all far below them.
pub fn analyze(bytes: &[u8]) -> Provenance {
    staydown_provenance::analyze(bytes, &Limits::default()).expect("input within limits")
}

/// A fixture file from the repository's `fixtures/c2pa/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/c2pa/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// The signals from `source` with `key`.
pub fn signals<'a>(provenance: &'a Provenance, source: Source, key: &str) -> Vec<&'a Signal> {
    provenance.signals.iter().filter(|s| s.source == source && s.key == key).collect()
}

/// The single signal from `source` with `key` (panics with the whole result otherwise).
pub fn signal<'a>(provenance: &'a Provenance, source: Source, key: &str) -> &'a Signal {
    let found = signals(provenance, source, key);
    assert_eq!(found.len(), 1, "expected one {source:?} {key} signal in {provenance:#?}");
    found[0]
}

/// Asserts a signal with this source, key, value and strength is present.
pub fn assert_signal(provenance: &Provenance, source: Source, key: &str, value: &str, strength: Strength) {
    let wanted = Signal { source, key: key.to_owned(), value: value.to_owned(), strength };
    assert!(provenance.signals.contains(&wanted), "missing {wanted:?} in {provenance:#?}");
}
