//! Notices and cases: durable intake with grouping, the notifier's tracking view, the review queue.
//!
//! DSA Art. 16: a notice is stored — with its case, its audit entries and the confirmation of
//! receipt in the outbox (Art. 16(4)) — in one transaction before the API answers.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::case::{CaseState, grouping_keys};
use staydown_domain::notice::{NewNotice, Source};
use staydown_domain::policy::Assessment;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::outbox::NewOutboxItem;
use crate::{Result, Store, StoreError, WriteTx, from_ms, placeholders, to_ms};

/// Everything besides the notice itself that intake decided.
#[derive(Debug, Clone)]
pub struct StoredNotice {
    /// New notice id.
    pub id: String,
    /// Id for the case, used only if the notice opens a new one.
    pub new_case_id: String,
    /// Receipt time.
    pub received_at: OffsetDateTime,
    /// Priority and deadline from the policy.
    pub assessment: Assessment,
    /// Digest of the tracking token.
    pub tracking_digest: String,
    /// The API key that filed it.
    pub api_key_id: Option<String>,
    /// Audit actor.
    pub actor: String,
    /// Who sent it, pseudonymously (`key:<id>` or `email:<digest>`), for Art. 23 misuse counting.
    pub notifier_ref: Option<String>,
    /// Confirmation of receipt to queue (when the notifier gave an email address).
    pub confirmation: Option<serde_json::Value>,
}

/// What intake tells the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeReceipt {
    /// The case the notice belongs to.
    pub case_id: String,
    /// Whether it joined an already open case.
    pub joined_existing_case: bool,
}

/// The notifier's view of their notice (tracking page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeStatus {
    /// Notice id.
    pub id: String,
    /// Receipt time.
    pub received_at: OffsetDateTime,
    /// Source.
    pub source: Source,
    /// Category.
    pub category: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// State of the case it is in.
    pub case_state: CaseState,
    /// When the confirmation of receipt went out, if it did.
    pub acknowledged_at: Option<OffsetDateTime>,
    /// Whether a confirmation of receipt is queued or sent at all (not for an anonymous notice,
    /// which left no address to send it to).
    pub confirmation_expected: bool,
    /// Locations as submitted.
    pub locations: Vec<String>,
}

/// One open case in the review queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueItem {
    /// Case id.
    pub case_id: String,
    /// State (`new` or `in_review`).
    pub state: CaseState,
    /// Priority, 0 first.
    pub priority: u8,
    /// Decision due.
    pub deadline_at: OffsetDateTime,
    /// Category of the first notice.
    pub category: String,
    /// When the case was opened.
    pub created_at: OffsetDateTime,
    /// Number of notices grouped in it.
    pub notice_count: i64,
    /// Distinct sources of those notices.
    pub sources: Vec<Source>,
}

pub(crate) fn case_state(text: &str) -> Result<CaseState> {
    CaseState::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown case state {text}")))
}

impl Store {
    /// Stores a validated notice durably: groups it into a case (by content id, normalised URL or
    /// hash), records locations, hashes and — apart — the notifier's contact, queues the
    /// confirmation of receipt, and appends audit entries. All or nothing, and committed before
    /// this returns. Concurrent calls are committed together (group commit, see `intake`).
    ///
    /// # Errors
    /// [`StoreError::Suspended`], nothing written, when the notice's `notifier_ref` is suspended
    /// at its receipt time (DSA Art. 23; checked in the transaction that would file it).
    pub async fn insert_notice(&self, notice: NewNotice, meta: StoredNotice) -> Result<NoticeReceipt> {
        crate::intake::submit(&self.intake, notice, meta).await
    }

    /// The same as `insert_notice`, but in a transaction of its own, bypassing group commit: the
    /// reference that `staydown bench intake` compares group commit against.
    pub async fn insert_notice_alone(&self, notice: &NewNotice, meta: &StoredNotice) -> Result<NoticeReceipt> {
        let mut tx = self.write().await?;
        let receipt = tx.insert_notice(notice, meta).await?;
        tx.commit().await?;
        Ok(receipt)
    }
}

impl WriteTx {
    /// The body of `insert_notice`, inside a transaction that the intake writer commits.
    pub(crate) async fn insert_notice(&mut self, notice: &NewNotice, meta: &StoredNotice) -> Result<NoticeReceipt> {
        self.insert_notice_with_keys(notice, meta, &[]).await
    }

    /// `insert_notice` with grouping keys beyond the notice's own (screening adds
    /// `bank_entry:<id>`, so uploads matching the same bank entry join one case).
    pub(crate) async fn insert_notice_with_keys(
        &mut self,
        notice: &NewNotice,
        meta: &StoredNotice,
        extra_keys: &[String],
    ) -> Result<NoticeReceipt> {
        let tx = self;
        let received_ms = to_ms(meta.received_at);
        let deadline_ms = to_ms(meta.assessment.deadline);
        let priority = i64::from(meta.assessment.priority);
        let mut keys = grouping_keys(notice);
        if !extra_keys.is_empty() {
            keys.extend_from_slice(extra_keys);
            keys.sort();
            keys.dedup();
        }
        let existing = if keys.is_empty() {
            None
        } else {
            let sql = match tx.backend {
                // The same lookup in a form whose plan does not depend on the tables' statistics
                // (as in `pg_batch::statement`): PostgreSQL keeps a generic plan per connection, and
                // the join's plan made on small tables scanned all open cases on every notice
                // (1 ms a notice at 10k cases in `bench intake`'s reference run). Here the keys
                // are looked up in `case_keys`' primary key, and `cases` only when one matched.
                crate::Backend::Postgres => format!(
                    "WITH k AS (SELECT ARRAY(SELECT case_id FROM case_keys WHERE key IN ({})) AS ids) \
                     SELECT c.id, c.priority, c.deadline_at FROM cases c WHERE cardinality((SELECT ids FROM k)) > 0 \
                     AND c.id = ANY((SELECT ids FROM k)::text[]) AND c.state IN ('new', 'in_review') \
                     ORDER BY c.created_at, c.id LIMIT 1",
                    placeholders(1, keys.len())
                ),
                crate::Backend::Sqlite => format!(
                    "SELECT c.id, c.priority, c.deadline_at FROM case_keys k JOIN cases c ON c.id = k.case_id \
                     WHERE k.key IN ({}) AND c.state IN ('new', 'in_review') ORDER BY c.created_at, c.id LIMIT 1",
                    placeholders(1, keys.len())
                ),
            };
            let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
            for k in &keys {
                q = q.bind(k);
            }
            q.fetch_optional(&mut *tx.tx).await?
        };
        let (case_id, joined) = match existing {
            Some(row) => {
                let id: String = row.try_get("id")?;
                let case_priority: i64 = row.try_get("priority")?;
                let case_deadline: i64 = row.try_get("deadline_at")?;
                // The most urgent notice sets the case's pace.
                sqlx::query("UPDATE cases SET priority = $1, deadline_at = $2, updated_at = $3 WHERE id = $4")
                    .bind(case_priority.min(priority))
                    .bind(case_deadline.min(deadline_ms))
                    .bind(received_ms)
                    .bind(&id)
                    .execute(&mut *tx.tx)
                    .await?;
                (id, true)
            }
            None => {
                sqlx::query(
                    "INSERT INTO cases (id, state, priority, deadline_at, category, created_at, updated_at) \
                     VALUES ($1, 'new', $2, $3, $4, $5, $5)",
                )
                .bind(&meta.new_case_id)
                .bind(priority)
                .bind(deadline_ms)
                .bind(&notice.category)
                .bind(received_ms)
                .execute(&mut *tx.tx)
                .await?;
                (meta.new_case_id.clone(), false)
            }
        };
        for key in &keys {
            sqlx::query("INSERT INTO case_keys (key, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(key)
                .bind(&case_id)
                .execute(&mut *tx.tx)
                .await?;
        }

        let order = notice.order.as_ref();
        sqlx::query(
            "INSERT INTO notices (id, case_id, received_at, source, api_key_id, submitted_by, category, keywords, \
             legal_ground, explanation, minor_involved, ai_generated, generator, anonymous_csam, language, priority, \
             deadline_at, tracking_digest, status, order_kind, order_authority, order_member_state, order_reference, \
             order_legal_basis, order_deadline_at, notifier_ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, $18, 'received', $19, $20, $21, $22, $23, $24, $25)",
        )
        .bind(&meta.id)
        .bind(&case_id)
        .bind(received_ms)
        .bind(notice.source.as_str())
        .bind(meta.api_key_id.as_deref())
        .bind(notice.submitted_by.as_deref())
        .bind(&notice.category)
        .bind(serde_json::to_string(&notice.keywords).unwrap_or_else(|_| "[]".into()))
        .bind(notice.legal_ground.as_deref())
        .bind(&notice.explanation)
        .bind(notice.minor_involved.as_str())
        .bind(notice.ai_generated.as_str())
        .bind(notice.generator.as_deref())
        .bind(i64::from(notice.anonymous_csam))
        .bind(notice.language.as_str())
        .bind(priority)
        .bind(deadline_ms)
        .bind(&meta.tracking_digest)
        .bind(order.map(|o| o.kind.as_str()))
        .bind(order.map(|o| o.issuing_authority.as_str()))
        .bind(order.map(|o| o.member_state.as_str()))
        .bind(order.map(|o| o.reference.as_str()))
        .bind(order.map(|o| o.legal_basis.as_str()))
        .bind(order.and_then(|o| o.deadline).map(to_ms))
        .bind(meta.notifier_ref.as_deref())
        .execute(&mut *tx.tx)
        .await?;
        for (i, loc) in notice.locations.iter().enumerate() {
            sqlx::query(
                "INSERT INTO notice_locations (notice_id, position, url, normalized_url, content_id) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&meta.id)
            .bind(i as i64)
            .bind(loc.url.as_deref())
            .bind(loc.normalized_url.as_deref())
            .bind(loc.content_id.as_deref())
            .execute(&mut *tx.tx)
            .await?;
        }
        for (i, h) in notice.hashes.iter().enumerate() {
            // A video's vPDQ goes on the case (issue 17), where a removal decision banks it.
            let case_video_id = match &h.video {
                None => None,
                Some(v) => {
                    let video = crate::videos::CaseVideo {
                        sha256: h.sha256.clone(),
                        md5: h.md5.clone(),
                        frame_count: v.frame_count,
                        vpdq: v.vpdq.clone(),
                    };
                    Some(
                        crate::videos::insert_case_video(tx, &case_id, "notice", &meta.id, &video, meta.received_at)
                            .await?,
                    )
                }
            };
            sqlx::query(
                "INSERT INTO notice_hashes (notice_id, position, pdq, pdq_quality, sha256, md5, case_video_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&meta.id)
            .bind(i as i64)
            .bind(h.pdq.as_deref())
            .bind(h.pdq_quality.map(i64::from))
            .bind(h.sha256.as_deref())
            .bind(h.md5.as_deref())
            .bind(case_video_id)
            .execute(&mut *tx.tx)
            .await?;
        }
        if let Some(contact) = &notice.notifier {
            sqlx::query("INSERT INTO notifier_contacts (notice_id, name, email, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&meta.id)
                .bind(&contact.name)
                .bind(&contact.email)
                .bind(received_ms)
                .execute(&mut *tx.tx)
                .await?;
        }
        if let Some(payload) = meta.confirmation.clone() {
            tx.enqueue(NewOutboxItem {
                channel: "email",
                topic: "notice.received",
                notice_id: Some(&meta.id),
                payload,
                at: meta.received_at,
                key: None,
            })
            .await?;
        }
        // Rollups (issue 16): intake adds to its day's counts; an order's confirmation time is
        // recounted for its day (orders are few).
        let items = if notice.locations.is_empty() { notice.hashes.len() } else { notice.locations.len() };
        tx.count_received_notice(
            received_ms,
            [
                notice.source.as_str(),
                &notice.category,
                order.map_or("unknown", |o| o.member_state.as_str()),
                order.map_or("unknown", |o| o.kind.as_str()),
            ],
            items as i64,
        );
        if notice.source.as_str() == "authority_order" {
            tx.refresh_rollups_on(&["order_ack"], received_ms).await?;
        }
        let others = if joined {
            let rows = sqlx::query(
                "SELECT ai_generated, COALESCE(generator, 'none') AS generator, category, received_at FROM notices \
                 WHERE case_id = $1 AND id <> $2",
            )
            .bind(&case_id)
            .bind(&meta.id)
            .fetch_all(&mut *tx.tx)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(crate::rollups_distinct::Earlier {
                        values: [r.try_get("ai_generated")?, r.try_get("generator")?, r.try_get("category")?],
                        at: r.try_get("received_at")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        tx.count_claim(
            received_ms,
            [notice.ai_generated.as_str(), notice.generator.as_deref().unwrap_or("none"), &notice.category],
            &others,
        )
        .await?;

        tx.audit(
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
                    "order": order.map(|o| serde_json::json!({"kind": o.kind.as_str(), "authority": o.issuing_authority, "reference": o.reference})),
                }),
            },
        )
        .await?;
        tx.audit(
            meta.received_at,
            AuditEvent {
                actor: &meta.actor,
                action: if joined { "case.notice_joined" } else { "case.opened" },
                subject: format!("case:{case_id}"),
                detail: serde_json::json!({ "notice": meta.id, "priority": meta.assessment.priority, "deadline_ms": deadline_ms }),
            },
        )
        .await?;
        Ok(NoticeReceipt { case_id, joined_existing_case: joined })
    }
}

impl Store {
    /// The notifier's view of a notice, only when `tracking_digest` matches. A wrong token and a
    /// missing notice look the same to the caller.
    pub async fn notice_status(&self, id: &str, tracking_digest: &str) -> Result<Option<NoticeStatus>> {
        let row = sqlx::query(
            "SELECT n.id, n.received_at, n.source, n.category, n.keywords, n.tracking_digest, c.state, \
             (SELECT MIN(o.delivered_at) FROM outbox o WHERE o.notice_id = n.id AND o.topic = 'notice.received') AS acknowledged_at, \
             (SELECT COUNT(*) FROM outbox o WHERE o.notice_id = n.id AND o.topic = 'notice.received') AS confirmations \
             FROM notices n JOIN cases c ON c.id = n.case_id WHERE n.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("tracking_digest")?;
        if !crate::constant_time_eq(stored.as_bytes(), tracking_digest.as_bytes()) {
            return Ok(None);
        }
        let source: String = row.try_get("source")?;
        let keywords: String = row.try_get("keywords")?;
        let state: String = row.try_get("state")?;
        let acknowledged_at: Option<i64> = row.try_get("acknowledged_at")?;
        let confirmations: i64 = row.try_get("confirmations")?;
        let locations = sqlx::query(
            "SELECT COALESCE(url, content_id) AS location FROM notice_locations WHERE notice_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("location"))
        .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(NoticeStatus {
            id: row.try_get("id")?,
            received_at: from_ms(row.try_get("received_at")?),
            source: Source::parse(&source).ok_or_else(|| StoreError::Corrupt(format!("unknown source {source}")))?,
            category: row.try_get("category")?,
            keywords: serde_json::from_str(&keywords).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            case_state: case_state(&state)?,
            acknowledged_at: acknowledged_at.map(from_ms),
            confirmation_expected: confirmations > 0,
            locations,
        }))
    }

    /// Open cases (not yet decided) by deadline, then priority, then age.
    pub async fn queue(&self, limit: i64) -> Result<Vec<QueueItem>> {
        let rows = sqlx::query(
            "SELECT c.id, c.state, c.priority, c.deadline_at, c.category, c.created_at, \
             (SELECT COUNT(*) FROM notices n WHERE n.case_id = c.id) AS notice_count \
             FROM cases c WHERE c.state IN ('new', 'in_review') \
             ORDER BY c.deadline_at, c.priority, c.created_at, c.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let state: String = row.try_get("state")?;
            let priority: i64 = row.try_get("priority")?;
            items.push(QueueItem {
                case_id: row.try_get("id")?,
                state: case_state(&state)?,
                priority: u8::try_from(priority).unwrap_or(u8::MAX),
                deadline_at: from_ms(row.try_get("deadline_at")?),
                category: row.try_get("category")?,
                created_at: from_ms(row.try_get("created_at")?),
                notice_count: row.try_get("notice_count")?,
                sources: Vec::new(),
            });
        }
        if !items.is_empty() {
            let sql = format!(
                "SELECT DISTINCT case_id, source FROM notices WHERE case_id IN ({})",
                placeholders(1, items.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql.as_str()));
            for item in &items {
                q = q.bind(&item.case_id);
            }
            let mut sources: HashMap<String, Vec<Source>> = HashMap::new();
            for row in q.fetch_all(&self.pool).await? {
                let source: String = row.try_get("source")?;
                if let Some(s) = Source::parse(&source) {
                    sources.entry(row.try_get("case_id")?).or_default().push(s);
                }
            }
            for item in &mut items {
                let mut s = sources.remove(&item.case_id).unwrap_or_default();
                s.sort_by_key(|s| s.as_str());
                item.sources = s;
            }
        }
        Ok(items)
    }

    /// Number of stored notices.
    pub async fn count_notices(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM notices").fetch_one(&self.pool).await?)
    }

    /// Ids of the notices in a case, oldest first.
    pub async fn case_notice_ids(&self, case_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT id FROM notices WHERE case_id = $1 ORDER BY received_at, id")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?)
    }
}

/// A notice as a reviewer sees it on the case page: everything but the notifier's contact.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseNotice {
    /// Id.
    pub id: String,
    /// Receipt.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Source.
    pub source: &'static str,
    /// Organisation that filed it (trusted flagger, authority), if any.
    pub submitted_by: Option<String>,
    /// Category.
    pub category: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Legal ground cited.
    pub legal_ground: Option<String>,
    /// The notifier's explanation.
    pub explanation: String,
    /// Minor involved (yes/no/unknown).
    pub minor_involved: String,
    /// AI-generated, as the notifier claims (a weak signal).
    pub ai_generated_claim: String,
    /// Generator named by the notifier.
    pub generator_claim: Option<String>,
    /// Language of messages to the notifier.
    pub language: String,
    /// Locations.
    pub locations: Vec<serde_json::Value>,
    /// Media hashes.
    pub hashes: Vec<serde_json::Value>,
    /// Authority order details.
    pub order: Option<serde_json::Value>,
    /// Whether the notifier gave contact details (they are not shown here).
    pub notifier_contact_given: bool,
}

impl Store {
    /// The notices of a case for the case page, oldest first.
    pub async fn case_notices(&self, case_id: &str) -> Result<Vec<CaseNotice>> {
        let rows = sqlx::query(
            "SELECT n.*, EXISTS (SELECT 1 FROM notifier_contacts c WHERE c.notice_id = n.id AND c.erased_at IS NULL) \
             AS has_contact FROM notices n WHERE n.case_id = $1 ORDER BY n.received_at, n.id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let source: String = row.try_get("source")?;
            let keywords: String = row.try_get("keywords")?;
            let locations =
                sqlx::query("SELECT url, content_id FROM notice_locations WHERE notice_id = $1 ORDER BY position")
                    .bind(&id)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(serde_json::json!({
                            "url": r.try_get::<Option<String>, _>("url")?,
                            "content_id": r.try_get::<Option<String>, _>("content_id")?,
                        }))
                    })
                    .collect::<Result<Vec<_>>>()?;
            let hashes = sqlx::query(
                "SELECT h.pdq, h.pdq_quality, h.sha256, h.md5, v.frame_count AS vpdq_frames FROM notice_hashes h \
                 LEFT JOIN case_videos v ON v.id = h.case_video_id WHERE h.notice_id = $1 ORDER BY h.position",
            )
            .bind(&id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let mut set = serde_json::json!({
                    "pdq": r.try_get::<Option<String>, _>("pdq")?,
                    "pdq_quality": r.try_get::<Option<i64>, _>("pdq_quality")?,
                    "sha256": r.try_get::<Option<String>, _>("sha256")?,
                    "md5": r.try_get::<Option<String>, _>("md5")?,
                });
                // A video's set says how many frames its vPDQ has (the vPDQ itself is not echoed).
                if let Some(frames) = r.try_get::<Option<i64>, _>("vpdq_frames")? {
                    set["vpdq_frames"] = frames.into();
                }
                Ok(set)
            })
            .collect::<Result<Vec<_>>>()?;
            let order_kind: Option<String> = row.try_get("order_kind")?;
            let order = match order_kind {
                None => None,
                Some(kind) => Some(serde_json::json!({
                    "kind": kind,
                    "issuing_authority": row.try_get::<Option<String>, _>("order_authority")?,
                    "member_state": row.try_get::<Option<String>, _>("order_member_state")?,
                    "reference": row.try_get::<Option<String>, _>("order_reference")?,
                    "legal_basis": row.try_get::<Option<String>, _>("order_legal_basis")?,
                    "deadline_ms": row.try_get::<Option<i64>, _>("order_deadline_at")?,
                })),
            };
            let has_contact: bool = match row.try_get::<bool, _>("has_contact") {
                Ok(b) => b,
                Err(_) => row.try_get::<i64, _>("has_contact")? != 0,
            };
            out.push(CaseNotice {
                received_at: from_ms(row.try_get("received_at")?),
                source: Source::parse(&source).map_or("unknown", Source::as_str),
                submitted_by: row.try_get("submitted_by")?,
                category: row.try_get("category")?,
                keywords: serde_json::from_str(&keywords).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                legal_ground: row.try_get("legal_ground")?,
                explanation: row.try_get("explanation")?,
                minor_involved: row.try_get("minor_involved")?,
                ai_generated_claim: row.try_get("ai_generated")?,
                generator_claim: row.try_get("generator")?,
                language: row.try_get("language")?,
                locations,
                hashes,
                order,
                notifier_contact_given: has_contact,
                id,
            });
        }
        Ok(out)
    }

    /// A case's state, priority, deadline and assignee.
    pub async fn case_summary(&self, case_id: &str) -> Result<Option<QueueItem>> {
        let row = sqlx::query(
            "SELECT c.id, c.state, c.priority, c.deadline_at, c.category, c.created_at, \
             (SELECT COUNT(*) FROM notices n WHERE n.case_id = c.id) AS notice_count FROM cases c WHERE c.id = $1",
        )
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let state: String = row.try_get("state")?;
        let priority: i64 = row.try_get("priority")?;
        let sources: Vec<String> = sqlx::query_scalar("SELECT DISTINCT source FROM notices WHERE case_id = $1")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?;
        let mut sources: Vec<Source> = sources.iter().filter_map(|s| Source::parse(s)).collect();
        sources.sort_by_key(|s| s.as_str());
        Ok(Some(QueueItem {
            case_id: row.try_get("id")?,
            state: case_state(&state)?,
            priority: u8::try_from(priority).unwrap_or(u8::MAX),
            deadline_at: from_ms(row.try_get("deadline_at")?),
            category: row.try_get("category")?,
            created_at: from_ms(row.try_get("created_at")?),
            notice_count: row.try_get("notice_count")?,
            sources,
        }))
    }
}
