//! Interpretation of raw metadata into findings, and the rules that combine findings into one
//! verdict (issue 6 "combination rules").
//!
//! Rules, in order: (1) only the highest-ranked findings that speak to a question decide it —
//! a validating C2PA manifest outranks an IPTC XMP declaration, which outranks weak heuristics
//! (tool names, generator parameters, a C2PA manifest that fails validation); (2) among equally
//! ranked findings, "yes" beats "no", because a trace of a generator or an edit is specific while
//! its absence is not; (3) every finding's signal is kept, including the losers of a
//! contradiction. `generator` is only reported when the verdict is `ai_generated = yes`, and
//! editors never become the generator.

use crate::normalize::{self, ToolKind};
use crate::types::{Provenance, Signal, Source, Strength, Verdict};

/// How much a finding counts when signals disagree. Derived from source and validation, not
/// from the serialised `strength` alone, so that a valid C2PA manifest beats an XMP property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rank {
    /// Heuristics and claims read from the file.
    Weak = 1,
    /// An IPTC `DigitalSourceType` in XMP: a declaration, but unsigned.
    Declared = 2,
    /// A C2PA manifest that validates (signature and hashes; trust is reported separately).
    #[cfg_attr(not(feature = "c2pa"), allow(dead_code, reason = "only the C2PA reader signs"))]
    Signed = 3,
}

/// One signal plus what it implies.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub signal: Signal,
    pub rank: Rank,
    pub ai: Option<bool>,
    pub edited: Option<bool>,
    /// A normalised generator name, only on findings with `ai == Some(true)`.
    pub generator: Option<String>,
    /// The generator produced the whole content (not a composite): preferred when several
    /// generators are named, e.g. Firefly (created) over a compositing step.
    pub pure_generation: bool,
}

impl Finding {
    /// A finding that only records a signal.
    pub fn note(source: Source, key: impl Into<String>, value: &str, strength: Strength, max_chars: usize) -> Self {
        Self {
            signal: Signal { source, key: key.into(), value: truncate(value, max_chars), strength },
            rank: if strength == Strength::Strong { Rank::Declared } else { Rank::Weak },
            ai: None,
            edited: None,
            generator: None,
            pure_generation: false,
        }
    }
}

/// Trims and truncates to `max_chars` characters, marking the cut with "…".
pub(crate) fn truncate(value: &str, max_chars: usize) -> String {
    let value = value.trim();
    match value.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

/// The value of a signal whose raw text is not a recognised token (issue 14: no signal value ever
/// carries free text that may hold a prompt or a person's name).
pub(crate) const UNRECOGNISED: &str = "unrecognised";

/// A tool string as a signal value: the normalisation table's name, or [`UNRECOGNISED`]. Raw tool
/// strings are free text (a `Software` tag can say anything), so they never become values.
pub(crate) fn tool_token(raw: &str) -> String {
    let tool = normalize::builtin().normalize(raw);
    if tool.kind.is_some() { tool.name } else { UNRECOGNISED.to_owned() }
}

/// A machine identifier (a C2PA action label such as `c2pa.created`, a validation status code):
/// kept when it is 1–64 characters of ASCII letters, digits, `.`, `_`, `-`, `:`, `/`, else
/// [`UNRECOGNISED`]. Identifiers have no spaces; prompts and names do.
#[cfg_attr(not(feature = "c2pa"), allow(dead_code, reason = "only the C2PA reader uses it"))]
pub(crate) fn identifier_token(raw: &str) -> String {
    let raw = raw.trim();
    let ok = (1..=64).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-:/".contains(&b))
        && raw.bytes().any(|b| b.is_ascii_alphabetic());
    if ok { raw.to_owned() } else { UNRECOGNISED.to_owned() }
}

/// A digital source type as a signal value: the IPTC code (`trainedAlgorithmicMedia`, …) when it
/// is one we classify, else [`UNRECOGNISED`].
pub(crate) fn source_type_token(uri: &str) -> String {
    match classify_source_type(uri) {
        Some(_) => uri.trim().trim_end_matches('/').rsplit('/').next().unwrap_or(UNRECOGNISED).to_owned(),
        None => UNRECOGNISED.to_owned(),
    }
}

/// What an IPTC digital source type code says (IPTC NewsCodes "Digital Source Type",
/// <https://cv.iptc.org/newscodes/digitalsourcetype/>), shared by C2PA and XMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SourceType {
    pub ai: Option<bool>,
    pub edited: Option<bool>,
    pub pure_generation: bool,
}

/// Classifies a digital source type URI (or bare code). Values are trimmed first (one C2PA
/// fixture stores a leading space) and compared case-insensitively on the last path segment.
pub(crate) fn classify_source_type(uri: &str) -> Option<SourceType> {
    let code = uri.trim().trim_end_matches('/').rsplit('/').next()?.to_ascii_lowercase();
    let st = |ai, edited, pure_generation| Some(SourceType { ai, edited, pure_generation });
    match code.as_str() {
        // Synthetic: generated by a model trained on sampled content, or purely by an algorithm.
        // `algorithmicMedia` is not machine learning, but the pixels are declared synthetic, not
        // captured, which is what "AI-generated" means for this service (documented).
        "trainedalgorithmicmedia" | "algorithmicmedia" => st(Some(true), None, true),
        "compositewithtrainedalgorithmicmedia" | "compositesynthetic" => st(Some(true), Some(true), false),
        // Captured or digitised from a physical original.
        "digitalcapture" | "negativefilm" | "positivefilm" | "print" => st(Some(false), None, false),
        "minorhumanedits" | "humanedits" | "compositecapture" | "algorithmicallyenhanced" => {
            st(Some(false), Some(true), false)
        }
        "composite" => st(None, Some(true), false),
        // Made by people or programs without generative models.
        "digitalcreation" | "digitalart" | "datadrivenmedia" | "screencapture" | "virtualrecording" => {
            st(Some(false), None, false)
        }
        _ => None,
    }
}

/// Interprets a tool name (EXIF/PNG `Software`, XMP `CreatorTool`, history agent): a known AI
/// tool is a weak AI signal naming the generator; a known editor is a weak "edited" signal.
pub(crate) fn tool_finding(source: Source, key: &str, raw: &str, max_chars: usize) -> Finding {
    let mut finding = Finding::note(source, key, &tool_token(raw), Strength::Weak, max_chars);
    let tool = normalize::builtin().normalize(raw);
    match tool.kind {
        Some(ToolKind::Ai) => {
            finding.ai = Some(true);
            finding.generator = Some(tool.name);
            finding.pure_generation = true;
        }
        Some(ToolKind::Editor) => finding.edited = Some(true),
        // A signing library or SDK says who signed, not what made the image.
        Some(ToolKind::Library | ToolKind::Camera) | None => {}
    }
    finding
}

/// Highest rank wins; at equal rank `yes` beats `no`.
fn decide(findings: &[Finding], pick: impl Fn(&Finding) -> Option<bool>) -> Verdict {
    let best = findings.iter().filter_map(|f| pick(f).map(|v| (f.rank, v))).max();
    Verdict::from_option(best.map(|(_, value)| value))
}

/// Combines findings into the result, keeping at most `max_signals` signals.
pub(crate) fn combine(findings: Vec<Finding>, max_signals: usize) -> Provenance {
    let ai_generated = decide(&findings, |f| f.ai);
    let edited = decide(&findings, |f| f.edited);
    let generator = if ai_generated == Verdict::Yes {
        findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.ai == Some(true))
            .filter_map(|(index, f)| f.generator.as_ref().map(|name| (f.rank, f.pure_generation, index, name)))
            // Highest rank, then pure generation, then earliest in reading order.
            .max_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(b.2.cmp(&a.2)))
            .map(|(_, _, _, name)| name.clone())
    } else {
        None
    };
    let mut signals: Vec<Signal> = Vec::with_capacity(findings.len().min(max_signals));
    for finding in findings {
        if signals.len() >= max_signals {
            break;
        }
        // The same fact read twice (e.g. XMP in two packets) is listed once.
        if !signals.contains(&finding.signal) {
            signals.push(finding.signal);
        }
    }
    Provenance { ai_generated, generator, edited, signals }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rank: Rank, ai: Option<bool>, generator: Option<&str>, pure: bool) -> Finding {
        let mut f = Finding::note(Source::Xmp, "k", "v", Strength::Weak, 100);
        f.signal.value = format!("{rank:?}{ai:?}{generator:?}");
        f.rank = rank;
        f.ai = ai;
        f.generator = generator.map(str::to_owned);
        f.pure_generation = pure;
        f
    }

    #[test]
    fn stronger_wins_and_both_are_kept() {
        let result = combine(
            vec![finding(Rank::Weak, Some(true), Some("Flux"), true), finding(Rank::Signed, Some(false), None, false)],
            10,
        );
        assert_eq!(result.ai_generated, Verdict::No);
        assert_eq!(result.generator, None);
        assert_eq!(result.signals.len(), 2);
    }

    #[test]
    fn equal_rank_yes_beats_no() {
        let result = combine(
            vec![finding(Rank::Weak, Some(false), None, false), finding(Rank::Weak, Some(true), None, true)],
            10,
        );
        assert_eq!(result.ai_generated, Verdict::Yes);
    }

    #[test]
    fn generator_prefers_rank_then_pure_generation_then_order() {
        let result = combine(
            vec![
                finding(Rank::Weak, Some(true), Some("Weak Gen"), true),
                finding(Rank::Signed, Some(true), Some("Compositor"), false),
                finding(Rank::Signed, Some(true), Some("First Pure"), true),
                finding(Rank::Signed, Some(true), Some("Second Pure"), true),
            ],
            10,
        );
        assert_eq!(result.generator.as_deref(), Some("First Pure"));
    }

    #[test]
    fn source_types_are_trimmed_and_case_folded() {
        let capture = classify_source_type(" http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture");
        assert_eq!(capture.map(|s| s.ai), Some(Some(false)));
        let trained = classify_source_type("https://cv.iptc.org/newscodes/digitalsourcetype/TRAINEDALGORITHMICMEDIA/");
        assert_eq!(trained.map(|s| s.ai), Some(Some(true)));
        assert_eq!(classify_source_type("http://c2pa.org/digitalsourcetype/empty"), None);
    }

    #[test]
    fn truncate_marks_the_cut_on_a_char_boundary() {
        assert_eq!(truncate("  ééééé  ", 3), "ééé…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
