//! Rollups: the transparency report (DSA Art. 15(1), 24(1)) and `/api/v1/stats` from aggregates
//! kept up to date in the transaction of every write that changes them (issue 16).
//!
//! A *fact* is one kind of counted thing with the day it counts on: a notice received
//! (`notice_received`, receipt day), a notice's first decision (`notice_decided`, decision day), an
//! order's confirmation of receipt (`order_ack`, receipt day), an own-initiative measure
//! (`own_initiative`), a case's first decision (`case_decided`), a complaint received or decided
//! (`appeal_received`, `appeal_decided`) and an Art. 23 measure (`misuse`). Each fact has
//! dimensions (source, category, …), count metrics and duration metrics; the table `rollups` keeps,
//! per fact × UTC day × combination of dimension values, each metric's sum and, for a duration, its
//! histogram by whole minute. A report over whole days adds the days' rows and merges the
//! histograms, so its counts are exactly those of the row-scanning SQL of `report.rs` and its
//! medians and percentiles are those of the durations truncated to the minute (a median of an even
//! count is the mean of the two middle truncated values, so it is within one minute of the exact
//! one).
//!
//! Every fact is defined once, as SQL over the rows of a span of days (`FACTS`); the same query
//! rebuilds all rollups ([`Store::rebuild_rollups`]) and refreshes one day inside the write that
//! changed it (a decision refreshes its day's `notice_decided`, `own_initiative`, `case_decided`;
//! an appeal its day's complaints; a delivered order confirmation its order's receipt day). Intake,
//! the hot path, adds to `notice_received` instead of recounting the day. Writes are serialised
//! (the audit chain head, `lib.rs`), so a refresh always sees every earlier write.
//!
//! The AI-generated sections count *distinct* cases over the period, which is not a sum of days;
//! `rollups_distinct.rs` keeps them exact from per-day rows anyway. Open cases past their deadline
//! are judged at `now`, from the open cases themselves.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use sqlx::{AssertSqlSafe, Row};

use crate::report::{Column, Figure, ITEMS, OWN_INITIATIVE_BASE, Period, Table, TableRow, restriction_columns};
use crate::{Result, Store, StoreError, WriteTx, to_ms};

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;
/// Separates dimension values in `rollups.dims`.
pub(crate) const SEP: char = '\u{1f}';

/// One fact: see the module docs.
pub(crate) struct Fact {
    pub name: &'static str,
    pub dims: &'static [&'static str],
    /// Count metrics: columns of `rows` summed per group (`rows` itself counts the rows).
    pub counts: Vec<String>,
    /// Duration metrics (ms, NULL when not measured): columns of `rows` kept as histograms.
    pub durations: &'static [&'static str],
    /// One row per counted thing in `[$1, $2)` (ms): `at` (the moment it counts on), the
    /// dimensions, the metrics.
    pub rows: String,
}

const NOTICE_DIMS: &[&str] = &["source", "category", "member_state", "order_kind"];
const NOTICE_DIM_SQL: &str = "n.source AS source, n.category AS category, \
     COALESCE(n.order_member_state, 'unknown') AS member_state, COALESCE(n.order_kind, 'unknown') AS order_kind";

/// Every fact.
pub(crate) fn facts() -> Vec<Fact> {
    let restrictions = restriction_columns();
    let distinct = crate::rollups_distinct::facts();
    let own_cols: Vec<String> =
        restrictions.iter().map(|(k, _, c)| format!("CASE WHEN {c} THEN 1 ELSE 0 END AS {k}")).collect();
    let mut own_counts: Vec<String> =
        ["automated_detection", "solely", "hash_match"].iter().map(|s| (*s).to_owned()).collect();
    own_counts.extend(restrictions.iter().map(|(k, _, _)| (*k).to_owned()));
    vec![
        Fact {
            name: "notice_received",
            dims: NOTICE_DIMS,
            counts: vec!["items".into()],
            durations: &[],
            rows: format!(
                "SELECT n.received_at AS at, {NOTICE_DIM_SQL}, {ITEMS} AS items FROM notices n \
                 WHERE n.received_at >= $1 AND n.received_at < $2"
            ),
        },
        Fact {
            name: "order_ack",
            dims: NOTICE_DIMS,
            counts: vec![],
            durations: &["ack"],
            rows: format!(
                "SELECT n.received_at AS at, {NOTICE_DIM_SQL}, \
                 CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.notice_id = n.id AND o.topic = 'notice.received') \
                 THEN (SELECT MIN(o.delivered_at) FROM outbox o WHERE o.notice_id = n.id AND o.topic = 'notice.received') \
                   - n.received_at ELSE 0 END AS ack \
                 FROM notices n WHERE n.source = 'authority_order' AND n.received_at >= $1 AND n.received_at < $2"
            ),
        },
        Fact {
            name: "notice_decided",
            dims: NOTICE_DIMS,
            counts: ["law", "terms", "solely", "partly"].iter().map(|s| (*s).to_owned()).collect(),
            durations: &["tta"],
            rows: format!(
                "SELECT fd.decided_at AS at, {NOTICE_DIM_SQL}, \
                 CASE WHEN fd.restricts = 1 AND fd.ground = 'illegal' THEN 1 ELSE 0 END AS law, \
                 CASE WHEN fd.restricts = 1 AND fd.ground = 'incompatible' THEN 1 ELSE 0 END AS terms, \
                 CASE WHEN fd.automated_decision = 'fully' THEN 1 ELSE 0 END AS solely, \
                 CASE WHEN fd.automated_decision = 'partially' THEN 1 ELSE 0 END AS partly, \
                 fd.decided_at - n.received_at AS tta \
                 FROM notices n JOIN decisions fd ON fd.id = n.first_decision_id \
                 WHERE n.first_decided_at >= $1 AND n.first_decided_at < $2 AND fd.decided_at >= $1 AND fd.decided_at < $2"
            ),
        },
        Fact {
            name: "own_initiative",
            dims: &["basis", "category"],
            counts: own_counts,
            durations: &[],
            rows: format!(
                "SELECT o.*, {} FROM ({}) o",
                own_cols.join(", "),
                OWN_INITIATIVE_BASE.replacen("SELECT ", "SELECT d.decided_at AS at, ", 1)
            ),
        },
        Fact {
            name: "case_decided",
            dims: &["category"],
            counts: vec!["late".into()],
            durations: &[],
            rows: "SELECT d.decided_at AS at, c.category AS category, \
                   CASE WHEN d.decided_at > c.deadline_at THEN 1 ELSE 0 END AS late \
                   FROM decisions d JOIN cases c ON c.id = d.case_id \
                   WHERE d.replaces IS NULL AND d.decided_at >= $1 AND d.decided_at < $2 \
                   AND NOT EXISTS (SELECT 1 FROM decisions e WHERE e.case_id = d.case_id AND e.replaces IS NULL \
                     AND (e.decided_at < d.decided_at OR (e.decided_at = d.decided_at AND e.id < d.id)))"
                .to_owned(),
        },
        Fact {
            name: "appeal_received",
            dims: &["appellant"],
            counts: vec![],
            durations: &[],
            rows: "SELECT a.received_at AS at, a.appellant AS appellant FROM appeals a \
                   WHERE a.received_at >= $1 AND a.received_at < $2"
                .to_owned(),
        },
        Fact {
            name: "appeal_decided",
            dims: &["appellant"],
            counts: ["upheld", "modified", "reversed"].iter().map(|s| (*s).to_owned()).collect(),
            durations: &["ttd"],
            rows: "SELECT a.decided_at AS at, a.appellant AS appellant, \
                   CASE WHEN a.outcome = 'upheld' THEN 1 ELSE 0 END AS upheld, \
                   CASE WHEN a.outcome = 'modified' THEN 1 ELSE 0 END AS modified, \
                   CASE WHEN a.outcome = 'reversed' THEN 1 ELSE 0 END AS reversed, \
                   a.decided_at - a.received_at AS ttd \
                   FROM appeals a WHERE a.outcome IS NOT NULL AND a.decided_at >= $1 AND a.decided_at < $2"
                .to_owned(),
        },
        Fact {
            name: "misuse",
            dims: &[],
            counts: vec!["suspension".into(), "warning".into()],
            durations: &[],
            rows: "SELECT at, CASE WHEN kind = 'suspension' THEN 1 ELSE 0 END AS suspension, \
                   CASE WHEN kind = 'warning' THEN 1 ELSE 0 END AS warning \
                   FROM misuse_measures WHERE at >= $1 AND at < $2"
                .to_owned(),
        },
    ]
    .into_iter()
    .chain(distinct)
    .collect()
}

/// `x / unit` rounded down, in SQL both databases evaluate alike (their `/` and `%` truncate
/// towards zero; the Euclidean remainder makes the division exact).
fn floor_div_sql(x: &str, unit: i64) -> String {
    format!("(({x}) - ((({x}) % {unit}) + {unit}) % {unit}) / {unit}")
}

/// `fact.rows` grouped by the database: `g_day` (UTC day), `g_d0…` (the dimensions), `g_m0…` (each
/// duration's whole minute, NULL when not measured), `g_rows` (how many rows) and `g_c0…` (each
/// count metric's sum).
fn grouped_sql(fact: &Fact) -> String {
    let mut inner = vec![format!("{} AS g_day", floor_div_sql("x.at", DAY_MS))];
    let mut keys = vec!["g_day".to_owned()];
    for (i, d) in fact.dims.iter().enumerate() {
        inner.push(format!("x.{d} AS g_d{i}"));
        keys.push(format!("g_d{i}"));
    }
    for (i, d) in fact.durations.iter().enumerate() {
        inner.push(format!("{} AS g_m{i}", floor_div_sql(&format!("x.{d}"), MINUTE_MS)));
        keys.push(format!("g_m{i}"));
    }
    let mut sums = vec!["COUNT(*) AS g_rows".to_owned()];
    for (i, c) in fact.counts.iter().enumerate() {
        inner.push(format!("x.{c} AS g_v{i}"));
        sums.push(format!("CAST(SUM(g_v{i}) AS BIGINT) AS g_c{i}"));
    }
    let keys = keys.join(", ");
    format!(
        "SELECT {keys}, {} FROM (SELECT {} FROM ({}) x) y GROUP BY {keys}",
        sums.join(", "),
        inner.join(", "),
        fact.rows
    )
}

/// Aggregates of one fact × day × dimension values.
#[derive(Default)]
struct Group {
    counts: Vec<i64>,
    hists: Vec<BTreeMap<i64, i64>>,
    rows: i64,
}

pub(crate) fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

fn encode(hist: &BTreeMap<i64, i64>) -> String {
    let mut s = String::new();
    for (m, c) in hist {
        if !s.is_empty() {
            s.push(',');
        }
        s.push_str(&m.to_string());
        s.push(':');
        s.push_str(&c.to_string());
    }
    s
}

fn decode(text: &str, into: &mut HashMap<i64, i64>) -> Result<()> {
    for pair in text.split(',').filter(|p| !p.is_empty()) {
        let (m, c) = pair.split_once(':').ok_or_else(|| StoreError::Corrupt(format!("rollup bucket `{pair}`")))?;
        let m: i64 = m.parse().map_err(|_| StoreError::Corrupt(format!("rollup bucket `{pair}`")))?;
        let c: i64 = c.parse().map_err(|_| StoreError::Corrupt(format!("rollup bucket `{pair}`")))?;
        *into.entry(m).or_default() += c;
    }
    Ok(())
}

impl WriteTx {
    /// Recomputes `fact`'s rollups for the days `[first_day, end_day)` from the rows.
    ///
    /// The database groups the fact's rows by day × dimension values × each duration's whole
    /// minute and sums the counts ([`grouped_sql`]), so what travels is one row per group (a few
    /// per day for most facts) rather than one per counted thing; the rollup rows are written in
    /// multi-row inserts.
    pub(crate) async fn refresh_rollup(&mut self, fact: &Fact, first_day: i64, end_day: i64) -> Result<u64> {
        // The recount sees this transaction's rows: its pending increments for those days are in it.
        self.received.retain(|(f, day, _, _), _| *f != fact.name || *day < first_day || *day >= end_day);
        let rows = sqlx::query(AssertSqlSafe(grouped_sql(fact)))
            .bind(first_day * DAY_MS)
            .bind(end_day * DAY_MS)
            .fetch_all(&mut *self.tx)
            .await?;
        let mut groups: BTreeMap<(i64, String), Group> = BTreeMap::new();
        for r in &rows {
            let day: i64 = r.try_get("g_day")?;
            let mut dims = String::new();
            for (i, _) in fact.dims.iter().enumerate() {
                if i > 0 {
                    dims.push(SEP);
                }
                dims.push_str(&r.try_get::<String, _>(format!("g_d{i}").as_str())?);
            }
            let g = groups.entry((day, dims)).or_insert_with(|| Group {
                counts: vec![0; fact.counts.len()],
                hists: vec![BTreeMap::new(); fact.durations.len()],
                rows: 0,
            });
            let n: i64 = r.try_get("g_rows")?;
            g.rows += n;
            for i in 0..fact.counts.len() {
                g.counts[i] += r.try_get::<Option<i64>, _>(format!("g_c{i}").as_str())?.unwrap_or(0);
            }
            for i in 0..fact.durations.len() {
                if let Some(minute) = r.try_get::<Option<i64>, _>(format!("g_m{i}").as_str())? {
                    *g.hists[i].entry(minute).or_default() += n;
                }
            }
        }
        sqlx::query("DELETE FROM rollups WHERE fact = $1 AND day >= $2 AND day < $3")
            .bind(fact.name)
            .bind(first_day)
            .bind(end_day)
            .execute(&mut *self.tx)
            .await?;
        let mut out: Vec<(i64, String, &str, i64, Option<String>)> = Vec::new();
        for ((day, dims), g) in groups {
            out.push((day, dims.clone(), "rows", g.rows, None));
            for (name, n) in fact.counts.iter().zip(&g.counts) {
                if *n != 0 {
                    out.push((day, dims.clone(), name.as_str(), *n, None));
                }
            }
            for (name, h) in fact.durations.iter().zip(&g.hists) {
                if !h.is_empty() {
                    out.push((day, dims.clone(), name, h.values().sum(), Some(encode(h))));
                }
            }
        }
        // 6 parameters a row: well under SQLite's and PostgreSQL's limits.
        for chunk in out.chunks(400) {
            let mut sql = String::from("INSERT INTO rollups (fact, day, dims, metric, n, buckets) VALUES ");
            for i in 0..chunk.len() {
                let b = i * 6;
                if i > 0 {
                    sql.push_str(", ");
                }
                let _ = write!(sql, "(${}, ${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6);
            }
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (day, dims, metric, n, buckets) in chunk {
                q = q.bind(fact.name).bind(*day).bind(dims.as_str()).bind(*metric).bind(*n).bind(buckets.as_deref());
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(out.len() as u64)
    }

    /// Refreshes the named facts for the day of `at` (ms).
    pub(crate) async fn refresh_rollups_on(&mut self, names: &[&str], at: i64) -> Result<()> {
        let day = day_of(at);
        for fact in facts().iter().filter(|f| names.contains(&f.name)) {
            self.refresh_rollup(fact, day, day + 1).await?;
        }
        Ok(())
    }

    /// Intake's increment of `notice_received` (one notice with `items` items), written at commit.
    pub(crate) fn count_received_notice(&mut self, at: i64, dims: [&str; 4], items: i64) {
        let dims = dims.join(&SEP.to_string());
        self.add_increment("notice_received", day_of(at), dims.clone(), "rows", 1);
        if items != 0 {
            self.add_increment("notice_received", day_of(at), dims, "items", items);
        }
    }

    /// Adds `n` to a count metric of `fact` at commit (no buckets).
    pub(crate) fn add_increment(&mut self, fact: &'static str, day: i64, dims: String, metric: &'static str, n: i64) {
        *self.received.entry((fact, day, dims, metric)).or_default() += n;
    }

    /// Adds the pending `notice_received` increments (called by `commit`).
    pub(crate) async fn flush_rollup_increments(&mut self) -> Result<()> {
        for ((fact, day, dims, metric), n) in std::mem::take(&mut self.received) {
            sqlx::query(
                "INSERT INTO rollups (fact, day, dims, metric, n, buckets) VALUES ($1, $2, $3, $4, $5, NULL) \
                 ON CONFLICT (fact, day, dims, metric) DO UPDATE SET n = rollups.n + excluded.n",
            )
            .bind(fact)
            .bind(day)
            .bind(&dims)
            .bind(metric)
            .bind(n)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }
}

/// Where a column's figure comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Src {
    /// The sum of a fact's metric, over the rows whose dimension `.2` (if any) has value `.3`.
    Sum(&'static str, &'static str, Option<(&'static str, &'static str)>),
    /// The median of a fact's duration metric, optionally restricted like `Sum`.
    Median(&'static str, &'static str, Option<(&'static str, &'static str)>),
    /// The nearest-rank percentile `.2` of a fact's duration metric.
    Pct(&'static str, &'static str, u32),
}

/// A table computed from rollups.
pub(crate) struct RollupTable {
    pub name: &'static str,
    pub title: &'static str,
    pub dims: &'static [&'static str],
    pub groupings: &'static [&'static [&'static str]],
    /// Only fact rows whose dimension has one of these values count.
    pub only: Option<(&'static str, &'static [&'static str])>,
    pub columns: Vec<(&'static str, &'static str, Src)>,
}

impl Src {
    fn fact(&self) -> &'static str {
        match self {
            Src::Sum(f, ..) | Src::Median(f, ..) | Src::Pct(f, ..) => f,
        }
    }
}

/// One fact's rollups over a period, merged over its days: per combination of dimension values
/// and metric, the summed count and, for a duration, the merged histogram (minute → count).
pub(crate) struct Loaded {
    dims: Vec<String>,
    metric: String,
    n: i64,
    hist: Option<HashMap<i64, i64>>,
}

#[derive(Default)]
struct Acc {
    sums: Vec<i64>,
    hists: Vec<HashMap<i64, i64>>,
}

fn quantile(hist: &HashMap<i64, i64>, ranks: &[i64]) -> Vec<Option<i64>> {
    let mut sorted: Vec<(i64, i64)> = hist.iter().map(|(m, c)| (*m, *c)).collect();
    sorted.sort_unstable();
    ranks
        .iter()
        .map(|&rank| {
            let mut seen = 0;
            for (m, c) in &sorted {
                seen += c;
                if seen >= rank {
                    return Some(m * MINUTE_MS);
                }
            }
            None
        })
        .collect()
}

/// Median of a minute histogram (ms): the middle value, or the mean of the middle two.
fn median(hist: &HashMap<i64, i64>) -> Option<f64> {
    let n: i64 = hist.values().sum();
    if n == 0 {
        return None;
    }
    let q = quantile(hist, &[(n + 1) / 2, (n + 2) / 2]);
    Some((q[0]? as f64 + q[1]? as f64) / 2.0)
}

fn percentile(hist: &HashMap<i64, i64>, p: u32) -> Option<f64> {
    let n: i64 = hist.values().sum();
    if n == 0 {
        return None;
    }
    quantile(hist, &[(n * i64::from(p) + 99) / 100])[0].map(|v| v as f64)
}

/// Rows first by how many keys are `TOTAL` (all-`TOTAL` first), then by key, as `report.rs` does.
pub(crate) fn finish_rows(mut rows: Vec<TableRow>, n_keys: usize, columns: &[Figure]) -> Vec<TableRow> {
    let total: Vec<String> = vec!["TOTAL".to_owned(); n_keys];
    if !rows.iter().any(|r| r.keys == total) {
        rows.push(TableRow { keys: total, figures: columns.to_vec() });
    }
    rows.sort_by(|a, b| {
        let rank = |r: &TableRow| r.keys.iter().map(|k| k != "TOTAL").collect::<Vec<_>>();
        rank(a).cmp(&rank(b)).then_with(|| a.keys.cmp(&b.keys))
    });
    rows
}

impl Store {
    /// Loads `fact`'s rollups for the whole days of `period`, merged over the days: counts are
    /// summed by the database (one row per dimension values × metric instead of one per day), and
    /// only duration metrics' histograms travel day by day, each decoded once.
    pub(crate) async fn load_rollups(&self, fact: &str, period: Period) -> Result<Vec<Loaded>> {
        let (first, end) = (day_of(to_ms(period.from)), day_of(to_ms(period.until)));
        let counts = sqlx::query(
            "SELECT dims, metric, CAST(SUM(n) AS BIGINT) AS n FROM rollups \
             WHERE fact = $1 AND day >= $2 AND day < $3 AND buckets IS NULL GROUP BY dims, metric",
        )
        .bind(fact)
        .bind(first)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        let hists = sqlx::query(
            "SELECT dims, metric, n, buckets FROM rollups \
             WHERE fact = $1 AND day >= $2 AND day < $3 AND buckets IS NOT NULL",
        )
        .bind(fact)
        .bind(first)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        let split =
            |dims: String| if dims.is_empty() { Vec::new() } else { dims.split(SEP).map(str::to_owned).collect() };
        let mut out = Vec::with_capacity(counts.len());
        for r in &counts {
            out.push(Loaded {
                dims: split(r.try_get("dims")?),
                metric: r.try_get("metric")?,
                n: r.try_get("n")?,
                hist: None,
            });
        }
        let mut merged: HashMap<(String, String), (i64, HashMap<i64, i64>)> = HashMap::new();
        for r in &hists {
            let buckets: &str = r.try_get("buckets")?;
            let (n, hist) = merged.entry((r.try_get("dims")?, r.try_get("metric")?)).or_default();
            *n += r.try_get::<i64, _>("n")?;
            decode(buckets, hist)?;
        }
        for ((dims, metric), (n, hist)) in merged {
            out.push(Loaded { dims: split(dims), metric, n, hist: Some(hist) });
        }
        Ok(out)
    }

    /// Computes `spec` from the rollups of whole-day `period`; `cache` holds facts already loaded.
    pub(crate) async fn rollup_table(
        &self,
        spec: &RollupTable,
        period: Period,
        cache: &mut HashMap<&'static str, Vec<Loaded>>,
    ) -> Result<Table> {
        let all_facts = facts();
        let mut fact_names: Vec<&'static str> = spec.columns.iter().map(|(_, _, s)| s.fact()).collect();
        fact_names.sort_unstable();
        fact_names.dedup();
        let mut groups: BTreeMap<Vec<String>, Acc> = BTreeMap::new();
        let n_cols = spec.columns.len();
        for fact_name in fact_names {
            let fact = all_facts
                .iter()
                .find(|f| f.name == fact_name)
                .ok_or_else(|| StoreError::Corrupt(format!("no rollup fact {fact_name}")))?;
            if !cache.contains_key(fact_name) {
                let loaded = self.load_rollups(fact_name, period).await?;
                cache.insert(fact_name, loaded);
            }
            let dim_pos = |name: &str| fact.dims.iter().position(|d| *d == name);
            let table_dims: Vec<usize> = spec
                .dims
                .iter()
                .map(|d| dim_pos(d).ok_or_else(|| StoreError::Corrupt(format!("fact {fact_name} lacks {d}"))))
                .collect::<Result<_>>()?;
            let only = match spec.only {
                Some((d, values)) => Some((dim_pos(d).ok_or_else(|| StoreError::Corrupt(d.into()))?, values)),
                None => None,
            };
            for row in &cache[fact_name] {
                if let Some((pos, values)) = only
                    && !values.contains(&row.dims[pos].as_str())
                {
                    continue;
                }
                for kept in spec.groupings {
                    let key: Vec<String> = spec
                        .dims
                        .iter()
                        .zip(&table_dims)
                        .map(|(d, &pos)| if kept.contains(d) { row.dims[pos].clone() } else { "TOTAL".to_owned() })
                        .collect();
                    let acc = groups
                        .entry(key)
                        .or_insert_with(|| Acc { sums: vec![0; n_cols], hists: vec![HashMap::new(); n_cols] });
                    for (ci, (_, _, src)) in spec.columns.iter().enumerate() {
                        let (f, m, filter) = match *src {
                            Src::Sum(f, m, filter) | Src::Median(f, m, filter) => (f, m, filter),
                            Src::Pct(f, m, _) => (f, m, None),
                        };
                        if f != fact_name || m != row.metric {
                            continue;
                        }
                        if let Some((d, v)) = filter
                            && dim_pos(d).is_none_or(|p| row.dims[p] != v)
                        {
                            continue;
                        }
                        match src {
                            Src::Sum(..) => acc.sums[ci] += row.n,
                            Src::Median(..) | Src::Pct(..) => {
                                if let Some(h) = &row.hist {
                                    for (m, c) in h {
                                        *acc.hists[ci].entry(*m).or_default() += c;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let empty: Vec<Figure> = spec
            .columns
            .iter()
            .map(|(_, _, s)| match s {
                Src::Sum(..) => Figure::Count(0),
                _ => Figure::Millis(None),
            })
            .collect();
        let rows = groups
            .into_iter()
            .map(|(keys, acc)| TableRow {
                keys,
                figures: spec
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(ci, (_, _, src))| match src {
                        Src::Sum(..) => Figure::Count(acc.sums[ci]),
                        Src::Median(..) => Figure::Millis(median(&acc.hists[ci])),
                        Src::Pct(_, _, p) => Figure::Millis(percentile(&acc.hists[ci], *p)),
                    })
                    .collect(),
            })
            .collect();
        Ok(Table {
            name: spec.name,
            title: spec.title,
            dims: spec.dims.to_vec(),
            columns: spec.columns.iter().map(|(key, label, _)| Column { key, label }).collect(),
            rows: finish_rows(rows, spec.dims.len(), &empty),
        })
    }

    /// Recomputes every rollup from the rows (`staydown report rebuild-rollups`), in one
    /// transaction; returns the number of rollup rows written.
    pub async fn rebuild_rollups(&self) -> Result<u64> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM rollups").execute(&mut *tx.tx).await?;
        let span: (Option<i64>, Option<i64>) = {
            let row = sqlx::query(
                "SELECT MIN(t) AS lo, MAX(t) AS hi FROM (SELECT MIN(received_at) AS t FROM notices \
                 UNION ALL SELECT MAX(received_at) FROM notices UNION ALL SELECT MIN(decided_at) FROM decisions \
                 UNION ALL SELECT MAX(decided_at) FROM decisions UNION ALL SELECT MIN(received_at) FROM appeals \
                 UNION ALL SELECT MAX(decided_at) FROM appeals UNION ALL SELECT MIN(at) FROM misuse_measures \
                 UNION ALL SELECT MAX(at) FROM misuse_measures UNION ALL SELECT MIN(created_at) FROM content_items \
                 UNION ALL SELECT MAX(created_at) FROM content_items) s",
            )
            .fetch_one(&mut *tx.tx)
            .await?;
            (row.try_get("lo")?, row.try_get("hi")?)
        };
        let mut written = 0;
        if let (Some(lo), Some(hi)) = span {
            // A month at a time keeps memory bounded on a large database.
            let (first, last) = (day_of(lo), day_of(hi));
            for fact in facts() {
                let mut day = first;
                while day <= last {
                    written += tx.refresh_rollup(&fact, day, day + 32).await?;
                    day += 32;
                }
            }
        }
        tx.commit().await?;
        Ok(written)
    }
}

/// Whether `period` is made of whole UTC days (what rollups can answer).
pub(crate) fn whole_days(period: Period) -> bool {
    to_ms(period.from).rem_euclid(DAY_MS) == 0 && to_ms(period.until).rem_euclid(DAY_MS) == 0
}
