//! Hash banks in the database: banks, their entries, and the append-only change log that screening
//! nodes replay to keep their in-memory index current.
//!
//! Issue 5, design.md §4 (hash bank) and §9 (bank updates reach every node through the database).
//! Every mutation goes through `begin_write` (so the audit chain stays one chain) and appends one
//! `bank_changes` row per entry added or removed. Writers are serialised, so change sequence numbers
//! are handed out as `MAX(seq) + 1` and commit in order: a reader that has applied everything up to
//! `seq` never later sees a smaller one appear. On PostgreSQL each mutation also sends
//! `NOTIFY staydown_bank_changes` inside its transaction (delivered on commit), which the
//! [`BankListener`] of every server process receives.

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::bank::{BankAction, BankProvenance, HashedBy, NewBank, NewEntry};
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::{Backend, Result, Store, StoreError, WriteTx, from_ms, to_ms};

/// The PostgreSQL channel bank mutations notify.
pub const BANK_CHANNEL: &str = "staydown_bank_changes";

/// A bank with its number of live entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Description.
    pub description: String,
    /// What a match does.
    pub action: BankAction,
    /// PDQ threshold.
    pub threshold: u8,
    /// Where the hashes come from.
    pub provenance: BankProvenance,
    /// Created at.
    pub created_at: OffsetDateTime,
    /// Created by (audit actor).
    pub created_by: String,
    /// Live (not removed) entries.
    pub entry_count: i64,
    /// vPDQ: percent of an upload's frames that must be found in a banked video (`None`: off).
    pub video_query_pct: Option<u8>,
    /// vPDQ: percent of a banked video's frames that must be found in an upload (`None`: off).
    pub video_banked_pct: Option<u8>,
    /// Whether uploads are matched in all eight orientations (dihedral PDQ variants).
    pub dihedral: bool,
    /// Which program computed the bank's imported hashes, when an import said so.
    pub hashed_by: Option<HashedBy>,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankEntry {
    /// Id (UUIDv7).
    pub id: String,
    /// The change that added it; its position in the bank.
    pub seq: i64,
    /// PDQ.
    pub pdq: Option<String>,
    /// PDQ quality.
    pub quality: Option<u8>,
    /// SHA-256.
    pub sha256: Option<String>,
    /// MD5.
    pub md5: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Why it was added (case, notice, list).
    pub reason: Option<String>,
    /// Who added it (audit actor).
    pub added_by: String,
    /// When.
    pub added_at: OffsetDateTime,
    /// When it was removed, if it was.
    pub removed_at: Option<OffsetDateTime>,
}

/// An entry as the match index needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEntry {
    /// The index key (the entry's `seq`).
    pub key: u64,
    /// Entry id.
    pub id: String,
    /// Bank id.
    pub bank_id: String,
    /// PDQ.
    pub pdq: Option<String>,
    /// PDQ quality.
    pub quality: Option<u8>,
    /// SHA-256.
    pub sha256: Option<String>,
    /// MD5.
    pub md5: Option<String>,
    /// The vPDQ of a video entry (reference file format); `None` for image entries.
    pub vpdq: Option<String>,
}

/// What one change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankChangeKind {
    /// A bank was created (reload bank definitions).
    BankCreated,
    /// An entry was added.
    EntryAdded(IndexedEntry),
    /// An entry was removed.
    EntryRemoved(IndexedEntry),
    /// A bank's settings changed (reload bank definitions); issue 17's video thresholds.
    BankUpdated,
    /// A chunked import was committed: every entry of the import became visible at once; read
    /// them with [`Store::import_entries`] (issue 15).
    ImportCommitted {
        /// The import's id.
        import_id: String,
        /// The bank it went into.
        bank_id: String,
    },
}

/// One row of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankChange {
    /// Sequence number.
    pub seq: i64,
    /// What changed.
    pub kind: BankChangeKind,
}

/// Outcome of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries added.
    pub added: usize,
    /// Entries skipped because the bank already holds the same hashes.
    pub duplicates: usize,
}

fn bank_from_row(row: &sqlx::any::AnyRow) -> Result<Bank> {
    let action: String = row.try_get("action")?;
    let provenance: String = row.try_get("provenance")?;
    let threshold: i64 = row.try_get("threshold")?;
    Ok(Bank {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        action: BankAction::parse(&action).ok_or_else(|| StoreError::Corrupt(format!("bank action {action}")))?,
        threshold: u8::try_from(threshold).map_err(|_| StoreError::Corrupt(format!("threshold {threshold}")))?,
        provenance: BankProvenance::parse(&provenance)
            .ok_or_else(|| StoreError::Corrupt(format!("bank provenance {provenance}")))?,
        created_at: from_ms(row.try_get("created_at")?),
        created_by: row.try_get("created_by")?,
        entry_count: row.try_get("entry_count")?,
        video_query_pct: quality(row, "video_query_pct")?,
        video_banked_pct: quality(row, "video_banked_pct")?,
        dihedral: row.try_get::<i64, _>("dihedral")? != 0,
        hashed_by: match row.try_get::<Option<String>, _>("hashed_by")? {
            Some(h) => Some(HashedBy::parse(&h).ok_or_else(|| StoreError::Corrupt(format!("bank hashed_by {h}")))?),
            None => None,
        },
    })
}

fn quality(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<u8>> {
    let q: Option<i64> = row.try_get(column)?;
    Ok(q.and_then(|q| u8::try_from(q).ok()))
}

pub(crate) fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<BankEntry> {
    let removed_at: Option<i64> = row.try_get("removed_at")?;
    Ok(BankEntry {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        pdq: row.try_get("pdq")?,
        quality: quality(row, "pdq_quality")?,
        sha256: row.try_get("sha256")?,
        md5: row.try_get("md5")?,
        note: row.try_get("note")?,
        reason: row.try_get("reason")?,
        added_by: row.try_get("added_by")?,
        added_at: from_ms(row.try_get("added_at")?),
        removed_at: removed_at.map(from_ms),
    })
}

pub(crate) fn indexed_from_row(row: &sqlx::any::AnyRow) -> Result<IndexedEntry> {
    let seq: i64 = row.try_get("seq")?;
    Ok(IndexedEntry {
        key: u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("entry seq {seq}")))?,
        id: row.try_get("id")?,
        bank_id: row.try_get("bank_id")?,
        pdq: row.try_get("pdq")?,
        quality: quality(row, "pdq_quality")?,
        sha256: row.try_get("sha256")?,
        md5: row.try_get("md5")?,
        vpdq: row.try_get("vpdq")?,
    })
}

const BANK_COLUMNS: &str = "b.id, b.name, b.description, b.action, b.threshold, b.provenance, b.created_at, b.created_by, \
     b.video_query_pct, b.video_banked_pct, b.dihedral, b.hashed_by, \
     (SELECT COUNT(*) FROM bank_entries e WHERE e.bank_id = b.id AND e.removed_at IS NULL \
     AND (e.import_id IS NULL OR e.import_id IN (SELECT id FROM bank_imports WHERE state = 'committed'))) AS entry_count";

/// The condition for a live entry: not removed, and not part of an import that is still being
/// written or was abandoned (store::bank_import). `alias` is the table alias with its dot, or "".
pub(crate) fn live(alias: &str) -> String {
    format!(
        "{alias}removed_at IS NULL AND ({alias}import_id IS NULL OR {alias}import_id IN \
         (SELECT id FROM bank_imports WHERE state = 'committed'))"
    )
}
pub(crate) const ENTRY_COLUMNS: &str =
    "id, seq, pdq, pdq_quality, sha256, md5, note, reason, added_by, added_at, removed_at";

impl WriteTx {
    /// The next change sequence number. Safe because writers are serialised (see `begin_write`).
    /// Entries of an import still being written hold numbers with no change row yet, so both
    /// tables are consulted.
    pub(crate) async fn next_bank_seq(&mut self) -> Result<i64> {
        let changes: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM bank_changes").fetch_one(&mut *self.tx).await?;
        let entries: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM bank_entries").fetch_one(&mut *self.tx).await?;
        Ok(changes.unwrap_or(0).max(entries.unwrap_or(0)) + 1)
    }

    pub(crate) async fn log_bank_change(
        &mut self,
        seq: i64,
        at: OffsetDateTime,
        kind: &str,
        bank_id: &str,
        entry_id: Option<&str>,
    ) -> Result<()> {
        sqlx::query("INSERT INTO bank_changes (seq, at_ms, kind, bank_id, entry_id) VALUES ($1, $2, $3, $4, $5)")
            .bind(seq)
            .bind(to_ms(at))
            .bind(kind)
            .bind(bank_id)
            .bind(entry_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Tells other server processes (PostgreSQL `NOTIFY`, delivered on commit) that banks changed.
    pub(crate) async fn notify_bank_change(&mut self, seq: i64) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(BANK_CHANNEL)
                .bind(seq.to_string())
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn bank_by_name(&mut self, name: &str) -> Result<(String, String)> {
        let row = sqlx::query("SELECT id, name FROM banks WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((row.try_get("id")?, row.try_get("name")?))
    }

    /// Inserts one entry at change `seq` (the caller logs nothing else for it).
    pub(crate) async fn insert_entry(
        &mut self,
        bank_id: &str,
        seq: i64,
        entry: &NewEntry,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<String> {
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO bank_entries (id, bank_id, seq, pdq, pdq_quality, sha256, md5, note, reason, added_by, added_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(bank_id)
        .bind(seq)
        .bind(entry.pdq.as_deref())
        .bind(entry.quality.map(i64::from))
        .bind(entry.sha256.as_deref())
        .bind(entry.md5.as_deref())
        .bind(entry.note.as_deref())
        .bind(entry.reason.as_deref())
        .bind(actor)
        .bind(to_ms(now))
        .execute(&mut *self.tx)
        .await?;
        self.log_bank_change(seq, now, "entry_added", bank_id, Some(&id)).await?;
        Ok(id)
    }

    /// Whether every hash of `entry` is already in a live entry of the bank (adding it adds nothing).
    async fn entry_adds_nothing(&mut self, bank_id: &str, entry: &NewEntry) -> Result<bool> {
        for (column, value) in [("pdq", &entry.pdq), ("sha256", &entry.sha256), ("md5", &entry.md5)] {
            let Some(value) = value else { continue };
            let sql =
                format!("SELECT COUNT(*) FROM bank_entries WHERE bank_id = $1 AND {column} = $2 AND {}", live(""));
            let n: i64 =
                sqlx::query_scalar(AssertSqlSafe(sql)).bind(bank_id).bind(value).fetch_one(&mut *self.tx).await?;
            if n == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Adds every hash known for a case — the hashes of its notices and of its content items — to the
/// bank named `bank`, skipping hash sets the bank already holds, with one audit entry and the
/// change log rows (and the PostgreSQL notification) in the caller's transaction. Returns how many
/// entries were added. Called by the decision code when a reviewer removes content (stay-down).
/// After the commit, the server applies the change with `AppState::refresh_banks`.
pub(crate) async fn bank_case_hashes(
    tx: &mut WriteTx,
    case_id: &str,
    bank: &str,
    actor: &str,
    reason: &str,
    now: OffsetDateTime,
) -> Result<usize> {
    let (bank_id, bank_name) = tx.bank_by_name(bank).await?;
    // Uploads screened earlier under the case's content ids join the case first, so a removal
    // banks them even when the notices named only URLs (issue 12).
    crate::case_content::link_screened_content(tx, case_id, now).await?;
    let mut sets = Vec::new();
    let rows = sqlx::query(
        // A video's hash set (`case_video_id`) is banked once, as a video entry, below.
        "SELECT h.pdq, h.pdq_quality, h.sha256, h.md5 FROM notice_hashes h JOIN notices n ON n.id = h.notice_id \
         WHERE n.case_id = $1 AND h.case_video_id IS NULL ORDER BY n.received_at, n.id, h.position",
    )
    .bind(case_id)
    .fetch_all(&mut *tx.tx)
    .await?;
    let items = sqlx::query(
        "SELECT pdq, pdq_quality, sha256, md5 FROM content_items WHERE case_id = $1 ORDER BY created_at, id",
    )
    .bind(case_id)
    .fetch_all(&mut *tx.tx)
    .await?;
    for row in rows.iter().chain(&items) {
        let entry = NewEntry {
            pdq: row.try_get("pdq")?,
            quality: quality(row, "pdq_quality")?,
            sha256: row.try_get("sha256")?,
            md5: row.try_get("md5")?,
            note: None,
            reason: Some(format!("case {case_id}: {reason}")),
        };
        if entry.pdq.is_some() || entry.sha256.is_some() || entry.md5.is_some() {
            sets.push(entry);
        }
    }
    let mut added = Vec::new();
    let mut seq = tx.next_bank_seq().await?;
    for entry in &sets {
        if tx.entry_adds_nothing(&bank_id, entry).await? {
            continue;
        }
        added.push(tx.insert_entry(&bank_id, seq, entry, actor, now).await?);
        seq += 1;
    }
    let skipped = sets.len() - added.len();
    // Videos on the case (issue 17): their vPDQ becomes a video entry.
    let (videos, seq) = crate::videos::bank_case_videos(tx, &bank_id, case_id, seq, actor, reason, now).await?;
    added.extend(videos);
    if !added.is_empty() {
        tx.notify_bank_change(seq - 1).await?;
    }
    tx.audit(
        now,
        AuditEvent {
            actor,
            action: "bank.case_hashes_added",
            subject: format!("bank:{bank_name}"),
            detail: serde_json::json!({ "case": case_id, "reason": reason, "added": added, "skipped": skipped }),
        },
    )
    .await?;
    Ok(added.len())
}

impl Store {
    /// [`bank_case_hashes`] in a transaction of its own.
    pub async fn bank_case_hashes(
        &self,
        case_id: &str,
        bank: &str,
        actor: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<usize> {
        let mut tx = self.write().await?;
        let n = bank_case_hashes(&mut tx, case_id, bank, actor, reason, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Creates a bank. `Conflict` if the name is taken.
    pub async fn create_bank(&self, bank: &NewBank, actor: &str, now: OffsetDateTime) -> Result<Bank> {
        let mut tx = self.write().await?;
        let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM banks WHERE name = $1")
            .bind(&bank.name)
            .fetch_one(&mut *tx.tx)
            .await?;
        if taken > 0 {
            return Err(StoreError::Conflict(format!("a bank named `{}` already exists", bank.name)));
        }
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO banks (id, name, description, action, threshold, provenance, created_at, created_by, dihedral) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(&bank.name)
        .bind(&bank.description)
        .bind(bank.action.as_str())
        .bind(i64::from(bank.threshold))
        .bind(bank.provenance.as_str())
        .bind(to_ms(now))
        .bind(actor)
        .bind(i64::from(bank.dihedral))
        .execute(&mut *tx.tx)
        .await?;
        let seq = tx.next_bank_seq().await?;
        tx.log_bank_change(seq, now, "bank_created", &id, None).await?;
        tx.notify_bank_change(seq).await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "bank.created",
                subject: format!("bank:{}", bank.name),
                detail: serde_json::json!({
                    "action": bank.action.as_str(), "threshold": bank.threshold, "provenance": bank.provenance.as_str(),
                    "dihedral": bank.dihedral
                }),
            },
        )
        .await?;
        tx.commit().await?;
        self.bank(&bank.name).await?.ok_or(StoreError::NotFound)
    }

    /// Turns matching of rotated and mirrored uploads (the eight dihedral PDQ variants) on or off
    /// for an existing bank, audited (`bank.dihedral_set`, with the old and new value) and logged
    /// as a `bank_updated` change so every screening process picks it up. `NotFound` if there is
    /// no such bank. Returns the bank as stored.
    pub async fn set_bank_dihedral(
        &self,
        name: &str,
        dihedral: bool,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Bank> {
        let mut tx = self.write().await?;
        let (bank_id, bank_name) = tx.bank_by_name(name).await?;
        let before: i64 = sqlx::query_scalar("SELECT dihedral FROM banks WHERE id = $1")
            .bind(&bank_id)
            .fetch_one(&mut *tx.tx)
            .await?;
        sqlx::query("UPDATE banks SET dihedral = $1 WHERE id = $2")
            .bind(i64::from(dihedral))
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
                action: "bank.dihedral_set",
                subject: format!("bank:{bank_name}"),
                detail: serde_json::json!({ "from": before != 0, "to": dihedral }),
            },
        )
        .await?;
        tx.commit().await?;
        self.bank(name).await?.ok_or(StoreError::NotFound)
    }

    /// Records which program computed a bank's hashes (an import's `--hashed-by`), audited.
    /// `NotFound` if there is no such bank. The screening index does not use it; reviewers and
    /// `bank list` show it.
    pub async fn set_bank_hashed_by(
        &self,
        name: &str,
        hashed_by: HashedBy,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let updated = sqlx::query("UPDATE banks SET hashed_by = $1 WHERE name = $2")
            .bind(hashed_by.as_str())
            .bind(name)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "bank.hashed_by",
                subject: format!("bank:{name}"),
                detail: serde_json::json!({ "hashed_by": hashed_by.as_str() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every bank, by name.
    pub async fn banks(&self) -> Result<Vec<Bank>> {
        let sql = format!("SELECT {BANK_COLUMNS} FROM banks b ORDER BY b.name");
        sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await?.iter().map(bank_from_row).collect()
    }

    /// Every bank's settings, like [`Store::banks`] but with `entry_count` 0: it does not count
    /// the entries, which at 10M entries takes seconds (the screening index needs the settings
    /// only, at every start and on every bank change).
    pub async fn bank_settings(&self) -> Result<Vec<Bank>> {
        sqlx::query(
            "SELECT b.id, b.name, b.description, b.action, b.threshold, b.provenance, b.created_at, b.created_by, \
             b.video_query_pct, b.video_banked_pct, b.dihedral, b.hashed_by, CAST(0 AS BIGINT) AS entry_count FROM banks b ORDER BY b.name",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(bank_from_row)
        .collect()
    }

    /// One bank by name.
    pub async fn bank(&self, name: &str) -> Result<Option<Bank>> {
        let sql = format!("SELECT {BANK_COLUMNS} FROM banks b WHERE b.name = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(bank_from_row)
            .transpose()
    }

    /// Live entries of a bank in the order they were added, after position `after_seq`.
    pub async fn bank_entries(&self, bank: &str, after_seq: i64, limit: i64) -> Result<Vec<BankEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM bank_entries WHERE bank_id = (SELECT id FROM banks WHERE name = $1) \
             AND {} AND seq > $2 ORDER BY seq LIMIT $3",
            live("")
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(bank)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(entry_from_row)
            .collect()
    }

    /// One entry of a bank (removed or not).
    pub async fn bank_entry(&self, bank: &str, entry_id: &str) -> Result<Option<BankEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM bank_entries WHERE bank_id = (SELECT id FROM banks WHERE name = $1) AND id = $2 \
             AND (import_id IS NULL OR import_id IN (SELECT id FROM bank_imports WHERE state = 'committed'))"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(bank)
            .bind(entry_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(entry_from_row)
            .transpose()
    }

    /// Adds one entry. `NotFound` if the bank does not exist.
    pub async fn add_bank_entry(
        &self,
        bank: &str,
        entry: &NewEntry,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<BankEntry> {
        let mut tx = self.write().await?;
        let (bank_id, bank_name) = tx.bank_by_name(bank).await?;
        let seq = tx.next_bank_seq().await?;
        let id = tx.insert_entry(&bank_id, seq, entry, actor, now).await?;
        tx.notify_bank_change(seq).await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "bank.entry_added",
                subject: format!("bank:{bank_name}"),
                detail: serde_json::json!({ "entry": id, "reason": entry.reason }),
            },
        )
        .await?;
        tx.commit().await?;
        self.bank_entry(bank, &id).await?.ok_or(StoreError::NotFound)
    }

    /// Removes a live entry (it stays in the table, marked removed). `NotFound` if there is none.
    pub async fn remove_bank_entry(&self, bank: &str, entry_id: &str, actor: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.write().await?;
        let (bank_id, bank_name) = tx.bank_by_name(bank).await?;
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE bank_entries SET removed_at = $1, removed_by = $2 WHERE id = $3 AND bank_id = $4 AND {}",
            live("")
        )))
        .bind(to_ms(now))
        .bind(actor)
        .bind(entry_id)
        .bind(&bank_id)
        .execute(&mut *tx.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let seq = tx.next_bank_seq().await?;
        tx.log_bank_change(seq, now, "entry_removed", &bank_id, Some(entry_id)).await?;
        tx.notify_bank_change(seq).await?;
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "bank.entry_removed",
                subject: format!("bank:{bank_name}"),
                detail: serde_json::json!({ "entry": entry_id }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The newest change sequence number (0 when nothing ever changed).
    pub async fn bank_head(&self) -> Result<i64> {
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM bank_changes").fetch_one(&self.pool).await?;
        Ok(max.unwrap_or(0))
    }

    /// The live entries for building the index at start, one page at a time: at most `limit` live
    /// entries with a key (`seq`) above `after_key`, in key order (pass the last key of a page to
    /// get the next). Read [`Store::bank_head`] *before* the first page and replay changes after
    /// that head: changes committed in between are then applied twice, which is harmless (adds and
    /// removals are idempotent), and none is missed.
    pub async fn live_bank_entries_after(&self, after_key: u64, limit: i64) -> Result<Vec<IndexedEntry>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT e.id, e.bank_id, e.seq, e.pdq, e.pdq_quality, e.sha256, e.md5, v.vpdq FROM bank_entries e \
             LEFT JOIN bank_entry_videos v ON v.entry_id = e.id WHERE e.seq > $1 AND {} ORDER BY e.seq LIMIT $2",
            live("e.")
        )))
        .bind(i64::try_from(after_key).unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(indexed_from_row)
        .collect()
    }

    /// Changes after `after_seq`, oldest first, at most `limit`.
    pub async fn bank_changes_since(&self, after_seq: i64, limit: i64) -> Result<Vec<BankChange>> {
        let rows = sqlx::query(
            "SELECT c.seq AS change_seq, c.kind, c.import_id AS change_import, c.bank_id AS change_bank, e.id, e.bank_id, e.seq, e.pdq, e.pdq_quality, e.sha256, e.md5, v.vpdq \
             FROM bank_changes c LEFT JOIN bank_entries e ON e.id = c.entry_id \
             LEFT JOIN bank_entry_videos v ON v.entry_id = e.id \
             WHERE c.seq > $1 ORDER BY c.seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut changes = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq: i64 = row.try_get("change_seq")?;
            let kind: String = row.try_get("kind")?;
            let kind = match kind.as_str() {
                "bank_created" => BankChangeKind::BankCreated,
                "bank_updated" => BankChangeKind::BankUpdated,
                "entry_added" => BankChangeKind::EntryAdded(indexed_from_row(row)?),
                "entry_removed" => BankChangeKind::EntryRemoved(indexed_from_row(row)?),
                "import_committed" => BankChangeKind::ImportCommitted {
                    import_id: row
                        .try_get::<Option<String>, _>("change_import")?
                        .ok_or_else(|| StoreError::Corrupt(format!("bank change {seq} names no import")))?,
                    bank_id: row.try_get("change_bank")?,
                },
                other => return Err(StoreError::Corrupt(format!("bank change kind {other}"))),
            };
            changes.push(BankChange { seq, kind });
        }
        Ok(changes)
    }

    /// A listener for bank changes made by other processes: PostgreSQL only (`None` on SQLite,
    /// where every writer is in this process or a CLI run, caught by the periodic catch-up).
    pub async fn bank_listener(&self) -> Result<Option<BankListener>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
        listener.listen(BANK_CHANNEL).await?;
        Ok(Some(BankListener(listener)))
    }
}

/// Receives the notifications bank mutations send on PostgreSQL.
#[derive(Debug)]
pub struct BankListener(sqlx::postgres::PgListener);

impl BankListener {
    /// Waits for the next notification. `Ok(true)`: banks changed; `Ok(false)`: the connection was
    /// lost and re-established, so notifications may have been missed (catch up anyway); `Err`: the
    /// database is unreachable (retry later).
    pub async fn recv(&mut self) -> Result<bool> {
        Ok(self.0.try_recv().await?.is_some())
    }
}
