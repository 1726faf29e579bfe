//! Screening records and content items: what upload screening writes when an upload matches a bank.
//!
//! Issue 5 (a block or hold opens or joins a case, source `automated_match`) and issue 6 (the
//! screened upload's provenance is kept on its content item, with `ai_generated`, `generator` and
//! `edited` as columns for counting). The notice, its case, the screening record, the content item
//! and the audit entry commit in one transaction, before the platform gets its answer.

use sqlx::Row;
use staydown_domain::bank::Verdict;
use staydown_domain::notice::NewNotice;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::notices::StoredNotice;
use crate::{Result, Store, from_ms, to_ms};

/// The notice a held or blocked upload files, with what intake decided for it.
#[derive(Debug, Clone)]
pub struct ScreeningCase {
    /// The `automated_match` notice.
    pub notice: NewNotice,
    /// Its id, case id, assessment, …
    pub meta: StoredNotice,
    /// Extra grouping keys (`bank_entry:<id>` of every matched entry).
    pub keys: Vec<String>,
}

/// One screened upload that matched at least one bank.
#[derive(Debug, Clone)]
pub struct NewScreening {
    /// Id.
    pub id: String,
    /// When.
    pub at: OffsetDateTime,
    /// The platform key that asked.
    pub api_key_id: Option<String>,
    /// Audit actor.
    pub actor: String,
    /// The answer given.
    pub verdict: Verdict,
    /// The matches as answered (JSON array; no personal data).
    pub matches: serde_json::Value,
    /// PDQ of the upload.
    pub pdq: Option<String>,
    /// PDQ quality.
    pub pdq_quality: Option<u8>,
    /// SHA-256.
    pub sha256: Option<String>,
    /// MD5.
    pub md5: Option<String>,
    /// Why the PDQ hash was not matched, if it was not (`low_quality`).
    pub pdq_skipped: Option<String>,
    /// Platform content id.
    pub content_id: Option<String>,
    /// URL.
    pub url: Option<String>,
    /// The platform's reference for the uploader (kept on the content item only, never audited).
    pub uploader_ref: Option<String>,
    /// Provenance result as JSON, when image bytes were screened.
    pub provenance: Option<serde_json::Value>,
    /// `yes`/`no`/`unknown` from the provenance result.
    pub ai_generated: Option<String>,
    /// Normalised generator name.
    pub generator: Option<String>,
    /// `yes`/`no`/`unknown`.
    pub edited: Option<String>,
    /// For hold and block: the notice that opens or joins a case.
    pub case: Option<ScreeningCase>,
    /// The upload's vPDQ when it was a video (issue 17): kept on the case so a removal banks it.
    pub video: Option<crate::CaseVideo>,
}

/// What recording a screening did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningReceipt {
    /// The case opened or joined (hold and block).
    pub case_id: Option<String>,
    /// Whether the case already existed.
    pub joined_existing_case: bool,
    /// The content item stored (hold and block).
    pub content_item_id: Option<String>,
}

/// A screened upload linked to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentItem {
    /// Id.
    pub id: String,
    /// Case.
    pub case_id: String,
    /// The notice that brought it.
    pub notice_id: Option<String>,
    /// The screening record.
    pub screening_id: Option<String>,
    /// Platform content id.
    pub content_id: Option<String>,
    /// URL.
    pub url: Option<String>,
    /// Platform's uploader reference.
    pub uploader_ref: Option<String>,
    /// SHA-256.
    pub sha256: Option<String>,
    /// MD5.
    pub md5: Option<String>,
    /// PDQ.
    pub pdq: Option<String>,
    /// PDQ quality.
    pub pdq_quality: Option<u8>,
    /// Provenance result (JSON), when bytes were screened.
    pub provenance: Option<serde_json::Value>,
    /// `yes`/`no`/`unknown`.
    pub ai_generated: Option<String>,
    /// Normalised generator name.
    pub generator: Option<String>,
    /// `yes`/`no`/`unknown`.
    pub edited: Option<String>,
    /// Stored at.
    pub created_at: OffsetDateTime,
}

impl Store {
    /// Records a screening that matched: for hold and block also the notice (opening or joining a
    /// case through ordinary intake) and the content item. One transaction.
    pub async fn record_screening(&self, s: &NewScreening) -> Result<ScreeningReceipt> {
        let mut tx = self.write().await?;
        let mut receipt = ScreeningReceipt { case_id: None, joined_existing_case: false, content_item_id: None };
        let mut notice_id = None;
        if let Some(case) = &s.case {
            let r = tx.insert_notice_with_keys(&case.notice, &case.meta, &case.keys).await?;
            receipt.case_id = Some(r.case_id);
            receipt.joined_existing_case = r.joined_existing_case;
            notice_id = Some(case.meta.id.clone());
        }
        sqlx::query(
            "INSERT INTO screenings (id, at_ms, api_key_id, verdict, matches, pdq, pdq_quality, sha256, md5, pdq_skipped, \
             content_id, url, case_id, notice_id, automated_detection) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1)",
        )
        .bind(&s.id)
        .bind(to_ms(s.at))
        .bind(s.api_key_id.as_deref())
        .bind(s.verdict.as_str())
        .bind(s.matches.to_string())
        .bind(s.pdq.as_deref())
        .bind(s.pdq_quality.map(i64::from))
        .bind(s.sha256.as_deref())
        .bind(s.md5.as_deref())
        .bind(s.pdq_skipped.as_deref())
        .bind(s.content_id.as_deref())
        .bind(s.url.as_deref())
        .bind(receipt.case_id.as_deref())
        .bind(notice_id.as_deref())
        .execute(&mut *tx.tx)
        .await?;
        if let Some(case_id) = &receipt.case_id {
            let item_id = uuid::Uuid::now_v7().to_string();
            sqlx::query(
                "INSERT INTO content_items (id, case_id, notice_id, screening_id, content_id, url, uploader_ref, sha256, md5, \
                 pdq, pdq_quality, provenance, ai_generated, generator, edited, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            )
            .bind(&item_id)
            .bind(case_id)
            .bind(notice_id.as_deref())
            .bind(&s.id)
            .bind(s.content_id.as_deref())
            .bind(s.url.as_deref())
            .bind(s.uploader_ref.as_deref())
            .bind(s.sha256.as_deref())
            .bind(s.md5.as_deref())
            .bind(s.pdq.as_deref())
            .bind(s.pdq_quality.map(i64::from))
            .bind(s.provenance.as_ref().map(serde_json::Value::to_string))
            .bind(s.ai_generated.as_deref())
            .bind(s.generator.as_deref())
            .bind(s.edited.as_deref())
            .bind(to_ms(s.at))
            .execute(&mut *tx.tx)
            .await?;
            tx.refresh_rollups_on(&["ai_files"], to_ms(s.at)).await?;
            if let Some(video) = &s.video {
                crate::videos::insert_case_video(&mut tx, case_id, "screening", &s.id, video, s.at).await?;
            }
            receipt.content_item_id = Some(item_id);
        }
        tx.audit(
            s.at,
            AuditEvent {
                actor: &s.actor,
                action: "screening.matched",
                subject: format!("screening:{}", s.id),
                detail: serde_json::json!({
                    "verdict": s.verdict.as_str(),
                    "matches": s.matches,
                    "case": receipt.case_id,
                    "notice": notice_id,
                    "automated_detection": true,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(receipt)
    }

    /// The content items of a case, oldest first (for the case view).
    pub async fn content_items_for_case(&self, case_id: &str) -> Result<Vec<ContentItem>> {
        let rows = sqlx::query(
            "SELECT id, case_id, notice_id, screening_id, content_id, url, uploader_ref, sha256, md5, pdq, pdq_quality, \
             provenance, ai_generated, generator, edited, created_at FROM content_items WHERE case_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let provenance: Option<String> = row.try_get("provenance")?;
            let quality: Option<i64> = row.try_get("pdq_quality")?;
            items.push(ContentItem {
                id: row.try_get("id")?,
                case_id: row.try_get("case_id")?,
                notice_id: row.try_get("notice_id")?,
                screening_id: row.try_get("screening_id")?,
                content_id: row.try_get("content_id")?,
                url: row.try_get("url")?,
                uploader_ref: row.try_get("uploader_ref")?,
                sha256: row.try_get("sha256")?,
                md5: row.try_get("md5")?,
                pdq: row.try_get("pdq")?,
                pdq_quality: quality.and_then(|q| u8::try_from(q).ok()),
                provenance: provenance
                    .map(|p| serde_json::from_str(&p))
                    .transpose()
                    .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?,
                ai_generated: row.try_get("ai_generated")?,
                generator: row.try_get("generator")?,
                edited: row.try_get("edited")?,
                created_at: from_ms(row.try_get("created_at")?),
            });
        }
        Ok(items)
    }

    /// Number of screening records (tests and reports).
    pub async fn count_screenings(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM screenings").fetch_one(&self.pool).await?)
    }
}
