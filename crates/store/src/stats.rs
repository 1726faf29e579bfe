//! Operational statistics for staff (`GET /api/v1/stats`) and the gauges `/metrics` reads at
//! scrape time: time to action by source and category, deadline misses, AI-generated share by
//! generator and hash-bank matches.
//!
//! DSA Art. 16(6) (timely processing), Art. 22 (trusted flaggers first) and design.md §7
//! ("dashboards with charts: time to action, by source/category, AI-generated share by
//! generator"). Figures come from the same SQL engine as the transparency report (`report.rs`):
//! percentiles are nearest-rank (`⌈p·n/100⌉`-th value), computed by window functions in the
//! database. Time to action is a notice's first decision minus its receipt, counted when that
//! decision falls in the period; a case is *decided late* when its first decision came after its
//! deadline, *open past deadline* when it still waits at `now`.

use sqlx::Row;
use time::OffsetDateTime;

use crate::report::{
    Calc, Column, FIRST_DECIDED_IN_PERIOD, FIRST_DECISION, Figure, Period, Spec, Table, TableRow, agg, count_if,
};
use crate::rollups::{RollupTable, Src, finish_rows};
use crate::{Result, Store, to_ms};

/// Statistics of one period.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// The period.
    pub period: Period,
    /// Time to action (ms) by source and by category: dims `source`, `category`; columns
    /// `decided`, `p50`, `p90`, `p99`.
    pub time_to_action: Table,
    /// Deadlines by category: `decided`, `decided_late`, `open_past_deadline` (at `now`).
    pub deadlines: Table,
    /// Screened files by generator (content items created in the period): `items`,
    /// `ai_generated_yes`, `ai_generated_no`, `edited_yes`.
    pub ai_by_generator: Table,
    /// Screenings with a match in each bank.
    pub bank_matches: Vec<BankMatches>,
}

/// Screenings in the period that matched one bank, by verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankMatches {
    /// Bank name.
    pub bank: String,
    /// Screenings with at least one match in it.
    pub screenings: i64,
    /// Of which blocked.
    pub blocked: i64,
    /// Of which held.
    pub held: i64,
    /// Of which allowed (flag-only matches).
    pub allowed: i64,
}

/// Open cases and how many of them are past their deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueGauges {
    /// Cases waiting for a first decision.
    pub open: i64,
    /// Of which past their deadline.
    pub overdue: i64,
}

fn specs() -> [Spec; 3] {
    let time_to_action = Spec {
        name: "time_to_action",
        title: "Time to action",
        ctes: "",
        base: format!(
            "SELECT n.source AS source, n.category AS category, fd.decided_at - n.received_at AS tta \
             FROM notices n {FIRST_DECISION} WHERE {FIRST_DECIDED_IN_PERIOD} AND fd.decided_at >= $1"
        ),
        dims: &["source", "category"],
        groupings: &[&[], &["source"], &["category"]],
        columns: vec![
            ("decided", "Notices decided", agg("COUNT(*)")),
            ("p50", "50th percentile", Calc::Pct("tta", 50)),
            ("p90", "90th percentile", Calc::Pct("tta", 90)),
            ("p99", "99th percentile", Calc::Pct("tta", 99)),
        ],
    };
    let deadlines = Spec {
        name: "deadlines",
        title: "Deadlines",
        ctes: "f AS (SELECT case_id, MIN(decided_at) AS first_at FROM decisions WHERE replaces IS NULL \
               GROUP BY case_id)",
        base: "SELECT c.category AS category, \
               CASE WHEN f.first_at >= $1 AND f.first_at < $2 THEN 1 ELSE 0 END AS decided, \
               CASE WHEN f.first_at >= $1 AND f.first_at < $2 AND f.first_at > c.deadline_at THEN 1 ELSE 0 END \
                 AS late, \
               CASE WHEN c.state IN ('new', 'in_review') AND c.deadline_at < $3 THEN 1 ELSE 0 END AS overdue \
               FROM cases c LEFT JOIN f ON f.case_id = c.id \
               WHERE (f.first_at >= $1 AND f.first_at < $2) OR (c.state IN ('new', 'in_review') AND c.deadline_at < $3)"
            .to_owned(),
        dims: &["category"],
        groupings: &[&[], &["category"]],
        columns: vec![
            ("decided", "Cases decided", agg("SUM(decided)")),
            ("decided_late", "Cases decided after their deadline", agg("SUM(late)")),
            ("open_past_deadline", "Open cases past their deadline", agg("SUM(overdue)")),
        ],
    };
    let ai = Spec {
        name: "ai_by_generator",
        title: "Screened files by generator",
        ctes: "",
        base: "SELECT COALESCE(generator, 'none') AS generator, ai_generated, edited FROM content_items \
               WHERE created_at >= $1 AND created_at < $2"
            .to_owned(),
        dims: &["generator"],
        groupings: &[&[], &["generator"]],
        columns: vec![
            ("items", "Files", agg("COUNT(*)")),
            ("ai_generated_yes", "AI-generated", count_if("ai_generated = 'yes'")),
            ("ai_generated_no", "Not AI-generated", count_if("ai_generated = 'no'")),
            ("edited_yes", "Edited", count_if("edited = 'yes'")),
        ],
    };
    [time_to_action, deadlines, ai]
}

impl Store {
    /// Statistics for `period`, with open cases judged at `now`.
    pub async fn stats(&self, period: Period, now: OffsetDateTime) -> Result<Stats> {
        let [tta, deadlines, ai] = specs();
        let (time_to_action, deadlines) = if crate::rollups::whole_days(period) {
            self.stats_from_rollups(&tta, &deadlines, period, now).await?
        } else {
            (self.table(&tta, period, now).await?, self.table(&deadlines, period, now).await?)
        };
        let ai_by_generator = self.table(&ai, period, now).await?;
        // A screening's matches are stored as JSON text; `"bank":"<name>"` occurs in it once per
        // matching entry. REPLACE/LENGTH is the portable substring test (no JSON functions needed).
        let rows = sqlx::query(
            "SELECT b.name AS bank, COUNT(s.id) AS screenings, \
             CAST(COALESCE(SUM(CASE WHEN s.verdict = 'block' THEN 1 ELSE 0 END), 0) AS BIGINT) AS blocked, \
             CAST(COALESCE(SUM(CASE WHEN s.verdict = 'hold' THEN 1 ELSE 0 END), 0) AS BIGINT) AS held, \
             CAST(COALESCE(SUM(CASE WHEN s.verdict = 'allow' THEN 1 ELSE 0 END), 0) AS BIGINT) AS allowed \
             FROM banks b LEFT JOIN screenings s ON s.at_ms >= $1 AND s.at_ms < $2 \
             AND LENGTH(REPLACE(s.matches, '\"bank\":\"' || b.name || '\"', '')) < LENGTH(s.matches) \
             GROUP BY b.name ORDER BY b.name",
        )
        .bind(to_ms(period.from))
        .bind(to_ms(period.until))
        .fetch_all(&self.pool)
        .await?;
        let mut bank_matches = Vec::with_capacity(rows.len());
        for r in &rows {
            bank_matches.push(BankMatches {
                bank: r.try_get("bank")?,
                screenings: r.try_get("screenings")?,
                blocked: r.try_get("blocked")?,
                held: r.try_get("held")?,
                allowed: r.try_get("allowed")?,
            });
        }
        Ok(Stats { period, time_to_action, deadlines, ai_by_generator, bank_matches })
    }

    /// Statistics for `period` computed from the rows alone (the reference for the rollups).
    pub async fn stats_sql(&self, period: Period, now: OffsetDateTime) -> Result<Stats> {
        let [tta, deadlines, _] = specs();
        let mut s = self.stats(period, now).await?;
        s.time_to_action = self.table(&tta, period, now).await?;
        s.deadlines = self.table(&deadlines, period, now).await?;
        Ok(s)
    }

    /// Time to action and deadlines from the rollups; open cases past their deadline are counted
    /// at `now` from the open cases themselves.
    async fn stats_from_rollups(
        &self,
        tta: &Spec,
        deadlines: &Spec,
        period: Period,
        now: OffsetDateTime,
    ) -> Result<(Table, Table)> {
        let mut cache = std::collections::HashMap::new();
        let time_to_action = self
            .rollup_table(
                &RollupTable {
                    name: tta.name,
                    title: tta.title,
                    dims: tta.dims,
                    groupings: tta.groupings,
                    only: None,
                    columns: vec![
                        ("decided", "Notices decided", Src::Sum("notice_decided", "rows", None)),
                        ("p50", "50th percentile", Src::Pct("notice_decided", "tta", 50)),
                        ("p90", "90th percentile", Src::Pct("notice_decided", "tta", 90)),
                        ("p99", "99th percentile", Src::Pct("notice_decided", "tta", 99)),
                    ],
                },
                period,
                &mut cache,
            )
            .await?;
        let decided = self
            .rollup_table(
                &RollupTable {
                    name: deadlines.name,
                    title: deadlines.title,
                    dims: deadlines.dims,
                    groupings: deadlines.groupings,
                    only: None,
                    columns: vec![
                        ("decided", "Cases decided", Src::Sum("case_decided", "rows", None)),
                        ("decided_late", "Cases decided after their deadline", Src::Sum("case_decided", "late", None)),
                    ],
                },
                period,
                &mut cache,
            )
            .await?;
        let open = Spec {
            name: deadlines.name,
            title: deadlines.title,
            ctes: "",
            base: "SELECT c.category AS category FROM cases c WHERE c.state IN ('new', 'in_review') AND c.deadline_at < $3"
                .to_owned(),
            dims: deadlines.dims,
            groupings: deadlines.groupings,
            columns: vec![("open_past_deadline", "Open cases past their deadline", agg("COUNT(*)"))],
        };
        let open = self.table(&open, period, now).await?;
        // Both tables have a TOTAL row; the others are the union of their keys.
        let mut rows: std::collections::BTreeMap<Vec<String>, [i64; 3]> = std::collections::BTreeMap::new();
        for r in &decided.rows {
            let e = rows.entry(r.keys.clone()).or_default();
            e[0] = r.figures[0].count().unwrap_or(0);
            e[1] = r.figures[1].count().unwrap_or(0);
        }
        for r in &open.rows {
            rows.entry(r.keys.clone()).or_default()[2] = r.figures[0].count().unwrap_or(0);
        }
        let rows = rows
            .into_iter()
            .map(|(keys, f)| TableRow { keys, figures: f.iter().map(|n| Figure::Count(*n)).collect() })
            .collect();
        let deadlines = Table {
            name: deadlines.name,
            title: deadlines.title,
            dims: deadlines.dims.to_vec(),
            columns: deadlines.columns.iter().map(|(key, label, _)| Column { key, label }).collect(),
            rows: finish_rows(rows, deadlines.dims.len(), &[Figure::Count(0); 3]),
        };
        Ok((time_to_action, deadlines))
    }

    /// Open cases and overdue open cases at `now` (the `/metrics` gauges).
    pub async fn queue_gauges(&self, now: OffsetDateTime) -> Result<QueueGauges> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS open, \
             CAST(COALESCE(SUM(CASE WHEN deadline_at < $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue \
             FROM cases WHERE state IN ('new', 'in_review')",
        )
        .bind(to_ms(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueGauges { open: row.try_get("open")?, overdue: row.try_get("overdue")? })
    }
}
