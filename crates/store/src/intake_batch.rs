//! The fast path of group commit (issue 16, goal 3): a batch of notices that each open a case of
//! their own is written with one multi-row statement per table instead of a handful of statements
//! per notice, so a batch costs the database about ten round trips whatever its size. That is what
//! lets PostgreSQL, where every statement is a round trip, keep up with 16 clients.
//!
//! It applies when no notice of the batch joins a case: none of its grouping keys belongs to an
//! open case in the database or to another notice of the batch, and it is not an authority order
//! (whose confirmation time is recounted). Otherwise the batch takes the per-notice path
//! (`notices.rs`), which groups notices into cases one by one. Both write the same rows, the same
//! audit entries in the same order, and the same rollup increments.

use std::collections::HashSet;

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::case::grouping_keys;
use staydown_domain::notice::NewNotice;

use crate::audit::AuditEvent;
use crate::notices::{NoticeReceipt, StoredNotice};
use crate::outbox::{NewOutboxItem, outbox_id};
use crate::{Result, WriteTx, placeholders, to_ms};

/// A value of a multi-row insert.
enum V {
    S(Option<String>),
    I(Option<i64>),
}

fn s(v: impl Into<String>) -> V {
    V::S(Some(v.into()))
}

fn os(v: Option<&str>) -> V {
    V::S(v.map(str::to_owned))
}

fn i(v: i64) -> V {
    V::I(Some(v))
}

impl WriteTx {
    /// Inserts `rows` into `table` (`columns`), many rows per statement.
    async fn insert_rows(&mut self, table: &str, columns: &[&str], rows: Vec<Vec<V>>) -> Result<()> {
        // Far below SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement.
        let per_statement = (4000 / columns.len()).max(1);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<V>> = rows.by_ref().take(per_statement).collect();
            let values: Vec<String> =
                (0..chunk.len()).map(|r| format!("({})", placeholders(r * columns.len() + 1, columns.len()))).collect();
            let sql = format!("INSERT INTO {table} ({}) VALUES {}", columns.join(", "), values.join(", "));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for row in chunk {
                for v in row {
                    q = match v {
                        V::S(x) => q.bind(x),
                        V::I(x) => q.bind(x),
                    };
                }
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Writes `batch` with multi-row statements when every notice opens a case of its own, and
    /// returns `None` (having written nothing) when one would join a case.
    pub(crate) async fn insert_new_case_batch(
        &mut self,
        batch: &[(&NewNotice, &StoredNotice)],
    ) -> Result<Option<Vec<NoticeReceipt>>> {
        let keys: Vec<Vec<String>> = batch.iter().map(|(n, _)| grouping_keys(n)).collect();
        let mut seen = HashSet::new();
        for ((notice, _), ks) in batch.iter().zip(&keys) {
            if notice.order.is_some() || ks.iter().any(|k| !seen.insert(k.as_str())) {
                return Ok(None);
            }
        }
        let all: Vec<&String> = keys.iter().flatten().collect();
        for chunk in all.chunks(1000) {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM case_keys k JOIN cases c ON c.id = k.case_id \
                 WHERE k.key IN ({}) AND c.state IN ('new', 'in_review')",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(*k);
            }
            let open: i64 = q.fetch_one(&mut *self.tx).await?.try_get("n")?;
            if open > 0 {
                return Ok(None);
            }
        }

        let (mut cases, mut case_keys, mut notices, mut locations, mut hashes, mut contacts, mut outbox) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((notice, meta), ks) in batch.iter().zip(&keys) {
            let received_ms = to_ms(meta.received_at);
            let deadline_ms = to_ms(meta.assessment.deadline);
            let priority = i64::from(meta.assessment.priority);
            let case_id = &meta.new_case_id;
            cases.push(vec![
                s(case_id),
                i(priority),
                i(deadline_ms),
                s(&notice.category),
                i(received_ms),
                i(received_ms),
                s("new"),
            ]);
            for k in ks {
                case_keys.push(vec![s(k), s(case_id)]);
            }
            notices.push(vec![
                s(&meta.id),
                s(case_id),
                i(received_ms),
                s(notice.source.as_str()),
                os(meta.api_key_id.as_deref()),
                os(notice.submitted_by.as_deref()),
                s(&notice.category),
                s(serde_json::to_string(&notice.keywords).unwrap_or_else(|_| "[]".into())),
                os(notice.legal_ground.as_deref()),
                s(&notice.explanation),
                s(notice.minor_involved.as_str()),
                s(notice.ai_generated.as_str()),
                os(notice.generator.as_deref()),
                i(i64::from(notice.anonymous_csam)),
                s(notice.language.as_str()),
                i(priority),
                i(deadline_ms),
                s(&meta.tracking_digest),
                os(meta.notifier_ref.as_deref()),
                s("received"),
            ]);
            for (n, loc) in notice.locations.iter().enumerate() {
                locations.push(vec![
                    s(&meta.id),
                    i(n as i64),
                    os(loc.url.as_deref()),
                    os(loc.normalized_url.as_deref()),
                    os(loc.content_id.as_deref()),
                ]);
            }
            for (n, h) in notice.hashes.iter().enumerate() {
                hashes.push(vec![
                    s(&meta.id),
                    i(n as i64),
                    os(h.pdq.as_deref()),
                    V::I(h.pdq_quality.map(i64::from)),
                    os(h.sha256.as_deref()),
                    os(h.md5.as_deref()),
                ]);
            }
            if let Some(contact) = &notice.notifier {
                contacts.push(vec![s(&meta.id), s(&contact.name), s(&contact.email), i(received_ms)]);
            }
            if let Some(payload) = &meta.confirmation {
                let item = NewOutboxItem {
                    channel: "email",
                    topic: "notice.received",
                    notice_id: Some(&meta.id),
                    payload: payload.clone(),
                    at: meta.received_at,
                    key: None,
                };
                outbox.push(vec![
                    s(outbox_id(&item)),
                    s(item.channel),
                    s(item.topic),
                    s(&meta.id),
                    s(item.payload.to_string()),
                    i(received_ms),
                    i(received_ms),
                ]);
            }
        }
        self.insert_rows(
            "cases",
            &["id", "priority", "deadline_at", "category", "created_at", "updated_at", "state"],
            cases,
        )
        .await?;
        self.insert_rows("case_keys", &["key", "case_id"], case_keys).await?;
        self.insert_rows(
            "notices",
            &[
                "id",
                "case_id",
                "received_at",
                "source",
                "api_key_id",
                "submitted_by",
                "category",
                "keywords",
                "legal_ground",
                "explanation",
                "minor_involved",
                "ai_generated",
                "generator",
                "anonymous_csam",
                "language",
                "priority",
                "deadline_at",
                "tracking_digest",
                "notifier_ref",
                "status",
            ],
            notices,
        )
        .await?;
        self.insert_rows(
            "notice_locations",
            &["notice_id", "position", "url", "normalized_url", "content_id"],
            locations,
        )
        .await?;
        self.insert_rows("notice_hashes", &["notice_id", "position", "pdq", "pdq_quality", "sha256", "md5"], hashes)
            .await?;
        self.insert_rows("notifier_contacts", &["notice_id", "name", "email", "created_at"], contacts).await?;
        self.insert_rows(
            "outbox",
            &["id", "channel", "topic", "notice_id", "payload", "created_at", "next_attempt_at"],
            outbox,
        )
        .await?;

        let mut receipts = Vec::with_capacity(batch.len());
        for (notice, meta) in batch {
            let received_ms = to_ms(meta.received_at);
            let items = if notice.locations.is_empty() { notice.hashes.len() } else { notice.locations.len() };
            self.count_received_notice(
                received_ms,
                [notice.source.as_str(), &notice.category, "unknown", "unknown"],
                items as i64,
            );
            self.count_claim(
                received_ms,
                [notice.ai_generated.as_str(), notice.generator.as_deref().unwrap_or("none"), &notice.category],
                &[],
            )
            .await?;
            let deadline_ms = to_ms(meta.assessment.deadline);
            let case_id = meta.new_case_id.clone();
            self.audit(
                meta.received_at,
                AuditEvent {
                    actor: &meta.actor,
                    action: "notice.received",
                    subject: format!("notice:{}", meta.id),
                    detail: serde_json::json!({
                        "source": notice.source.as_str(),
                        "category": notice.category,
                        "case": case_id,
                        "priority": meta.assessment.priority,
                        "deadline_ms": deadline_ms,
                        "anonymous_csam": notice.anonymous_csam,
                        "order": serde_json::Value::Null,
                    }),
                },
            )
            .await?;
            self.audit(
                meta.received_at,
                AuditEvent {
                    actor: &meta.actor,
                    action: "case.opened",
                    subject: format!("case:{case_id}"),
                    detail: serde_json::json!({ "notice": meta.id, "priority": meta.assessment.priority, "deadline_ms": deadline_ms }),
                },
            )
            .await?;
            receipts.push(NoticeReceipt { case_id, joined_existing_case: false });
        }
        Ok(Some(receipts))
    }
}
