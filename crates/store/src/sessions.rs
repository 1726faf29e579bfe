//! Browser sessions of staff accounts (the staff console, issue 12), and the account operations
//! that end them: disabling an account, changing or resetting its password.
//!
//! Accountability (DSA Art. 20(6), the audit chain): every sign-in, sign-out, disable and password
//! change is an audit entry; no address, user agent or password material is ever written there.
//! A session id is stored only as its SHA-256 digest (like API keys), so reading the database does
//! not let anyone sign in. A session is live while `ended_at` is unset, both expiries lie in the
//! future and its account is not disabled — checked in the one query that looks it up, so a
//! disabled account's sessions stop at once.

use sqlx::Row;
use staydown_domain::roles::Role;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::{AccountRecord, Result, Store, StoreError, from_ms, to_ms};

/// A session to record at sign-in.
#[derive(Debug, Clone)]
pub struct NewStaffSession<'a> {
    /// SHA-256 (hex) of the cookie's session id.
    pub id_digest: &'a str,
    /// The account that signed in.
    pub account_id: &'a str,
    /// Per-session secret that form tokens are derived from (hex).
    pub csrf_secret: &'a str,
    /// When the session expires if unused (moved forward by `touch_staff_session`).
    pub idle_expires_at: OffsetDateTime,
    /// When the session expires regardless of use.
    pub absolute_expires_at: OffsetDateTime,
}

/// A live session with its account.
#[derive(Debug, Clone)]
pub struct StaffSessionRecord {
    /// SHA-256 (hex) of the session id.
    pub id_digest: String,
    /// The signed-in account.
    pub account: AccountRecord,
    /// Secret for the session's CSRF tokens (hex).
    pub csrf_secret: String,
    /// Sign-in time.
    pub created_at: OffsetDateTime,
    /// Last request seen (updated at most once a minute).
    pub last_seen_at: OffsetDateTime,
    /// Idle expiry.
    pub idle_expires_at: OffsetDateTime,
    /// Absolute expiry.
    pub absolute_expires_at: OffsetDateTime,
}

/// An API key as listed to staff (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyListing {
    /// Key id (the public part of the key).
    pub id: String,
    /// Organisation or person it was issued to.
    pub name: String,
    /// Role it acts with.
    pub role: Role,
    /// The staff account behind a personal key.
    pub account_id: Option<String>,
    /// Issued at.
    pub created_at: OffsetDateTime,
    /// Expiry (`None`: does not expire).
    pub expires_at: Option<OffsetDateTime>,
    /// Revocation time.
    pub revoked_at: Option<OffsetDateTime>,
}

/// Why sessions were ended, for the audit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The person signed out.
    SignedOut,
    /// A newer sign-in replaced it on the same browser.
    Replaced,
}

/// The account columns every account query reads (a macro so queries stay static strings).
macro_rules! account_columns {
    () => {
        "a.id, a.username, a.role, a.password_hash, a.created_at, a.disabled_at"
    };
}

pub(crate) fn account_from_row(row: &sqlx::any::AnyRow) -> Result<AccountRecord> {
    let role: String = row.try_get("role")?;
    Ok(AccountRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?,
        password_hash: row.try_get("password_hash")?,
        created_at: from_ms(row.try_get("created_at")?),
        disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
    })
}

impl Store {
    /// Records a new session (sign-in) and audits it.
    pub async fn create_staff_session(&self, session: &NewStaffSession<'_>, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO staff_sessions (id_digest, account_id, created_at, last_seen_at, idle_expires_at, \
             absolute_expires_at, csrf_secret) VALUES ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(session.id_digest)
        .bind(session.account_id)
        .bind(to_ms(now))
        .bind(to_ms(session.idle_expires_at))
        .bind(to_ms(session.absolute_expires_at))
        .bind(session.csrf_secret)
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(
            now,
            AuditEvent {
                actor: &format!("account:{}", session.account_id),
                action: "session.started",
                subject: format!("account:{}", session.account_id),
                detail: serde_json::json!({ "absolute_expires_at": to_ms(session.absolute_expires_at) }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The live session with this id digest: not ended, not expired, account not disabled.
    pub async fn staff_session(&self, id_digest: &str, now: OffsetDateTime) -> Result<Option<StaffSessionRecord>> {
        let row = sqlx::query(concat!(
            "SELECT s.id_digest, s.csrf_secret, s.created_at AS s_created_at, s.last_seen_at, s.idle_expires_at, \
             s.absolute_expires_at, ",
            account_columns!(),
            " FROM staff_sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.id_digest = $1 AND s.ended_at IS NULL AND s.idle_expires_at > $2 \
             AND s.absolute_expires_at > $2 AND a.disabled_at IS NULL"
        ))
        .bind(id_digest)
        .bind(to_ms(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(StaffSessionRecord {
                id_digest: row.try_get("id_digest")?,
                account: account_from_row(&row)?,
                csrf_secret: row.try_get("csrf_secret")?,
                created_at: from_ms(row.try_get("s_created_at")?),
                last_seen_at: from_ms(row.try_get("last_seen_at")?),
                idle_expires_at: from_ms(row.try_get("idle_expires_at")?),
                absolute_expires_at: from_ms(row.try_get("absolute_expires_at")?),
            })
        })
        .transpose()
    }

    /// The user name of the account whose session id digest starts with `prefix` (the console
    /// names a session in audit entries as `key:session-<first 12 hex of its digest>`); `None`
    /// when no session or more than one matches. `prefix` must be hex (it is used in `LIKE`).
    pub async fn session_username_by_digest_prefix(&self, prefix: &str) -> Result<Option<String>> {
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT a.username FROM staff_sessions s JOIN accounts a ON a.id = s.account_id              WHERE s.id_digest LIKE $1 || '%'",
        )
        .bind(prefix)
        .fetch_all(&self.pool)
        .await?;
        Ok(if names.len() == 1 { names.into_iter().next() } else { None })
    }

    /// Records use of a session: last seen now, idle expiry moved to `idle_expires_at` (never past
    /// the absolute expiry). Not audited: it is bookkeeping, not an action.
    pub async fn touch_staff_session(
        &self,
        id_digest: &str,
        now: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE staff_sessions SET last_seen_at = $1, \
             idle_expires_at = CASE WHEN $2 < absolute_expires_at THEN $2 ELSE absolute_expires_at END \
             WHERE id_digest = $3 AND ended_at IS NULL",
        )
        .bind(to_ms(now))
        .bind(to_ms(idle_expires_at))
        .bind(id_digest)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends one session (sign-out); ending an already ended or unknown session is a no-op.
    pub async fn end_staff_session(&self, id_digest: &str, why: SessionEnd, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        let account: Option<String> =
            sqlx::query_scalar("SELECT account_id FROM staff_sessions WHERE id_digest = $1 AND ended_at IS NULL")
                .bind(id_digest)
                .fetch_optional(&mut *tx.tx)
                .await?;
        let Some(account) = account else { return Ok(()) };
        sqlx::query("UPDATE staff_sessions SET ended_at = $1 WHERE id_digest = $2")
            .bind(to_ms(now))
            .bind(id_digest)
            .execute(&mut *tx.tx)
            .await?;
        let action = match why {
            SessionEnd::SignedOut => "session.signed_out",
            SessionEnd::Replaced => "session.replaced",
        };
        tx.audit(
            now,
            AuditEvent {
                actor: &format!("account:{account}"),
                action,
                subject: format!("account:{account}"),
                detail: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Every staff account, by username.
    pub async fn list_accounts(&self) -> Result<Vec<AccountRecord>> {
        let rows = sqlx::query(concat!("SELECT ", account_columns!(), " FROM accounts a ORDER BY a.username"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account_from_row).collect()
    }

    /// The account with this id.
    pub async fn account_by_id(&self, id: &str) -> Result<Option<AccountRecord>> {
        let row = sqlx::query(concat!("SELECT ", account_columns!(), " FROM accounts a WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    /// Disables (or re-enables) an account. Disabling ends its sessions in the same transaction;
    /// its keys stop working because key lookup refuses disabled accounts.
    pub async fn set_account_disabled(&self, id: &str, disabled: bool, actor: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        let changed = if disabled {
            sqlx::query("UPDATE accounts SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
                .bind(to_ms(now))
                .bind(id)
                .execute(&mut *tx.tx)
                .await?
                .rows_affected()
        } else {
            sqlx::query("UPDATE accounts SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL")
                .bind(id)
                .execute(&mut *tx.tx)
                .await?
                .rows_affected()
        };
        if changed == 0 {
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx.tx)
                .await?;
            return if exists.is_some() { Ok(()) } else { Err(StoreError::NotFound) };
        }
        let mut ended = 0;
        if disabled {
            ended = end_sessions(&mut tx, id, None, now).await?;
        }
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: if disabled { "account.disabled" } else { "account.enabled" },
                subject: format!("account:{id}"),
                detail: serde_json::json!({ "sessions_ended": ended }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Sets a new password hash. Ends every session of the account except `keep_session` (the
    /// person's own, when they change their own password); with `revoke_keys` (an admin's reset)
    /// also revokes the account's API keys, since whoever knew the old password may hold one.
    pub async fn set_account_password(
        &self,
        id: &str,
        password_hash: &str,
        change: PasswordChange<'_>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let n = sqlx::query("UPDATE accounts SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(to_ms(now))
            .bind(id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let ended = end_sessions(&mut tx, id, change.keep_session, now).await?;
        let mut revoked = 0;
        if change.revoke_keys {
            revoked = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
                .bind(to_ms(now))
                .bind(id)
                .execute(&mut *tx.tx)
                .await?
                .rows_affected();
        }
        tx.audit(
            now,
            AuditEvent {
                actor: change.actor,
                action: if change.revoke_keys { "account.password_reset" } else { "account.password_changed" },
                subject: format!("account:{id}"),
                detail: serde_json::json!({ "sessions_ended": ended, "keys_revoked": revoked }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// API keys, newest first; only `account_id`'s when given.
    pub async fn list_api_keys(&self, account_id: Option<&str>) -> Result<Vec<ApiKeyListing>> {
        let sql = "SELECT id, name, role, account_id, created_at, expires_at, revoked_at FROM api_keys \
                   WHERE ($1 = '' OR account_id = $1) ORDER BY created_at DESC, id";
        let rows = sqlx::query(sql).bind(account_id.unwrap_or_default()).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let role: String = row.try_get("role")?;
                Ok(ApiKeyListing {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?,
                    account_id: row.try_get("account_id")?,
                    created_at: from_ms(row.try_get("created_at")?),
                    expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(from_ms),
                    revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms),
                })
            })
            .collect()
    }
}

/// Who changes a password and what else ends with the old one.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    /// Audit actor (`account:<id>`).
    pub actor: &'a str,
    /// The session to keep (the person's own), by id digest.
    pub keep_session: Option<&'a str>,
    /// Revoke the account's API keys too (admin reset).
    pub revoke_keys: bool,
}

/// Ends an account's live sessions except `keep`; returns how many.
async fn end_sessions(
    tx: &mut crate::WriteTx,
    account_id: &str,
    keep: Option<&str>,
    now: OffsetDateTime,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE staff_sessions SET ended_at = $1 WHERE account_id = $2 AND ended_at IS NULL AND id_digest <> $3",
    )
    .bind(to_ms(now))
    .bind(account_id)
    .bind(keep.unwrap_or_default())
    .execute(&mut *tx.tx)
    .await?
    .rows_affected())
}
