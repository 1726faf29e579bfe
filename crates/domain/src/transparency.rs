//! From a decision to its record in the EU Transparency Database (DSA Art. 24(5)).
//!
//! Which decisions are owed: those that restrict content or an account (Art. 17(1)) and answer
//! something other than an Art. 9 order alone (Art. 17(5); the authority's order is reported to the
//! authority, not to the database). A victim's hash-only report restricts nobody's content, so
//! it is not owed either. The record carries no personal data: it never names the notifier, and
//! every personal string known for the case (notifiers' names and emails, uploader references) is
//! cut out of the free-text fields in case a reviewer quoted it.

use crate::decision::{Decision, Ground};
use crate::notice::Source;
use crate::tdb::{
    AccountType, AutomatedDecision, Category, ContentType, Country, DecisionAccount, DecisionGround, DecisionMonetary,
    DecisionProvision, DecisionVisibility, Keyword, Language, SourceType, Statement, TdbErrors, YesNo, normalise,
    validate,
};

/// What replaces a personal string found in free text.
pub const REDACTED: &str = "[removed]";

/// What the mapping needs besides the decision.
#[derive(Debug, Clone, Copy)]
pub struct RecordContext<'a> {
    /// The decision id: the record's `puid` (never reused).
    pub decision_id: &'a str,
    /// Sources of the notices the decision answers.
    pub sources: &'a [Source],
    /// Whether any content is online to restrict (false for hash-only reports).
    pub content_online: bool,
    /// Personal strings that must not appear in the record.
    pub personal_data: &'a [String],
}

/// The source type the database expects, or `None` when the decision is not owed to it.
pub fn source_type(sources: &[Source]) -> Option<SourceType> {
    let has = |s: Source| sources.contains(&s);
    if has(Source::TrustedFlagger) {
        Some(SourceType::TrustedFlagger)
    } else if has(Source::Article16) {
        Some(SourceType::Article16)
    } else if has(Source::AutomatedMatch) || has(Source::OwnInitiative) || sources.is_empty() {
        Some(SourceType::Voluntary)
    } else {
        // Only authority orders: Art. 17(5) excludes Art. 9 orders from statements of reasons.
        None
    }
}

/// Cuts every personal string out of `text`, ignoring case, and then any e-mail address or
/// phone number whoever it belongs to ([`redact_contacts`]): a reviewer may quote a person the
/// case does not know (a witness, the uploader's phone number).
pub fn redact(text: &str, personal_data: &[String]) -> String {
    redact_known(&redact_contacts(text), personal_data)
}

/// Cuts out what looks like an e-mail address (a word with `@` and a dot after it) or a phone
/// number (a run of digits, spaces, `+`, `-`, `.`, `/` and brackets that starts with `+`, `(` or
/// a digit and holds at least nine digits — Dutch numbers have ten, international ones more;
/// dates and amounts have fewer or other separators).
pub fn redact_contacts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = word.trim_matches(|c: char| !c.is_alphanumeric());
        match core.split_once('@') {
            Some((user, domain)) if !user.is_empty() && domain.contains('.') && !domain.ends_with('.') => {
                out.push_str(&word.replace(core, REDACTED));
            }
            _ => out.push_str(word),
        }
    }
    redact_phone_numbers(&out)
}

fn redact_phone_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let is_part = |c: char| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '.' | '/' | '(' | ')');
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit() || chars[i] == '+' || chars[i] == '(';
        let after_word = i > 0 && chars[i - 1].is_alphanumeric();
        if starts && !after_word {
            let mut end = i;
            while end < chars.len() && is_part(chars[end]) {
                end += 1;
            }
            // Trailing separators (a full stop, a space) belong to the sentence.
            while end > i && !chars[end - 1].is_ascii_digit() && chars[end - 1] != ')' {
                end -= 1;
            }
            let digits = chars[i..end].iter().filter(|c| c.is_ascii_digit()).count();
            let before_word = end < chars.len() && chars[end].is_alphanumeric();
            if digits >= 9 && !before_word {
                out.push_str(REDACTED);
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Cuts every string of `personal_data` (three characters or more) out of `text`, ignoring case.
fn redact_known(text: &str, personal_data: &[String]) -> String {
    let mut out = text.to_owned();
    for needle in personal_data.iter().map(|p| p.trim()).filter(|p| p.chars().count() >= 3) {
        let lower_needle = needle.to_lowercase();
        loop {
            let lower = out.to_lowercase();
            // Lower-casing can change byte lengths outside ASCII; only cut where offsets agree.
            let Some(at) = lower.find(&lower_needle) else { break };
            if lower.len() != out.len() || !out.is_char_boundary(at) || !out.is_char_boundary(at + needle.len()) {
                out = out.replace(needle, REDACTED);
                break;
            }
            out.replace_range(at..at + needle.len(), REDACTED);
        }
    }
    out
}

/// The database record for a decision, validated and normalised as the database would; `Ok(None)`
/// when the decision is not owed to the database.
pub fn transparency_record(decision: &Decision, ctx: &RecordContext<'_>) -> Result<Option<Statement>, TdbErrors> {
    if !decision.restricts() || !ctx.content_online {
        return Ok(None);
    }
    let Some(source_type) = source_type(ctx.sources) else { return Ok(None) };
    let r = &decision.restrictions;
    let clean = |text: &str| redact(text, ctx.personal_data);
    let (ground, legal, incompatible, reference_url, also_illegal) = match &decision.ground {
        Some(Ground::Illegal { reference, .. }) => {
            (DecisionGround::IllegalContent, Some(reference.clone()), None, None, None)
        }
        Some(Ground::Incompatible { clause, url, also_illegal }) => {
            (DecisionGround::IncompatibleContent, None, Some(clause.clone()), url.clone(), *also_illegal)
        }
        // A restriction always has a ground (decision validation); keep the record honest anyway.
        None => (DecisionGround::IncompatibleContent, None, Some(String::new()), None, None),
    };
    let explanation = clean(&decision.explanation);
    let keywords: Vec<Keyword> = decision.keywords.iter().filter_map(|k| Keyword::parse(k)).collect();
    let mut statement = Statement {
        puid: ctx.decision_id.to_owned(),
        decision_visibility: (!r.visibility.is_empty())
            .then(|| r.visibility.iter().filter_map(|v| DecisionVisibility::parse(v.tdb())).collect()),
        decision_visibility_other: r.visibility_other.as_deref().map(clean),
        decision_monetary: r.monetary.and_then(|m| DecisionMonetary::parse(m.tdb())),
        decision_monetary_other: r.monetary_other.as_deref().map(clean),
        decision_provision: r.provision.and_then(|p| DecisionProvision::parse(p.tdb())),
        decision_account: r.account.and_then(|a| DecisionAccount::parse(a.tdb())),
        account_type: decision.account_type.and_then(|a| AccountType::parse(a.tdb())),
        decision_ground: ground,
        decision_ground_reference_url: reference_url,
        illegal_content_legal_ground: legal,
        illegal_content_explanation: (ground == DecisionGround::IllegalContent).then(|| explanation.clone()),
        incompatible_content_ground: incompatible,
        incompatible_content_explanation: (ground == DecisionGround::IncompatibleContent).then(|| explanation.clone()),
        incompatible_content_illegal: also_illegal.map(YesNo::from),
        content_type: decision.content_type.iter().filter_map(|c| ContentType::parse(c.tdb())).collect(),
        content_type_other: decision.content_type_other.as_deref().map(clean),
        category: Category::parse(&decision.category).unwrap_or(Category::NotSpecifiedNotice),
        category_addition: None,
        category_specification: (!keywords.is_empty()).then_some(keywords),
        category_specification_other: None,
        territorial_scope: Some(
            decision.territorial_scope.0.iter().filter_map(|c| Country::parse(c)).collect::<Vec<_>>(),
        ),
        content_language: decision.content_language.as_deref().and_then(Language::parse),
        content_date: decision.content_date.unwrap_or(decision.start_date),
        application_date: decision.start_date,
        end_date_visibility_restriction: r.visibility_end,
        end_date_monetary_restriction: r.monetary_end,
        end_date_service_restriction: r.provision_end,
        end_date_account_restriction: r.account_end,
        decision_facts: clean(&decision.facts),
        source_type,
        source_identity: None,
        automated_detection: YesNo::from(decision.automated_detection),
        automated_decision: AutomatedDecision::parse(decision.automated_decision.tdb())
            .unwrap_or(AutomatedDecision::NotAutomated),
        content_id: None,
    };
    normalise(&mut statement);
    validate(&statement)?;
    Ok(Some(statement))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{DecisionContext, DecisionDraft, validate_decision};

    fn decision(draft: DecisionDraft) -> Decision {
        validate_decision(
            draft,
            &DecisionContext {
                today: time::macros::date!(2026 - 11 - 23),
                category: "STATEMENT_CATEGORY_CYBER_VIOLENCE".into(),
                keywords: vec!["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE".into()],
                detected_automatically: false,
                notice_ids: vec!["n1".into()],
            },
        )
        .expect("valid")
    }

    fn removal() -> DecisionDraft {
        DecisionDraft {
            visibility: Some(vec!["removed".into()]),
            account: Some("suspended".into()),
            end_dates: Some(crate::decision::EndDatesDraft {
                account: Some("2027-02-01".into()),
                ..Default::default()
            }),
            ground: Some("illegal".into()),
            legal_ground: Some("nl-sr-254ba".into()),
            explanation: Some("Deepfake nude of Jane Canary published without consent.".into()),
            territorial_scope: Some(vec!["EEA".into()]),
            content_date: Some("2026-11-20".into()),
            facts: Some("JANE CANARY (jane.canary@example.org) reported it.".into()),
            content_type: Some(vec!["image".into(), "synthetic_media".into()]),
            ..DecisionDraft::default()
        }
    }

    fn ctx<'a>(sources: &'a [Source], personal: &'a [String]) -> RecordContext<'a> {
        RecordContext {
            decision_id: "0190f0a2-7b1c-7000-8000-000000000001",
            sources,
            content_online: true,
            personal_data: personal,
        }
    }

    #[test]
    fn a_removal_maps_to_a_valid_record_without_personal_data() {
        let personal = vec!["Jane Canary".to_owned(), "jane.canary@example.org".to_owned()];
        let record = transparency_record(&decision(removal()), &ctx(&[Source::Article16], &personal))
            .expect("valid")
            .expect("owed");
        let json = serde_json::to_string(&record).expect("json");
        assert!(!json.to_lowercase().contains("canary"), "{json}");
        assert!(json.contains(REDACTED));
        assert_eq!(record.source_type, SourceType::Article16);
        assert_eq!(record.decision_visibility, Some(vec![DecisionVisibility::ContentRemoved]));
        assert_eq!(record.decision_account, Some(DecisionAccount::Suspended));
        assert_eq!(record.illegal_content_legal_ground.as_deref(), Some("art. 254ba Wetboek van Strafrecht"));
        assert_eq!(record.territorial_scope.as_ref().map(Vec::len), Some(30));
        assert_eq!(record.content_type, vec![ContentType::Image, ContentType::SyntheticMedia]);
        assert_eq!(record.end_date_account_restriction, Some(time::macros::date!(2027 - 02 - 01)));
    }

    #[test]
    fn sources_map_to_the_database_source_types() {
        assert_eq!(source_type(&[Source::Article16, Source::TrustedFlagger]), Some(SourceType::TrustedFlagger));
        assert_eq!(source_type(&[Source::AutomatedMatch]), Some(SourceType::Voluntary));
        assert_eq!(source_type(&[Source::OwnInitiative]), Some(SourceType::Voluntary));
        assert_eq!(source_type(&[Source::AuthorityOrder]), None, "Art. 17(5): orders are not reported");
        assert_eq!(source_type(&[Source::AuthorityOrder, Source::Article16]), Some(SourceType::Article16));
    }

    #[test]
    fn no_action_and_hash_only_reports_are_not_owed() {
        let none = decision(DecisionDraft { explanation: Some("Not the person.".into()), ..DecisionDraft::default() });
        assert_eq!(transparency_record(&none, &ctx(&[Source::Article16], &[])).expect("ok"), None);
        let offline = RecordContext { content_online: false, ..ctx(&[Source::Article16], &[]) };
        assert_eq!(transparency_record(&decision(removal()), &offline).expect("ok"), None);
    }

    #[test]
    fn terms_decisions_carry_the_clause() {
        let mut d = removal();
        d.ground = Some("incompatible".into());
        d.legal_ground = None;
        d.terms_clause = Some("Rules 4.2".into());
        d.terms_url = Some("https://social.example/rules#4.2".into());
        d.also_illegal = Some(true);
        let record =
            transparency_record(&decision(d), &ctx(&[Source::TrustedFlagger], &[])).expect("ok").expect("owed");
        assert_eq!(record.decision_ground, DecisionGround::IncompatibleContent);
        assert_eq!(record.incompatible_content_ground.as_deref(), Some("Rules 4.2"));
        assert_eq!(record.incompatible_content_illegal, Some(YesNo::Yes));
        assert!(record.illegal_content_legal_ground.is_none());
    }

    #[test]
    fn e_mail_addresses_and_phone_numbers_are_cut_out_whoever_they_belong_to() {
        let facts = "Reported by Anna (anna.de.vries@example.org), +31 6 12345678 or 06-12345678; \
                     seen on 2026-01-05 by 1,000,000 people, case 01a22d23-00c6-703d, ask (020) 555 1234.";
        assert_eq!(
            redact(facts, &["Anna".to_owned()]),
            "Reported by [removed] ([removed]), [removed] or [removed]; seen on 2026-01-05 by 1,000,000 \
             people, case 01a22d23-00c6-703d, ask [removed]."
        );
        assert_eq!(redact_contacts("mail me@x.nl."), "mail [removed].");
        assert_eq!(redact_contacts("an @ sign, user@localhost, 12345678"), "an @ sign, user@localhost, 12345678");
    }

    #[test]
    fn redaction_ignores_case_and_leaves_other_text() {
        let personal = vec!["Jane Canary".to_owned(), "ab".to_owned()];
        assert_eq!(redact("jane canary and about", &personal), "[removed] and about");
    }
}
