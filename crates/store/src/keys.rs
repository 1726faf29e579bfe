//! API keys: stored as digests, looked up by digest, shown in clear only once at creation.

use sqlx::Row;
pub use staydown_domain::roles::Role;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::{Result, Store, StoreError, from_ms, to_ms};

/// A stored key (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Key id (also the public prefix of the key).
    pub id: String,
    /// Organisation or person it was issued to.
    pub name: String,
    /// Role.
    pub role: Role,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// The staff account the key acts for, if it was issued to one.
    pub account_id: Option<String>,
}

impl Store {
    /// Records a key by its digest (see `staydown_domain::secret_digest`).
    pub async fn create_api_key(
        &self,
        id: &str,
        name: &str,
        role: Role,
        digest: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO api_keys (id, name, role, digest, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(name)
            .bind(role.as_str())
            .bind(digest)
            .bind(to_ms(now))
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(
            now,
            AuditEvent {
                actor: "system",
                action: "api_key.created",
                subject: format!("api_key:{id}"),
                detail: serde_json::json!({ "role": role.as_str(), "name": name }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The live key with this digest.
    pub async fn api_key_by_digest(&self, digest: &str) -> Result<Option<ApiKeyRecord>> {
        self.api_key_where(digest, None).await
    }

    /// The key with this digest if it may be used at `now`: not revoked, not expired, and its
    /// account (if any) not disabled. This is what authentication uses: one query per request.
    pub async fn live_api_key(&self, digest: &str, now: OffsetDateTime) -> Result<Option<ApiKeyRecord>> {
        self.api_key_where(digest, Some(now)).await
    }

    /// The key with this digest that is not revoked and whose account is not disabled; with
    /// `now`, also not expired at `now`.
    async fn api_key_where(&self, digest: &str, now: Option<OffsetDateTime>) -> Result<Option<ApiKeyRecord>> {
        const LIVE: &str = "SELECT k.id, k.name, k.role, k.created_at, k.account_id FROM api_keys k \
                            LEFT JOIN accounts a ON a.id = k.account_id \
                            WHERE k.digest = $1 AND k.revoked_at IS NULL AND a.disabled_at IS NULL";
        const UNEXPIRED: &str = "SELECT k.id, k.name, k.role, k.created_at, k.account_id FROM api_keys k \
                                 LEFT JOIN accounts a ON a.id = k.account_id \
                                 WHERE k.digest = $1 AND k.revoked_at IS NULL AND a.disabled_at IS NULL \
                                 AND (k.expires_at IS NULL OR k.expires_at > $2)";
        let query = match now {
            None => sqlx::query(LIVE).bind(digest),
            Some(now) => sqlx::query(UNEXPIRED).bind(digest).bind(to_ms(now)),
        };
        let row = query.fetch_optional(&self.pool).await?;
        row.map(|row| {
            let role: String = row.try_get("role")?;
            Ok(ApiKeyRecord {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?,
                created_at: from_ms(row.try_get("created_at")?),
                account_id: row.try_get("account_id")?,
            })
        })
        .transpose()
    }

    /// Revokes a key.
    pub async fn revoke_api_key(&self, id: &str, now: OffsetDateTime) -> Result<()> {
        self.revoke_api_key_by(id, "system", now).await
    }

    /// Revokes a key on behalf of `actor` (audit form, e.g. `account:<id>`).
    pub async fn revoke_api_key_by(&self, id: &str, actor: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        let n = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(to_ms(now))
            .bind(id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "api_key.revoked",
                subject: format!("api_key:{id}"),
                detail: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await
    }
}
