//! Decisions on cases: the restriction imposed (or none), its ground, scope and duration.
//!
//! DSA Art. 17(1) names the four kinds of restriction (visibility, monetary payments, provision of
//! the service, the account); Art. 17(3) the elements every statement of reasons carries. The
//! validation here mirrors what the EU Transparency Database accepts (specs/dsa.md §3.2: required
//! and conditional fields, lengths, date ranges, country codes), so every restricting decision can
//! be exported under Art. 24(5) without loss. A decision to take no action is also a decision: the
//! notifier is told (Art. 16(5)) and may complain (Art. 20), but there is no statement of reasons.

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};

use crate::legal_grounds::legal_ground;
use crate::notice::{check_len, trimmed};
use crate::taxonomy::{category, is_keyword};
use crate::validation::FieldErrors;

/// Member states of the EU (27) as the Transparency Database spells them (Greece is `GR`).
pub const EU_COUNTRIES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The EEA: the EU plus Iceland, Liechtenstein and Norway.
pub const EEA_COUNTRIES: [&str; 30] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT",
    "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Longest free text for the `*_other` fields, grounds and references (TDB: 500).
pub const MAX_SHORT: usize = 500;
/// Longest explanation of a ground (TDB: 2000).
pub const MAX_EXPLANATION: usize = 2000;
/// Longest statement of facts and circumstances (TDB: 5000).
pub const MAX_FACTS: usize = 5000;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal / $tdb:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// API and storage form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The Transparency Database's enum value.
            pub fn tdb(self) -> &'static str {
                match self { $($name::$variant => $tdb),+ }
            }

            /// Parses the API form.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }

            fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

wire_enum!(
    /// Restriction of the visibility of content (Art. 17(1)(a)).
    Visibility {
        /// Removed.
        Removed = "removed" / "DECISION_VISIBILITY_CONTENT_REMOVED",
        /// Access disabled.
        Disabled = "disabled" / "DECISION_VISIBILITY_CONTENT_DISABLED",
        /// Demoted.
        Demoted = "demoted" / "DECISION_VISIBILITY_CONTENT_DEMOTED",
        /// Age-restricted.
        AgeRestricted = "age_restricted" / "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
        /// Interaction restricted.
        InteractionRestricted = "interaction_restricted" / "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
        /// Labelled.
        Labelled = "labelled" / "DECISION_VISIBILITY_CONTENT_LABELLED",
        /// Something else, described in `visibility_other`.
        Other = "other" / "DECISION_VISIBILITY_OTHER",
    }
);

wire_enum!(
    /// Restriction of monetary payments (Art. 17(1)(b)).
    Monetary {
        /// Suspended.
        Suspension = "suspension" / "DECISION_MONETARY_SUSPENSION",
        /// Terminated.
        Termination = "termination" / "DECISION_MONETARY_TERMINATION",
        /// Something else, described in `monetary_other`.
        Other = "other" / "DECISION_MONETARY_OTHER",
    }
);

wire_enum!(
    /// Suspension or termination of the provision of the service (Art. 17(1)(c)).
    Provision {
        /// Partly suspended.
        PartialSuspension = "partial_suspension" / "DECISION_PROVISION_PARTIAL_SUSPENSION",
        /// Wholly suspended.
        TotalSuspension = "total_suspension" / "DECISION_PROVISION_TOTAL_SUSPENSION",
        /// Partly terminated.
        PartialTermination = "partial_termination" / "DECISION_PROVISION_PARTIAL_TERMINATION",
        /// Wholly terminated.
        TotalTermination = "total_termination" / "DECISION_PROVISION_TOTAL_TERMINATION",
    }
);

wire_enum!(
    /// Suspension or termination of the account (Art. 17(1)(d)).
    AccountRestriction {
        /// Suspended.
        Suspended = "suspended" / "DECISION_ACCOUNT_SUSPENDED",
        /// Terminated.
        Terminated = "terminated" / "DECISION_ACCOUNT_TERMINATED",
    }
);

wire_enum!(
    /// The kind of account restricted.
    AccountType {
        /// A business user (Reg. 2019/1150).
        Business = "business" / "ACCOUNT_TYPE_BUSINESS",
        /// A private user.
        Private = "private" / "ACCOUNT_TYPE_PRIVATE",
    }
);

wire_enum!(
    /// What kind of content the decision is about; several may apply.
    ContentType {
        /// An app.
        App = "app" / "CONTENT_TYPE_APP",
        /// Audio.
        Audio = "audio" / "CONTENT_TYPE_AUDIO",
        /// An image.
        Image = "image" / "CONTENT_TYPE_IMAGE",
        /// A product.
        Product = "product" / "CONTENT_TYPE_PRODUCT",
        /// Synthetic media (AI-generated or manipulated), e.g. a deepnude.
        SyntheticMedia = "synthetic_media" / "CONTENT_TYPE_SYNTHETIC_MEDIA",
        /// Text.
        Text = "text" / "CONTENT_TYPE_TEXT",
        /// Video.
        Video = "video" / "CONTENT_TYPE_VIDEO",
        /// Something else, described in `content_type_other`.
        Other = "other" / "CONTENT_TYPE_OTHER",
    }
);

wire_enum!(
    /// How far the decision itself was automated (detection is a separate flag).
    AutomatedDecision {
        /// Fully automated.
        Fully = "fully" / "AUTOMATED_DECISION_FULLY",
        /// Partly automated.
        Partially = "partially" / "AUTOMATED_DECISION_PARTIALLY",
        /// Taken by a person.
        NotAutomated = "not_automated" / "AUTOMATED_DECISION_NOT_AUTOMATED",
    }
);

/// The restrictions of one decision, with their end dates (`None` = indefinite).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restrictions {
    /// Visibility restrictions.
    pub visibility: Vec<Visibility>,
    /// Description when `visibility` includes `other`.
    pub visibility_other: Option<String>,
    /// End of the visibility restriction.
    #[serde(default, with = "crate::dates::option")]
    pub visibility_end: Option<Date>,
    /// Monetary restriction.
    pub monetary: Option<Monetary>,
    /// Description when `monetary` is `other`.
    pub monetary_other: Option<String>,
    /// End of the monetary restriction.
    #[serde(default, with = "crate::dates::option")]
    pub monetary_end: Option<Date>,
    /// Restriction of the provision of the service.
    pub provision: Option<Provision>,
    /// End of the service restriction.
    #[serde(default, with = "crate::dates::option")]
    pub provision_end: Option<Date>,
    /// Account restriction.
    pub account: Option<AccountRestriction>,
    /// End of the account restriction.
    #[serde(default, with = "crate::dates::option")]
    pub account_end: Option<Date>,
}

impl Restrictions {
    /// Whether nothing is restricted (a decision to take no action).
    pub fn is_empty(&self) -> bool {
        self.visibility.is_empty() && self.monetary.is_none() && self.provision.is_none() && self.account.is_none()
    }

    /// Whether the content is taken down (removed or access disabled): what banks its hashes.
    pub fn takes_content_down(&self) -> bool {
        self.visibility.iter().any(|v| matches!(v, Visibility::Removed | Visibility::Disabled))
    }

    /// Whether the uploader's account or service is suspended or terminated.
    pub fn restricts_account(&self) -> bool {
        self.account.is_some() || self.provision.is_some()
    }

    /// Whether content stays up but is otherwise restricted (demoted, labelled, demonetised, …).
    pub fn restricts_content_otherwise(&self) -> bool {
        (!self.visibility.is_empty() && !self.takes_content_down()) || self.monetary.is_some()
    }
}

/// The ground of a decision (Art. 17(3)(d) or (e)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ground {
    /// The content is illegal: the legal ground from the catalogue.
    Illegal {
        /// Catalogue id, e.g. `nl-sr-254ba`.
        legal_ground: String,
        /// The provision as cited, e.g. `art. 254ba Wetboek van Strafrecht`.
        reference: String,
    },
    /// The content is incompatible with the terms and conditions.
    Incompatible {
        /// The clause, e.g. `Community rules §4.2 (intimate imagery)`.
        clause: String,
        /// Link to the clause.
        url: Option<String>,
        /// Whether the content is also considered illegal.
        also_illegal: Option<bool>,
    },
}

/// Where the decision applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerritorialScope(pub Vec<String>);

impl TerritorialScope {
    /// Whether the scope is the whole EEA.
    pub fn is_eea(&self) -> bool {
        self.0.len() == EEA_COUNTRIES.len()
    }
}

/// A validated decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The restrictions; empty for a decision to take no action.
    pub restrictions: Restrictions,
    /// The ground; `None` only when no action is taken.
    pub ground: Option<Ground>,
    /// Why the content is (or is not) illegal or incompatible.
    pub explanation: String,
    /// Account type of the uploader, when known.
    pub account_type: Option<AccountType>,
    /// Countries where the restriction applies.
    pub territorial_scope: TerritorialScope,
    /// When the platform began hosting the content.
    #[serde(default, with = "crate::dates::option")]
    pub content_date: Option<Date>,
    /// When the restriction takes effect.
    #[serde(with = "crate::dates")]
    pub start_date: Date,
    /// Facts and circumstances relied on (Art. 17(3)(b)), without personal data.
    pub facts: String,
    /// Content types.
    pub content_type: Vec<ContentType>,
    /// Description when `content_type` includes `other`.
    pub content_type_other: Option<String>,
    /// Category (Transparency Database `STATEMENT_CATEGORY_*`).
    pub category: String,
    /// Keywords (`KEYWORD_*`).
    pub keywords: Vec<String>,
    /// Content language, ISO 639-1 upper case.
    pub content_language: Option<String>,
    /// Whether the content was detected by automated means (Art. 17(3)(c)).
    pub automated_detection: bool,
    /// How far the decision was automated.
    pub automated_decision: AutomatedDecision,
    /// Notices the decision answers.
    pub notice_ids: Vec<String>,
    /// The notices were manifestly unfounded (counts towards Art. 23(2) misuse).
    pub manifestly_unfounded: bool,
}

impl Decision {
    /// A copy whose free text (explanation, facts, "other" descriptions) has every personal string
    /// of the case cut out ([`crate::transparency::redact`]): what leaves for the platform, the
    /// uploader and other notifiers, as for the Transparency Database record (Art. 24(5)).
    pub fn redacted(&self, personal_data: &[String]) -> Decision {
        let clean = |t: &str| crate::transparency::redact(t, personal_data);
        let mut out = self.clone();
        out.explanation = clean(&self.explanation);
        out.facts = clean(&self.facts);
        out.content_type_other = self.content_type_other.as_deref().map(clean);
        out.restrictions.visibility_other = self.restrictions.visibility_other.as_deref().map(clean);
        out.restrictions.monetary_other = self.restrictions.monetary_other.as_deref().map(clean);
        if let Some(Ground::Incompatible { clause, .. }) = &mut out.ground {
            *clause = clean(clause);
        }
        out
    }

    /// Whether this decision restricts anything (and so owes a statement of reasons, Art. 17).
    pub fn restricts(&self) -> bool {
        !self.restrictions.is_empty()
    }
}

/// What the reviewer sends. Short lowercase names for enums; see the README for an example.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionDraft {
    /// Visibility restrictions, e.g. `["removed"]`.
    pub visibility: Option<Vec<String>>,
    /// Description for `other`.
    pub visibility_other: Option<String>,
    /// Monetary restriction.
    pub monetary: Option<String>,
    /// Description for `other`.
    pub monetary_other: Option<String>,
    /// Service restriction.
    pub provision: Option<String>,
    /// Account restriction.
    pub account: Option<String>,
    /// Account type.
    pub account_type: Option<String>,
    /// End dates by restriction kind: `visibility`, `monetary`, `provision`, `account`.
    pub end_dates: Option<EndDatesDraft>,
    /// `illegal` or `incompatible`; omit together with every restriction to take no action.
    pub ground: Option<String>,
    /// Catalogue id of the legal ground (ground `illegal`).
    pub legal_ground: Option<String>,
    /// Terms-and-conditions clause (ground `incompatible`).
    pub terms_clause: Option<String>,
    /// Link to the clause.
    pub terms_url: Option<String>,
    /// Whether incompatible content is also illegal.
    pub also_illegal: Option<bool>,
    /// Why.
    pub explanation: Option<String>,
    /// `["NL", "BE"]`, or `["EEA"]` / `["EU"]`.
    pub territorial_scope: Option<Vec<String>>,
    /// `YYYY-MM-DD`: when hosting began.
    pub content_date: Option<String>,
    /// `YYYY-MM-DD`: when the restriction starts (default: today).
    pub start_date: Option<String>,
    /// Facts and circumstances.
    pub facts: Option<String>,
    /// Content types, e.g. `["image", "synthetic_media"]`.
    pub content_type: Option<Vec<String>>,
    /// Description for `other`.
    pub content_type_other: Option<String>,
    /// Category (default: the case's).
    pub category: Option<String>,
    /// Keywords (default: the notices').
    pub keywords: Option<Vec<String>>,
    /// ISO 639-1 code of the content's language.
    pub content_language: Option<String>,
    /// Detected by automated means (default: whether the case came from a hash match).
    pub automated_detection: Option<bool>,
    /// `fully`, `partially` or `not_automated` (default).
    pub automated_decision: Option<String>,
    /// Notice ids answered (default: every notice of the case).
    pub notices: Option<Vec<String>>,
    /// Mark the answered notices manifestly unfounded (only with no action; Art. 23(2)).
    pub manifestly_unfounded: Option<bool>,
}

/// End dates by restriction kind.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndDatesDraft {
    /// Visibility.
    pub visibility: Option<String>,
    /// Monetary.
    pub monetary: Option<String>,
    /// Service.
    pub provision: Option<String>,
    /// Account.
    pub account: Option<String>,
}

/// What the case tells the validation.
#[derive(Debug, Clone)]
pub struct DecisionContext {
    /// Today (the decision date).
    pub today: Date,
    /// The case's category.
    pub category: String,
    /// Keywords of the case's notices.
    pub keywords: Vec<String>,
    /// Whether the case was opened by a hash match at upload.
    pub detected_automatically: bool,
    /// Ids of the case's notices.
    pub notice_ids: Vec<String>,
}

fn parse_date(errors: &mut FieldErrors, field: &str, text: Option<String>, from: Date, to: Date) -> Option<Date> {
    let text = trimmed(text)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match Date::parse(&text, &format) {
        Ok(d) if d >= from && d <= to => Some(d),
        Ok(_) => {
            errors.push(field, "out_of_range", format!("must be between {from} and {to}"));
            None
        }
        Err(_) => {
            errors.push(field, "invalid", "must be a date written YYYY-MM-DD");
            None
        }
    }
}

fn date(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
}

fn parse_one<T: Copy>(
    errors: &mut FieldErrors,
    field: &str,
    text: Option<String>,
    parse: fn(&str) -> Option<T>,
    expected: &str,
) -> Option<T> {
    let text = trimmed(text)?;
    let value = parse(&text);
    if value.is_none() {
        errors.push(field, "invalid", format!("must be one of: {expected}"));
    }
    value
}

fn parse_many<T: Copy + PartialEq>(
    errors: &mut FieldErrors,
    field: &str,
    items: &[String],
    parse: fn(&str) -> Option<T>,
    expected: &str,
) -> Vec<T> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match parse(item.trim()) {
            Some(v) if !out.contains(&v) => out.push(v),
            Some(_) => {}
            None => errors.push(format!("{field}[{i}]"), "invalid", format!("must be one of: {expected}")),
        }
    }
    out
}

/// An `*_other` description: required with `other`, refused without it.
fn other_text(errors: &mut FieldErrors, field: &str, text: Option<String>, has_other: bool) -> Option<String> {
    let text = trimmed(text);
    match (&text, has_other) {
        (None, true) => errors.required(field, "describe the restriction when you choose `other`"),
        (Some(t), true) => check_len(errors, field, t, MAX_SHORT),
        (Some(_), false) => errors.push(field, "not_allowed", "only with `other`"),
        (None, false) => {}
    }
    text.filter(|_| has_other)
}

/// Validates a decision draft for a case, collecting every problem.
pub fn validate_decision(draft: DecisionDraft, ctx: &DecisionContext) -> Result<Decision, FieldErrors> {
    let mut errors = FieldErrors::default();
    let e = &mut errors;

    let visibility =
        parse_many(e, "visibility", &draft.visibility.unwrap_or_default(), Visibility::parse, &Visibility::expected());
    let visibility_other =
        other_text(e, "visibility_other", draft.visibility_other, visibility.contains(&Visibility::Other));
    let monetary = parse_one(e, "monetary", draft.monetary, Monetary::parse, &Monetary::expected());
    let monetary_other = other_text(e, "monetary_other", draft.monetary_other, monetary == Some(Monetary::Other));
    let provision = parse_one(e, "provision", draft.provision, Provision::parse, &Provision::expected());
    let account = parse_one(e, "account", draft.account, AccountRestriction::parse, &AccountRestriction::expected());
    let account_type = parse_one(e, "account_type", draft.account_type, AccountType::parse, &AccountType::expected());

    let start_date =
        parse_date(e, "start_date", draft.start_date, date(2020, Month::January, 1), date(2038, Month::January, 1))
            .unwrap_or(ctx.today);
    let content_date =
        parse_date(e, "content_date", draft.content_date, date(2000, Month::January, 1), date(2038, Month::January, 1));
    if let Some(d) = content_date
        && d > start_date
    {
        e.push("content_date", "out_of_range", "the content cannot have been posted after the restriction started");
    }
    let ends = draft.end_dates.unwrap_or_default();
    let mut end = |field: &str, text: Option<String>, applies: bool| {
        let d = parse_date(e, &format!("end_dates.{field}"), text, start_date, date(2038, Month::January, 1));
        if d.is_some() && !applies {
            e.push(format!("end_dates.{field}"), "not_allowed", format!("there is no {field} restriction to end"));
        }
        d.filter(|_| applies)
    };
    let restrictions = Restrictions {
        visibility_end: end("visibility", ends.visibility, !visibility.is_empty()),
        monetary_end: end("monetary", ends.monetary, monetary.is_some()),
        provision_end: end("provision", ends.provision, provision.is_some()),
        account_end: end("account", ends.account, account.is_some()),
        visibility,
        visibility_other,
        monetary,
        monetary_other,
        provision,
        account,
    };
    let no_action = restrictions.is_empty();

    let explanation = trimmed(draft.explanation);
    match &explanation {
        None => e.required("explanation", "explain the decision in plain words"),
        Some(text) => check_len(e, "explanation", text, MAX_EXPLANATION),
    }

    let ground = match trimmed(draft.ground).as_deref() {
        None if no_action => None,
        None => {
            e.required("ground", "a restriction needs a ground: `illegal` or `incompatible`");
            None
        }
        Some("illegal") => {
            if draft.terms_clause.is_some() || draft.also_illegal.is_some() {
                e.push("terms_clause", "not_allowed", "terms clauses go with the ground `incompatible`");
            }
            match trimmed(draft.legal_ground) {
                None => {
                    e.required("legal_ground", "name the legal ground (GET /api/v1/legal-grounds)");
                    None
                }
                Some(id) => match legal_ground(&id) {
                    Some(g) => Some(Ground::Illegal { legal_ground: id, reference: g.reference.to_owned() }),
                    None => {
                        e.push("legal_ground", "invalid", "unknown legal ground (GET /api/v1/legal-grounds)");
                        None
                    }
                },
            }
        }
        Some("incompatible") => {
            if draft.legal_ground.is_some() {
                e.push("legal_ground", "not_allowed", "legal grounds go with the ground `illegal`");
            }
            let url = trimmed(draft.terms_url);
            if let Some(u) = &url {
                check_len(e, "terms_url", u, MAX_SHORT);
                if !url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https")) {
                    e.push("terms_url", "invalid", "must be a full http(s) URL");
                }
            }
            match trimmed(draft.terms_clause) {
                None => {
                    e.required("terms_clause", "name the clause of the terms and conditions");
                    None
                }
                Some(clause) => {
                    check_len(e, "terms_clause", &clause, MAX_SHORT);
                    Some(Ground::Incompatible { clause, url, also_illegal: draft.also_illegal })
                }
            }
        }
        Some(_) => {
            e.push("ground", "invalid", "must be `illegal` or `incompatible`");
            None
        }
    };
    if no_action && ground.is_some() {
        e.push("ground", "not_allowed", "no restriction was chosen; a decision to take no action has no ground");
    }

    let scope = draft.territorial_scope.unwrap_or_default();
    let territorial_scope = match scope.as_slice() {
        [one] if one.eq_ignore_ascii_case("EEA") => EEA_COUNTRIES.iter().map(|c| (*c).to_owned()).collect(),
        [one] if one.eq_ignore_ascii_case("EU") => EU_COUNTRIES.iter().map(|c| (*c).to_owned()).collect(),
        _ => {
            let mut codes: Vec<String> = Vec::new();
            for (i, code) in scope.iter().enumerate() {
                let code = code.trim().to_ascii_uppercase();
                if EEA_COUNTRIES.contains(&code.as_str()) {
                    if !codes.contains(&code) {
                        codes.push(code);
                    }
                } else {
                    e.push(
                        format!("territorial_scope[{i}]"),
                        "invalid",
                        "must be an EEA country code (Greece is GR), or the single value EEA or EU",
                    );
                }
            }
            codes.sort();
            codes
        }
    };
    if territorial_scope.is_empty() && !no_action && !e.0.iter().any(|x| x.field.starts_with("territorial_scope")) {
        e.required("territorial_scope", "say where the restriction applies: country codes, or EEA");
    }

    let facts = trimmed(draft.facts);
    match &facts {
        None if !no_action => e.required("facts", "describe the facts and circumstances (no personal data)"),
        Some(text) => check_len(e, "facts", text, MAX_FACTS),
        None => {}
    }

    let content_type = parse_many(
        e,
        "content_type",
        &draft.content_type.unwrap_or_default(),
        ContentType::parse,
        &ContentType::expected(),
    );
    if content_type.is_empty() && !no_action && !e.0.iter().any(|x| x.field.starts_with("content_type")) {
        e.required("content_type", "name at least one content type, e.g. image");
    }
    let content_type_other =
        other_text(e, "content_type_other", draft.content_type_other, content_type.contains(&ContentType::Other));
    if content_date.is_none() && !no_action && !e.has("content_date") {
        e.required("content_date", "give the date the content was posted (YYYY-MM-DD)");
    }

    let category_id = trimmed(draft.category).unwrap_or_else(|| ctx.category.clone());
    if category(&category_id).is_none() {
        e.push("category", "invalid", "unknown category (GET /api/v1/categories)");
    }
    let keywords = draft.keywords.unwrap_or_else(|| ctx.keywords.clone());
    for (i, k) in keywords.iter().enumerate() {
        if !is_keyword(k) {
            e.push(format!("keywords[{i}]"), "invalid", "unknown keyword (GET /api/v1/categories)");
        }
    }
    let content_language = trimmed(draft.content_language).map(|l| l.to_ascii_uppercase());
    if let Some(l) = &content_language
        && (l.len() != 2 || !l.bytes().all(|b| b.is_ascii_uppercase()))
    {
        e.push("content_language", "invalid", "must be a two-letter ISO 639-1 code, e.g. NL");
    }
    let automated_decision = parse_one(
        e,
        "automated_decision",
        draft.automated_decision,
        AutomatedDecision::parse,
        &AutomatedDecision::expected(),
    )
    .unwrap_or(AutomatedDecision::NotAutomated);

    let notice_ids = match draft.notices {
        None => ctx.notice_ids.clone(),
        Some(ids) => {
            for (i, id) in ids.iter().enumerate() {
                if !ctx.notice_ids.contains(id) {
                    e.push(format!("notices[{i}]"), "invalid", "not a notice of this case");
                }
            }
            ids
        }
    };
    let manifestly_unfounded = draft.manifestly_unfounded.unwrap_or(false);
    if manifestly_unfounded && !no_action {
        e.push("manifestly_unfounded", "not_allowed", "only a decision to take no action can find notices unfounded");
    }

    errors.into_result(())?;
    Ok(Decision {
        restrictions,
        ground,
        explanation: explanation.unwrap_or_default(),
        account_type,
        territorial_scope: TerritorialScope(territorial_scope),
        content_date,
        start_date,
        facts: facts.unwrap_or_default(),
        content_type,
        content_type_other,
        category: category_id,
        keywords,
        content_language,
        automated_detection: draft.automated_detection.unwrap_or(ctx.detected_automatically),
        automated_decision,
        notice_ids,
        manifestly_unfounded,
    })
}

/// Six calendar months after `from` (clamped to the month's last day), the Art. 20(1) minimum
/// window for complaints.
pub fn six_months_after(from: OffsetDateTime) -> OffsetDateTime {
    let date = from.date();
    let months = date.month() as i32 - 1 + 6;
    let year = date.year() + months / 12;
    let month = Month::try_from((months % 12 + 1) as u8).unwrap_or(Month::January);
    let day = date.day().min(month.length(year));
    let target = Date::from_calendar_date(year, month, day).unwrap_or(date);
    from.replace_date(target)
}

#[cfg(test)]
mod tests;
