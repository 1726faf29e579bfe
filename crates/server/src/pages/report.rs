//! `/report`: a notice (DSA Art. 16) in plain words, without JavaScript, and its confirmation.
//!
//! The person chooses what is wrong in plain words ([`Choice`]); this module maps the choice (and
//! the "a minor is involved" and "made with AI" answers) to the Transparency Database category and
//! keyword (`domain::taxonomy`) and a legal ground (`domain::legal_grounds`) — the person never
//! sees those codes. The notice goes through `api::notices::file_notice`, the API's own intake
//! path, under the API's rate limit for anonymous notices. Validation problems come back as
//! messages beside the fields, in the person's language, with everything typed kept.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{ConnectInfo, Path, Query, RawForm, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use staydown_domain::notice::{HashesDraft, LocationDraft, NoticeDraft, NotifierDraft, OneOrMany, Tristate};
use staydown_domain::validation::FieldErrors;
use time::OffsetDateTime;

use super::form::{Errors, FormData};
use super::{Ctx, csrf, errors};
use crate::AppState;
use crate::api::notices::file_notice;
use crate::auth::Caller;
use crate::problem::ApiError;

/// What is wrong, in the words the form offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Real intimate images shared without consent.
    Intimate,
    /// Fake (AI-made, edited) sexual images of a real person.
    Deepfake,
    /// Threats to share intimate images (sextortion).
    Threat,
    /// Sexual images of someone under 18.
    Minor,
}

impl Choice {
    /// Every choice, in the form's order.
    pub const ALL: [Choice; 4] = [Choice::Intimate, Choice::Deepfake, Choice::Threat, Choice::Minor];

    /// Form value.
    pub fn value(self) -> &'static str {
        match self {
            Choice::Intimate => "intimate",
            Choice::Deepfake => "deepfake",
            Choice::Threat => "threat",
            Choice::Minor => "minor",
        }
    }

    fn parse(s: &str) -> Option<Choice> {
        Choice::ALL.into_iter().find(|c| c.value() == s)
    }

    /// Catalogue key of its label.
    pub fn label_key(self) -> &'static str {
        match self {
            Choice::Intimate => "report-what-intimate",
            Choice::Deepfake => "report-what-deepfake",
            Choice::Threat => "report-what-threat",
            Choice::Minor => "report-what-minor",
        }
    }

    /// Catalogue key of its hint.
    pub fn hint_key(self) -> &'static str {
        match self {
            Choice::Intimate => "report-what-intimate-hint",
            Choice::Deepfake => "report-what-deepfake-hint",
            Choice::Threat => "report-what-threat-hint",
            Choice::Minor => "report-what-minor-hint",
        }
    }
}

/// The Transparency Database category, keyword and legal ground for a plain-words answer.
/// A minor involved always leads to the child-sexual-abuse path (urgent, Art. 16(2)(c) anonymity);
/// "made with AI" picks the deepfake keyword.
pub fn classify(choice: Choice, minor: Tristate, ai: Tristate) -> (&'static str, &'static str, &'static str) {
    let ai = ai == Tristate::Yes;
    if choice == Choice::Minor || minor == Tristate::Yes {
        let kw =
            if ai { "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE" } else { "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL" };
        return ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", kw, "nl-sr-252");
    }
    match choice {
        Choice::Deepfake => {
            ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE", "nl-sr-254ba")
        }
        Choice::Intimate if ai => {
            ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE", "nl-sr-254ba")
        }
        Choice::Threat => ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_CYBER_HARASSMENT", "nl-sr-318"),
        Choice::Intimate | Choice::Minor => {
            ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", "nl-sr-254ba")
        }
    }
}

fn tristate(s: &str) -> Tristate {
    match s {
        "yes" => Tristate::Yes,
        "no" => Tristate::No,
        _ => Tristate::Unknown,
    }
}

/// What the person typed, kept across an error.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// Where: one URL or content id per line.
    pub locations: String,
    /// The choice's form value.
    pub what: String,
    /// Explanation.
    pub explanation: String,
    /// `yes` / `no` / `unknown`.
    pub ai: String,
    /// Which app.
    pub generator: String,
    /// `yes` / `no` / `unknown`.
    pub minor: String,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// The good-faith box.
    pub good_faith: bool,
    /// Hash sets (hash-only reports): `pdq,quality,sha256,md5` each.
    pub hashes: Vec<String>,
    /// Videos fingerprinted in the browser (hash-only reports, issue 17): an optional first line
    /// `sha256=<hex>`, then the vPDQ lines (`frame,quality,pdq_hex,timestamp`).
    pub videos: Vec<String>,
}

impl Typed {
    fn from_form(f: &FormData) -> Typed {
        Typed {
            locations: f.get("locations"),
            what: f.get("what"),
            explanation: f.get("explanation"),
            ai: f.get("ai"),
            generator: f.get("generator"),
            minor: f.get("minor"),
            name: f.get("name"),
            email: f.get("email"),
            good_faith: f.get("good_faith") == "yes",
            hashes: f.all("hash").into_iter().filter(|h| !h.trim().is_empty()).collect(),
            videos: f.all("video").into_iter().filter(|v| !v.trim().is_empty()).collect(),
        }
    }

    /// Whether a radio button is the chosen one.
    pub fn is(&self, field: &str, value: &str) -> bool {
        let v = match field {
            "what" => &self.what,
            "ai" => &self.ai,
            "minor" => &self.minor,
            _ => return false,
        };
        v == value
    }

    /// The hash set lines split for display: (pdq, quality, sha256, md5).
    pub fn hash_rows(&self) -> Vec<(String, String, String, String)> {
        self.hashes
            .iter()
            .map(|h| {
                let mut p = h.split(',').map(|s| s.trim().to_owned());
                (
                    p.next().unwrap_or_default(),
                    p.next().unwrap_or_default(),
                    p.next().unwrap_or_default(),
                    p.next().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The videos split for display: (frames, sha256).
    pub fn video_rows(&self) -> Vec<(usize, String)> {
        self.videos
            .iter()
            .map(|v| {
                let (sha256, vpdq) = split_video(v);
                (vpdq.lines().filter(|l| !l.trim().is_empty()).count(), sha256.unwrap_or_default().to_owned())
            })
            .collect()
    }

    fn draft(&self, ctx: &Ctx, hash_only: bool) -> NoticeDraft {
        let choice = Choice::parse(&self.what);
        let minor = tristate(&self.minor);
        let ai = tristate(&self.ai);
        let classified = choice.map(|c| classify(c, minor, ai));
        let locations: Vec<LocationDraft> = self
            .locations
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                if l.contains("://") || l.starts_with("www.") {
                    LocationDraft { url: Some(l.to_owned()), content_id: None }
                } else {
                    LocationDraft { url: None, content_id: Some(l.to_owned()) }
                }
            })
            .collect();
        let hashes: Vec<HashesDraft> = self
            .hash_rows()
            .into_iter()
            .map(|(pdq, q, sha256, md5)| HashesDraft {
                pdq: Some(pdq).filter(|s| !s.is_empty()),
                pdq_quality: q.parse().ok(),
                sha256: Some(sha256).filter(|s| !s.is_empty()),
                md5: Some(md5).filter(|s| !s.is_empty()),
                vpdq: None,
            })
            .chain(self.videos.iter().map(|v| {
                let (sha256, vpdq) = split_video(v);
                HashesDraft { sha256: sha256.map(str::to_owned), vpdq: Some(vpdq.to_owned()), ..Default::default() }
            }))
            .collect();
        let explanation = if self.explanation.is_empty() && hash_only {
            // A hash-only report's plain-words choice is its explanation unless the person adds one.
            choice.map(|c| ctx.t(c.label_key()))
        } else {
            Some(self.explanation.clone())
        };
        NoticeDraft {
            locations: Some(locations),
            explanation,
            category: classified.map(|c| c.0.to_owned()),
            keywords: classified.map(|c| vec![c.1.to_owned()]),
            legal_ground: classified.map(|c| c.2.to_owned()),
            notifier: Some(NotifierDraft { name: Some(self.name.clone()), email: Some(self.email.clone()) }),
            good_faith: Some(self.good_faith),
            minor_involved: Some(minor),
            ai_generated: Some(ai),
            generator: Some(self.generator.clone()),
            hashes: (!hashes.is_empty()).then_some(OneOrMany::Many(hashes)),
            order: None,
            language: Some(ctx.lang.domain()),
        }
    }
}

/// Splits a `video` form value into its optional `sha256=<hex>` first line and the vPDQ.
fn split_video(v: &str) -> (Option<&str>, &str) {
    let v = v.trim_start();
    match v.strip_prefix("sha256=") {
        Some(rest) => {
            let (digest, vpdq) = rest.split_once('\n').unwrap_or((rest, ""));
            (Some(digest.trim()).filter(|d| !d.is_empty()), vpdq)
        }
        None => (None, v),
    }
}

/// The report form (full or hash-only).
#[derive(Template, WebTemplate)]
#[template(path = "views/report.html")]
pub struct ReportPage {
    ctx: Ctx,
    typed: Typed,
    errors: Errors,
    /// A problem that belongs to no field (expired form, rate limit, suspension).
    general: Option<String>,
    hash_only: bool,
    /// This form's submission value (`pages::once`): a second send of the same form files nothing.
    submission: String,
    choices: [Choice; 4],
    /// The longest explanation accepted, in characters (also the textarea's `maxlength`).
    max_explanation: usize,
    /// The longest name, e-mail or app name accepted, in characters.
    max_short: usize,
    max_explanation_text: String,
    max_locations_text: String,
}

/// The fields of the report forms from top to bottom: the error summary lists errors in this order.
const FORM_ORDER: [&str; 8] =
    ["photos", "locations", "what", "explanation", "generator", "name", "email", "good_faith"];

impl ReportPage {
    fn new(mut ctx: Ctx, hash_only: bool) -> ReportPage {
        ctx.switch_form = Some(FORM_ID);
        ReportPage {
            typed: Typed::default(),
            errors: Errors::default(),
            general: None,
            hash_only,
            submission: super::once::new_submission(),
            choices: Choice::ALL,
            max_explanation: staydown_domain::notice::MAX_EXPLANATION_CHARS,
            max_short: staydown_domain::notice::MAX_SHORT_TEXT,
            max_explanation_text: ctx_number(&ctx, staydown_domain::notice::MAX_EXPLANATION_CHARS),
            max_locations_text: ctx_number(&ctx, staydown_domain::notice::MAX_LOCATIONS),
            ctx,
        }
    }
    fn summary(&self) -> Vec<(String, String)> {
        self.errors.in_form_order(&FORM_ORDER)
    }
    fn error(&self, field: &str) -> Option<String> {
        self.errors.get(field).cloned()
    }
    fn invalid(&self, field: &str) -> &'static str {
        if self.errors.get(field).is_some() { "field invalid" } else { "field" }
    }
    fn action(&self) -> &'static str {
        if self.hash_only { "/report/hashes" } else { "/report" }
    }
}

/// A count written the way the page's language groups digits ("10,000" / "10.000").
fn ctx_number(ctx: &Ctx, n: usize) -> String {
    let digits = n.to_string();
    let sep = if ctx.lang == super::Lang::Nl { '.' } else { ',' };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// `GET /report`.
pub async fn form(ctx: Ctx) -> ReportPage {
    ReportPage::new(ctx, false)
}

/// `GET /report/hashes`.
pub async fn hashes_form(ctx: Ctx) -> ReportPage {
    ReportPage::new(ctx, true)
}

/// The `id` of the report forms (the language switch sends it back: `Ctx::switch_form`).
const FORM_ID: &str = "report-form";

/// `POST /report`.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    RawForm(body): RawForm,
) -> Response {
    file(&state, ctx, &headers, peer, &body, false).await
}

/// `POST /report/hashes`.
pub async fn submit_hashes(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    RawForm(body): RawForm,
) -> Response {
    file(&state, ctx, &headers, peer, &body, true).await
}

async fn file(
    state: &AppState,
    ctx: Ctx,
    headers: &HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: &[u8],
    hash_only: bool,
) -> Response {
    let form = FormData::parse(body);
    let mut page = ReportPage::new(ctx, hash_only);
    page.typed = Typed::from_form(&form);
    // The language switch: the same form again in the chosen language (the address's `lang`),
    // with everything typed and nothing checked or filed.
    if !form.get("switch_lang").is_empty() {
        let submission = form.get(super::once::FIELD);
        if super::once::well_formed(&submission) {
            page.submission = submission;
        }
        return page.into_response();
    }
    if !csrf::verify_anonymous(headers, &form.get(csrf::FIELD)) {
        page.general = Some(page.ctx.t("form-expired"));
        return (StatusCode::BAD_REQUEST, page).into_response();
    }
    if hash_only && page.typed.hashes.is_empty() && page.typed.videos.is_empty() {
        // Sent from a browser with JavaScript off (the form's `<noscript>` field): no fingerprint
        // can ever be made there, so say so rather than "wait until it is ready".
        let key = if form.get("nojs") == "1" { "report-err-photos-nojs" } else { "report-err-photos" };
        page.errors.add("photos", page.ctx.t(key));
    }
    if Choice::parse(&page.typed.what).is_none() {
        page.errors.add("what", page.ctx.t("report-err-what"));
    }
    // The API's limit for anonymous notices, per client address (forwarded behind trusted proxies,
    // per /64 for IPv6: `server::client`).
    if let Some(key) = crate::limiter_key_of(state, peer.map(|Extension(ConnectInfo(a))| a), headers)
        && state.intake_limiter().check_key(&key).is_err()
    {
        page.general = Some(page.ctx.t("error-429-text"));
        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "60")], page).into_response();
    }
    let submission = form.get(super::once::FIELD);
    if super::once::well_formed(&submission) {
        page.submission = submission.clone();
    }
    let scope = if hash_only { "page:/report/hashes" } else { "page:/report" };
    let ctx = page.ctx.clone();
    super::once::file_once(state, &ctx, scope, &submission, body, file_checked(state, page, hash_only)).await
}

/// Files a report form that passed the form's own checks.
async fn file_checked(state: &AppState, mut page: ReportPage, hash_only: bool) -> Response {
    let draft = page.typed.draft(&page.ctx, hash_only);
    match file_notice(state, &Caller { key: None }, draft).await {
        // The form's own checks (a choice, photos) are also domain requirements, so an accepted
        // notice never leaves a form error behind.
        Ok(filed) => {
            let to = format!("/report/received/{}?token={}", filed.id, filed.tracking_token);
            Redirect::to(&to).into_response()
        }
        Err(ApiError::Validation(fields)) => {
            map_errors(&mut page, &fields);
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(ApiError::NotifierSuspended { until, .. }) => {
            page.general = Some(page.ctx.ta("report-suspended", "until", until.get(..10).unwrap_or(&until)));
            (StatusCode::FORBIDDEN, page).into_response()
        }
        Err(e) => {
            tracing::error!(error = ?e, "filing a notice from the report page failed");
            errors::page(&page.ctx, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// Maps the domain's field errors to the form's fields and messages.
fn map_errors(page: &mut ReportPage, fields: &FieldErrors) {
    for e in &fields.0 {
        let f = e.field.as_str();
        let (field, key) = if f.starts_with("locations") {
            let key = if page.hash_only {
                "report-err-photos"
            } else if e.code == "required" {
                "report-err-locations"
            } else {
                "report-err-location-invalid"
            };
            (if page.hash_only { "photos" } else { "locations" }, key)
        } else if f.starts_with("hashes") {
            ("photos", "report-err-hashes")
        } else if f == "explanation" && e.code == "required" && page.hash_only {
            // On the hash-only form the explanation is optional: the plain-words choice stands in
            // for it, so a missing explanation only means no choice was made ("what" says so).
            ("what", "report-err-what")
        } else if f == "explanation" {
            ("explanation", if e.code == "required" { "report-err-explanation" } else { "report-err-too-long" })
        } else if f == "category" || f.starts_with("keywords") || f == "legal_ground" {
            ("what", "report-err-what")
        } else if f == "notifier.name" {
            ("name", if e.code == "required" { "report-err-name" } else { "report-err-too-long" })
        } else if f == "notifier.email" {
            ("email", if e.code == "required" { "report-err-email" } else { "report-err-email-invalid" })
        } else if f == "good_faith" {
            ("good_faith", "report-err-good-faith")
        } else if f == "generator" {
            ("generator", "report-err-too-long")
        } else {
            ("general", "error-400-text")
        };
        let message = page.ctx.t(key);
        if field == "general" {
            page.general.get_or_insert(message);
        } else {
            page.errors.add(field, message);
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// The confirmation page.
#[derive(Template, WebTemplate)]
#[template(path = "views/received.html")]
pub struct Received {
    ctx: Ctx,
    id: String,
    tracking_url: String,
    received: String,
    deadline: String,
    /// Whether the report gave an e-mail address (a confirmation is sent and the decision will be).
    by_email: bool,
}

/// `GET /report/received/{id}?token=…`: the case code, the tracking link and what happens next.
pub async fn received(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let token = q.token.unwrap_or_default();
    let status = match state.store().notice_status(&id, &staydown_domain::secret_digest(&token)).await {
        Ok(Some(s)) => s,
        Ok(None) => return errors::page(&ctx, StatusCode::NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "confirmation page");
            return errors::page(&ctx, StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let urgent = status.keywords.iter().any(|k| k.starts_with("KEYWORD_CHILD_SEXUAL_ABUSE"));
    let policy = state.policy();
    let tier = if urgent { policy.urgent } else { policy.standard };
    let deadline = status.received_at + tier.deadline;
    Received {
        tracking_url: format!("{}{}", state.settings().public_url, super::track::url(&id, &token)),
        received: ctx.when(status.received_at),
        deadline: ctx.when(deadline),
        by_email: status.confirmation_expected,
        id,
        ctx,
    }
    .into_response()
}

/// `YYYY-MM-DD HH:MM UTC`.
pub fn datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}
