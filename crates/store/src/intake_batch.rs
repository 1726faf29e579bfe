//! The fast path of group commit (issue 16, goal 3): a batch of notices that each open a case of
//! their own is written with one multi-row statement per table instead of a handful of statements
//! per notice — on SQLite; on PostgreSQL, where every statement is a round trip, in two
//! statements (`pg_batch.rs`): first the batch's rows, **before** the audit chain head is locked,
//! then, holding the head, its audit entries, the new head and the rollup increments. Each checks
//! that no key of the batch belongs to an open case (the second again, since the batch that held
//! the head before may have opened one). Rows of new cases, notices and the rest are seen by no
//! other transaction until commit and conflict with none, so they need not wait for the head:
//! while one batch holds the head and commits, the next writes its rows. The head is held only for
//! the small second statement and the commit, which is what orders the batches.
//!
//! It applies when no notice of the batch joins a case: none of its grouping keys belongs to an
//! open case in the database or to another notice of the batch, it is not an authority order
//! (whose confirmation time is recounted) and it carries no video's vPDQ (kept on the case). Otherwise the batch takes the per-notice path
//! (`notices.rs`), which groups notices into cases one by one. Both write the same rows, the same
//! audit entries in the same order, and the same rollup increments.

use std::collections::HashSet;

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::case::grouping_keys;
use staydown_domain::notice::NewNotice;

use crate::audit::AuditEvent;
use crate::notices::{NoticeReceipt, StoredNotice};
use crate::outbox::{NewOutboxItem, outbox_id};
use crate::pg_batch::{Guard, Rows, V};
use crate::{Backend, Result, WriteTx, placeholders, to_ms};

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
    /// Inserts `rows` into `table` (`columns`), many rows per statement (SQLite).
    async fn insert_rows(&mut self, Rows { table, columns, rows }: Rows) -> Result<()> {
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

    /// Writes `batch` with multi-row statements when every notice opens a case of its own and no
    /// notifier of the batch is suspended, and returns `None` otherwise. The caller then rolls the transaction back
    /// (on PostgreSQL it may hold the batch's rows, and the head may not be locked) and writes the
    /// batch notice by notice in a new one. On PostgreSQL the transaction may be begun without the
    /// head lock (`begin_write_unlocked`): the rows go in first, then the head is locked.
    pub(crate) async fn insert_new_case_batch(
        &mut self,
        batch: &[(&NewNotice, &StoredNotice)],
    ) -> Result<Option<Vec<NoticeReceipt>>> {
        let keys: Vec<Vec<String>> = batch.iter().map(|(n, _)| grouping_keys(n)).collect();
        let mut seen = HashSet::new();
        for ((notice, _), ks) in batch.iter().zip(&keys) {
            // A video's vPDQ goes on the case (`videos::insert_case_video`), which only the
            // per-notice path writes.
            if notice.order.is_some()
                || notice.hashes.iter().any(|h| h.video.is_some())
                || ks.iter().any(|k| !seen.insert(k.as_str()))
            {
                return Ok(None);
            }
        }
        let all: Vec<&String> = keys.iter().flatten().collect();
        let notifiers: Vec<&str> = batch.iter().filter_map(|(_, m)| m.notifier_ref.as_deref()).collect();
        // A suspension counts from the batch's first notice on (a later one may fall after its end:
        // the per-notice path then decides each notice at its own time).
        let at_ms = batch.iter().map(|(_, m)| to_ms(m.received_at)).min().unwrap_or(0);
        // On PostgreSQL the same checks are made by the statements that write the batch (a round
        // trip less per batch); here on SQLite, in-process, before anything is written, and in one
        // statement: open cases holding a key of the batch, and suspensions (DSA Art. 23) in force
        // of its notifiers, whose notices the per-notice path refuses.
        if self.backend == Backend::Sqlite {
            let (key_chunks, ref_chunks): (Vec<_>, Vec<_>) =
                (all.chunks(1000).collect(), notifiers.chunks(1000).collect());
            for n in 0..key_chunks.len().max(ref_chunks.len()) {
                let (ks, rs) = (key_chunks.get(n).copied().unwrap_or(&[]), ref_chunks.get(n).copied().unwrap_or(&[]));
                let sql = format!(
                    "SELECT (SELECT COUNT(*) FROM case_keys k JOIN cases c ON c.id = k.case_id \
                     WHERE k.key IN ({}) AND c.state IN ('new', 'in_review')) \
                     + (SELECT COUNT(*) FROM misuse_measures WHERE notifier_ref IN ({}) AND kind = 'suspension' \
                     AND lifted_at IS NULL AND until > ${}) AS n",
                    placeholders(1, ks.len()),
                    placeholders(ks.len() + 1, rs.len()),
                    ks.len() + rs.len() + 1
                );
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for k in ks {
                    q = q.bind(*k);
                }
                for r in rs {
                    q = q.bind(*r);
                }
                let found: i64 = q.bind(at_ms).fetch_one(&mut *self.tx).await?.try_get("n")?;
                if found > 0 {
                    return Ok(None);
                }
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
        let parts = vec![
            Rows {
                table: "cases",
                columns: &["id", "priority", "deadline_at", "category", "created_at", "updated_at", "state"],
                rows: cases,
            },
            Rows { table: "case_keys", columns: &["key", "case_id"], rows: case_keys },
            Rows {
                table: "notices",
                columns: &[
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
                rows: notices,
            },
            Rows {
                table: "notice_locations",
                columns: &["notice_id", "position", "url", "normalized_url", "content_id"],
                rows: locations,
            },
            Rows {
                table: "notice_hashes",
                columns: &["notice_id", "position", "pdq", "pdq_quality", "sha256", "md5"],
                rows: hashes,
            },
            Rows { table: "notifier_contacts", columns: &["notice_id", "name", "email", "created_at"], rows: contacts },
            Rows {
                table: "outbox",
                columns: &["id", "channel", "topic", "notice_id", "payload", "created_at", "next_attempt_at"],
                rows: outbox,
            },
        ];
        let postgres = self.backend == Backend::Postgres;
        let guard = || Guard {
            keys: serde_json::to_string(&all).unwrap_or_else(|_| "[]".into()),
            own_cases: serde_json::to_string(&batch.iter().map(|(_, m)| &m.new_case_id).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".into()),
            notifiers: serde_json::to_string(&notifiers).unwrap_or_else(|_| "[]".into()),
            at_ms,
        };
        if postgres {
            // The rows, if no key belongs to an open case now; the head is locked after them.
            if !self.pg_statement(parts, Some(guard())).await? {
                return Ok(None);
            }
            self.lock_head().await?;
        } else {
            for part in parts {
                self.insert_rows(part).await?;
            }
        }

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
        if postgres {
            // Holding the head: the audit entries just appended, the head and the rollup
            // increments in one statement (`pg_batch`), written only if still no key belongs to an
            // open case — the batch that held the head before this one may have opened one.
            if !self.pg_write(Vec::new(), Some(guard())).await? {
                return Ok(None);
            }
        }
        Ok(Some(receipts))
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Column, Row};
    use staydown_domain::notice::{NoticeDraft, Submitter, validate_notice};
    use staydown_domain::policy::Policy;
    use staydown_testkit::{backends, fresh_database};
    use time::OffsetDateTime;

    use crate::notices::StoredNotice;
    use crate::{Backend, Store, begin_write, begin_write_unlocked, to_ms};

    /// Notices of every shape the fast path takes: several locations, hashes without a location,
    /// a trusted flagger's without a contact (so without a confirmation), AI claims with a generator.
    fn notices() -> Vec<(staydown_domain::notice::NewNotice, StoredNotice)> {
        (0..7).map(notice).collect()
    }

    fn notice(i: i64) -> (staydown_domain::notice::NewNotice, StoredNotice) {
        let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let policy = Policy::default();
        let mut body = serde_json::json!({
            "locations": [{"url": format!("https://batch.example/p/{i}?utm_source=x")}],
            "explanation": "Shared without consent.",
            "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "keywords": ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
            "notifier": {"name": format!("N{i}"), "email": format!("n{i}@example.org")},
            "good_faith": true
        });
        match i % 4 {
            0 => body["notifier"] = serde_json::Value::Null,
            1 => {
                body["locations"] = serde_json::json!([
                    {"url": format!("https://batch.example/a/{i}")},
                    {"content_id": format!("img-{i}")}
                ]);
                body["ai_generated"] = serde_json::json!("yes");
                body["generator"] = serde_json::json!("some app");
            }
            2 => {
                body["locations"] = serde_json::Value::Null;
                body["hashes"] = serde_json::json!([
                    {"sha256": format!("{i:064x}"), "md5": format!("{i:032x}")},
                    {"pdq": format!("{:064x}", i + 100), "pdq_quality": 80}
                ]);
            }
            _ => body["minor_involved"] = serde_json::json!("no"),
        }
        let draft: NoticeDraft = serde_json::from_value(body).unwrap();
        let received_at = at + time::Duration::milliseconds(i);
        // A trusted flagger may file without a contact (so without a confirmation).
        let submitter = if i % 4 == 0 { Submitter::TrustedFlagger { name: "TF".into() } } else { Submitter::Public };
        let notice = validate_notice(draft, &submitter, received_at).unwrap();
        let meta = StoredNotice {
            id: format!("notice-{i}"),
            new_case_id: format!("case-{i}"),
            received_at,
            assessment: policy.assess(&notice, received_at),
            tracking_digest: format!("digest-{i}"),
            api_key_id: None,
            actor: "public".into(),
            notifier_ref: notice.notifier.as_ref().map(|_| format!("email:{i}")),
            confirmation: notice.notifier.as_ref().map(|_| serde_json::json!({"notice": i})),
        };
        (notice, meta)
    }

    /// Every row of the tables intake writes, as text, sorted.
    async fn dump(store: &Store) -> Vec<(String, Vec<Vec<Option<String>>>)> {
        let mut out = Vec::new();
        for table in [
            "cases",
            "case_keys",
            "notices",
            "notice_locations",
            "notice_hashes",
            "notifier_contacts",
            "outbox",
            "audit_log",
            "audit_head",
            "rollups",
        ] {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
                .fetch_all(&store.pool)
                .await
                .unwrap();
            let mut rows: Vec<Vec<Option<String>>> = rows
                .iter()
                .map(|r| {
                    (0..r.columns().len())
                        .map(|c| {
                            let name = r.columns()[c].name().to_owned();
                            let value = r
                                .try_get::<Option<String>, _>(c)
                                .or_else(|_| r.try_get::<Option<i64>, _>(c).map(|v| v.map(|n| n.to_string())))
                                .unwrap_or_else(|e| panic!("{table}.{name}: {e}"));
                            value.map(|v| format!("{name}={v}"))
                        })
                        .collect()
                })
                .collect();
            rows.sort();
            out.push((table.to_owned(), rows));
        }
        out
    }

    /// The multi-row path (on PostgreSQL one statement, `pg_batch`) writes exactly the rows, the
    /// audit entries (same seq, same hashes) and the rollup counts that the per-notice path writes.
    #[tokio::test]
    async fn batch_path_writes_what_the_per_notice_path_writes() {
        for backend in backends().await {
            let (one_db, batch_db) = (fresh_database(backend).await, fresh_database(backend).await);
            let one = Store::connect(&one_db.url).await.unwrap();
            let batch = Store::connect(&batch_db.url).await.unwrap();
            let items = notices();

            let mut tx = begin_write(&one.pool, one.backend, &one.sqlite_writer).await.unwrap();
            let mut by_one = Vec::new();
            for (notice, meta) in &items {
                by_one.push(tx.insert_notice(notice, meta).await.unwrap());
            }
            tx.commit().await.unwrap();

            // As the intake writer does: on PostgreSQL the head is locked after the rows.
            let mut tx = begin_write_unlocked(&batch.pool, batch.backend, &batch.sqlite_writer).await.unwrap();
            let jobs: Vec<_> = items.iter().map(|(n, m)| (n, m)).collect();
            let by_batch = tx.insert_new_case_batch(&jobs).await.unwrap().expect("no notice joins a case");
            tx.commit().await.unwrap();

            assert_eq!(by_batch, by_one, "{backend:?}");
            let (a, b) = (dump(&one).await, dump(&batch).await);
            for ((table, rows_one), (_, rows_batch)) in a.iter().zip(&b) {
                assert!(!rows_one.is_empty(), "{backend:?}: {table} has rows");
                assert_eq!(rows_batch, rows_one, "{backend:?}: {table}");
            }
            assert_eq!(batch.verify_audit().await.unwrap().broken, None);
            let day = to_ms(items[0].1.received_at).div_euclid(86_400_000);
            assert!(b.iter().any(|(t, rows)| t == "rollups"
                && rows.iter().flatten().any(|v| v.as_deref() == Some(&*format!("day={day}")))));

            // A second batch whose notice shares a URL with the first falls back, having written
            // nothing (on PostgreSQL the guarded statement's doing); the per-notice path then
            // joins it to that case in a new transaction, and the chain stays whole.
            let mut tx = begin_write_unlocked(&batch.pool, batch.backend, &batch.sqlite_writer).await.unwrap();
            let (mut again, mut meta) = items[3].clone();
            meta.id = "notice-again".into();
            meta.new_case_id = "case-again".into();
            again.explanation = "Again.".into();
            let (fresh, fresh_meta) = notice(8);
            assert_eq!(tx.insert_new_case_batch(&[(&fresh, &fresh_meta), (&again, &meta)]).await.unwrap(), None);
            tx.rollback().await.unwrap();
            let mut tx = begin_write(&batch.pool, batch.backend, &batch.sqlite_writer).await.unwrap();
            let opened = tx.insert_notice(&fresh, &fresh_meta).await.unwrap();
            let joined = tx.insert_notice(&again, &meta).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!((opened.case_id.as_str(), opened.joined_existing_case), ("case-8", false));
            assert_eq!((joined.case_id.as_str(), joined.joined_existing_case), ("case-3", true));
            assert_eq!(batch.count_notices().await.unwrap(), 9, "{backend:?}");
            let audit = batch.verify_audit().await.unwrap();
            assert_eq!((audit.entries, audit.broken), (7 * 2 + 4, None), "{backend:?}");
        }
    }

    /// On PostgreSQL a batch writes its rows before it locks the chain head, so the batch holding
    /// the head meanwhile may open a case on one of its URLs: the check made holding the head sees
    /// it, and the batch writes nothing (its rows go with the rollback); the URL's notices end up
    /// on one case.
    #[tokio::test]
    async fn a_case_opened_while_a_batch_waits_for_the_head_is_seen() {
        for backend in backends().await.into_iter().filter(|b| *b == staydown_testkit::Backend::Postgres) {
            let db = fresh_database(backend).await;
            let store = Store::connect(&db.url).await.unwrap();
            assert_eq!(store.backend, Backend::Postgres);
            let (first, first_meta) = notice(1);
            let (mut second, mut second_meta) = notice(1);
            second_meta.id = "notice-second".into();
            second_meta.new_case_id = "case-second".into();
            second.explanation = "Again.".into();

            // The first notice's transaction holds the head and has opened its case, uncommitted.
            let mut holder = begin_write(&store.pool, store.backend, &store.sqlite_writer).await.unwrap();
            holder.insert_notice(&first, &first_meta).await.unwrap();
            // The batch writes its rows (the case is not visible yet) and waits for the head.
            let pool = store.pool.clone();
            let writer = store.sqlite_writer.clone();
            let waiting = tokio::spawn(async move {
                let mut tx = begin_write_unlocked(&pool, Backend::Postgres, &writer).await.unwrap();
                let written = tx.insert_new_case_batch(&[(&second, &second_meta)]).await.unwrap();
                tx.rollback().await.unwrap();
                written
            });
            let waits_for_head = || async {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*)::BIGINT FROM pg_stat_activity WHERE datname = current_database() \
                     AND wait_event_type = 'Lock' AND query LIKE '%audit_head%FOR UPDATE%'",
                )
                .fetch_one(&store.pool)
                .await
                .unwrap()
            };
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while waits_for_head().await == 0 {
                assert!(std::time::Instant::now() < deadline, "the batch never waited for the head");
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            holder.commit().await.unwrap();
            assert_eq!(waiting.await.unwrap(), None, "the case opened meanwhile is seen");
            assert_eq!(store.count_notices().await.unwrap(), 1);
            let cases: i64 =
                sqlx::query_scalar("SELECT COUNT(*)::BIGINT FROM cases").fetch_one(&store.pool).await.unwrap();
            assert_eq!(cases, 1, "the batch's case went with the rollback");
            assert_eq!(store.verify_audit().await.unwrap().broken, None);
        }
    }
}
