//! Turns the payloads found by [`crate::container`] (XMP packets, EXIF blocks, PNG text chunks)
//! into findings.
//!
//! Covers IPTC `DigitalSourceType` (EU AI Act Art. 50(2) marking as IPTC recommends it) and the
//! de-facto generator traces of common image-generation tools. Data minimisation (GDPR
//! Art. 5(1)(c)): prompts, credits and comments are personal-data risks, so signal values keep
//! only settings and tool names, never prompt text.

use crate::combine::{Finding, Rank, classify_source_type, tool_finding, truncate};
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
/// but implies nothing.
pub(crate) fn error(source: Source, err: &dyn std::fmt::Display, limits: &Limits) -> Finding {
    Finding::note(source, "error", &err.to_string(), Strength::Weak, limits.max_value_chars)
}

fn xmp_findings(properties: &[(Property, String)], limits: &Limits, out: &mut Vec<Finding>) {
    let max = limits.max_value_chars;
    // The packet's creator tool names the generator of a declared-synthetic image, unless it is
    // a known editor.
    let creator = properties
        .iter()
        .filter(|(p, _)| *p == Property::CreatorTool)
        .map(|(_, raw)| normalize::builtin().normalize(raw))
        .find(|tool| tool.kind != Some(ToolKind::Editor) && !tool.name.is_empty());
    for (property, value) in properties {
        let key = property.key();
        match property {
            Property::DigitalSourceType => match classify_source_type(value) {
                Some(class) => {
                    let mut finding = Finding::note(Source::Xmp, key, value, Strength::Strong, max);
                    finding.rank = Rank::Declared;
                    finding.ai = class.ai;
                    finding.edited = class.edited;
                    finding.pure_generation = class.pure_generation;
                    if class.ai == Some(true) {
                        finding.generator = creator.as_ref().map(|tool| truncate(&tool.name, max));
                    }
                    out.push(finding);
                }
                None => out.push(Finding::note(Source::Xmp, key, value, Strength::Weak, max)),
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
            Property::Provenance => out.push(Finding::note(Source::Xmp, key, value, Strength::Weak, max)),
        }
    }
}

fn exif_findings(tags: &[(exif::Tag, String)], limits: &Limits, out: &mut Vec<Finding>) {
    let max = limits.max_value_chars;
    for (tag, value) in tags {
        match tag {
            exif::Tag::Make | exif::Tag::Model => {
                out.push(Finding::note(Source::Exif, tag.key(), value, Strength::Weak, max))
            }
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
/// `Steps:` (`Steps: 20, Sampler: Euler a, …, Model: …`). Only the settings line is kept.
fn sd_parameters(source: Source, key: &str, text: &str, limits: &Limits) -> Option<Finding> {
    let settings_at = text.find("Steps: ")?;
    let settings = text[settings_at..].lines().next().unwrap_or_default();
    if !settings.contains("Sampler: ") && !settings.contains("Seed: ") {
        return None;
    }
    let mut finding = Finding::note(source, key, settings, Strength::Weak, limits.max_value_chars);
    finding.ai = Some(true);
    finding.pure_generation = true;
    // A recognised model (e.g. FLUX run in Forge) names the generator more precisely than the UI.
    let model = settings
        .split(", ")
        .find_map(|field| field.strip_prefix("Model: "))
        .map(|model| normalize::builtin().normalize(model))
        .filter(|tool| tool.kind == Some(ToolKind::Ai));
    let name = model.map_or_else(|| normalize::builtin().normalize("Stable Diffusion web UI").name, |tool| tool.name);
    finding.generator = Some(name);
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
    match chunk.keyword.as_str() {
        "parameters" => sd_parameters(Source::PngText, "parameters", text, limits),
        // ComfyUI saves the executed node graph as `prompt` and the editor graph as `workflow`,
        // both JSON; the node-type markers distinguish them from a bare prompt string.
        "prompt" if text.trim_start().starts_with('{') && text.contains("\"class_type\"") => {
            Some(generated("prompt", &graph_summary(text, "ckpt_name"), "ComfyUI"))
        }
        "workflow" if text.trim_start().starts_with('{') && text.contains("\"nodes\"") => {
            Some(generated("workflow", &graph_summary(text, "ckpt_name"), "ComfyUI"))
        }
        // InvokeAI 3+ (`invokeai_metadata`, `invokeai_graph`) and 2.x (`sd-metadata`).
        key @ ("invokeai_metadata" | "invokeai_graph" | "sd-metadata") => {
            Some(generated(key, &graph_summary(text, "model_name"), "InvokeAI"))
        }
        // NovelAI writes `Software: NovelAI`; editors (GIMP, Photoshop) write their name too.
        "Software" => Some(tool_finding(Source::PngText, "Software", text, max)),
        // NovelAI's model description ("Stable Diffusion XL …", "NovelAI Diffusion V4 …").
        "Source" => Some(Finding::note(Source::PngText, "Source", text, Strength::Weak, max)),
        _ => None,
    }
}

/// A JSON graph summarised without its prompts: its size and the first model/checkpoint name.
fn graph_summary(json: &str, model_field: &str) -> String {
    let model = first_string_value(json, model_field);
    match model {
        Some(model) => format!("JSON graph, {} bytes, {model_field}: {model}", json.len()),
        None => format!("JSON graph, {} bytes", json.len()),
    }
}

/// The first `"field": "value"` string in a JSON text, found by scanning (no full JSON parse of
/// an untrusted, possibly huge graph; values are truncated by the caller).
fn first_string_value(json: &str, field: &str) -> Option<String> {
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
        assert!(finding.signal.value.starts_with("Steps: 20"));
        assert_eq!(finding.generator.as_deref(), Some("Flux"));
        let plain = "x\nSteps: 30, Sampler: DPM++ 2M, Seed: 5, Model: realisticVision";
        let finding = sd_parameters(Source::PngText, "parameters", plain, &Limits::default()).expect("finding");
        assert_eq!(finding.generator.as_deref(), Some("Stable Diffusion"));
        assert!(sd_parameters(Source::PngText, "parameters", "Steps: to heaven", &Limits::default()).is_none());
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
