//! Stored answers to requests that carried an `Idempotency-Key`, so a retry gets the first answer
//! (draft-ietf-httpapi-idempotency-key-header). The server's middleware decides what to do; this
//! module only claims keys, records answers and forgets them after a day.

use sqlx::Row;
use time::OffsetDateTime;

use crate::{Result, Store, StoreError, to_ms};

/// What a key already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyState {
    /// The key was free and is now claimed for this request.
    Claimed,
    /// A request with this key is still being answered.
    InProgress {
        /// Digest of that request.
        request_digest: String,
    },
    /// The first request's answer.
    Answered {
        /// Digest of the first request.
        request_digest: String,
        /// HTTP status.
        status: u16,
        /// Content type of the body.
        content_type: String,
        /// The `Location` header, if the answer had one.
        location: Option<String>,
        /// The body.
        body: Vec<u8>,
    },
}

/// Keys are kept this long; a retry later than that is a new request.
pub const IDEMPOTENCY_RETENTION: time::Duration = time::Duration::hours(24);

impl Store {
    /// Claims `(caller, key)` for a request, or returns what the key already has. Expired keys
    /// (older than [`IDEMPOTENCY_RETENTION`]) are forgotten first.
    pub async fn claim_idempotency_key(
        &self,
        caller: &str,
        key: &str,
        request_digest: &str,
        now: OffsetDateTime,
    ) -> Result<IdempotencyState> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(to_ms(now - IDEMPOTENCY_RETENTION))
            .execute(&mut *tx.tx)
            .await?;
        let row = sqlx::query(
            "SELECT request_digest, status, content_type, location, body FROM idempotency_keys \
             WHERE caller = $1 AND idem_key = $2",
        )
        .bind(caller)
        .bind(key)
        .fetch_optional(&mut *tx.tx)
        .await?;
        if let Some(row) = row {
            let request_digest: String = row.try_get("request_digest")?;
            let state = match row.try_get::<Option<i64>, _>("status")? {
                None => IdempotencyState::InProgress { request_digest },
                Some(status) => IdempotencyState::Answered {
                    request_digest,
                    status: u16::try_from(status).map_err(|_| StoreError::Corrupt("idempotency status".into()))?,
                    content_type: row.try_get::<Option<String>, _>("content_type")?.unwrap_or_default(),
                    location: row.try_get("location")?,
                    body: row.try_get::<Option<Vec<u8>>, _>("body")?.unwrap_or_default(),
                },
            };
            tx.commit().await?;
            return Ok(state);
        }
        sqlx::query(
            "INSERT INTO idempotency_keys (caller, idem_key, request_digest, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(caller)
        .bind(key)
        .bind(request_digest)
        .bind(to_ms(now))
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(IdempotencyState::Claimed)
    }

    /// Records the answer to a claimed key.
    pub async fn record_idempotent_answer(
        &self,
        caller: &str,
        key: &str,
        status: u16,
        content_type: &str,
        location: Option<&str>,
        body: &[u8],
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, content_type = $2, location = $3, body = $4 \
             WHERE caller = $5 AND idem_key = $6",
        )
        .bind(i64::from(status))
        .bind(content_type)
        .bind(location)
        .bind(body)
        .bind(caller)
        .bind(key)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    /// Frees a claimed key whose request failed in a way worth retrying (a 5xx, a dropped
    /// connection), so the retry runs again.
    pub async fn release_idempotency_key(&self, caller: &str, key: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE caller = $1 AND idem_key = $2 AND status IS NULL")
            .bind(caller)
            .bind(key)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }
}
