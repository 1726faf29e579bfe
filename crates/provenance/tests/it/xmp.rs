use staydown_provenance::{Source, Strength, Verdict};

use crate::build::{decodes, dst, itext, jpeg_with_app1, jpeg_xmp, png_with, webp_with, xmp_packet};
use crate::{analyze, assert_signal, signal};

#[test]
fn jpeg_attribute_form_declares_ai_with_creator_tool_as_generator() {
    let xmp = xmp_packet(
        &format!(
            r#"Iptc4xmpExt:DigitalSourceType="{}" xmp:CreatorTool="Midjourney 6.1""#,
            dst("trainedAlgorithmicMedia")
        ),
        "",
    );
    let jpeg = jpeg_with_app1(&[jpeg_xmp(&xmp)]);
    assert!(decodes(&jpeg));
    let p = analyze(&jpeg);
    assert_eq!(p.ai_generated, Verdict::Yes);
    assert_eq!(p.generator.as_deref(), Some("Midjourney"));
    assert_eq!(p.edited, Verdict::Unknown);
    assert_signal(&p, Source::Xmp, "Iptc4xmpExt:DigitalSourceType", "trainedAlgorithmicMedia", Strength::Strong);
    assert_signal(&p, Source::Xmp, "xmp:CreatorTool", "Midjourney", Strength::Weak);
}

#[test]
fn png_itxt_element_form_and_unknown_creator_passes_through() {
    let xmp = xmp_packet(
        "",
        &format!(
            "<Iptc4xmpExt:DigitalSourceType>{}</Iptc4xmpExt:DigitalSourceType><xmp:CreatorTool> NudifyPro 2.3 </xmp:CreatorTool>",
            dst("compositeWithTrainedAlgorithmicMedia")
        ),
    );
    for compressed in [false, true] {
        let png = png_with(&[itext("XML:com.adobe.xmp", &xmp, compressed)]);
        assert!(decodes(&png));
        let p = analyze(&png);
        assert_eq!(p.ai_generated, Verdict::Yes, "compressed={compressed}");
        assert_eq!(p.edited, Verdict::Yes);
        // Not in the table: passed through raw, trimmed.
        // An unknown tool is not copied (it could be any text): AI, generator not named.
        assert_eq!(p.generator, None);
    }
}

#[test]
fn webp_xmp_chunk_digital_capture_is_not_ai() {
    let xmp = xmp_packet(&format!(r#"Iptc4xmpExt:DigitalSourceType="{}""#, dst("digitalCapture")), "");
    let webp = webp_with(None, Some(&xmp));
    assert!(decodes(&webp));
    let p = analyze(&webp);
    assert_eq!(p.ai_generated, Verdict::No);
    assert_eq!(p.generator, None);
    assert_eq!(signal(&p, Source::Xmp, "Iptc4xmpExt:DigitalSourceType").strength, Strength::Strong);
}

#[test]
fn editor_creator_tool_is_edited_not_generator() {
    let xmp = xmp_packet(
        &format!(
            r#"Iptc4xmpExt:DigitalSourceType="{}" xmp:CreatorTool="Adobe Photoshop 25.0 (Windows)""#,
            dst("trainedAlgorithmicMedia")
        ),
        "",
    );
    let p = analyze(&jpeg_with_app1(&[jpeg_xmp(&xmp)]));
    assert_eq!(p.ai_generated, Verdict::Yes);
    assert_eq!(p.generator, None, "an editor never becomes the generator");
    assert_eq!(p.edited, Verdict::Yes);
}

#[test]
fn google_credit_line_is_a_weak_ai_signal() {
    let xmp = xmp_packet(r#"photoshop:Credit="Made with Google AI""#, "");
    let p = analyze(&jpeg_with_app1(&[jpeg_xmp(&xmp)]));
    assert_eq!(p.ai_generated, Verdict::Yes);
    assert_eq!(p.generator.as_deref(), Some("Google Imagen/Gemini"));
    assert_signal(&p, Source::Xmp, "photoshop:Credit", "Google Imagen/Gemini", Strength::Weak);
    // A credit naming a person is not kept (personal data, no provenance value).
    let person = xmp_packet(r#"photoshop:Credit="Jane Doe""#, "");
    assert!(analyze(&jpeg_with_app1(&[jpeg_xmp(&person)])).signals.is_empty());
}

#[test]
fn photoshop_xmp_fixtures_without_source_type() {
    // Real Photoshop XMP (fixture README): history agents are editors → weak edited, no AI verdict.
    for name in ["test_xmp.webp", "no_manifest.jpg"] {
        let p = analyze(&crate::fixture(name));
        assert_eq!(p.ai_generated, Verdict::Unknown, "{name}");
        assert_eq!(p.edited, Verdict::Yes, "{name}: {p:#?}");
        assert!(p.signals.iter().all(|s| s.strength == Strength::Weak), "{name}");
    }
    // The dangling pointer to a C2PA manifest that is not in the file is shown.
    let p = analyze(&crate::fixture("no_manifest.jpg"));
    assert_eq!(crate::signals(&p, Source::Xmp, "dcterms:provenance").len(), 1, "{p:#?}");
}
