//! Encrypted blobs with a chain of custody: content attached to a case and a helpline's evidence.
//!
//! The store keeps only sealed bytes (sealed by the caller with `staydown-vault`, bound to the blob
//! id) plus what custody needs without opening them: size, the plaintext's SHA-256 taken at intake,
//! who stored it and when. Every store, read, legal-hold change and erasure appends an audit entry
//! with subject `blob:<id>` in the same transaction, so [`Store::blob_custody`] is the custody log
//! and `staydown audit verify` proves it was not rewritten. A read of the bytes therefore goes
//! through a write transaction: no unlogged access path exists.
//!
//! Retention: a blob may carry `retain_until`; [`Store::erase_expired_blobs`] erases those past it
//! unless under legal hold. Erasure (on request, GDPR Art. 17, or by retention) clears the sealed
//! bytes and keeps the row and its audit entries, so the chain stays whole.

use sqlx::Row;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::{Result, Store, StoreError, from_ms, to_ms};

/// A blob to store. `sealed` is the output of `staydown_vault::Keyring::seal` with the blob id
/// as context; `sha256` and `size` describe the plaintext.
#[derive(Debug, Clone)]
pub struct NewBlob<'a> {
    /// Id (UUIDv7 text), chosen by the caller because the seal binds it.
    pub id: &'a str,
    /// What it belongs to, e.g. `case:<id>` or `helpline_case:<id>`.
    pub owner: &'a str,
    /// What it is, e.g. `content`, `evidence`, `screenshot`.
    pub kind: &'a str,
    /// Media type of the plaintext, e.g. `image/jpeg`.
    pub content_type: &'a str,
    /// Plaintext size in bytes.
    pub size: i64,
    /// Lower-case hex SHA-256 of the plaintext.
    pub sha256: &'a str,
    /// Id of the vault key that sealed it.
    pub key_id: &'a str,
    /// The sealed bytes.
    pub sealed: &'a [u8],
    /// Erase after this time unless under legal hold; `None` keeps it until erased.
    pub retain_until: Option<OffsetDateTime>,
}

/// A stored blob's description (never its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    /// Id.
    pub id: String,
    /// Owner, e.g. `case:<id>`.
    pub owner: String,
    /// Kind, e.g. `content`.
    pub kind: String,
    /// Media type.
    pub content_type: String,
    /// Plaintext size in bytes.
    pub size: i64,
    /// Plaintext SHA-256 (hex), taken at intake.
    pub sha256: String,
    /// Vault key id.
    pub key_id: String,
    /// When it was stored.
    pub created_at: OffsetDateTime,
    /// Who stored it (`account:<id>`, `key:<id>`, `system`).
    pub created_by: String,
    /// Retention limit.
    pub retain_until: Option<OffsetDateTime>,
    /// Under legal hold: never erased by retention, and erasure on request is refused.
    pub legal_hold: bool,
    /// When the bytes were erased.
    pub erased_at: Option<OffsetDateTime>,
}

macro_rules! columns {
    () => {
        "id, owner, kind, content_type, size, sha256, key_id, created_at, created_by, retain_until, legal_hold, erased_at"
    };
}

fn meta_from_row(row: &sqlx::any::AnyRow) -> Result<BlobMeta> {
    Ok(BlobMeta {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        kind: row.try_get("kind")?,
        content_type: row.try_get("content_type")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        key_id: row.try_get("key_id")?,
        created_at: from_ms(row.try_get("created_at")?),
        created_by: row.try_get("created_by")?,
        retain_until: row.try_get::<Option<i64>, _>("retain_until")?.map(from_ms),
        legal_hold: row.try_get::<i64, _>("legal_hold")? != 0,
        erased_at: row.try_get::<Option<i64>, _>("erased_at")?.map(from_ms),
    })
}

impl Store {
    /// Stores a sealed blob and audits it (`blob.stored`, with kind, size and SHA-256).
    ///
    /// # Errors
    /// `Conflict` when the id exists; `Unavailable` when the database fails.
    pub async fn put_blob(&self, blob: &NewBlob<'_>, actor: &str, now: OffsetDateTime) -> Result<BlobMeta> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO blobs (id, owner, kind, content_type, size, sha256, key_id, sealed, created_at, created_by, \
             retain_until, legal_hold) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0)",
        )
        .bind(blob.id)
        .bind(blob.owner)
        .bind(blob.kind)
        .bind(blob.content_type)
        .bind(blob.size)
        .bind(blob.sha256)
        .bind(blob.key_id)
        .bind(blob.sealed)
        .bind(to_ms(now))
        .bind(actor)
        .bind(blob.retain_until.map(to_ms))
        .execute(&mut *tx.tx)
        .await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "blob.stored",
                subject: format!("blob:{}", blob.id),
                detail: serde_json::json!({
                    "owner": blob.owner, "kind": blob.kind, "size": blob.size, "sha256": blob.sha256,
                    "key_id": blob.key_id,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        self.blob_meta(blob.id).await
    }

    /// A blob's description, erased or not.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn blob_meta(&self, id: &str) -> Result<BlobMeta> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM blobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        meta_from_row(&row)
    }

    /// Every blob of an owner, oldest first.
    pub async fn blobs_of(&self, owner: &str) -> Result<Vec<BlobMeta>> {
        let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM blobs WHERE owner = $1 ORDER BY created_at, id"))
            .bind(owner)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(meta_from_row).collect()
    }

    /// Reads a blob's sealed bytes, auditing the access (`blob.read` with `purpose`, e.g.
    /// `preview`, `reveal`, `export:police`) in the same transaction.
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `Conflict` when the bytes were erased.
    pub async fn read_blob(
        &self,
        id: &str,
        actor: &str,
        purpose: &str,
        now: OffsetDateTime,
    ) -> Result<(BlobMeta, Vec<u8>)> {
        let mut tx = self.write().await?;
        let row = sqlx::query(concat!("SELECT ", columns!(), ", sealed FROM blobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let meta = meta_from_row(&row)?;
        let sealed: Option<Vec<u8>> = row.try_get("sealed")?;
        let Some(sealed) = sealed else {
            return Err(StoreError::Conflict(format!("blob {id} was erased")));
        };
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "blob.read",
                subject: format!("blob:{id}"),
                detail: serde_json::json!({ "purpose": purpose }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((meta, sealed))
    }

    /// Puts a blob under legal hold or lifts it, audited with the reason.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn set_blob_legal_hold(
        &self,
        id: &str,
        hold: bool,
        reason: &str,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let changed = sqlx::query("UPDATE blobs SET legal_hold = $1 WHERE id = $2")
            .bind(i64::from(hold))
            .bind(id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let action = if hold { "blob.legal_hold.set" } else { "blob.legal_hold.lifted" };
        tx.audit(
            now,
            AuditEvent {
                actor,
                action,
                subject: format!("blob:{id}"),
                detail: serde_json::json!({ "reason": reason }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Erases a blob's bytes on request, keeping its row and custody log.
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `Conflict` when it is under legal hold or already erased.
    pub async fn erase_blob(&self, id: &str, reason: &str, actor: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT legal_hold, erased_at FROM blobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if row.try_get::<i64, _>("legal_hold")? != 0 {
            return Err(StoreError::Conflict(format!("blob {id} is under legal hold")));
        }
        if row.try_get::<Option<i64>, _>("erased_at")?.is_some() {
            return Err(StoreError::Conflict(format!("blob {id} was already erased")));
        }
        erase_in(&mut tx, id, reason, actor, now).await?;
        tx.commit().await
    }

    /// Erases every blob whose retention has passed and that is not under legal hold; returns how
    /// many were erased. Each erasure is audited with actor `system`.
    pub async fn erase_expired_blobs(&self, now: OffsetDateTime) -> Result<u64> {
        let mut tx = self.write().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM blobs WHERE retain_until IS NOT NULL AND retain_until <= $1 AND legal_hold = 0 \
             AND erased_at IS NULL ORDER BY id",
        )
        .bind(to_ms(now))
        .fetch_all(&mut *tx.tx)
        .await?;
        for id in &ids {
            erase_in(&mut tx, id, "retention", "system", now).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// The custody log of a blob: its audit entries in order (stored, each read, holds, erasure).
    pub async fn blob_custody(&self, id: &str) -> Result<Vec<staydown_domain::audit::AuditEntry>> {
        self.audit_for(&format!("blob:{id}")).await
    }
}

async fn erase_in(tx: &mut crate::WriteTx, id: &str, reason: &str, actor: &str, now: OffsetDateTime) -> Result<()> {
    sqlx::query("UPDATE blobs SET sealed = NULL, erased_at = $1, erase_reason = $2 WHERE id = $3")
        .bind(to_ms(now))
        .bind(reason)
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
    tx.audit(
        now,
        AuditEvent {
            actor,
            action: "blob.erased",
            subject: format!("blob:{id}"),
            detail: serde_json::json!({ "reason": reason }),
        },
    )
    .await
}
