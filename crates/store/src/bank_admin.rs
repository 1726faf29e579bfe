//! Hash-bank settings and recent matches for the console's bank page (issue 12).
//!
//! Changing what a bank's match does (`action`) or how close a PDQ hash must be (`threshold`)
//! is logged as a bank change, so every screening node picks it up (design.md §4), and audited.

use sqlx::Row;
use staydown_domain::bank::BankAction;
use time::OffsetDateTime;

use crate::{AuditEvent, Bank, Result, Store, StoreError, from_ms};

/// A screening that matched a bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankMatchRecord {
    /// Screening id.
    pub screening_id: String,
    /// When.
    pub at: OffsetDateTime,
    /// `block`, `hold` or `allow`.
    pub verdict: String,
    /// The case it opened or joined, if any.
    pub case_id: Option<String>,
}

impl Store {
    /// Sets a bank's action and PDQ threshold (0–31, checked by the caller); logged as a bank
    /// change for every screening node and audited as `bank.settings_changed`.
    pub async fn set_bank_settings(
        &self,
        bank: &str,
        action: BankAction,
        threshold: u8,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Bank> {
        let mut tx = self.write().await?;
        let (bank_id, bank_name) = tx.bank_by_name(bank).await?;
        sqlx::query("UPDATE banks SET action = $1, threshold = $2 WHERE id = $3")
            .bind(action.as_str())
            .bind(i64::from(threshold))
            .bind(&bank_id)
            .execute(&mut *tx.tx)
            .await?;
        let seq = tx.next_bank_seq().await?;
        tx.log_bank_change(seq, now, "bank_updated", &bank_id, None).await?;
        tx.notify_bank_change(seq).await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "bank.settings_changed",
                subject: format!("bank:{bank_name}"),
                detail: serde_json::json!({ "action": action.as_str(), "threshold": threshold }),
            },
        )
        .await?;
        tx.commit().await?;
        self.bank(bank).await?.ok_or(StoreError::NotFound)
    }

    /// The latest screenings that matched `bank`, newest first (the same substring test as the
    /// statistics' bank matches).
    pub async fn recent_bank_matches(&self, bank: &str, limit: i64) -> Result<Vec<BankMatchRecord>> {
        let rows = sqlx::query(
            "SELECT id, at_ms, verdict, case_id FROM screenings \
             WHERE LENGTH(REPLACE(matches, '\"bank\":\"' || $1 || '\"', '')) < LENGTH(matches) \
             ORDER BY at_ms DESC, id LIMIT $2",
        )
        .bind(bank)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BankMatchRecord {
                    screening_id: r.try_get("id")?,
                    at: from_ms(r.try_get("at_ms")?),
                    verdict: r.try_get("verdict")?,
                    case_id: r.try_get("case_id")?,
                })
            })
            .collect()
    }
}
