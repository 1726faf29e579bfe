//! Internal complaints against decisions (DSA Art. 20).
//!
//! Either side may complain — the uploader with the token their statement of reasons carried, the
//! notifier with their tracking token — for six months from the decision (Art. 20(1)). A senior
//! reviewer who did not take the original decision settles it (Art. 20(6): not solely automated,
//! under qualified staff): upheld, reversed, or modified by a new decision.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::decision::six_months_after;
use crate::notice::{check_len, trimmed};
use crate::validation::FieldErrors;

/// Longest complaint or reasoning text.
pub const MAX_APPEAL_TEXT: usize = 5000;

/// Who complains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Appellant {
    /// The recipient whose content or account was restricted.
    Uploader,
    /// Someone who filed a notice the decision answered.
    Notifier,
}

impl Appellant {
    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploader => "uploader",
            Self::Notifier => "notifier",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Uploader, Self::Notifier].into_iter().find(|a| a.as_str() == s)
    }
}

/// How an appeal ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealOutcome {
    /// The decision stands.
    Upheld,
    /// The decision is undone: restrictions lifted.
    Reversed,
    /// The decision is replaced by a new one.
    Modified,
}

impl AppealOutcome {
    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upheld => "upheld",
            Self::Reversed => "reversed",
            Self::Modified => "modified",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Upheld, Self::Reversed, Self::Modified].into_iter().find(|a| a.as_str() == s)
    }
}

/// The last moment an appeal against a decision taken at `decided_at` is accepted.
pub fn appeal_deadline(decided_at: OffsetDateTime) -> OffsetDateTime {
    six_months_after(decided_at)
}

/// What an appellant sends.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealDraft {
    /// The uploader's appeal token or the notifier's tracking token.
    pub token: Option<String>,
    /// Why the decision is wrong.
    pub reason: Option<String>,
    /// `nl` or `en` for the answer.
    pub language: Option<crate::notice::Language>,
    /// What is new since an earlier appeal by the same party was upheld; required then, so that
    /// the same complaint is not decided again and again.
    pub new_facts: Option<String>,
}

/// Validates `new_facts` for a repeat appeal after an upheld one: present and bounded; the facts
/// are kept with the reason, under a heading, so the reviewer sees what changed.
pub fn with_new_facts(reason: &str, draft: &AppealDraft) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::default();
    let facts = trimmed(draft.new_facts.clone());
    match &facts {
        None => errors.required(
            "new_facts",
            "an earlier appeal of yours against this decision was upheld; say what is new since then",
        ),
        Some(f) => check_len(&mut errors, "new_facts", f, MAX_APPEAL_TEXT),
    }
    errors.into_result(format!("{reason}\n\nNew facts / nieuwe feiten: {}", facts.unwrap_or_default()))
}

/// Validates the free text of an appeal; the token is checked by the store.
pub fn validate_appeal(draft: &AppealDraft) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::default();
    if trimmed(draft.token.clone()).is_none() {
        errors.required("token", "send the token from your statement of reasons or your notice's tracking token");
    }
    let reason = trimmed(draft.reason.clone());
    match &reason {
        None => errors.required("reason", "explain why you think the decision is wrong"),
        Some(r) => check_len(&mut errors, "reason", r, MAX_APPEAL_TEXT),
    }
    errors.into_result(reason.unwrap_or_default())
}

/// What the senior reviewer sends.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionDraft {
    /// `upheld`, `reversed` or `modified`.
    pub outcome: Option<String>,
    /// The reasoned answer to both sides.
    pub reasons: Option<String>,
    /// The replacing decision, with `modified`.
    pub decision: Option<crate::decision::DecisionDraft>,
}

/// Validates the outcome and reasons (the replacing decision is validated like any decision).
pub fn validate_appeal_decision(draft: &AppealDecisionDraft) -> Result<(AppealOutcome, String), FieldErrors> {
    let mut errors = FieldErrors::default();
    let outcome = match trimmed(draft.outcome.clone()) {
        None => {
            errors.required("outcome", "one of: upheld, reversed, modified");
            None
        }
        Some(o) => {
            let parsed = AppealOutcome::parse(&o);
            if parsed.is_none() {
                errors.push("outcome", "invalid", "must be one of: upheld, reversed, modified");
            }
            parsed
        }
    };
    match (outcome, draft.decision.is_some()) {
        (Some(AppealOutcome::Modified), false) => {
            errors.required("decision", "a modified outcome needs the new decision")
        }
        (Some(AppealOutcome::Upheld | AppealOutcome::Reversed), true) => {
            errors.push("decision", "not_allowed", "only a modified outcome carries a new decision");
        }
        _ => {}
    }
    let reasons = trimmed(draft.reasons.clone());
    match &reasons {
        None => errors.required("reasons", "give the reasons for the outcome; both sides receive them"),
        Some(r) => check_len(&mut errors, "reasons", r, MAX_APPEAL_TEXT),
    }
    errors.into_result(())?;
    Ok((outcome.unwrap_or(AppealOutcome::Upheld), reasons.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_six_calendar_months() {
        let at = time::macros::datetime!(2026-11-23 09:30 UTC);
        assert_eq!(appeal_deadline(at), time::macros::datetime!(2027-05-23 09:30 UTC));
    }

    #[test]
    fn an_appeal_needs_a_token_and_a_reason() {
        let errors = validate_appeal(&AppealDraft::default()).expect_err("invalid");
        assert!(errors.has("token") && errors.has("reason"));
        let ok = validate_appeal(&AppealDraft {
            token: Some("t".into()),
            reason: Some(" It is me, consenting. ".into()),
            language: None,
            new_facts: None,
        });
        assert_eq!(ok.expect("valid"), "It is me, consenting.");
    }

    #[test]
    fn modified_needs_a_decision_and_only_modified_has_one() {
        let d = |outcome: &str, decision: bool| AppealDecisionDraft {
            outcome: Some(outcome.into()),
            reasons: Some("r".into()),
            decision: decision.then(crate::decision::DecisionDraft::default),
        };
        assert!(validate_appeal_decision(&d("modified", false)).expect_err("x").has("decision"));
        assert!(validate_appeal_decision(&d("upheld", true)).expect_err("x").has("decision"));
        assert!(validate_appeal_decision(&d("sideways", false)).expect_err("x").has("outcome"));
        assert_eq!(validate_appeal_decision(&d("reversed", false)).expect("ok").0, AppealOutcome::Reversed);
    }
}
