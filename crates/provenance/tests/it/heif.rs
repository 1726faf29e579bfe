//! EXIF and XMP inside HEIC and AVIF (issue 14): the metadata items libheif exposes go through the
//! same readers as JPEG/PNG/WebP metadata. Files and expected values come from
//! `fixtures/media/make.py` (Pillow + pillow-heif): `heif-metadata.csv` holds the SHA-256 of the
//! EXIF block and XMP packet Pillow reads from each file.

use sha2::{Digest, Sha256};
use staydown_provenance::{Format, Limits, Source, Strength, Verdict, read_metadata};

use crate::{analyze, assert_signal};

fn media(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/media/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn exif_and_xmp_items_equal_what_pillow_heif_reads() {
    let csv = String::from_utf8(media("heif-metadata.csv")).unwrap();
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let [file, exif, xmp] = line.split(',').collect::<Vec<_>>()[..] else { panic!("bad row {line}") };
        let bytes = media(file);
        let expected_format = if file.ends_with(".avif") { Format::Avif } else { Format::Heif };
        assert_eq!(Format::sniff(&bytes), expected_format, "{file}");
        let metadata = read_metadata(&bytes, &Limits::default());
        assert!(metadata.errors.is_empty() && metadata.xmp_errors.is_empty(), "{file}: {metadata:?}");
        let got_exif: Vec<String> = metadata.exif.iter().map(|b| digest(b)).collect();
        let got_xmp: Vec<String> = metadata.xmp.iter().map(|b| digest(b)).collect();
        let want = |d: &str| if d.is_empty() { vec![] } else { vec![d.to_owned()] };
        assert_eq!(got_exif, want(exif), "{file}: EXIF block");
        assert_eq!(got_xmp, want(xmp), "{file}: XMP packet");
        rows += 1;
    }
    assert_eq!(rows, 6, "every HEIC/AVIF fixture has a row");
}

#[test]
fn ai_labels_in_heic_and_avif_are_read_like_in_jpeg() {
    for file in ["ai-label.heic", "ai-label.avif"] {
        let p = analyze(&media(file));
        assert_eq!(p.ai_generated, Verdict::Yes, "{file}: {p:#?}");
        assert_eq!(p.generator.as_deref(), Some("Adobe Firefly"), "{file}: {p:#?}");
        assert_signal(&p, Source::Xmp, "Iptc4xmpExt:DigitalSourceType", "trainedAlgorithmicMedia", Strength::Strong);
        assert_signal(&p, Source::Exif, "Software", "Adobe Firefly", Strength::Weak);
    }
    // The canary files carry the same EXIF and XMP in HEIC, AVIF and JPEG: the same signals come
    // out of each (read, not recognised, nothing copied; the canary test checks the last part).
    let jpeg = analyze(&media("canary.jpg"));
    assert_signal(&jpeg, Source::Exif, "Make", "unrecognised", Strength::Weak);
    for file in ["canary.heic", "canary.avif"] {
        let p = analyze(&media(file));
        assert_eq!(p, jpeg, "{file}");
        crate::canary::assert_clean(file, &p);
    }
    // A phone photo without metadata says nothing.
    for file in ["phone.heic", "phone.avif"] {
        let p = analyze(&media(file));
        assert_eq!((p.ai_generated, p.signals.len()), (Verdict::Unknown, 0), "{file}: {p:#?}");
    }
}

#[test]
fn damaged_heif_is_a_weak_error_not_a_failure() {
    let whole = media("ai-label.heic");
    for cut in [24, whole.len() / 3, whole.len() / 2, whole.len() - 7] {
        let metadata = read_metadata(&whole[..cut], &Limits::default());
        // Whatever libheif makes of a cut file, the walk ends with a typed error or reads what is
        // whole; it never panics and the analysis still answers.
        let _ = metadata;
        let _ = analyze(&whole[..cut]);
    }
    let metadata = read_metadata(&whole[..whole.len() / 2], &Limits::default());
    assert!(!metadata.errors.is_empty() || metadata.exif.len() + metadata.xmp.len() <= 2, "{metadata:?}");
    // Too many images or items for the limits: a limit error, nothing read.
    let tight = Limits { max_chunks: 0, ..Limits::default() };
    let metadata = read_metadata(&whole, &tight);
    assert!(
        matches!(metadata.errors.as_slice(), [staydown_provenance::MetadataError::LimitExceeded { .. }]),
        "{metadata:?}"
    );
    // An XMP item over the XMP limit is refused before it is copied.
    let small = Limits { max_xmp_bytes: 16, ..Limits::default() };
    let metadata = read_metadata(&whole, &small);
    assert!(metadata.xmp.is_empty() && metadata.xmp_errors.len() == 1, "{metadata:?}");
    assert_eq!(metadata.exif.len(), 1);
}
