//! The statement of reasons as the EU DSA Transparency Database (TDB) API takes it: the exact
//! JSON shape, its validation rules and the server's normalisation.
//!
//! DSA Art. 24(5): online platforms send every Art. 17 decision and statement of reasons to the
//! Commission's database without undue delay and without personal data. Field names, enum
//! strings, limits and error shapes follow specs/dsa.md §3 (from
//! `github.com/digital-services-act/transparency-database` @ `69e80a0bc8eb3cbfbe8246e898194c3bdf490a4b`,
//! `app/Http/Requests/StatementStoreRequest.php`, `app/Models/Statement.php`,
//! `app/Services/European{Countries,Languages}Service.php`). The 184 `content_language` codes are
//! `EuropeanLanguagesService::ALL_LANGUAGES` as stored for that repository (commit
//! `20751c03f2a213c845a58294ae6a3f516a81bee2`); the spec records the same count.
//!
//! Design: [`Statement`] is the wire format itself (serde, optional fields omitted when `None`),
//! with every closed vocabulary a Rust enum, so a bad enum value cannot be built, only
//! deserialised (and then refused by serde). [`validate`] checks everything the types cannot:
//! required strings and arrays, the conditional rules, lengths, the puid format and date ranges,
//! and reports them in the TDB's own 422 shape ([`TdbErrors`], [`BatchErrors`]) so that our
//! stand-in, our logs and the real API speak alike. Messages follow the English Laravel defaults
//! the spec quotes ("The puid format is invalid."); callers must key on field names, never on
//! message text. Rules the validator marks `exclude_unless` drop the field instead of failing:
//! [`normalise`] does that, together with the de-duplication and sorting of §3.4.

#[cfg(test)]
mod tests;
mod vocab;

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::date;

pub use vocab::{
    AccountType, AutomatedDecision, Category, ContentType, Country, DecisionAccount, DecisionGround, DecisionMonetary,
    DecisionProvision, DecisionVisibility, Keyword, Language, SourceType, YesNo,
};

time::serde::format_description!(ymd, Date, "[year]-[month]-[day]");

/// Longest `puid`, `…_other`, ground, identity or URL field.
pub const MAX_SHORT: usize = 500;
/// Longest `illegal_content_explanation` / `incompatible_content_explanation`.
pub const MAX_EXPLANATION: usize = 2000;
/// Longest `decision_facts`.
pub const MAX_FACTS: usize = 5000;
/// Most statements in one `POST /api/v1/statements` (`required|array|between:1,100`).
pub const MAX_BATCH: usize = 100;
/// Earliest accepted `content_date`.
pub const CONTENT_DATE_MIN: Date = date!(2000 - 01 - 01);
/// Earliest accepted `application_date`.
pub const APPLICATION_DATE_MIN: Date = date!(2020 - 01 - 01);
/// Latest accepted date in any date field.
pub const DATE_MAX: Date = date!(2038 - 01 - 01);

/// An identifier of the content in a product catalogue (`content_id`, added 2025).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentId {
    /// The EAN-13 barcode number: 13 digits.
    #[serde(rename = "EAN-13")]
    pub ean13: String,
}

/// One statement of reasons in the exact JSON of `POST /api/v1/statement(s)` (spec §3.2).
///
/// Fields are in the order of the spec's table; every optional field is omitted from the JSON
/// when `None`. Dates are `YYYY-MM-DD`. Nothing here may carry personal data (Art. 24(5)):
/// `decision_facts` and `source_identity` are free text, so whoever fills them must keep names,
/// handles and victims' URLs out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Platform's unique id of this decision: ≤500 chars of `[a-zA-Z0-9-_]`, never reused.
    pub puid: String,
    /// Restrictions of visibility (at least one of the four `decision_*` fields is required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_visibility: Option<Vec<DecisionVisibility>>,
    /// Required with, and only kept with, `DECISION_VISIBILITY_OTHER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_visibility_other: Option<String>,
    /// Restriction of monetary payments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_monetary: Option<DecisionMonetary>,
    /// Required with, and only kept with, `DECISION_MONETARY_OTHER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_monetary_other: Option<String>,
    /// Suspension or termination of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_provision: Option<DecisionProvision>,
    /// Suspension or termination of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_account: Option<DecisionAccount>,
    /// Business or private account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
    /// Illegal content (law) or incompatible content (terms and conditions).
    pub decision_ground: DecisionGround,
    /// Public URL of the law or terms clause relied on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_ground_reference_url: Option<String>,
    /// Legal ground (required with ILLEGAL, dropped otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub illegal_content_legal_ground: Option<String>,
    /// Why the content is illegal (required with ILLEGAL, dropped otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub illegal_content_explanation: Option<String>,
    /// Terms-and-conditions ground (required with INCOMPATIBLE, dropped otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incompatible_content_ground: Option<String>,
    /// Why the content breaks the terms (required with INCOMPATIBLE, dropped otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incompatible_content_explanation: Option<String>,
    /// Whether the incompatible content is also illegal (INCOMPATIBLE only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incompatible_content_illegal: Option<YesNo>,
    /// What the content is; at least one.
    pub content_type: Vec<ContentType>,
    /// Required with, and only kept with, `CONTENT_TYPE_OTHER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type_other: Option<String>,
    /// The main category.
    pub category: Category,
    /// Further categories (the server removes the main one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_addition: Option<Vec<Category>>,
    /// Keywords; any keyword goes with any category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_specification: Option<Vec<Keyword>>,
    /// Free text for `KEYWORD_OTHER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_specification_other: Option<String>,
    /// Countries where the restriction applies ([`Country::EU`], [`Country::EEA`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territorial_scope: Option<Vec<Country>>,
    /// Language of the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<Language>,
    /// When the content was posted or began to be hosted (2000-01-01…2038-01-01).
    #[serde(with = "ymd")]
    pub content_date: Date,
    /// When the restriction started (2020-01-01…2038-01-01).
    #[serde(with = "ymd")]
    pub application_date: Date,
    /// End of the visibility restriction; `None` = indefinite.
    #[serde(default, with = "ymd::option", skip_serializing_if = "Option::is_none")]
    pub end_date_visibility_restriction: Option<Date>,
    /// End of the monetary restriction; `None` = indefinite.
    #[serde(default, with = "ymd::option", skip_serializing_if = "Option::is_none")]
    pub end_date_monetary_restriction: Option<Date>,
    /// End of the service restriction; `None` = indefinite.
    #[serde(default, with = "ymd::option", skip_serializing_if = "Option::is_none")]
    pub end_date_service_restriction: Option<Date>,
    /// End of the account restriction; `None` = indefinite.
    #[serde(default, with = "ymd::option", skip_serializing_if = "Option::is_none")]
    pub end_date_account_restriction: Option<Date>,
    /// Facts and circumstances relied on (≤5000, no personal data).
    pub decision_facts: String,
    /// What led to the decision: an Art. 16 notice, a trusted flagger, another notification, own initiative.
    pub source_type: SourceType,
    /// Who notified, only if strictly necessary and never a person (dropped for `SOURCE_VOLUNTARY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Whether the content was detected by automated means.
    pub automated_detection: YesNo,
    /// Whether the decision itself was automated.
    pub automated_decision: AutomatedDecision,
    /// Catalogue identifier of the content (products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<ContentId>,
}

/// One failed rule: the field (as the API names it), the rule's name and the API's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdbError {
    /// Field name as in the JSON, e.g. `puid` or `content_id.EAN-13`.
    pub field: String,
    /// The Laravel rule that failed, e.g. `required_if` (for tests and logs; not sent by the API).
    pub rule: &'static str,
    /// The message the API gives.
    pub message: String,
}

/// Every problem with one statement, in rule order; serialises as the TDB's single-statement 422
/// body `{"message": "<first> (and N more errors)", "errors": {field: [message, …]}}` (spec §3.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TdbErrors(Vec<TdbError>);

impl TdbErrors {
    /// Records a failed rule.
    pub fn push(&mut self, field: impl Into<String>, rule: &'static str, message: impl Into<String>) {
        self.0.push(TdbError { field: field.into(), rule, message: message.into() });
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every failed rule.
    pub fn iter(&self) -> impl Iterator<Item = &TdbError> {
        self.0.iter()
    }

    /// Whether `rule` failed on `field`.
    pub fn has(&self, field: &str, rule: &str) -> bool {
        self.0.iter().any(|e| e.field == field && e.rule == rule)
    }

    /// The top-level `message`: the first message, plus "(and N more error[s])" as Laravel writes it.
    pub fn message(&self) -> String {
        let Some(first) = self.0.first() else { return String::new() };
        match self.0.len() - 1 {
            0 => first.message.clone(),
            1 => format!("{} (and 1 more error)", first.message),
            n => format!("{} (and {n} more errors)", first.message),
        }
    }

    /// The `errors` object: `{field: [message, …]}`, fields in first-failure order.
    pub fn fields(&self) -> FieldMessages<'_> {
        FieldMessages(self)
    }

    fn grouped(&self) -> Vec<(&str, Vec<&str>)> {
        let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
        for e in &self.0 {
            match out.iter_mut().find(|(f, _)| *f == e.field) {
                Some((_, messages)) => messages.push(&e.message),
                None => out.push((&e.field, vec![&e.message])),
            }
        }
        out
    }
}

impl fmt::Display for TdbErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for TdbErrors {}

impl Serialize for TdbErrors {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("message", &self.message())?;
        map.serialize_entry("errors", &self.fields())?;
        map.end()
    }
}

/// `{field: [message, …]}` of one statement, in first-failure order.
#[derive(Debug, Clone, Copy)]
pub struct FieldMessages<'a>(&'a TdbErrors);

impl Serialize for FieldMessages<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let grouped = self.0.grouped();
        let mut map = s.serialize_map(Some(grouped.len()))?;
        for (field, messages) in grouped {
            map.serialize_entry(field, &messages)?;
        }
        map.end()
    }
}

/// Problems of a batch, by index in the submitted array; serialises as the TDB's batch 422 body
/// `{"errors": {"statement_<i>": {field: [message, …]}}}` (spec §3.5). A batch with any error
/// stores nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchErrors(pub Vec<(usize, TdbErrors)>);

impl BatchErrors {
    /// The JSON key of statement `index`: `statement_<index>`.
    pub fn key(index: usize) -> String {
        format!("statement_{index}")
    }
}

impl Serialize for BatchErrors {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct ByIndex<'a>(&'a [(usize, TdbErrors)]);
        impl Serialize for ByIndex<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (index, errors) in self.0 {
                    map.serialize_entry(&BatchErrors::key(*index), &errors.fields())?;
                }
                map.end()
            }
        }
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("errors", &ByIndex(&self.0))?;
        map.end()
    }
}

/// How Laravel names a field in messages: underscores become spaces.
fn attr(field: &str) -> String {
    field.replace('_', " ")
}

fn blank(value: Option<&str>) -> bool {
    value.is_none_or(|v| v.trim().is_empty())
}

/// `required` (Laravel trims strings and treats empty as missing).
fn required(e: &mut TdbErrors, field: &str, value: Option<&str>) -> bool {
    if blank(value) {
        e.push(field, "required", format!("The {} field is required.", attr(field)));
        return false;
    }
    true
}

/// `max:<n>` on a string, counted in characters.
fn max(e: &mut TdbErrors, field: &str, value: Option<&str>, limit: usize) {
    if value.is_some_and(|v| v.chars().count() > limit) {
        e.push(field, "max", format!("The {} must not be greater than {limit} characters.", attr(field)));
    }
}

/// `required_if:<other>,<VALUE>` with the TDB's own message, then `max`.
fn required_if(e: &mut TdbErrors, field: &str, value: Option<&str>, message: &str, limit: usize) {
    if blank(value) {
        e.push(field, "required_if", message);
    } else {
        max(e, field, value, limit);
    }
}

fn date_range(e: &mut TdbErrors, field: &str, value: Option<Date>, min: Option<Date>) {
    let Some(value) = value else { return };
    if let Some(min) = min
        && value < min
    {
        e.push(field, "after_or_equal", format!("The {} must be a date after or equal to {min}.", attr(field)));
    }
    if value > DATE_MAX {
        e.push(field, "before_or_equal", format!("The {} must be a date before or equal to {DATE_MAX}.", attr(field)));
    }
}

fn puid_format_ok(puid: &str) -> bool {
    puid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks a statement as the TDB's `StatementStoreRequest` does (spec §3.2–§3.4) and returns
/// every problem at once. Enum membership is guaranteed by the types; fields the API would
/// exclude (e.g. `illegal_*` under an INCOMPATIBLE ground) are not checked, as there.
pub fn validate(s: &Statement) -> Result<(), TdbErrors> {
    let mut e = TdbErrors::default();

    if required(&mut e, "puid", Some(&s.puid)) {
        max(&mut e, "puid", Some(&s.puid), MAX_SHORT);
        if !puid_format_ok(&s.puid) {
            e.push("puid", "regex", "The puid format is invalid.");
        }
    }

    // required_without_all: at least one of the four restrictions.
    let restrictions = [
        ("decision_visibility", s.decision_visibility.as_ref().is_some_and(|v| !v.is_empty())),
        ("decision_monetary", s.decision_monetary.is_some()),
        ("decision_provision", s.decision_provision.is_some()),
        ("decision_account", s.decision_account.is_some()),
    ];
    if restrictions.iter().all(|(_, present)| !present) {
        for (field, _) in restrictions {
            let others: Vec<String> = restrictions.iter().filter(|(f, _)| *f != field).map(|(f, _)| attr(f)).collect();
            e.push(
                field,
                "required_without_all",
                format!("The {} field is required when none of {} are present.", attr(field), others.join(" / ")),
            );
        }
    }
    if s.decision_visibility.as_ref().is_some_and(|v| v.contains(&DecisionVisibility::Other)) {
        required_if(
            &mut e,
            "decision_visibility_other",
            s.decision_visibility_other.as_deref(),
            "The decision visibility other field is required when decision visibility is other.",
            MAX_SHORT,
        );
    }
    if s.decision_monetary == Some(DecisionMonetary::Other) {
        required_if(
            &mut e,
            "decision_monetary_other",
            s.decision_monetary_other.as_deref(),
            "The decision monetary other field is required when decision monetary is other.",
            MAX_SHORT,
        );
    }

    if let Some(url) = s.decision_ground_reference_url.as_deref() {
        let field = "decision_ground_reference_url";
        max(&mut e, field, Some(url), MAX_SHORT);
        if !url::Url::parse(url).is_ok_and(|u| u.has_host()) {
            e.push(field, "url", format!("The {} must be a valid URL.", attr(field)));
        }
    }
    match s.decision_ground {
        DecisionGround::IllegalContent => {
            let message = "field is required when decision ground is illegal content.";
            for (field, value, limit) in [
                ("illegal_content_legal_ground", &s.illegal_content_legal_ground, MAX_SHORT),
                ("illegal_content_explanation", &s.illegal_content_explanation, MAX_EXPLANATION),
            ] {
                required_if(&mut e, field, value.as_deref(), &format!("The {} {message}", attr(field)), limit);
            }
        }
        DecisionGround::IncompatibleContent => {
            let message = "field is required when decision ground is incompatible content.";
            for (field, value, limit) in [
                ("incompatible_content_ground", &s.incompatible_content_ground, MAX_SHORT),
                ("incompatible_content_explanation", &s.incompatible_content_explanation, MAX_EXPLANATION),
            ] {
                required_if(&mut e, field, value.as_deref(), &format!("The {} {message}", attr(field)), limit);
            }
        }
    }

    if s.content_type.is_empty() {
        e.push("content_type", "required", "The content type field is required.");
    }
    if s.content_type.contains(&ContentType::Other) {
        required_if(
            &mut e,
            "content_type_other",
            s.content_type_other.as_deref(),
            "The content type other field is required when content is other.",
            MAX_SHORT,
        );
    }
    max(&mut e, "category_specification_other", s.category_specification_other.as_deref(), MAX_SHORT);

    date_range(&mut e, "content_date", Some(s.content_date), Some(CONTENT_DATE_MIN));
    date_range(&mut e, "application_date", Some(s.application_date), Some(APPLICATION_DATE_MIN));
    for (field, value) in [
        ("end_date_visibility_restriction", s.end_date_visibility_restriction),
        ("end_date_monetary_restriction", s.end_date_monetary_restriction),
        ("end_date_service_restriction", s.end_date_service_restriction),
        ("end_date_account_restriction", s.end_date_account_restriction),
    ] {
        date_range(&mut e, field, value, None);
    }

    if required(&mut e, "decision_facts", Some(&s.decision_facts)) {
        max(&mut e, "decision_facts", Some(&s.decision_facts), MAX_FACTS);
    }
    if s.source_type != SourceType::Voluntary {
        max(&mut e, "source_identity", s.source_identity.as_deref(), MAX_SHORT);
    }
    if let Some(id) = &s.content_id
        && !(id.ean13.len() == 13 && id.ean13.bytes().all(|b| b.is_ascii_digit()))
    {
        e.push("content_id.EAN-13", "digits", "The content id.EAN-13 must be 13 digits.");
    }

    if e.is_empty() { Ok(()) } else { Err(e) }
}

/// Validates each statement of a batch; errors are keyed by index as the batch endpoint keys them.
pub fn validate_batch(statements: &[Statement]) -> Result<(), BatchErrors> {
    let errors: Vec<(usize, TdbErrors)> =
        statements.iter().enumerate().filter_map(|(i, s)| validate(s).err().map(|e| (i, e))).collect();
    if errors.is_empty() { Ok(()) } else { Err(BatchErrors(errors)) }
}

fn sort_dedup<T: Copy>(values: &mut Option<Vec<T>>, key: impl Fn(T) -> &'static str) {
    if let Some(v) = values {
        v.sort_by_key(|x| key(*x));
        v.dedup_by_key(|x| key(*x));
    }
}

/// What the TDB does to a valid statement before storing it (spec §3.4): drops the fields its
/// `exclude_unless` rules exclude, de-duplicates and sorts `content_type`, `decision_visibility`,
/// `category_specification` and `territorial_scope`, and removes the main `category` from
/// `category_addition`. (Its copy of the EAN into the `content_id_ean` column is storage-side and
/// not part of this shape.) Sending a normalised statement means what we keep equals what they keep.
pub fn normalise(s: &mut Statement) {
    if !s.decision_visibility.as_ref().is_some_and(|v| v.contains(&DecisionVisibility::Other)) {
        s.decision_visibility_other = None;
    }
    if s.decision_monetary != Some(DecisionMonetary::Other) {
        s.decision_monetary_other = None;
    }
    if s.decision_ground != DecisionGround::IllegalContent {
        s.illegal_content_legal_ground = None;
        s.illegal_content_explanation = None;
    }
    if s.decision_ground != DecisionGround::IncompatibleContent {
        s.incompatible_content_ground = None;
        s.incompatible_content_explanation = None;
        s.incompatible_content_illegal = None;
    }
    if !s.content_type.contains(&ContentType::Other) {
        s.content_type_other = None;
    }
    if s.source_type == SourceType::Voluntary {
        s.source_identity = None;
    }
    s.content_type.sort_by_key(|c| c.as_str());
    s.content_type.dedup();
    sort_dedup(&mut s.decision_visibility, DecisionVisibility::as_str);
    sort_dedup(&mut s.category_specification, Keyword::as_str);
    sort_dedup(&mut s.territorial_scope, Country::as_str);
    let main = s.category;
    if let Some(additions) = &mut s.category_addition {
        additions.retain(|c| *c != main);
    }
}
