use staydown_provenance::{Source, Strength, Verdict};

use crate::build::{decodes, png_with, text, ztext};
use crate::{analyze, signal};

const A1111: &str = "portrait of a person, photorealistic\nNegative prompt: cartoon\nSteps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 12345, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.7.0";

#[test]
fn automatic1111_parameters_without_the_prompt() {
    let png = png_with(&[text("parameters", A1111)]);
    assert!(decodes(&png));
    let p = analyze(&png);
    assert_eq!(p.ai_generated, Verdict::Yes);
    assert_eq!(p.generator.as_deref(), Some("Stable Diffusion web UI"));
    let s = signal(&p, Source::PngText, "parameters");
    assert_eq!(s.strength, Strength::Weak);
    assert_eq!(s.value, "Stable Diffusion web UI", "{s:?}");
    assert!(!s.value.contains("portrait"), "prompt text must not be copied into signals");
}

#[test]
fn ztxt_parameters_naming_a_flux_model() {
    let params = "x\nSteps: 20, Sampler: Euler, Seed: 1, Model: flux1-dev-fp8";
    let p = analyze(&png_with(&[ztext("parameters", params.as_bytes())]));
    assert_eq!(p.ai_generated, Verdict::Yes);
    assert_eq!(p.generator.as_deref(), Some("Flux"));
}

#[test]
fn comfyui_prompt_and_workflow() {
    let prompt = r#"{"4": {"inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}, "class_type": "CheckpointLoaderSimple"}, "6": {"inputs": {"text": "secret words"}, "class_type": "CLIPTextEncode"}}"#;
    let workflow = r#"{"last_node_id": 9, "nodes": [{"id": 4, "type": "CheckpointLoaderSimple"}]}"#;
    let p = analyze(&png_with(&[text("prompt", prompt), text("workflow", workflow)]));
    assert_eq!(p.ai_generated, Verdict::Yes);
    assert_eq!(p.generator.as_deref(), Some("ComfyUI"));
    let s = signal(&p, Source::PngText, "prompt");
    assert_eq!(s.value, "ComfyUI graph, Stable Diffusion", "{s:?}");
    assert!(!s.value.contains("secret"));
    signal(&p, Source::PngText, "workflow");
}

#[test]
fn a_bare_prompt_chunk_is_not_comfyui() {
    let p = analyze(&png_with(&[text("prompt", "just some words")]));
    assert_eq!(p.ai_generated, Verdict::Unknown);
    assert!(p.signals.is_empty());
}

#[test]
fn novelai_software_and_source() {
    let p = analyze(&png_with(&[
        text("Title", "NovelAI generated image"),
        text("Software", "NovelAI"),
        text("Source", "Stable Diffusion XL C1E1DE52"),
    ]));
    assert_eq!(p.ai_generated, Verdict::Yes);
    assert_eq!(p.generator.as_deref(), Some("NovelAI"));
    assert_eq!(signal(&p, Source::PngText, "Source").value, "Stable Diffusion");
}

#[test]
fn invokeai_metadata() {
    let meta =
        r#"{"generation_mode": "txt2img", "model": {"model_name": "stable-diffusion-v1-5"}, "positive_prompt": "x"}"#;
    let p = analyze(&png_with(&[text("invokeai_metadata", meta)]));
    assert_eq!(p.generator.as_deref(), Some("InvokeAI"));
    assert_eq!(signal(&p, Source::PngText, "invokeai_metadata").value, "InvokeAI graph, Stable Diffusion");
}

#[test]
fn editor_software_chunk_means_edited() {
    let p = analyze(&png_with(&[text("Software", "GIMP 2.10.36")]));
    assert_eq!(p.ai_generated, Verdict::Unknown);
    assert_eq!(p.edited, Verdict::Yes);
}

#[test]
fn a_plain_png_says_nothing() {
    let p = analyze(&png_with(&[]));
    assert_eq!((p.ai_generated, p.edited, p.generator.as_deref()), (Verdict::Unknown, Verdict::Unknown, None));
    assert!(p.signals.is_empty());
}

/// NovelAI's alpha-channel payload (`stealth_pngcomp`), in a PNG without text chunks (made by
/// `fixtures/media/make.py`): Software and Source are read, the prompt is not.
#[test]
fn novelai_stealth_pngcomp_in_the_alpha_channel() {
    let bytes =
        std::fs::read(format!("{}/../../fixtures/media/novelai-stealth.png", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let p = analyze(&bytes);
    assert_eq!(p.ai_generated, Verdict::Yes, "{p:#?}");
    assert_eq!(p.generator.as_deref(), Some("NovelAI"));
    assert_eq!(signal(&p, Source::PngText, "stealth_pngcomp.Software").value, "NovelAI");
    assert_eq!(signal(&p, Source::PngText, "stealth_pngcomp.Source").value, "NovelAI");
    crate::canary::assert_clean("novelai-stealth.png", &p);
    // The same pixels without the hidden bits say nothing.
    let mut cleared = image::load_from_memory(&bytes).unwrap().to_rgba8();
    for px in cleared.pixels_mut() {
        px.0[3] = 255;
    }
    let mut out = Vec::new();
    image::DynamicImage::ImageRgba8(cleared)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(analyze(&out).ai_generated, Verdict::Unknown);
}
