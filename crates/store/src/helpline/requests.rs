//! Removal requests (DSA Art. 16): stored before they are sent, claimed with a lease while sending,
//! answered by the platform or recorded by the caseworker, and marked unanswered when overdue.

use super::*;

impl Store {
    /// Stores a drafted request. For an e-mail platform the request e-mail is queued in the same
    /// transaction and the request is `sent` (the outbox delivers it durably, with retries); for
    /// a staydown platform it stays `drafted` until the worker files it; for a web form or a letter
    /// it is `sent` at once, answers recorded by the caseworker.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_helpline_request(
        &self,
        id: &str,
        case_id: &str,
        request: &NewRequest,
        platform: &PlatformRecord,
        language: &str,
        answer_due_at: OffsetDateTime,
        email: Option<serde_json::Value>,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<RequestRecord> {
        let mut tx = self.write().await?;
        let case: Option<String> = sqlx::query_scalar("SELECT id FROM helpline_cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if case.is_none() {
            return Err(StoreError::NotFound);
        }
        // An e-mail is queued now, so it counts as sent now; a staydown notice is filed right after
        // this transaction; a letter or a web form is sent by a person later, who says when
        // (`mark_helpline_sent`), so the time to removal is measured from the real send.
        let sent_now = platform.channel == PlatformChannel::Email;
        let state = if sent_now { RequestState::Sent } else { RequestState::Drafted };
        let keywords = serde_json::to_string(&request.keywords).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let hashes = if request.hashes.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&request.hashes).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        };
        sqlx::query(
            "INSERT INTO helpline_requests (id, case_id, platform_id, channel, trusted_flagger, url, category, keywords, \
             legal_ground, explanation, minor_involved, ai_generated, language, state, drafted_at, sent_at, answer_due_at, \
             updated_at, hashes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $15, \
             $18)",
        )
        .bind(id)
        .bind(case_id)
        .bind(&platform.id)
        .bind(platform.channel.as_str())
        .bind(i64::from(platform.trusted_flagger))
        .bind(&request.url)
        .bind(&request.category)
        .bind(keywords)
        .bind(&request.legal_ground)
        .bind(&request.explanation)
        .bind(request.minor_involved.as_str())
        .bind(request.ai_generated.as_str())
        .bind(language)
        .bind(state.as_str())
        .bind(to_ms(now))
        .bind(sent_now.then(|| to_ms(now)))
        .bind(sent_now.then(|| to_ms(answer_due_at)))
        .bind(hashes)
        .execute(&mut *tx.tx)
        .await?;
        if let Some(payload) = email {
            tx.enqueue(NewOutboxItem {
                channel: "email",
                topic: "helpline.request",
                notice_id: None,
                payload,
                at: now,
                key: Some(id.to_owned()),
            })
            .await?;
        }
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "helpline.request_drafted",
                subject: subject(id),
                detail: serde_json::json!({"case": case_id, "platform": platform.id, "channel": platform.channel.as_str()}),
            },
        )
        .await?;
        if sent_now {
            tx.audit(
                now,
                AuditEvent {
                    actor,
                    action: "helpline.request_sent",
                    subject: subject(id),
                    detail: serde_json::json!({"channel": platform.channel.as_str()}),
                },
            )
            .await?;
        }
        let record = tx.request_for_update(id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// One request.
    pub async fn helpline_request(&self, id: &str) -> Result<Option<RequestRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_row).transpose()
    }

    /// Requests of a case, oldest first.
    pub async fn helpline_case_requests(&self, case_id: &str) -> Result<Vec<RequestRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE case_id = $1 ORDER BY drafted_at, id"
        )))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_row).collect()
    }

    /// Requests to one platform drafted in `[from, to)`, oldest first (escalation packs).
    pub async fn helpline_platform_requests(
        &self,
        platform_id: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<RequestRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE platform_id = $1 AND drafted_at >= $2 \
             AND drafted_at < $3 ORDER BY drafted_at, id"
        )))
        .bind(platform_id)
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_row).collect()
    }

    /// Requests in `state`, oldest first, at most `limit`.
    pub async fn helpline_requests_in(&self, state: RequestState, limit: i64) -> Result<Vec<RequestRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE state = $1 ORDER BY drafted_at, id LIMIT $2"
        )))
        .bind(state.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_row).collect()
    }

    /// Claims a drafted staydown request for sending: only one worker gets it, never while an
    /// earlier claim is unreleased (a claim that runs out is held by `hold_abandoned_helpline_sends`,
    /// not re-claimed), and never one whose earlier send had an unknown outcome.
    pub async fn claim_helpline_send(
        &self,
        id: &str,
        now: OffsetDateTime,
        lease: std::time::Duration,
    ) -> Result<Option<RequestRecord>> {
        let mut tx = self.write().await?;
        let now_ms = to_ms(now);
        let claimed = sqlx::query(
            "UPDATE helpline_requests SET claimed_until = $1, send_attempts = send_attempts + 1, updated_at = $2 \
             WHERE id = $3 AND state = 'drafted' AND send_uncertain = 0 AND remote_notice_id IS NULL \
             AND claimed_until IS NULL",
        )
        .bind(now_ms + lease.as_millis() as i64)
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let record = tx.request_for_update(id).await?;
        tx.commit().await?;
        Ok(Some(record))
    }

    /// Holds every drafted request whose send claim ran out without an outcome being recorded (the
    /// process stopped mid-send: the platform may have filed it). Returns how many were held.
    pub async fn hold_abandoned_helpline_sends(&self, now: OffsetDateTime) -> Result<u64> {
        let mut tx = self.write().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM helpline_requests WHERE state = 'drafted' AND claimed_until IS NOT NULL AND claimed_until < $1",
        )
        .bind(to_ms(now))
        .fetch_all(&mut *tx.tx)
        .await?;
        for id in &ids {
            sqlx::query(
                "UPDATE helpline_requests SET claimed_until = NULL, send_uncertain = 1, \
                 last_error = 'the send was interrupted; it may have been filed', updated_at = $1 WHERE id = $2",
            )
            .bind(to_ms(now))
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
            tx.audit(
                now,
                AuditEvent {
                    actor: "system",
                    action: "helpline.send_failed",
                    subject: subject(id),
                    detail: serde_json::json!({"uncertain": true}),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// Records a successful filing with a staydown platform: its notice id and our tracking token
    /// there; the request is acknowledged at the platform's receipt time (Art. 16(4)).
    pub async fn record_helpline_filed(
        &self,
        id: &str,
        remote_notice_id: &str,
        remote_token: &str,
        received_at: OffsetDateTime,
        answer_due_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let current = tx.request_for_update(id).await?;
        transition(current.state, RequestState::Acknowledged).map_err(|e| StoreError::Conflict(e.to_string()))?;
        sqlx::query(
            "UPDATE helpline_requests SET state = 'acknowledged', sent_at = $1, acknowledged_at = $2, answer_due_at = $3, \
             remote_notice_id = $4, remote_token = $5, claimed_until = NULL, last_error = NULL, updated_at = $1 WHERE id = $6",
        )
        .bind(to_ms(now))
        .bind(to_ms(received_at))
        .bind(to_ms(answer_due_at))
        .bind(remote_notice_id)
        .bind(remote_token)
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        for action in ["helpline.request_sent", "helpline.request_acknowledged"] {
            tx.audit(
                now,
                AuditEvent {
                    actor: "system",
                    action,
                    subject: subject(id),
                    detail: serde_json::json!({"remote_notice": remote_notice_id}),
                },
            )
            .await?;
        }
        tx.commit().await
    }

    /// Records a failed send. `uncertain` means the platform may have received it: the request is
    /// then held for the caseworker instead of being sent again.
    pub async fn record_helpline_send_failed(
        &self,
        id: &str,
        error: &str,
        uncertain: bool,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE helpline_requests SET claimed_until = NULL, last_error = $1, send_uncertain = $2, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(error)
        .bind(i64::from(uncertain))
        .bind(to_ms(now))
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(
            now,
            AuditEvent {
                actor: "system",
                action: "helpline.send_failed",
                subject: subject(id),
                detail: serde_json::json!({"uncertain": uncertain}),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Releases a request held after an uncertain send, so the worker sends it again — the
    /// caseworker's call, after checking with the platform that it did not arrive.
    pub async fn release_helpline_send(&self, id: &str, actor: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        let current = tx.request_for_update(id).await?;
        if current.state != RequestState::Drafted || !current.send_uncertain {
            return Err(StoreError::Conflict(
                "only a drafted request held after an uncertain send can be released".into(),
            ));
        }
        sqlx::query("UPDATE helpline_requests SET send_uncertain = 0, updated_at = $1 WHERE id = $2")
            .bind(to_ms(now))
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(
            now,
            AuditEvent { actor, action: "helpline.send_released", subject: subject(id), detail: serde_json::json!({}) },
        )
        .await?;
        tx.commit().await
    }

    /// Records that a person sent a drafted letter or web-form request at `at` (not before it was
    /// drafted); the answer is due at `answer_due_at`. Errors: `NotFound`; `Conflict` when the
    /// request is not a drafted letter or web-form request.
    pub async fn mark_helpline_sent(
        &self,
        id: &str,
        at: OffsetDateTime,
        answer_due_at: OffsetDateTime,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<RequestRecord> {
        let mut tx = self.write().await?;
        let current = tx.request_for_update(id).await?;
        if current.state != RequestState::Drafted
            || !matches!(current.channel, PlatformChannel::Letter | PlatformChannel::WebForm)
        {
            return Err(StoreError::Conflict(
                "only a drafted request sent by hand (a letter or a web form) can be marked as sent".into(),
            ));
        }
        if at < current.drafted_at {
            return Err(StoreError::Conflict("a request cannot be sent before it was drafted".into()));
        }
        sqlx::query(
            "UPDATE helpline_requests SET state = $1, sent_at = $2, answer_due_at = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(RequestState::Sent.as_str())
        .bind(to_ms(at))
        .bind(to_ms(answer_due_at))
        .bind(to_ms(now))
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "helpline.request_sent",
                subject: subject(id),
                detail: serde_json::json!({"channel": current.channel.as_str(), "at": to_ms(at)}),
            },
        )
        .await?;
        let record = tx.request_for_update(id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Records an answer (acknowledged, removed, refused), checked against the state rules.
    /// Returns `false` when the request already has that state (a repeated sync changes nothing).
    pub async fn record_helpline_answer(&self, id: &str, a: RequestAnswer<'_>, now: OffsetDateTime) -> Result<bool> {
        let mut tx = self.write().await?;
        let current = tx.request_for_update(id).await?;
        if current.state == a.state {
            sqlx::query("UPDATE helpline_requests SET last_synced_at = $1 WHERE id = $2")
                .bind(to_ms(now))
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
            tx.commit().await?;
            return Ok(false);
        }
        transition(current.state, a.state).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let column = match a.state {
            RequestState::Acknowledged => "acknowledged_at",
            RequestState::Removed => "removed_at",
            RequestState::Refused => "refused_at",
            RequestState::Sent => "sent_at",
            RequestState::NoAnswer => "no_answer_at",
            RequestState::Drafted => return Err(StoreError::Conflict("a request cannot go back to drafted".into())),
        };
        let answer = a.answer.as_ref().map(serde_json::Value::to_string);
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE helpline_requests SET state = $1, {column} = $2, answer = COALESCE($3, answer), \
             remote_decision_id = COALESCE($4, remote_decision_id), last_synced_at = $5, updated_at = $5, \
             acknowledged_at = CASE WHEN $6 = 1 THEN COALESCE(acknowledged_at, $2) ELSE acknowledged_at END, \
             sent_at = COALESCE(sent_at, $2) WHERE id = $7"
        )))
        .bind(a.state.as_str())
        .bind(to_ms(a.at))
        .bind(answer)
        .bind(a.decision_id)
        .bind(to_ms(now))
        .bind(i64::from(a.state.is_final()))
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(
            now,
            AuditEvent {
                actor: a.actor,
                action: "helpline.request_answered",
                subject: subject(id),
                detail: serde_json::json!({"state": a.state.as_str(), "at": to_ms(a.at), "decision": a.decision_id}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a sync attempt (success or its error) without changing the state.
    pub async fn record_helpline_synced(&self, id: &str, error: Option<&str>, now: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE helpline_requests SET last_synced_at = $1, last_error = $2 WHERE id = $3")
            .bind(to_ms(now))
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Open requests (sent, acknowledged, no answer) of one channel, oldest first.
    pub async fn helpline_open_requests(&self, channel: PlatformChannel, limit: i64) -> Result<Vec<RequestRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE channel = $1 \
             AND state IN ('sent', 'acknowledged', 'no_answer') ORDER BY drafted_at, id LIMIT $2"
        )))
        .bind(channel.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_row).collect()
    }

    /// Marks every request whose answer is overdue as `no_answer`, and for e-mail platforms queues
    /// a reminder (`reminder` builds its payload) in the same transaction. Returns the ids marked.
    pub async fn mark_helpline_unanswered(
        &self,
        now: OffsetDateTime,
        reminder: impl Fn(&RequestRecord) -> Option<serde_json::Value>,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM helpline_requests WHERE state IN ('sent', 'acknowledged') \
             AND answer_due_at IS NOT NULL AND answer_due_at <= $1 ORDER BY answer_due_at LIMIT 500"
        )))
        .bind(to_ms(now))
        .fetch_all(&self.pool)
        .await?;
        let mut marked = Vec::new();
        for row in &rows {
            let r = request_row(row)?;
            let mut tx = self.write().await?;
            let changed = sqlx::query(
                "UPDATE helpline_requests SET state = 'no_answer', no_answer_at = $1, reminders = reminders + $2, \
                 last_reminded_at = CASE WHEN $2 = 1 THEN $1 ELSE last_reminded_at END, updated_at = $1 \
                 WHERE id = $3 AND state IN ('sent', 'acknowledged')",
            )
            .bind(to_ms(now))
            .bind(i64::from(r.channel == PlatformChannel::Email))
            .bind(&r.id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
            if changed == 0 {
                continue;
            }
            if r.channel == PlatformChannel::Email
                && let Some(payload) = reminder(&r)
            {
                tx.enqueue(NewOutboxItem {
                    channel: "email",
                    topic: "helpline.reminder",
                    notice_id: None,
                    payload,
                    at: now,
                    key: Some(format!("{}:{}", r.id, r.reminders + 1)),
                })
                .await?;
            }
            tx.audit(
                now,
                AuditEvent {
                    actor: "system",
                    action: "helpline.request_unanswered",
                    subject: subject(&r.id),
                    detail: serde_json::json!({"due": r.answer_due_at.map(to_ms), "reminder": r.channel == PlatformChannel::Email}),
                },
            )
            .await?;
            tx.commit().await?;
            marked.push(r.id);
        }
        Ok(marked)
    }
}
