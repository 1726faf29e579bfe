//! Staff accounts (reviewer, senior reviewer, admin, auditor): argon2id password hashes, and API
//! keys issued to an account so that every decision names the person who took it.

use sqlx::Row;
use staydown_domain::roles::Role;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::{Result, Store, StoreError, from_ms, to_ms};

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// Disabled accounts cannot log in and their keys stop working.
    pub disabled: bool,
}

impl Store {
    /// Creates an account; a taken username is a `Conflict`.
    pub async fn create_account(
        &self,
        id: &str,
        username: &str,
        role: Role,
        password_hash: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let taken: Option<String> = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("the username {username} is taken")));
        }
        sqlx::query("INSERT INTO accounts (id, username, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(username)
            .bind(role.as_str())
            .bind(password_hash)
            .bind(to_ms(now))
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "account.created",
                subject: format!("account:{id}"),
                detail: serde_json::json!({ "username": username, "role": role.as_str() }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The account with this username.
    pub async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>> {
        let row = sqlx::query(
            "SELECT id, username, role, password_hash, created_at, disabled_at FROM accounts WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let role: String = row.try_get("role")?;
            Ok(AccountRecord {
                id: row.try_get("id")?,
                username: row.try_get("username")?,
                role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?,
                password_hash: row.try_get("password_hash")?,
                created_at: from_ms(row.try_get("created_at")?),
                disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
            })
        })
        .transpose()
    }

    /// Records a key issued to an account (the key acts with the account's role), without expiry.
    pub async fn create_account_key(
        &self,
        key_id: &str,
        account: &AccountRecord,
        digest: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.create_account_key_expiring(key_id, account, digest, now, None).await
    }

    /// Records a key issued to an account that stops working at `expires_at` (`None`: never).
    pub async fn create_account_key_expiring(
        &self,
        key_id: &str,
        account: &AccountRecord,
        digest: &str,
        now: OffsetDateTime,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, digest, created_at, account_id, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(key_id)
        .bind(&account.username)
        .bind(account.role.as_str())
        .bind(digest)
        .bind(to_ms(now))
        .bind(&account.id)
        .bind(expires_at.map(to_ms))
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(
            now,
            AuditEvent {
                actor: &format!("account:{}", account.id),
                action: "api_key.created",
                subject: format!("api_key:{key_id}"),
                detail: serde_json::json!({
                    "role": account.role.as_str(),
                    "account": account.id,
                    "expires_at": expires_at.map(to_ms),
                }),
            },
        )
        .await?;
        tx.commit().await
    }
}
