//! The queue of statements of reasons for the EU DSA Transparency Database (TDB).
//!
//! DSA Art. 24(5): each Art. 17 statement goes to the Commission's database without undue delay.
//! A statement is queued in the transaction that records its decision (so a decision never exists
//! without its statement), then a worker claims due rows with a lease (`claimed_until`), sends
//! them, and marks them submitted, failed (the API refused it; never retried) or due again later.
//! The same lease-and-retry pattern as the email outbox (`outbox.rs`), with two differences that
//! the law and the API impose: a statement is never given up on for transport errors (only the
//! API's refusal ends it), and it is keyed by its `puid`, which the TDB itself keeps unique — the
//! basis of idempotent resubmission. Rows are kept after submission: they are the export's source.

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::tdb::Statement;
use time::OffsetDateTime;

use crate::{AuditEvent, Result, Store, StoreError, WriteTx, from_ms, placeholders, to_ms};

/// Where a statement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubmissionState {
    /// Waiting for (another) attempt.
    Pending,
    /// Stored by the TDB.
    Submitted,
    /// Refused by the TDB (422); needs a person.
    Failed,
}

impl SubmissionState {
    /// Storage and API form.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionState::Pending => "pending",
            SubmissionState::Submitted => "submitted",
            SubmissionState::Failed => "failed",
        }
    }

    /// Parses the storage and API form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(SubmissionState::Pending),
            "submitted" => Some(SubmissionState::Submitted),
            "failed" => Some(SubmissionState::Failed),
            _ => None,
        }
    }
}

/// A queued (or sent) statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedStatement {
    /// The TDB's unique id of the statement.
    pub puid: String,
    /// The decision it reports.
    pub decision_id: String,
    /// The exact JSON sent to the TDB.
    pub statement_json: String,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// Where it stands.
    pub state: SubmissionState,
    /// Attempts so far, including the current claim.
    pub attempts: i64,
    /// When it is next due (pending only).
    pub next_attempt_at: OffsetDateTime,
    /// The API's error body, or the transport error, of the last failed attempt.
    pub last_error: Option<String>,
    /// When the TDB stored it.
    pub submitted_at: Option<OffsetDateTime>,
    /// The TDB's uuid, when the API told us (not when we learnt of it through `existing-puid`).
    pub tdb_uuid: Option<String>,
}

impl QueuedStatement {
    /// The statement as a value.
    pub fn statement(&self) -> Result<Statement> {
        serde_json::from_str(&self.statement_json)
            .map_err(|e| StoreError::Corrupt(format!("statement {}: {e}", self.puid)))
    }
}

/// A statement the TDB has stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedStatement {
    /// Its puid.
    pub puid: String,
    /// The TDB's uuid, if known.
    pub uuid: Option<String>,
}

/// Where a page of [`Store::statements_since`] ended; pass it back for the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportCursor {
    created_at_ms: i64,
    puid: String,
}

const COLUMNS: &str =
    "puid, decision_id, statement, created_at, state, attempts, next_attempt_at, last_error, submitted_at, tdb_uuid";

fn queued(row: &sqlx::any::AnyRow) -> Result<QueuedStatement> {
    let state: String = row.try_get("state")?;
    Ok(QueuedStatement {
        puid: row.try_get("puid")?,
        decision_id: row.try_get("decision_id")?,
        statement_json: row.try_get("statement")?,
        created_at: from_ms(row.try_get("created_at")?),
        state: SubmissionState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("tdb state `{state}`")))?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: from_ms(row.try_get("next_attempt_at")?),
        last_error: row.try_get("last_error")?,
        submitted_at: row.try_get::<Option<i64>, _>("submitted_at")?.map(from_ms),
        tdb_uuid: row.try_get("tdb_uuid")?,
    })
}

/// Queues `statement` for the TDB inside the caller's write transaction (the decision's own), due
/// at once. Validates nothing: validate with `staydown_domain::tdb::validate` first. A puid that is
/// already queued is a `Conflict` (the TDB would refuse it too).
pub(crate) async fn enqueue_statement(
    tx: &mut WriteTx,
    decision_id: &str,
    statement: &Statement,
    now: OffsetDateTime,
) -> Result<()> {
    let json = serde_json::to_string(statement).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO tdb_statements (puid, decision_id, statement, created_at, state, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $4)",
    )
    .bind(&statement.puid)
    .bind(decision_id)
    .bind(&json)
    .bind(to_ms(now))
    .execute(&mut *tx.tx)
    .await?;
    tx.audit(
        now,
        AuditEvent {
            actor: "system",
            action: "tdb.statement.queued",
            subject: format!("decision:{decision_id}"),
            detail: serde_json::json!({ "puid": statement.puid }),
        },
    )
    .await
}

impl Store {
    /// Queues one statement in its own transaction (tests, demo data; the decision flow calls
    /// the crate-private `enqueue_statement` inside the decision's transaction instead).
    pub async fn enqueue_statement(&self, decision_id: &str, statement: &Statement, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        enqueue_statement(&mut tx, decision_id, statement, now).await?;
        tx.commit().await
    }

    /// Claims up to `limit` due pending statements for `lease`, oldest first, counting the attempt.
    /// A claim that is not settled (submitted, failed, retry later) before the lease ends is
    /// claimable again, so a worker that dies loses nothing.
    pub async fn claim_statements(
        &self,
        limit: i64,
        now: OffsetDateTime,
        lease: std::time::Duration,
    ) -> Result<Vec<QueuedStatement>> {
        let now_ms = to_ms(now);
        let mut tx = self.write().await?;
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT puid FROM tdb_statements WHERE state = 'pending' AND next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until <= $1) ORDER BY next_attempt_at, created_at, puid LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *tx.tx)
        .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "UPDATE tdb_statements SET claimed_until = $1, attempts = attempts + 1 WHERE state = 'pending' \
             AND (claimed_until IS NULL OR claimed_until <= $2) AND puid IN ({}) RETURNING {COLUMNS}",
            placeholders(3, due.len())
        );
        // The claim re-checks the lease in the UPDATE itself (compare-and-set), so two workers that
        // read the same due rows never both claim one, whatever serialises their transactions.
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(now_ms + lease.as_millis() as i64).bind(now_ms);
        for puid in &due {
            query = query.bind(puid);
        }
        let rows = query.fetch_all(&mut *tx.tx).await?;
        tx.commit().await?;
        let mut claimed = rows.iter().map(queued).collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|s| due.iter().position(|p| *p == s.puid));
        Ok(claimed)
    }

    /// Marks statements as stored by the TDB (idempotent) and records it in the audit chain.
    pub async fn mark_submitted(&self, submitted: &[SubmittedStatement], now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        for s in submitted {
            let decision: Option<String> = sqlx::query_scalar(
                "UPDATE tdb_statements SET state = 'submitted', submitted_at = $1, tdb_uuid = $2, claimed_until = NULL, \
                 last_error = NULL WHERE puid = $3 AND state <> 'submitted' RETURNING decision_id",
            )
            .bind(to_ms(now))
            .bind(s.uuid.as_deref())
            .bind(&s.puid)
            .fetch_optional(&mut *tx.tx)
            .await?;
            if let Some(decision) = decision {
                let event = AuditEvent {
                    actor: "system",
                    action: "tdb.statement.submitted",
                    subject: format!("decision:{decision}"),
                    detail: serde_json::json!({ "puid": s.puid, "uuid": s.uuid }),
                };
                tx.audit(now, event).await?;
            }
        }
        tx.commit().await
    }

    /// Records that the TDB refused a statement (`error`: its error body). It is not retried; it
    /// shows in the failure view until someone fixes the decision and queues a corrected statement.
    pub async fn mark_failed_permanently(&self, puid: &str, error: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        let decision: Option<String> = sqlx::query_scalar(
            "UPDATE tdb_statements SET state = 'failed', claimed_until = NULL, last_error = $1 \
             WHERE puid = $2 AND state = 'pending' RETURNING decision_id",
        )
        .bind(staydown_domain::scrub::scrub(error))
        .bind(puid)
        .fetch_optional(&mut *tx.tx)
        .await?;
        if let Some(decision) = decision {
            let event = AuditEvent {
                actor: "system",
                action: "tdb.statement.refused",
                subject: format!("decision:{decision}"),
                detail: serde_json::json!({ "puid": puid }),
            };
            tx.audit(now, event).await?;
        }
        tx.commit().await
    }

    /// Releases claimed statements to be tried again at `at`, keeping `error` for the queue view.
    pub async fn retry_later(&self, puids: &[String], error: &str, at: OffsetDateTime) -> Result<()> {
        if puids.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        let sql = format!(
            "UPDATE tdb_statements SET claimed_until = NULL, last_error = $1, next_attempt_at = $2 \
             WHERE state = 'pending' AND puid IN ({})",
            placeholders(3, puids.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(staydown_domain::scrub::scrub(error)).bind(to_ms(at));
        for puid in puids {
            query = query.bind(puid);
        }
        query.execute(&mut *tx.tx).await?;
        tx.commit().await
    }

    /// One page of statements queued in `[since, until)`, in queue order, after `cursor`. Call
    /// again with the returned cursor until it is `None`; no more than `limit` rows are in memory.
    pub async fn statements_since(
        &self,
        since: OffsetDateTime,
        until: Option<OffsetDateTime>,
        cursor: Option<&ExportCursor>,
        limit: i64,
    ) -> Result<(Vec<QueuedStatement>, Option<ExportCursor>)> {
        let (after_ms, after_puid) = cursor.map_or((i64::MIN, ""), |c| (c.created_at_ms, c.puid.as_str()));
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tdb_statements WHERE created_at >= $1 AND created_at < $2 \
             AND (created_at > $3 OR (created_at = $3 AND puid > $4)) ORDER BY created_at, puid LIMIT $5"
        )))
        .bind(to_ms(since))
        .bind(until.map_or(i64::MAX, to_ms))
        .bind(after_ms)
        .bind(after_puid)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let page = rows.iter().map(queued).collect::<Result<Vec<_>>>()?;
        let next = match page.last() {
            Some(last) if page.len() as i64 == limit => {
                Some(ExportCursor { created_at_ms: to_ms(last.created_at), puid: last.puid.clone() })
            }
            _ => None,
        };
        Ok((page, next))
    }

    /// The queue, newest first, optionally in one state (the failure view), at most `limit` rows.
    pub async fn submission_queue(&self, state: Option<SubmissionState>, limit: i64) -> Result<Vec<QueuedStatement>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tdb_statements WHERE ($1 = '' OR state = $1) \
             ORDER BY created_at DESC, puid DESC LIMIT $2"
        )))
        .bind(state.map_or("", SubmissionState::as_str))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(queued).collect()
    }

    /// One statement by puid.
    pub async fn queued_statement(&self, puid: &str) -> Result<Option<QueuedStatement>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM tdb_statements WHERE puid = $1")))
            .bind(puid)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(queued).transpose()
    }
}
