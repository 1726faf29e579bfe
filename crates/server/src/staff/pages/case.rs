//! `GET /staff/cases/{id}`: everything a reviewer needs to decide a case — the notices (source,
//! category, explanation, the notifiers' claims), locations, hashes, the bank matches that brought
//! screened uploads in, provenance signals beside the notifiers' claims, a timeline and the audit
//! entries. Notifier contact details stay hidden until "Reveal" (`POST …/notices/{n}/reveal`,
//! audited as `notifier.revealed`). Content on the case is served by a staff-only route
//! (`GET …/content/{item}`, each read in the custody log with its purpose) and shown blurred and in
//! grayscale until "Show" (`POST …/content/{item}/reveal`, then read with purpose `reveal`).
//! A reviewer can upload the content (`POST …/content`, the API's attach path) and mark an
//! Art. 18 threat to life or safety (`POST …/art18`, the API's notification path).
//!
//! The decision form on this page is `staff::pages::decide`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use staydown_store::NotifierContact;

use super::decide::{DecideForm, DecisionFields};
use super::queue::{category_label, source_key};
use super::{Chrome, Console, t, tk, when};
use crate::AppState;
use crate::auth::Permission;
use crate::pages::Ctx;
use crate::pages::form::Errors;
use crate::problem::ApiError;

/// A notice as the page shows it.
#[derive(Debug, Clone)]
pub struct NoticeView {
    pub id: String,
    pub received: String,
    pub source: &'static str,
    pub submitted_by: Option<String>,
    pub category: String,
    pub keywords: String,
    pub legal_ground: Option<String>,
    pub explanation: String,
    pub minor: String,
    pub ai_claim: String,
    pub generator_claim: Option<String>,
    pub locations: Vec<String>,
    pub hashes: Vec<String>,
    pub contact_given: bool,
}

/// A bank match of a screened upload.
#[derive(Debug, Clone)]
pub struct MatchView {
    pub bank: String,
    pub distance: String,
    pub action: String,
    /// Why the entry is in the bank (the decision or list that put it there).
    pub source: String,
}

/// A content item as the page shows it.
#[derive(Debug, Clone)]
pub struct ContentView {
    pub id: String,
    pub content_id: Option<String>,
    pub url: Option<String>,
    pub sha256: Option<String>,
    pub md5: Option<String>,
    pub pdq: Option<String>,
    pub quality: Option<u8>,
    pub ai_generated: Option<String>,
    pub generator: Option<String>,
    pub edited: Option<String>,
    pub stored: bool,
    pub matches: Vec<MatchView>,
}

/// One line of the timeline or the audit list.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: String,
    pub what: String,
    pub who: String,
}

/// A decision taken on the case.
#[derive(Debug, Clone)]
pub struct DecisionView {
    pub id: String,
    pub decided_at: String,
    pub decided_by: String,
    /// In force, reversed or replaced, in the page language.
    pub status: String,
    pub restrictions: Vec<&'static str>,
    /// "until 1 March 2027" for restrictions with an end date, in the page language.
    pub ends: Vec<String>,
    pub explanation: String,
    pub manifestly_unfounded: bool,
    /// The statement of reasons (Art. 17) as the uploader reads it, in the page language
    /// (restricting decisions only).
    pub statement: Option<String>,
}

/// The case page.
#[derive(Template, WebTemplate)]
#[template(path = "staff/case.html")]
pub struct CasePage {
    pub ctx: Ctx,
    pub chrome: Chrome,
    pub id: String,
    pub short: String,
    pub state: String,
    pub open: bool,
    pub priority: u8,
    pub deadline: String,
    pub overdue: bool,
    pub category: String,
    pub sources: Vec<&'static str>,
    pub opened: String,
    pub assignee: Option<String>,
    pub picked_up: Option<String>,
    pub notices: Vec<NoticeView>,
    pub content: Vec<ContentView>,
    pub decisions: Vec<DecisionView>,
    pub appeals: Vec<(String, String, String)>,
    pub timeline: Vec<Event>,
    pub audit: Vec<Event>,
    pub art18: Vec<Event>,
    pub flash: Option<String>,
    pub revealed_contact: Option<(String, NotifierContact)>,
    pub revealed_item: Option<String>,
    pub may_decide: bool,
    pub may_attach: bool,
    /// The decision form's fields, with what was typed and the errors.
    pub dform: DecisionFields,
    pub decide_general: Option<String>,
    pub upload_error: Option<String>,
    pub art18_errors: Errors,
    pub art18_typed: (String, String),
    /// Whether a law-enforcement contact is configured (without one the Art. 18 form is replaced
    /// by what to do instead).
    pub art18_contact: bool,
    /// Who holds the case when it is not the person looking (two people deciding one case).
    pub taken_by_other: Option<String>,
}

impl CasePage {
    fn art18_error(&self, field: &str) -> Option<&String> {
        self.art18_errors.get(field)
    }
    fn revealed(&self, notice: &str) -> Option<&NotifierContact> {
        self.revealed_contact.as_ref().filter(|(n, _)| n == notice).map(|(_, c)| c)
    }
    fn is_revealed(&self, item: &str) -> bool {
        self.revealed_item.as_deref() == Some(item)
    }
}

/// Catalogue keys of the visibility restrictions and the other restriction kinds.
pub fn restriction_key(value: &str) -> &'static str {
    match value {
        "removed" => t("staff-vis-removed"),
        "disabled" => t("staff-vis-disabled"),
        "demoted" => t("staff-vis-demoted"),
        "age_restricted" => t("staff-vis-age-restricted"),
        "interaction_restricted" => t("staff-vis-interaction-restricted"),
        "labelled" => t("staff-vis-labelled"),
        "suspended" => t("staff-account-suspended"),
        "terminated" => t("staff-account-terminated"),
        _ => t("staff-vis-other"),
    }
}

fn tristate_key(v: &str) -> &'static str {
    match v {
        "yes" => t("staff-yes"),
        "no" => t("staff-no"),
        _ => t("staff-unknown"),
    }
}

/// What the page shows besides the case itself.
#[derive(Debug, Default)]
pub struct Extras {
    pub flash: Option<String>,
    pub revealed_contact: Option<(String, NotifierContact)>,
    pub revealed_item: Option<String>,
    pub decide: Option<(DecideForm, Errors, Option<String>)>,
    pub upload_error: Option<String>,
    pub art18: Option<(Errors, (String, String))>,
}

/// Builds the case page (`None` for an unknown case).
pub async fn render(
    state: &AppState,
    console: &Console,
    id: &str,
    extras: Extras,
) -> Result<Option<CasePage>, ApiError> {
    let store = state.store();
    let Some(summary) = store.case_summary(id).await? else { return Ok(None) };
    let ctx = console.ctx.clone();
    let now = state.now();
    let mut who = super::names::Principals::load(store, &ctx).await?;
    let notices_raw = store.case_notices(id).await?;
    let notices: Vec<NoticeView> = notices_raw
        .iter()
        .map(|n| NoticeView {
            id: n.id.clone(),
            received: when(&ctx, n.received_at),
            source: source_key(n.source),
            submitted_by: n.submitted_by.as_deref().map(|p| who.name(p)),
            category: category_label(&ctx, &n.category),
            keywords: n
                .keywords
                .iter()
                .map(|k| {
                    staydown_domain::taxonomy::keyword(k).map_or_else(
                        || k.clone(),
                        |kw| if ctx.code() == "nl" { kw.label.nl.to_owned() } else { kw.label.en.to_owned() },
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            legal_ground: n.legal_ground.as_deref().map(|g| super::names::legal_ground(&ctx, g)),
            explanation: n.explanation.clone(),
            minor: ctx.t(tristate_key(&n.minor_involved)),
            ai_claim: ctx.t(tristate_key(&n.ai_generated_claim)),
            generator_claim: n.generator_claim.clone(),
            locations: n
                .locations
                .iter()
                .map(|l| {
                    [l.get("url"), l.get("content_id")]
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(" · ")
                })
                .collect(),
            hashes: n
                .hashes
                .iter()
                .flat_map(|h| {
                    ["pdq", "sha256", "md5"].into_iter().filter_map(move |k| {
                        h.get(k).and_then(|v| v.as_str()).map(|v| format!("{}: {v}", k.to_uppercase()))
                    })
                })
                .collect(),
            contact_given: n.notifier_contact_given,
        })
        .collect();
    let origins = store.content_item_origins(id).await?;
    let mut content = Vec::new();
    let mut blob_ids = Vec::new();
    for c in store.content_items_for_case(id).await? {
        let blob = origins.iter().find(|(i, _, _)| *i == c.id).and_then(|(_, _, b)| b.clone());
        let mut matches = Vec::new();
        if let Some(sid) = &c.screening_id
            && let Some(serde_json::Value::Array(list)) = store.screening_matches(sid).await?
        {
            for m in list {
                let bank = m.get("bank").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                let entry = m.get("entry_id").and_then(|v| v.as_str()).unwrap_or_default();
                let source = store
                    .bank_entry(&bank, entry)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|e| e.reason)
                    .unwrap_or_else(|| ctx.t("staff-case-unknown-source"));
                matches.push(MatchView {
                    distance: m.get("distance").map_or_else(|| "0".to_owned(), ToString::to_string),
                    action: m.get("action").and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
                    bank,
                    source,
                });
            }
        }
        if let Some(b) = &blob {
            blob_ids.push(b.clone());
        }
        content.push(ContentView {
            stored: blob.is_some(),
            id: c.id,
            content_id: c.content_id,
            url: c.url,
            sha256: c.sha256,
            md5: c.md5,
            pdq: c.pdq,
            quality: c.pdq_quality,
            ai_generated: c.ai_generated,
            generator: c.generator,
            edited: c.edited,
            matches,
        });
    }
    let decisions_raw = store.case_decisions(id).await?;
    let decisions = decisions_raw
        .iter()
        .map(|d| {
            let r = &d.decision.restrictions;
            let mut restrictions: Vec<&'static str> =
                r.visibility.iter().map(|v| restriction_key(v.as_str())).collect();
            if let Some(a) = r.account {
                restrictions.push(restriction_key(a.as_str()));
            }
            let mut ends = Vec::new();
            for (end, kind) in
                [(r.visibility_end, "staff-decide-visibility-end"), (r.account_end, "staff-decide-account-end")]
            {
                if let Some(end) = end {
                    ends.push(format!("{}: {}", ctx.t(kind), super::names::date(&ctx, end)));
                }
            }
            DecisionView {
                id: d.id.clone(),
                decided_at: when(&ctx, d.decided_at),
                decided_by: who.name(&d.decided_by),
                status: super::names::decision_status(&ctx, &d.status),
                restrictions,
                ends,
                explanation: d.decision.explanation.clone(),
                manifestly_unfounded: d.decision.manifestly_unfounded,
                statement: d.statement.as_ref().and_then(|s| s["text"][ctx.code()].as_str()).map(str::to_owned),
            }
        })
        .collect();
    let appeals_raw = store.case_appeals(id).await?;
    let appeals = appeals_raw
        .iter()
        .map(|a| {
            let state = a
                .outcome
                .map_or_else(|| ctx.t("staff-appeal-open"), |o| ctx.t(super::appeals::outcome_key(o.as_str())));
            (a.id.clone(), when(&ctx, a.received_at), state)
        })
        .collect();
    let (assignee, picked_at) = store.case_assignment(id).await?.unwrap_or((None, None));
    let picked_up = picked_at.map(|t| when(&ctx, t));
    // Timeline: what happened to the case, oldest first.
    let mut timeline = vec![(summary.created_at, ctx.t("staff-case-opened"), String::new())];
    for n in &notices_raw {
        timeline.push((
            n.received_at,
            ctx.ta("staff-case-notice-received", "source", ctx.t(source_key(n.source))),
            String::new(),
        ));
    }
    if let Some(at) = picked_at {
        timeline.push((at, ctx.t("staff-case-picked-up"), String::new()));
    }
    for d in &decisions_raw {
        timeline.push((d.decided_at, ctx.t("staff-case-decided"), who.name(&d.decided_by)));
    }
    for a in &appeals_raw {
        timeline.push((a.received_at, ctx.t("staff-case-appealed"), String::new()));
        if let (Some(at), Some(by)) = (a.decided_at, &a.decided_by) {
            timeline.push((at, ctx.t("staff-case-appeal-decided"), who.name(by)));
        }
    }
    timeline.sort_by_key(|(at, _, _)| *at);
    let timeline = timeline.into_iter().map(|(at, what, who)| Event { at: when(&ctx, at), what, who }).collect();
    // Audit entries about the case and its content's sealed bytes (reads included).
    let mut entries = store.audit_for(&format!("case:{id}")).await?;
    for b in &blob_ids {
        entries.extend(store.audit_for(&format!("blob:{b}")).await?);
    }
    entries.sort_by_key(|e| e.seq);
    let actors: Vec<String> = entries.iter().map(|e| e.actor.clone()).collect();
    who.learn_sessions(store, &ctx, &actors).await?;
    let audit = entries
        .into_iter()
        .map(|e| Event {
            at: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.at_ms) * 1_000_000)
                .map(|t| when(&ctx, t))
                .unwrap_or_default(),
            what: format!(
                "{} · {}",
                super::names::audit_action(&ctx, &e.action),
                super::names::audit_detail(&ctx, &e.detail)
            ),
            who: who.name(&e.actor),
        })
        .collect();
    let art18 = store
        .art18_notifications(Some(id))
        .await?
        .into_iter()
        .map(|a| Event { at: when(&ctx, a.marked_at), what: a.grounds, who: who.name(&a.marked_by) })
        .collect();
    let (decide, decide_errors, decide_general) = extras.decide.unwrap_or_default();
    let dform = DecisionFields::new(&ctx, decide, decide_errors);
    let (art18_errors, art18_typed) = extras.art18.unwrap_or_default();
    Ok(Some(CasePage {
        chrome: console.chrome.clone(),
        short: crate::staff::short_id(&summary.case_id),
        id: summary.case_id,
        state: super::names::case_state(&ctx, summary.state.as_str()),
        open: summary.state.is_open(),
        priority: summary.priority,
        deadline: when(&ctx, summary.deadline_at),
        overdue: summary.state.is_open() && summary.deadline_at < now,
        category: category_label(&ctx, &summary.category),
        sources: summary.sources.iter().map(|s| source_key(s.as_str())).collect(),
        opened: when(&ctx, summary.created_at),
        taken_by_other: assignee.as_deref().filter(|a| *a != console.session.principal()).map(|a| who.name(a)),
        assignee: assignee.map(|a| who.name(&a)),
        picked_up,
        notices,
        content,
        decisions,
        appeals,
        timeline,
        audit,
        art18,
        flash: extras.flash,
        revealed_contact: extras.revealed_contact,
        revealed_item: extras.revealed_item,
        may_decide: console.may(Permission::Decide),
        may_attach: console.may(Permission::AttachContent),
        dform,
        decide_general,
        upload_error: extras.upload_error,
        art18_errors,
        art18_typed,
        art18_contact: state.settings().law_enforcement_contact.is_some(),
        ctx,
    }))
}

/// Renders the page or the console's 404.
pub async fn respond(
    state: &AppState,
    console: &Console,
    id: &str,
    status: StatusCode,
    extras: Extras,
) -> Result<Response, ApiError> {
    Ok(match render(state, console, id, extras).await? {
        Some(page) => (status, page).into_response(),
        None => console.message(StatusCode::NOT_FOUND, tk("staff-not-found")),
    })
}

/// Query of the case page.
#[derive(Debug, Default, Deserialize)]
pub struct CaseQuery {
    /// `1` after taking the case.
    #[serde(default)]
    taken: Option<String>,
    /// After an action: `decided`, `uploaded`, `art18`.
    #[serde(default)]
    done: Option<String>,
    /// The language switch.
    #[serde(default)]
    #[allow(dead_code)]
    lang: Option<String>,
}

/// `GET /staff/cases/{id}`.
pub async fn show(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::ViewCase) {
        return Ok(refused);
    }
    let flash = match (q.taken.as_deref(), q.done.as_deref()) {
        (Some(_), _) => Some(console.ctx.t("staff-case-taken")),
        (_, Some("decided")) => Some(console.ctx.t("staff-case-decided-flash")),
        (_, Some("uploaded")) => Some(console.ctx.t("staff-case-uploaded")),
        (_, Some("art18")) => Some(console.ctx.t("staff-case-art18-sent")),
        _ => None,
    };
    respond(&state, &console, &id, StatusCode::OK, Extras { flash, ..Extras::default() }).await
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /staff/cases/{id}/notices/{notice}/reveal`: shows the notifier's contact details on this
/// answer only (not on later page loads), after writing the audit entry.
pub async fn reveal_notifier(
    State(state): State<AppState>,
    console: Console,
    Path((id, notice)): Path<(String, String)>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::ViewCase) {
        return Ok(refused);
    }
    if !console.csrf_ok(&form.csrf) {
        return Ok(console.csrf_refused());
    }
    let contact =
        state.store().reveal_notifier_contact(&id, &notice, &console.session.principal(), state.now()).await?;
    let Some(contact) = contact else { return Ok(console.message(StatusCode::NOT_FOUND, tk("staff-not-found"))) };
    respond(
        &state,
        &console,
        &id,
        StatusCode::OK,
        Extras { revealed_contact: Some((notice, contact)), ..Extras::default() },
    )
    .await
}

/// `POST /staff/cases/{id}/content/{item}/reveal`: the page again with that item shown unblurred
/// (its bytes are then read with purpose `reveal`, which the custody log records).
pub async fn reveal_content(
    State(state): State<AppState>,
    console: Console,
    Path((id, item)): Path<(String, String)>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::ViewCase) {
        return Ok(refused);
    }
    if !console.csrf_ok(&form.csrf) {
        return Ok(console.csrf_refused());
    }
    respond(&state, &console, &id, StatusCode::OK, Extras { revealed_item: Some(item), ..Extras::default() }).await
}

/// Query of the content route.
#[derive(Debug, Deserialize)]
pub struct ContentQuery {
    #[serde(default)]
    purpose: Option<String>,
}

/// The long side of the preview rendition, in pixels: too small to carry any detail a person could
/// recognise, so opening the preview on its own ("open image in new tab") shows no more than the
/// blurred page does. The original bytes leave only with purpose `reveal`.
pub const PREVIEW_SIDE: u32 = 24;

/// A grayscale PNG of the image, at most [`PREVIEW_SIDE`] pixels on its long side (area-averaged
/// by `image`'s thumbnail), or a plain grey pixel when the bytes are not an image staydown decodes.
fn preview_rendition(bytes: &[u8]) -> Vec<u8> {
    let small = staydown_media::decode_rgb(bytes, &staydown_media::DecodeLimits::default())
        .ok()
        .and_then(|d| image::RgbImage::from_raw(d.width, d.height, d.rgb))
        .map(|rgb| image::DynamicImage::ImageRgb8(rgb).grayscale().thumbnail(PREVIEW_SIDE, PREVIEW_SIDE))
        .unwrap_or_else(|| image::DynamicImage::ImageLuma8(image::GrayImage::from_pixel(1, 1, image::Luma([200]))));
    let mut png = std::io::Cursor::new(Vec::new());
    // Writing a PNG of at most 24×24 pixels into memory cannot fail short of allocation failure.
    let _ = small.to_luma8().write_to(&mut png, image::ImageFormat::Png);
    png.into_inner()
}

/// `GET /staff/cases/{id}/content/{item}?purpose=preview|reveal`: for `reveal`, the sealed bytes;
/// for `preview` (the default), a tiny grayscale rendition of an image ([`preview_rendition`]),
/// never the original. Each read goes through `server::blobs::open` (custody log entry
/// `blob.read` with the purpose).
pub async fn content(
    State(state): State<AppState>,
    console: Console,
    Path((id, item)): Path<(String, String)>,
    Query(q): Query<ContentQuery>,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::ViewCase) {
        return Ok(refused);
    }
    let purpose = if q.purpose.as_deref() == Some("reveal") { "reveal" } else { "preview" };
    let blob = match state.store().content_item_blob(&id, &item).await {
        Ok(b) => b,
        Err(staydown_store::StoreError::NotFound) => {
            return Ok(console.message(StatusCode::NOT_FOUND, tk("staff-not-found")));
        }
        Err(e) => return Err(e.into()),
    };
    let (meta, bytes) = crate::blobs::open(&state, &blob, &console.session.principal(), purpose).await?;
    // Only image types render inline; anything else is offered as an opaque download.
    let image = meta.content_type.starts_with("image/") && !meta.content_type.contains("svg");
    let preview = image && purpose == "preview";
    let bytes = if preview {
        tokio::task::spawn_blocking(move || preview_rendition(&bytes))
            .await
            .map_err(|e| ApiError::Internal(format!("preview task failed: {e}")))?
    } else {
        bytes
    };
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        if preview {
            HeaderValue::from_static("image/png")
        } else if image {
            HeaderValue::from_str(&meta.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"))
        } else {
            HeaderValue::from_static("application/octet-stream")
        },
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(if image { "inline" } else { "attachment" }));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    Ok(response)
}

/// `POST /staff/cases/{id}/content` (multipart: `csrf`, `file`, optional `content_id`, `url`): a
/// reviewer attaches the content, through the API's attach path.
pub async fn upload(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::AttachContent) {
        return Ok(refused);
    }
    let (mut csrf, mut file, mut content_type, mut content_id, mut url) = (String::new(), None, None, None, None);
    let unreadable = |console: &Console| Extras {
        upload_error: Some(console.ctx.t("staff-upload-unreadable")),
        ..Extras::default()
    };
    // Over the route's body limit (the same bound as the API's attach route): say so with the
    // limit, not "could not be read".
    let too_large = |console: &Console| {
        let limit = state.settings().screen_body_limit.max(state.settings().body_limit);
        let mb = (limit as f64 / 1_000_000.0).floor().max(1.0);
        Extras { upload_error: Some(console.ctx.ta("staff-upload-too-large", "mb", mb)), ..Extras::default() }
    };
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return respond(&state, &console, &id, e.status(), too_large(&console)).await;
            }
            Err(_) => return respond(&state, &console, &id, StatusCode::BAD_REQUEST, unreadable(&console)).await,
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            content_type = field.content_type().map(str::to_owned);
            match field.bytes().await {
                Ok(b) => file = Some(b),
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return respond(&state, &console, &id, e.status(), too_large(&console)).await;
                }
                Err(_) => return respond(&state, &console, &id, StatusCode::BAD_REQUEST, unreadable(&console)).await,
            }
        } else {
            let Ok(text) = field.text().await else {
                return respond(&state, &console, &id, StatusCode::BAD_REQUEST, unreadable(&console)).await;
            };
            let text = text.trim().to_owned();
            match name.as_str() {
                "csrf" => csrf = text,
                "content_id" if !text.is_empty() => content_id = Some(text),
                "url" if !text.is_empty() => url = Some(text),
                _ => {}
            }
        }
        // The token comes first in the form; stop reading a forged body before the file.
        if name != "csrf" && !console.csrf_ok(&csrf) {
            return Ok(console.csrf_refused());
        }
    }
    if !console.csrf_ok(&csrf) {
        return Ok(console.csrf_refused());
    }
    let bad_text = |t: &Option<String>| t.as_ref().is_some_and(|t| t.len() > 2048 || t.chars().any(char::is_control));
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let extras = Extras { upload_error: Some(console.ctx.t("staff-upload-no-file")), ..Extras::default() };
        return respond(&state, &console, &id, StatusCode::UNPROCESSABLE_ENTITY, extras).await;
    };
    if bad_text(&content_id) || bad_text(&url) {
        let extras = Extras { upload_error: Some(console.ctx.t("staff-upload-bad-text")), ..Extras::default() };
        return respond(&state, &console, &id, StatusCode::UNPROCESSABLE_ENTITY, extras).await;
    }
    let principal = console.session.principal();
    match crate::api::content::attach_bytes(
        &state,
        &principal,
        &id,
        bytes.to_vec(),
        content_type,
        content_id.as_deref(),
        url.as_deref(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/staff/cases/{id}?done=uploaded#content")).into_response()),
        Err(ApiError::NotFound) => Ok(console.message(StatusCode::NOT_FOUND, tk("staff-not-found"))),
        Err(ApiError::NotConfigured(_)) => {
            let extras = Extras { upload_error: Some(console.ctx.t("staff-upload-no-vault")), ..Extras::default() };
            respond(&state, &console, &id, StatusCode::SERVICE_UNAVAILABLE, extras).await
        }
        Err(ApiError::Validation(_)) => {
            let extras = Extras { upload_error: Some(console.ctx.t("staff-upload-too-slow")), ..Extras::default() };
            respond(&state, &console, &id, StatusCode::UNPROCESSABLE_ENTITY, extras).await
        }
        Err(e) => Err(e),
    }
}

/// The Art. 18 form.
#[derive(Debug, Deserialize)]
pub struct Art18Form {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    grounds: String,
    #[serde(default)]
    explanation: String,
}

/// `POST /staff/cases/{id}/art18`: the API's Art. 18 notification, from the page.
pub async fn art18(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Form(form): Form<Art18Form>,
) -> Result<Response, ApiError> {
    if let Some(refused) = console.refusal(Permission::Decide) {
        return Ok(refused);
    }
    if !console.csrf_ok(&form.csrf) {
        return Ok(console.csrf_refused());
    }
    let explanation = form.explanation.trim().to_owned();
    match crate::api::art18::notify_case(&state, &console.caller(), &id, form.grounds.clone(), &explanation).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/cases/{id}?done=art18")).into_response()),
        Err(ApiError::Validation(errors)) => {
            let mut e = Errors::default();
            for fe in &errors.0 {
                let key = if fe.field == "grounds" {
                    t("staff-art18-grounds-error")
                } else {
                    t("staff-art18-explanation-error")
                };
                e.add(&fe.field, console.ctx.t(key));
            }
            let extras = Extras { art18: Some((e, (form.grounds, explanation))), ..Extras::default() };
            respond(&state, &console, &id, StatusCode::UNPROCESSABLE_ENTITY, extras).await
        }
        Err(ApiError::NotConfigured(_)) => {
            let mut e = Errors::default();
            e.add("grounds", console.ctx.t("staff-art18-not-configured"));
            let extras = Extras { art18: Some((e, (form.grounds, explanation))), ..Extras::default() };
            respond(&state, &console, &id, StatusCode::SERVICE_UNAVAILABLE, extras).await
        }
        Err(ApiError::NotFound) => Ok(console.message(StatusCode::NOT_FOUND, tk("staff-not-found"))),
        Err(e) => Err(e),
    }
}
