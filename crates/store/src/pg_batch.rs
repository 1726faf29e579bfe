//! One round trip for a write transaction's rows on PostgreSQL (issue 16, goal 3).
//!
//! On PostgreSQL every statement is a round trip to another process, and a statement whose text
//! changes with the number of rows (a multi-row `VALUES` list) is parsed and planned anew each
//! time, since sqlx caches prepared statements by their text. Here a transaction's rows — those of
//! a group-committed batch of notices, its audit chain entries with the new chain head, and its
//! rollup increments — are sent as **one** statement with a fixed text: each table's rows travel
//! as a JSON array of objects in a text parameter of their own and are unpacked by
//! `json_to_recordset` in a data-modifying CTE. (sqlx's `Any` driver binds no arrays, so `unnest($1::text[])` is not an
//! option; JSON is.) All CTEs of one statement run on one snapshot and the foreign keys between
//! them are checked at its end, so a batch's cases, notices and keys may reference each other.
//!
//! The rows, audit entries and rollup counts are exactly the ones the row-by-row statements
//! write; SQLite, in-process, keeps those statements.

use sqlx::{AssertSqlSafe, Row};

use crate::{Result, StoreError, WriteTx};

/// A value of a row.
pub(crate) enum V {
    S(Option<String>),
    I(Option<i64>),
}

impl V {
    fn sql_type(&self) -> &'static str {
        match self {
            V::S(_) => "text",
            V::I(_) => "bigint",
        }
    }
}

impl serde::Serialize for V {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            V::S(Some(x)) => s.serialize_str(x),
            V::I(Some(n)) => s.serialize_i64(*n),
            V::S(None) | V::I(None) => s.serialize_none(),
        }
    }
}

/// A table's rows as the JSON array of objects that `json_to_recordset` unpacks, serialised
/// straight from the rows (no `serde_json::Value` tree with the column names copied into every row).
struct Doc<'a>(&'a [&'static str], &'a [Vec<V>]);

impl serde::Serialize for Doc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Row<'a>(&'a [&'static str], &'a [V]);
        impl serde::Serialize for Row<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (column, value) in self.0.iter().zip(self.1) {
                    map.serialize_entry(column, value)?;
                }
                map.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.1.len()))?;
        for row in self.1 {
            seq.serialize_element(&Row(self.0, row))?;
        }
        seq.end()
    }
}

/// Rows for one table: `columns` name the table's columns, each row gives them in that order.
pub(crate) struct Rows {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<V>>,
}

/// The check of a batch (see `statement`): its notices' grouping keys, the ids of the cases the
/// batch itself opens (which the check ignores) and its notifiers (`notifier_ref`), each a JSON
/// array of strings, and the time (ms) at which a suspension of one of them counts.
pub(crate) struct Guard {
    pub keys: String,
    pub own_cases: String,
    pub notifiers: String,
    pub at_ms: i64,
}

/// The statement of `parts` (see the module docs) and its JSON parameters, or `None` when
/// there is nothing to write. Parts without rows are left out, so the text depends only on which
/// tables receive rows, not on how many — a handful of texts, each prepared once per connection.
///
/// With a `guard`, the statement first counts the open cases, other than the batch's own, that
/// hold one of its keys, and the suspensions (DSA Art. 23) of its notifiers in force, and writes
/// nothing unless there are none; `done` is then 0 (the writer then files the batch notice by
/// notice, which groups them and refuses a suspended notifier's notice alone). The plan
/// must not depend on the tables' statistics: sqlx prepares the statement once per connection and
/// PostgreSQL keeps a generic plan, made when the tables were small. So the keys are looked up as
/// `= ANY(ARRAY(…))` in `case_keys`' primary key (the generic plan of `IN (SELECT
/// json_array_elements_text(…))` hashed the keys and scanned the whole table: 11 ms at 10k
/// notices), and `cases` is read only when a key was found (`cardinality(…) > 0`, a one-time
/// filter): joined directly, the generic plan made on a new database scanned every case for
/// their state on each batch (`EXPLAIN`, `perf` of the backends: `texteq` and
/// `ExecEvalScalarArrayOp` at the top, growing with the table).
fn statement(parts: Vec<Rows>, guard: Option<Guard>) -> Option<(String, Vec<String>)> {
    let mut ctes = Vec::new();
    let mut docs = Vec::new();
    let (only_if, and_only_if) = if let Some(Guard { keys, own_cases, notifiers, at_ms }) = guard {
        ctes.push(
            "gk AS (SELECT ARRAY(SELECT k.case_id FROM case_keys k \
             WHERE k.key = ANY(ARRAY(SELECT json_array_elements_text($1::json))) \
             AND k.case_id <> ALL(ARRAY(SELECT json_array_elements_text($2::json)))) AS ids)"
                .to_owned(),
        );
        ctes.push(
            "g AS (SELECT (SELECT COUNT(*) FROM cases c WHERE cardinality((SELECT ids FROM gk)) > 0 \
             AND c.id = ANY((SELECT ids FROM gk)::text[]) AND c.state IN ('new', 'in_review')) \
             + (SELECT COUNT(*) FROM misuse_measures m \
             WHERE m.notifier_ref = ANY(ARRAY(SELECT json_array_elements_text($3::json))) \
             AND m.kind = 'suspension' AND m.lifted_at IS NULL AND m.until > $4::text::bigint) AS open)"
                .to_owned(),
        );
        docs.extend([keys, own_cases, notifiers, at_ms.to_string()]);
        (" WHERE (SELECT open FROM g) = 0", " AND (SELECT open FROM g) = 0")
    } else {
        ("", "")
    };
    let first = docs.len() + 1;
    for (n, part) in parts.into_iter().filter(|p| !p.rows.is_empty()).enumerate() {
        let param = first + n;
        let types: Vec<&str> = part.rows[0].iter().map(V::sql_type).collect();
        let defs: Vec<String> = part.columns.iter().zip(&types).map(|(c, t)| format!("{c} {t}")).collect();
        let cols = part.columns.join(", ");
        let conflict = match part.table {
            "rollups" => " ON CONFLICT (fact, day, dims, metric) DO UPDATE SET n = rollups.n + excluded.n",
            _ => "",
        };
        let (target, body) = if part.table == "audit_head" {
            // One row: the chain head after this transaction's entries.
            (
                "audit_head",
                format!(
                    "UPDATE audit_head SET seq = x.seq, hash = x.hash FROM json_to_recordset(${param}::json) \
                     AS x(seq bigint, hash text) WHERE audit_head.id = 1{and_only_if}"
                ),
            )
        } else {
            (
                part.table,
                format!(
                    "INSERT INTO {} ({cols}) SELECT {cols} FROM json_to_recordset(${param}::json) AS x({}){only_if}{conflict}",
                    part.table,
                    defs.join(", ")
                ),
            )
        };
        ctes.push(format!("w{n}_{target} AS ({body})"));
        // Strings and integers only: serialising them cannot fail.
        docs.push(serde_json::to_string(&Doc(part.columns, &part.rows)).unwrap_or_default());
    }
    if docs.is_empty() {
        return None;
    }
    let done =
        if only_if.is_empty() { "SELECT 1::BIGINT AS done" } else { "SELECT (open = 0)::INT::BIGINT AS done FROM g" };
    let sql = format!("WITH {} {done}", ctes.join(", "));
    Some((sql, docs))
}

impl WriteTx {
    /// On PostgreSQL: writes `parts`, the pending audit entries with the new chain head, and the
    /// pending rollup increments in one statement, leaving nothing for `commit` to flush.
    ///
    /// With a `guard` (see `statement`) it writes nothing when one of the keys belongs to an open
    /// case other than the batch's own, and returns `false`; the pending entries, head and
    /// increments are then consumed all the same, and the caller discards the transaction.
    pub(crate) async fn pg_write(&mut self, mut parts: Vec<Rows>, guard: Option<Guard>) -> Result<bool> {
        debug_assert_eq!(self.backend, crate::Backend::Postgres);
        let pending = std::mem::take(&mut self.pending_audit);
        if !pending.is_empty() {
            parts.push(Rows {
                table: "audit_log",
                columns: &["seq", "at_ms", "actor", "action", "subject", "detail", "prev_hash", "hash"],
                rows: pending
                    .into_iter()
                    .map(|e| {
                        vec![
                            V::I(Some(e.seq)),
                            V::I(Some(e.at_ms)),
                            V::S(Some(e.actor)),
                            V::S(Some(e.action)),
                            V::S(Some(e.subject)),
                            V::S(Some(e.detail)),
                            V::S(Some(e.prev_hash)),
                            V::S(Some(e.hash)),
                        ]
                    })
                    .collect(),
            });
        }
        if let Some(head) = self.head.as_mut().filter(|h| h.dirty) {
            parts.push(Rows {
                table: "audit_head",
                columns: &["seq", "hash"],
                rows: vec![vec![V::I(Some(head.seq)), V::S(Some(head.hash.clone()))]],
            });
            head.dirty = false;
        }
        let increments = std::mem::take(&mut self.received);
        if !increments.is_empty() {
            parts.push(Rows {
                table: "rollups",
                columns: &["fact", "day", "dims", "metric", "n"],
                rows: increments
                    .into_iter()
                    .map(|((fact, day, dims, metric), n)| {
                        vec![
                            V::S(Some(fact.to_owned())),
                            V::I(Some(day)),
                            V::S(Some(dims)),
                            V::S(Some(metric.to_owned())),
                            V::I(Some(n)),
                        ]
                    })
                    .collect(),
            });
        }
        self.pg_statement(parts, guard).await
    }

    /// On PostgreSQL: writes `parts` alone in one statement (nothing pending is added); with a
    /// `guard`, only when no key belongs to an open case other than the batch's own (`false`
    /// otherwise, nothing written).
    pub(crate) async fn pg_statement(&mut self, parts: Vec<Rows>, guard: Option<Guard>) -> Result<bool> {
        debug_assert_eq!(self.backend, crate::Backend::Postgres);
        let guarded = guard.is_some();
        let Some((sql, docs)) = statement(parts, guard) else { return Ok(true) };
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for doc in docs {
            q = q.bind(doc);
        }
        let row = q.fetch_one(&mut *self.tx).await?;
        match row.try_get::<i64, _>("done")? {
            1 => Ok(true),
            0 if guarded => Ok(false),
            other => Err(StoreError::Corrupt(format!("batched write answered {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_text_depends_on_tables_not_on_row_count() {
        let part = |n: usize| Rows {
            table: "case_keys",
            columns: &["key", "case_id"],
            rows: (0..n).map(|i| vec![V::S(Some(format!("k{i}"))), V::S(Some("c".into()))]).collect(),
        };
        let (one, doc1) = statement(vec![part(1)], None).unwrap();
        let (many, doc9) = statement(vec![part(9)], None).unwrap();
        assert_eq!(one, many);
        assert_ne!(doc1, doc9);
        let v: serde_json::Value = serde_json::from_str(&doc9[0]).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 9);
        assert_eq!(v[3], serde_json::json!({"key": "k3", "case_id": "c"}));
        assert!(statement(vec![part(0)], None).is_none());
    }

    #[test]
    fn a_guarded_statement_writes_only_when_no_key_is_open() {
        let part = Rows { table: "cases", columns: &["id"], rows: vec![vec![V::S(Some("c".into()))]] };
        let guard = Guard {
            keys: r#"["url:a"]"#.into(),
            own_cases: r#"["c"]"#.into(),
            notifiers: r#"["email:n"]"#.into(),
            at_ms: 7,
        };
        let (sql, docs) = statement(vec![part], Some(guard)).unwrap();
        assert_eq!(docs[..4], [r#"["url:a"]"#, r#"["c"]"#, r#"["email:n"]"#, "7"]);
        assert!(sql.contains("json_to_recordset($5::json) AS x(id text) WHERE (SELECT open FROM g) = 0"), "{sql}");
        assert!(sql.ends_with("SELECT (open = 0)::INT::BIGINT AS done FROM g"), "{sql}");
    }

    #[test]
    fn nulls_and_integers_keep_their_types() {
        let (sql, doc) = statement(
            vec![Rows {
                table: "notice_hashes",
                columns: &["notice_id", "pdq_quality"],
                rows: vec![vec![V::S(None), V::I(Some(-7))], vec![V::S(Some("n".into())), V::I(None)]],
            }],
            None,
        )
        .unwrap();
        assert!(sql.contains("AS x(notice_id text, pdq_quality bigint)"), "{sql}");
        let v: serde_json::Value = serde_json::from_str(&doc[0]).unwrap();
        assert_eq!(v[0], serde_json::json!({"notice_id": null, "pdq_quality": -7}));
        assert_eq!(v[1], serde_json::json!({"notice_id": "n", "pdq_quality": null}));
    }
}
