//! Notices: what a notifier submits and how it is validated into a `NewNotice`.
//!
//! Implements DSA Art. 16(2) (the elements a notice must be able to carry: explanation, exact
//! location, name and email unless the notice concerns child sexual abuse material, good-faith
//! statement), Art. 22 (trusted flaggers are identified by their key) and Art. 9 / ATKM / art. 125p
//! Sv orders from authorities. Validation collects every problem with its field path.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::legal_grounds::legal_ground;
use crate::order::validate_order;
pub use crate::order::{AuthorityOrder, OrderDraft, OrderKind};
use crate::taxonomy::{CSAM_KEYWORDS, category, is_keyword};
use crate::validation::FieldErrors;

/// Longest explanation we accept (characters). Long enough for a careful account, short enough to bound storage.
pub const MAX_EXPLANATION_CHARS: usize = 10_000;
/// Most locations in one notice.
pub const MAX_LOCATIONS: usize = 100;
/// Most hash sets in one notice.
pub const MAX_HASH_SETS: usize = 100;
/// Most frames in one vPDQ carried by a notice (the server's default `[video] max_frames`).
pub const MAX_NOTICE_VPDQ_FRAMES: usize = 20_000;
/// Longest URL, content id, name or free-text field (characters).
pub const MAX_SHORT_TEXT: usize = 2_000;

/// Yes / no / unknown, as the form asks it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tristate {
    /// Yes.
    Yes,
    /// No.
    No,
    /// The notifier does not know or did not say.
    #[default]
    Unknown,
}

impl Tristate {
    /// Wire and storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Unknown => "unknown",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "yes" => Some(Self::Yes),
            "no" => Some(Self::No),
            "unknown" => Some(Self::Unknown),
            _ => None,
        }
    }
}

/// Where a notice came from. Drives priority (policy) and the Transparency Database `source_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Any person or entity, DSA Art. 16.
    Article16,
    /// A trusted flagger, DSA Art. 22.
    TrustedFlagger,
    /// An order from an authority: DSA Art. 9, an ATKM instruction, art. 125p Sv.
    AuthorityOrder,
    /// The platform's own initiative.
    OwnInitiative,
    /// A hash-bank match at upload time.
    AutomatedMatch,
}

impl Source {
    /// Wire and storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Article16 => "article_16",
            Self::TrustedFlagger => "trusted_flagger",
            Self::AuthorityOrder => "authority_order",
            Self::OwnInitiative => "own_initiative",
            Self::AutomatedMatch => "automated_match",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Article16, Self::TrustedFlagger, Self::AuthorityOrder, Self::OwnInitiative, Self::AutomatedMatch]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Language of messages to the notifier.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Dutch.
    Nl,
    /// English.
    #[default]
    En,
}

impl Language {
    /// Wire and storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nl => "nl",
            Self::En => "en",
        }
    }
}

/// A location as submitted.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationDraft {
    /// Exact URL of the content.
    pub url: Option<String>,
    /// The platform's own content id.
    pub content_id: Option<String>,
}

/// Notifier contact as submitted (personal data: stored apart).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifierDraft {
    /// Name.
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
}

/// Media hashes as submitted (hex).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashesDraft {
    /// PDQ, 64 hex digits.
    pub pdq: Option<String>,
    /// PDQ quality 0–100, when the notifier's hasher reported it.
    pub pdq_quality: Option<u8>,
    /// SHA-256, 64 hex digits.
    pub sha256: Option<String>,
    /// MD5, 32 hex digits.
    pub md5: Option<String>,
    /// A video's vPDQ (issue 17): one `frame_number,quality,pdq_hex,timestamp` line per sampled
    /// frame, the file format of ThreatExchange `vpdq`. With it, `sha256`/`md5` are the video
    /// file's digests and `pdq` must be absent.
    pub vpdq: Option<String>,
}

/// One hash set or several.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single object.
    One(T),
    /// An array.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            Self::One(t) => vec![t],
            Self::Many(v) => v,
        }
    }
}

/// A notice as submitted through the API or the form. Every field is optional here so that
/// validation can name each missing one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeDraft {
    /// Where the content is (Art. 16(2)(b)).
    pub locations: Option<Vec<LocationDraft>>,
    /// Why the content is illegal or against the terms (Art. 16(2)(a)).
    pub explanation: Option<String>,
    /// `STATEMENT_CATEGORY_*`.
    pub category: Option<String>,
    /// `KEYWORD_*` values.
    pub keywords: Option<Vec<String>>,
    /// Id from the legal-ground catalogue.
    pub legal_ground: Option<String>,
    /// Name and email (Art. 16(2)(c)).
    pub notifier: Option<NotifierDraft>,
    /// Bona fide statement (Art. 16(2)(d)); must be `true`.
    pub good_faith: Option<bool>,
    /// Whether a minor is depicted.
    pub minor_involved: Option<Tristate>,
    /// Whether the notifier believes the image is AI-generated.
    pub ai_generated: Option<Tristate>,
    /// Which app or generator made it, in the notifier's words.
    pub generator: Option<String>,
    /// Hashes of the media, e.g. computed in the victim's browser.
    pub hashes: Option<OneOrMany<HashesDraft>>,
    /// Authority order details (authority keys only).
    pub order: Option<OrderDraft>,
    /// Language for messages to the notifier.
    pub language: Option<Language>,
}

/// Who is submitting, as established by authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitter {
    /// Anyone, without a key.
    Public,
    /// A trusted flagger's key (Art. 22), with the organisation's name.
    TrustedFlagger {
        /// Organisation name.
        name: String,
    },
    /// An authority's key, with the authority's name.
    Authority {
        /// Authority name.
        name: String,
    },
    /// The platform's own staff or systems (own-initiative notices).
    Platform {
        /// Account or system name.
        name: String,
    },
}

/// A validated location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// URL as submitted (trimmed).
    pub url: Option<String>,
    /// URL normalised for grouping notices on the same content.
    pub normalized_url: Option<String>,
    /// Platform content id.
    pub content_id: Option<String>,
}

/// Validated media hashes (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaHashes {
    /// PDQ.
    pub pdq: Option<String>,
    /// PDQ quality.
    pub pdq_quality: Option<u8>,
    /// SHA-256.
    pub sha256: Option<String>,
    /// MD5.
    pub md5: Option<String>,
    /// A video's vPDQ, when this set describes a video (then `sha256`/`md5` are the video file's).
    /// Left out of the JSON when absent, so an image set reads the same to older peers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<NoticeVideo>,
}

/// A video's vPDQ as a notice carries it (issue 17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeVideo {
    /// The vPDQ rewritten in the reference's file format (`staydown_vpdq::to_vpdq_file`).
    pub vpdq: String,
    /// Frames in it (1 to [`MAX_NOTICE_VPDQ_FRAMES`]).
    pub frame_count: u32,
}

/// Validated notifier contact (personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifierContact {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// A notice ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// Source.
    pub source: Source,
    /// Name of the trusted flagger, authority or platform account that filed it (not personal data
    /// of a private person).
    pub submitted_by: Option<String>,
    /// Locations (may be empty for a hash-only notice).
    pub locations: Vec<Location>,
    /// Explanation.
    pub explanation: String,
    /// Category.
    pub category: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Legal ground id.
    pub legal_ground: Option<String>,
    /// Notifier contact, stored apart.
    pub notifier: Option<NotifierContact>,
    /// Minor involved.
    pub minor_involved: Tristate,
    /// AI-generated, as claimed by the notifier.
    pub ai_generated: Tristate,
    /// Generator, as named by the notifier.
    pub generator: Option<String>,
    /// Media hashes.
    pub hashes: Vec<MediaHashes>,
    /// Authority order.
    pub order: Option<AuthorityOrder>,
    /// Filed without name and email under the Art. 16(2)(c) exception.
    pub anonymous_csam: bool,
    /// Language for messages.
    pub language: Language,
}

impl NewNotice {
    /// Whether the notice names child sexual abuse material or a minor: such notices go first.
    pub fn suspected_csam(&self) -> bool {
        self.minor_involved == Tristate::Yes
            || self.keywords.iter().any(|k| CSAM_KEYWORDS.contains(&k.as_str()))
            || self.category == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    }
}

pub(crate) fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Checks a text field's length in characters and that it holds no control character.
pub(crate) fn check_len(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errors.push(field, "too_long", format!("must be at most {max} characters"));
    }
    crate::validation::check_characters(errors, field, value);
}

/// Why a URL as typed cannot be taken literally: URL parsers silently drop tabs and line breaks
/// (WHATWG URL §4.4) and keep zero-width characters, so the address stored would differ from the
/// one shown. `None` when it is clean.
fn url_text_problem(text: &str) -> Option<&'static str> {
    if text.chars().any(|c| c.is_whitespace()) {
        return Some("contains spaces or line breaks; a URL has none (encode a space as %20)");
    }
    if text.chars().any(|c| matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}')) {
        return Some("contains an invisible character (zero-width space or joiner); copy the address again");
    }
    None
}

/// A light email check: one `@`, a dot in the domain, no spaces. Deliverability is the outbox's job.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
        && email.len() <= 254
}

fn hex_field(errors: &mut FieldErrors, field: &str, value: Option<String>, digits: usize) -> Option<String> {
    let value = trimmed(value)?.to_ascii_lowercase();
    if value.len() != digits || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.push(field, "invalid", format!("must be {digits} hexadecimal digits"));
        return None;
    }
    Some(value)
}

/// Normalises a URL for grouping: lowercase scheme and host (the `url` crate does), no fragment,
/// no default port, no common tracking parameters, no trailing slash on the path.
pub fn normalize_url(url: &url::Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !(k.starts_with("utm_") || k == "fbclid" || k == "gclid" || k == "igshid"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let mut out = url.to_string();
    if out.ends_with('/') && url.path() != "/" {
        out.pop();
    }
    out
}

/// Validates a draft from `submitter` received at `now`.
pub fn validate_notice(
    draft: NoticeDraft,
    submitter: &Submitter,
    now: OffsetDateTime,
) -> Result<NewNotice, FieldErrors> {
    let mut errors = FieldErrors::default();

    // Hashes first: a hash-only notice (the victim's pre-emptive report) needs no location.
    let mut hashes = Vec::new();
    let hash_drafts = draft.hashes.map(OneOrMany::into_vec).unwrap_or_default();
    if hash_drafts.len() > MAX_HASH_SETS {
        errors.push("hashes", "too_many", format!("at most {MAX_HASH_SETS} hash sets per notice"));
    }
    for (i, h) in hash_drafts.into_iter().take(MAX_HASH_SETS).enumerate() {
        let pdq = hex_field(&mut errors, &format!("hashes[{i}].pdq"), h.pdq, 64);
        let sha256 = hex_field(&mut errors, &format!("hashes[{i}].sha256"), h.sha256, 64);
        let md5 = hex_field(&mut errors, &format!("hashes[{i}].md5"), h.md5, 32);
        if let Some(q) = h.pdq_quality
            && q > 100
        {
            errors.push(format!("hashes[{i}].pdq_quality"), "invalid", "must be between 0 and 100");
        }
        let video = match trimmed(h.vpdq) {
            None => None,
            Some(text) => {
                let field = format!("hashes[{i}].vpdq");
                if h.pdq_quality.is_some() || pdq.is_some() {
                    errors.push(&field, "invalid", "a hash set is an image (pdq) or a video (vpdq), not both");
                }
                match staydown_vpdq::parse_vpdq_file(&text, MAX_NOTICE_VPDQ_FRAMES) {
                    Ok(features) if features.is_empty() => {
                        errors.push(field, "invalid", "a vPDQ needs at least one frame");
                        None
                    }
                    Ok(features) => Some(NoticeVideo {
                        vpdq: staydown_vpdq::to_vpdq_file(&features),
                        frame_count: features.len() as u32,
                    }),
                    Err(e) => {
                        errors.push(
                            field,
                            "invalid",
                            format!("not a vPDQ (frame_number,quality,pdq_hex,timestamp lines): {e}"),
                        );
                        None
                    }
                }
            }
        };
        if pdq.is_none() && sha256.is_none() && md5.is_none() && video.is_none() {
            if !errors.0.iter().any(|e| e.field.starts_with(&format!("hashes[{i}]"))) {
                errors.required(format!("hashes[{i}]"), "give at least one of pdq, sha256, md5 or vpdq");
            }
        } else {
            hashes.push(MediaHashes { pdq, pdq_quality: h.pdq_quality, sha256, md5, video });
        }
    }

    let mut locations = Vec::new();
    let location_drafts = draft.locations.unwrap_or_default();
    if location_drafts.len() > MAX_LOCATIONS {
        errors.push("locations", "too_many", format!("at most {MAX_LOCATIONS} locations per notice"));
    }
    for (i, loc) in location_drafts.into_iter().take(MAX_LOCATIONS).enumerate() {
        let url_text = trimmed(loc.url);
        let content_id = trimmed(loc.content_id);
        if url_text.is_none() && content_id.is_none() {
            errors.required(format!("locations[{i}]"), "give the exact URL or the platform's content id");
            continue;
        }
        let mut normalized_url = None;
        if let Some(text) = &url_text {
            let field = format!("locations[{i}].url");
            check_len(&mut errors, &field, text, MAX_SHORT_TEXT);
            if let Some(problem) = url_text_problem(text) {
                if !errors.has(&field) {
                    errors.push(field, "invalid", problem);
                }
                locations.push(Location { url: url_text, normalized_url: None, content_id });
                continue;
            }
            match url::Url::parse(text) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    normalized_url = Some(normalize_url(&u));
                }
                _ => errors.push(
                    format!("locations[{i}].url"),
                    "invalid",
                    "must be a full http(s) URL, e.g. https://example.com/post/123",
                ),
            }
        }
        if let Some(id) = &content_id {
            check_len(&mut errors, &format!("locations[{i}].content_id"), id, 500);
        }
        locations.push(Location { url: url_text, normalized_url, content_id });
    }
    if locations.is_empty() && hashes.is_empty() && !errors.0.iter().any(|e| e.field.starts_with("locations[")) {
        errors.required(
            "locations",
            "say where the content is (URL or content id), or give hashes of the image (DSA Art. 16(2)(b))",
        );
    }

    let explanation = trimmed(draft.explanation);
    match &explanation {
        None => {
            errors.required("explanation", "explain why the content is illegal or breaks the terms (DSA Art. 16(2)(a))")
        }
        Some(text) => check_len(&mut errors, "explanation", text, MAX_EXPLANATION_CHARS),
    }

    let category_id = trimmed(draft.category);
    match &category_id {
        None => errors.required("category", "choose a category (see GET /api/v1/categories)"),
        Some(c) if category(c).is_none() => {
            errors.push(
                "category",
                "invalid",
                "unknown category; use a STATEMENT_CATEGORY_… value from GET /api/v1/categories",
            );
        }
        Some(_) => {}
    }

    let mut keywords: Vec<String> = Vec::new();
    for (i, k) in draft.keywords.unwrap_or_default().into_iter().enumerate() {
        let k = k.trim().to_owned();
        if !is_keyword(&k) {
            errors.push(
                format!("keywords[{i}]"),
                "invalid",
                "unknown keyword; use a KEYWORD_… value from GET /api/v1/categories",
            );
        } else if !keywords.contains(&k) {
            keywords.push(k);
        }
    }
    keywords.sort();

    let legal_ground_id = trimmed(draft.legal_ground);
    if let Some(g) = &legal_ground_id
        && legal_ground(g).is_none()
    {
        errors.push("legal_ground", "invalid", "unknown legal ground; see GET /api/v1/legal-grounds");
    }

    if draft.good_faith != Some(true) {
        errors.push(
            "good_faith",
            if draft.good_faith.is_none() { "required" } else { "invalid" },
            "must be true: confirm that the notice is accurate and complete to the best of your knowledge (DSA Art. 16(2)(d))",
        );
    }

    let names_csam = keywords.iter().any(|k| CSAM_KEYWORDS.contains(&k.as_str()));
    let notifier_draft = draft.notifier.unwrap_or_default();
    let name = trimmed(notifier_draft.name);
    let email = trimmed(notifier_draft.email);
    if let Some(n) = &name {
        check_len(&mut errors, "notifier.name", n, 500);
    }
    if let Some(e) = &email {
        crate::validation::check_characters(&mut errors, "notifier.email", e);
        if !errors.has("notifier.email") && !plausible_email(e) {
            errors.push("notifier.email", "invalid", "is not a valid email address");
        }
    }
    // Trusted flaggers, authorities and the platform are identified by their key.
    let identified_by_key = !matches!(submitter, Submitter::Public);
    let contact_required = !identified_by_key && !names_csam;
    if contact_required {
        let why = "is required, except for notices about child sexual abuse material (DSA Art. 16(2)(c))";
        if name.is_none() {
            errors.required("notifier.name", format!("your name {why}"));
        }
        if email.is_none() {
            errors.required("notifier.email", format!("your email address {why}"));
        }
    } else if name.is_some() != email.is_some() && !identified_by_key {
        // Half a contact is still useful for a CSAM notice only if we can write back.
        if email.is_none() {
            errors.required(
                "notifier.email",
                "give an email address too, or leave both name and email empty to report anonymously",
            );
        }
    }
    let notifier = match (name, email) {
        (Some(name), Some(email)) => Some(NotifierContact { name, email }),
        (None, Some(email)) => Some(NotifierContact { name: String::new(), email }),
        _ => None,
    };

    let generator = trimmed(draft.generator);
    if let Some(g) = &generator {
        check_len(&mut errors, "generator", g, 500);
    }

    let order = match (submitter, draft.order) {
        (Submitter::Authority { .. }, None) => {
            errors.required(
                "order",
                "authority keys file orders: give kind, issuing_authority, reference and legal_basis",
            );
            None
        }
        (Submitter::Authority { name }, Some(o)) => validate_order(&mut errors, o, name, now),
        (_, Some(_)) => {
            errors.push("order", "forbidden", "only authority keys may file orders");
            None
        }
        (_, None) => None,
    };

    let source = match submitter {
        Submitter::Public => Source::Article16,
        Submitter::TrustedFlagger { .. } => Source::TrustedFlagger,
        Submitter::Authority { .. } => Source::AuthorityOrder,
        Submitter::Platform { .. } => Source::OwnInitiative,
    };
    let submitted_by = match submitter {
        Submitter::Public => None,
        Submitter::TrustedFlagger { name } | Submitter::Authority { name } | Submitter::Platform { name } => {
            Some(name.clone())
        }
    };

    let anonymous_csam = notifier.is_none() && names_csam && !identified_by_key;
    errors.into_result(())?;
    Ok(NewNotice {
        source,
        submitted_by,
        locations,
        explanation: explanation.unwrap_or_default(),
        category: category_id.unwrap_or_default(),
        keywords,
        legal_ground: legal_ground_id,
        notifier,
        minor_involved: draft.minor_involved.unwrap_or_default(),
        ai_generated: draft.ai_generated.unwrap_or_default(),
        generator,
        hashes,
        order,
        anonymous_csam,
        language: draft.language.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

    fn valid() -> NoticeDraft {
        NoticeDraft {
            locations: Some(vec![LocationDraft { url: Some("https://example.com/p/1".into()), content_id: None }]),
            explanation: Some("This is a nude image of me shared without my consent.".into()),
            category: Some("STATEMENT_CATEGORY_CYBER_VIOLENCE".into()),
            keywords: Some(vec!["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING".into()]),
            notifier: Some(NotifierDraft { name: Some("A. Person".into()), email: Some("a@example.org".into()) }),
            good_faith: Some(true),
            ..Default::default()
        }
    }

    fn fields(draft: NoticeDraft, submitter: &Submitter) -> Vec<String> {
        match validate_notice(draft, submitter, NOW) {
            Ok(_) => vec![],
            Err(e) => e.0.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn a_complete_notice_is_valid() {
        let n = validate_notice(valid(), &Submitter::Public, NOW).unwrap();
        assert_eq!(n.source, Source::Article16);
        assert_eq!(n.locations[0].normalized_url.as_deref(), Some("https://example.com/p/1"));
        assert!(!n.anonymous_csam);
    }

    #[test]
    fn every_missing_element_is_named() {
        let got = fields(NoticeDraft::default(), &Submitter::Public);
        for f in ["locations", "explanation", "category", "good_faith", "notifier.name", "notifier.email"] {
            assert!(got.contains(&f.to_owned()), "{f} missing from {got:?}");
        }
    }

    #[test]
    fn good_faith_false_is_refused() {
        let got = fields(NoticeDraft { good_faith: Some(false), ..valid() }, &Submitter::Public);
        assert_eq!(got, vec!["good_faith"]);
    }

    #[test]
    fn csam_notices_may_be_anonymous() {
        let draft = NoticeDraft {
            notifier: None,
            category: Some("STATEMENT_CATEGORY_PROTECTION_OF_MINORS".into()),
            keywords: Some(vec!["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE".into()]),
            ..valid()
        };
        let n = validate_notice(draft, &Submitter::Public, NOW).unwrap();
        assert!(n.anonymous_csam);
        assert!(n.suspected_csam());
        // The same without a CSAM keyword needs a contact.
        let got = fields(NoticeDraft { notifier: None, ..valid() }, &Submitter::Public);
        assert_eq!(got, vec!["notifier.name", "notifier.email"]);
    }

    #[test]
    fn hash_only_notice_needs_no_location() {
        let draft = NoticeDraft {
            locations: None,
            hashes: Some(OneOrMany::One(HashesDraft { pdq: Some("F".repeat(64)), ..Default::default() })),
            ..valid()
        };
        let n = validate_notice(draft, &Submitter::Public, NOW).unwrap();
        assert_eq!(n.hashes[0].pdq.as_deref(), Some("f".repeat(64).as_str()));
    }

    #[test]
    fn bad_values_are_named_with_their_path() {
        let draft = NoticeDraft {
            locations: Some(vec![
                LocationDraft { url: Some("javascript:alert(1)".into()), content_id: None },
                LocationDraft::default(),
            ]),
            category: Some("STATEMENT_CATEGORY_NOPE".into()),
            keywords: Some(vec!["KEYWORD_NOPE".into()]),
            legal_ground: Some("xx".into()),
            hashes: Some(OneOrMany::Many(vec![HashesDraft { md5: Some("abc".into()), ..Default::default() }])),
            notifier: Some(NotifierDraft { name: Some("x".into()), email: Some("not-an-email".into()) }),
            ..valid()
        };
        let got = fields(draft, &Submitter::Public);
        assert_eq!(
            got,
            vec![
                "hashes[0].md5",
                "locations[0].url",
                "locations[1]",
                "category",
                "keywords[0]",
                "legal_ground",
                "notifier.email"
            ]
        );
    }

    #[test]
    fn orders_come_only_from_authorities_and_need_their_elements() {
        let order = OrderDraft {
            kind: Some(OrderKind::AtkmCsam),
            reference: Some("ATKM-2026-17".into()),
            legal_basis: Some("Wet bestuursrechtelijke aanpak online kinderpornografisch materiaal".into()),
            deadline: Some(NOW + time::Duration::hours(1)),
            ..Default::default()
        };
        let authority = Submitter::Authority { name: "ATKM".into() };
        let n = validate_notice(NoticeDraft { order: Some(order.clone()), notifier: None, ..valid() }, &authority, NOW)
            .unwrap();
        assert_eq!(n.source, Source::AuthorityOrder);
        assert_eq!(n.order.unwrap().issuing_authority, "ATKM");
        assert_eq!(fields(NoticeDraft { order: Some(order), ..valid() }, &Submitter::Public), vec!["order"]);
        assert_eq!(fields(NoticeDraft { notifier: None, ..valid() }, &authority), vec!["order"]);
        let bare = NoticeDraft { order: Some(OrderDraft::default()), notifier: None, ..valid() };
        assert_eq!(fields(bare, &authority), vec!["order.kind", "order.reference", "order.legal_basis"]);
    }

    #[test]
    fn url_normalisation_groups_the_same_content() {
        let a = url::Url::parse("HTTPS://Example.COM:443/p/1/?utm_source=x#top").unwrap();
        let b = url::Url::parse("https://example.com/p/1").unwrap();
        assert_eq!(normalize_url(&a), normalize_url(&b));
        let c = url::Url::parse("https://example.com/p/1?id=2&fbclid=z").unwrap();
        assert_eq!(normalize_url(&c), "https://example.com/p/1?id=2");
    }
}
