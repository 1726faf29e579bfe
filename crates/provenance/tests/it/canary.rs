//! Canary prompts through every container and field staydown reads (issue 14): no signal value,
//! generator or error ever carries text from the file. Each file puts canary strings (a prompt
//! naming a person, a LoRA file name, a one-word token) into one place; the serialised result must
//! not contain any of them, whatever the field and whether or not it was recognised.
//!
//! The server-side test (`crates/server/tests/it/canary.rs`) runs files like these through the
//! other output paths: screening answers, stored content items, the case view and reports.

use staydown_provenance::Provenance;

use crate::analyze;
use crate::build::{itext, jpeg_exif, jpeg_with_app1, jpeg_xmp, png_with, text, tiff, webp_with, xmp_packet, ztext};

/// Strings that must never come out. Lower-cased for the comparison.
pub const CANARIES: [&str; 3] = ["janecanaryperson", "canaryq7z", "canary_lora_v2"];

/// A prompt carrying all three canaries, in the shapes generators write.
pub fn prompt() -> String {
    "a photo of JaneCanaryperson, nude, CanaryQ7Z <lora:canary_lora_v2:0.8>".to_owned()
}

pub fn assert_clean(what: &str, p: &Provenance) {
    let json = serde_json::to_string(p).unwrap().to_lowercase();
    for canary in CANARIES {
        assert!(!json.contains(canary), "{what}: canary {canary:?} leaked into {json}");
    }
}

fn a1111() -> String {
    format!(
        "{}\nNegative prompt: CanaryQ7Z\nSteps: 20, Sampler: Euler a, Seed: 1, Model: canary_lora_v2, Lora hashes: \"JaneCanaryperson: abc\"",
        prompt()
    )
}

fn comfy_prompt() -> String {
    format!(
        r#"{{"3": {{"class_type": "CLIPTextEncode", "inputs": {{"text": "{}", "ckpt_name": "canary_lora_v2.safetensors"}}}}}}"#,
        prompt()
    )
}

fn comfy_workflow() -> String {
    format!(
        r#"{{"nodes": [{{"type": "CLIPTextEncode", "widgets_values": ["{}"]}}], "ckpt_name": "CanaryQ7Z"}}"#,
        prompt()
    )
}

fn xmp_with_canaries() -> String {
    let p = prompt();
    xmp_packet(
        &format!(
            r#"xmlns:dcterms="http://purl.org/dc/terms/" xmp:CreatorTool="{p}" photoshop:Credit="{p}" dcterms:provenance="{p}" Iptc4xmpExt:DigitalSourceType="{p}""#
        ),
        "",
    )
}

fn exif_with_canaries() -> Vec<Vec<u8>> {
    let p = prompt();
    vec![
        tiff(
            &[(0x010F, &format!("workflow:{}", comfy_workflow())), (0x0110, &format!("prompt:{}", comfy_prompt()))],
            None,
        ),
        tiff(&[(0x010E, &comfy_prompt()), (0x0131, &p)], Some(&a1111())),
        tiff(&[(0x010F, &p), (0x0110, &p), (0x010E, &p)], Some(&p)),
    ]
}

#[test]
fn png_text_chunks() {
    let p = prompt();
    let files = [
        ("tEXt parameters", png_with(&[text("parameters", &a1111())])),
        ("tEXt prompt", png_with(&[text("prompt", &comfy_prompt())])),
        ("zTXt workflow", png_with(&[ztext("workflow", comfy_workflow().as_bytes())])),
        ("iTXt parameters", png_with(&[itext("parameters", &a1111(), true)])),
        (
            "iTXt invokeai",
            png_with(&[itext(
                "invokeai_metadata",
                &format!(r#"{{"model_name": "canary_lora_v2", "positive_prompt": "{p}"}}"#),
                false,
            )]),
        ),
        (
            "tEXt Software/Source/Comment/Description",
            png_with(&[
                text("Software", &p),
                text("Source", &p),
                text("Comment", &p),
                text("Description", &p),
                text("sd-metadata", &p),
            ]),
        ),
        ("iTXt XMP", png_with(&[itext("XML:com.adobe.xmp", &xmp_with_canaries(), false)])),
    ];
    for (what, file) in files {
        assert_clean(what, &analyze(&file));
    }
}

#[test]
fn exif_in_jpeg_png_and_webp() {
    for (i, block) in exif_with_canaries().into_iter().enumerate() {
        assert_clean(&format!("JPEG EXIF {i}"), &analyze(&jpeg_with_app1(&[jpeg_exif(&block)])));
        assert_clean(&format!("PNG eXIf {i}"), &analyze(&png_with(&[crate::build::png_chunk(b"eXIf", &block)])));
        assert_clean(&format!("WebP EXIF {i}"), &analyze(&webp_with(Some(&block), None)));
    }
    // The recognised ones are still recognised, by name only.
    let comfy = analyze(&jpeg_with_app1(&[jpeg_exif(&exif_with_canaries()[0])]));
    assert_eq!(comfy.generator.as_deref(), Some("ComfyUI"), "{comfy:#?}");
}

#[test]
fn xmp_in_jpeg_png_and_webp() {
    let xmp = xmp_with_canaries();
    assert_clean("JPEG XMP", &analyze(&jpeg_with_app1(&[jpeg_xmp(&xmp)])));
    assert_clean("WebP XMP", &analyze(&webp_with(None, Some(&xmp))));
    // Broken XML whose parser message would quote the file.
    let broken = format!("<x:xmpmeta><{}></x:xmpmeta>", prompt().replace(' ', "_"));
    assert_clean("broken XMP", &analyze(&jpeg_with_app1(&[jpeg_xmp(&broken)])));
}

/// HEIC and AVIF files made by `fixtures/media/make.py` with the canaries in their EXIF and XMP
/// items, and C2PA-signed files with them in the manifest (claim generator, action agent and
/// description, a custom assertion), when the fixtures exist.
#[test]
fn heif_avif_and_c2pa_fixture_files() {
    let dir = format!("{}/../../fixtures/media", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for name in [
        "canary.heic",
        "canary.avif",
        "canary-c2pa.jpg",
        "canary.jpg",
        "canary.png",
        "canary.webp",
        "novelai-stealth.png",
    ] {
        let Ok(bytes) = std::fs::read(format!("{dir}/{name}")) else { continue };
        assert_clean(name, &analyze(&bytes));
        checked += 1;
    }
    assert_eq!(checked, 7, "the canary fixtures are committed");
}
