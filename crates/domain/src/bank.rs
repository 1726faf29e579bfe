//! Hash banks: named lists of image hashes with an action, a match threshold and a provenance,
//! and the rules of upload screening against them (stay-down).
//!
//! design.md §4 ("Hash bank") and §5 ("Stay-down"), issue 5. A bank's action says what a match does
//! to an upload (`block` > `hold` > `flag`; the strictest action among all matches wins), its
//! threshold bounds the PDQ Hamming distance that counts as a match (0..=31, the field's default
//! 31), and its provenance says where its hashes came from (a victim, a helpline, an external list,
//! our own confirmed decisions). PDQ hashes of quality below 50 are not matched (specs/pdq.md §5).
//! A block or hold opens a case through ordinary intake, as a notice with source
//! `automated_match` ([`automated_match_notice`]), so a human confirms it (DSA Art. 16(6), 17(3)(c)
//! "automated means").

use serde::{Deserialize, Serialize};

use crate::notice::{Language, Location, MediaHashes, NewNotice, Source, Tristate, normalize_url};
use crate::validation::FieldErrors;

/// Largest PDQ match threshold a bank may have: the field's default and the radius the match
/// index is tuned for (docs/index.md).
pub const MAX_THRESHOLD: u8 = 31;
/// PDQ hashes with a quality below this are unreliable and never matched (specs/pdq.md §5).
pub const MIN_PDQ_QUALITY: u8 = 50;
/// Name of the bank that confirmed removals feed (seeded by the migration).
pub const CONFIRMED_BANK: &str = "confirmed";
/// Name of the bank that confirmed hash-only notices from victims feed (seeded by the migration).
pub const VICTIM_SUBMITTED_BANK: &str = "victim-submitted";
/// Longest note or reason on an entry (characters).
pub const MAX_NOTE_CHARS: usize = 1_000;
/// Longest bank description (characters).
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// What a match against a bank does to an upload.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BankAction {
    /// Record the match, let the upload through.
    Flag,
    /// Hold the upload until a reviewer decides.
    Hold,
    /// Block the upload; a reviewer still confirms the case.
    Block,
}

impl BankAction {
    /// Every action, mildest first.
    pub const ALL: [BankAction; 3] = [BankAction::Flag, BankAction::Hold, BankAction::Block];

    /// Wire and storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Flag => "flag",
            Self::Hold => "hold",
            Self::Block => "block",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Where a bank's hashes come from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BankProvenance {
    /// Hashes a victim submitted (e.g. computed in their browser), confirmed by a reviewer.
    VictimSubmitted,
    /// Hashes from a helpline.
    Helpline,
    /// An imported external list (StopNCII, ThreatExchange, …).
    ExternalList,
    /// Hashes of content removed by our own confirmed decisions.
    ConfirmedDecision,
}

impl BankProvenance {
    /// Every provenance.
    pub const ALL: [BankProvenance; 4] =
        [Self::VictimSubmitted, Self::Helpline, Self::ExternalList, Self::ConfirmedDecision];

    /// Wire and storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VictimSubmitted => "victim_submitted",
            Self::Helpline => "helpline",
            Self::ExternalList => "external_list",
            Self::ConfirmedDecision => "confirmed_decision",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Which program computed a bank's PDQ hashes, recorded at import so that a reviewer can judge a
/// miss (docs/banks.md, "Interoperability"): python-threatexchange (and so HMA) hashes palette
/// images on their palette indices and CMYK JPEGs on raw ink values, so its hashes of those files
/// never match a correct PDQ of the same image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashedBy {
    /// staydown itself (server, CLI or the browser form): Pillow-equivalent RGB.
    Staydown,
    /// Meta's reference core on Pillow `convert("RGB")` pixels (PyPI `pdqhash`), as staydown does.
    MetaReference,
    /// python-threatexchange / HMA: palette indices and raw CMYK ink for those files.
    PythonThreatexchange,
    /// Not known (StopNCII and other lists that do not say).
    Unknown,
}

impl HashedBy {
    /// Every value.
    pub const ALL: [HashedBy; 4] = [Self::Staydown, Self::MetaReference, Self::PythonThreatexchange, Self::Unknown];

    /// Wire and storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staydown => "staydown",
            Self::MetaReference => "meta-reference",
            Self::PythonThreatexchange => "python-threatexchange",
            Self::Unknown => "unknown",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == s)
    }

    /// Whether this hasher's PDQ of palette images (GIF, palette PNG) and CMYK JPEGs differs from
    /// a correct one: such files will not match across the two.
    pub fn differs_on_palette_and_cmyk(self) -> bool {
        self == Self::PythonThreatexchange
    }
}

/// The answer to a screened upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No match, or only `flag` matches.
    Allow,
    /// Hold for review.
    Hold,
    /// Block.
    Block,
}

impl Verdict {
    /// Wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Hold => "hold",
            Self::Block => "block",
        }
    }

    /// The verdict of a set of matched actions: the strictest wins; `flag` still allows.
    pub fn of(actions: impl IntoIterator<Item = BankAction>) -> Self {
        match actions.into_iter().max() {
            Some(BankAction::Block) => Self::Block,
            Some(BankAction::Hold) => Self::Hold,
            Some(BankAction::Flag) | None => Self::Allow,
        }
    }
}

/// A bank as an admin asks for it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankDraft {
    /// Unique name: lowercase letters, digits, `-`, `_`, `.`; 1–64 characters.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// `block`, `hold` or `flag`.
    pub action: Option<BankAction>,
    /// PDQ threshold, 0..=31 (default 31).
    pub threshold: Option<u8>,
    /// Where the hashes come from (default `external_list`).
    pub provenance: Option<BankProvenance>,
    /// Also match the rotations and mirror images of uploads (the eight dihedral PDQ variants).
    /// Default: on for banks of victim-submitted and confirmed-decision hashes, off otherwise.
    pub dihedral: Option<bool>,
}

/// A validated bank definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBank {
    /// Name.
    pub name: String,
    /// Description (may be empty).
    pub description: String,
    /// Action.
    pub action: BankAction,
    /// PDQ threshold.
    pub threshold: u8,
    /// Provenance.
    pub provenance: BankProvenance,
    /// Match the eight dihedral variants of an upload, not only the upload as given.
    pub dihedral: bool,
}

/// Whether a bank of this provenance matches rotations and mirror images unless told otherwise:
/// a victim's own photo or content we removed comes back rotated or mirrored (phones, editors,
/// platforms that bake EXIF orientation into pixels); external lists keep their own convention.
pub fn default_dihedral(provenance: BankProvenance) -> bool {
    matches!(provenance, BankProvenance::VictimSubmitted | BankProvenance::ConfirmedDecision)
}

/// Whether `name` is a valid bank name (also used in URLs, so kept to a safe alphabet).
pub fn valid_bank_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric()
}

/// Validates a bank definition, naming every problem.
pub fn validate_bank(draft: BankDraft) -> Result<NewBank, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = draft.name.map(|n| n.trim().to_owned()).unwrap_or_default();
    if name.is_empty() {
        errors.required("name", "give the bank a name");
    } else if !valid_bank_name(&name) {
        errors.push("name", "invalid", "1–64 characters: lowercase letters, digits, '-', '_' or '.'");
    }
    let description = draft.description.map(|d| d.trim().to_owned()).unwrap_or_default();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.push("description", "too_long", format!("must be at most {MAX_DESCRIPTION_CHARS} characters"));
    }
    if draft.action.is_none() {
        errors.required("action", "one of block, hold, flag");
    }
    let threshold = draft.threshold.unwrap_or(MAX_THRESHOLD);
    if threshold > MAX_THRESHOLD {
        errors.push("threshold", "invalid", format!("must be between 0 and {MAX_THRESHOLD}"));
    }
    errors.into_result(())?;
    let provenance = draft.provenance.unwrap_or(BankProvenance::ExternalList);
    Ok(NewBank {
        name,
        description,
        action: draft.action.unwrap_or(BankAction::Hold),
        threshold,
        provenance,
        dihedral: draft.dihedral.unwrap_or_else(|| default_dihedral(provenance)),
    })
}

/// A bank entry as submitted (API, import file).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryDraft {
    /// PDQ, 64 hex digits.
    pub pdq: Option<String>,
    /// PDQ quality 0–100, when known.
    pub quality: Option<u8>,
    /// SHA-256, 64 hex digits.
    pub sha256: Option<String>,
    /// MD5, 32 hex digits.
    pub md5: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// Why it was added: a case or notice reference, a list name.
    pub reason: Option<String>,
}

/// A validated bank entry (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewEntry {
    /// PDQ.
    pub pdq: Option<String>,
    /// PDQ quality.
    pub quality: Option<u8>,
    /// SHA-256.
    pub sha256: Option<String>,
    /// MD5.
    pub md5: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Reason.
    pub reason: Option<String>,
}

fn hex_value(errors: &mut FieldErrors, field: &str, value: Option<String>, digits: usize) -> Option<String> {
    let value = value.map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty())?;
    if value.len() != digits || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.push(field, "invalid", format!("must be {digits} hexadecimal digits"));
        return None;
    }
    Some(value)
}

fn text_value(errors: &mut FieldErrors, field: &str, value: Option<String>) -> Option<String> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
    if value.chars().count() > MAX_NOTE_CHARS {
        errors.push(field, "too_long", format!("must be at most {MAX_NOTE_CHARS} characters"));
    }
    Some(value)
}

/// Validates an entry: at least one hash, each well-formed; quality 0–100 and only with a PDQ.
pub fn validate_entry(draft: EntryDraft) -> Result<NewEntry, FieldErrors> {
    let mut errors = FieldErrors::default();
    let pdq = hex_value(&mut errors, "pdq", draft.pdq, 64);
    let sha256 = hex_value(&mut errors, "sha256", draft.sha256, 64);
    let md5 = hex_value(&mut errors, "md5", draft.md5, 32);
    if draft.quality.is_some_and(|q| q > 100) {
        errors.push("quality", "invalid", "must be between 0 and 100");
    }
    if pdq.is_none() && sha256.is_none() && md5.is_none() && errors.0.is_empty() {
        errors.required("pdq", "give at least one of pdq, sha256 or md5");
    }
    let note = text_value(&mut errors, "note", draft.note);
    let reason = text_value(&mut errors, "reason", draft.reason);
    errors.into_result(())?;
    let quality = if pdq.is_some() { draft.quality } else { None };
    Ok(NewEntry { pdq, quality, sha256, md5, note, reason })
}

/// Whether a PDQ hash of this quality may be matched (unknown quality is trusted to the caller).
pub fn pdq_matchable(quality: Option<u8>) -> bool {
    quality.is_none_or(|q| q >= MIN_PDQ_QUALITY)
}

/// Category given to cases opened by a bank match: the banks serve non-consensual intimate
/// imagery, so the Transparency Database's cyber-violence category with the non-consensual image
/// sharing keyword. The reviewer can change it when deciding.
pub const MATCH_CATEGORY: &str = "STATEMENT_CATEGORY_CYBER_VIOLENCE";
/// Keyword given to cases opened by a bank match (see [`MATCH_CATEGORY`]).
pub const MATCH_KEYWORD: &str = "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING";

/// One bank match, as it goes into the notice's explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchSummary {
    /// Bank name.
    pub bank: String,
    /// Entry id.
    pub entry_id: String,
    /// Which hash matched: `pdq`, `sha256` or `md5`.
    pub hash: &'static str,
    /// PDQ distance (PDQ matches only).
    pub distance: Option<u32>,
    /// The dihedral transform of the upload that matched (`rotate90`, `flip_x`, …), for PDQ
    /// matches other than the upload as given.
    pub transform: Option<&'static str>,
    /// The bank's action.
    pub action: BankAction,
}

/// What is known about a screened upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upload {
    /// The platform's content id.
    pub content_id: Option<String>,
    /// The URL the content is (or would be) at.
    pub url: Option<String>,
    /// Hashes of the upload.
    pub hashes: Option<MediaHashes>,
}

/// The notice a held or blocked upload files (source `automated_match`), so that it is grouped,
/// queued, given a deadline and audited like every other notice. `submitted_by` is the platform
/// key's name. The decision stays with a human reviewer.
pub fn automated_match_notice(
    upload: &Upload,
    matches: &[MatchSummary],
    verdict: Verdict,
    submitted_by: &str,
) -> NewNotice {
    let mut location = Location { url: None, normalized_url: None, content_id: upload.content_id.clone() };
    if let Some(u) = &upload.url {
        location.url = Some(u.clone());
        location.normalized_url = url::Url::parse(u).ok().map(|parsed| normalize_url(&parsed));
    }
    let described: Vec<String> = matches
        .iter()
        .map(|m| match (m.distance, m.transform) {
            (Some(d), Some(t)) => format!(
                "bank `{}` entry {} ({} of the upload {t}, distance {d}, action {})",
                m.bank,
                m.entry_id,
                m.hash,
                m.action.as_str()
            ),
            (Some(d), None) => format!(
                "bank `{}` entry {} ({}, distance {d}, action {})",
                m.bank,
                m.entry_id,
                m.hash,
                m.action.as_str()
            ),
            (None, _) => {
                format!("bank `{}` entry {} ({} exact, action {})", m.bank, m.entry_id, m.hash, m.action.as_str())
            }
        })
        .collect();
    let explanation = format!(
        "Upload screening matched {}; verdict {}. Detected by automated means (hash match); a reviewer decides.",
        described.join("; "),
        verdict.as_str()
    );
    NewNotice {
        source: Source::AutomatedMatch,
        submitted_by: Some(submitted_by.to_owned()),
        locations: if location.url.is_some() || location.content_id.is_some() { vec![location] } else { vec![] },
        explanation,
        category: MATCH_CATEGORY.to_owned(),
        keywords: vec![MATCH_KEYWORD.to_owned()],
        legal_ground: None,
        notifier: None,
        minor_involved: Tristate::Unknown,
        ai_generated: Tristate::Unknown,
        generator: None,
        hashes: upload.hashes.iter().cloned().collect(),
        order: None,
        anonymous_csam: false,
        language: Language::En,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strictest_action_wins_and_flag_allows() {
        use BankAction::*;
        assert_eq!(Verdict::of([]), Verdict::Allow);
        assert_eq!(Verdict::of([Flag]), Verdict::Allow);
        assert_eq!(Verdict::of([Flag, Hold]), Verdict::Hold);
        assert_eq!(Verdict::of([Hold, Block, Flag]), Verdict::Block);
    }

    #[test]
    fn bank_validation_names_every_problem() {
        let e = validate_bank(BankDraft { name: Some("Bad Name".into()), threshold: Some(32), ..Default::default() })
            .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "action", "threshold"]);
        let ok = validate_bank(BankDraft {
            name: Some("stopncii-2026".into()),
            action: Some(BankAction::Block),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((ok.threshold, ok.provenance, ok.dihedral), (31, BankProvenance::ExternalList, false));
        let victims = validate_bank(BankDraft {
            name: Some("victims-2".into()),
            action: Some(BankAction::Hold),
            provenance: Some(BankProvenance::VictimSubmitted),
            ..Default::default()
        })
        .unwrap();
        assert!(victims.dihedral);
        let off = validate_bank(BankDraft {
            name: Some("victims-3".into()),
            action: Some(BankAction::Hold),
            provenance: Some(BankProvenance::VictimSubmitted),
            dihedral: Some(false),
            ..Default::default()
        })
        .unwrap();
        assert!(!off.dihedral);
    }

    #[test]
    fn entries_need_a_well_formed_hash() {
        assert!(validate_entry(EntryDraft::default()).unwrap_err().has("pdq"));
        let e = validate_entry(EntryDraft { md5: Some("xyz".into()), quality: Some(101), ..Default::default() })
            .unwrap_err();
        assert!(e.has("md5") && e.has("quality"));
        let ok = validate_entry(EntryDraft { sha256: Some("AB".repeat(32)), quality: Some(90), ..Default::default() })
            .unwrap();
        assert_eq!((ok.sha256.as_deref(), ok.quality), (Some("ab".repeat(32).as_str()), None));
    }

    #[test]
    fn low_quality_pdq_is_not_matched() {
        assert!(pdq_matchable(None));
        assert!(pdq_matchable(Some(50)));
        assert!(!pdq_matchable(Some(49)));
    }
}
