//! Reads for the staff console's case page (issue 12): revealing a notifier's contact details
//! (audited in the same transaction, GDPR Art. 5(1)(f) and 32: every access to personal data is
//! accounted for) and the bank matches that brought a screened upload into a case.

use sqlx::Row;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::{Result, Store};

/// A notifier's contact details, as given with the notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifierContact {
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

impl Store {
    /// The contact details given with a notice of a case (`None` when none were given, the
    /// notice is not in the case, or they were erased). The read is an audit entry
    /// `notifier.revealed` on the case, naming the notice and never the details themselves.
    pub async fn reveal_notifier_contact(
        &self,
        case_id: &str,
        notice_id: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Option<NotifierContact>> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT c.name, c.email FROM notifier_contacts c JOIN notices n ON n.id = c.notice_id \
             WHERE c.notice_id = $1 AND n.case_id = $2 AND c.erased_at IS NULL",
        )
        .bind(notice_id)
        .bind(case_id)
        .fetch_optional(&mut *tx.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "notifier.revealed",
                subject: format!("case:{case_id}"),
                detail: serde_json::json!({ "notice": notice_id }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(NotifierContact { name: row.try_get("name")?, email: row.try_get("email")? }))
    }

    /// The matches (JSON array, as answered to the platform: bank, distance, entry and the
    /// decision that banked it) of a screening record.
    pub async fn screening_matches(&self, screening_id: &str) -> Result<Option<serde_json::Value>> {
        let text: Option<String> = sqlx::query_scalar("SELECT matches FROM screenings WHERE id = $1")
            .bind(screening_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }
}
