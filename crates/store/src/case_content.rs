//! Content on the case (issue 12): bytes attached to a case (sealed in `blobs`), and uploads
//! screened earlier under the same platform content id, linked to the case automatically.
//!
//! Stay-down (DSA Art. 16(6) diligence; the service's purpose): a removal banks the hashes of the
//! case's content items (`banks::bank_case_hashes`), which now include attached and linked items,
//! so a notice that named only a URL still keeps the removed image from coming back. Linking runs
//! inside the decision's transaction (and at attach time), so it sees every screening committed
//! before the decision.

use sqlx::Row;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::{Result, Store, StoreError, WriteTx, to_ms};

/// Hashes of attached bytes.
#[derive(Debug, Clone, Default)]
pub struct ContentHashes {
    /// SHA-256 (hex).
    pub sha256: Option<String>,
    /// MD5 (hex).
    pub md5: Option<String>,
    /// PDQ (hex), when the bytes decoded as an image.
    pub pdq: Option<String>,
    /// PDQ quality 0–100.
    pub pdq_quality: Option<u8>,
}

/// Content attached to a case.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    /// The case.
    pub case_id: &'a str,
    /// The sealed blob holding the bytes.
    pub blob_id: &'a str,
    /// The platform's id of the item, if given.
    pub content_id: Option<&'a str>,
    /// Where it was, if given.
    pub url: Option<&'a str>,
    /// Its hashes.
    pub hashes: &'a ContentHashes,
}

impl Store {
    /// Records attached content as a content item of the case (origin `attached`), links earlier
    /// screenings of the case's content ids, and audits both. Returns the new item's id.
    ///
    /// # Errors
    /// `NotFound` for an unknown case.
    pub async fn attach_content(&self, a: &NewAttachment<'_>, actor: &str, now: OffsetDateTime) -> Result<String> {
        let mut tx = self.write().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM cases WHERE id = $1")
            .bind(a.case_id)
            .fetch_optional(&mut *tx.tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO content_items (id, case_id, content_id, url, sha256, md5, pdq, pdq_quality, created_at, \
             blob_id, origin, attached_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'attached', $11)",
        )
        .bind(&id)
        .bind(a.case_id)
        .bind(a.content_id)
        .bind(a.url)
        .bind(a.hashes.sha256.as_deref())
        .bind(a.hashes.md5.as_deref())
        .bind(a.hashes.pdq.as_deref())
        .bind(a.hashes.pdq_quality.map(i64::from))
        .bind(to_ms(now))
        .bind(a.blob_id)
        .bind(actor)
        .execute(&mut *tx.tx)
        .await?;
        tx.refresh_rollups_on(&["ai_files"], to_ms(now)).await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "case.content_attached",
                subject: format!("case:{}", a.case_id),
                detail: serde_json::json!({
                    "item": id, "blob": a.blob_id, "sha256": a.hashes.sha256, "pdq": a.hashes.pdq,
                }),
            },
        )
        .await?;
        link_screened_content(&mut tx, a.case_id, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Remembers the hashes of an upload screened with a platform content id that matched
    /// nothing (the latest screening of that id wins). Not audited: no decision was taken.
    pub async fn remember_screened_content(
        &self,
        content_id: &str,
        hashes: &ContentHashes,
        now: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO screened_content (content_id, sha256, md5, pdq, pdq_quality, screened_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (content_id) DO UPDATE SET sha256 = excluded.sha256, \
             md5 = excluded.md5, pdq = excluded.pdq, pdq_quality = excluded.pdq_quality, screened_at = excluded.screened_at",
        )
        .bind(content_id)
        .bind(hashes.sha256.as_deref())
        .bind(hashes.md5.as_deref())
        .bind(hashes.pdq.as_deref())
        .bind(hashes.pdq_quality.map(i64::from))
        .bind(to_ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The blob of a content item of a case (to open it for preview), or `NotFound`.
    pub async fn content_item_blob(&self, case_id: &str, item_id: &str) -> Result<String> {
        let blob: Option<Option<String>> =
            sqlx::query_scalar("SELECT blob_id FROM content_items WHERE id = $1 AND case_id = $2")
                .bind(item_id)
                .bind(case_id)
                .fetch_optional(&self.pool)
                .await?;
        blob.flatten().ok_or(StoreError::NotFound)
    }

    /// Origin and blob of each content item of a case: `(item id, origin, blob id)`.
    pub async fn content_item_origins(&self, case_id: &str) -> Result<Vec<(String, Option<String>, Option<String>)>> {
        let rows = sqlx::query("SELECT id, origin, blob_id FROM content_items WHERE case_id = $1")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("origin")?, r.try_get("blob_id")?))).collect()
    }
}

/// Links to the case every upload screened under one of its notices' content ids (from matched
/// screenings and from `screened_content`) that is not yet a content item of the case with the
/// same SHA-256. Returns how many were linked; each link is audited.
pub(crate) async fn link_screened_content(tx: &mut WriteTx, case_id: &str, now: OffsetDateTime) -> Result<usize> {
    let rows = sqlx::query(
        "SELECT s.content_id, s.sha256, s.md5, s.pdq, s.pdq_quality FROM screened_content s \
         WHERE s.content_id IN (SELECT l.content_id FROM notice_locations l JOIN notices n ON n.id = l.notice_id \
                                WHERE n.case_id = $1 AND l.content_id IS NOT NULL) \
         UNION \
         SELECT g.content_id, g.sha256, g.md5, g.pdq, g.pdq_quality FROM screenings g \
         WHERE g.content_id IN (SELECT l.content_id FROM notice_locations l JOIN notices n ON n.id = l.notice_id \
                                WHERE n.case_id = $1 AND l.content_id IS NOT NULL) \
           AND (g.case_id IS NULL OR g.case_id <> $1)",
    )
    .bind(case_id)
    .fetch_all(&mut *tx.tx)
    .await?;
    let mut linked = 0;
    for row in &rows {
        let content_id: String = row.try_get("content_id")?;
        let sha256: Option<String> = row.try_get("sha256")?;
        let pdq: Option<String> = row.try_get("pdq")?;
        let known: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM content_items WHERE case_id = $1 AND COALESCE(sha256, '') = COALESCE($2, '') \
             AND COALESCE(pdq, '') = COALESCE($3, '')",
        )
        .bind(case_id)
        .bind(sha256.as_deref())
        .bind(pdq.as_deref())
        .fetch_one(&mut *tx.tx)
        .await?;
        if known > 0 {
            continue;
        }
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO content_items (id, case_id, content_id, sha256, md5, pdq, pdq_quality, created_at, origin) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'linked')",
        )
        .bind(&id)
        .bind(case_id)
        .bind(&content_id)
        .bind(sha256.as_deref())
        .bind(row.try_get::<Option<String>, _>("md5")?)
        .bind(pdq.as_deref())
        .bind(row.try_get::<Option<i64>, _>("pdq_quality")?)
        .bind(to_ms(now))
        .execute(&mut *tx.tx)
        .await?;
        tx.refresh_rollups_on(&["ai_files"], to_ms(now)).await?;
        tx.audit(
            now,
            AuditEvent {
                actor: "system",
                action: "case.content_linked",
                subject: format!("case:{case_id}"),
                detail: serde_json::json!({ "item": id, "content_id": content_id, "sha256": sha256, "pdq": pdq }),
            },
        )
        .await?;
        linked += 1;
    }
    Ok(linked)
}
