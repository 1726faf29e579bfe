//! Internal complaints against decisions (DSA Art. 20): filing within the window, and the outcome
//! by a different reviewer — written with the case transition, the replacing decision (if any),
//! the restore webhooks and the messages to both sides in one transaction.

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::appeal::{AppealOutcome, Appellant};
use staydown_domain::case::CaseState;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::decisions::{DecisionRecord, NewDecision, conflict};
use crate::outbox::OutboxMessage;
use crate::{Result, Store, StoreError, from_ms, to_ms};

/// An appeal to store.
#[derive(Debug, Clone)]
pub struct NewAppeal {
    /// Id.
    pub id: String,
    /// The decision appealed.
    pub decision_id: String,
    /// Who appeals.
    pub appellant: Appellant,
    /// The notifier's notice, when the notifier appeals.
    pub notice_id: Option<String>,
    /// When.
    pub received_at: OffsetDateTime,
    /// Their reasons.
    pub reason: String,
    /// `nl` or `en`.
    pub language: String,
    /// Audit actor.
    pub actor: String,
}

/// A stored appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealRecord {
    /// Id.
    pub id: String,
    /// Decision appealed.
    pub decision_id: String,
    /// Who appealed.
    pub appellant: Appellant,
    /// The notifier's notice.
    pub notice_id: Option<String>,
    /// When.
    pub received_at: OffsetDateTime,
    /// Their reasons.
    pub reason: String,
    /// `nl` or `en`.
    pub language: String,
    /// `open` or `decided`.
    pub state: String,
    /// Outcome, once decided.
    pub outcome: Option<AppealOutcome>,
    /// The reasoned answer.
    pub reasons: Option<String>,
    /// Who decided it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<OffsetDateTime>,
    /// The replacing decision, when modified.
    pub new_decision_id: Option<String>,
}

/// Settling an appeal.
#[derive(Debug, Clone)]
pub struct AppealResolution {
    /// The appeal.
    pub appeal_id: String,
    /// Outcome.
    pub outcome: AppealOutcome,
    /// Reasons.
    pub reasons: String,
    /// Who decided (must differ from the original decider).
    pub decided_by: String,
    /// Audit actor.
    pub actor: String,
    /// When.
    pub at: OffsetDateTime,
    /// Messages and webhooks (restore, notifications).
    pub messages: Vec<OutboxMessage>,
    /// The replacing decision, when modified.
    pub replacement: Option<NewDecision>,
}

fn appeal_from_row(row: &sqlx::any::AnyRow) -> Result<AppealRecord> {
    let appellant: String = row.try_get("appellant")?;
    let outcome: Option<String> = row.try_get("outcome")?;
    Ok(AppealRecord {
        id: row.try_get("id")?,
        decision_id: row.try_get("decision_id")?,
        appellant: Appellant::parse(&appellant)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown appellant {appellant}")))?,
        notice_id: row.try_get("notice_id")?,
        received_at: from_ms(row.try_get("received_at")?),
        reason: row.try_get("reason")?,
        language: row.try_get("language")?,
        state: row.try_get("state")?,
        outcome: outcome.as_deref().and_then(AppealOutcome::parse),
        reasons: row.try_get("reasons")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get::<Option<i64>, _>("decided_at")?.map(from_ms),
        new_decision_id: row.try_get("new_decision_id")?,
    })
}

const APPEAL_COLUMNS: &str = "id, decision_id, appellant, notice_id, received_at, reason, language, state, outcome, \
                              reasons, decided_by, decided_at, new_decision_id";

impl Store {
    /// Who holds `token_digest` for this decision: the uploader, or the notifier of one of the
    /// notices it answers.
    pub async fn appellant(
        &self,
        decision: &DecisionRecord,
        token_digest: &str,
    ) -> Result<Option<(Appellant, Option<String>)>> {
        if decision
            .uploader_token_digest
            .as_deref()
            .is_some_and(|d| crate::constant_time_eq(d.as_bytes(), token_digest.as_bytes()))
        {
            return Ok(Some((Appellant::Uploader, None)));
        }
        let notice: Option<String> = sqlx::query_scalar(
            "SELECT n.id FROM notices n JOIN decision_notices dn ON dn.notice_id = n.id \
             WHERE dn.decision_id = $1 AND n.tracking_digest = $2",
        )
        .bind(&decision.id)
        .bind(token_digest)
        .fetch_optional(&self.pool)
        .await?;
        Ok(notice.map(|n| (Appellant::Notifier, Some(n))))
    }

    /// Files an appeal: the case becomes `appealed`.
    pub async fn file_appeal(&self, a: &NewAppeal) -> Result<()> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT d.case_id, d.status, c.state FROM decisions d JOIN cases c ON c.id = d.case_id WHERE d.id = $1",
        )
        .bind(&a.decision_id)
        .fetch_optional(&mut *tx.tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let case_id: String = row.try_get("case_id")?;
        let status: String = row.try_get("status")?;
        if status != "in_force" {
            return Err(conflict(format!("this decision is {status}; appeal the decision that replaced it")));
        }
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM appeals WHERE decision_id = $1 AND appellant = $2 AND state = 'open' \
             AND COALESCE(notice_id, '') = COALESCE($3, '')",
        )
        .bind(&a.decision_id)
        .bind(a.appellant.as_str())
        .bind(a.notice_id.as_deref())
        .fetch_one(&mut *tx.tx)
        .await?;
        if open > 0 {
            return Err(conflict("you already have an open appeal against this decision"));
        }
        sqlx::query(
            "INSERT INTO appeals (id, decision_id, appellant, notice_id, received_at, reason, language, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open')",
        )
        .bind(&a.id)
        .bind(&a.decision_id)
        .bind(a.appellant.as_str())
        .bind(a.notice_id.as_deref())
        .bind(to_ms(a.received_at))
        .bind(&a.reason)
        .bind(&a.language)
        .execute(&mut *tx.tx)
        .await?;
        tx.refresh_rollups_on(&["appeal_received"], to_ms(a.received_at)).await?;
        let state: String = row.try_get("state")?;
        if CaseState::parse(&state).is_some_and(|s| s.can_become(CaseState::Appealed)) {
            tx.set_case_state(&case_id, CaseState::Appealed, a.received_at).await?;
        }
        tx.audit(
            a.received_at,
            AuditEvent {
                actor: &a.actor,
                action: "appeal.filed",
                subject: format!("appeal:{}", a.id),
                detail: serde_json::json!({ "decision": a.decision_id, "case": case_id, "appellant": a.appellant.as_str() }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Earlier appeals by the same party (appellant kind and notice) against a decision, oldest first.
    pub async fn appeals_by_party(
        &self,
        decision_id: &str,
        appellant: Appellant,
        notice_id: Option<&str>,
    ) -> Result<Vec<AppealRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APPEAL_COLUMNS} FROM appeals WHERE decision_id = $1 AND appellant = $2 \
             AND COALESCE(notice_id, '') = COALESCE($3, '') ORDER BY received_at, id"
        )))
        .bind(decision_id)
        .bind(appellant.as_str())
        .bind(notice_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(appeal_from_row).collect()
    }

    /// An appeal by id.
    pub async fn appeal(&self, id: &str) -> Result<Option<AppealRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {APPEAL_COLUMNS} FROM appeals WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(appeal_from_row).transpose()
    }

    /// Appeals against the decisions of a case, oldest first.
    pub async fn case_appeals(&self, case_id: &str) -> Result<Vec<AppealRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APPEAL_COLUMNS} FROM appeals WHERE decision_id IN (SELECT id FROM decisions WHERE case_id = $1) \
             ORDER BY received_at, id"
        )))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(appeal_from_row).collect()
    }

    /// Settles an appeal. Refused (`Conflict`) when it is already settled or when the original
    /// decider tries to settle it (Art. 20: a different person reviews).
    pub async fn resolve_appeal(&self, r: &AppealResolution) -> Result<()> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT a.state, a.decision_id, d.decided_by, d.case_id FROM appeals a JOIN decisions d ON d.id = a.decision_id \
             WHERE a.id = $1",
        )
        .bind(&r.appeal_id)
        .fetch_optional(&mut *tx.tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let state: String = row.try_get("state")?;
        let decision_id: String = row.try_get("decision_id")?;
        let original_decider: String = row.try_get("decided_by")?;
        let case_id: String = row.try_get("case_id")?;
        if state != "open" {
            return Err(conflict("this appeal is already decided"));
        }
        if original_decider == r.decided_by {
            return Err(conflict("the reviewer who took the decision cannot decide the appeal against it"));
        }
        // Four eyes across the whole chain: nobody who took or replaced a decision in it.
        if crate::review::excluded_deciders(&mut tx.tx, &decision_id).await?.contains(&r.decided_by) {
            return Err(conflict("a reviewer who took or replaced a decision in this chain cannot decide the appeal"));
        }
        let ended = match r.outcome {
            AppealOutcome::Upheld => None,
            AppealOutcome::Reversed => Some("reversed"),
            AppealOutcome::Modified => Some("replaced"),
        };
        if let Some(status) = ended {
            sqlx::query("UPDATE decisions SET status = $1, ended_at = $2 WHERE id = $3 AND status = 'in_force'")
                .bind(status)
                .bind(to_ms(r.at))
                .bind(&decision_id)
                .execute(&mut *tx.tx)
                .await?;
            // Other open appeals against the same decision are answered by this outcome too.
        }
        if let Some(new) = &r.replacement {
            tx.insert_decision(new).await?;
        }
        sqlx::query(
            "UPDATE appeals SET state = 'decided', outcome = $1, reasons = $2, decided_by = $3, decided_at = $4, \
             new_decision_id = $5 WHERE id = $6",
        )
        .bind(r.outcome.as_str())
        .bind(&r.reasons)
        .bind(&r.decided_by)
        .bind(to_ms(r.at))
        .bind(r.replacement.as_ref().map(|d| d.id.as_str()))
        .bind(&r.appeal_id)
        .execute(&mut *tx.tx)
        .await?;
        tx.refresh_rollups_on(&["appeal_decided"], to_ms(r.at)).await?;
        let still_open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM appeals WHERE state = 'open' AND decision_id IN (SELECT id FROM decisions WHERE case_id = $1)",
        )
        .bind(&case_id)
        .fetch_one(&mut *tx.tx)
        .await?;
        if still_open == 0 {
            tx.set_case_state(&case_id, CaseState::Redecided, r.at).await?;
        }
        tx.enqueue_messages(&r.messages, r.at).await?;
        tx.audit(
            r.at,
            AuditEvent {
                actor: &r.actor,
                action: "appeal.decided",
                subject: format!("appeal:{}", r.appeal_id),
                detail: serde_json::json!({
                    "decision": decision_id,
                    "case": case_id,
                    "outcome": r.outcome.as_str(),
                    "decided_by": r.decided_by,
                    "new_decision": r.replacement.as_ref().map(|d| d.id.as_str()),
                }),
            },
        )
        .await?;
        tx.commit().await
    }
}
