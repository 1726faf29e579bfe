//! `/staff/dashboard`: how fast the service acts, as SVG charts drawn on the server
//! (`staff::charts`) each with a table of the same figures (issue 12; DSA Art. 16(6), Art. 22).
//!
//! The figures are the JSON document of `GET /api/v1/stats` (`api::stats::figures`), rendered:
//! every figure cell carries `data-stat` (its JSON pointer in that document) and `data-value` (the
//! value as JSON), which is how `it::console_admin` proves the page shows what the API gives.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::{Problem, hours, percent, problems, t};
use crate::AppState;
use crate::api::stats::{StatsQuery, figures, period};
use crate::auth::Permission;
use crate::pages::Ctx;
use crate::staff::charts::{self, Series};
use crate::staff::pages::{Chrome, Console};

/// How a figure is shown.
#[derive(Debug, Clone, Copy)]
enum Fmt {
    Count,
    Hours,
    Percent,
}

/// One table cell: its text, and for a figure its JSON pointer and raw value.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Shown.
    pub text: String,
    /// JSON pointer in the stats document (empty for labels).
    pub stat: String,
    /// The figure as JSON (`null` when nothing was measured).
    pub value: String,
}

/// A table of figures.
#[derive(Debug, Clone)]
pub struct FigTable {
    /// Caption.
    pub caption: String,
    /// Column headings; the first `dims` columns are row headings.
    pub head: Vec<String>,
    /// How many leading columns name the row.
    pub dims: usize,
    /// Rows.
    pub rows: Vec<Vec<Cell>>,
}

/// A chart: the SVG as a `data:` URL and its short text alternative.
#[derive(Debug, Clone)]
pub struct Chart {
    /// `data:image/svg+xml;base64,…`.
    pub src: String,
    /// What it shows; the table below gives the figures.
    pub alt: String,
}

/// One part of the dashboard.
#[derive(Debug, Clone)]
pub struct Section {
    /// Anchor.
    pub id: &'static str,
    /// Heading.
    pub title: String,
    /// The chart, if this part has one.
    pub chart: Option<Chart>,
    /// Its tables.
    pub tables: Vec<FigTable>,
}

/// The page.
#[derive(Template, WebTemplate)]
#[template(path = "staff/dashboard.html")]
pub struct DashboardPage {
    ctx: Ctx,
    chrome: Chrome,
    from: String,
    to: String,
    period: String,
    errors: Vec<Problem>,
    sections: Vec<Section>,
}

impl DashboardPage {
    fn invalid(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }
}

/// `?from=&to=` of the page.
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) if s == "TOTAL" => String::new(),
        Value::String(s) => s.clone(),
        Value::Null => "–".to_owned(),
        other => other.to_string(),
    }
}

/// A dimension's value as a person reads it: a source or category in words (the stored code when
/// unknown), anything else as [`text_of`] writes it.
fn dim_text(ctx: &Ctx, dim: &str, v: &Value) -> String {
    match (dim, v.as_str()) {
        (_, Some("TOTAL")) => String::new(),
        ("source", Some(code)) => ctx.t(crate::staff::pages::queue::source_key(code)),
        ("category", Some(code)) => crate::staff::pages::queue::category_label(ctx, code),
        _ => text_of(v),
    }
}

fn cell(ctx: &Ctx, v: Option<&Value>, pointer: String, fmt: Fmt) -> Cell {
    let Some(v) = v else { return Cell { text: "–".into(), stat: String::new(), value: String::new() } };
    let text = match fmt {
        Fmt::Count => text_of(v),
        Fmt::Hours => hours(ctx, v.as_f64()),
        Fmt::Percent => percent(ctx, v.as_f64()),
    };
    Cell { text, stat: pointer, value: v.to_string() }
}

/// Builds a table from rows of the stats document: `(pointer, object)` pairs, the dimension keys
/// naming each row and the figure columns.
fn table(
    ctx: &Ctx,
    caption: &'static str,
    rows: &[(String, &Value)],
    dims: &[(&str, &'static str)],
    cols: &[(&str, &'static str, Fmt)],
) -> FigTable {
    let mut head: Vec<String> = dims.iter().map(|(_, k)| ctx.t(*k)).collect();
    head.extend(cols.iter().map(|(_, k, _)| ctx.t(*k)));
    let all = ctx.t("staff-admin-all");
    let rows = rows
        .iter()
        .map(|(ptr, obj)| {
            let mut r: Vec<Cell> = dims
                .iter()
                .map(|(d, _)| {
                    let text = obj
                        .get(*d)
                        .map(|v| dim_text(ctx, d, v))
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| all.clone());
                    Cell { text, stat: String::new(), value: String::new() }
                })
                .collect();
            r.extend(cols.iter().map(|(c, _, fmt)| cell(ctx, obj.get(*c), format!("{ptr}/{c}"), *fmt)));
            r
        })
        .collect();
    FigTable { caption: ctx.t(caption), head, dims: dims.len(), rows }
}

/// `(pointer, row)` for the `total` object and every row of the array at `path` of `doc`.
fn rows_at<'a>(doc: &'a Value, total: Option<&str>, list: &str) -> Vec<(String, &'a Value)> {
    let mut out = Vec::new();
    if let Some(total) = total
        && let Some(v) = doc.pointer(total)
        && v.is_object()
    {
        out.push((total.to_owned(), v));
    }
    if let Some(items) = doc.pointer(list).and_then(Value::as_array) {
        out.extend(items.iter().enumerate().map(|(i, v)| (format!("{list}/{i}"), v)));
    }
    out
}

fn list<'a>(doc: &'a Value, path: &str) -> &'a [Value] {
    doc.pointer(path).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Lines of `field` (seconds → hours) per week, one line per value of `dim` in `path`.
fn weekly_lines(ctx: &Ctx, doc: &Value, path: &str, dim: &str, field: &str) -> (Vec<String>, Vec<Series>) {
    let rows = list(doc, path);
    let mut weeks: Vec<String> = rows.iter().filter_map(|r| r["week"].as_str().map(str::to_owned)).collect();
    weeks.sort();
    weeks.dedup();
    let mut names: Vec<String> = rows.iter().filter_map(|r| r[dim].as_str().map(str::to_owned)).collect();
    names.sort();
    names.dedup();
    let series = names
        .into_iter()
        .map(|name| {
            let values = weeks
                .iter()
                .map(|w| {
                    rows.iter()
                        .find(|r| r["week"].as_str() == Some(w) && r[dim].as_str() == Some(&name))
                        .and_then(|r| r[field].as_f64())
                        .map(|s| s / 3600.0)
                })
                .collect();
            Series { name: dim_text(ctx, dim, &Value::String(name)), values }
        })
        .collect();
    (weeks, series)
}

fn bars(ctx: &Ctx, doc: &Value, path: &str, dim: &str, field: &str, scale: f64) -> Vec<(String, f64)> {
    list(doc, path).iter().map(|r| (dim_text(ctx, dim, &r[dim]), r[field].as_f64().unwrap_or(0.0) * scale)).collect()
}

fn chart(svg: &str, alt: String) -> Option<Chart> {
    Some(Chart { src: charts::data_url(svg), alt })
}

/// The dashboard's parts, from the stats document.
pub fn sections(ctx: &Ctx, doc: &Value) -> Vec<Section> {
    use Fmt::{Count, Hours, Percent};
    let tta_cols = [
        ("decided", t("staff-admin-col-decided"), Count),
        ("p50_seconds", t("staff-admin-col-p50"), Hours),
        ("p90_seconds", t("staff-admin-col-p90"), Hours),
        ("p99_seconds", t("staff-admin-col-p99"), Hours),
    ];
    let week = ("week", t("staff-admin-col-week"));
    let source = ("source", t("staff-admin-col-source"));
    let category = ("category", t("staff-admin-col-category"));
    let unit_hours = ctx.t("staff-admin-unit-hours");
    let unit_percent = ctx.t("staff-admin-unit-percent");
    let mut out = Vec::new();

    out.push(Section {
        id: "now",
        title: ctx.t("staff-admin-dash-now"),
        chart: None,
        tables: vec![table(
            ctx,
            t("staff-admin-dash-now"),
            &[("/queue".to_owned(), &doc["queue"])],
            &[],
            &[("open", t("staff-admin-col-open"), Count), ("overdue", t("staff-admin-col-overdue"), Count)],
        )],
    });

    let (weeks, _) = weekly_lines(ctx, doc, "/time_to_action/by_week_and_source", "source", "p50_seconds");
    let by_week = list(doc, "/time_to_action/by_week");
    let pick = |f: &str| -> Vec<Option<f64>> {
        weeks
            .iter()
            .map(|w| {
                by_week.iter().find(|r| r["week"].as_str() == Some(w)).and_then(|r| r[f].as_f64()).map(|s| s / 3600.0)
            })
            .collect()
    };
    let lines = vec![
        Series { name: ctx.t("staff-admin-col-p50"), values: pick("p50_seconds") },
        Series { name: ctx.t("staff-admin-col-p90"), values: pick("p90_seconds") },
        Series { name: ctx.t("staff-admin-col-p99"), values: pick("p99_seconds") },
    ];
    let title = ctx.t("staff-admin-dash-tta");
    out.push(Section {
        id: "time-to-action",
        chart: chart(&charts::line_chart(&title, &unit_hours, &weeks, &lines), ctx.t("staff-admin-dash-tta-alt")),
        title,
        tables: vec![
            table(
                ctx,
                t("staff-admin-dash-tta-week"),
                &rows_at(doc, None, "/time_to_action/by_week"),
                &[week],
                &tta_cols,
            ),
            table(
                ctx,
                t("staff-admin-dash-tta-source"),
                &rows_at(doc, Some("/time_to_action/total"), "/time_to_action/by_source"),
                &[source],
                &tta_cols,
            ),
            table(
                ctx,
                t("staff-admin-dash-tta-category"),
                &rows_at(doc, None, "/time_to_action/by_category"),
                &[category],
                &tta_cols,
            ),
        ],
    });

    for (id, title_key, alt_key, path, dim) in [
        (
            "by-source",
            t("staff-admin-dash-week-source"),
            t("staff-admin-dash-week-source-alt"),
            "/time_to_action/by_week_and_source",
            source,
        ),
        (
            "by-category",
            t("staff-admin-dash-week-category"),
            t("staff-admin-dash-week-category-alt"),
            "/time_to_action/by_week_and_category",
            category,
        ),
    ] {
        let (weeks, series) = weekly_lines(ctx, doc, path, dim.0, "p90_seconds");
        let title = ctx.t(title_key);
        out.push(Section {
            id,
            chart: chart(&charts::line_chart(&title, &unit_hours, &weeks, &series), ctx.t(alt_key)),
            tables: vec![table(ctx, title_key, &rows_at(doc, None, path), &[week, dim], &tta_cols)],
            title,
        });
    }

    let title = ctx.t("staff-admin-dash-pickup");
    out.push(Section {
        id: "pick-up",
        chart: chart(
            &charts::bar_chart(
                &title,
                &unit_hours,
                &bars(ctx, doc, "/time_to_pickup/by_category", "category", "p50_seconds", 1.0 / 3600.0),
            ),
            ctx.t("staff-admin-dash-pickup-alt"),
        ),
        tables: vec![table(
            ctx,
            t("staff-admin-dash-pickup"),
            &rows_at(doc, Some("/time_to_pickup/total"), "/time_to_pickup/by_category"),
            &[category],
            &[
                ("picked_up", t("staff-admin-col-picked-up"), Count),
                ("p50_seconds", t("staff-admin-col-p50"), Hours),
                ("p90_seconds", t("staff-admin-col-p90"), Hours),
            ],
        )],
        title,
    });

    let title = ctx.t("staff-admin-dash-deadlines");
    out.push(Section {
        id: "deadlines",
        chart: chart(
            &charts::bar_chart(
                &title,
                &ctx.t("staff-admin-unit-cases"),
                &bars(ctx, doc, "/deadlines/by_category", "category", "decided_late", 1.0),
            ),
            ctx.t("staff-admin-dash-deadlines-alt"),
        ),
        tables: vec![table(
            ctx,
            t("staff-admin-dash-deadlines"),
            &rows_at(doc, Some("/deadlines/total"), "/deadlines/by_category"),
            &[category],
            &[
                ("decided", t("staff-admin-col-decided"), Count),
                ("decided_late", t("staff-admin-col-late"), Count),
                ("open_past_deadline", t("staff-admin-col-open-late"), Count),
            ],
        )],
        title,
    });

    let title = ctx.t("staff-admin-dash-within");
    let mut within_bars = Vec::new();
    for r in list(doc, "/acted_within/by_source") {
        let s = dim_text(ctx, "source", &r["source"]);
        within_bars.push((format!("{s} · 24 h"), r["share_within_24h"].as_f64().unwrap_or(0.0) * 100.0));
        within_bars.push((format!("{s} · 48 h"), r["share_within_48h"].as_f64().unwrap_or(0.0) * 100.0));
    }
    out.push(Section {
        id: "within",
        chart: chart(&charts::bar_chart(&title, &unit_percent, &within_bars), ctx.t("staff-admin-dash-within-alt")),
        tables: vec![table(
            ctx,
            t("staff-admin-dash-within"),
            &rows_at(doc, Some("/acted_within/total"), "/acted_within/by_source"),
            &[source],
            &[
                ("received", t("staff-admin-col-received"), Count),
                ("decided", t("staff-admin-col-decided"), Count),
                ("within_24h", t("staff-admin-col-within-24h"), Count),
                ("share_within_24h", t("staff-admin-col-share-24h"), Percent),
                ("within_48h", t("staff-admin-col-within-48h"), Count),
                ("share_within_48h", t("staff-admin-col-share-48h"), Percent),
            ],
        )],
        title,
    });

    let title = ctx.t("staff-admin-dash-ai");
    out.push(Section {
        id: "ai",
        chart: chart(
            &charts::bar_chart(
                &title,
                &unit_percent,
                &bars(ctx, doc, "/ai_generated/by_generator", "generator", "share_of_ai_generated", 100.0),
            ),
            ctx.t("staff-admin-dash-ai-alt"),
        ),
        tables: vec![table(
            ctx,
            t("staff-admin-dash-ai"),
            &rows_at(doc, Some("/ai_generated/total"), "/ai_generated/by_generator"),
            &[("generator", t("staff-admin-col-generator"))],
            &[
                ("items", t("staff-admin-col-items"), Count),
                ("ai_generated_yes", t("staff-admin-col-ai-yes"), Count),
                ("ai_generated_no", t("staff-admin-col-ai-no"), Count),
                ("edited_yes", t("staff-admin-col-edited"), Count),
                ("share_of_ai_generated", t("staff-admin-col-ai-share"), Percent),
            ],
        )],
        title,
    });

    let title = ctx.t("staff-admin-dash-banks");
    out.push(Section {
        id: "banks",
        chart: chart(
            &charts::bar_chart(
                &title,
                &ctx.t("staff-admin-unit-screenings"),
                &bars(ctx, doc, "/bank_matches", "bank", "screenings", 1.0),
            ),
            ctx.t("staff-admin-dash-banks-alt"),
        ),
        tables: vec![table(
            ctx,
            t("staff-admin-dash-banks"),
            &rows_at(doc, None, "/bank_matches"),
            &[("bank", t("staff-admin-col-bank"))],
            &[
                ("screenings", t("staff-admin-col-screenings"), Count),
                ("blocked", t("staff-admin-col-blocked"), Count),
                ("held", t("staff-admin-col-held"), Count),
                ("allowed", t("staff-admin-col-allowed"), Count),
            ],
        )],
        title,
    });

    let title = ctx.t("staff-admin-dash-flaggers");
    out.push(Section {
        id: "flaggers",
        chart: chart(
            &charts::bar_chart(
                &title,
                &unit_percent,
                &bars(ctx, doc, "/trusted_flaggers", "flagger", "share_acted_on", 100.0),
            ),
            ctx.t("staff-admin-dash-flaggers-alt"),
        ),
        tables: vec![table(
            ctx,
            t("staff-admin-dash-flaggers"),
            &rows_at(doc, None, "/trusted_flaggers"),
            &[("flagger", t("staff-admin-col-flagger"))],
            &[
                ("notices", t("staff-admin-col-notices"), Count),
                ("decided", t("staff-admin-col-decided"), Count),
                ("acted_on", t("staff-admin-col-acted-on"), Count),
                ("share_acted_on", t("staff-admin-col-share-acted"), Percent),
                ("median_seconds", t("staff-admin-col-median"), Hours),
            ],
        )],
        title,
    });
    out
}

/// `GET /staff/dashboard?from=YYYY-MM-DD&to=YYYY-MM-DD` (default: the last 30 days).
pub async fn page(State(state): State<AppState>, console: Console, Query(q): Query<PeriodQuery>) -> Response {
    if let Some(r) = console.refusal(Permission::ViewStats) {
        return r;
    }
    let now = state.now();
    let asked =
        StatsQuery { from: q.from.clone().filter(|s| !s.is_empty()), to: q.to.clone().filter(|s| !s.is_empty()) };
    let (chosen, errors) = match period(&asked, now) {
        Ok(p) => (p, Vec::new()),
        Err(e) => match problems(&console.ctx, &e) {
            Some(list) => {
                (period(&StatsQuery::default(), now).unwrap_or(staydown_store::Period { from: now, until: now }), list)
            }
            None => return super::failure(&console, &e),
        },
    };
    let doc = match figures(&state, chosen, now).await {
        Ok(doc) => doc,
        Err(e) => return super::failure(&console, &e),
    };
    let sections = sections(&console.ctx, &doc);
    DashboardPage {
        period: format!("{} – {}", super::when(&console.ctx, chosen.from), super::when(&console.ctx, chosen.until)),
        from: q.from.unwrap_or_default(),
        to: q.to.unwrap_or_default(),
        errors,
        sections,
        ctx: console.ctx,
        chrome: console.chrome,
    }
    .into_response()
}
