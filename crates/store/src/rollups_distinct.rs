//! Distinct cases from rollups: the report's AI-generated sections (issue 6, issue 16) count
//! *distinct cases* with at least one notice (or content item) in the period, which is not a sum
//! over days. This module keeps them additive anyway, exactly.
//!
//! For one grouping key `K` (the values of `ai_generated`, `generator`, `category` the grouping
//! keeps, the others `TOTAL`), a case's days with a thing of key `K` are `d1 < d2 < … < dm`. A
//! period of whole days `[a, b]` holds a contiguous run `di … dj` of them, and the case counts once
//! if the run is not empty. The fact rows keep, per day, how many cases have their first thing of
//! key `K` *on that day* (`cd`: one per case-day) and, for each such case-day, the case's previous
//! day with key `K` (`prev_day`, empty when there is none). Over `[a, b]`:
//!
//! `cases(K) = Σ_{d∈[a,b]} cd(K, d) − Σ_{d∈[a,b], prev_day ≥ a} cd(K, d, prev_day)`
//!
//! since `(j − i + 1)` case-days minus the `(j − i)` links between consecutive days inside the
//! period leave exactly one per case present. `notices` (or `items`) are plain sums.
//!
//! Intake (the hot path) adds increments computed from the notices already in the same case (none
//! for a new case); content items refresh their day, as other facts do. Both assume the new thing
//! is the case's latest; an earlier one (a clock stepped back) recounts the affected days.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::report::{Column, Figure, Period, Table, TableRow};
use crate::rollups::{DAY_MS, Fact, SEP, finish_rows};
use crate::{Result, Store, StoreError, WriteTx, to_ms};

/// The groupings of the AI-generated sections (kept dimensions of `ai_generated`, `generator`,
/// `category`), the same as `report.rs`'s specs.
pub(crate) const LEVELS: [[bool; 3]; 4] =
    [[false, false, false], [true, false, false], [true, true, false], [true, true, true]];

/// The key of a thing at one level: kept values, `TOTAL` for the others.
fn level_key(level: [bool; 3], values: [&str; 3]) -> [String; 3] {
    [0, 1, 2].map(|i| if level[i] { values[i].to_owned() } else { "TOTAL".to_owned() })
}

/// SQL for one fact over `[$1, $2)`: `thing` is the table alias of the counted thing in `from`,
/// `values` its three key expressions with `{t}` for the alias, `case`, `at` and `id` its columns.
fn fact_sql(from: &str, values: [&str; 3]) -> String {
    let mut parts = Vec::new();
    for level in LEVELS {
        let expr = |i: usize, alias: &str| {
            if level[i] { values[i].replace("{t}", alias) } else { "'TOTAL'".to_owned() }
        };
        let same: String =
            (0..3).filter(|&i| level[i]).map(|i| format!(" AND {} = {}", expr(i, "e"), expr(i, "t"))).collect();
        let other = from.replace("{t}", "e");
        let day_start = format!("(t.at - (t.at % {DAY_MS}))");
        parts.push(format!(
            "SELECT t.at AS at, {a} AS ai_generated, {g} AS generator, {c} AS category, \
             CASE WHEN EXISTS (SELECT 1 FROM {other} WHERE e.case_id = t.case_id{same} \
               AND e.at >= {day_start} AND (e.at < t.at OR (e.at = t.at AND e.id < t.id))) THEN '' \
             ELSE COALESCE(CAST((SELECT MAX(e.at) FROM {other} WHERE e.case_id = t.case_id{same} \
               AND e.at < {day_start}) / {DAY_MS} AS TEXT), '') END AS prev_day, \
             CASE WHEN EXISTS (SELECT 1 FROM {other} WHERE e.case_id = t.case_id{same} \
               AND e.at >= {day_start} AND (e.at < t.at OR (e.at = t.at AND e.id < t.id))) THEN 0 ELSE 1 END AS cd \
             FROM {f} WHERE t.at >= $1 AND t.at < $2",
            a = expr(0, "t"),
            g = expr(1, "t"),
            c = expr(2, "t"),
            f = from.replace("{t}", "t"),
        ));
    }
    parts.join(" UNION ALL ")
}

/// The notices as `from` of [`fact_sql`]: `at`, `id`, `case_id` and the key columns.
const NOTICES_FROM: &str = "(SELECT n.received_at AS at, n.id AS id, n.case_id AS case_id, \
     n.ai_generated AS ai_generated, COALESCE(n.generator, 'none') AS generator, n.category AS category \
     FROM notices n) {t}";

/// The content items, with their case's category.
const ITEMS_FROM: &str = "(SELECT ci.created_at AS at, ci.id AS id, ci.case_id AS case_id, \
     COALESCE(ci.ai_generated, 'unknown') AS ai_generated, COALESCE(ci.generator, 'none') AS generator, \
     c.category AS category FROM content_items ci JOIN cases c ON c.id = ci.case_id) {t}";

const KEY_COLUMNS: [&str; 3] = ["{t}.ai_generated", "{t}.generator", "{t}.category"];

/// The two distinct-case facts: `ai_claims` (notices, by what notifiers claimed) and `ai_files`
/// (content items, by what the files say).
pub(crate) fn facts() -> Vec<Fact> {
    vec![
        Fact {
            name: "ai_claims",
            dims: &["ai_generated", "generator", "category", "prev_day"],
            counts: vec!["cd".into()],
            durations: &[],
            rows: fact_sql(NOTICES_FROM, KEY_COLUMNS),
        },
        Fact {
            name: "ai_files",
            dims: &["ai_generated", "generator", "category", "prev_day"],
            counts: vec!["cd".into()],
            durations: &[],
            rows: fact_sql(ITEMS_FROM, KEY_COLUMNS),
        },
    ]
}

/// One earlier thing of the same case: its key values and time (ms).
pub(crate) struct Earlier {
    pub values: [String; 3],
    pub at: i64,
}

impl WriteTx {
    /// Intake's increments of `ai_claims` for a notice received at `at` with key `values`, given
    /// the case's other notices (empty for a new case). Falls back to recounting the days when an
    /// other notice is not earlier than this one.
    pub(crate) async fn count_claim(&mut self, at: i64, values: [&str; 3], others: &[Earlier]) -> Result<()> {
        let day = at.div_euclid(DAY_MS);
        if let Some(last) = others.iter().map(|o| o.at).filter(|&o| o >= at).max() {
            let fact = facts()
                .into_iter()
                .find(|f| f.name == "ai_claims")
                .ok_or_else(|| StoreError::Corrupt("ai_claims".into()))?;
            self.refresh_rollup(&fact, day, last.div_euclid(DAY_MS) + 1).await?;
            return Ok(());
        }
        for level in LEVELS {
            let key = level_key(level, values);
            let same: Vec<i64> = others
                .iter()
                .filter(|o| level_key(level, [&o.values[0], &o.values[1], &o.values[2]]) == key)
                .map(|o| o.at.div_euclid(DAY_MS))
                .collect();
            let first_today = !same.contains(&day);
            let prev = if first_today { same.iter().copied().filter(|d| *d < day).max() } else { None };
            let dims =
                [key[0].as_str(), key[1].as_str(), key[2].as_str(), &prev.map(|d| d.to_string()).unwrap_or_default()]
                    .join(&SEP.to_string());
            self.add_increment("ai_claims", day, dims.clone(), "rows", 1);
            if first_today {
                self.add_increment("ai_claims", day, dims, "cd", 1);
            }
        }
        Ok(())
    }
}

impl Store {
    /// A distinct-case section (`ai_generated_files` from `ai_files`, `ai_generated_claims` from
    /// `ai_claims`) over whole-day `period`, with the columns of `report.rs`'s spec: `cases`, and
    /// for claims `notices`.
    pub(crate) async fn distinct_case_table(
        &self,
        fact: &str,
        name: &'static str,
        title: &'static str,
        dims: &'static [&'static str],
        columns: &[Column],
        period: Period,
    ) -> Result<Table> {
        let first_day = to_ms(period.from).div_euclid(DAY_MS);
        // Summed over the days by the database: one row per key × previous day × metric.
        let rows = sqlx::query(
            "SELECT dims, metric, CAST(SUM(n) AS BIGINT) AS n FROM rollups \
             WHERE fact = $1 AND day >= $2 AND day < $3 GROUP BY dims, metric",
        )
        .bind(fact)
        .bind(first_day)
        .bind(to_ms(period.until).div_euclid(DAY_MS))
        .fetch_all(&self.pool)
        .await?;
        // key → (cases, things)
        let mut groups: BTreeMap<Vec<String>, (i64, i64)> = BTreeMap::new();
        for r in &rows {
            let text: String = r.try_get("dims")?;
            let metric: String = r.try_get("metric")?;
            let n: i64 = r.try_get("n")?;
            let parts: Vec<&str> = text.split(SEP).collect();
            let [a, g, c, prev] = parts[..] else {
                return Err(StoreError::Corrupt(format!("{fact} rollup dims `{text}`")));
            };
            let acc = groups.entry(vec![a.to_owned(), g.to_owned(), c.to_owned()]).or_default();
            match metric.as_str() {
                "rows" => acc.1 += n,
                "cd" => {
                    let linked_inside = match prev {
                        "" => false,
                        p => p.parse::<i64>().map_err(|_| StoreError::Corrupt(format!("prev_day `{p}`")))? >= first_day,
                    };
                    if !linked_inside {
                        acc.0 += n;
                    }
                }
                _ => {}
            }
        }
        let figure = |key: &str, (cases, things): (i64, i64)| match key {
            "cases" => Figure::Count(cases),
            _ => Figure::Count(things),
        };
        let table_rows = groups
            .into_iter()
            .map(|(keys, acc)| TableRow { keys, figures: columns.iter().map(|c| figure(c.key, acc)).collect() })
            .collect();
        let empty: Vec<Figure> = columns.iter().map(|_| Figure::Count(0)).collect();
        Ok(Table {
            name,
            title,
            dims: dims.to_vec(),
            columns: columns.to_vec(),
            rows: finish_rows(table_rows, dims.len(), &empty),
        })
    }
}
