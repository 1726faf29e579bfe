//! `/staff/banks`: the hash banks (issue 5, 12) — list and create, a bank's settings (action and
//! PDQ threshold), its entries with where each came from (the decision that banked it, or the
//! import), import and export in the `staydown bank import|export` formats (`bank_formats`), and
//! the screenings that recently matched it. Admins only (`Permission::ManageBanks`, as the API).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use staydown_domain::bank::{BankAction, BankProvenance};
use staydown_store::{Bank, BankEntry, BankMatchRecord};

use super::{Problem, done, notice, problems, t, tk, when};
use crate::AppState;
use crate::auth::Permission;
use crate::bank_formats::{self, Format};
use crate::json::ApiJson;
use crate::pages::Ctx;
use crate::staff::pages::{Chrome, Console};

/// Largest import file the page accepts (bytes); bigger lists go through `staydown bank import`.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// Entries per page.
const PAGE: i64 = 100;

/// Bad lines of an import shown on the page (the rest are counted).
const SHOWN_LINE_ERRORS: usize = 20;

/// What the create form holds (kept when it is shown again).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BankForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    provenance: String,
    #[serde(default)]
    dihedral: Option<String>,
}

/// `/staff/banks`.
#[derive(Template, WebTemplate)]
#[template(path = "staff/banks.html")]
pub struct BanksPage {
    ctx: Ctx,
    chrome: Chrome,
    banks: Vec<Bank>,
    form: BankForm,
    errors: Vec<Problem>,
    notice: Option<&'static str>,
}

impl BanksPage {
    fn invalid(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }
    fn actions(&self) -> Vec<&'static str> {
        BankAction::ALL.iter().map(|a| a.as_str()).collect()
    }
    fn provenances(&self) -> Vec<&'static str> {
        BankProvenance::ALL.iter().map(|p| p.as_str()).collect()
    }
    fn action_label(&self, a: &str) -> String {
        super::action_label(&self.ctx, a)
    }
    fn provenance_label(&self, p: &str) -> String {
        super::provenance_label(&self.ctx, p)
    }
}

/// `?done=` after a change.
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
    added: Option<usize>,
    duplicates: Option<usize>,
    after: Option<i64>,
}

async fn list_page(
    state: &AppState,
    console: Console,
    form: BankForm,
    errors: Vec<Problem>,
    done: Option<&str>,
) -> Response {
    let banks = match state.store().banks().await {
        Ok(b) => b,
        Err(e) => return super::failure(&console, &e.into()),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let notice = notice(done, &[("created", t("staff-admin-bank-created"))]);
    (status, BanksPage { ctx: console.ctx, chrome: console.chrome, banks, form, errors, notice }).into_response()
}

/// `GET /staff/banks`.
pub async fn list(State(state): State<AppState>, console: Console, Query(q): Query<DoneQuery>) -> Response {
    if let Some(r) = console.refusal(Permission::ManageBanks) {
        return r;
    }
    let form = BankForm {
        action: "hold".into(),
        threshold: "31".into(),
        provenance: "external_list".into(),
        ..BankForm::default()
    };
    list_page(&state, console, form, Vec::new(), q.done.as_deref()).await
}

/// `POST /staff/banks`: creates a bank through the API's handler (same validation).
pub async fn create(State(state): State<AppState>, console: Console, Form(form): Form<BankForm>) -> Response {
    if let Some(r) = console.refusal(Permission::ManageBanks) {
        return r;
    }
    if !console.csrf_ok(&form.csrf) {
        return console.csrf_refused();
    }
    let mut errors = Vec::new();
    let threshold = match form.threshold.trim().parse::<u8>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(Problem::new(&console.ctx, "threshold", t("staff-admin-err-threshold")));
            None
        }
    };
    let action = BankAction::parse(&form.action);
    if action.is_none() {
        errors.push(Problem::new(&console.ctx, "action", t("staff-admin-err-action")));
    }
    let provenance = BankProvenance::parse(&form.provenance);
    if provenance.is_none() {
        errors.push(Problem::new(&console.ctx, "provenance", t("staff-admin-err-provenance")));
    }
    if !errors.is_empty() {
        return list_page(&state, console, form, errors, None).await;
    }
    let draft = serde_json::json!({
        "name": form.name.trim(),
        "description": form.description.trim(),
        "action": action.map(BankAction::as_str),
        "threshold": threshold,
        "provenance": provenance.map(BankProvenance::as_str),
        "dihedral": form.dihedral.is_some(),
    });
    let draft = match serde_json::from_value(draft) {
        Ok(d) => d,
        Err(e) => {
            let errors = vec![Problem::text(&console.ctx, "", e.to_string())];
            return list_page(&state, console, form, errors, None).await;
        }
    };
    match crate::api::banks::create(State(state.clone()), console.caller(), ApiJson(draft)).await {
        Ok(_) => done(&format!("/staff/banks/{}", form.name.trim()), "created"),
        Err(e) => match problems(&console.ctx, &e) {
            Some(errors) => list_page(&state, console, form, errors, None).await,
            None => super::failure(&console, &e),
        },
    }
}

/// One bank.
#[derive(Template, WebTemplate)]
#[template(path = "staff/bank.html")]
pub struct BankPage {
    ctx: Ctx,
    chrome: Chrome,
    bank: Bank,
    entries: Vec<BankEntry>,
    next_after: Option<i64>,
    matches: Vec<BankMatchRecord>,
    errors: Vec<Problem>,
    more_errors: usize,
    notice: Option<String>,
    formats: Vec<&'static str>,
    actions: Vec<&'static str>,
    /// Who added each entry, by name (`principal → name`).
    who: std::collections::HashMap<String, String>,
}

impl BankPage {
    fn action_label(&self, a: &str) -> String {
        super::action_label(&self.ctx, a)
    }
    fn provenance_label(&self, p: &str) -> String {
        super::provenance_label(&self.ctx, p)
    }
    /// A screening's outcome (`block`, `hold`, `allow`, `flag`) in the page language.
    fn verdict_label(&self, v: &str) -> String {
        match v {
            "block" => self.ctx.t("staff-admin-verdict-block"),
            "hold" => self.ctx.t("staff-admin-verdict-hold"),
            "allow" => self.ctx.t("staff-admin-verdict-allow"),
            "flag" => self.ctx.t("staff-admin-verdict-flag"),
            other => other.to_owned(),
        }
    }
    /// An exchange format's name for people (`csv` → "CSV", `te` → "ThreatExchange …").
    fn format_label(&self, f: &str) -> String {
        match f {
            "csv" => self.ctx.t("staff-admin-format-csv"),
            "json" => self.ctx.t("staff-admin-format-json"),
            "te" => self.ctx.t("staff-admin-format-te"),
            other => other.to_owned(),
        }
    }
    fn added_by(&self, principal: &str) -> String {
        self.who.get(principal).cloned().unwrap_or_else(|| principal.to_owned())
    }
    fn when(&self, t: &time::OffsetDateTime) -> String {
        when(&self.ctx, *t)
    }
    fn dash(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "–".to_owned())
    }
}

async fn bank_page(
    state: &AppState,
    console: Console,
    name: &str,
    after: i64,
    errors: Vec<Problem>,
    more_errors: usize,
    notice: Option<String>,
) -> Response {
    let store = state.store();
    let bank = match store.bank(name).await {
        Ok(Some(b)) => b,
        Ok(None) => return console.message(StatusCode::NOT_FOUND, tk("staff-admin-no-bank")),
        Err(e) => return super::failure(&console, &e.into()),
    };
    let (entries, matches) =
        match (store.bank_entries(name, after, PAGE).await, store.recent_bank_matches(name, 20).await) {
            (Ok(e), Ok(m)) => (e, m),
            (Err(e), _) | (_, Err(e)) => return super::failure(&console, &e.into()),
        };
    let next_after = if entries.len() as i64 == PAGE { entries.last().map(|e| e.seq) } else { None };
    let mut principals = match crate::staff::pages::names::Principals::load(store, &console.ctx).await {
        Ok(p) => p,
        Err(e) => return super::failure(&console, &e),
    };
    let actors: Vec<String> = entries.iter().map(|e| e.added_by.clone()).collect();
    if let Err(e) = principals.learn_sessions(store, &console.ctx, &actors).await {
        return super::failure(&console, &e);
    }
    let who = actors.into_iter().map(|a| (a.clone(), principals.name(&a))).collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = BankPage {
        ctx: console.ctx,
        chrome: console.chrome,
        bank,
        entries,
        next_after,
        matches,
        errors,
        more_errors,
        notice,
        formats: Format::ALL.iter().map(|f| f.as_str()).collect(),
        actions: BankAction::ALL.iter().map(|a| a.as_str()).collect(),
        who,
    };
    (status, page).into_response()
}

/// `GET /staff/banks/{name}?after=`.
pub async fn show(
    State(state): State<AppState>,
    console: Console,
    Path(name): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    if let Some(r) = console.refusal(Permission::ManageBanks) {
        return r;
    }
    let notice = match q.done.as_deref() {
        Some("created") => Some(console.ctx.t("staff-admin-bank-created")),
        Some("updated") => Some(console.ctx.t("staff-admin-bank-updated")),
        Some("imported") => Some(console.ctx.ta2(
            "staff-admin-bank-imported",
            "added",
            q.added.unwrap_or(0),
            "duplicates",
            q.duplicates.unwrap_or(0),
        )),
        _ => None,
    };
    bank_page(&state, console, &name, q.after.unwrap_or(0), Vec::new(), 0, notice).await
}

/// The settings form.
#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    threshold: String,
}

/// `POST /staff/banks/{name}/settings`: a bank's action and PDQ threshold.
pub async fn update(
    State(state): State<AppState>,
    console: Console,
    Path(name): Path<String>,
    Form(form): Form<SettingsForm>,
) -> Response {
    if let Some(r) = console.refusal(Permission::ManageBanks) {
        return r;
    }
    if !console.csrf_ok(&form.csrf) {
        return console.csrf_refused();
    }
    let mut errors = Vec::new();
    let action = BankAction::parse(&form.action);
    if action.is_none() {
        errors.push(Problem::new(&console.ctx, "action", t("staff-admin-err-action")));
    }
    let threshold = form.threshold.trim().parse::<u8>().ok().filter(|n| *n <= 31);
    if threshold.is_none() {
        errors.push(Problem::new(&console.ctx, "threshold", t("staff-admin-err-threshold")));
    }
    let (Some(action), Some(threshold)) = (action, threshold) else {
        return bank_page(&state, console, &name, 0, errors, 0, None).await;
    };
    let actor = console.caller().actor();
    match state.store().set_bank_settings(&name, action, threshold, &actor, state.now()).await {
        Ok(_) => {
            state.refresh_banks().await;
            done(&format!("/staff/banks/{name}"), "updated")
        }
        Err(e) => {
            let e = e.into();
            match problems(&console.ctx, &e) {
                Some(errors) => bank_page(&state, console, &name, 0, errors, 0, None).await,
                None => super::failure(&console, &e),
            }
        }
    }
}

/// The bank page when the import's upload could not be read: over [`MAX_IMPORT_BYTES`] (the body
/// limit's 413) with the limit named beside the file field, else cut short (422).
async fn upload_refused(state: &AppState, console: Console, name: &str, status: StatusCode) -> Response {
    let too_large = status == StatusCode::PAYLOAD_TOO_LARGE;
    let message = if too_large {
        console.ctx.ta("staff-admin-err-upload-too-large", "mib", MAX_IMPORT_BYTES / (1024 * 1024))
    } else {
        console.ctx.t(t("staff-admin-err-upload"))
    };
    let errors = vec![Problem::text(&console.ctx, "file", message)];
    let mut response = bank_page(state, console, name, 0, errors, 0, None).await;
    if too_large && response.status() == StatusCode::UNPROCESSABLE_ENTITY {
        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    }
    response
}

/// `POST /staff/banks/{name}/import` (multipart: `csrf`, `format`, `skip_invalid`, `file`). All or
/// nothing as the CLI: with bad lines nothing is imported unless `skip_invalid` is ticked.
pub async fn import(
    State(state): State<AppState>,
    console: Console,
    Path(name): Path<String>,
    mut form: Multipart,
) -> Response {
    if let Some(r) = console.refusal(Permission::ManageBanks) {
        return r;
    }
    let (mut csrf, mut format, mut skip_invalid, mut file) = (String::new(), String::new(), false, None::<Vec<u8>>);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return upload_refused(&state, console, &name, e.status()).await,
        };
        let field_name = field.name().unwrap_or_default().to_owned();
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => return upload_refused(&state, console, &name, e.status()).await,
        };
        match field_name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "format" => format = String::from_utf8_lossy(&bytes).into_owned(),
            "skip_invalid" => skip_invalid = true,
            // The body limit leaves room for the other fields; the file itself gets the limit.
            "file" if bytes.len() > MAX_IMPORT_BYTES => {
                return upload_refused(&state, console, &name, StatusCode::PAYLOAD_TOO_LARGE).await;
            }
            "file" => file = Some(bytes.to_vec()),
            _ => {}
        }
    }
    if !console.csrf_ok(&csrf) {
        return console.csrf_refused();
    }
    let mut errors = Vec::new();
    let format = Format::parse(&format);
    if format.is_none() {
        errors.push(Problem::new(&console.ctx, "format", t("staff-admin-err-format")));
    }
    let text = match file.filter(|f| !f.is_empty()).map(String::from_utf8) {
        Some(Ok(text)) => Some(text),
        Some(Err(_)) => {
            errors.push(Problem::new(&console.ctx, "file", t("staff-admin-err-not-text")));
            None
        }
        None => {
            errors.push(Problem::new(&console.ctx, "file", t("staff-admin-err-choose-file")));
            None
        }
    };
    let (Some(format), Some(text)) = (format, text) else {
        return bank_page(&state, console, &name, 0, errors, 0, None).await;
    };
    let parsed = bank_formats::parse(format, &text);
    if !parsed.errors.is_empty() && !skip_invalid {
        let more = parsed.errors.len().saturating_sub(SHOWN_LINE_ERRORS);
        let errors = parsed
            .errors
            .iter()
            .take(SHOWN_LINE_ERRORS)
            .map(|e| Problem::text(&console.ctx, "file", line_error_text(&console.ctx, e)))
            .collect();
        return bank_page(&state, console, &name, 0, errors, more, None).await;
    }
    let entries: Vec<_> = parsed.entries.into_iter().map(|(_, e)| e).collect();
    let actor = console.caller().actor();
    let source = format!("console upload ({})", format.as_str());
    match state.store().import_bank_entries(&name, &entries, &actor, &source, state.now(), &|_| {}).await {
        Ok(report) => {
            state.refresh_banks().await;
            axum::response::Redirect::to(&format!(
                "/staff/banks/{name}?done=imported&added={}&duplicates={}",
                report.added, report.duplicates
            ))
            .into_response()
        }
        Err(e) => {
            let e = e.into();
            match problems(&console.ctx, &e) {
                Some(errors) => bank_page(&state, console, &name, 0, errors, 0, None).await,
                None => super::failure(&console, &e),
            }
        }
    }
}

/// A bad line of an imported file in the page language: "Line 3, pdq: must be 64 hexadecimal
/// digits." / "Regel 3, pdq: …". Field names stay as the file's column names.
fn line_error_text(ctx: &Ctx, e: &bank_formats::LineError) -> String {
    use bank_formats::LineReason;
    let line = e.line.to_string();
    let with = |key: &str, args: &[(&str, &str)]| {
        let mut all = vec![("line", line.as_str())];
        all.extend_from_slice(args);
        ctx.lang.ta(key, &all)
    };
    match &e.reason {
        LineReason::Quoting => with(t("staff-admin-line-quoting"), &[]),
        LineReason::UnknownColumn(column) => {
            with(t("staff-admin-line-column"), &[("column", column), ("header", bank_formats::CSV_HEADER)])
        }
        LineReason::FieldCount { found, expected } => {
            with("staff-admin-line-fields", &[("found", &found.to_string()), ("expected", &expected.to_string())])
        }
        LineReason::NotJson => with(t("staff-admin-line-json"), &[]),
        LineReason::SignalType(kind) => with(t("staff-admin-line-signal"), &[("kind", kind)]),
        LineReason::Field { field, code } => match (field.as_str(), *code) {
            ("pdq" | "sha256", "invalid") => with(t("staff-admin-line-hex"), &[("field", field), ("digits", "64")]),
            ("md5", "invalid") => with(t("staff-admin-line-hex"), &[("field", field), ("digits", "32")]),
            ("quality", _) => with(t("staff-admin-line-quality"), &[]),
            (_, "required") => with(t("staff-admin-line-no-hash"), &[]),
            (_, "too_long") => with(
                "staff-admin-line-too-long",
                &[("field", field), ("max", &staydown_domain::bank::MAX_NOTE_CHARS.to_string())],
            ),
            _ => with(t("staff-admin-line-field"), &[("field", field)]),
        },
    }
}

/// `?format=` of an export.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
}

/// `GET /staff/banks/{name}/export?format=csv|json|te`: the bank's live entries as a file, as
/// `staydown bank export` writes it.
pub async fn export(
    State(state): State<AppState>,
    console: Console,
    Path(name): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    if let Some(r) = console.refusal(Permission::ManageBanks) {
        return r;
    }
    let Some(format) = q.format.as_deref().and_then(Format::parse) else {
        return console.message(StatusCode::BAD_REQUEST, tk("staff-admin-bad-format"));
    };
    match state.store().bank(&name).await {
        Ok(Some(_)) => {}
        Ok(None) => return console.message(StatusCode::NOT_FOUND, tk("staff-admin-no-bank")),
        Err(e) => return super::failure(&console, &e.into()),
    }
    let mut out = String::new();
    if let Some(h) = bank_formats::header(format) {
        out.push_str(h);
        out.push('\n');
    }
    let mut after = 0;
    loop {
        let page = match state.store().bank_entries(&name, after, 10_000).await {
            Ok(p) => p,
            Err(e) => return super::failure(&console, &e.into()),
        };
        let Some(last) = page.last() else { break };
        after = last.seq;
        for entry in &page {
            if let Some(line) = bank_formats::line(format, entry) {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    let (ext, mime) = match format {
        Format::Csv => ("csv", "text/csv; charset=utf-8"),
        Format::Json => ("jsonl", "application/x-ndjson"),
        Format::Te => ("te", "text/plain; charset=utf-8"),
    };
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    ([(header::CONTENT_TYPE, mime.to_owned()), (header::CONTENT_DISPOSITION, disposition)], out).into_response()
}
