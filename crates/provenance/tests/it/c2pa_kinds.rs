//! C2PA kinds of issue 14, on files signed by `fixtures/media/make.py` (c2pa-python, a throw-away
//! test CA): the source type in an action's parameters, the product rather than the signing
//! library as generator, and watermark-only actions.

use staydown_provenance::{Source, Strength, Verdict};

use crate::{analyze, assert_signal, signal};

fn media(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../fixtures/media/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Google's signing library is not the generator; the XMP credit line names the product. The
/// SynthID watermark action does not make the image "edited".
#[test]
fn google_synthid_image_names_google_and_is_not_edited() {
    let p = analyze(&media("c2pa-google-synthid.jpg"));
    assert_eq!(p.ai_generated, Verdict::Yes, "{p:#?}");
    assert_eq!(p.generator.as_deref(), Some("Google Imagen/Gemini"), "{p:#?}");
    assert_eq!(p.edited, Verdict::No, "created by a model, only watermarked: {p:#?}");
    assert_signal(&p, Source::C2pa, "manifest.claim_generator", "Google C2PA Core Generator Library", Strength::Weak);
    assert_signal(&p, Source::Xmp, "photoshop:Credit", "Google Imagen/Gemini", Strength::Weak);
    assert!(p.signals.iter().any(|s| s.key == "manifest.action" && s.value == "c2pa.watermarked"), "{p:#?}");
}

/// Photoshop's generative fill with a partner model writes the source type in the action's
/// parameters (`com.adobe.digitalSourceType`), not on the action.
#[test]
fn source_type_in_action_parameters_counts() {
    let p = analyze(&media("c2pa-params-source-type.jpg"));
    assert_eq!(p.ai_generated, Verdict::Yes, "{p:#?}");
    assert_eq!(p.edited, Verdict::Yes, "{p:#?}");
    // Photoshop edited; it did not generate, and the partner model is not named.
    assert_eq!(p.generator, None, "{p:#?}");
    let types: Vec<&str> =
        p.signals.iter().filter(|s| s.key == "manifest.digital_source_type").map(|s| s.value.as_str()).collect();
    assert_eq!(types, ["digitalCapture", "compositeWithTrainedAlgorithmicMedia"]);
    let validation = signal(&p, Source::C2pa, "validation");
    assert!(validation.value.starts_with("valid"), "{validation:?}");
}
