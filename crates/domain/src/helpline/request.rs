//! Removal requests: their Art. 16(2) elements, their states and the rules between them.
//!
//! A request is drafted from a help case for one location on one platform, then sent, and its
//! life is a sequence of timestamps: `drafted → sent → acknowledged → removed | refused`, with
//! `no_answer` when the platform has not answered within the configured time (DSA Art. 16(6)
//! asks platforms to act in a timely manner; the helpline's default is 24 h, shorter for
//! trusted-flagger notices, Art. 22(1)). A late answer still lands: `no_answer` is not final.
//! Every element a notice needs under Art. 16(2) is checked here before anything leaves.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::helpline::vocabulary;
use crate::legal_grounds::legal_ground;
use crate::notice::{Language, MAX_EXPLANATION_CHARS, check_len, trimmed};
use crate::taxonomy::{category, is_keyword};
use crate::validation::FieldErrors;

vocabulary! {
    /// Where a removal request stands.
    RequestState {
        /// Written, not yet out (or out with an unknown outcome, see `send_uncertain`).
        Drafted = "drafted",
        /// Sent; no acknowledgement yet.
        Sent = "sent",
        /// The platform confirmed receipt (Art. 16(4)).
        Acknowledged = "acknowledged",
        /// The content was removed or disabled.
        Removed = "removed",
        /// The platform refused to act.
        Refused = "refused",
        /// No answer within the configured time.
        NoAnswer = "no_answer",
    }
}

impl RequestState {
    /// Whether the platform has given its final answer.
    pub fn is_final(self) -> bool {
        matches!(self, RequestState::Removed | RequestState::Refused)
    }

    /// Whether the request is out and waiting for the platform.
    pub fn is_open(self) -> bool {
        matches!(self, RequestState::Sent | RequestState::Acknowledged | RequestState::NoAnswer)
    }
}

/// A transition that the rules do not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTransition {
    /// Current state.
    pub from: RequestState,
    /// Requested state.
    pub to: RequestState,
}

impl std::fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a request that is {} cannot become {}", self.from.as_str(), self.to.as_str())
    }
}

/// Checks a state change. Answers may arrive late (after `no_answer`) and a refusal may be
/// reversed on complaint (refused → removed); a removal is final (re-appearance is a new request).
pub fn transition(from: RequestState, to: RequestState) -> Result<RequestState, InvalidTransition> {
    use RequestState::*;
    let ok = matches!(
        (from, to),
        (Drafted, Sent | Acknowledged)
            | (Sent, Acknowledged | Removed | Refused | NoAnswer)
            | (Acknowledged, Removed | Refused | NoAnswer)
            | (NoAnswer, Acknowledged | Removed | Refused)
            | (Refused, Removed)
    );
    if ok { Ok(to) } else { Err(InvalidTransition { from, to }) }
}

/// How long a platform has to answer before the request counts as unanswered and a reminder goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerTimes {
    /// For ordinary requests.
    pub answer_within: Duration,
    /// For requests filed as a trusted flagger (Art. 22: processed with priority).
    pub trusted_flagger_answer_within: Duration,
}

impl Default for AnswerTimes {
    fn default() -> Self {
        Self { answer_within: Duration::hours(24), trusted_flagger_answer_within: Duration::hours(4) }
    }
}

impl AnswerTimes {
    /// When an answer is due for a request sent at `sent_at`.
    pub fn due(&self, sent_at: OffsetDateTime, trusted_flagger: bool) -> OffsetDateTime {
        sent_at + if trusted_flagger { self.trusted_flagger_answer_within } else { self.answer_within }
    }
}

/// A removal request as the caseworker asks for it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDraft {
    /// Platform id from the registry.
    pub platform: Option<String>,
    /// Exact URL of the content (Art. 16(2)(b)).
    pub url: Option<String>,
    /// `STATEMENT_CATEGORY_*`, the platform's terms for what it is.
    pub category: Option<String>,
    /// `KEYWORD_*` values.
    pub keywords: Option<Vec<String>>,
    /// Legal ground id (e.g. `nl-sr-254ba`).
    pub legal_ground: Option<String>,
    /// Why the content is illegal (Art. 16(2)(a)).
    pub explanation: Option<String>,
    /// Whether a minor is depicted.
    pub minor_involved: Option<crate::notice::Tristate>,
    /// Whether the image is AI-generated.
    pub ai_generated: Option<crate::notice::Tristate>,
    /// Language of the request.
    pub language: Option<Language>,
}

/// A validated removal request: every Art. 16(2) element present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewRequest {
    /// Platform id.
    pub platform: String,
    /// URL.
    pub url: String,
    /// Category.
    pub category: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Legal ground id.
    pub legal_ground: String,
    /// Explanation.
    pub explanation: String,
    /// Minor involved.
    pub minor_involved: crate::notice::Tristate,
    /// AI-generated.
    pub ai_generated: crate::notice::Tristate,
    /// Language.
    pub language: Option<Language>,
    /// Hash sets of a hash-only notice (pre-emptive hashes; then `url` is empty), else empty.
    pub hashes: Vec<crate::notice::MediaHashes>,
}

/// Validates a request draft, naming every missing or wrong element.
pub fn validate_request(draft: RequestDraft) -> Result<NewRequest, FieldErrors> {
    validate(draft, Vec::new())
}

/// Validates a hash-only notice: the Art. 16(2) elements of a request, no URL, and the
/// pre-emptive hash sets of the case (`hashes`, already validated hex from the helpline's bank),
/// of which there must be at least one and at most the notice limit.
pub fn validate_hash_notice(
    draft: RequestDraft,
    hashes: Vec<crate::notice::MediaHashes>,
) -> Result<NewRequest, FieldErrors> {
    validate(draft, hashes)
}

fn validate(draft: RequestDraft, hashes: Vec<crate::notice::MediaHashes>) -> Result<NewRequest, FieldErrors> {
    let mut errors = FieldErrors::default();
    let hash_only = !hashes.is_empty();
    let platform = trimmed(draft.platform);
    if platform.is_none() {
        errors.required("platform", "name the platform (its id in the registry)");
    }
    let url = trimmed(draft.url);
    if hash_only && hashes.len() > crate::notice::MAX_HASH_SETS {
        errors.push("hashes", "too_many", format!("at most {} hash sets per notice", crate::notice::MAX_HASH_SETS));
    }
    match &url {
        None if hash_only => {}
        Some(_) if hash_only => errors.push("url", "not_allowed", "a hash-only notice names no URL"),
        None => errors.required("url", "the exact URL of the content (DSA Art. 16(2)(b))"),
        Some(u) => {
            check_len(&mut errors, "url", u, crate::notice::MAX_SHORT_TEXT);
            if !url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host_str().is_some()) {
                errors.push("url", "invalid", "must be an http:// or https:// URL");
            }
        }
    }
    let category_id = trimmed(draft.category);
    match &category_id {
        None => errors.required("category", "a STATEMENT_CATEGORY_* value"),
        Some(c) if category(c).is_none() => errors.push("category", "unknown", "not a STATEMENT_CATEGORY_* value"),
        Some(_) => {}
    }
    let keywords = draft.keywords.unwrap_or_default();
    for (i, k) in keywords.iter().enumerate() {
        if !is_keyword(k) {
            errors.push(format!("keywords[{i}]"), "unknown", "not a KEYWORD_* value");
        }
    }
    let ground = trimmed(draft.legal_ground);
    match &ground {
        None => errors.required("legal_ground", "the legal ground, e.g. nl-sr-254ba"),
        Some(g) if legal_ground(g).is_none() => {
            errors.push("legal_ground", "unknown", "not in the legal-ground catalogue (GET /api/v1/legal-grounds)");
        }
        Some(_) => {}
    }
    let explanation = trimmed(draft.explanation);
    match &explanation {
        None => errors.required("explanation", "why the content is illegal (DSA Art. 16(2)(a))"),
        Some(e) => check_len(&mut errors, "explanation", e, MAX_EXPLANATION_CHARS),
    }
    errors.into_result(NewRequest {
        platform: platform.unwrap_or_default(),
        url: url.unwrap_or_default(),
        category: category_id.unwrap_or_default(),
        keywords,
        legal_ground: ground.unwrap_or_default(),
        explanation: explanation.unwrap_or_default(),
        minor_involved: draft.minor_involved.unwrap_or_default(),
        ai_generated: draft.ai_generated.unwrap_or_default(),
        language: draft.language,
        hashes,
    })
}

/// The body of the trusted-flagger notice sent to a platform running staydown
/// (`POST /api/v1/notices`): the same shape as any notice, with the helpline identified by its key
/// rather than by a person's name (Art. 16(2)(c) is met by the key; no victim data leaves).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeBody {
    /// One location.
    pub locations: Vec<NoticeLocation>,
    /// Explanation.
    pub explanation: String,
    /// Category.
    pub category: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Legal ground.
    pub legal_ground: String,
    /// Good faith (Art. 16(2)(d)).
    pub good_faith: bool,
    /// Minor involved.
    pub minor_involved: crate::notice::Tristate,
    /// AI-generated.
    pub ai_generated: crate::notice::Tristate,
    /// Language.
    pub language: Language,
}

/// A location in a notice body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeLocation {
    /// URL.
    pub url: String,
}

/// Builds the notice body for a staydown platform.
pub fn notice_body(request: &NewRequest, language: Language) -> NoticeBody {
    NoticeBody {
        locations: vec![NoticeLocation { url: request.url.clone() }],
        explanation: request.explanation.clone(),
        category: request.category.clone(),
        keywords: request.keywords.clone(),
        legal_ground: request.legal_ground.clone(),
        good_faith: true,
        minor_involved: request.minor_involved,
        ai_generated: request.ai_generated,
        language,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestState::*;

    #[test]
    fn transitions_follow_the_life_of_a_request() {
        for (from, to) in [
            (Drafted, Sent),
            (Drafted, Acknowledged),
            (Sent, Acknowledged),
            (Acknowledged, Removed),
            (Acknowledged, Refused),
            (Sent, NoAnswer),
            (NoAnswer, Removed),
            (Refused, Removed),
        ] {
            assert_eq!(transition(from, to), Ok(to), "{from:?} → {to:?}");
        }
        for (from, to) in
            [(Drafted, Removed), (Removed, Refused), (Removed, NoAnswer), (Refused, NoAnswer), (Sent, Drafted)]
        {
            assert_eq!(transition(from, to), Err(InvalidTransition { from, to }), "{from:?} → {to:?}");
        }
    }

    #[test]
    fn answers_are_due_sooner_for_trusted_flaggers() {
        let sent = OffsetDateTime::UNIX_EPOCH;
        let t = AnswerTimes::default();
        assert_eq!(t.due(sent, false) - sent, Duration::hours(24));
        assert_eq!(t.due(sent, true) - sent, Duration::hours(4));
    }

    #[test]
    fn a_hash_only_notice_names_no_url_and_carries_the_hashes() {
        let hashes = vec![crate::notice::MediaHashes {
            pdq: Some("f".repeat(64)),
            pdq_quality: Some(90),
            sha256: None,
            md5: None,
            video: None,
        }];
        let draft = RequestDraft {
            platform: Some("p".into()),
            category: Some("STATEMENT_CATEGORY_CYBER_VIOLENCE".into()),
            legal_ground: Some("nl-sr-254ba".into()),
            explanation: Some("Sextortion: the images are not shared yet.".into()),
            ..Default::default()
        };
        let ok = validate_hash_notice(draft.clone(), hashes.clone()).expect("valid");
        assert_eq!((ok.url.as_str(), ok.hashes.len()), ("", 1));
        let e =
            validate_hash_notice(RequestDraft { url: Some("https://example.org/a".into()), ..draft.clone() }, hashes)
                .expect_err("a URL too");
        assert!(e.has("url"), "{e}");
        let many = vec![
            crate::notice::MediaHashes {
                pdq: None,
                pdq_quality: None,
                sha256: None,
                md5: Some("0".repeat(32)),
                video: None,
            };
            101
        ];
        assert!(validate_hash_notice(draft, many).expect_err("too many").has("hashes"));
    }

    #[test]
    fn a_request_names_every_missing_element() {
        let e = validate_request(RequestDraft::default()).expect_err("empty");
        for f in ["platform", "url", "category", "legal_ground", "explanation"] {
            assert!(e.has(f), "{f}: {e}");
        }
        let e = validate_request(RequestDraft {
            platform: Some("p".into()),
            url: Some("javascript:alert(1)".into()),
            category: Some("STATEMENT_CATEGORY_NOPE".into()),
            legal_ground: Some("nl-sr-0".into()),
            explanation: Some("x".into()),
            ..Default::default()
        })
        .expect_err("wrong values");
        assert_eq!(e.0.len(), 3, "{e}");
        let ok = validate_request(RequestDraft {
            platform: Some("p".into()),
            url: Some("https://example.org/a.jpg".into()),
            category: Some("STATEMENT_CATEGORY_CYBER_VIOLENCE".into()),
            legal_ground: Some("nl-sr-254ba".into()),
            explanation: Some("A deepnude of a pupil.".into()),
            ..Default::default()
        })
        .expect("valid");
        let body = notice_body(&ok, Language::Nl);
        assert!(body.good_faith);
        assert_eq!(body.locations[0].url, "https://example.org/a.jpg");
    }
}
