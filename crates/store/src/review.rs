//! Review work for the staff console (issue 12): the filtered and searchable queue, taking a case
//! (assignee and pick-up time), the open appeals by age, and who may not decide an appeal.
//!
//! DSA Art. 16(6) (timely, diligent processing: the queue and time to pick-up) and Art. 20(6)
//! (appeals decided under the control of appropriately qualified staff, not solely by automated
//! means — and, in this service, never by anyone who took or replaced a decision in the chain
//! under appeal: `appeal_excluded_deciders`).

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::case::CaseState;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::notices::case_state;
use crate::{QueueItem, Result, Store, StoreError, from_ms, to_ms};

/// Filters of the review queue; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Cases with at least one notice from this source (`public`, `trusted_flagger`, …).
    pub source: Option<String>,
    /// Cases of this statement category.
    pub category: Option<String>,
    /// Cases of this priority (0 most urgent).
    pub priority: Option<u8>,
    /// Only overdue (`true`) or only not yet overdue (`false`) cases, as of `now`.
    pub overdue: Option<bool>,
    /// Cases taken by this principal (`account:<id>`).
    pub assignee: Option<String>,
    /// Cases with a notice that says the content is AI-generated (`true`), or none that does.
    pub ai_generated: Option<bool>,
    /// Search terms, any of which may match: a case id or the id of one of its notices (the
    /// number a notifier is given; whole, or its last 8 or more characters as the console shows
    /// it), a normalised URL, a content id, or a hash (SHA-256, MD5 or PDQ
    /// hex, lower-case).
    pub search: Vec<String>,
}

/// A queue entry with who took it.
#[derive(Debug, Clone)]
pub struct ReviewItem {
    /// The case.
    pub item: QueueItem,
    /// Who took it (`account:<id>`), if anyone.
    pub assignee: Option<String>,
    /// When it was first picked up.
    pub picked_up_at: Option<OffsetDateTime>,
}

/// An open appeal, for the appeals list.
#[derive(Debug, Clone)]
pub struct OpenAppeal {
    /// Appeal id.
    pub id: String,
    /// The decision under appeal.
    pub decision_id: String,
    /// Its case.
    pub case_id: String,
    /// `notifier` or `uploader`.
    pub appellant: String,
    /// When it was received.
    pub received_at: OffsetDateTime,
    /// Who took the decision under appeal.
    pub decided_by: String,
}

/// The outcome of taking a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    /// The assignee now.
    pub assignee: String,
    /// First pick-up of the case.
    pub picked_up_at: OffsetDateTime,
    /// When the current assignee took it.
    pub assigned_at: OffsetDateTime,
}

impl Store {
    /// The case `id` names: `id` itself when it is a case's id, else the case of the notice with
    /// that id (the number a notifier is given on the confirmation page and in e-mails).
    pub async fn case_of(&self, id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM cases WHERE id = $1 UNION ALL SELECT case_id FROM notices WHERE id = $1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Open cases matching `filter`, by deadline then priority, at most `limit`.
    pub async fn review_queue(&self, filter: &QueueFilter, now: OffsetDateTime, limit: i64) -> Result<Vec<ReviewItem>> {
        let mut clauses = vec!["c.state IN ('new', 'in_review')".to_owned()];
        let mut binds: Vec<Bind> = Vec::new();
        let next = |b: Bind, binds: &mut Vec<Bind>| {
            binds.push(b);
            format!("${}", binds.len())
        };
        if let Some(source) = &filter.source {
            let p = next(Bind::Text(source.clone()), &mut binds);
            clauses.push(format!("EXISTS (SELECT 1 FROM notices n WHERE n.case_id = c.id AND n.source = {p})"));
        }
        if let Some(category) = &filter.category {
            let p = next(Bind::Text(category.clone()), &mut binds);
            clauses.push(format!("c.category = {p}"));
        }
        if let Some(priority) = filter.priority {
            let p = next(Bind::Int(i64::from(priority)), &mut binds);
            clauses.push(format!("c.priority = {p}"));
        }
        if let Some(overdue) = filter.overdue {
            let p = next(Bind::Int(to_ms(now)), &mut binds);
            clauses.push(if overdue { format!("c.deadline_at < {p}") } else { format!("c.deadline_at >= {p}") });
        }
        if let Some(assignee) = &filter.assignee {
            let p = next(Bind::Text(assignee.clone()), &mut binds);
            clauses.push(format!("c.assignee = {p}"));
        }
        if let Some(ai) = filter.ai_generated {
            let exists = "EXISTS (SELECT 1 FROM notices n WHERE n.case_id = c.id AND n.ai_generated = 'yes')";
            clauses.push(if ai { exists.to_owned() } else { format!("NOT {exists}") });
        }
        if !filter.search.is_empty() {
            let mut any = Vec::new();
            for term in &filter.search {
                let p = next(Bind::Text(term.clone()), &mut binds);
                // A case id, whole or as the short id the console shows (its last characters;
                // only UUID characters, so the term holds no LIKE wildcard).
                // The same for the number a notifier was given (the notice's id).
                if term.len() >= 8 && term.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                    any.push(format!("c.id LIKE '%' || {p}"));
                    any.push(format!(
                        "EXISTS (SELECT 1 FROM notices n WHERE n.case_id = c.id AND n.id LIKE '%' || {p})"
                    ));
                } else {
                    any.push(format!("c.id = {p}"));
                }
                any.push(format!(
                    "EXISTS (SELECT 1 FROM notices n JOIN notice_locations l ON l.notice_id = n.id WHERE n.case_id = c.id \
                     AND (l.normalized_url = {p} OR l.url = {p} OR l.content_id = {p})) \
                     OR EXISTS (SELECT 1 FROM notices n JOIN notice_hashes h ON h.notice_id = n.id WHERE n.case_id = c.id \
                     AND (h.sha256 = {p} OR h.md5 = {p} OR h.pdq = {p}))"
                ));
            }
            clauses.push(format!("({})", any.join(" OR ")));
        }
        let p = next(Bind::Int(limit), &mut binds);
        let sql = format!(
            "SELECT c.id, c.state, c.priority, c.deadline_at, c.category, c.created_at, c.assignee, c.picked_up_at, \
             (SELECT COUNT(*) FROM notices n WHERE n.case_id = c.id) AS notice_count \
             FROM cases c WHERE {} ORDER BY c.deadline_at, c.priority, c.created_at, c.id LIMIT {p}",
            clauses.join(" AND ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Text(t) => q.bind(t),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let state: String = row.try_get("state")?;
            let priority: i64 = row.try_get("priority")?;
            out.push(ReviewItem {
                item: QueueItem {
                    case_id: row.try_get("id")?,
                    state: case_state(&state)?,
                    priority: u8::try_from(priority).unwrap_or(u8::MAX),
                    deadline_at: from_ms(row.try_get("deadline_at")?),
                    category: row.try_get("category")?,
                    created_at: from_ms(row.try_get("created_at")?),
                    notice_count: row.try_get("notice_count")?,
                    sources: Vec::new(),
                },
                assignee: row.try_get("assignee")?,
                picked_up_at: row.try_get::<Option<i64>, _>("picked_up_at")?.map(from_ms),
            });
        }
        if !out.is_empty() {
            // One query for every listed case's sources, not one per case.
            let sql = format!(
                "SELECT DISTINCT case_id, source FROM notices WHERE case_id IN ({})",
                crate::placeholders(1, out.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in &out {
                q = q.bind(&r.item.case_id);
            }
            let mut sources: std::collections::HashMap<String, Vec<staydown_domain::notice::Source>> =
                std::collections::HashMap::new();
            for row in q.fetch_all(&self.pool).await? {
                let source: String = row.try_get("source")?;
                if let Some(s) = staydown_domain::notice::Source::parse(&source) {
                    sources.entry(row.try_get("case_id")?).or_default().push(s);
                }
            }
            for r in &mut out {
                let mut s = sources.remove(&r.item.case_id).unwrap_or_default();
                s.sort_by_key(|s| s.as_str());
                r.item.sources = s;
            }
        }
        Ok(out)
    }

    /// `principal` takes an open case: it becomes the assignee, the case moves to `in_review`, and
    /// the first pick-up time is kept. Taking a case someone else holds is a `Conflict` unless
    /// `reassign` is set (a lead redistributing work); either way it is audited.
    pub async fn take_case(
        &self,
        case_id: &str,
        principal: &str,
        reassign: bool,
        now: OffsetDateTime,
    ) -> Result<Taken> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT state, assignee, picked_up_at FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let state = case_state(&row.try_get::<String, _>("state")?)?;
        if !state.is_open() {
            return Err(StoreError::Conflict(format!("this case is {}: there is nothing to take", state.as_str())));
        }
        let current: Option<String> = row.try_get("assignee")?;
        let first: Option<i64> = row.try_get("picked_up_at")?;
        if current.as_deref() == Some(principal) {
            let assigned_at: Option<i64> = sqlx::query_scalar("SELECT assigned_at FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_one(&mut *tx.tx)
                .await?;
            return Ok(Taken {
                assignee: principal.to_owned(),
                picked_up_at: from_ms(first.unwrap_or_else(|| to_ms(now))),
                assigned_at: from_ms(assigned_at.or(first).unwrap_or_else(|| to_ms(now))),
            });
        }
        if let Some(holder) = &current
            && !reassign
        {
            return Err(StoreError::Conflict(format!("{holder} has taken this case; send reassign to take it over")));
        }
        let picked_up_at = first.unwrap_or_else(|| to_ms(now));
        sqlx::query(
            "UPDATE cases SET assignee = $1, assigned_at = $2, picked_up_at = $3, updated_at = $2 WHERE id = $4",
        )
        .bind(principal)
        .bind(to_ms(now))
        .bind(picked_up_at)
        .bind(case_id)
        .execute(&mut *tx.tx)
        .await?;
        if state == CaseState::New {
            tx.set_case_state(case_id, CaseState::InReview, now).await?;
        }
        tx.audit(
            now,
            AuditEvent {
                actor: principal,
                action: "case.taken",
                subject: format!("case:{case_id}"),
                detail: serde_json::json!({ "from": current, "first_pick_up": first.is_none() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Taken { assignee: principal.to_owned(), picked_up_at: from_ms(picked_up_at), assigned_at: now })
    }

    /// The assignee and first pick-up time of a case.
    pub async fn case_assignment(&self, case_id: &str) -> Result<Option<(Option<String>, Option<OffsetDateTime>)>> {
        let row = sqlx::query("SELECT assignee, picked_up_at FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.try_get("assignee")?, row.try_get::<Option<i64>, _>("picked_up_at")?.map(from_ms))))
            .transpose()
    }

    /// Open appeals, oldest first, at most `limit`.
    pub async fn open_appeals(&self, limit: i64) -> Result<Vec<OpenAppeal>> {
        let rows = sqlx::query(
            "SELECT a.id, a.decision_id, d.case_id, a.appellant, a.received_at, d.decided_by \
             FROM appeals a JOIN decisions d ON d.id = a.decision_id WHERE a.state = 'open' \
             ORDER BY a.received_at, a.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OpenAppeal {
                    id: row.try_get("id")?,
                    decision_id: row.try_get("decision_id")?,
                    case_id: row.try_get("case_id")?,
                    appellant: row.try_get("appellant")?,
                    received_at: from_ms(row.try_get("received_at")?),
                    decided_by: row.try_get("decided_by")?,
                })
            })
            .collect()
    }

    /// Everyone who may not decide an appeal against `decision_id`: whoever took that decision or
    /// any decision it replaced (following `replaces` back to the first), and whoever decided the
    /// appeals that replaced them.
    pub async fn appeal_excluded_deciders(&self, decision_id: &str) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        excluded_deciders(&mut conn, decision_id).await
    }
}

/// The chain walk behind `appeal_excluded_deciders`, usable inside a transaction.
pub(crate) async fn excluded_deciders(conn: &mut sqlx::AnyConnection, decision_id: &str) -> Result<Vec<String>> {
    let mut people = Vec::new();
    let mut next = Some(decision_id.to_owned());
    // A chain longer than this would be corrupt (a cycle); stop rather than loop.
    for _ in 0..1000 {
        let Some(id) = next.take() else { break };
        let row = sqlx::query("SELECT decided_by, replaces FROM decisions WHERE id = $1")
            .bind(&id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else { break };
        people.push(row.try_get::<String, _>("decided_by")?);
        let replacers: Vec<Option<String>> =
            sqlx::query_scalar("SELECT decided_by FROM appeals WHERE new_decision_id = $1")
                .bind(&id)
                .fetch_all(&mut *conn)
                .await?;
        people.extend(replacers.into_iter().flatten());
        next = row.try_get("replaces")?;
    }
    people.sort();
    people.dedup();
    Ok(people)
}

enum Bind {
    Text(String),
    Int(i64),
}

impl Store {
    /// Puts statements of reasons that the Transparency Database refused (`failed`) back in the
    /// queue, due now (DSA Art. 24(5): every statement must reach the database). `puids` names
    /// them; `None` takes every failed one. Returns the puids re-queued; each is audited.
    pub async fn requeue_failed_statements(
        &self,
        puids: Option<&[String]>,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<String>> {
        let mut tx = self.write().await?;
        let failed: Vec<(String, String)> = {
            let rows = sqlx::query(
                "SELECT puid, decision_id FROM tdb_statements WHERE state = 'failed' ORDER BY created_at, puid",
            )
            .fetch_all(&mut *tx.tx)
            .await?;
            rows.iter().map(|r| Ok((r.try_get("puid")?, r.try_get("decision_id")?))).collect::<Result<Vec<_>>>()?
        };
        let chosen: Vec<&(String, String)> = match puids {
            None => failed.iter().collect(),
            Some(wanted) => {
                if let Some(missing) = wanted.iter().find(|p| !failed.iter().any(|(f, _)| f == *p)) {
                    return Err(StoreError::Conflict(format!("{missing} is not a failed statement")));
                }
                failed.iter().filter(|(p, _)| wanted.contains(p)).collect()
            }
        };
        for (puid, decision) in &chosen {
            sqlx::query(
                "UPDATE tdb_statements SET state = 'pending', next_attempt_at = $1, claimed_until = NULL \
                 WHERE puid = $2 AND state = 'failed'",
            )
            .bind(to_ms(now))
            .bind(puid)
            .execute(&mut *tx.tx)
            .await?;
            tx.audit(
                now,
                AuditEvent {
                    actor,
                    action: "tdb.statement.requeued",
                    subject: format!("decision:{decision}"),
                    detail: serde_json::json!({ "puid": puid }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(chosen.into_iter().map(|(p, _)| p.clone()).collect())
    }
}

/// A recorded Art. 18 notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Art18Notification {
    /// Id.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// `threat_to_life` or `threat_to_safety`.
    pub grounds: String,
    /// Who marked the case.
    pub marked_by: String,
    /// When.
    pub marked_at: OffsetDateTime,
}

impl Store {
    /// Records an Art. 18 notification of a case and queues its message (`message`, an email to
    /// the law-enforcement contact) in one transaction, audited without its free text.
    pub async fn notify_art18(
        &self,
        n: &Art18Notification,
        message: &crate::OutboxMessage,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM cases WHERE id = $1")
            .bind(&n.case_id)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        tx.enqueue_messages(std::slice::from_ref(message), now).await?;
        sqlx::query(
            "INSERT INTO art18_notifications (id, case_id, grounds, marked_by, marked_at, outbox_id) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&n.id)
        .bind(&n.case_id)
        .bind(&n.grounds)
        .bind(&n.marked_by)
        .bind(to_ms(n.marked_at))
        .bind(format!("{}:{}", message.topic, message.key))
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(
            now,
            AuditEvent {
                actor: &n.marked_by,
                action: "case.art18_notified",
                subject: format!("case:{}", n.case_id),
                detail: serde_json::json!({ "notification": n.id, "grounds": n.grounds }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Art. 18 notifications, newest first; only `case_id`'s when given.
    pub async fn art18_notifications(&self, case_id: Option<&str>) -> Result<Vec<Art18Notification>> {
        let rows = sqlx::query(
            "SELECT id, case_id, grounds, marked_by, marked_at FROM art18_notifications \
             WHERE ($1 = '' OR case_id = $1) ORDER BY marked_at DESC, id",
        )
        .bind(case_id.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Art18Notification {
                    id: r.try_get("id")?,
                    case_id: r.try_get("case_id")?,
                    grounds: r.try_get("grounds")?,
                    marked_by: r.try_get("marked_by")?,
                    marked_at: from_ms(r.try_get("marked_at")?),
                })
            })
            .collect()
    }
}
