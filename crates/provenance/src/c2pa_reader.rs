//! C2PA (Content Credentials) reader: active manifest, claim generator, actions and their
//! `digitalSourceType`, validation state, and the ingredient chain.
//!
//! Implements reading per the C2PA Technical Specification 2.x (§15 validation, §18.13 actions)
//! through the Content Authenticity Initiative's own SDK (`c2pa` crate) — C2PA is the marking the
//! EU AI Act Art. 50(2) code of practice points generative-AI providers to. Runs with no network:
//! a resolver that refuses every request is installed, OCSP and remote-manifest fetching are off
//! and the allowed-host list is empty, so a hostile file cannot make the server call out (privacy,
//! SSRF). No trust list is configured, so signers are reported as untrusted; a valid signature
//! proves who signed, not that the content is what it claims.

use std::cell::RefCell;
use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};

use c2pa::http::http::{Request, Response};
use c2pa::http::{HttpResolverError, SyncHttpResolver};
use c2pa::{Context, Manifest, Reader, Settings, ValidationState};
use serde_json::Value;

use crate::Limits;
use crate::combine::{
    Finding, Rank, UNRECOGNISED, classify_source_type, identifier_token, source_type_token, tool_finding, tool_token,
    truncate,
};
use crate::container::Format;
use crate::interpret::error_token;
use crate::normalize::{self, ToolKind};
use crate::types::{Source, Strength};

/// Network requests the `c2pa` crate attempted (and was refused) in this process; tests assert
/// it stays zero.
pub(crate) static REFUSED_REQUESTS: AtomicUsize = AtomicUsize::new(0);

/// Refuses every HTTP request the SDK would make (OCSP, timestamp authorities, remote manifests).
struct NoNetwork;

impl SyncHttpResolver for NoNetwork {
    fn http_resolve(&self, request: Request<Vec<u8>>) -> Result<Response<Box<dyn Read>>, HttpResolverError> {
        REFUSED_REQUESTS.fetch_add(1, Ordering::Relaxed);
        Err(HttpResolverError::UriDisallowed { uri: request.uri().to_string() })
    }
}

/// Actions that change the content itself (C2PA 2.x §18.13.4.1). Metadata edits, transcoding,
/// resizing and re-packaging are left out: they do not alter what the image depicts.
const EDIT_ACTIONS: &[&str] = &[
    "c2pa.color_adjustments",
    "c2pa.cropped",
    "c2pa.drawing",
    "c2pa.edited",
    "c2pa.filtered",
    "c2pa.placed",
    "c2pa.removed",
];

thread_local! {
    // The SDK builds `Settings` by overlaying JSON on its defaults, which cost about as much as
    // reading a JPEG without a manifest (1.3 % of a screened upload's CPU in a profile); the
    // result depends only on the manifest bound, so each thread keeps the last one it built.
    static SETTINGS: RefCell<Option<(usize, Settings)>> = const { RefCell::new(None) };
}

fn settings(limits: &Limits) -> Result<Settings, c2pa::Error> {
    let mib = limits.max_c2pa_manifest_mib;
    SETTINGS.with(|cell| {
        if let Some((cached, settings)) = cell.borrow().as_ref()
            && *cached == mib
        {
            return Ok(settings.clone());
        }
        let settings = Settings::new().with_json(
            &serde_json::json!({
                "verify": { "ocsp_fetch": false, "remote_manifest_fetch": false },
                "core": {
                    "allowed_network_hosts": [],
                    "max_decompressed_manifest_size_in_mb": mib,
                },
            })
            .to_string(),
        )?;
        *cell.borrow_mut() = Some((mib, settings.clone()));
        Ok(settings)
    })
}

fn context(limits: &Limits) -> Result<Context, c2pa::Error> {
    Ok(Context::new().with_settings(settings(limits)?)?.with_resolver(NoNetwork))
}

/// Reads the C2PA manifest store embedded in `bytes`, if any, into findings.
pub(crate) fn findings(bytes: &[u8], format: Format, limits: &Limits) -> Vec<Finding> {
    // The SDK parses untrusted JUMBF/CBOR/COSE; a panic in it must cost this file its C2PA
    // signals, not the server its worker. Nothing shared is mutated inside the closure except
    // the refusal counter, which is atomic, so asserting unwind safety is sound.
    let read = catch_unwind(AssertUnwindSafe(|| {
        let context = context(limits)?;
        Reader::from_context(context).with_stream(format.mime(), Cursor::new(bytes))
    }));
    let reader = match read {
        Ok(Ok(reader)) => reader,
        // No manifest, or a format the SDK does not handle: nothing to say.
        Ok(Err(c2pa::Error::JumbfNotFound | c2pa::Error::ProvenanceMissing | c2pa::Error::UnsupportedType)) => {
            return Vec::new();
        }
        // The SDK's messages can quote the manifest; only the error's kind is kept.
        Ok(Err(err)) => return vec![error_token(Source::C2pa, &error_kind(&err), limits)],
        Err(_) => {
            return vec![error_token(Source::C2pa, "the C2PA reader panicked on this manifest", limits)];
        }
    };
    from_reader(&reader, limits)
}

/// `c2pa::Error`'s variant name (`ClaimDecoding`, `InvalidAsset`, …), without its payload.
fn error_kind(err: &c2pa::Error) -> String {
    let debug = format!("{err:?}");
    let end = debug.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(debug.len());
    format!("c2pa: {}", identifier_token(&debug[..end.min(64)]))
}

fn from_reader(reader: &Reader, limits: &Limits) -> Vec<Finding> {
    let max = limits.max_value_chars;
    let state = reader.validation_state();
    let valid = matches!(state, ValidationState::Valid | ValidationState::Trusted);
    let (strength, rank) = if valid { (Strength::Strong, Rank::Signed) } else { (Strength::Weak, Rank::Weak) };

    let mut out = vec![Finding::note(Source::C2pa, "validation", &validation_summary(reader, state), strength, max)];
    let Some(active) = reader.active_label() else {
        return out;
    };
    // Depth-first over ingredient manifests, bounded in depth and never visiting a label twice
    // (a crafted store could reference itself).
    let mut stack = vec![(active.to_owned(), 0usize)];
    let mut visited = Vec::new();
    while let Some((label, depth)) = stack.pop() {
        if visited.contains(&label) || visited.len() >= limits.max_c2pa_depth * 8 {
            continue;
        }
        let Some(manifest) = reader.get_manifest(&label) else {
            continue;
        };
        visited.push(label);
        let role = if depth == 0 { "manifest" } else { "ingredient" };
        manifest_findings(manifest, role, depth == 0, strength, rank, max, &mut out);
        if depth < limits.max_c2pa_depth {
            // Reversed so that the first ingredient is read first.
            for ingredient in manifest.ingredients().iter().rev() {
                if let Some(child) = ingredient.active_manifest() {
                    stack.push((child.to_owned(), depth + 1));
                }
            }
        }
    }
    out
}

/// "valid", "trusted" or "invalid", then the failure codes, then informational codes such as
/// `signingCredential.untrusted` (no trust list configured).
fn validation_summary(reader: &Reader, state: ValidationState) -> String {
    let mut summary = match state {
        ValidationState::Trusted => "trusted".to_owned(),
        ValidationState::Valid => "valid".to_owned(),
        ValidationState::Invalid => "invalid".to_owned(),
    };
    let mut codes: Vec<&str> = Vec::new();
    if let Some(results) = reader.validation_results() {
        let sets = results
            .active_manifest()
            .into_iter()
            .chain(results.ingredient_deltas().into_iter().flatten().map(|delta| delta.validation_deltas()));
        for set in sets {
            for status in set.failure().iter().chain(set.informational()) {
                // Ingredient results are copied from the file; keep identifiers only.
                let code = status.code();
                let code = if identifier_token(code) == code { code } else { UNRECOGNISED };
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
        }
    }
    if !codes.is_empty() {
        summary.push_str(": ");
        summary.push_str(&codes.join(", "));
    }
    summary
}

/// The tool that made a manifest: the first `claim_generator_info` entry the normalisation table
/// knows as a product (C2PA 2.x lists the product and the libraries it used; a signing library
/// such as "Google C2PA Core Generator Library" is not the product), else the first entry, else
/// the v1 `claim_generator` string. Returns `(raw with version, raw name)`.
fn claim_tool(manifest: &Manifest) -> Option<(String, String)> {
    if let Some(infos) = manifest.claim_generator_info.as_ref().filter(|infos| !infos.is_empty()) {
        let product = infos.iter().find(|info| {
            matches!(normalize::builtin().normalize(&info.name).kind, Some(ToolKind::Ai | ToolKind::Editor))
        });
        let info = product.unwrap_or(&infos[0]);
        let raw = match &info.version {
            Some(version) => format!("{} {version}", info.name),
            None => info.name.clone(),
        };
        return Some((raw, info.name.clone()));
    }
    manifest.claim_generator().map(|raw| (raw.to_owned(), raw.to_owned()))
}

/// Watermarking actions (C2PA 2.1 `c2pa.watermarked`, `.bound`, `.unbound`; an edit whose
/// description says it only added a watermark, as SynthID-marking tools write): they mark the
/// pixels imperceptibly and do not make an image "edited".
fn is_watermark_only(action: &Action) -> bool {
    action.name.starts_with("c2pa.watermarked") || (action.name == "c2pa.edited" && action.watermark_description)
}

struct Action {
    name: String,
    source_type: Option<String>,
    agent: Option<String>,
    /// The action's description mentions a watermark (and nothing else is known about it).
    watermark_description: bool,
}

fn actions(manifest: &Manifest) -> Vec<Action> {
    let mut out = Vec::new();
    for assertion in manifest.assertions() {
        if !assertion.label().starts_with("c2pa.actions") {
            continue;
        }
        let Ok(value) = assertion.value() else {
            continue;
        };
        let Some(list) = value.get("actions").and_then(Value::as_array) else {
            continue;
        };
        for action in list {
            let Some(name) = action.get("action").and_then(Value::as_str) else {
                continue;
            };
            // The spec puts it on the action; Photoshop's generative fill with partner models puts
            // it in the parameters as `com.adobe.digitalSourceType`.
            let parameters = action.get("parameters");
            let source_type = action
                .get("digitalSourceType")
                .or_else(|| parameters.and_then(|p| p.get("com.adobe.digitalSourceType")))
                .or_else(|| parameters.and_then(|p| p.get("digitalSourceType")))
                .and_then(Value::as_str)
                .map(|s| s.trim().to_owned());
            let description = action
                .get("description")
                .or_else(|| parameters.and_then(|p| p.get("description")))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let watermark_description = description.contains("watermark") || description.contains("synthid");
            // v1: a string; v2: a ClaimGeneratorInfo object with a name.
            let agent = match action.get("softwareAgent") {
                Some(Value::String(agent)) => Some(agent.clone()),
                Some(Value::Object(info)) => info.get("name").and_then(Value::as_str).map(str::to_owned),
                _ => None,
            };
            out.push(Action { name: name.to_owned(), source_type, agent, watermark_description });
        }
    }
    out
}

fn manifest_findings(
    manifest: &Manifest,
    role: &str,
    is_active: bool,
    strength: Strength,
    rank: Rank,
    max: usize,
    out: &mut Vec<Finding>,
) {
    let tool = claim_tool(manifest);
    if let Some((raw, _)) = &tool {
        out.push(tool_finding(Source::C2pa, &format!("{role}.claim_generator"), raw, max));
    }
    if let Some(issuer) = manifest.signature_info().and_then(|info| info.issuer.as_deref()) {
        // A certificate's issuer can be a person's name; kept only when the table knows it.
        out.push(Finding::note(Source::C2pa, format!("{role}.signer"), &tool_token(issuer), strength, max));
    }
    let actions = actions(manifest);
    let is_edit = |a: &Action| EDIT_ACTIONS.contains(&a.name.as_str()) && !is_watermark_only(a);
    let has_edits = actions.iter().any(is_edit);
    for action in &actions {
        let mut finding =
            Finding::note(Source::C2pa, format!("{role}.action"), &identifier_token(&action.name), strength, max);
        finding.rank = rank;
        if is_edit(action) {
            finding.edited = Some(true);
        } else if is_active && action.name == "c2pa.created" && !has_edits && manifest.ingredients().is_empty() {
            // A new asset with no edit actions and no ingredients: the manifest declares an
            // unedited original.
            finding.edited = Some(false);
        }
        out.push(finding);
        let Some(source_type) = &action.source_type else {
            continue;
        };
        let mut finding = Finding::note(
            Source::C2pa,
            format!("{role}.digital_source_type"),
            &source_type_token(source_type),
            strength,
            max,
        );
        finding.rank = rank;
        if let Some(class) = classify_source_type(source_type) {
            finding.ai = class.ai;
            if !is_watermark_only(action) {
                finding.edited = finding.edited.or(class.edited);
            }
            finding.pure_generation = class.pure_generation;
            if class.ai == Some(true) {
                // The action's own software agent is the most precise name; else the claim's tool.
                // Only a tool the table knows as a generator is named (a signing library, an
                // editor or an unknown string is not).
                finding.generator = [action.agent.as_deref(), tool.as_ref().map(|(_, name)| name.as_str())]
                    .into_iter()
                    .flatten()
                    .map(|raw| normalize::builtin().normalize(raw))
                    .find(|t| t.kind == Some(ToolKind::Ai))
                    .map(|t| truncate(&t.name, max));
            }
        } else {
            // An unrecognised source type is shown but implies nothing.
            finding.signal.strength = Strength::Weak;
            finding.rank = Rank::Weak;
        }
        out.push(finding);
    }
    if has_edits && let Some((_, name)) = &tool {
        out.push(Finding::note(Source::C2pa, format!("{role}.editor"), &tool_token(name), strength, max));
    }
}
