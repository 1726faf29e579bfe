//! `/staff/transparency`: the transparency report of a chosen period (DSA Art. 15(1), 24(1); the
//! figures of `staydown report`, from the same store call) with downloads in the CLI's JSON and
//! CSV forms (`report_formats`), and the statements of reasons the Transparency Database refused
//! (Art. 24(5)) with a re-queue button (the API's handler, as `staydown sor requeue`).
//!
//! Admins and auditors see it (`Permission::ViewSubmissions`); only admins get the re-queue
//! buttons (`Permission::RequeueSubmissions`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use staydown_store::{Figure, Period, QueuedStatement, SubmissionState, TransparencyReport};
use time::Date;

use super::{Problem, done, notice, problems, t, tk, when};
use crate::AppState;
use crate::auth::Permission;
use crate::json::ApiJson;
use crate::pages::Ctx;
use crate::staff::pages::{Chrome, Console};

/// One table of the report as shown.
#[derive(Debug, Clone)]
pub struct ReportTable {
    /// Heading (the template's wording).
    pub title: String,
    /// Column headings: the dimensions, then the figures.
    pub head: Vec<String>,
    /// How many leading columns name the row.
    pub dims: usize,
    /// Rows of text.
    pub rows: Vec<Vec<String>>,
}

/// The page.
#[derive(Template, WebTemplate)]
#[template(path = "staff/transparency.html")]
pub struct TransparencyPage {
    ctx: Ctx,
    chrome: Chrome,
    from: String,
    to: String,
    label: String,
    errors: Vec<Problem>,
    tables: Vec<ReportTable>,
    failed: Vec<QueuedStatement>,
    recent: Vec<QueuedStatement>,
    requeue: bool,
    notice: Option<&'static str>,
}

impl TransparencyPage {
    fn invalid(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }
    fn when(&self, t: &time::OffsetDateTime) -> String {
        when(&self.ctx, *t)
    }
    /// Where a statement's submission to the Transparency Database stands, in the page language.
    fn state_label(&self, state: &SubmissionState) -> String {
        self.ctx.t(match state {
            SubmissionState::Pending => t("staff-admin-tr-state-pending"),
            SubmissionState::Submitted => t("staff-admin-tr-state-submitted"),
            SubmissionState::Failed => t("staff-admin-tr-state-failed"),
        })
    }
    fn download(&self, format: &str) -> String {
        format!("/staff/transparency/download?from={}&to={}&format={format}", self.from, self.to)
    }
}

/// `?from=&to=&format=&done=`.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
    done: Option<String>,
}

fn day(ctx: &Ctx, errors: &mut Vec<Problem>, field: &str, value: Option<&str>, default: Date) -> Date {
    match value.filter(|v| !v.is_empty()) {
        None => default,
        Some(v) => Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")).unwrap_or_else(|_| {
            errors.push(Problem::new(ctx, field, t("staff-admin-err-date")));
            default
        }),
    }
}

/// The period asked for: whole UTC days `from`..=`to`; by default the last 30 days up to and
/// including today (as the dashboard counts). At most ten years.
fn chosen(ctx: &Ctx, q: &ReportQuery, today: Date) -> (Date, Date, Vec<Problem>) {
    let mut errors = Vec::new();
    let default_to = today;
    let to = day(ctx, &mut errors, "to", q.to.as_deref(), default_to);
    let from = day(ctx, &mut errors, "from", q.from.as_deref(), to - time::Duration::days(29));
    if errors.is_empty() && to < from {
        errors.push(Problem::new(ctx, "to", t("staff-admin-err-before-from")));
    }
    if errors.is_empty() && (to - from).whole_days() >= 3660 {
        errors.push(Problem::new(ctx, "from", t("staff-admin-err-span")));
    }
    if errors.is_empty() { (from, to, errors) } else { (default_to - time::Duration::days(29), default_to, errors) }
}

fn tables(ctx: &Ctx, report: &TransparencyReport) -> Vec<ReportTable> {
    report
        .tables
        .iter()
        .map(|table| {
            let mut head: Vec<String> = table.dims.iter().map(|d| (*d).to_owned()).collect();
            head.extend(table.columns.iter().map(|c| c.label.to_owned()));
            let rows = table
                .rows
                .iter()
                .map(|r| {
                    let mut cells: Vec<String> = r.keys.clone();
                    cells.extend(r.figures.iter().map(|f| match f {
                        Figure::Count(n) => n.to_string(),
                        Figure::Millis(ms) => super::hours(ctx, ms.map(|ms| ms / 1000.0)) + " h",
                    }));
                    cells
                })
                .collect();
            ReportTable { title: table.title.to_owned(), head, dims: table.dims.len(), rows }
        })
        .collect()
}

async fn render(state: &AppState, console: Console, q: &ReportQuery, mut errors: Vec<Problem>) -> Response {
    let (from, to, period_errors) = chosen(&console.ctx, q, state.now().date());
    errors.extend(period_errors);
    let store = state.store();
    let loaded = async {
        let report = store.transparency_report(Period::days(from, to)).await?;
        let failed = store.submission_queue(Some(SubmissionState::Failed), 100).await?;
        let recent = store.submission_queue(None, 20).await?;
        Ok::<_, staydown_store::StoreError>((report, failed, recent))
    }
    .await;
    let (report, failed, recent) = match loaded {
        Ok(v) => v,
        Err(e) => return super::failure(&console, &e.into()),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = TransparencyPage {
        from: from.to_string(),
        to: to.to_string(),
        label: format!(
            "{} – {}",
            crate::staff::pages::names::date(&console.ctx, from),
            crate::staff::pages::names::date(&console.ctx, to)
        ),
        errors,
        tables: tables(&console.ctx, &report),
        failed,
        recent,
        requeue: console.may(Permission::RequeueSubmissions),
        notice: notice(q.done.as_deref(), &[("requeued", t("staff-admin-done-requeued"))]),
        ctx: console.ctx,
        chrome: console.chrome,
    };
    (status, page).into_response()
}

/// `GET /staff/transparency?from=&to=`.
pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<ReportQuery>) -> Response {
    if let Some(r) = console.refusal(Permission::ViewSubmissions) {
        return r;
    }
    render(&state, console, &q, Vec::new()).await
}

/// `GET /staff/transparency/download?from=&to=&format=json|csv`: the report file, byte for byte
/// what `staydown report --format json|csv` writes for the same period.
pub async fn download(State(state): State<AppState>, console: Console, Query(q): Query<ReportQuery>) -> Response {
    if let Some(r) = console.refusal(Permission::ViewSubmissions) {
        return r;
    }
    let (from, to, errors) = chosen(&console.ctx, &q, state.now().date());
    if !errors.is_empty() {
        return render(&state, console, &q, Vec::new()).await;
    }
    let report = match state.store().transparency_report(Period::days(from, to)).await {
        Ok(r) => r,
        Err(e) => return super::failure(&console, &e.into()),
    };
    let (body, mime, ext) = match q.format.as_deref() {
        Some("json") => (format!("{:#}\n", crate::report_formats::to_json(&report)), "application/json", "json"),
        Some("csv") => (crate::report_formats::to_csv(&report), "text/csv; charset=utf-8", "csv"),
        _ => return console.message(StatusCode::BAD_REQUEST, tk("staff-admin-bad-format")),
    };
    let disposition = format!("attachment; filename=\"transparency-{from}-{to}.{ext}\"");
    ([(header::CONTENT_TYPE, mime.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response()
}

/// The re-queue form: one statement (`puid`) or every refused one (`all`).
#[derive(Debug, Deserialize)]
pub struct RequeueForm {
    #[serde(default)]
    csrf: String,
    puid: Option<String>,
    all: Option<String>,
}

/// `POST /staff/transparency/requeue`.
pub async fn requeue(State(state): State<AppState>, console: Console, Form(form): Form<RequeueForm>) -> Response {
    if let Some(r) = console.refusal(Permission::RequeueSubmissions) {
        return r;
    }
    if !console.csrf_ok(&form.csrf) {
        return console.csrf_refused();
    }
    let body = match (form.puid, form.all) {
        (Some(p), _) if !p.is_empty() => serde_json::json!({ "puids": [p] }),
        _ => serde_json::json!({ "all_failed": true }),
    };
    let body = match serde_json::from_value(body) {
        Ok(b) => b,
        Err(e) => return super::failure(&console, &crate::problem::ApiError::Internal(e.to_string())),
    };
    match crate::api::transparency::requeue(State(state.clone()), console.caller(), ApiJson(body)).await {
        Ok(_) => done("/staff/transparency", "requeued"),
        Err(e) => match problems(&console.ctx, &e) {
            Some(errors) => render(&state, console, &ReportQuery::default(), errors).await,
            None => super::failure(&console, &e),
        },
    }
}
