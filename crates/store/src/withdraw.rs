//! Withdrawing a hash-only report (issue 11): the person who filed fingerprints of their photos
//! takes them back. The notice's hashes are deleted, every live bank entry that was fed from its
//! case with those hashes is removed (logged in `bank_changes`, so every server's screening index
//! drops them), and the withdrawal is recorded in the audit chain — one transaction.

use sqlx::Row;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::{Result, Store, StoreError, to_ms};

/// What a withdrawal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// Hash sets deleted from the notice.
    pub hashes: usize,
    /// Bank entries removed.
    pub bank_entries: usize,
}

impl Store {
    /// When a notice was withdrawn, and whether it is hash-only (no locations, at least one hash
    /// set or already withdrawn). `None` if there is no such notice.
    pub async fn notice_withdrawal(&self, notice_id: &str) -> Result<Option<(Option<OffsetDateTime>, bool)>> {
        let row = sqlx::query(
            "SELECT n.withdrawn_at, \
             (SELECT COUNT(*) FROM notice_locations l WHERE l.notice_id = n.id) AS locations, \
             (SELECT COUNT(*) FROM notice_hashes h WHERE h.notice_id = n.id) AS hashes \
             FROM notices n WHERE n.id = $1",
        )
        .bind(notice_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let at: Option<i64> = row.try_get("withdrawn_at")?;
        let locations: i64 = row.try_get("locations")?;
        let hashes: i64 = row.try_get("hashes")?;
        Ok(Some((at.map(crate::from_ms), locations == 0 && (hashes > 0 || at.is_some()))))
    }

    /// Withdraws a hash-only notice whose tracking digest is `tracking_digest`.
    /// Errors: `NotFound` for a wrong id/digest, `Conflict` if it has locations or was withdrawn.
    pub async fn withdraw_hash_notice(
        &self,
        notice_id: &str,
        tracking_digest: &str,
        now: OffsetDateTime,
    ) -> Result<Withdrawal> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT case_id, tracking_digest, withdrawn_at FROM notices WHERE id = $1")
            .bind(notice_id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let stored: String = row.try_get("tracking_digest")?;
        if !crate::constant_time_eq(stored.as_bytes(), tracking_digest.as_bytes()) {
            return Err(StoreError::NotFound);
        }
        let case_id: String = row.try_get("case_id")?;
        let withdrawn: Option<i64> = row.try_get("withdrawn_at")?;
        let locations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_locations WHERE notice_id = $1")
            .bind(notice_id)
            .fetch_one(&mut *tx.tx)
            .await?;
        if withdrawn.is_some() || locations > 0 {
            return Err(StoreError::Conflict("only a hash-only report that is in force can be withdrawn".into()));
        }
        let hashes = sqlx::query("SELECT pdq, sha256, md5 FROM notice_hashes WHERE notice_id = $1")
            .bind(notice_id)
            .fetch_all(&mut *tx.tx)
            .await?;
        // Entries the case's decision banked carry the reason `case <id>: …` (store::banks).
        let reason_prefix = format!("case {case_id}:%");
        let mut removed = Vec::new();
        for h in &hashes {
            let pdq: Option<String> = h.try_get("pdq")?;
            let sha256: Option<String> = h.try_get("sha256")?;
            let md5: Option<String> = h.try_get("md5")?;
            let entries = sqlx::query(
                "SELECT id, bank_id FROM bank_entries WHERE removed_at IS NULL AND reason LIKE $1 \
                 AND ((pdq IS NOT NULL AND pdq = $2) OR (sha256 IS NOT NULL AND sha256 = $3) OR (md5 IS NOT NULL AND md5 = $4))",
            )
            .bind(&reason_prefix)
            .bind(&pdq)
            .bind(&sha256)
            .bind(&md5)
            .fetch_all(&mut *tx.tx)
            .await?;
            for e in entries {
                let id: String = e.try_get("id")?;
                let bank_id: String = e.try_get("bank_id")?;
                if !removed.iter().any(|(r, _): &(String, String)| *r == id) {
                    removed.push((id, bank_id));
                }
            }
        }
        // Videos the notice carried (issue 17): the decision banked each as a video entry with the
        // same normalised vPDQ.
        let videos = sqlx::query("SELECT vpdq FROM case_videos WHERE source = 'notice' AND source_id = $1")
            .bind(notice_id)
            .fetch_all(&mut *tx.tx)
            .await?;
        for v in &videos {
            let vpdq: String = v.try_get("vpdq")?;
            let entries = sqlx::query(
                "SELECT e.id, e.bank_id FROM bank_entries e JOIN bank_entry_videos v ON v.entry_id = e.id \
                 WHERE e.removed_at IS NULL AND e.reason LIKE $1 AND v.vpdq = $2",
            )
            .bind(&reason_prefix)
            .bind(&vpdq)
            .fetch_all(&mut *tx.tx)
            .await?;
            for e in entries {
                let id: String = e.try_get("id")?;
                let bank_id: String = e.try_get("bank_id")?;
                if !removed.iter().any(|(r, _): &(String, String)| *r == id) {
                    removed.push((id, bank_id));
                }
            }
        }
        let mut last_seq = None;
        for (entry_id, bank_id) in &removed {
            sqlx::query("UPDATE bank_entries SET removed_at = $1, removed_by = $2 WHERE id = $3")
                .bind(to_ms(now))
                .bind("notifier")
                .bind(entry_id)
                .execute(&mut *tx.tx)
                .await?;
            let seq = tx.next_bank_seq().await?;
            tx.log_bank_change(seq, now, "entry_removed", bank_id, Some(entry_id)).await?;
            last_seq = Some(seq);
        }
        if let Some(seq) = last_seq {
            tx.notify_bank_change(seq).await?;
        }
        sqlx::query("DELETE FROM notice_hashes WHERE notice_id = $1").bind(notice_id).execute(&mut *tx.tx).await?;
        sqlx::query("DELETE FROM case_videos WHERE source = 'notice' AND source_id = $1")
            .bind(notice_id)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query("UPDATE notices SET withdrawn_at = $1 WHERE id = $2")
            .bind(to_ms(now))
            .bind(notice_id)
            .execute(&mut *tx.tx)
            .await?;
        let entry_ids: Vec<&String> = removed.iter().map(|(id, _)| id).collect();
        tx.audit(
            now,
            AuditEvent {
                actor: "notifier",
                action: "notice.withdrawn",
                subject: format!("notice:{notice_id}"),
                detail: serde_json::json!({ "case": case_id, "hash_sets": hashes.len(), "bank_entries_removed": entry_ids }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Withdrawal { hashes: hashes.len(), bank_entries: removed.len() })
    }
}
