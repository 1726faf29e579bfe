//! Video entries of hash banks and videos on cases (issue 17, video stay-down with vPDQ).
//!
//! A video entry is an ordinary `bank_entries` row (its `sha256`/`md5` are the file's digests, its
//! `pdq` is empty) plus a `bank_entry_videos` row holding the vPDQ in the reference's file format,
//! so the change log, removal, audit and replay work for videos exactly as for images. Each bank
//! also carries its two vPDQ thresholds (`video_query_pct`, `video_banked_pct`). `case_videos`
//! keeps the vPDQ of videos that reached a case (a held or blocked upload, a hash-only notice), and
//! a removal decision banks them (`banks::bank_case_hashes` calls [`bank_case_videos`]).

use std::collections::HashSet;

use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::banks::{BankEntry, ENTRY_COLUMNS, ImportReport, entry_from_row};
use crate::{Bank, Result, Store, StoreError, WriteTx, to_ms};

/// A video entry to add: the vPDQ (reference file format, already validated), its frame count,
/// and the file's digests when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVideoEntry {
    /// vPDQ lines.
    pub vpdq: String,
    /// Number of frames in `vpdq`.
    pub frame_count: u32,
    /// SHA-256 of the video file, lowercase hex.
    pub sha256: Option<String>,
    /// MD5 of the video file, lowercase hex.
    pub md5: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Why it was added.
    pub reason: Option<String>,
}

/// A live video entry with its vPDQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankVideo {
    /// The entry.
    pub entry: BankEntry,
    /// Number of frames.
    pub frame_count: u32,
    /// vPDQ lines.
    pub vpdq: String,
}

/// A video known for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseVideo {
    /// SHA-256 of the file.
    pub sha256: Option<String>,
    /// MD5 of the file.
    pub md5: Option<String>,
    /// Number of frames.
    pub frame_count: u32,
    /// vPDQ lines.
    pub vpdq: String,
}

impl WriteTx {
    /// Whether the bank already holds this video live (same vPDQ, or same file SHA-256).
    async fn video_held(&mut self, bank_id: &str, v: &NewVideoEntry) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM bank_entries e JOIN bank_entry_videos v ON v.entry_id = e.id \
             WHERE e.bank_id = $1 AND {} AND (v.vpdq = $2 OR (e.sha256 IS NOT NULL AND e.sha256 = $3))",
            crate::banks::live("e.")
        )))
        .bind(bank_id)
        .bind(&v.vpdq)
        .bind(v.sha256.as_deref())
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(n > 0)
    }

    async fn insert_video_entry(
        &mut self,
        bank_id: &str,
        seq: i64,
        v: &NewVideoEntry,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<String> {
        let entry = staydown_domain::bank::NewEntry {
            pdq: None,
            quality: None,
            sha256: v.sha256.clone(),
            md5: v.md5.clone(),
            note: v.note.clone(),
            reason: v.reason.clone(),
        };
        let id = self.insert_entry(bank_id, seq, &entry, actor, now).await?;
        sqlx::query("INSERT INTO bank_entry_videos (entry_id, frame_count, vpdq) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(i64::from(v.frame_count))
            .bind(&v.vpdq)
            .execute(&mut *self.tx)
            .await?;
        Ok(id)
    }
}

/// Banks every video of `case_id` not yet in the bank, from change `seq` on; returns the entry ids
/// added and the next free change number. Runs in the decision's transaction.
pub(crate) async fn bank_case_videos(
    tx: &mut WriteTx,
    bank_id: &str,
    case_id: &str,
    mut seq: i64,
    actor: &str,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(Vec<String>, i64)> {
    let rows = sqlx::query(
        "SELECT sha256, md5, frame_count, vpdq FROM case_videos WHERE case_id = $1 ORDER BY created_at, id",
    )
    .bind(case_id)
    .fetch_all(&mut *tx.tx)
    .await?;
    let mut added = Vec::new();
    for row in &rows {
        let frames: i64 = row.try_get("frame_count")?;
        let v = NewVideoEntry {
            vpdq: row.try_get("vpdq")?,
            frame_count: u32::try_from(frames).map_err(|_| StoreError::Corrupt(format!("frame count {frames}")))?,
            sha256: row.try_get("sha256")?,
            md5: row.try_get("md5")?,
            note: None,
            reason: Some(format!("case {case_id}: {reason}")),
        };
        if tx.video_held(bank_id, &v).await? {
            continue;
        }
        added.push(tx.insert_video_entry(bank_id, seq, &v, actor, now).await?);
        seq += 1;
    }
    Ok((added, seq))
}

/// Records a video on a case (a held or blocked upload, a hash-only notice) in the caller's
/// transaction; returns the new `case_videos` id.
pub(crate) async fn insert_case_video(
    tx: &mut WriteTx,
    case_id: &str,
    source: &str,
    source_id: &str,
    video: &CaseVideo,
    now: OffsetDateTime,
) -> Result<String> {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO case_videos (id, case_id, source, source_id, sha256, md5, frame_count, vpdq, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(case_id)
    .bind(source)
    .bind(source_id)
    .bind(video.sha256.as_deref())
    .bind(video.md5.as_deref())
    .bind(i64::from(video.frame_count))
    .bind(&video.vpdq)
    .bind(to_ms(now))
    .execute(&mut *tx.tx)
    .await?;
    Ok(id)
}

impl Store {
    /// Adds one video entry. `NotFound` if the bank does not exist; `Conflict` if the bank holds
    /// the same video already.
    pub async fn add_bank_video(
        &self,
        bank: &str,
        video: &NewVideoEntry,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<BankEntry> {
        let mut tx = self.write().await?;
        let (bank_id, bank_name) = tx.bank_by_name(bank).await?;
        if tx.video_held(&bank_id, video).await? {
            return Err(StoreError::Conflict("the bank already holds this video".into()));
        }
        let seq = tx.next_bank_seq().await?;
        let id = tx.insert_video_entry(&bank_id, seq, video, actor, now).await?;
        tx.notify_bank_change(seq).await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "bank.entry_added",
                subject: format!("bank:{bank_name}"),
                detail: serde_json::json!({ "entry": id, "kind": "video", "frames": video.frame_count, "reason": video.reason }),
            },
        )
        .await?;
        tx.commit().await?;
        self.bank_entry(bank, &id).await?.ok_or(StoreError::NotFound)
    }

    /// Imports video entries in one transaction (all or nothing); videos the bank holds are
    /// skipped and counted.
    pub async fn import_bank_videos(
        &self,
        bank: &str,
        videos: &[NewVideoEntry],
        actor: &str,
        source: &str,
        now: OffsetDateTime,
    ) -> Result<ImportReport> {
        let mut tx = self.write().await?;
        let (bank_id, bank_name) = tx.bank_by_name(bank).await?;
        let first = tx.next_bank_seq().await?;
        let mut seq = first;
        let mut seen = HashSet::new();
        let mut duplicates = 0;
        for v in videos {
            if !seen.insert(v.vpdq.clone()) || tx.video_held(&bank_id, v).await? {
                duplicates += 1;
                continue;
            }
            tx.insert_video_entry(&bank_id, seq, v, actor, now).await?;
            seq += 1;
        }
        let added = usize::try_from(seq - first).unwrap_or(0);
        if added > 0 {
            tx.notify_bank_change(seq - 1).await?;
        }
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "bank.imported",
                subject: format!("bank:{bank_name}"),
                detail: serde_json::json!({ "source": source, "kind": "video", "added": added, "duplicates": duplicates }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ImportReport { added, duplicates })
    }

    /// Live video entries of a bank, oldest first, after `after_seq`, at most `limit`.
    pub async fn bank_videos(&self, bank: &str, after_seq: i64, limit: i64) -> Result<Vec<BankVideo>> {
        let columns = ENTRY_COLUMNS.split(", ").map(|c| format!("e.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns}, v.frame_count, v.vpdq FROM bank_entries e JOIN bank_entry_videos v ON v.entry_id = e.id \
             WHERE e.bank_id = (SELECT id FROM banks WHERE name = $1) AND {} AND e.seq > $2 \
             ORDER BY e.seq LIMIT $3",
            crate::banks::live("e.")
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(bank).bind(after_seq).bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let frames: i64 = row.try_get("frame_count")?;
                Ok(BankVideo {
                    entry: entry_from_row(row)?,
                    frame_count: u32::try_from(frames).map_err(|_| StoreError::Corrupt(format!("frames {frames}")))?,
                    vpdq: row.try_get("vpdq")?,
                })
            })
            .collect()
    }

    /// Sets a bank's two vPDQ thresholds (percent 1–100, `None` turns a direction off); logged as a
    /// bank change so every screening node picks them up.
    pub async fn set_bank_video_thresholds(
        &self,
        bank: &str,
        query_pct: Option<u8>,
        banked_pct: Option<u8>,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Bank> {
        let mut tx = self.write().await?;
        let (bank_id, bank_name) = tx.bank_by_name(bank).await?;
        sqlx::query("UPDATE banks SET video_query_pct = $1, video_banked_pct = $2 WHERE id = $3")
            .bind(query_pct.map(i64::from))
            .bind(banked_pct.map(i64::from))
            .bind(&bank_id)
            .execute(&mut *tx.tx)
            .await?;
        let seq = tx.next_bank_seq().await?;
        tx.log_bank_change(seq, now, "bank_updated", &bank_id, None).await?;
        tx.notify_bank_change(seq).await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "bank.video_thresholds_set",
                subject: format!("bank:{bank_name}"),
                detail: serde_json::json!({ "video_query_pct": query_pct, "video_banked_pct": banked_pct }),
            },
        )
        .await?;
        tx.commit().await?;
        self.bank(bank).await?.ok_or(StoreError::NotFound)
    }

    /// The videos known for a case, oldest first.
    pub async fn case_videos(&self, case_id: &str) -> Result<Vec<CaseVideo>> {
        let rows = sqlx::query(
            "SELECT sha256, md5, frame_count, vpdq FROM case_videos WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let frames: i64 = row.try_get("frame_count")?;
                Ok(CaseVideo {
                    sha256: row.try_get("sha256")?,
                    md5: row.try_get("md5")?,
                    frame_count: u32::try_from(frames).map_err(|_| StoreError::Corrupt(format!("frames {frames}")))?,
                    vpdq: row.try_get("vpdq")?,
                })
            })
            .collect()
    }
}
