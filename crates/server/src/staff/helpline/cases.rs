//! Help cases on the caseworker's pages: the list and the case page with its
//! removal requests (create → sent at once; states and every timestamp; recorded answers for
//! e-mail, letter and web-form platforms; URL check now), referrals, sealed evidence and the
//! police bundle, and pre-emptive hashes made in the caseworker's browser with the public hash
//! page's WebAssembly PDQ (`/static/report-hashes.js`; the image never leaves the browser), filed
//! as hash-only notices with platforms running staydown.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, RawForm, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use staydown_domain::helpline::request::RequestDraft;
use staydown_domain::helpline::{PlatformChannel, ReferralKind};
use staydown_domain::legal_grounds::LEGAL_GROUNDS;
use staydown_domain::taxonomy::CATEGORIES;
use staydown_store::{HelpCaseRecord, PlatformRecord, RequestRecord};

use super::{checked_form, form_errors, see_other, t, when, when_opt};
use crate::AppState;
use crate::api::helpline as api;
use crate::auth::Permission;
use crate::pages::Ctx;
use crate::pages::form::{Errors, FormData};
use crate::staff::pages::{Chrome, Console};

/// Intake channels offered (value, catalogue key).
pub const CHANNELS: &[(&str, &str)] = &[
    ("chat", t("helpline-channel-chat")),
    ("phone", t("helpline-channel-phone")),
    ("email", t("helpline-channel-email")),
    ("web_form", t("helpline-channel-web_form")),
    ("school", t("helpline-channel-school")),
];
/// What the images are.
pub const IMAGE_KINDS: &[(&str, &str)] = &[
    ("ai_generated", t("helpline-kind-ai_generated")),
    ("edited", t("helpline-kind-edited")),
    ("real", t("helpline-kind-real")),
    ("unknown", t("helpline-kind-unknown")),
];
/// How far they spread.
pub const EXPOSURES: &[(&str, &str)] = &[
    ("public", t("helpline-exposure-public")),
    ("closed_groups", t("helpline-exposure-closed_groups")),
    ("not_yet_shared", t("helpline-exposure-not_yet_shared")),
    ("unknown", t("helpline-exposure-unknown")),
];
/// Yes / no / not known.
pub const TRISTATE: &[(&str, &str)] =
    &[("yes", t("helpline-yes")), ("no", t("helpline-no")), ("unknown", t("helpline-unknown"))];
/// Answers a caseworker records.
pub const ANSWERS: &[(&str, &str)] = &[
    ("acknowledged", t("helpline-state-acknowledged")),
    ("removed", t("helpline-state-removed")),
    ("refused", t("helpline-state-refused")),
];

/// Catalogue key of a request state.
pub fn state_key(state: &str) -> &'static str {
    match state {
        "drafted" => t("helpline-state-drafted"),
        "sent" => t("helpline-state-sent"),
        "acknowledged" => t("helpline-state-acknowledged"),
        "removed" => t("helpline-state-removed"),
        "refused" => t("helpline-state-refused"),
        _ => t("helpline-state-no_answer"),
    }
}

/// Catalogue key of a referral kind.
pub fn referral_key(kind: &str) -> &'static str {
    match kind {
        "police" => t("helpline-referral-police"),
        "centrum_seksueel_geweld" => t("helpline-referral-centrum_seksueel_geweld"),
        "slachtofferhulp" => t("helpline-referral-slachtofferhulp"),
        "school" => t("helpline-referral-school"),
        "e_health" => t("helpline-referral-e_health"),
        _ => t("helpline-referral-other"),
    }
}

/// Catalogue key of a platform channel.
pub fn channel_key(channel: &str) -> &'static str {
    match channel {
        "staydown" => t("helpline-platform-channel-staydown"),
        "email" => t("helpline-platform-channel-email"),
        "web_form" => t("helpline-platform-channel-web_form"),
        _ => t("helpline-platform-channel-letter"),
    }
}

/// Catalogue key of a URL check state.
pub fn url_state_key(state: &str) -> &'static str {
    match state {
        "present" => t("helpline-url-present"),
        "gone" => t("helpline-url-gone"),
        _ => t("helpline-url-unknown"),
    }
}

/// The last eight characters of an id (enough to tell cases apart on a page).
pub fn short_id(id: &str) -> String {
    crate::staff::short_id(id)
}

fn label_of(list: &[(&str, &'static str)], value: &str) -> Option<&'static str> {
    list.iter().find(|(v, _)| *v == value).map(|(_, k)| *k)
}

/// `GET /staff/helpline`: the help cases of the last year, newest first.
#[derive(Template, WebTemplate)]
#[template(path = "staff/helpline/cases.html")]
pub struct CasesPage {
    ctx: Ctx,
    chrome: Chrome,
    cases: Vec<HelpCaseRecord>,
}

impl CasesPage {
    fn short(&self, c: &HelpCaseRecord) -> String {
        short_id(&c.id)
    }
    fn when(&self, c: &HelpCaseRecord) -> String {
        when(&self.ctx, c.created_at)
    }
    fn channel(&self, c: &HelpCaseRecord) -> String {
        c.channel.as_deref().and_then(|v| label_of(CHANNELS, v)).map_or_else(|| "—".to_owned(), |k| self.ctx.t(k))
    }
    fn kind(&self, c: &HelpCaseRecord) -> String {
        label_of(IMAGE_KINDS, &c.image_kind).map_or_else(|| c.image_kind.clone(), |k| self.ctx.t(k))
    }
    fn exposure(&self, c: &HelpCaseRecord) -> String {
        label_of(EXPOSURES, &c.exposure).map_or_else(|| c.exposure.clone(), |k| self.ctx.t(k))
    }
}

/// The list.
pub async fn list(State(state): State<AppState>, console: Console) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    let now = state.now();
    let mut cases = state
        .store()
        .help_cases(now - time::Duration::days(366), now + time::Duration::seconds(1))
        .await
        .map_err(|e| crate::problem::ApiError::from(e).into_response())?;
    cases.reverse();
    Ok(CasesPage { ctx: console.ctx, chrome: console.chrome, cases }.into_response())
}

/// A form field's value, `None` when empty.
pub(super) fn opt(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

/// One removal request as the case page shows it.
#[derive(Debug, Clone)]
pub struct RequestRow {
    /// The record.
    pub r: RequestRecord,
    /// Platform name.
    pub platform: String,
    /// The platform's web form, for a web-form request a person fills in.
    pub web_form_url: Option<String>,
}

impl RequestRow {
    /// Whether the caseworker records the answer (not a staydown platform; sent already).
    pub fn can_answer(&self) -> bool {
        self.r.channel != PlatformChannel::Staydown && self.r.state.as_str() != "drafted"
    }
    /// Whether a person still has to send it (a letter the victim posts, a web form the
    /// caseworker fills in) and then says when.
    pub fn awaits_hand_send(&self) -> bool {
        matches!(self.r.channel, PlatformChannel::Letter | PlatformChannel::WebForm)
            && self.r.state.as_str() == "drafted"
    }
    /// Whether a URL can be checked.
    pub fn can_check(&self) -> bool {
        !self.r.is_hash_only()
    }
    /// Hours from sending to removal, with the page language's decimal sign.
    pub fn hours(&self, ctx: &Ctx) -> String {
        match (self.r.sent_at, self.r.removed_at) {
            (Some(s), Some(r)) => super::one_decimal(ctx, (r - s).as_seconds_f64().max(0.0) / 3600.0),
            _ => "—".to_owned(),
        }
    }
}

/// One evidence file.
#[derive(Debug, Clone)]
pub struct EvidenceRow {
    /// Screenshot or evidence.
    pub kind: String,
    /// What the file is, in the page language ("Photo (JPEG)", "Foto (JPEG)", "Video"); the
    /// exact media type stays in the police bundle, where it is needed.
    pub content_type: String,
    /// Size in the page language ("1.2 MB", "1,2 MB", "830 bytes").
    pub size: String,
    /// SHA-256 at intake.
    pub sha256: String,
    /// Stored at.
    pub stored: String,
    /// Erased (the custody log stays).
    pub erased: bool,
}

/// A file size for people: bytes below 1 kB, else kB or MB (powers of 1000) with one decimal
/// and the page language's decimal sign.
/// A media type in words: the sort of file in the page language, with the format's common name
/// where there is one ("Photo (JPEG)", "PDF document"). Unknown types are "Other file", never the
/// raw string (it came from the uploading browser).
pub(crate) fn file_type(ctx: &Ctx, media_type: &str) -> String {
    let media_type = media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let (top, sub) = media_type.split_once('/').unwrap_or((media_type.as_str(), ""));
    let format = match sub {
        "jpeg" | "jpg" | "pjpeg" => Some("JPEG"),
        "png" => Some("PNG"),
        "webp" => Some("WebP"),
        "gif" => Some("GIF"),
        "heic" | "heif" => Some("HEIC"),
        "avif" => Some("AVIF"),
        "mp4" => Some("MP4"),
        "quicktime" => Some("QuickTime"),
        "webm" => Some("WebM"),
        _ => None,
    };
    let key = match (top, sub) {
        ("image", _) => "helpline-evidence-photo",
        ("video", _) => "helpline-evidence-video",
        ("audio", _) => "helpline-evidence-audio",
        ("application", "pdf") => "helpline-evidence-pdf",
        ("text", _) => "helpline-evidence-text",
        _ => "helpline-evidence-other",
    };
    match format {
        Some(f) => format!("{} ({f})", ctx.t(key)),
        None => ctx.t(key),
    }
}

fn file_size(ctx: &Ctx, bytes: i64) -> String {
    let (value, unit) = match bytes {
        b if b < 1_000 => return ctx.ta("helpline-evidence-bytes", "count", b),
        b if b < 1_000_000 => (b as f64 / 1e3, "kB"),
        b => (b as f64 / 1e6, "MB"),
    };
    format!("{} {unit}", super::one_decimal(ctx, value))
}

/// `GET /staff/helpline/cases/{id}`.
#[derive(Template, WebTemplate)]
#[template(path = "staff/helpline/case.html")]
pub struct CasePage {
    ctx: Ctx,
    chrome: Chrome,
    case: HelpCaseRecord,
    contact: Option<(String, String, String)>,
    requests: Vec<RequestRow>,
    platforms: Vec<PlatformRecord>,
    referrals: Vec<(String, String)>,
    evidence: Vec<EvidenceRow>,
    hashes: Vec<(String, String, String)>,
    /// The form that failed (`request`, `answer-<id>`, `referral`, `evidence`, `hashes`, `notice`).
    failed: String,
    /// A fresh submission value for the forms that must not record twice (`pages::once`).
    submission: String,
    errors: Errors,
    typed: FormData,
}

impl CasePage {
    fn err(&self, form: &str, field: &str) -> Option<&String> {
        if self.failed == form { self.errors.get(field) } else { None }
    }
    fn invalid(&self, form: &str, field: &str) -> &'static str {
        if self.err(form, field).is_some() { "field invalid" } else { "field" }
    }
    fn val(&self, form: &str, field: &str) -> String {
        if self.failed == form { self.typed.get(field) } else { String::new() }
    }
    fn is(&self, form: &str, field: &str, value: &str) -> bool {
        self.failed == form && self.typed.get(field) == value
    }
    fn serr(&self, row: &RequestRow) -> Option<&String> {
        self.err(&format!("sent-{}", row.r.id), "at")
    }
    fn sval(&self, row: &RequestRow) -> String {
        self.val(&format!("sent-{}", row.r.id), "at")
    }
    fn answer_form(row: &RequestRow) -> String {
        format!("answer-{}", row.r.id)
    }
    fn aerr(&self, row: &RequestRow, field: &str) -> Option<&String> {
        self.err(&Self::answer_form(row), field)
    }
    fn ainvalid(&self, row: &RequestRow, field: &str) -> &'static str {
        self.invalid(&Self::answer_form(row), field)
    }
    fn aval(&self, row: &RequestRow, field: &str) -> String {
        self.val(&Self::answer_form(row), field)
    }
    fn ais(&self, row: &RequestRow, field: &str, value: &str) -> bool {
        self.is(&Self::answer_form(row), field, value)
    }
    /// ` aria-invalid="true" aria-describedby="{id}-error"` for a control `id` whose field has an
    /// error in `form`, else nothing (write it with `|safe`; the ids are the template's own).
    fn aria(&self, form: &str, id: &str, field: &str) -> String {
        if self.err(form, field).is_some() {
            format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\"")
        } else {
            String::new()
        }
    }
    /// The catalogue key of the label of `field` in the failed form, so the error summary names the
    /// field each message belongs to.
    fn field_label(&self, field: &str) -> Option<&'static str> {
        let form = self.failed.split('-').next().unwrap_or_default();
        Some(match (form, field) {
            ("request" | "notice", "platform") => t("helpline-request-platform"),
            ("request" | "notice", "url") => t("helpline-request-url"),
            ("request" | "notice", "category") => t("helpline-request-category"),
            ("request" | "notice", "legal_ground") => t("helpline-request-ground"),
            ("request" | "notice", "explanation") => t("helpline-request-explanation"),
            ("evidence", "file") => t("helpline-evidence-choose"),
            ("evidence", "kind") => t("helpline-evidence-kind"),
            ("referral", "kind") => t("helpline-referral-kind"),
            ("hashes", _) => t("report-photos"),
            ("sent", "at") => t("helpline-sent-at"),
            ("answer", "state") => t("helpline-answer-state"),
            ("answer", "at") => t("helpline-answer-at"),
            ("answer", "note") => t("helpline-answer-note"),
            _ => return None,
        })
    }
    fn summary_errors(&self) -> Vec<(String, String)> {
        let prefix = match self.failed.as_str() {
            "request" => "req",
            "notice" => "hn",
            "referral" => "ref",
            "evidence" => "ev",
            "hashes" => "photos",
            _ => "",
        };
        self.errors
            .0
            .iter()
            .map(|(f, m)| {
                let anchor = match prefix {
                    "photos" => "photos".to_owned(),
                    "" => self.failed.clone(),
                    p => format!("{p}-{f}"),
                };
                let message = match self.field_label(f) {
                    Some(label) => format!("{}: {m}", self.ctx.t(label)),
                    None => m.clone(),
                };
                (anchor, message)
            })
            .collect()
    }
    fn label(&self, list: &[(&str, &'static str)], value: &str) -> String {
        label_of(list, value).map_or_else(|| value.to_owned(), |k| self.ctx.t(k))
    }
    fn channel_label(&self) -> String {
        self.case.channel.as_deref().map_or_else(|| "—".to_owned(), |c| self.label(CHANNELS, c))
    }
    /// The time zone the form's times are read in, by its IANA name (`UTC` when it has none).
    fn zone(&self) -> String {
        self.ctx.tz.iana_name().unwrap_or("UTC").to_owned()
    }
    /// A legal ground by its title and provision in the page language (the stored id when unknown).
    fn ground_label(&self, id: &str) -> String {
        crate::staff::pages::names::legal_ground(&self.ctx, id)
    }
    fn opened(&self) -> String {
        when(&self.ctx, self.case.created_at)
    }
    fn state_label(&self, row: &RequestRow) -> String {
        self.ctx.t(state_key(row.r.state.as_str()))
    }
    fn url_state(&self, row: &RequestRow) -> String {
        row.r.url_state.as_deref().map_or_else(|| "—".to_owned(), |s| self.ctx.t(url_state_key(s)))
    }
    fn target(&self, row: &RequestRow) -> String {
        match &row.r.hashes {
            Some(h) => self.ctx.ta("helpline-hash-sets", "count", h.as_array().map_or(0, Vec::len)),
            None => row.r.url.clone(),
        }
    }
    fn t_(&self, t: &Option<time::OffsetDateTime>) -> String {
        when_opt(&self.ctx, *t)
    }
    fn category_label(&self, id: &str) -> String {
        let c = staydown_domain::taxonomy::category(id);
        c.map_or_else(|| id.to_owned(), |c| if self.ctx.code() == "nl" { c.label.nl } else { c.label.en }.to_owned())
    }
    fn categories(&self) -> Vec<(&'static str, &'static str)> {
        CATEGORIES.iter().map(|c| (c.id, if self.ctx.code() == "nl" { c.label.nl } else { c.label.en })).collect()
    }
    fn grounds(&self) -> Vec<(&'static str, String)> {
        LEGAL_GROUNDS
            .iter()
            .map(|g| {
                (
                    g.id,
                    format!(
                        "{} — {}",
                        g.reference_in(self.ctx.code()),
                        if self.ctx.code() == "nl" { g.label.nl } else { g.label.en }
                    ),
                )
            })
            .collect()
    }
    fn staydown_platforms(&self) -> Vec<&PlatformRecord> {
        self.platforms.iter().filter(|p| p.channel == PlatformChannel::Staydown).collect()
    }
    fn referral_kinds(&self) -> Vec<(&'static str, &'static str)> {
        ReferralKind::ALL.iter().map(|k| (k.as_str(), referral_key(k.as_str()))).collect()
    }
    fn default_category(&self, form: &str, id: &str) -> bool {
        if self.failed == form { self.typed.get("category") == id } else { id == "STATEMENT_CATEGORY_CYBER_VIOLENCE" }
    }
    fn default_ground(&self, form: &str, id: &str) -> bool {
        if self.failed == form { self.typed.get("legal_ground") == id } else { id == "nl-sr-254ba" }
    }
}

/// `?contact=1` shows the contact details (an audited view).
#[derive(Debug, Default, Deserialize)]
pub struct CaseQuery {
    /// Show the contact details (audited).
    #[serde(default)]
    contact: Option<String>,
}

pub(super) async fn case_page(
    state: &AppState,
    console: Console,
    id: &str,
    show_contact: bool,
    failed: &str,
    errors: Errors,
    typed: FormData,
) -> Result<Response, Response> {
    let err = |e: staydown_store::StoreError| crate::problem::ApiError::from(e).into_response();
    let apierr = |e: crate::problem::ApiError| e.into_response();
    let store = state.store();
    let case =
        store.help_case(id).await.map_err(err)?.ok_or_else(|| crate::problem::ApiError::NotFound.into_response())?;
    let contact = if show_contact {
        store
            .help_case_contact(id, &console.caller().principal(), state.now())
            .await
            .map_err(err)?
            .map(|c| (c.name.unwrap_or_default(), c.email.unwrap_or_default(), c.phone.unwrap_or_default()))
    } else {
        None
    };
    let platforms = store.helpline_platforms().await.map_err(err)?;
    let requests = store
        .helpline_case_requests(id)
        .await
        .map_err(err)?
        .into_iter()
        .map(|r| {
            let platform = platforms.iter().find(|p| p.id == r.platform_id);
            RequestRow {
                platform: platform.map_or_else(String::new, |p| p.name.clone()),
                web_form_url: platform.and_then(|p| p.web_form_url.clone()),
                r,
            }
        })
        .collect();
    let referrals = store
        .helpline_referrals(id)
        .await
        .map_err(err)?
        .into_iter()
        .map(|(k, at)| (console.ctx.t(referral_key(&k)), when(&console.ctx, at)))
        .collect();
    let evidence = api::case_evidence(state, id)
        .await
        .map_err(apierr)?
        .into_iter()
        .map(|b| EvidenceRow {
            kind: match b.kind.as_str() {
                "screenshot" => console.ctx.t("helpline-evidence-screenshot"),
                "evidence" => console.ctx.t("helpline-evidence-file"),
                other => other.to_owned(),
            },
            content_type: file_type(&console.ctx, &b.content_type),
            size: file_size(&console.ctx, b.size),
            sha256: b.sha256.clone(),
            stored: when(&console.ctx, b.created_at),
            erased: b.erased_at.is_some(),
        })
        .collect();
    let hashes = api::case_hashes(state, id)
        .await
        .map_err(apierr)?
        .into_iter()
        .map(|e| (e.pdq.unwrap_or_default(), e.sha256.unwrap_or_default(), when(&console.ctx, e.added_at)))
        .collect();
    let status =
        if failed.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    let page = CasePage {
        ctx: console.ctx,
        chrome: console.chrome,
        case,
        contact,
        requests,
        platforms,
        referrals,
        evidence,
        hashes,
        failed: failed.to_owned(),
        errors,
        typed,
        submission: crate::pages::once::new_submission(),
    };
    Ok((status, page).into_response())
}

/// The case page.
pub async fn show(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    case_page(&state, console, &id, q.contact.as_deref() == Some("1"), "", Errors::default(), FormData::default()).await
}

fn draft_of(form: &FormData, with_url: bool) -> RequestDraft {
    let keywords = form.all("keywords").into_iter().filter(|k| !k.trim().is_empty()).collect::<Vec<_>>();
    RequestDraft {
        platform: opt(form.get("platform")),
        url: if with_url { opt(form.get("url")) } else { None },
        category: opt(form.get("category")),
        keywords: Some(keywords).filter(|k| !k.is_empty()),
        legal_ground: opt(form.get("legal_ground")),
        explanation: opt(form.get("explanation")),
        minor_involved: None,
        ai_generated: None,
        language: None,
    }
}

/// `POST /staff/helpline/cases/{id}/requests`: a removal request, sent at once. Sent twice (a
/// double click, a reload of the answer), it is filed once and both land on the case page
/// (`pages::once`).
pub async fn add_request(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    let form = checked_form(&console, &body)?;
    let submission = form.get(crate::pages::once::FIELD);
    let (ctx, scope) = (console.ctx.clone(), format!("staff:/staff/helpline/cases/{id}/requests"));
    let filing = async {
        match api::create_request(&state, &console.caller().principal(), &id, draft_of(&form, true)).await {
            Ok(_) => see_other(&format!("/staff/helpline/cases/{id}#requests")),
            Err(e) => match form_errors(&console, e) {
                Ok(errors) => {
                    case_page(&state, console, &id, false, "request", errors, form).await.unwrap_or_else(|r| r)
                }
                Err(r) => r,
            },
        }
    };
    Ok(crate::pages::once::file_once(&state, &ctx, &scope, &submission, &body, filing).await)
}

/// `POST /staff/helpline/cases/{id}/hash-notices`: the case's pre-emptive hashes as one hash-only
/// notice to a platform running staydown.
pub async fn file_hash_notice(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    let form = checked_form(&console, &body)?;
    // Sent twice, the platform gets one notice (`pages::once`).
    let submission = form.get(crate::pages::once::FIELD);
    let (ctx, scope) = (console.ctx.clone(), format!("staff:/staff/helpline/cases/{id}/hash-notices"));
    let filing = async {
        match api::file_hashes(&state, &console.caller().principal(), &id, draft_of(&form, false)).await {
            Ok(_) => see_other(&format!("/staff/helpline/cases/{id}#requests")),
            Err(e) => match form_errors(&console, e) {
                Ok(errors) => {
                    case_page(&state, console, &id, false, "notice", errors, form).await.unwrap_or_else(|r| r)
                }
                Err(r) => r,
            },
        }
    };
    Ok(crate::pages::once::file_once(&state, &ctx, &scope, &submission, &body, filing).await)
}

/// The removal request a form on the case page is about (a readable 404 page when unknown, never
/// the API's problem+json).
#[allow(clippy::result_large_err, reason = "a page handler answers with a whole page either way")]
async fn request_of(state: &AppState, console: &Console, id: &str) -> Result<RequestRecord, Response> {
    match state.store().helpline_request(id).await {
        Ok(Some(request)) => Ok(request),
        Ok(None) => Err(console.message(axum::http::StatusCode::NOT_FOUND, crate::staff::pages::tk("staff-not-found"))),
        Err(e) => {
            tracing::warn!(error = %e, "a helpline request could not be read");
            Err(console
                .message(axum::http::StatusCode::SERVICE_UNAVAILABLE, crate::staff::pages::tk("staff-unavailable")))
        }
    }
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM`, or with seconds) as RFC 3339 in UTC, read in the
/// service's time zone (`[public] time_zone`; the hint names it), as the pages show times. A
/// time that the clock skips (the spring change) is read as the later offset's; any other text is
/// passed on as typed, for the API's own field error.
fn local_minute(ctx: &crate::pages::Ctx, form: &FormData, field: &str) -> Option<String> {
    let typed = opt(form.get(field))?;
    let local = typed.parse::<jiff::civil::DateTime>().ok();
    Some(
        local
            .and_then(|dt| dt.to_zoned_datetime(ctx.tz.clone()).ok())
            .map_or(typed, |z| z.timestamp().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
    )
}

/// After a form about one request: back to it on the case page, or the page again with the
/// form (`{form_name}-{id}`) showing its errors and what was typed.
async fn after_request_form<T>(
    state: &AppState,
    console: Console,
    request: &RequestRecord,
    form_name: &str,
    form: FormData,
    outcome: Result<T, crate::problem::ApiError>,
) -> Result<Response, Response> {
    let id = &request.id;
    match outcome {
        Ok(_) => Ok(see_other(&format!("/staff/helpline/cases/{}#request-{id}", request.case_id))),
        Err(e) => {
            let errors = form_errors(&console, e)?;
            case_page(state, console, &request.case_id, false, &format!("{form_name}-{id}"), errors, form).await
        }
    }
}

/// `POST /staff/helpline/requests/{id}/answer`: the platform's answer as the caseworker records it.
pub async fn record_answer(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    let form = checked_form(&console, &body)?;
    let request = request_of(&state, &console, &id).await?;
    let body = api::AnswerBody {
        state: opt(form.get("state")),
        at: local_minute(&console.ctx, &form, "at"),
        note: opt(form.get("note")),
    };
    let outcome = api::record_request_answer(&state, &console.caller().principal(), &id, body).await;
    after_request_form(&state, console, &request, "answer", form, outcome).await
}

/// `POST /staff/helpline/requests/{id}/sent`: the letter was posted or the web form filled in.
pub async fn mark_sent(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    let form = checked_form(&console, &body)?;
    let request = request_of(&state, &console, &id).await?;
    let body = api::SentBody { at: local_minute(&console.ctx, &form, "at") };
    let outcome = api::mark_request_sent(&state, &console.caller().principal(), &id, body).await;
    after_request_form(&state, console, &request, "sent", form, outcome).await
}

/// `POST /staff/helpline/requests/{id}/check`: checks the URL now.
pub async fn check_now(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    checked_form(&console, &body)?;
    let request = request_of(&state, &console, &id).await?;
    if let Err(e) = crate::helpline::check_request(&state, &request).await {
        tracing::warn!(error = %e, "a URL check from the case page failed");
        return Err(
            console.message(axum::http::StatusCode::SERVICE_UNAVAILABLE, crate::staff::pages::tk("staff-unavailable"))
        );
    }
    Ok(see_other(&format!("/staff/helpline/cases/{}#request-{id}", request.case_id)))
}

/// `POST /staff/helpline/cases/{id}/referrals`.
pub async fn refer(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    let form = checked_form(&console, &body)?;
    let kind = opt(form.get("kind"));
    // A second send of the same form (double click, reload) records one referral.
    let submission = form.get(crate::pages::once::FIELD);
    let (ctx, scope) = (console.ctx.clone(), format!("staff:/staff/helpline/cases/{id}/referrals"));
    let filing = async {
        match api::add_referral(&state, &console.caller().principal(), &id, kind.as_deref()).await {
            Ok(_) => see_other(&format!("/staff/helpline/cases/{id}#referrals")),
            Err(e) => match form_errors(&console, e) {
                Ok(errors) => {
                    case_page(&state, console, &id, false, "referral", errors, form).await.unwrap_or_else(|r| r)
                }
                Err(r) => r,
            },
        }
    };
    Ok(crate::pages::once::file_once(&state, &ctx, &scope, &submission, &body, filing).await)
}

/// `POST /staff/helpline/cases/{id}/hashes`: the hash sets the caseworker's browser made
/// (`hash` = `pdq,quality,sha256,md5`, as the public hash page sends them).
pub async fn add_hashes(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    let form = checked_form(&console, &body)?;
    let sets = form.all("hash");
    let mut errors = Errors::default();
    if sets.is_empty() {
        errors.add("hashes", console.ctx.t("helpline-hashes-none"));
    }
    for set in &sets {
        let mut parts = set.split(',').map(str::trim).map(|s| Some(s.to_owned()).filter(|s| !s.is_empty()));
        let (pdq, quality, sha256, md5) =
            (parts.next().flatten(), parts.next().flatten(), parts.next().flatten(), parts.next().flatten());
        let body = api::HashBody { pdq, quality: quality.and_then(|q| q.parse().ok()), sha256, md5 };
        if let Err(e) = api::add_preemptive_hash(&state, &console.caller().principal(), &id, body).await {
            for (f, m) in form_errors(&console, e)?.0 {
                errors.add(&f, m);
            }
        }
    }
    if errors.is_empty() {
        Ok(see_other(&format!("/staff/helpline/cases/{id}#hashes")))
    } else {
        case_page(&state, console, &id, false, "hashes", errors, form).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_times_are_read_in_the_service_time_zone() {
        let mut ctx = crate::pages::Ctx::new(crate::pages::Lang::En, String::new(), String::new(), "/", None);
        ctx.tz = jiff::tz::TimeZone::get("Europe/Amsterdam").expect("bundled");
        let at = |typed: &str| local_minute(&ctx, &FormData::parse(format!("at={typed}").as_bytes()), "at");
        assert_eq!(at("2026-11-30T10:28").as_deref(), Some("2026-11-30T09:28:00Z"), "winter: UTC+1");
        assert_eq!(at("2026-06-30T10:28").as_deref(), Some("2026-06-30T08:28:00Z"), "summer: UTC+2");
        assert_eq!(at("2026-06-30T10:28:15").as_deref(), Some("2026-06-30T08:28:15Z"));
        assert_eq!(at("soon").as_deref(), Some("soon"), "left for the API's field error");
        assert_eq!(at(""), None);
    }
}
