//! The audit chain in the database: append inside each write transaction, verify on demand.

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::audit::{AuditBreak, AuditEntry, ChainVerifier, entry_hash};
use time::OffsetDateTime;

use crate::{Result, Store, WriteTx, to_ms};

/// One event to append.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// Who: `public`, `key:<id>`, `system`.
    pub actor: &'a str,
    /// What, e.g. `notice.received`.
    pub action: &'a str,
    /// On what, e.g. `notice:<id>`.
    pub subject: String,
    /// JSON details without personal data.
    pub detail: serde_json::Value,
}

/// Outcome of `verify_audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: i64,
    /// The head hash (publish or anchor it elsewhere to detect wholesale rewrites).
    pub head_hash: String,
    /// The first break, if any.
    pub broken: Option<AuditBreak>,
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at_ms: row.try_get("at_ms")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        subject: row.try_get("subject")?,
        detail: row.try_get("detail")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// The chain head as this transaction sees it. Entries appended in a transaction are kept in
/// `WriteTx::pending_audit` and written together at commit, right before the head.
#[derive(Clone)]
pub(crate) struct Head {
    pub seq: i64,
    pub hash: String,
    /// Entries were appended since it was read: write it back at commit.
    pub dirty: bool,
}

impl WriteTx {
    /// Appends an event to the chain in this transaction.
    pub(crate) async fn audit(&mut self, at: OffsetDateTime, event: AuditEvent<'_>) -> Result<()> {
        let head = match self.head.take() {
            Some(head) => head,
            None => {
                let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut *self.tx).await?;
                Head { seq: row.try_get("seq")?, hash: row.try_get("hash")?, dirty: false }
            }
        };
        let seq = head.seq + 1;
        let at_ms = to_ms(at);
        let detail = event.detail.to_string();
        let hash = entry_hash(&head.hash, seq, at_ms, event.actor, event.action, &event.subject, &detail);
        self.pending_audit.push(AuditEntry {
            seq,
            at_ms,
            actor: event.actor.to_owned(),
            action: event.action.to_owned(),
            subject: event.subject,
            detail,
            prev_hash: head.hash,
            hash: hash.clone(),
        });
        self.head = Some(Head { seq, hash, dirty: true });
        Ok(())
    }

    /// Writes the appended entries (many rows per statement) and the head (called by `commit`).
    pub(crate) async fn flush_audit_head(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending_audit);
        // 8 parameters a row; 100 rows a statement stays far below every driver's limit.
        for chunk in pending.chunks(100) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 8;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO audit_log (seq, at_ms, actor, action, subject, detail, prev_hash, hash) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for e in chunk {
                q = q
                    .bind(e.seq)
                    .bind(e.at_ms)
                    .bind(e.actor.as_str())
                    .bind(e.action.as_str())
                    .bind(e.subject.as_str())
                    .bind(e.detail.as_str())
                    .bind(e.prev_hash.as_str())
                    .bind(e.hash.as_str());
            }
            q.execute(&mut *self.tx).await?;
        }
        if let Some(head) = self.head.as_mut().filter(|h| h.dirty) {
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(head.seq)
                .bind(&head.hash)
                .execute(&mut *self.tx)
                .await?;
            head.dirty = false;
        }
        Ok(())
    }
}

impl Store {
    /// Walks the whole chain in order and reports the first break.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;
        let mut verifier = ChainVerifier::default();
        // Read in pages so a long log never sits in memory at once.
        let mut after = i64::MIN;
        loop {
            let rows = sqlx::query(
                "SELECT seq, at_ms, actor, action, subject, detail, prev_hash, hash FROM audit_log \
                 WHERE seq > $1 ORDER BY seq LIMIT 5000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("seq")?;
            for row in &rows {
                if let Err(broken) = verifier.check(&entry_from_row(row)?) {
                    return Ok(AuditReport { entries: verifier.count(), head_hash, broken: Some(broken) });
                }
            }
        }
        let entries = verifier.count();
        let broken = verifier.finish(Some((head_seq, &head_hash))).err();
        Ok(AuditReport { entries, head_hash, broken })
    }

    /// Audit entries about one subject, oldest first.
    pub async fn audit_for(&self, subject: &str) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at_ms, actor, action, subject, detail, prev_hash, hash FROM audit_log WHERE subject = $1 ORDER BY seq",
        )
        .bind(subject)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Runs raw SQL against the audit tables. Only for tamper tests and `danger_` tooling: it
    /// exists so that tests can prove `verify_audit` catches what a database administrator could do.
    #[doc(hidden)]
    pub async fn danger_execute(&self, sql: &str) -> Result<u64> {
        Ok(sqlx::query(AssertSqlSafe(sql.to_owned())).execute(&self.pool).await?.rows_affected())
    }
}
