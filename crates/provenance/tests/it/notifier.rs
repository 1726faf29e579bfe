use staydown_provenance::{NotifierClaim, Source, Strength, Verdict};

use crate::build::{dst, jpeg_with_app1, jpeg_xmp, png_with, xmp_packet};
use crate::{analyze, assert_signal};

fn claim(ai: Option<bool>, generator: Option<&str>) -> NotifierClaim {
    NotifierClaim { ai_generated: ai, generator: generator.map(str::to_owned) }
}

#[test]
fn claim_fills_what_the_file_does_not_say() {
    let p = analyze(&png_with(&[])).with_notifier_claim(&claim(Some(true), Some("grok-2-image")));
    assert_eq!(p.ai_generated, Verdict::Yes);
    assert_eq!(p.generator.as_deref(), Some("Grok / xAI"));
    assert_signal(&p, Source::Notifier, "ai_generated", "yes", Strength::Weak);
    assert_signal(&p, Source::Notifier, "generator", "grok-2-image", Strength::Weak);
}

#[test]
fn claim_never_overwrites_the_file() {
    let xmp = xmp_packet(&format!(r#"Iptc4xmpExt:DigitalSourceType="{}""#, dst("digitalCapture")), "");
    let file = analyze(&jpeg_with_app1(&[jpeg_xmp(&xmp)]));
    assert_eq!(file.ai_generated, Verdict::No);
    let p = file.clone().with_notifier_claim(&claim(Some(true), Some("Midjourney")));
    assert_eq!(p.ai_generated, Verdict::No);
    assert_eq!(p.generator, None);
    assert_eq!(p.signals.len(), file.signals.len() + 2, "both sides of the contradiction are kept");

    let xmp = xmp_packet(
        &format!(r#"Iptc4xmpExt:DigitalSourceType="{}" xmp:CreatorTool="Midjourney""#, dst("trainedAlgorithmicMedia")),
        "",
    );
    let p = analyze(&jpeg_with_app1(&[jpeg_xmp(&xmp)])).with_notifier_claim(&claim(Some(false), Some("DALL-E")));
    assert_eq!((p.ai_generated, p.generator.as_deref()), (Verdict::Yes, Some("Midjourney")));
}

#[test]
fn claimed_editor_is_not_a_generator_and_empty_claims_add_nothing() {
    let p = analyze(&png_with(&[])).with_notifier_claim(&claim(Some(true), Some("Photoshop")));
    assert_eq!(p.generator, None);
    let p = analyze(&png_with(&[])).with_notifier_claim(&claim(None, Some("   ")));
    assert!(p.signals.is_empty());
}

#[test]
fn serialised_shape() {
    let p = analyze(&png_with(&[])).with_notifier_claim(&claim(Some(false), None));
    let json = serde_json::to_value(&p).expect("serialise");
    assert_eq!(
        json,
        serde_json::json!({
            "ai_generated": "no",
            "generator": null,
            "edited": "unknown",
            "signals": [{"source": "notifier", "key": "ai_generated", "value": "no", "strength": "weak"}]
        })
    );
    let back: staydown_provenance::Provenance = serde_json::from_value(json).expect("deserialise");
    assert_eq!(back, p);
}
