//! Information pages generated from the configuration: `/policy` (DSA Art. 14: what is moderated
//! and how, automated means, human review, deadlines, complaints), `/privacy` (GDPR Art. 13) and
//! `/help` (where to get support; the list is configurable, [`PublicInfo::support`]).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::AppState;

/// One place to get support, as configured. Texts in both page languages.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SupportContact {
    /// Name, e.g. `Centrum Seksueel Geweld`.
    pub name: String,
    /// Phone number as dialled, if any.
    pub phone: Option<String>,
    /// Web address, if any.
    pub url: Option<String>,
    /// What they do, in English.
    pub en: String,
    /// What they do, in Dutch.
    pub nl: String,
}

/// Configured facts the public pages show.
#[derive(Debug, Clone)]
pub struct PublicInfo {
    /// Who to contact about personal data (GDPR Art. 13(1)(a)-(b)): controller contact and DPO.
    pub privacy_contact: String,
    /// How long contact details are kept (GDPR Art. 13(2)(a)), in words.
    pub retention_en: String,
    /// The same in Dutch.
    pub retention_nl: String,
    /// Support contacts for `/help` and the tracking page, in order.
    pub support: Vec<SupportContact>,
    /// The time zone the pages show times in (IANA name, e.g. `Europe/Amsterdam`); the API and
    /// exports keep UTC (RFC 3339).
    pub time_zone: jiff::tz::TimeZone,
}

fn contact(name: &str, phone: Option<&str>, url: Option<&str>, en: &str, nl: &str) -> SupportContact {
    SupportContact {
        name: name.into(),
        phone: phone.map(Into::into),
        url: url.map(Into::into),
        en: en.into(),
        nl: nl.into(),
    }
}

impl Default for PublicInfo {
    /// Dutch support organisations (phone numbers and sites as each organisation publishes them).
    fn default() -> Self {
        PublicInfo {
            privacy_contact: "privacy@example.invalid".into(),
            retention_en:
                "until six months after the last decision on your report, or earlier if you ask us to erase them".into(),
            retention_nl:
                "tot zes maanden na het laatste besluit over uw melding, of eerder als u ons vraagt ze te wissen".into(),
            time_zone: jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC),
            support: vec![
                contact(
                    "112",
                    Some("112"),
                    None,
                    "Emergency: when you or someone else is in danger right now.",
                    "Nood: als u of iemand anders nu in gevaar is.",
                ),
                contact(
                    "Politie",
                    Some("0900-8844"),
                    Some("https://www.politie.nl"),
                    "To report a crime to the police (sextortion, sharing intimate images). Also at a police station.",
                    "Om aangifte te doen (sextortion, verspreiden van intieme beelden). Ook op het politiebureau.",
                ),
                contact(
                    "Centrum Seksueel Geweld",
                    Some("0800-0188"),
                    Some("https://centrumseksueelgeweld.nl"),
                    "Free, day and night, after sexual violence, also online.",
                    "Gratis, dag en nacht, na seksueel geweld, ook online.",
                ),
                contact(
                    "Slachtofferhulp Nederland",
                    Some("0900-0101"),
                    Some("https://www.slachtofferhulp.nl"),
                    "Free practical, legal and emotional support for victims.",
                    "Gratis praktische, juridische en emotionele hulp voor slachtoffers.",
                ),
                contact(
                    "Helpwanted",
                    None,
                    Some("https://www.helpwanted.nl"),
                    "Advice and help with removing sexual images online, also for young people.",
                    "Advies en hulp bij het verwijderen van seksuele beelden online, ook voor jongeren.",
                ),
            ],
        }
    }
}

/// `/help`.
#[derive(Template, WebTemplate)]
#[template(path = "views/help.html")]
pub struct HelpPage {
    ctx: Ctx,
    support: Vec<(SupportContact, String)>,
}

/// The support list with each description in the page language.
pub fn support_list(state: &AppState, ctx: &Ctx) -> Vec<(SupportContact, String)> {
    state
        .settings()
        .public
        .support
        .iter()
        .map(|c| (c.clone(), if ctx.lang == super::Lang::Nl { c.nl.clone() } else { c.en.clone() }))
        .collect()
}

/// `GET /help`.
pub async fn help(State(state): State<AppState>, ctx: Ctx) -> HelpPage {
    HelpPage { support: support_list(&state, &ctx), ctx }
}

/// `/policy`.
#[derive(Template, WebTemplate)]
#[template(path = "views/policy.html")]
pub struct PolicyPage {
    ctx: Ctx,
    urgent_hours: String,
    standard_hours: String,
    flagger_hours: String,
    banks: Vec<(String, String, String)>,
    warn_after: String,
    suspend_after: String,
}

/// A deadline in words: "1 hour", "24 hours", "1,5 uur".
fn hours(ctx: &Ctx, d: std::time::Duration) -> String {
    let h = d.as_secs_f64() / 3600.0;
    let n = if (h - h.round()).abs() < 1e-9 { format!("{}", h.round()) } else { format!("{h:.1}") };
    if n == "1" { ctx.ta("unit-hour", "n", n) } else { ctx.ta("unit-hours", "n", n) }
}

/// `GET /policy`.
pub async fn policy(State(state): State<AppState>, ctx: Ctx) -> PolicyPage {
    let p = state.policy();
    let banks = state
        .store()
        .banks()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|b| {
            // Built-in lists get a description in the reader's language; others keep the name staff gave.
            let name = match b.name.as_str() {
                "confirmed" | "victim-submitted" | "helpline-preemptive" => ctx.t(format!("policy-bank-{}", b.name)),
                _ => b.name.clone(),
            };
            (name, ctx.t(format!("policy-action-{}", b.action.as_str())), b.threshold.to_string())
        })
        .collect();
    let misuse = &state.settings().misuse;
    PolicyPage {
        urgent_hours: hours(&ctx, p.urgent.deadline),
        standard_hours: hours(&ctx, p.standard.deadline),
        flagger_hours: hours(&ctx, p.trusted_flagger.deadline),
        banks,
        warn_after: misuse.warn_after.to_string(),
        suspend_after: misuse.suspend_after.to_string(),
        ctx,
    }
}

/// `/privacy`.
#[derive(Template, WebTemplate)]
#[template(path = "views/privacy.html")]
pub struct PrivacyPage {
    ctx: Ctx,
    contact: String,
    retention: String,
}

/// `GET /privacy`.
pub async fn privacy(State(state): State<AppState>, ctx: Ctx) -> PrivacyPage {
    let info = &state.settings().public;
    let retention = if ctx.lang == super::Lang::Nl { info.retention_nl.clone() } else { info.retention_en.clone() };
    PrivacyPage { contact: info.privacy_contact.clone(), retention, ctx }
}
