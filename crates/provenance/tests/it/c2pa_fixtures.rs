use staydown_provenance::{Source, Strength, Verdict};

use crate::build::{dst, jpeg_xmp, xmp_packet};
use crate::{analyze, assert_signal, fixture, signal, signals};

#[test]
fn firefly_image_edited_in_photoshop() {
    let p = analyze(&fixture("ocsp.jpg"));
    assert_eq!(p.ai_generated, Verdict::Yes);
    assert_eq!(p.generator.as_deref(), Some("Adobe Firefly"), "{p:#?}");
    assert_eq!(p.edited, Verdict::Yes);
    // The editing tool is listed among the signals, from the signed active manifest.
    assert_signal(&p, Source::C2pa, "manifest.editor", "Adobe Photoshop", Strength::Strong);
    assert_signal(&p, Source::C2pa, "manifest.action", "c2pa.cropped", Strength::Strong);
    // The issuer is not in the table: a certificate can name a person, so it is not copied.
    assert_signal(&p, Source::C2pa, "manifest.signer", "unrecognised", Strength::Strong);
    assert_signal(&p, Source::C2pa, "ingredient.digital_source_type", "trainedAlgorithmicMedia", Strength::Strong);
    assert_signal(
        &p,
        Source::C2pa,
        "manifest.digital_source_type",
        "compositeWithTrainedAlgorithmicMedia",
        Strength::Strong,
    );
    let validation = signal(&p, Source::C2pa, "validation");
    assert!(validation.value.starts_with("valid"), "{validation:?}");
    assert!(validation.value.contains("signingCredential.untrusted"), "no trust list is configured: {validation:?}");
    assert!(staydown_provenance::reads_c2pa());
}

#[test]
fn algorithmic_media_created_without_edits() {
    let p = analyze(&fixture("C.jpg"));
    assert_eq!(p.ai_generated, Verdict::Yes);
    // Neither the action's softwareAgent ("Make Test Images") nor the claim generator
    // ("make_test_images") is in the normalisation table: no generator is named and no raw
    // string is copied (issue 14).
    assert_eq!(p.generator, None);
    assert_signal(&p, Source::C2pa, "manifest.claim_generator", "unrecognised", Strength::Weak);
    assert_signal(&p, Source::C2pa, "manifest.signer", "unrecognised", Strength::Strong);
    assert_eq!(p.edited, Verdict::No, "created, no edit actions, no ingredients: {p:#?}");
}

#[test]
fn opened_and_colour_adjusted_without_source_type() {
    let p = analyze(&fixture("CA.jpg"));
    assert_eq!(p.ai_generated, Verdict::Unknown);
    assert_eq!(p.generator, None);
    assert_eq!(p.edited, Verdict::Yes);
    assert_signal(&p, Source::C2pa, "manifest.action", "c2pa.color_adjustments", Strength::Strong);
}

#[test]
fn digital_capture_with_leading_space_is_trimmed() {
    let p = analyze(&fixture("C_with_CAWG_data.jpg"));
    assert_eq!(p.ai_generated, Verdict::No);
    assert_eq!(p.generator, None);
    assert_signal(&p, Source::C2pa, "manifest.digital_source_type", "digitalCapture", Strength::Strong);
}

#[test]
fn files_without_a_manifest_have_no_c2pa_signals() {
    for name in ["no_manifest.jpg", "sample1.png", "sample1.webp", "test_xmp.webp"] {
        let p = analyze(&fixture(name));
        assert!(p.signals.iter().all(|s| s.source != Source::C2pa), "{name}: {p:#?}");
        assert_eq!(p.ai_generated, Verdict::Unknown, "{name}");
    }
}

/// Drops every APPn segment (what many upload pipelines do): the provenance is gone, and the
/// result says unknown, not "real".
fn strip_jpeg_metadata(jpeg: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    let mut at = 2;
    loop {
        let code = jpeg[at + 1];
        if code == 0xDA {
            out.extend_from_slice(&jpeg[at..]);
            return out;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if !(0xE0..=0xEF).contains(&code) {
            out.extend_from_slice(&jpeg[at..at + 2 + len]);
        }
        at += 2 + len;
    }
}

#[test]
fn stripped_metadata_is_unknown() {
    for name in ["ocsp.jpg", "C.jpg", "C_with_CAWG_data.jpg"] {
        let stripped = strip_jpeg_metadata(&fixture(name));
        assert!(crate::build::decodes(&stripped), "{name} still decodes");
        let p = analyze(&stripped);
        assert_eq!(
            (p.ai_generated, p.generator.as_deref(), p.edited, p.signals.len()),
            (Verdict::Unknown, None, Verdict::Unknown, 0),
            "{name}: {p:#?}"
        );
    }
}

/// Changing image bytes covered by the manifest's hash breaks validation: the manifest is still
/// reported, but weak, and the validation signal says why.
#[test]
fn tampered_image_makes_the_manifest_weak() {
    let mut bytes = fixture("C.jpg");
    let last = bytes.len() - 10;
    bytes[last] ^= 0xFF;
    let p = analyze(&bytes);
    let validation = signal(&p, Source::C2pa, "validation");
    assert!(validation.value.starts_with("invalid: "), "{validation:?}");
    assert_eq!(validation.strength, Strength::Weak);
    let source_type = signal(&p, Source::C2pa, "manifest.digital_source_type");
    assert_eq!(source_type.strength, Strength::Weak);
    // Still the best available statement, at weak rank.
    assert_eq!(p.ai_generated, Verdict::Yes);
}

/// An invalid manifest saying "captured" loses to an IPTC declaration of AI generation inserted
/// into the same file; both signals are kept.
#[test]
fn invalid_manifest_loses_to_iptc_declaration() {
    let original = fixture("C_with_CAWG_data.jpg");
    let xmp = xmp_packet(&format!(r#"Iptc4xmpExt:DigitalSourceType="{}""#, dst("trainedAlgorithmicMedia")), "");
    let segment = jpeg_xmp(&xmp);
    let mut bytes = original[..2].to_vec();
    bytes.extend_from_slice(&[0xFF, 0xE1]);
    bytes.extend_from_slice(&u16::try_from(segment.len() + 2).expect("small").to_be_bytes());
    bytes.extend_from_slice(&segment);
    bytes.extend_from_slice(&original[2..]);
    let p = analyze(&bytes);
    assert_eq!(p.ai_generated, Verdict::Yes, "{p:#?}");
    let c2pa = signal(&p, Source::C2pa, "manifest.digital_source_type");
    assert_eq!((c2pa.value.as_str(), c2pa.strength), ("digitalCapture", Strength::Weak));
    assert_eq!(signals(&p, Source::Xmp, "Iptc4xmpExt:DigitalSourceType").len(), 1);
}

#[test]
fn signed_capture_is_not_overridden_by_a_notifier_claim() {
    let p = analyze(&fixture("C_with_CAWG_data.jpg"))
        .with_notifier_claim(&staydown_provenance::NotifierClaim { ai_generated: Some(true), generator: None });
    assert_eq!(p.ai_generated, Verdict::No);
    assert_eq!(signal(&p, Source::Notifier, "ai_generated").value, "yes");
}

#[test]
fn reading_manifests_makes_no_network_requests() {
    for name in ["ocsp.jpg", "C.jpg", "CA.jpg", "C_with_CAWG_data.jpg"] {
        analyze(&fixture(name));
    }
    assert_eq!(staydown_provenance::refused_network_requests(), 0);
}

/// Byte flips inside the manifest store (JPEG APP11 segments): the SDK either still validates the
/// manifest (the byte was not covered) or the C2PA signals drop to weak / an error signal. A
/// corrupted manifest is never reported strong.
#[test]
fn corrupted_manifests_are_never_strong() {
    let original = fixture("C.jpg");
    let mut app11 = Vec::new();
    let mut at = 2;
    while original[at + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([original[at + 2], original[at + 3]]));
        if original[at + 1] == 0xEB {
            app11.push((at + 4, at + 2 + len));
        }
        at += 2 + len;
    }
    assert!(!app11.is_empty(), "C.jpg stores its manifest in APP11");
    for (start, end) in app11 {
        for step in 0..24 {
            let mut bytes = original.clone();
            bytes[start + (end - start) * step / 24] ^= 0x5A;
            let p = analyze(&bytes);
            let strong = p.signals.iter().any(|s| s.source == Source::C2pa && s.strength == Strength::Strong);
            if strong {
                let validation = signal(&p, Source::C2pa, "validation");
                assert!(validation.value.starts_with("valid"), "{validation:?}");
            }
        }
    }
}
