//! Helpline mode: a helpline's help cases, the platforms it writes to, and the removal requests it
//! sends on a victim's behalf, each followed to its outcome (issue 13).
//!
//! The helpline's side of DSA Art. 16: a removal request carries the Art. 16(2) elements (exact
//! location, explanation, the notifier identified — here the helpline, a trusted flagger under
//! Art. 22 where designated — and a good-faith statement) and is followed from drafted to removed,
//! refused or unanswered with every timestamp (`request`). The league table per platform
//! (`league`) is plain arithmetic over those timestamps, so it is tested here without a database.
//! No I/O and no clock: times are passed in.

pub mod league;
pub mod request;

use serde::{Deserialize, Serialize};

use crate::notice::{Tristate, check_len, trimmed};
use crate::validation::FieldErrors;

/// Longest free-text field of a help case (characters).
pub const MAX_CASE_TEXT: usize = 10_000;
/// Longest short field (names, municipality, URLs).
pub const MAX_SHORT: usize = 2_000;

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $wire)] $variant),+
        }
        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Wire and storage form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
            /// Parses the storage form.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary! {
    /// How the person reached the helpline.
    IntakeChannel {
        /// Chat.
        Chat = "chat",
        /// Phone.
        Phone = "phone",
        /// E-mail.
        Email = "email",
        /// The helpline's web form.
        WebForm = "web_form",
        /// Through a school (its anti-bullying coordinator).
        School = "school",
    }
}

vocabulary! {
    /// What the images are, as far as the helpline can tell (the helpline's yearly figures split
    /// manipulated images into AI-generated and edited).
    ImageKind {
        /// Made with a generator ("deepnude").
        AiGenerated = "ai_generated",
        /// Edited by hand (photo montage).
        Edited = "edited",
        /// Real images shared without consent.
        Real = "real",
        /// Not known.
        Unknown = "unknown",
    }
}

vocabulary! {
    /// How far the images have spread.
    Exposure {
        /// Publicly reachable.
        Public = "public",
        /// In closed groups or chats.
        ClosedGroups = "closed_groups",
        /// Not yet shared (sextortion threats): pre-emptive hashes help here.
        NotYetShared = "not_yet_shared",
        /// Not known.
        Unknown = "unknown",
    }
}

vocabulary! {
    /// Where a case was referred to.
    ReferralKind {
        /// A police report.
        Police = "police",
        /// Centrum Seksueel Geweld.
        CentrumSeksueelGeweld = "centrum_seksueel_geweld",
        /// Slachtofferhulp Nederland.
        Slachtofferhulp = "slachtofferhulp",
        /// The school.
        School = "school",
        /// An e-health module.
        EHealth = "e_health",
        /// Something else.
        Other = "other",
    }
}

/// A help case as the caseworker enters it. Every field but `summary` is optional.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpCaseDraft {
    /// What happened, in the caseworker's words. May name the person: it never leaves in an
    /// escalation pack or export unless chosen.
    pub summary: Option<String>,
    /// Intake channel.
    pub channel: Option<IntakeChannel>,
    /// What the images are.
    pub image_kind: Option<ImageKind>,
    /// Sextortion (threats to share).
    pub sextortion: Option<bool>,
    /// How far they spread.
    pub exposure: Option<Exposure>,
    /// Whether a minor is depicted.
    pub minor_involved: Option<Tristate>,
    /// Municipality, for the helpline's regional figures.
    pub municipality: Option<String>,
    /// Whether the person consented to the helpline acting for them.
    pub consent: Option<bool>,
    /// A reporting organisation (e.g. a school's anti-bullying coordinator), not a private person.
    pub reporting_organisation: Option<String>,
    /// Contact details of the person (personal data: stored apart, erasable, never exported).
    pub contact: Option<ContactDraft>,
}

/// Contact details of the person helped (personal data).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactDraft {
    /// Name or alias.
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

/// A validated help case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHelpCase {
    /// Summary.
    pub summary: String,
    /// Channel.
    pub channel: Option<IntakeChannel>,
    /// Image kind.
    pub image_kind: ImageKind,
    /// Sextortion.
    pub sextortion: bool,
    /// Exposure.
    pub exposure: Exposure,
    /// Minor involved.
    pub minor_involved: Tristate,
    /// Municipality.
    pub municipality: Option<String>,
    /// Consent recorded.
    pub consent: bool,
    /// Reporting organisation.
    pub reporting_organisation: Option<String>,
    /// Contact (personal data), if any was given: the person may stay anonymous.
    pub contact: Option<HelpContact>,
}

/// Contact details (personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpContact {
    /// Name or alias.
    pub name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

/// Validates a help case, naming every problem.
pub fn validate_case(draft: HelpCaseDraft) -> Result<NewHelpCase, FieldErrors> {
    let mut errors = FieldErrors::default();
    let summary = trimmed(draft.summary);
    match &summary {
        None => errors.required("summary", "say briefly what happened"),
        Some(s) => check_len(&mut errors, "summary", s, MAX_CASE_TEXT),
    }
    let municipality = trimmed(draft.municipality);
    if let Some(m) = &municipality {
        check_len(&mut errors, "municipality", m, 200);
    }
    let reporting_organisation = trimmed(draft.reporting_organisation);
    if let Some(o) = &reporting_organisation {
        check_len(&mut errors, "reporting_organisation", o, MAX_SHORT);
    }
    let contact = draft.contact.and_then(|c| {
        let name = trimmed(c.name);
        let email = trimmed(c.email);
        let phone = trimmed(c.phone);
        for (field, value) in [("contact.name", &name), ("contact.email", &email), ("contact.phone", &phone)] {
            if let Some(v) = value {
                check_len(&mut errors, field, v, 500);
            }
        }
        if let Some(e) = &email
            && (!e.contains('@') || e.contains(char::is_whitespace))
        {
            errors.push("contact.email", "invalid", "is not a valid email address");
        }
        if let Some(p) = &phone
            && !plausible_phone(p)
        {
            errors.push("contact.phone", "invalid", "is not a phone number: 6 to 20 digits, with + ( ) - . or spaces");
        }
        (name.is_some() || email.is_some() || phone.is_some()).then_some(HelpContact { name, email, phone })
    });
    errors.into_result(NewHelpCase {
        summary: summary.unwrap_or_default(),
        channel: draft.channel,
        image_kind: draft.image_kind.unwrap_or(ImageKind::Unknown),
        sextortion: draft.sextortion.unwrap_or(false),
        exposure: draft.exposure.unwrap_or(Exposure::Unknown),
        minor_involved: draft.minor_involved.unwrap_or_default(),
        municipality,
        consent: draft.consent.unwrap_or(false),
        reporting_organisation,
        contact,
    })
}

vocabulary! {
    /// How removal requests reach a platform.
    PlatformChannel {
        /// A platform running staydown: machine to machine, as a trusted-flagger notice.
        Staydown = "staydown",
        /// An abuse e-mail address, through the durable outbox.
        Email = "email",
        /// A web form the caseworker fills by hand; answers are recorded.
        WebForm = "web_form",
        /// A letter the victim sends herself; the caseworker records the answers.
        Letter = "letter",
    }
}

/// A platform as the helpline registers it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformDraft {
    /// Name (unique in the registry).
    pub name: Option<String>,
    /// Base URL of the platform's staydown instance.
    pub staydown_url: Option<String>,
    /// The helpline's API key on that instance (a trusted-flagger key where designated).
    pub api_key: Option<String>,
    /// Abuse e-mail address.
    pub email: Option<String>,
    /// Web form URL (filled by hand).
    pub web_form_url: Option<String>,
    /// Explicit channel; inferred from the fields given when absent.
    pub channel: Option<PlatformChannel>,
    /// Member state of establishment (ISO code).
    pub member_state: Option<String>,
    /// Whether the helpline is a trusted flagger there (Art. 22). Defaults to true for a staydown
    /// platform reached with a key, false otherwise.
    pub trusted_flagger: Option<bool>,
    /// Its Digital Services Coordinator (e.g. `ACM`).
    pub digital_services_coordinator: Option<String>,
    /// Language of e-mailed requests (`nl` or `en`).
    pub language: Option<crate::notice::Language>,
}

/// A validated platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlatform {
    /// Name.
    pub name: String,
    /// Channel.
    pub channel: PlatformChannel,
    /// staydown base URL without trailing slash.
    pub staydown_url: Option<String>,
    /// API key (a secret: never shown again, never exported).
    pub api_key: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Web form URL.
    pub web_form_url: Option<String>,
    /// Member state.
    pub member_state: Option<String>,
    /// Trusted flagger there.
    pub trusted_flagger: bool,
    /// DSC.
    pub digital_services_coordinator: Option<String>,
    /// Language of e-mailed requests.
    pub language: crate::notice::Language,
}

fn http_url(errors: &mut FieldErrors, field: &str, value: Option<String>) -> Option<String> {
    let value = trimmed(value)?;
    match url::Url::parse(&value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            Some(value.trim_end_matches('/').to_owned())
        }
        _ => {
            errors.push(field, "invalid", "must be an http:// or https:// URL");
            None
        }
    }
}

/// Validates a platform: a channel needs its address (a staydown URL and key, an e-mail, a form).
pub fn validate_platform(draft: PlatformDraft) -> Result<NewPlatform, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = trimmed(draft.name);
    match &name {
        None => errors.required("name", "give the platform's name"),
        Some(n) => check_len(&mut errors, "name", n, 200),
    }
    let staydown_url = http_url(&mut errors, "staydown_url", draft.staydown_url);
    let web_form_url = http_url(&mut errors, "web_form_url", draft.web_form_url);
    let api_key = trimmed(draft.api_key);
    let email = trimmed(draft.email);
    if let Some(e) = &email
        && (!e.contains('@') || e.contains(char::is_whitespace) || e.len() > 254)
    {
        errors.push("email", "invalid", "is not a valid email address");
    }
    let channel = draft.channel.unwrap_or(if staydown_url.is_some() {
        PlatformChannel::Staydown
    } else if email.is_some() {
        PlatformChannel::Email
    } else if web_form_url.is_some() {
        PlatformChannel::WebForm
    } else {
        PlatformChannel::Letter
    });
    match channel {
        PlatformChannel::Staydown => {
            if staydown_url.is_none() && !errors.has("staydown_url") {
                errors.required("staydown_url", "a staydown platform needs its base URL");
            }
            if api_key.is_none() {
                errors.required("api_key", "a staydown platform needs the helpline's API key there");
            }
        }
        PlatformChannel::Email if email.is_none() && !errors.has("email") => {
            errors.required("email", "an e-mail platform needs its abuse address");
        }
        PlatformChannel::WebForm if web_form_url.is_none() && !errors.has("web_form_url") => {
            errors.required("web_form_url", "a web-form platform needs the form's URL");
        }
        _ => {}
    }
    let member_state = trimmed(draft.member_state).map(|m| m.to_ascii_uppercase());
    if let Some(m) = &member_state
        && (m.len() != 2 || !m.bytes().all(|b| b.is_ascii_uppercase()))
    {
        errors.push("member_state", "invalid", "must be a two-letter country code, e.g. NL");
    }
    let digital_services_coordinator = trimmed(draft.digital_services_coordinator);
    let trusted_flagger = draft.trusted_flagger.unwrap_or(channel == PlatformChannel::Staydown && api_key.is_some());
    errors.into_result(NewPlatform {
        name: name.unwrap_or_default(),
        channel,
        staydown_url,
        api_key,
        email,
        web_form_url,
        member_state,
        trusted_flagger,
        digital_services_coordinator,
        language: draft.language.unwrap_or_default(),
    })
}

/// Whether `s` can be a phone number as people write one: digits with `+`, spaces, `-`, `.`, `(`
/// and `)` only, and 6 to 20 digits (ITU-T E.164 numbers have at most 15; the rest leaves room
/// for national prefixes and extensions). A plausibility check against typos such as a name in
/// the phone field, not a dialling plan.
pub fn plausible_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (6..=20).contains(&digits) && s.chars().all(|c| c.is_ascii_digit() || " +-.()\u{a0}".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_checked_for_plausibility() {
        for ok in ["+31 6 12345678", "06-12345678", "(020) 123 4567", "+31.20.1234567"] {
            assert!(plausible_phone(ok), "{ok}");
        }
        for bad in ["abc", "12345", "06-1234567x", "call me", "+31 6 1234 5678 9012 3456 78"] {
            assert!(!plausible_phone(bad), "{bad}");
        }
        let e = validate_case(HelpCaseDraft {
            summary: Some("Deepnude shared in a class chat".into()),
            contact: Some(ContactDraft { phone: Some("abc".into()), ..Default::default() }),
            ..Default::default()
        })
        .expect_err("not a phone number");
        assert!(e.has("contact.phone"), "{e}");
    }

    #[test]
    fn platform_channel_is_inferred_and_needs_its_address() {
        let p = validate_platform(PlatformDraft {
            name: Some("P".into()),
            staydown_url: Some("http://127.0.0.1:8080/".into()),
            api_key: Some("sd_x".into()),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(p.channel, PlatformChannel::Staydown);
        assert_eq!(p.staydown_url.as_deref(), Some("http://127.0.0.1:8080"));
        assert!(p.trusted_flagger);
        let q = validate_platform(PlatformDraft {
            name: Some("Q".into()),
            email: Some("abuse@q.example".into()),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(q.channel, PlatformChannel::Email);
        assert!(!q.trusted_flagger);
        let e = validate_platform(PlatformDraft {
            name: Some("R".into()),
            staydown_url: Some("ftp://x".into()),
            channel: Some(PlatformChannel::Staydown),
            ..Default::default()
        })
        .expect_err("invalid");
        assert!(e.has("staydown_url") && e.has("api_key"), "{e}");
        let e = validate_platform(PlatformDraft { channel: Some(PlatformChannel::Email), ..Default::default() })
            .expect_err("invalid");
        assert!(e.has("name") && e.has("email"), "{e}");
    }

    #[test]
    fn a_case_needs_a_summary_and_may_stay_anonymous() {
        assert!(validate_case(HelpCaseDraft::default()).expect_err("no summary").has("summary"));
        let c = validate_case(HelpCaseDraft {
            summary: Some("Deepnude shared in a class chat".into()),
            contact: Some(ContactDraft::default()),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(c.contact, None);
        assert_eq!(c.image_kind, ImageKind::Unknown);
    }
}
