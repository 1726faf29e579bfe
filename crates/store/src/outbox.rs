//! The durable outbox: messages and webhooks written in the same transaction as the change that
//! causes them, delivered later by a worker with retries and back-off.
//!
//! Delivery is at-least-once; each item has a stable id that receivers use to de-duplicate.
//! Claims are leases (`claimed_until`), so several server processes can share one outbox.

use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use crate::{Result, Store, StoreError, WriteTx, from_ms, to_ms};

/// An item to enqueue.
#[derive(Debug, Clone)]
pub(crate) struct NewOutboxItem<'a> {
    pub channel: &'a str,
    pub topic: &'a str,
    pub notice_id: Option<&'a str>,
    pub payload: serde_json::Value,
    pub at: OffsetDateTime,
    /// What makes the id unique when a notice id alone does not (e.g. the decision id).
    pub key: Option<String>,
}

/// A message or webhook that a decision or appeal causes, enqueued in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// `email` or `webhook`.
    pub channel: &'static str,
    /// e.g. `content.remove`, `notice.decided`.
    pub topic: &'static str,
    /// Notice it concerns (emails go to that notice's notifier).
    pub notice_id: Option<String>,
    /// Makes the delivery id unique and stable: the id is `<topic>:<key>`.
    pub key: String,
    /// Payload.
    pub payload: serde_json::Value,
}

/// A stored outbox item.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// Stable id (the idempotency key for receivers).
    pub id: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// e.g. `notice.received`.
    pub topic: String,
    /// Notice it concerns, if any.
    pub notice_id: Option<String>,
    /// Payload.
    pub payload: serde_json::Value,
    /// Attempts so far (including the current claim).
    pub attempts: i64,
    /// When it was delivered.
    pub delivered_at: Option<OffsetDateTime>,
    /// When it was given up on.
    pub dead_at: Option<OffsetDateTime>,
    /// Last delivery error.
    pub last_error: Option<String>,
}

/// Counts for metrics and health.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Waiting for delivery.
    pub pending: i64,
    /// Given up (dead letters).
    pub dead: i64,
    /// Delivered.
    pub delivered: i64,
}

fn item(row: &sqlx::any::AnyRow) -> Result<OutboxItem> {
    let payload: String = row.try_get("payload")?;
    Ok(OutboxItem {
        id: row.try_get("id")?,
        channel: row.try_get("channel")?,
        topic: row.try_get("topic")?,
        notice_id: row.try_get("notice_id")?,
        payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        attempts: row.try_get("attempts")?,
        delivered_at: row.try_get::<Option<i64>, _>("delivered_at")?.map(from_ms),
        dead_at: row.try_get::<Option<i64>, _>("dead_at")?.map(from_ms),
        last_error: row.try_get("last_error")?,
    })
}

const COLUMNS: &str = "id, channel, topic, notice_id, payload, attempts, delivered_at, dead_at, last_error";

impl WriteTx {
    pub(crate) async fn enqueue(&mut self, item: NewOutboxItem<'_>) -> Result<String> {
        let id = outbox_id(&item);
        sqlx::query(
            "INSERT INTO outbox (id, channel, topic, notice_id, payload, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&id)
        .bind(item.channel)
        .bind(item.topic)
        .bind(item.notice_id)
        .bind(item.payload.to_string())
        .bind(to_ms(item.at))
        .execute(&mut *self.tx)
        .await?;
        Ok(id)
    }
}

/// Outbox ids are derived from what they are about, so the same event never gets two ids.
pub(crate) fn outbox_id(item: &NewOutboxItem<'_>) -> String {
    if let Some(key) = &item.key {
        return format!("{}:{key}", item.topic);
    }
    match item.notice_id {
        Some(n) => format!("{}:{n}", item.topic),
        None => format!("{}:{}", item.topic, to_ms(item.at)),
    }
}

impl Store {
    /// Claims up to `limit` due items on `channels` for `lease`, returning them with `attempts`
    /// already counted. Channels without a configured deliverer are left alone.
    pub async fn claim_outbox(
        &self,
        now: OffsetDateTime,
        lease: std::time::Duration,
        limit: i64,
        channels: &[&str],
    ) -> Result<Vec<OutboxItem>> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let now_ms = to_ms(now);
        let sql = format!(
            "SELECT id FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until < $1) AND channel IN ({}) ORDER BY next_attempt_at LIMIT $2",
            crate::placeholders(3, channels.len())
        );
        let mut q = sqlx::query_scalar(AssertSqlSafe(sql)).bind(now_ms).bind(limit);
        for c in channels {
            q = q.bind(*c);
        }
        let candidates: Vec<String> = q.fetch_all(&self.pool).await?;
        let mut claimed = Vec::new();
        for id in candidates {
            let mut tx = self.write().await?;
            let row = sqlx::query(AssertSqlSafe(format!(
                "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id = $2 AND delivered_at IS NULL \
                 AND dead_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3) RETURNING {COLUMNS}"
            )))
            .bind(now_ms + lease.as_millis() as i64)
            .bind(&id)
            .bind(now_ms)
            .fetch_optional(&mut *tx.tx)
            .await?;
            tx.commit().await?;
            if let Some(row) = row {
                claimed.push(item(&row)?);
            }
        }
        Ok(claimed)
    }

    /// Marks an item delivered; `payload` replaces the stored one (e.g. with secrets removed).
    pub async fn outbox_delivered(&self, id: &str, now: OffsetDateTime, payload: &serde_json::Value) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE outbox SET delivered_at = $1, claimed_until = NULL, last_error = NULL, payload = $2 WHERE id = $3",
        )
        .bind(to_ms(now))
        .bind(payload.to_string())
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        // An order's confirmation of receipt counts in its receipt day's rollup (issue 16).
        let order_received: Option<i64> = sqlx::query_scalar(
            "SELECT n.received_at FROM outbox o JOIN notices n ON n.id = o.notice_id \
             WHERE o.id = $1 AND o.topic = 'notice.received' AND n.source = 'authority_order'",
        )
        .bind(id)
        .fetch_optional(&mut *tx.tx)
        .await?;
        if let Some(at) = order_received {
            tx.refresh_rollups_on(&["order_ack"], at).await?;
        }
        tx.commit().await
    }

    /// Records a failed attempt: retry at `retry_at`, or give up (dead letter) when `None`. The
    /// error text is stored scrubbed of personal data and secrets (`domain::scrub`).
    pub async fn outbox_failed(
        &self,
        id: &str,
        now: OffsetDateTime,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE outbox SET claimed_until = NULL, last_error = $1, next_attempt_at = $2, dead_at = $3 WHERE id = $4",
        )
        .bind(staydown_domain::scrub::scrub(error))
        .bind(to_ms(retry_at.unwrap_or(now)))
        .bind(if retry_at.is_none() { Some(to_ms(now)) } else { None })
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    /// Dead letters (given up after every attempt), newest first.
    pub async fn outbox_dead(&self, limit: i64) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE dead_at IS NOT NULL ORDER BY dead_at DESC, id LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item).collect()
    }

    /// Sends a dead letter again: clears its death, its attempts and any claim, and makes it due
    /// at `now`, so the worker delivers it on its next round with the full number of retries.
    /// Audited as `outbox.resent` by `actor` (the error text is not copied: it is about the
    /// recipient). Errors: `NotFound` when no item has this id, `Conflict` when it is not dead.
    pub async fn resend_dead_letter(&self, id: &str, actor: &str, now: OffsetDateTime) -> Result<OutboxItem> {
        let mut tx = self.write().await?;
        let dead: Option<Option<i64>> =
            sqlx::query_scalar("SELECT dead_at FROM outbox WHERE id = $1").bind(id).fetch_optional(&mut *tx.tx).await?;
        match dead {
            None => return Err(StoreError::NotFound),
            Some(None) => return Err(StoreError::Conflict(format!("{id} is not a dead letter"))),
            Some(Some(_)) => {}
        }
        let row = sqlx::query(AssertSqlSafe(format!(
            "UPDATE outbox SET dead_at = NULL, attempts = 0, claimed_until = NULL, next_attempt_at = $1 \
             WHERE id = $2 AND dead_at IS NOT NULL RETURNING {COLUMNS}"
        )))
        .bind(to_ms(now))
        .bind(id)
        .fetch_one(&mut *tx.tx)
        .await?;
        let resent = item(&row)?;
        tx.audit(
            now,
            crate::AuditEvent {
                actor,
                action: "outbox.resent",
                subject: format!("outbox:{id}"),
                detail: serde_json::json!({ "channel": resent.channel, "topic": resent.topic }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(resent)
    }

    /// Items of one topic, oldest first (tests, the dead-letter view).
    pub async fn outbox_items(&self, topic: &str) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE topic = $1 ORDER BY created_at, id"
        )))
        .bind(topic)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item).collect()
    }

    /// Pending / dead / delivered counts.
    pub async fn outbox_stats(&self) -> Result<OutboxStats> {
        let row = sqlx::query(
            "SELECT \
             COALESCE(SUM(CASE WHEN delivered_at IS NULL AND dead_at IS NULL THEN 1 ELSE 0 END), 0) AS pending, \
             COALESCE(SUM(CASE WHEN dead_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS dead, \
             COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS delivered FROM outbox",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxStats {
            pending: row.try_get("pending")?,
            dead: row.try_get("dead")?,
            delivered: row.try_get("delivered")?,
        })
    }

    /// The email address to deliver a notice's messages to, unless erased.
    pub async fn notifier_email(&self, notice_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT email FROM notifier_contacts WHERE notice_id = $1 AND erased_at IS NULL")
            .bind(notice_id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
