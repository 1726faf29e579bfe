//! Decisions (DSA Art. 17) and misuse measures (Art. 23(2)), each written in
//! one transaction with its case transition, its audit entries and the messages and webhooks it
//! causes (outbox), so a decision is never half-announced.

use std::collections::BTreeSet;

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::case::CaseState;
use staydown_domain::decision::Decision;
use staydown_domain::misuse::{MisuseAction, MisusePolicy, Standing};
use staydown_domain::notice::Source;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::outbox::{NewOutboxItem, OutboxMessage};
use crate::{Result, Store, StoreError, WriteTx, from_ms, placeholders, to_ms};

/// What a decision needs to know about its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseContext {
    /// Case id.
    pub id: String,
    /// State.
    pub state: CaseState,
    /// Category.
    pub category: String,
    /// Keywords of all its notices, deduplicated.
    pub keywords: Vec<String>,
    /// Its notices, oldest first.
    pub notice_ids: Vec<String>,
    /// Distinct sources of its notices.
    pub sources: Vec<Source>,
}

/// A decision to store.
#[derive(Debug, Clone)]
pub struct NewDecision {
    /// Id.
    pub id: String,
    /// Case.
    pub case_id: String,
    /// The person (or key) who decided: `account:<id>` or `key:<id>`.
    pub decided_by: String,
    /// Audit actor.
    pub actor: String,
    /// When.
    pub decided_at: OffsetDateTime,
    /// The validated decision.
    pub decision: Decision,
    /// The statement of reasons (Art. 17), for restricting decisions.
    pub statement: Option<serde_json::Value>,
    /// Digest of the token the uploader appeals with.
    pub uploader_token_digest: Option<String>,
    /// Messages and webhooks to enqueue with it.
    pub messages: Vec<OutboxMessage>,
    /// The decision this one replaces (after a modified appeal).
    pub replaces: Option<String>,
    /// The appeal that led to it.
    pub appeal_id: Option<String>,
    /// Hash banks that receive the case's hashes (stay-down), in the same transaction.
    pub banks: Vec<&'static str>,
    /// The record owed to the EU Transparency Database (Art. 24(5)), queued in the same transaction.
    pub transparency: Option<staydown_domain::tdb::Statement>,
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    /// Id.
    pub id: String,
    /// Case.
    pub case_id: String,
    /// Who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: OffsetDateTime,
    /// The decision.
    pub decision: Decision,
    /// Statement of reasons, if it restricts.
    pub statement: Option<serde_json::Value>,
    /// Digest of the uploader's appeal token.
    pub uploader_token_digest: Option<String>,
    /// `in_force`, `reversed` or `replaced`.
    pub status: String,
    /// When it stopped applying.
    pub ended_at: Option<OffsetDateTime>,
    /// Notices it answers.
    pub notice_ids: Vec<String>,
    /// The decision it replaced.
    pub replaces: Option<String>,
}

/// A warning or suspension under Art. 23(2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisuseMeasure {
    /// Id.
    pub id: String,
    /// Notifier (pseudonymous).
    pub notifier_ref: String,
    /// `warning` or `suspension`.
    pub kind: String,
    /// When.
    pub at: OffsetDateTime,
    /// End of a suspension.
    pub until: Option<OffsetDateTime>,
    /// Reasons recorded.
    pub reason: String,
}

/// Why a write was refused.
pub(crate) fn conflict(message: impl Into<String>) -> StoreError {
    StoreError::Conflict(message.into())
}

fn decision_from_row(row: &sqlx::any::AnyRow, notice_ids: Vec<String>) -> Result<DecisionRecord> {
    let body: String = row.try_get("body")?;
    let statement: Option<String> = row.try_get("statement")?;
    Ok(DecisionRecord {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: from_ms(row.try_get("decided_at")?),
        decision: serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        statement: statement
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        uploader_token_digest: row.try_get("uploader_token_digest")?,
        status: row.try_get("status")?,
        ended_at: row.try_get::<Option<i64>, _>("ended_at")?.map(from_ms),
        notice_ids,
        replaces: row.try_get("replaces")?,
    })
}

const DECISION_COLUMNS: &str =
    "id, case_id, decided_by, decided_at, body, statement, uploader_token_digest, status, ended_at, replaces";
impl WriteTx {
    pub(crate) async fn set_case_state(&mut self, case_id: &str, to: CaseState, at: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE cases SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(to_ms(at))
            .bind(case_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub(crate) async fn enqueue_messages(&mut self, messages: &[OutboxMessage], at: OffsetDateTime) -> Result<()> {
        for m in messages {
            self.enqueue(NewOutboxItem {
                channel: m.channel,
                topic: m.topic,
                notice_id: m.notice_id.as_deref(),
                payload: m.payload.clone(),
                at,
                key: Some(m.key.clone()),
            })
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn insert_decision(&mut self, d: &NewDecision) -> Result<()> {
        let r = &d.decision.restrictions;
        let visibility: Vec<&str> = r.visibility.iter().map(|v| v.as_str()).collect();
        let ground = d.decision.ground.as_ref().map(|g| match g {
            staydown_domain::decision::Ground::Illegal { .. } => "illegal",
            staydown_domain::decision::Ground::Incompatible { .. } => "incompatible",
        });
        sqlx::query(
            "INSERT INTO decisions (id, case_id, decided_by, decided_at, restricts, takes_down, ground, category, \
             visibility, monetary, provision, account, automated_detection, automated_decision, manifestly_unfounded, \
             body, statement, uploader_token_digest, status, replaces, appeal_id) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'in_force', $19, $20)",
        )
        .bind(&d.id)
        .bind(&d.case_id)
        .bind(&d.decided_by)
        .bind(to_ms(d.decided_at))
        .bind(i64::from(d.decision.restricts()))
        .bind(i64::from(r.takes_content_down()))
        .bind(ground)
        .bind(&d.decision.category)
        .bind(visibility.join(","))
        .bind(r.monetary.map(|m| m.as_str()))
        .bind(r.provision.map(|p| p.as_str()))
        .bind(r.account.map(|a| a.as_str()))
        .bind(i64::from(d.decision.automated_detection))
        .bind(d.decision.automated_decision.as_str())
        .bind(i64::from(d.decision.manifestly_unfounded))
        .bind(serde_json::to_string(&d.decision).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(d.statement.as_ref().map(serde_json::Value::to_string))
        .bind(d.uploader_token_digest.as_deref())
        .bind(d.replaces.as_deref())
        .bind(d.appeal_id.as_deref())
        .execute(&mut *self.tx)
        .await?;
        for notice_id in &d.decision.notice_ids {
            sqlx::query("INSERT INTO decision_notices (decision_id, notice_id) VALUES ($1, $2)")
                .bind(&d.id)
                .bind(notice_id)
                .execute(&mut *self.tx)
                .await?;
            // The first decision on a notice is its time to action (Art. 15(1)(b)); a decision that
            // replaces another after an appeal does not move it.
            let first = d.replaces.is_none();
            sqlx::query(
                "UPDATE notices SET status = 'decided', \
                 first_decision_id = CASE WHEN first_decision_id IS NULL AND $2 = 1 THEN $3 ELSE first_decision_id END, \
                 first_decided_at = CASE WHEN first_decided_at IS NULL AND $2 = 1 THEN $4 ELSE first_decided_at END \
                 WHERE id = $1",
            )
            .bind(notice_id)
            .bind(i64::from(first))
            .bind(&d.id)
            .bind(to_ms(d.decided_at))
            .execute(&mut *self.tx)
            .await?;
        }
        if d.replaces.is_none() {
            // Rollups (issue 16): the decision's day is recounted from the rows.
            self.refresh_rollups_on(&["notice_decided", "own_initiative", "case_decided"], to_ms(d.decided_at)).await?;
        }
        self.enqueue_messages(&d.messages, d.decided_at).await?;
        for bank in &d.banks {
            crate::banks::bank_case_hashes(
                self,
                &d.case_id,
                bank,
                &d.actor,
                &format!("decision {}", d.id),
                d.decided_at,
            )
            .await?;
        }
        self.audit(
            d.decided_at,
            AuditEvent {
                actor: &d.actor,
                action: "decision.made",
                subject: format!("decision:{}", d.id),
                detail: serde_json::json!({
                    "case": d.case_id,
                    "decided_by": d.decided_by,
                    "restricts": d.decision.restricts(),
                    "visibility": visibility,
                    "ground": ground,
                    "automated_detection": d.decision.automated_detection,
                    "automated_decision": d.decision.automated_decision.as_str(),
                    "notices": d.decision.notice_ids,
                    "manifestly_unfounded": d.decision.manifestly_unfounded,
                    "replaces": d.replaces,
                    "banked_into": d.banks,
                }),
            },
        )
        .await?;
        if let Some(statement) = &d.transparency {
            crate::tdb::enqueue_statement(self, &d.id, statement, d.decided_at).await?;
        }
        Ok(())
    }

    async fn standing(&mut self, notifier_ref: &str, policy: &MisusePolicy, now: OffsetDateTime) -> Result<Standing> {
        let since = to_ms(now) - policy.window.as_millis() as i64;
        let row = sqlx::query(
            "SELECT COUNT(*) AS total, \
             COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM decision_notices dn JOIN decisions d ON d.id = dn.decision_id \
               WHERE dn.notice_id = n.id AND d.manifestly_unfounded = 1 AND d.status = 'in_force') THEN 1 ELSE 0 END), 0) \
               AS unfounded \
             FROM notices n WHERE n.notifier_ref = $1 AND n.received_at >= $2",
        )
        .bind(notifier_ref)
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await?;
        let warned: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM misuse_measures WHERE notifier_ref = $1 AND kind = 'warning' AND at >= $2 \
             AND lifted_at IS NULL",
        )
        .bind(notifier_ref)
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await?;
        let suspended_until: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(until) FROM misuse_measures WHERE notifier_ref = $1 AND kind = 'suspension' AND lifted_at IS NULL",
        )
        .bind(notifier_ref)
        .fetch_one(&mut *self.tx)
        .await?;
        let total: i64 = row.try_get("total")?;
        let unfounded: i64 = row.try_get("unfounded")?;
        Ok(Standing {
            unfounded: u32::try_from(unfounded).unwrap_or(u32::MAX),
            total: u32::try_from(total).unwrap_or(u32::MAX),
            warned: warned > 0,
            suspended_until: suspended_until.map(from_ms),
        })
    }

    /// Applies the Art. 23(2) policy to the notifiers of a decision's notices.
    async fn apply_misuse_policy(&mut self, d: &NewDecision, policy: &MisusePolicy) -> Result<Vec<MisuseMeasure>> {
        if !d.decision.manifestly_unfounded || d.decision.notice_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT notifier_ref FROM notices WHERE notifier_ref IS NOT NULL AND id IN ({})",
            placeholders(1, d.decision.notice_ids.len())
        );
        let mut q = sqlx::query_scalar(AssertSqlSafe(sql));
        for id in &d.decision.notice_ids {
            q = q.bind(id);
        }
        let refs: BTreeSet<String> = q.fetch_all(&mut *self.tx).await?.into_iter().collect();
        let mut measures = Vec::new();
        for notifier_ref in refs {
            let standing = self.standing(&notifier_ref, policy, d.decided_at).await?;
            let Some(action) = policy.assess(standing, d.decided_at) else { continue };
            let (kind, until, reason) = match action {
                MisuseAction::Warn { reason } => ("warning", None, reason),
                MisuseAction::Suspend { until, reason } => ("suspension", Some(until), reason),
            };
            let measure = MisuseMeasure {
                id: uuid::Uuid::now_v7().to_string(),
                notifier_ref: notifier_ref.clone(),
                kind: kind.to_owned(),
                at: d.decided_at,
                until,
                reason,
            };
            sqlx::query(
                "INSERT INTO misuse_measures (id, notifier_ref, kind, at, until, reason, decision_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&measure.id)
            .bind(&measure.notifier_ref)
            .bind(kind)
            .bind(to_ms(measure.at))
            .bind(until.map(to_ms))
            .bind(&measure.reason)
            .bind(&d.id)
            .execute(&mut *self.tx)
            .await?;
            // Tell the notifier, when we can reach them: the latest of their notices with contact.
            let reachable: Option<String> = sqlx::query_scalar(
                "SELECT n.id FROM notices n JOIN notifier_contacts c ON c.notice_id = n.id \
                 WHERE n.notifier_ref = $1 AND c.erased_at IS NULL ORDER BY n.received_at DESC LIMIT 1",
            )
            .bind(&notifier_ref)
            .fetch_optional(&mut *self.tx)
            .await?;
            if let Some(notice_id) = reachable {
                let language: String = sqlx::query_scalar("SELECT language FROM notices WHERE id = $1")
                    .bind(&notice_id)
                    .fetch_one(&mut *self.tx)
                    .await?;
                self.enqueue(NewOutboxItem {
                    channel: "email",
                    topic: if kind == "warning" { "notifier.warned" } else { "notifier.suspended" },
                    notice_id: Some(&notice_id),
                    payload: serde_json::json!({
                        "language": language,
                        "reason": measure.reason,
                        "until": until.map(|u| u.unix_timestamp()),
                    }),
                    at: d.decided_at,
                    key: Some(measure.id.clone()),
                })
                .await?;
            }
            self.audit(
                d.decided_at,
                AuditEvent {
                    actor: "system",
                    action: if kind == "warning" { "notifier.warned" } else { "notifier.suspended" },
                    subject: format!("notifier:{notifier_ref}"),
                    detail: serde_json::json!({
                        "measure": measure.id,
                        "decision": d.id,
                        "reason": measure.reason,
                        "until_ms": until.map(to_ms),
                    }),
                },
            )
            .await?;
            measures.push(measure);
        }
        if !measures.is_empty() {
            self.refresh_rollups_on(&["misuse"], to_ms(d.decided_at)).await?;
        }
        Ok(measures)
    }
}

impl Store {
    /// What a decision on `case_id` needs to know; `None` if there is no such case.
    pub async fn case_context(&self, case_id: &str) -> Result<Option<CaseContext>> {
        let Some(row) = sqlx::query("SELECT id, state, category FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let state: String = row.try_get("state")?;
        let notices =
            sqlx::query("SELECT id, source, keywords FROM notices WHERE case_id = $1 ORDER BY received_at, id")
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
        let mut keywords = Vec::new();
        let mut sources = Vec::new();
        let mut notice_ids = Vec::new();
        for n in &notices {
            notice_ids.push(n.try_get::<String, _>("id")?);
            let source: String = n.try_get("source")?;
            if let Some(s) = Source::parse(&source)
                && !sources.contains(&s)
            {
                sources.push(s);
            }
            let kws: String = n.try_get("keywords")?;
            for k in serde_json::from_str::<Vec<String>>(&kws).map_err(|e| StoreError::Corrupt(e.to_string()))? {
                if !keywords.contains(&k) {
                    keywords.push(k);
                }
            }
        }
        Ok(Some(CaseContext {
            id: row.try_get("id")?,
            state: CaseState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("unknown state {state}")))?,
            category: row.try_get("category")?,
            keywords,
            notice_ids,
            sources,
        }))
    }

    /// Stores a first decision on an open case with everything it causes; returns the Art. 23
    /// measures it triggered. A case that is no longer open is a `Conflict`.
    pub async fn record_decision(&self, d: &NewDecision, misuse: &MisusePolicy) -> Result<Vec<MisuseMeasure>> {
        let mut tx = self.write().await?;
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM cases WHERE id = $1")
            .bind(&d.case_id)
            .fetch_optional(&mut *tx.tx)
            .await?;
        let state = state.ok_or(StoreError::NotFound)?;
        let state = CaseState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("unknown state {state}")))?;
        if !state.can_become(CaseState::Decided) {
            return Err(conflict(format!(
                "the case is {}; it was already decided (appeal the decision instead)",
                state.as_str()
            )));
        }
        tx.insert_decision(d).await?;
        tx.set_case_state(&d.case_id, CaseState::Decided, d.decided_at).await?;
        tx.audit(
            d.decided_at,
            AuditEvent {
                actor: &d.actor,
                action: "case.decided",
                subject: format!("case:{}", d.case_id),
                detail: serde_json::json!({ "decision": d.id, "from": state.as_str() }),
            },
        )
        .await?;
        let measures = tx.apply_misuse_policy(d, misuse).await?;
        tx.commit().await?;
        Ok(measures)
    }

    /// A decision by id.
    pub async fn decision(&self, id: &str) -> Result<Option<DecisionRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let notice_ids =
            sqlx::query_scalar("SELECT notice_id FROM decision_notices WHERE decision_id = $1 ORDER BY notice_id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        decision_from_row(&row, notice_ids).map(Some)
    }

    /// Personal strings known for a case (notifiers' names and emails, uploader references), to be
    /// kept out of anything that leaves the service.
    pub async fn case_personal_data(&self, case_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT c.name, c.email FROM notifier_contacts c JOIN notices n ON n.id = c.notice_id WHERE n.case_id = $1",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            out.push(row.try_get::<String, _>("name")?);
            out.push(row.try_get::<String, _>("email")?);
        }
        let uploaders: Vec<Option<String>> =
            sqlx::query_scalar("SELECT uploader_ref FROM content_items WHERE case_id = $1")
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
        out.extend(uploaders.into_iter().flatten());
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every decision on a case, oldest first.
    pub async fn case_decisions(&self, case_id: &str) -> Result<Vec<DecisionRecord>> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM decisions WHERE case_id = $1 ORDER BY decided_at, id")
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.decision(&id).await?);
        }
        Ok(out)
    }

    /// The latest decision answering a notice (what its tracking view shows).
    pub async fn notice_decision(&self, notice_id: &str) -> Result<Option<DecisionRecord>> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT d.id FROM decisions d JOIN decision_notices dn ON dn.decision_id = d.id WHERE dn.notice_id = $1 \
             ORDER BY d.decided_at DESC, d.id DESC LIMIT 1",
        )
        .bind(notice_id)
        .fetch_optional(&self.pool)
        .await?;
        match id {
            Some(id) => self.decision(&id).await,
            None => Ok(None),
        }
    }

    /// The suspension in force for a notifier, if any: `(until, reason)`.
    pub async fn active_suspension(
        &self,
        notifier_ref: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(OffsetDateTime, String)>> {
        let row = sqlx::query(ACTIVE_SUSPENSION).bind(notifier_ref).bind(to_ms(now)).fetch_optional(&self.pool).await?;
        row.map(|r| Ok((from_ms(r.try_get("until")?), r.try_get("reason")?))).transpose()
    }

    /// Art. 23 measures, newest first.
    pub async fn misuse_measures(&self, limit: i64) -> Result<Vec<MisuseMeasure>> {
        let rows = sqlx::query(
            "SELECT id, notifier_ref, kind, at, until, reason FROM misuse_measures ORDER BY at DESC, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MisuseMeasure {
                    id: r.try_get("id")?,
                    notifier_ref: r.try_get("notifier_ref")?,
                    kind: r.try_get("kind")?,
                    at: from_ms(r.try_get("at")?),
                    until: r.try_get::<Option<i64>, _>("until")?.map(from_ms),
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }
}

/// The suspension in force for notifier `$1` at `$2` (ms), the latest ending first.
const ACTIVE_SUSPENSION: &str = "SELECT until, reason FROM misuse_measures WHERE notifier_ref = $1 AND kind = 'suspension' \
     AND lifted_at IS NULL AND until > $2 ORDER BY until DESC LIMIT 1";

impl crate::WriteTx {
    /// Fails with [`StoreError::Suspended`] when `notifier_ref` is suspended at `now` (DSA Art. 23):
    /// the intake writer's check, in the transaction that would file the notice.
    pub(crate) async fn refuse_suspended(&mut self, notifier_ref: Option<&str>, now: OffsetDateTime) -> Result<()> {
        let Some(notifier_ref) = notifier_ref else { return Ok(()) };
        let row =
            sqlx::query(ACTIVE_SUSPENSION).bind(notifier_ref).bind(to_ms(now)).fetch_optional(&mut *self.tx).await?;
        match row {
            Some(r) => Err(StoreError::Suspended { until: from_ms(r.try_get("until")?), reason: r.try_get("reason")? }),
            None => Ok(()),
        }
    }
}
