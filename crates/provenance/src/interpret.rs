//! Turns the payloads found by [`crate::container`] (XMP packets, EXIF blocks, PNG text chunks)
//! into findings.
//!
//! Covers IPTC `DigitalSourceType` (EU AI Act Art. 50(2) marking as IPTC recommends it) and the
//! de-facto generator traces of common image-generation tools. Data minimisation (GDPR
//! Art. 5(1)(c)): prompts, credits, comments, model and LoRA file names are personal-data risks
//! (a LoRA is often named after the person it imitates), so signal values are only short
//! normalised tokens — a generator or tool name from the normalisation table, an IPTC code, a
//! fixed description — or `unrecognised`; never text copied from the file (issue 14).

use crate::combine::{
    Finding, Rank, UNRECOGNISED, classify_source_type, source_type_token, tool_finding, tool_token, truncate,
};
use crate::container::{Metadata, TextChunk};
use crate::normalize::{self, ToolKind};
use crate::types::{Source, Strength};
use crate::xmp::Property;
use crate::{Limits, exif, xmp};

/// All findings from the non-C2PA metadata of one file, in reading order.
pub(crate) fn findings(metadata: &Metadata, limits: &Limits) -> Vec<Finding> {
    let mut out = Vec::new();
    for packet in &metadata.xmp {
        match xmp::parse(packet, limits) {
            Ok(properties) => xmp_findings(&properties, limits, &mut out),
            Err(err) => out.push(error(Source::Xmp, &err, limits)),
        }
    }
    for block in &metadata.exif {
        match exif::parse(block, limits) {
            Ok(tags) => exif_findings(&tags, limits, &mut out),
            Err(err) => out.push(error(Source::Exif, &err, limits)),
        }
    }
    for chunk in &metadata.png_text {
        if let Some(finding) = png_text_finding(chunk, limits) {
            out.push(finding);
        }
    }
    // Structural container errors (`metadata.errors`) are not provenance signals; callers can
    // read them through `read_metadata`.
    for err in &metadata.xmp_errors {
        out.push(error(Source::Xmp, err, limits));
    }
    for err in &metadata.png_text_errors {
        out.push(error(Source::PngText, err, limits));
    }
    out
}

/// A payload that could not be read is itself worth showing a reviewer (possible tampering),
/// but implies nothing. The value names only what failed (`truncated: EXIF value`), never a
/// parser's message, which may quote the file.
pub(crate) fn error(source: Source, err: &crate::MetadataError, limits: &Limits) -> Finding {
    use crate::MetadataError as E;
    let token = match err {
        E::Truncated { what, .. } => format!("truncated: {what}"),
        E::Malformed { what, .. } => format!("malformed: {what}"),
        E::LimitExceeded { what, .. } => format!("limit reached: {what}"),
        E::Inflate { what, .. } => format!("cannot inflate: {what}"),
        E::Xml(_) => "invalid XMP".to_owned(),
        #[allow(unreachable_patterns, reason = "the enum is non_exhaustive")]
        _ => "unreadable".to_owned(),
    };
    Finding::note(source, "error", &token, Strength::Weak, limits.max_value_chars)
}

/// A fixed error token (for errors from other libraries, whose messages may quote the file).
#[cfg_attr(not(feature = "c2pa"), allow(dead_code, reason = "only the C2PA reader uses it"))]
pub(crate) fn error_token(source: Source, token: &str, limits: &Limits) -> Finding {
    Finding::note(source, "error", token, Strength::Weak, limits.max_value_chars)
}

fn xmp_findings(properties: &[(Property, String)], limits: &Limits, out: &mut Vec<Finding>) {
    let max = limits.max_value_chars;
    // The packet's creator tool names the generator of a declared-synthetic image, unless it is
    // a known editor.
    let creator = properties
        .iter()
        .filter(|(p, _)| *p == Property::CreatorTool)
        .map(|(_, raw)| normalize::builtin().normalize(raw))
        .find(|tool| tool.kind == Some(ToolKind::Ai));
    for (property, value) in properties {
        let key = property.key();
        match property {
            Property::DigitalSourceType => match classify_source_type(value) {
                Some(class) => {
                    let mut finding = Finding::note(Source::Xmp, key, &source_type_token(value), Strength::Strong, max);
                    finding.rank = Rank::Declared;
                    finding.ai = class.ai;
                    finding.edited = class.edited;
                    finding.pure_generation = class.pure_generation;
                    if class.ai == Some(true) {
                        finding.generator = creator.as_ref().map(|tool| truncate(&tool.name, max));
                    }
                    out.push(finding);
                }
                None => out.push(Finding::note(Source::Xmp, key, UNRECOGNISED, Strength::Weak, max)),
            },
            Property::CreatorTool | Property::HistorySoftwareAgent => {
                out.push(tool_finding(Source::Xmp, key, value, max))
            }
            // Credit lines usually name people; only a known AI tool's credit is kept.
            Property::Credit => {
                if normalize::builtin().normalize(value).kind == Some(ToolKind::Ai) {
                    out.push(tool_finding(Source::Xmp, key, value, max));
                }
            }
            // A reference to a manifest store; its text (a URI) is not needed, only that it exists.
            Property::Provenance => out.push(Finding::note(Source::Xmp, key, "present", Strength::Weak, max)),
        }
    }
}

fn exif_findings(tags: &[(exif::Tag, String)], limits: &Limits, out: &mut Vec<Finding>) {
    let max = limits.max_value_chars;
    for (tag, value) in tags {
        // ComfyUI's JPEG/WebP savers store the node graphs as `workflow:{…}` in Make, `prompt:{…}`
        // in Model, or a graph in ImageDescription.
        if matches!(tag, exif::Tag::Make | exif::Tag::Model | exif::Tag::ImageDescription)
            && let Some(finding) = comfy_graph(Source::Exif, tag.key(), value, limits)
        {
            out.push(finding);
            continue;
        }
        match tag {
            exif::Tag::Make | exif::Tag::Model => out.push(tool_finding(Source::Exif, tag.key(), value, max)),
            // Free text; read only for generator graphs (above).
            exif::Tag::ImageDescription => {}
            exif::Tag::Software => out.push(tool_finding(Source::Exif, tag.key(), value, max)),
            // Free text: kept only when it is generation parameters.
            exif::Tag::UserComment => {
                if let Some(finding) = sd_parameters(Source::Exif, tag.key(), value, limits) {
                    out.push(finding);
                }
            }
        }
    }
}

/// AUTOMATIC1111 / Forge / SD.Next "infotext": prompt lines, then a settings line starting with
/// `Steps:` (`Steps: 20, Sampler: Euler a, …, Model: …`). Nothing of it is kept but the generator:
/// the model named in the settings when the table knows it, else the web UI.
fn sd_parameters(source: Source, key: &str, text: &str, limits: &Limits) -> Option<Finding> {
    let settings_at = text.find("Steps: ")?;
    let settings = text[settings_at..].lines().next().unwrap_or_default();
    if !settings.contains("Sampler: ") && !settings.contains("Seed: ") {
        return None;
    }
    // A recognised model (e.g. FLUX run in Forge) names the generator more precisely than the UI.
    let model = settings
        .split(", ")
        .find_map(|field| field.strip_prefix("Model: "))
        .map(|model| normalize::builtin().normalize(model))
        .filter(|tool| tool.kind == Some(ToolKind::Ai));
    let name = model.map_or_else(|| normalize::builtin().normalize("Stable Diffusion web UI").name, |tool| tool.name);
    let mut finding = Finding::note(source, key, &name, Strength::Weak, limits.max_value_chars);
    finding.ai = Some(true);
    finding.pure_generation = true;
    finding.generator = Some(name);
    Some(finding)
}

/// A ComfyUI node graph (`prompt` API graph or `workflow` editor graph, JSON), optionally behind a
/// `workflow:` / `prompt:` label as ComfyUI's EXIF savers write it. The value names the
/// checkpoint's model family when the table knows it, else only "ComfyUI".
fn comfy_graph(source: Source, key: &str, text: &str, limits: &Limits) -> Option<Finding> {
    let body = text.trim_start();
    let body = ["workflow:", "prompt:", "Workflow:", "Prompt:"]
        .iter()
        .find_map(|label| body.strip_prefix(label))
        .unwrap_or(body)
        .trim_start();
    let is_graph = body.starts_with('{') && (body.contains("\"class_type\"") || body.contains("\"nodes\""));
    if !is_graph {
        return None;
    }
    let comfy = normalize::builtin().normalize("ComfyUI").name;
    let mut finding =
        Finding::note(source, key, &graph_token(body, "ckpt_name", &comfy), Strength::Weak, limits.max_value_chars);
    finding.ai = Some(true);
    finding.pure_generation = true;
    finding.generator = Some(comfy);
    Some(finding)
}

fn png_text_finding(chunk: &TextChunk, limits: &Limits) -> Option<Finding> {
    let max = limits.max_value_chars;
    let generated = |key: &str, value: &str, raw_tool: &str| {
        let mut finding = Finding::note(Source::PngText, key, value, Strength::Weak, max);
        finding.ai = Some(true);
        finding.pure_generation = true;
        finding.generator = Some(normalize::builtin().normalize(raw_tool).name);
        finding
    };
    let text = chunk.text.as_str();
    // NovelAI's alpha-channel payload (`stealth`): its Software and Source fields.
    if chunk.chunk.starts_with("stealth_") {
        let key = format!("{}.{}", chunk.chunk, chunk.keyword);
        return match chunk.keyword.as_str() {
            "Software" => Some(tool_finding(Source::PngText, &key, text, max)),
            _ => Some(Finding::note(Source::PngText, key, &tool_token(text), Strength::Weak, max)),
        };
    }
    match chunk.keyword.as_str() {
        "parameters" => sd_parameters(Source::PngText, "parameters", text, limits),
        // ComfyUI saves the executed node graph as `prompt` and the editor graph as `workflow`,
        // both JSON; the node-type markers distinguish them from a bare prompt string.
        "prompt" | "workflow" => comfy_graph(Source::PngText, &chunk.keyword, text, limits),
        // InvokeAI 3+ (`invokeai_metadata`, `invokeai_graph`) and 2.x (`sd-metadata`).
        key @ ("invokeai_metadata" | "invokeai_graph" | "sd-metadata") => {
            let invoke = normalize::builtin().normalize("InvokeAI").name;
            Some(generated(key, &graph_token(text, "model_name", &invoke), "InvokeAI"))
        }
        // NovelAI writes `Software: NovelAI`; editors (GIMP, Photoshop) write their name too.
        "Software" => Some(tool_finding(Source::PngText, "Software", text, max)),
        // NovelAI's model description ("Stable Diffusion XL …", "NovelAI Diffusion V4 …").
        "Source" => Some(Finding::note(Source::PngText, "Source", &tool_token(text), Strength::Weak, max)),
        _ => None,
    }
}

/// A JSON graph as a token: `<tool> graph`, plus the model family of its first model field when
/// the table knows it (`ComfyUI graph, Flux`). File and LoRA names are never kept.
fn graph_token(json: &str, model_field: &str, tool: &str) -> String {
    let family = first_string_value(json, model_field)
        .map(|model| normalize::builtin().normalize(&model))
        .filter(|t| t.kind == Some(ToolKind::Ai));
    match family {
        Some(family) => format!("{tool} graph, {}", family.name),
        None => format!("{tool} graph"),
    }
}

/// The first `"field": "value"` string in a JSON text, found by scanning (no full JSON parse of
/// an untrusted, possibly huge graph; values are truncated by the caller).
pub(crate) fn first_string_value(json: &str, field: &str) -> Option<String> {
    let needle = format!("\"{field}\"");
    let after = &json[json.find(&needle)? + needle.len()..];
    let after = after.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let end = after.find('"')?;
    Some(after[..end].chars().take(120).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sd_parameters_keep_settings_not_prompt() {
        let text = "a secret prompt naming someone\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Model: flux1-dev, Version: f2.0.1";
        let finding = sd_parameters(Source::PngText, "parameters", text, &Limits::default()).expect("finding");
        assert!(!finding.signal.value.contains("secret"));
        assert_eq!(finding.signal.value, "Flux");
        assert_eq!(finding.generator.as_deref(), Some("Flux"));
        let plain = "x\nSteps: 30, Sampler: DPM++ 2M, Seed: 5, Model: janedoe_v2_lora";
        let finding = sd_parameters(Source::PngText, "parameters", plain, &Limits::default()).expect("finding");
        assert_eq!(finding.generator.as_deref(), Some("Stable Diffusion web UI"));
        assert!(!finding.signal.value.contains("janedoe"));
        assert!(sd_parameters(Source::PngText, "parameters", "Steps: to heaven", &Limits::default()).is_none());
    }

    #[test]
    fn comfy_graphs_in_exif_labels_are_recognised_without_their_text() {
        let graph = r#"workflow:{"nodes": [{"type": "CLIPTextEncode", "widgets_values": ["a secret prompt"]}], "ckpt_name": "flux1-dev.safetensors"}"#;
        let finding = comfy_graph(Source::Exif, "Make", graph, &Limits::default()).expect("finding");
        assert_eq!(finding.ai, Some(true));
        assert_eq!(finding.generator.as_deref(), Some("ComfyUI"));
        assert_eq!(finding.signal.value, "ComfyUI graph, Flux");
        let prompt = r#"prompt:{"3": {"class_type": "KSampler", "inputs": {"text": "a secret prompt"}}}"#;
        assert_eq!(
            comfy_graph(Source::Exif, "Model", prompt, &Limits::default()).expect("finding").signal.value,
            "ComfyUI graph"
        );
        assert!(comfy_graph(Source::Exif, "Make", "Canon", &Limits::default()).is_none());
    }

    #[test]
    fn json_scan_is_bounded_and_tolerant() {
        assert_eq!(
            first_string_value(r#"{"a": {"ckpt_name" : "sd_xl.safetensors"}}"#, "ckpt_name").as_deref(),
            Some("sd_xl.safetensors")
        );
        assert_eq!(first_string_value(r#"{"ckpt_name": 3}"#, "ckpt_name"), None);
        assert_eq!(first_string_value(r#"{"ckpt_name": "unterminated"#, "ckpt_name"), None);
    }
}
