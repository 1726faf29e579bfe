//! The league table page (per platform: requests, honoured, refused, unanswered, pending, median
//! and p90 hours to removal, trusted flagger or not) with server-rendered SVG charts and the same
//! figures as a table, the yearly figures the helpline is asked for, and the escalation pack
//! download. Figures only: nothing here names or describes a person helped, so admins and
//! auditors may see it (`ViewHelplineFigures`); the pack is case work (`HelplineWork`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use staydown_domain::helpline::league::{LeagueRow, league as league_table};
use time::OffsetDateTime;

use super::{chart, t};
use crate::AppState;
use crate::auth::Permission;
use crate::pages::Ctx;
use crate::pages::form::Errors;
use crate::staff::pages::{Chrome, Console};

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD` (both days included; defaults: 1 January of this year, today).
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

/// One yearly figure: catalogue key and value.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Catalogue key of the label.
    pub key: &'static str,
    /// Value as shown.
    pub value: String,
}

/// `GET /staff/helpline/league`.
#[derive(Template, WebTemplate)]
#[template(path = "staff/helpline/league.html")]
pub struct LeaguePage {
    ctx: Ctx,
    chrome: Chrome,
    rows: Vec<LeagueRow>,
    outcomes_svg: String,
    hours_svg: String,
    figures: Vec<Figure>,
    breakdowns: Vec<(&'static str, Vec<(String, String)>)>,
    from: String,
    to: String,
    /// The period written out in the page language, for the lead ("1 januari 2026").
    period_words: (String, String),
    errors: Errors,
    may_pack: bool,
    platform_ids: Vec<(String, String)>,
}

impl LeaguePage {
    fn hours(&self, h: &Option<f64>) -> String {
        h.map_or_else(|| "—".to_owned(), |h| super::one_decimal(&self.ctx, h))
    }
    fn share(&self, r: &LeagueRow) -> String {
        r.honoured_share.map_or_else(|| "—".to_owned(), |s| format!("{:.0} %", s * 100.0))
    }
    fn pack_href(&self, r: &LeagueRow) -> Option<String> {
        if !self.may_pack {
            return None;
        }
        let id = self.platform_ids.iter().find(|(_, name)| *name == r.platform).map(|(id, _)| id)?;
        Some(format!("/staff/helpline/platforms/{id}/pack?from={}&to={}", self.from, self.to))
    }
    fn error(&self, name: &str) -> Option<&String> {
        self.errors.get(name)
    }
    /// The error summary: each line names its field by label, in the form's order.
    fn summary(&self) -> Vec<(String, String)> {
        super::summary_lines(
            &self.ctx,
            &self.errors,
            &[("from", t("helpline-league-from")), ("to", t("helpline-league-to"))],
        )
    }
}

fn date(s: &str) -> Option<OffsetDateTime> {
    time::Date::parse(s, &time::macros::format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|d| d.midnight().assume_utc())
}

fn ymd(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// The period asked for, or field errors (in the page language) and the default period.
fn period(console: &Console, q: &PeriodQuery, now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime, Errors) {
    let mut errors = Errors::default();
    let year_start = time::Date::from_calendar_date(now.year(), time::Month::January, 1)
        .map_or(OffsetDateTime::UNIX_EPOCH, |d| d.midnight().assume_utc());
    let mut pick = |field: &str, v: Option<&str>, default: OffsetDateTime| match v.filter(|v| !v.is_empty()) {
        None => default,
        Some(v) => date(v).unwrap_or_else(|| {
            errors.add(field, console.ctx.t("helpline-error-date"));
            default
        }),
    };
    // The last day is included: the period ends at the next midnight.
    let tomorrow = now.date().midnight().assume_utc() + time::Duration::DAY;
    let from = pick("from", q.from.as_deref(), year_start);
    let to = pick("to", q.to.as_deref(), now.date().midnight().assume_utc()) + time::Duration::DAY;
    if from >= to && errors.is_empty() {
        errors.add("to", console.ctx.t("helpline-error-period"));
        return (year_start, tomorrow, errors);
    }
    (from, to, errors)
}

fn count_rows(
    console: &Console,
    v: &serde_json::Value,
    key: &str,
    label: fn(&str) -> Option<&'static str>,
) -> Vec<(String, String)> {
    v[key]
        .as_object()
        .map(|m| {
            m.iter().map(|(k, n)| (label(k).map_or_else(|| k.clone(), |l| console.ctx.t(l)), n.to_string())).collect()
        })
        .unwrap_or_default()
}

/// The league table page.
pub async fn league(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, Response> {
    console.require(Permission::ViewHelplineFigures)?;
    let (from, to, errors) = period(&console, &q, state.now());
    let err = |e: crate::problem::ApiError| e.into_response();
    let store = state.store();
    let inputs = store.helpline_league_inputs(from, to).await.map_err(|e| err(e.into()))?;
    let rows = league_table(&inputs);
    let t = |k: &str| console.ctx.t(k);
    let outcomes_svg = chart::outcomes(
        &rows,
        [
            &t("helpline-chart-outcomes"),
            &t("helpline-league-honoured"),
            &t("helpline-league-refused"),
            &t("helpline-league-unanswered"),
            &t("helpline-league-pending"),
        ],
    )
    .map_err(|e| err(crate::problem::ApiError::Internal(format!("chart: {e}"))))?;
    let hours_svg = chart::median_hours(&rows, &t("helpline-chart-hours"))
        .map_err(|e| err(crate::problem::ApiError::Internal(format!("chart: {e}"))))?;
    let year = crate::api::helpline::figures_json(&state, from, to).await.map_err(err)?;
    let num = |k: &str| year[k].as_u64().map_or_else(|| "0".to_owned(), |n| n.to_string());
    let hrs = |k: &str| year[k].as_f64().map_or_else(|| "—".to_owned(), |h| super::one_decimal(&console.ctx, h));
    let figures = vec![
        Figure { key: super::t("helpline-figure-cases"), value: num("cases") },
        Figure { key: super::t("helpline-figure-sextortion"), value: num("sextortion") },
        Figure { key: super::t("helpline-figure-minor"), value: num("minor_involved") },
        Figure { key: super::t("helpline-figure-sent"), value: num("requests_sent") },
        Figure { key: super::t("helpline-league-honoured"), value: num("honoured") },
        Figure { key: super::t("helpline-league-refused"), value: num("refused") },
        Figure { key: super::t("helpline-league-unanswered"), value: num("unanswered") },
        Figure { key: super::t("helpline-league-median"), value: hrs("median_hours_to_removal") },
        Figure { key: super::t("helpline-league-p90"), value: hrs("p90_hours_to_removal") },
    ];
    let kinds = |k: &str| super::cases::IMAGE_KINDS.iter().find(|(v, _)| *v == k).map(|(_, l)| *l);
    let channels = |k: &str| super::cases::CHANNELS.iter().find(|(v, _)| *v == k).map(|(_, l)| *l);
    let referrals = |k: &str| Some(super::cases::referral_key(k));
    let breakdowns = vec![
        (super::t("helpline-figure-by-kind"), count_rows(&console, &year, "by_image_kind", kinds)),
        (super::t("helpline-figure-by-channel"), count_rows(&console, &year, "by_channel", channels)),
        (super::t("helpline-figure-by-municipality"), count_rows(&console, &year, "by_municipality", |_| None)),
        (super::t("helpline-figure-referrals"), count_rows(&console, &year, "referrals", referrals)),
    ];
    let may_pack = console.may(Permission::HelplineWork);
    let platform_ids = if may_pack {
        store.helpline_platforms().await.map_err(|e| err(e.into()))?.into_iter().map(|p| (p.id, p.name)).collect()
    } else {
        Vec::new()
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let period_words = (
        crate::staff::pages::names::date(&console.ctx, from.date()),
        crate::staff::pages::names::date(&console.ctx, (to - time::Duration::DAY).date()),
    );
    let page = LeaguePage {
        ctx: console.ctx,
        chrome: console.chrome,
        rows,
        outcomes_svg,
        hours_svg,
        figures,
        breakdowns,
        from: ymd(from),
        to: ymd(to - time::Duration::DAY),
        period_words,
        errors,
        may_pack,
        platform_ids,
    };
    Ok((status, page).into_response())
}

/// `GET /staff/helpline/platforms/{id}/pack?from=&to=`: the escalation pack for one platform,
/// without victim details (the API offers them on request; the page never does).
pub async fn pack(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, Response> {
    console.require(Permission::HelplineWork)?;
    let now = state.now();
    let from = q.from.as_deref().and_then(date).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    // As on the league page, the `to` day is included.
    let to =
        q.to.as_deref()
            .and_then(date)
            .map(|t| t + time::Duration::DAY)
            .filter(|t| *t > from)
            .unwrap_or(now.date().midnight().assume_utc() + time::Duration::DAY);
    let (bytes, _manifest_sha256) =
        crate::api::helpline::build_pack(&state, &id, from, to, false, &console.caller().principal())
            .await
            .map_err(IntoResponse::into_response)?;
    let name = format!("escalation-{id}.zip");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}
