//! The transparency report's figures, computed in the database (DSA Art. 15(1), Art. 24(1); the
//! quantitative template of Implementing Regulation (EU) 2024/2835, specs/dsa.md §4).
//!
//! Every count, median and percentile is one SQL statement per table, portable between SQLite
//! (≥ 3.25, window functions) and PostgreSQL 15: rows are never loaded into Rust, so a year of a
//! busy service costs the database one sort per figure, not the process its memory. A table is
//! built by [`Spec`]: a `base` query yields one row per counted thing (a notice, a decision, an
//! appeal…) with its dimensions and measures; each *grouping* copies those rows with the dimensions
//! it does not keep replaced by `TOTAL` (so `TOTAL` rows and per-category rows come from one
//! statement), and every figure is an aggregate over a group. A median is the mean of the one or two
//! middle values of the group ordered by value (`ROW_NUMBER()` against `COUNT(*)` over the same
//! window); a percentile `p` is the nearest-rank value, the one at rank `⌈p·n/100⌉`.
//!
//! # The period
//!
//! `[from, until)`: the report's first day at 00:00 UTC up to the day after its last day. What is
//! *received* in the period (notices, orders, complaints) is counted by its receipt time; what is
//! *done* in the period (first decisions, complaint decisions, misuse measures) by the time it was
//! done, so consecutive periods count every action exactly once and a report over a closed period
//! never changes.
//!
//! # The figures
//!
//! - **First decision** of a notice: the earliest decision answering it that is not the replacement
//!   of an earlier one after a complaint (`decisions.replaces IS NULL`). *Time to action* (and, for
//!   orders, *time to give effect*) is its `decided_at` minus the notice's `received_at`; it counts
//!   when that decision falls in the period, whether or not it restricted anything (deciding to take
//!   no action is also acting on a notice). An *action* on the basis of law / of the terms is a first
//!   decision that restricts with ground `illegal` / `incompatible`. *Processed by solely automated
//!   means*: its `automated_decision` is `fully`; *partly*: `partially`.
//! - **Orders** (Art. 15(1)(a), template sheet 3): notices with source `authority_order`, by issuing
//!   member state (`order_member_state`), kind (`order_kind`) and category. *Time to confirm receipt*:
//!   the delivery of the confirmation of receipt (outbox topic `notice.received`) minus receipt; an
//!   order filed with the authority's key and no contact address is confirmed by the API's synchronous
//!   receipt, time 0; a confirmation not yet delivered leaves the order out of that median.
//! - **Items** of a notice or order: its locations, or for a hash-only report its hashes.
//! - **Notices** (Art. 15(1)(b), sheet 4): sources `article_16` and `trusted_flagger`, every column
//!   also for trusted flaggers alone (`…_tf`). `notices_by_source` gives the same for every source.
//! - **Own-initiative measures** (Art. 15(1)(c), sheets 5–6): restricting first decisions in the
//!   period whose notices all have source `own_initiative` or `automated_match` (a platform's own
//!   report, a hash-bank match), split by basis (`law`: ground illegal, `terms`: incompatible), with
//!   how many followed detection by automated means (`automated_detection`), how many were decided by
//!   solely automated means, how many came from a hash match, and counts per restriction type (one
//!   decision may count under several types).
//! - **Complaints** (Art. 15(1)(d), 20; sheet 7): appeals received in the period, and those decided in
//!   it by outcome — `upheld`, `modified` (the template's *partially reversed*), `reversed` — with the
//!   median time from receipt to decision.
//! - **Suspensions** (Art. 24(1)(b)): Art. 23 measures taken in the period. staydown records Art. 23(2)
//!   measures against notifiers of manifestly unfounded notices; restrictions of uploaders' accounts
//!   are Art. 17 decisions and are counted under the restriction types.
//! - **AI-generated content** (issue 6): cases by `ai_generated` × generator × category — once from
//!   what the files say about themselves (content items created in the period), once from what
//!   notifiers claimed (notices received in the period). Both count distinct cases.

use std::fmt::Write as _;

use sqlx::{AssertSqlSafe, Row};
use time::{Date, OffsetDateTime};

use crate::rollups::{RollupTable, Src};
use crate::{Result, Store, to_ms};

mod specs;

pub(crate) use specs::{FIRST_DECIDED_IN_PERIOD, FIRST_DECISION, ITEMS, OWN_INITIATIVE_BASE, restriction_columns};
use specs::{NOTICE_SOURCES, notices_base, notices_spec, rollup_spec, specs};

/// A half-open span of time `[from, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First moment included.
    pub from: OffsetDateTime,
    /// First moment excluded.
    pub until: OffsetDateTime,
}

impl Period {
    /// Whole UTC days from `first` through `last` (inclusive).
    pub fn days(first: Date, last: Date) -> Self {
        let until = last.next_day().map_or_else(|| last.midnight().assume_utc(), |d| d.midnight().assume_utc());
        Self { from: first.midnight().assume_utc(), until }
    }

    /// The template's `Reporting period` (`YYYY-MM-DD/YYYY-MM-DD`, last day inclusive).
    pub fn label(&self) -> String {
        let last = (self.until - time::Duration::nanoseconds(1)).date();
        format!("{}/{last}", self.from.date())
    }
}

/// One figure of a table row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    /// A count.
    Count(i64),
    /// A duration in milliseconds (a median or percentile); `None` when nothing was measured.
    Millis(Option<f64>),
}

impl Figure {
    /// The count, if this is one.
    pub fn count(self) -> Option<i64> {
        match self {
            Figure::Count(n) => Some(n),
            Figure::Millis(_) => None,
        }
    }

    /// The duration, if this is one and something was measured.
    pub fn millis(self) -> Option<f64> {
        match self {
            Figure::Millis(ms) => ms,
            Figure::Count(_) => None,
        }
    }
}

/// What a column of a table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Machine name (JSON key).
    pub key: &'static str,
    /// Human name, in the template's wording where it has one.
    pub label: &'static str,
}

/// One row: its dimension values (or `TOTAL`) and one figure per column.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// Values of the table's dimensions, in order.
    pub keys: Vec<String>,
    /// Figures, one per column.
    pub figures: Vec<Figure>,
}

/// One section of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Machine name.
    pub name: &'static str,
    /// Heading.
    pub title: &'static str,
    /// Dimension names (e.g. `member_state`, `category`).
    pub dims: Vec<&'static str>,
    /// The columns.
    pub columns: Vec<Column>,
    /// Rows: the all-`TOTAL` row first, then the rest in key order.
    pub rows: Vec<TableRow>,
}

impl Table {
    /// The row with exactly these keys.
    pub fn row(&self, keys: &[&str]) -> Option<&TableRow> {
        self.rows.iter().find(|r| r.keys.iter().map(String::as_str).eq(keys.iter().copied()))
    }

    /// One figure by row keys and column key.
    pub fn figure(&self, keys: &[&str], column: &str) -> Option<Figure> {
        let idx = self.columns.iter().position(|c| c.key == column)?;
        self.row(keys).map(|r| r.figures[idx])
    }
}

/// The transparency report of one period.
#[derive(Debug, Clone, PartialEq)]
pub struct TransparencyReport {
    /// The period.
    pub period: Period,
    /// Sections, in template order.
    pub tables: Vec<Table>,
}

impl TransparencyReport {
    /// A section by name.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Where `self` and `other` differ: tables, columns, row keys, counts, and durations more than
    /// `tolerance_ms` apart (one line each; empty when they agree).
    pub fn differences(&self, other: &TransparencyReport, tolerance_ms: f64) -> Vec<String> {
        let mut out = Vec::new();
        if self.tables.len() != other.tables.len() {
            out.push(format!("{} tables against {}", self.tables.len(), other.tables.len()));
        }
        for (a, b) in self.tables.iter().zip(&other.tables) {
            if a.name != b.name || a.columns != b.columns {
                out.push(format!("table {} against {}: different columns", a.name, b.name));
                continue;
            }
            let keys = |t: &Table| t.rows.iter().map(|r| r.keys.clone()).collect::<Vec<_>>();
            if keys(a) != keys(b) {
                out.push(format!("{}: rows {:?} against {:?}", a.name, keys(a), keys(b)));
                continue;
            }
            for (ra, rb) in a.rows.iter().zip(&b.rows) {
                for ((col, fa), fb) in a.columns.iter().zip(&ra.figures).zip(&rb.figures) {
                    let same = match (fa, fb) {
                        (Figure::Count(x), Figure::Count(y)) => x == y,
                        (Figure::Millis(Some(x)), Figure::Millis(Some(y))) => (x - y).abs() <= tolerance_ms,
                        (Figure::Millis(None), Figure::Millis(None)) => true,
                        _ => false,
                    };
                    if !same {
                        out.push(format!("{} {:?} {}: {fa:?} against {fb:?}", a.name, ra.keys, col.key));
                    }
                }
            }
        }
        out
    }
}

/// How a column is computed.
#[derive(Debug, Clone)]
pub(crate) enum Calc {
    /// An aggregate over the group's rows (`SUM(…)`, `COUNT(…)`), read as a BIGINT.
    Agg(String),
    /// The median of a base column (NULLs are not in the sample).
    Median(&'static str),
    /// The nearest-rank percentile of a base column.
    Pct(&'static str, u32),
}

/// A table to compute: see the module docs.
#[derive(Debug)]
pub(crate) struct Spec {
    pub name: &'static str,
    pub title: &'static str,
    /// Extra common table expressions placed before `base` (`name AS (…)`, comma-separated).
    pub ctes: &'static str,
    /// One row per counted thing; `$1` is the period's start, `$2` its end (ms), `$3` "now".
    pub base: String,
    pub dims: &'static [&'static str],
    /// For each grouping, the dimensions it keeps (the others become `TOTAL`).
    pub groupings: &'static [&'static [&'static str]],
    pub columns: Vec<(&'static str, &'static str, Calc)>,
}

/// An aggregate column.
pub(crate) fn agg(expr: &str) -> Calc {
    Calc::Agg(expr.to_owned())
}

/// How many rows of the group satisfy `cond`.
pub(crate) fn count_if(cond: &str) -> Calc {
    Calc::Agg(format!("SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)"))
}

impl Spec {
    fn sql(&self) -> String {
        let keys: Vec<String> = (0..self.dims.len()).map(|i| format!("k{i}")).collect();
        let key_list = keys.join(", ");
        let mut sql = String::from("WITH ");
        if !self.ctes.is_empty() {
            sql.push_str(self.ctes);
            sql.push_str(", ");
        }
        let _ = write!(sql, "base AS ({}), g AS (", self.base);
        for (gi, kept) in self.groupings.iter().enumerate() {
            if gi > 0 {
                sql.push_str(" UNION ALL ");
            }
            let exprs: Vec<String> = self
                .dims
                .iter()
                .zip(&keys)
                .map(|(dim, k)| {
                    if kept.contains(dim) {
                        format!("CAST(base.{dim} AS TEXT) AS {k}")
                    } else {
                        format!("CAST('TOTAL' AS TEXT) AS {k}")
                    }
                })
                .collect();
            if exprs.is_empty() {
                sql.push_str("SELECT base.* FROM base");
            } else {
                let _ = write!(sql, "SELECT {}, base.* FROM base", exprs.join(", "));
            }
        }
        sql.push(')');
        // One windowed pass per measured base column serves its median and percentiles.
        let mut measured: Vec<&str> = Vec::new();
        for (_, _, calc) in &self.columns {
            if let Calc::Median(col) | Calc::Pct(col, _) = calc
                && !measured.contains(col)
            {
                measured.push(col);
            }
        }
        let partition = if keys.is_empty() { String::new() } else { format!("PARTITION BY {key_list}") };
        for (mi, col) in measured.iter().enumerate() {
            let mut aggs = vec![
                "CAST(AVG(CASE WHEN rn IN ((cnt + 1) / 2, (cnt + 2) / 2) THEN v END) AS DOUBLE PRECISION) AS median"
                    .to_owned(),
            ];
            for (_, _, calc) in &self.columns {
                if let Calc::Pct(c, p) = calc
                    && c == col
                {
                    aggs.push(format!(
                        "CAST(MAX(CASE WHEN rn = (cnt * {p} + 99) / 100 THEN v END) AS DOUBLE PRECISION) AS p{p}"
                    ));
                }
            }
            let select_keys = if keys.is_empty() { String::new() } else { format!("{key_list}, ") };
            let group = if keys.is_empty() { String::new() } else { format!(" GROUP BY {key_list}") };
            let _ = write!(
                sql,
                ", m{mi} AS (SELECT {select_keys}{} FROM (SELECT {select_keys}{col} AS v, \
                 ROW_NUMBER() OVER ({partition} ORDER BY {col}) AS rn, COUNT(*) OVER ({partition}) AS cnt \
                 FROM g WHERE {col} IS NOT NULL) w{group})",
                aggs.join(", ")
            );
        }
        let mut counts = Vec::new();
        for (ci, (_, _, calc)) in self.columns.iter().enumerate() {
            if let Calc::Agg(expr) = calc {
                counts.push(format!("CAST(COALESCE({expr}, 0) AS BIGINT) AS c{ci}"));
            }
        }
        if counts.is_empty() {
            counts.push("COUNT(*) AS c_rows".to_owned());
        }
        let select_keys = if keys.is_empty() { String::new() } else { format!("{key_list}, ") };
        let group = if keys.is_empty() { String::new() } else { format!(" GROUP BY {key_list}") };
        let _ = write!(sql, ", c AS (SELECT {select_keys}{} FROM g{group})", counts.join(", "));
        // The final select: counts joined with each measured column's quantiles.
        let mut out: Vec<String> = keys.iter().map(|k| format!("c.{k}")).collect();
        for (ci, (_, _, calc)) in self.columns.iter().enumerate() {
            match calc {
                Calc::Agg(_) => out.push(format!("c.c{ci}")),
                Calc::Median(col) => {
                    let mi = measured.iter().position(|m| m == col).unwrap_or(0);
                    out.push(format!("m{mi}.median AS q{ci}"));
                }
                Calc::Pct(col, p) => {
                    let mi = measured.iter().position(|m| m == col).unwrap_or(0);
                    out.push(format!("m{mi}.p{p} AS q{ci}"));
                }
            }
        }
        let _ = write!(sql, " SELECT {} FROM c", out.join(", "));
        for mi in 0..measured.len() {
            let on = if keys.is_empty() {
                "1 = 1".to_owned()
            } else {
                keys.iter().map(|k| format!("m{mi}.{k} = c.{k}")).collect::<Vec<_>>().join(" AND ")
            };
            let _ = write!(sql, " LEFT JOIN m{mi} ON {on}");
        }
        sql
    }
}

impl Store {
    /// Computes one table over `period`; `now` is `$3` for specs that need it.
    pub(crate) async fn table(&self, spec: &Spec, period: Period, now: OffsetDateTime) -> Result<Table> {
        let sql = spec.sql();
        // PostgreSQL refuses a parameter the statement does not use.
        let uses_now = sql.contains("$3");
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(to_ms(period.from)).bind(to_ms(period.until));
        if uses_now {
            query = query.bind(to_ms(now));
        }
        let rows = query.fetch_all(&self.pool).await?;
        let n_keys = spec.dims.len();
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut keys = Vec::with_capacity(n_keys);
            for i in 0..n_keys {
                keys.push(row.try_get::<String, _>(i)?);
            }
            let mut figures = Vec::with_capacity(spec.columns.len());
            for (ci, (_, _, calc)) in spec.columns.iter().enumerate() {
                figures.push(match calc {
                    Calc::Agg(_) => Figure::Count(row.try_get::<i64, _>(n_keys + ci)?),
                    Calc::Median(_) | Calc::Pct(..) => Figure::Millis(row.try_get::<Option<f64>, _>(n_keys + ci)?),
                });
            }
            out.push(TableRow { keys, figures });
        }
        // TOTAL first, then by keys; an empty period still has its (zero) TOTAL row.
        let total: Vec<String> = vec!["TOTAL".to_owned(); n_keys];
        if !out.iter().any(|r| r.keys == total) {
            let figures = spec
                .columns
                .iter()
                .map(|(_, _, calc)| match calc {
                    Calc::Agg(_) => Figure::Count(0),
                    _ => Figure::Millis(None),
                })
                .collect();
            out.push(TableRow { keys: total, figures });
        }
        out.sort_by(|a, b| {
            let rank = |r: &TableRow| r.keys.iter().map(|k| k != "TOTAL").collect::<Vec<_>>();
            rank(a).cmp(&rank(b)).then_with(|| a.keys.cmp(&b.keys))
        });
        Ok(Table {
            name: spec.name,
            title: spec.title,
            dims: spec.dims.to_vec(),
            columns: spec.columns.iter().map(|(key, label, _)| Column { key, label }).collect(),
            rows: out,
        })
    }

    /// The transparency report for `period` (see the module docs for every figure's definition):
    /// every section from the rollups (`rollups.rs`; the distinct-case AI-generated sections
    /// through `rollups_distinct.rs`) when the period is whole UTC days; from the rows alone
    /// ([`Store::transparency_report_sql`]) otherwise.
    pub async fn transparency_report(&self, period: Period) -> Result<TransparencyReport> {
        if !crate::rollups::whole_days(period) {
            return self.transparency_report_sql(period).await;
        }
        let specs = specs();
        // Every fact the additive sections read, loaded concurrently (one connection each), while
        // the two distinct-case sections are computed; a fact left out here would be loaded on
        // first use by `rollup_table`, so this list only decides what runs in parallel.
        let load = |fact: &'static str| async move {
            Ok::<_, crate::StoreError>((fact, self.load_rollups(fact, period).await?))
        };
        let prefetch = async {
            let loaded = tokio::try_join!(
                load("notice_received"),
                load("notice_decided"),
                load("order_ack"),
                load("own_initiative"),
                load("appeal_received"),
                load("appeal_decided"),
                load("misuse"),
            )?;
            Ok::<_, crate::StoreError>(std::collections::HashMap::from([
                loaded.0, loaded.1, loaded.2, loaded.3, loaded.4, loaded.5, loaded.6,
            ]))
        };
        let distinct = |name: &'static str| {
            let spec = specs.iter().find(|s| s.name == name);
            async move {
                let spec = spec.ok_or_else(|| crate::StoreError::Corrupt(format!("no section {name}")))?;
                self.rollup_section(spec, period, &mut std::collections::HashMap::new()).await
            }
        };
        let (mut cache, files, claims) =
            tokio::try_join!(prefetch, distinct("ai_generated_files"), distinct("ai_generated_claims"))?;
        let mut tables = Vec::new();
        for spec in &specs {
            tables.push(match spec.name {
                "ai_generated_files" => files.clone(),
                "ai_generated_claims" => claims.clone(),
                _ => self.rollup_section(spec, period, &mut cache).await?,
            });
        }
        Ok(TransparencyReport { period, tables })
    }

    /// One section from the rollups: additive sections through `rollups.rs`, the distinct-case
    /// (AI-generated) sections through `rollups_distinct.rs`.
    async fn rollup_section(
        &self,
        spec: &Spec,
        period: Period,
        cache: &mut std::collections::HashMap<&'static str, Vec<crate::rollups::Loaded>>,
    ) -> Result<Table> {
        if let Some(r) = rollup_spec(spec) {
            return self.rollup_table(&r, period, cache).await;
        }
        let fact = match spec.name {
            "ai_generated_files" => "ai_files",
            "ai_generated_claims" => "ai_claims",
            other => return Err(crate::StoreError::Corrupt(format!("no rollup for section {other}"))),
        };
        let columns: Vec<Column> = spec.columns.iter().map(|(key, label, _)| Column { key, label }).collect();
        self.distinct_case_table(fact, spec.name, spec.title, spec.dims, &columns, period).await
    }

    /// The transparency report for `period` computed from the rows alone, by row-scanning SQL
    /// (the reference the rollups are checked against, and any period that is not whole days).
    pub async fn transparency_report_sql(&self, period: Period) -> Result<TransparencyReport> {
        let now = period.until;
        let mut tables = Vec::new();
        for spec in specs() {
            tables.push(self.table(&spec, period, now).await?);
        }
        Ok(TransparencyReport { period, tables })
    }

    /// The notices table alone (benchmarks compare it with a computation in Rust).
    pub async fn report_notices(&self, period: Period) -> Result<Table> {
        self.table(&notices_spec(), period, period.until).await
    }

    /// The rows the notices table is computed from, loaded in full: only for the benchmark's
    /// reference computation, which shows what the SQL spares the process. Each row is
    /// `(category, trusted_flagger, received_in_period, items, first decision in the period as
    /// (decided_at − received_at ms, restricts, ground))`.
    pub async fn report_notice_rows(&self, period: Period) -> Result<Vec<NoticeRow>> {
        let sql = format!("WITH base AS ({}) SELECT * FROM base", notices_base(NOTICE_SOURCES));
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(to_ms(period.from))
            .bind(to_ms(period.until))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(NoticeRow {
                    category: r.try_get("category")?,
                    trusted_flagger: r.try_get::<i64, _>("tf")? == 1,
                    received: r.try_get::<i64, _>("rec")? == 1,
                    items: r.try_get("items")?,
                    time_to_action_ms: r.try_get("tta")?,
                    restricts: r.try_get::<Option<i64>, _>("restricts")? == Some(1),
                    ground: r.try_get("ground")?,
                    automated_decision: r.try_get("automated_decision")?,
                })
            })
            .collect()
    }
}

/// One notice as the benchmark's reference loads it (see [`Store::report_notice_rows`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    /// Category.
    pub category: String,
    /// Filed by a trusted flagger.
    pub trusted_flagger: bool,
    /// Received in the period.
    pub received: bool,
    /// Items it names.
    pub items: i64,
    /// Time to its first decision, when that decision is in the period.
    pub time_to_action_ms: Option<i64>,
    /// That decision restricts.
    pub restricts: bool,
    /// Its ground (`illegal`, `incompatible`).
    pub ground: Option<String>,
    /// Its automation (`fully`, `partially`, `not_automated`).
    pub automated_decision: Option<String>,
}
