//! The statement of reasons to the uploader (DSA Art. 17) and the decision notice to the notifier
//! (Art. 16(5)), as structured data and as plain text in Dutch and English.
//!
//! The structure names each Art. 17(3) element: (a) `measure`, (b) `facts_and_circumstances`,
//! (c) `automated_means`, (d) `legal_ground` or (e) `contractual_ground`, (f) `redress`. The
//! notifier's identity is never included: it is not "strictly necessary" for a notice about
//! intimate images, and naming a victim to the uploader could put them at risk (Art. 17(3)(b)).

use serde::Serialize;
use time::OffsetDateTime;

use crate::decision::{Decision, Ground, Restrictions};
use crate::notice::{Language, Source};

/// Redress information shown in every statement and decision notice (Art. 17(3)(f), 20, 21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redress {
    /// Where and until when to file an internal complaint (Art. 20).
    pub internal_complaint: InternalComplaint,
    /// Out-of-court dispute settlement (Art. 21): a certified body, named in the configuration.
    pub out_of_court_settlement: String,
    /// Judicial redress.
    pub court: String,
    /// [`Redress::out_of_court_settlement`] in Dutch (a Dutch text carries no English sentence).
    pub out_of_court_settlement_nl: String,
    /// [`Redress::court`] in Dutch.
    pub court_nl: String,
    /// The complaint deadline on the service's clock, as the texts write it (the JSON keeps
    /// [`InternalComplaint::deadline`] in UTC); `None` writes it in UTC.
    #[serde(skip)]
    pub deadline_local: Option<LocalTime>,
}

/// A moment on a wall clock: the date and time in a time zone, and the zone's abbreviation
/// (`CET`, `CEST`), as texts for people write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTime {
    /// Date and time in the zone.
    pub at: time::PrimitiveDateTime,
    /// The zone's abbreviation at that moment.
    pub zone: String,
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// A date written out: `23 May 2027`, Dutch `23 mei 2027` (the public pages' form, `Ctx::when`).
pub fn written_date(date: time::Date, nl: bool) -> String {
    let months = if nl { &MONTHS_NL } else { &MONTHS_EN };
    format!("{} {} {}", date.day(), months[usize::from(u8::from(date.month())) - 1], date.year())
}

/// A moment written out to the minute with its zone: `23 May 2027, 14:00 CEST`.
fn written_time(at: time::PrimitiveDateTime, zone: &str, nl: bool) -> String {
    format!("{}, {:02}:{:02} {zone}", written_date(at.date(), nl), at.hour(), at.minute())
}

/// How to complain internally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InternalComplaint {
    /// The endpoint to send the complaint to.
    pub url: String,
    /// The last moment a complaint is accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
}

/// What the statement needs besides the decision.
#[derive(Debug, Clone)]
pub struct StatementContext {
    /// Decision id.
    pub decision_id: String,
    /// When the decision was taken.
    pub decided_at: OffsetDateTime,
    /// Sources of the notices the decision answers (empty: own initiative).
    pub sources: Vec<Source>,
    /// Name of the service.
    pub platform_name: String,
    /// Redress options.
    pub redress: Redress,
}

/// Element (a): the measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Measure {
    /// The restrictions and their end dates.
    pub restrictions: Restrictions,
    /// Countries.
    pub territorial_scope: Vec<String>,
    /// Start date (`YYYY-MM-DD`).
    #[serde(with = "crate::dates")]
    pub start_date: time::Date,
}

/// Element (b): facts and circumstances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// What was relied on.
    pub facts: String,
    /// How the platform learned of the content: `notice`, `trusted_flagger_notice`,
    /// `authority_order`, `automated_match`, `own_initiative`.
    pub basis: &'static str,
}

/// Element (c): use of automated means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutomatedMeans {
    /// Whether automated means detected the content.
    pub automated_detection: bool,
    /// How far the decision was automated.
    pub automated_decision: &'static str,
}

/// Elements (d)/(e): the ground and why the content falls under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroundElement {
    /// The provision or clause.
    pub reference: String,
    /// Why.
    pub explanation: String,
    /// Link to the clause, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A statement of reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementOfReasons {
    /// Decision id.
    pub decision_id: String,
    /// When it was issued.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// (a)
    pub measure: Measure,
    /// (b)
    pub facts_and_circumstances: Facts,
    /// (c)
    pub automated_means: AutomatedMeans,
    /// (d), for illegal content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_ground: Option<GroundElement>,
    /// (e), for content incompatible with the terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contractual_ground: Option<GroundElement>,
    /// (f)
    pub redress: Redress,
    /// The same in plain language.
    pub text: Texts,
}

/// A message in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Texts {
    /// Dutch.
    pub nl: String,
    /// English.
    pub en: String,
}

impl Texts {
    /// The text in one language.
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Nl => &self.nl,
            Language::En => &self.en,
        }
    }
}

fn basis(sources: &[Source]) -> &'static str {
    let has = |s: Source| sources.contains(&s);
    if has(Source::AuthorityOrder) {
        "authority_order"
    } else if has(Source::TrustedFlagger) {
        "trusted_flagger_notice"
    } else if has(Source::Article16) {
        "notice"
    } else if has(Source::AutomatedMatch) {
        "automated_match"
    } else {
        "own_initiative"
    }
}

fn basis_text(basis: &str, nl: bool) -> &'static str {
    match (basis, nl) {
        ("authority_order", false) => "an order from a public authority",
        ("authority_order", true) => "een bevel van een overheidsinstantie",
        ("trusted_flagger_notice", false) => "a notice from a trusted flagger (DSA Art. 22)",
        ("trusted_flagger_notice", true) => "een melding van een betrouwbare melder (DSA art. 22)",
        ("notice", false) => "a notice from a person or organisation (DSA Art. 16)",
        ("notice", true) => "een melding van een persoon of organisatie (DSA art. 16)",
        ("automated_match", false) => "an automated match of the upload against a list of known images",
        ("automated_match", true) => "een automatische vergelijking van de upload met een lijst bekende beelden",
        (_, false) => "our own review",
        (_, true) => "ons eigen onderzoek",
    }
}

/// Plain-language name of each restriction.
fn restriction_words(r: &Restrictions, nl: bool) -> Vec<String> {
    let mut out = Vec::new();
    for v in &r.visibility {
        let word = match (v.as_str(), nl) {
            ("removed", false) => "the content was removed",
            ("removed", true) => "de inhoud is verwijderd",
            ("disabled", false) => "access to the content was disabled",
            ("disabled", true) => "de inhoud is ontoegankelijk gemaakt",
            ("demoted", false) => "the content is shown less",
            ("demoted", true) => "de inhoud wordt minder getoond",
            ("age_restricted", false) => "the content is shown only to adults",
            ("age_restricted", true) => "de inhoud is alleen zichtbaar voor volwassenen",
            ("interaction_restricted", false) => "interaction with the content is restricted",
            ("interaction_restricted", true) => "reageren op de inhoud is beperkt",
            ("labelled", false) => "the content was labelled",
            ("labelled", true) => "de inhoud heeft een label gekregen",
            (_, false) => "the visibility of the content was restricted",
            (_, true) => "de zichtbaarheid van de inhoud is beperkt",
        };
        out.push(word.to_owned());
    }
    if let Some(other) = &r.visibility_other {
        out.push(format!("({other})"));
    }
    if let Some(m) = r.monetary {
        out.push(if nl {
            format!("betalingen: {}", m.as_str().replace('_', " "))
        } else {
            format!("payments: {}", m.as_str())
        });
    }
    if let Some(p) = r.provision {
        let what = p.as_str().replace('_', " ");
        out.push(if nl { format!("dienstverlening: {what}") } else { format!("provision of the service: {what}") });
    }
    if let Some(a) = r.account {
        out.push(match (a.as_str(), nl) {
            ("suspended", false) => "the account was suspended".to_owned(),
            ("suspended", true) => "het account is geschorst".to_owned(),
            (_, false) => "the account was terminated".to_owned(),
            (_, true) => "het account is beëindigd".to_owned(),
        });
    }
    out
}

fn scope_text(scope: &[String], nl: bool) -> String {
    if scope.len() == crate::decision::EEA_COUNTRIES.len() {
        (if nl { "de hele Europese Economische Ruimte" } else { "the whole European Economic Area" }).to_owned()
    } else {
        scope.join(", ")
    }
}

fn end_text(r: &Restrictions, nl: bool) -> String {
    let ends: Vec<String> = [r.visibility_end, r.monetary_end, r.provision_end, r.account_end]
        .iter()
        .flatten()
        .map(|d| written_date(*d, nl))
        .collect();
    match (ends.is_empty(), nl) {
        (true, false) => "for an indefinite period".to_owned(),
        (true, true) => "voor onbepaalde tijd".to_owned(),
        (false, false) => format!("until {}", ends.join(" / ")),
        (false, true) => format!("tot {}", ends.join(" / ")),
    }
}

fn automation_text(decision: &Decision, nl: bool) -> String {
    let detection = match (decision.automated_detection, nl) {
        (true, false) => "The content was detected by automated means.",
        (true, true) => "De inhoud is met geautomatiseerde middelen opgespoord.",
        (false, false) => "The content was not detected by automated means.",
        (false, true) => "De inhoud is niet met geautomatiseerde middelen opgespoord.",
    };
    let decided = match (decision.automated_decision.as_str(), nl) {
        ("fully", false) => "The decision was taken by automated means.",
        ("fully", true) => "Het besluit is geautomatiseerd genomen.",
        ("partially", false) => "The decision was taken partly by automated means and checked by a person.",
        ("partially", true) => "Het besluit is deels geautomatiseerd genomen en door een mens gecontroleerd.",
        (_, false) => "The decision was taken by a person.",
        (_, true) => "Het besluit is door een mens genomen.",
    };
    format!("{detection} {decided}")
}

fn redress_text(redress: &Redress, nl: bool) -> String {
    let deadline = match &redress.deadline_local {
        Some(local) => written_time(local.at, &local.zone, nl),
        None => {
            let utc = redress.internal_complaint.deadline.to_offset(time::UtcOffset::UTC);
            written_time(time::PrimitiveDateTime::new(utc.date(), utc.time()), "UTC", nl)
        }
    };
    if nl {
        format!(
            "Bent u het niet eens met dit besluit? U kunt tot {deadline} kosteloos bezwaar maken via {} \
             (intern klachtensysteem, DSA art. 20). U kunt ook een gecertificeerde instantie voor \
             geschillenbeslechting inschakelen (DSA art. 21): {}. Daarnaast kunt u naar de rechter: {}.",
            redress.internal_complaint.url, redress.out_of_court_settlement_nl, redress.court_nl
        )
    } else {
        format!(
            "If you disagree with this decision you can complain free of charge until {deadline} at {} \
             (internal complaint-handling system, DSA Art. 20). You can also turn to a certified out-of-court \
             dispute settlement body (DSA Art. 21): {}. You can also go to court: {}.",
            redress.internal_complaint.url, redress.out_of_court_settlement, redress.court
        )
    }
}

/// Builds the statement of reasons for a restricting decision.
pub fn statement_of_reasons(decision: &Decision, ctx: &StatementContext) -> StatementOfReasons {
    let basis = basis(&ctx.sources);
    let (legal_ground, contractual_ground) = match &decision.ground {
        Some(Ground::Illegal { reference, .. }) => (
            Some(GroundElement { reference: reference.clone(), explanation: decision.explanation.clone(), url: None }),
            None,
        ),
        Some(Ground::Incompatible { clause, url, .. }) => (
            None,
            Some(GroundElement {
                reference: clause.clone(),
                explanation: decision.explanation.clone(),
                url: url.clone(),
            }),
        ),
        None => (None, None),
    };
    let text = |nl: bool| {
        let measures = restriction_words(&decision.restrictions, nl).join("; ");
        let scope = scope_text(&decision.territorial_scope.0, nl);
        let ends = end_text(&decision.restrictions, nl);
        let ground = match (&decision.ground, nl) {
            (Some(Ground::Illegal { reference, .. }), false) => format!("The content is illegal under {reference}."),
            (Some(Ground::Illegal { reference, .. }), true) => {
                format!("De inhoud is onrechtmatig op grond van {reference}.")
            }
            (Some(Ground::Incompatible { clause, .. }), false) => {
                format!("The content is incompatible with our terms and conditions: {clause}.")
            }
            (Some(Ground::Incompatible { clause, .. }), true) => {
                format!("De inhoud is in strijd met onze gebruiksvoorwaarden: {clause}.")
            }
            (None, _) => String::new(),
        };
        if nl {
            format!(
                "Besluit van {platform} (verklaring van redenen, DSA art. 17)\n\n\
                 Maatregel: {measures}. Dit geldt in {scope}, vanaf {start}, {ends}.\n\n\
                 Feiten en omstandigheden: wij kwamen in actie na {basis}. {facts}\n\n\
                 Geautomatiseerde middelen: {automation}\n\n\
                 Grond: {ground} {explanation}\n\n{redress}\n",
                platform = ctx.platform_name,
                start = written_date(decision.start_date, true),
                basis = basis_text(basis, true),
                facts = decision.facts,
                automation = automation_text(decision, true),
                explanation = decision.explanation,
                redress = redress_text(&ctx.redress, true),
            )
        } else {
            format!(
                "Decision by {platform} (statement of reasons, DSA Art. 17)\n\n\
                 Measure: {measures}. This applies in {scope}, from {start}, {ends}.\n\n\
                 Facts and circumstances: we acted after {basis}. {facts}\n\n\
                 Automated means: {automation}\n\n\
                 Ground: {ground} {explanation}\n\n{redress}\n",
                platform = ctx.platform_name,
                start = written_date(decision.start_date, false),
                basis = basis_text(basis, false),
                facts = decision.facts,
                automation = automation_text(decision, false),
                explanation = decision.explanation,
                redress = redress_text(&ctx.redress, false),
            )
        }
    };
    StatementOfReasons {
        decision_id: ctx.decision_id.clone(),
        issued_at: ctx.decided_at,
        measure: Measure {
            restrictions: decision.restrictions.clone(),
            territorial_scope: decision.territorial_scope.0.clone(),
            start_date: decision.start_date,
        },
        facts_and_circumstances: Facts { facts: decision.facts.clone(), basis },
        automated_means: AutomatedMeans {
            automated_detection: decision.automated_detection,
            automated_decision: decision.automated_decision.as_str(),
        },
        legal_ground,
        contractual_ground,
        redress: ctx.redress.clone(),
        text: Texts { nl: text(true), en: text(false) },
    }
}

/// What the notifier's tracking view says about a decision that was reversed on an internal
/// complaint (Art. 20(4)): the restriction no longer applies. Replaces [`decision_notice`] there,
/// so the view never still says the content was removed.
pub fn reversed_notice() -> Texts {
    Texts {
        nl: "Dit besluit is na een intern bezwaar teruggedraaid (DSA art. 20): de maatregel geldt niet meer."
            .to_owned(),
        en: "This decision was reversed after an internal complaint (DSA Art. 20): the measure no longer applies."
            .to_owned(),
    }
}

/// The decision notice to a notifier (Art. 16(5)): what was decided, whether automated means were
/// used (Art. 16(6)), and how to seek redress. For e-mails and the API; the tracking page shows
/// [`decision_summary`] with its own redress section and complaint form.
pub fn decision_notice(decision: &Decision, redress: &Redress, notice_id: &str) -> Texts {
    let summary = decision_summary(decision, notice_id);
    let text = |summary: String, nl: bool| {
        if nl {
            format!(
                "{summary}\n{} Daar vraagt de pagina om de volgcode uit uw ontvangstbevestiging; de volglink in \
                 die e-mail brengt u ook direct naar het bezwaarformulier.\n",
                redress_text(redress, true)
            )
        } else {
            format!(
                "{summary}\n{} That page asks for the tracking code from your confirmation of receipt; the \
                 tracking link in that e-mail also takes you straight to the complaint form.\n",
                redress_text(redress, false)
            )
        }
    };
    Texts { nl: text(summary.nl, true), en: text(summary.en, false) }
}

/// The decision notice without its redress paragraph: what was decided, the explanation, and
/// whether automated means were used (Art. 16(5), (6)). Ends with a blank line.
pub fn decision_summary(decision: &Decision, notice_id: &str) -> Texts {
    let text = |nl: bool| {
        let outcome = if decision.restricts() {
            let measures = restriction_words(&decision.restrictions, nl).join("; ");
            if nl {
                format!("Wij hebben maatregelen genomen: {measures}.")
            } else {
                format!("We took action: {measures}.")
            }
        } else if nl {
            "Wij hebben besloten geen maatregelen te nemen.".to_owned()
        } else {
            "We decided not to take action.".to_owned()
        };
        if nl {
            format!(
                "Uw melding {notice_id} is beoordeeld.\n\n{outcome}\n\nToelichting: {}\n\n{}\n",
                decision.explanation,
                automation_text(decision, true),
            )
        } else {
            format!(
                "Your notice {notice_id} has been reviewed.\n\n{outcome}\n\nExplanation: {}\n\n{}\n",
                decision.explanation,
                automation_text(decision, false),
            )
        }
    };
    Texts { nl: text(true), en: text(false) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{DecisionContext, DecisionDraft, validate_decision};

    fn decision(automated: bool) -> Decision {
        validate_decision(
            DecisionDraft {
                visibility: Some(vec!["removed".into()]),
                ground: Some("illegal".into()),
                legal_ground: Some("nl-sr-254ba".into()),
                explanation: Some("Published without consent.".into()),
                territorial_scope: Some(vec!["NL".into()]),
                content_date: Some("2026-11-01".into()),
                facts: Some("The image matches the one described in the notice.".into()),
                content_type: Some(vec!["image".into()]),
                automated_detection: Some(automated),
                ..DecisionDraft::default()
            },
            &DecisionContext {
                today: time::macros::date!(2026 - 11 - 23),
                category: "STATEMENT_CATEGORY_CYBER_VIOLENCE".into(),
                keywords: vec![],
                detected_automatically: false,
                notice_ids: vec!["n1".into()],
            },
        )
        .expect("valid")
    }

    fn redress() -> Redress {
        Redress {
            internal_complaint: InternalComplaint {
                url: "https://example.test/appeal".into(),
                deadline: time::macros::datetime!(2027-05-23 12:00 UTC),
            },
            out_of_court_settlement: "a certified body, see https://example.test/ods".into(),
            court: "the court of your place of residence".into(),
            out_of_court_settlement_nl: "een gecertificeerde instantie, zie https://example.test/ods".into(),
            court_nl: "de rechter van uw woonplaats".into(),
            deadline_local: None,
        }
    }

    #[test]
    fn the_statement_names_every_article_17_3_element() {
        let ctx = StatementContext {
            decision_id: "d1".into(),
            decided_at: time::macros::datetime!(2026-11-23 12:00 UTC),
            sources: vec![Source::Article16],
            platform_name: "Example".into(),
            redress: redress(),
        };
        let s = statement_of_reasons(&decision(false), &ctx);
        let json = serde_json::to_value(&s).expect("serialise");
        for element in ["measure", "facts_and_circumstances", "automated_means", "legal_ground", "redress"] {
            assert!(json.get(element).is_some(), "{element} missing");
        }
        assert_eq!(json["facts_and_circumstances"]["basis"], "notice");
        assert!(s.text.en.contains("art. 254ba Wetboek van Strafrecht"));
        assert!(s.text.nl.contains("bezwaar"));
        assert!(s.text.en.contains("until 23 May 2027, 12:00 UTC"), "{}", s.text.en);
    }

    #[test]
    fn dates_are_written_out_in_the_texts_language_and_the_deadline_on_the_services_clock() {
        let mut redress = redress();
        redress.deadline_local = Some(LocalTime { at: time::macros::datetime!(2027-05-23 14:00), zone: "CEST".into() });
        let ctx = StatementContext {
            decision_id: "d1".into(),
            decided_at: time::macros::datetime!(2026-11-23 12:00 UTC),
            sources: vec![Source::Article16],
            platform_name: "Example".into(),
            redress: redress.clone(),
        };
        let mut d = decision(false);
        d.restrictions.visibility_end = Some(time::macros::date!(2027 - 03 - 01));
        let s = statement_of_reasons(&d, &ctx);
        assert!(s.text.en.contains("from 23 November 2026, until 1 March 2027."), "{}", s.text.en);
        assert!(s.text.nl.contains("vanaf 23 november 2026, tot 1 maart 2027."), "{}", s.text.nl);
        assert!(s.text.en.contains("until 23 May 2027, 14:00 CEST at"), "{}", s.text.en);
        assert!(s.text.nl.contains("tot 23 mei 2027, 14:00 CEST kosteloos"), "{}", s.text.nl);
        for text in [&s.text.en, &s.text.nl] {
            assert!(!text.contains("2026-11-23") && !text.contains("2027-"), "no ISO dates: {text}");
        }
        let json = serde_json::to_value(&s).expect("serialise");
        assert_eq!(json["redress"]["internal_complaint"]["deadline"], "2027-05-23T12:00:00Z", "the JSON stays UTC");
        assert_eq!(json["measure"]["start_date"], "2026-11-23");
        let summary = decision_summary(&d, "n1");
        assert!(!summary.nl.contains("bezwaar") && !summary.en.contains("complain"), "{}", summary.en);
        assert!(summary.en.contains("Explanation: ") && summary.en.contains("automated means"), "{}", summary.en);
        let notice = decision_notice(&d, &redress, "n1");
        assert!(notice.en.starts_with(&summary.en) && notice.nl.starts_with(&summary.nl), "the notice adds redress");
        assert!(notice.nl.contains("tot 23 mei 2027, 14:00 CEST") && !notice.nl.contains("2027-"), "{}", notice.nl);
    }

    #[test]
    fn both_texts_say_when_automated_means_were_used() {
        let t = decision_notice(&decision(true), &redress(), "n1");
        assert!(t.en.contains("detected by automated means"));
        assert!(t.nl.contains("met geautomatiseerde middelen opgespoord"));
        let t = decision_notice(&decision(false), &redress(), "n1");
        assert!(t.en.contains("not detected by automated means"));
    }
}
