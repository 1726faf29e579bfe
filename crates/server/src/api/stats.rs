//! `GET /api/v1/stats?from=YYYY-MM-DD&to=YYYY-MM-DD`: operational statistics for staff.
//!
//! DSA Art. 16(6) (timely processing) and Art. 22 (trusted flaggers first): how long notices wait
//! for a decision (p50/p90/p99 by source and by category), how many cases missed their deadline,
//! what screened files say about AI generation by generator, and how often each hash bank matched;
//! for the staff dashboard also time to action per week, time to pick-up, the share of notices
//! acted on within 24 h and 48 h, per trusted flagger the notices sent, share acted on and median
//! time (Art. 22), and the open and overdue cases now. Every figure is computed by the store in SQL
//! (`staydown_store::Stats`, `staydown_store::DashboardFigures`); `/staff/dashboard` shows the same. The period is whole UTC
//! days, `to` inclusive; without parameters, the last 30 days up to now. Durations are seconds.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use staydown_domain::validation::FieldErrors;
use staydown_store::{Figure, Period, Table};
use time::Date;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::auth::{Caller, Permission};
use crate::problem::ApiError;

/// Query parameters.
#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day (inclusive), `YYYY-MM-DD`.
    pub to: Option<String>,
}

/// Longest period one request may ask for (days).
const MAX_DAYS: i64 = 3660;

fn parse_day(errors: &mut FieldErrors, field: &str, value: Option<&str>) -> Option<Date> {
    let value = value?;
    match Date::parse(value, time::macros::format_description!("[year]-[month]-[day]")) {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(field, "invalid", "must be a date, YYYY-MM-DD");
            None
        }
    }
}

/// The period asked for: `from`/`to` (whole UTC days, `to` inclusive), default the last 30 days.
pub fn period(q: &StatsQuery, now: time::OffsetDateTime) -> Result<Period, ApiError> {
    let mut errors = FieldErrors::default();
    let from = parse_day(&mut errors, "from", q.from.as_deref());
    let to = parse_day(&mut errors, "to", q.to.as_deref());
    if !errors.0.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let period = match (from, to) {
        (None, None) => Period { from: now - time::Duration::days(30), until: now },
        (from, to) => {
            let to = to.unwrap_or(now.date());
            let from = from.unwrap_or(to - time::Duration::days(29));
            if to < from {
                return Err(ApiError::field("to", "invalid", "must not be before `from`"));
            }
            if (to - from).whole_days() >= MAX_DAYS {
                return Err(ApiError::field("from", "invalid", format!("the period may span at most {MAX_DAYS} days")));
            }
            Period::days(from, to)
        }
    };
    Ok(period)
}

fn seconds(f: Figure) -> Value {
    match f {
        Figure::Count(n) => json!(n),
        Figure::Millis(ms) => ms.map_or(Value::Null, |ms| json!(ms / 1000.0)),
    }
}

/// The table's rows where exactly `dim` is set (the others `TOTAL`), as objects keyed by `dim`.
fn rows_for(table: &Table, dim: Option<&str>) -> Vec<Value> {
    rows_with(table, dim.as_slice())
}

/// The table's rows where exactly the dimensions `dims` are set (the others `TOTAL`), as objects
/// keyed by those dimensions, then one key per column (`<column>_seconds` for durations).
pub fn rows_with(table: &Table, dims: &[&str]) -> Vec<Value> {
    table
        .rows
        .iter()
        .filter(|r| {
            table.dims.iter().zip(&r.keys).all(|(d, k)| if dims.contains(d) { k != "TOTAL" } else { k == "TOTAL" })
        })
        .map(|r| {
            let mut obj = serde_json::Map::new();
            for (d, k) in table.dims.iter().zip(&r.keys) {
                if dims.contains(d) {
                    obj.insert((*d).to_owned(), json!(k));
                }
            }
            for (c, f) in table.columns.iter().zip(&r.figures) {
                let key = if matches!(f, Figure::Millis(_)) { format!("{}_seconds", c.key) } else { c.key.to_owned() };
                obj.insert(key, seconds(*f));
            }
            Value::Object(obj)
        })
        .collect()
}

/// `part / whole`, or null when `whole` is 0.
fn share(part: &Value, whole: &Value) -> Value {
    match (part.as_i64(), whole.as_i64()) {
        (Some(p), Some(w)) if w > 0 => json!(p as f64 / w as f64),
        _ => Value::Null,
    }
}

/// Adds `share_within_24h` / `share_within_48h` (of the notices received) to a row of
/// [`staydown_store::DashboardFigures::within`].
fn with_within_shares(mut row: Value) -> Value {
    row["share_within_24h"] = share(&row["within_24h"], &row["received"]);
    row["share_within_48h"] = share(&row["within_48h"], &row["received"]);
    row
}

fn total(table: &Table) -> Value {
    rows_for(table, None).into_iter().next().unwrap_or(Value::Null)
}

/// Shows the statistics.
pub async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StatsQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::ViewStats)?;
    let now = state.now();
    let period = period(&q, now)?;
    Ok(Json(figures(&state, period, now).await?))
}

/// Every figure of `GET /api/v1/stats` for `period` (open cases judged at `now`), as its JSON
/// document. The staff dashboard (`/staff/dashboard`) renders this same document.
pub async fn figures(state: &AppState, period: Period, now: time::OffsetDateTime) -> Result<Value, ApiError> {
    let s = state.store().stats(period, now).await?;
    let d = state.store().dashboard_figures(period, now).await?;
    let ai_yes_total = s.ai_by_generator.figure(&["TOTAL"], "ai_generated_yes").and_then(Figure::count).unwrap_or(0);
    let by_generator: Vec<Value> = rows_for(&s.ai_by_generator, Some("generator"))
        .into_iter()
        .map(|mut row| {
            let yes = row["ai_generated_yes"].as_i64().unwrap_or(0);
            let share = if ai_yes_total > 0 { json!(yes as f64 / ai_yes_total as f64) } else { Value::Null };
            row["share_of_ai_generated"] = share;
            row
        })
        .collect();
    Ok(json!({
        "period": {
            "from": period.from.format(&Rfc3339).unwrap_or_default(),
            "until": period.until.format(&Rfc3339).unwrap_or_default(),
        },
        "time_to_action": {
            "total": total(&s.time_to_action),
            "by_source": rows_for(&s.time_to_action, Some("source")),
            "by_category": rows_for(&s.time_to_action, Some("category")),
            "by_week": rows_with(&d.weekly, &["week"]),
            "by_week_and_source": rows_with(&d.weekly, &["week", "source"]),
            "by_week_and_category": rows_with(&d.weekly, &["week", "category"]),
        },
        "time_to_pickup": {
            "total": total(&d.pickup),
            "by_category": rows_for(&d.pickup, Some("category")),
        },
        "acted_within": {
            "total": with_within_shares(total(&d.within)),
            "by_source": rows_for(&d.within, Some("source")).into_iter().map(with_within_shares).collect::<Vec<_>>(),
        },
        "trusted_flaggers": rows_for(&d.flaggers, Some("flagger")).into_iter().map(|mut row| {
            row["share_acted_on"] = share(&row["acted_on"], &row["notices"]);
            row
        }).collect::<Vec<_>>(),
        "queue": { "open": d.queue.open, "overdue": d.queue.overdue },
        "deadlines": {
            "total": total(&s.deadlines),
            "by_category": rows_for(&s.deadlines, Some("category")),
        },
        "ai_generated": {
            "total": total(&s.ai_by_generator),
            "by_generator": by_generator,
        },
        "bank_matches": s.bank_matches.iter().map(|b| json!({
            "bank": b.bank, "screenings": b.screenings, "blocked": b.blocked, "held": b.held, "allowed": b.allowed,
        })).collect::<Vec<_>>(),
    }))
}
