use staydown_provenance::{Source, Strength, Verdict};

use crate::build::{decodes, jpeg_exif, jpeg_with_app1, png_chunk, png_with, tiff, webp_with};
use crate::{analyze, assert_signal, signal};

#[test]
fn jpeg_camera_make_model_and_editor_software() {
    let block = tiff(&[(0x010F, "Canon"), (0x0110, "Canon EOS 5D Mark IV"), (0x0131, "GIMP 2.10.34")], None);
    let jpeg = jpeg_with_app1(&[jpeg_exif(&block)]);
    assert!(decodes(&jpeg));
    let p = analyze(&jpeg);
    assert_eq!(p.ai_generated, Verdict::Unknown, "a camera make is no proof of a real photo");
    assert_eq!(p.edited, Verdict::Yes);
    assert_signal(&p, Source::Exif, "Make", "Canon", Strength::Weak);
    assert_signal(&p, Source::Exif, "Model", "Canon", Strength::Weak);
    assert_signal(&p, Source::Exif, "Software", "GIMP", Strength::Weak);
}

#[test]
fn short_inline_values_are_read() {
    // "Son" + NUL fits the 4-byte inline value slot of the IFD entry.
    let p = analyze(&jpeg_with_app1(&[jpeg_exif(&tiff(&[(0x010F, "Son")], None))]));
    assert_eq!(signal(&p, Source::Exif, "Make").value, "unrecognised", "read, but not a maker the table knows");
}

#[test]
fn stable_diffusion_parameters_in_user_comment() {
    let comment = "a prompt\nSteps: 30, Sampler: Euler a, CFG scale: 5, Seed: 99, Model: sdxl_base";
    let jpeg = jpeg_with_app1(&[jpeg_exif(&tiff(&[], Some(comment)))]);
    let p = analyze(&jpeg);
    assert_eq!(p.ai_generated, Verdict::Yes);
    assert_eq!(p.generator.as_deref(), Some("Stable Diffusion"));
    assert_eq!(signal(&p, Source::Exif, "UserComment").value, "Stable Diffusion");
}

#[test]
fn ai_tool_in_software_tag_png_exif_and_webp() {
    let block = tiff(&[(0x0131, "Adobe Firefly")], None);
    let png = png_with(&[png_chunk(b"eXIf", &block)]);
    assert!(decodes(&png));
    let webp = webp_with(Some(&block), None);
    assert!(decodes(&webp));
    for bytes in [png, webp] {
        let p = analyze(&bytes);
        assert_eq!(p.ai_generated, Verdict::Yes);
        assert_eq!(p.generator.as_deref(), Some("Adobe Firefly"));
        assert_eq!(signal(&p, Source::Exif, "Software").strength, Strength::Weak);
    }
}

#[test]
fn free_text_user_comment_is_not_kept() {
    let p = analyze(&jpeg_with_app1(&[jpeg_exif(&tiff(&[], Some("holiday with Jane")))]));
    assert!(p.signals.is_empty(), "{p:#?}");
}

#[test]
fn camera_photo_developed_in_lightroom_fixture() {
    // sample1.png (c2pa-rs fixture) carries an eXIf chunk from a Canon camera and Lightroom.
    let p = analyze(&crate::fixture("sample1.png"));
    assert_eq!((p.ai_generated, p.generator.as_deref(), p.edited), (Verdict::Unknown, None, Verdict::Yes));
    assert_signal(&p, Source::Exif, "Make", "Canon", Strength::Weak);
    assert_signal(&p, Source::Exif, "Software", "Adobe Lightroom", Strength::Weak);
}
