//! Bank imports in bounded chunks: a large import never holds the write lock for long, so intake
//! keeps answering while it runs, and the import is still all or nothing for every reader.
//!
//! Issue 15 ("intake never goes down during a bank import"), design.md §9. The entries are written
//! [`IMPORT_CHUNK`] at a time, each chunk its own short write transaction, tagged with the
//! import's id (`bank_entries.import_id`) and invisible while the import is `staging` (every
//! reader of live entries uses `banks::live`). One last short transaction marks the import
//! `committed` and logs a single `import_committed` change (with the PostgreSQL notification and
//! the audit entry), which makes every entry visible at once; screening nodes expand that change
//! into the import's entries with [`Store::import_entries`]. An import that fails is marked
//! `abandoned` and its rows deleted in chunks; one whose process died (no chunk for
//! [`STALE_AFTER`]) is abandoned and cleaned up by the next import.

use std::collections::HashSet;
use std::time::Duration;

use sqlx::{AssertSqlSafe, Row};
use staydown_domain::bank::NewEntry;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::banks::{ImportReport, IndexedEntry, indexed_from_row, live};
use crate::{Result, Store, StoreError, to_ms};

/// Entries written per transaction: one statement of 7 parameters a row plus 4 shared, under
/// every driver's limit. On SQLite in a debug build one chunk holds the write lock for about
/// 100 ms on an idle machine.
pub const IMPORT_CHUNK: usize = 2000;

/// The pause between chunks on SQLite (see `write_import_chunks`).
const SQLITE_PAUSE: Duration = Duration::from_millis(150);

/// An import that has written no chunk for this long is taken to be dead.
pub const STALE_AFTER: Duration = Duration::from_secs(15 * 60);

/// Rows deleted per transaction when an abandoned import is cleaned up.
const DELETE_CHUNK: i64 = 5000;

impl Store {
    /// Imports entries into a bank, all or nothing for every reader, without ever holding the write
    /// lock for more than one chunk of [`IMPORT_CHUNK`] entries (see the module docs). Entries whose
    /// exact hash set (pdq, sha256, md5) the bank already holds, or that repeat within the import,
    /// are skipped and counted. `progress` is called with the number of entries handled so far.
    ///
    /// # Errors
    /// `NotFound` for an unknown bank; database errors. On an error nothing becomes visible and
    /// the rows written so far are deleted (or, if even that fails, by the next import).
    pub async fn import_bank_entries(
        &self,
        bank: &str,
        entries: &[NewEntry],
        actor: &str,
        source: &str,
        now: OffsetDateTime,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<ImportReport> {
        self.clean_up_abandoned_imports(now).await?;
        let (bank_id, bank_name) = {
            let row = sqlx::query("SELECT id, name FROM banks WHERE name = $1")
                .bind(bank)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
            (row.try_get::<String, _>("id")?, row.try_get::<String, _>("name")?)
        };
        let mut held: HashSet<(Option<String>, Option<String>, Option<String>)> = HashSet::new();
        let sql = format!("SELECT pdq, sha256, md5 FROM bank_entries WHERE bank_id = $1 AND {}", live(""));
        for row in sqlx::query(AssertSqlSafe(sql)).bind(&bank_id).fetch_all(&self.pool).await? {
            held.insert((row.try_get("pdq")?, row.try_get("sha256")?, row.try_get("md5")?));
        }
        let mut fresh = Vec::with_capacity(entries.len());
        let mut duplicates = 0;
        for entry in entries {
            if held.insert((entry.pdq.clone(), entry.sha256.clone(), entry.md5.clone())) {
                fresh.push(entry);
            } else {
                duplicates += 1;
            }
        }
        drop(held);

        let import_id = uuid::Uuid::now_v7().to_string();
        {
            let mut tx = self.write().await?;
            sqlx::query(
                "INSERT INTO bank_imports (id, bank_id, state, source, started_at, touched_at) \
                 VALUES ($1, $2, 'staging', $3, $4, $4)",
            )
            .bind(&import_id)
            .bind(&bank_id)
            .bind(source)
            .bind(to_ms(now))
            .execute(&mut *tx.tx)
            .await?;
            tx.commit().await?;
        }
        let written = self.write_import_chunks(&import_id, &bank_id, &fresh, actor, now, duplicates, progress).await;
        let committed = match written {
            Ok(()) => {
                self.commit_import(&import_id, &bank_id, &bank_name, fresh.len(), duplicates, actor, source).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = committed {
            if let Err(cleanup) = self.abandon_import(&import_id).await {
                tracing::warn!(import = %import_id, error = %cleanup, "could not remove a failed import; the next import will");
            }
            return Err(e);
        }
        progress(entries.len());
        Ok(ImportReport { added: fresh.len(), duplicates })
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_import_chunks(
        &self,
        import_id: &str,
        bank_id: &str,
        fresh: &[&NewEntry],
        actor: &str,
        now: OffsetDateTime,
        duplicates: usize,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<()> {
        let added_at = to_ms(now);
        for (n, chunk) in fresh.chunks(IMPORT_CHUNK).enumerate() {
            let mut tx = self.write().await?;
            let state: Option<String> = sqlx::query_scalar("SELECT state FROM bank_imports WHERE id = $1")
                .bind(import_id)
                .fetch_optional(&mut *tx.tx)
                .await?;
            if state.as_deref() != Some("staging") {
                return Err(StoreError::Conflict("the import was abandoned while it ran".into()));
            }
            let first = tx.next_bank_seq().await?;
            // $1–$4 are the same for every row (bank, actor, time, import); each row binds its
            // own id and hashes; `seq` is a number we computed, written as a literal.
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = 4 + i * 7;
                    format!(
                        "(${}, $1, {}, ${}, ${}, ${}, ${}, ${}, ${}, $2, $3, $4)",
                        b + 1,
                        first + i as i64,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO bank_entries (id, bank_id, seq, pdq, pdq_quality, sha256, md5, note, reason, added_by, \
                 added_at, import_id) VALUES {}",
                rows.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(bank_id).bind(actor).bind(added_at).bind(import_id);
            for entry in chunk {
                q = q
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(entry.pdq.as_deref())
                    .bind(entry.quality.map(i64::from))
                    .bind(entry.sha256.as_deref())
                    .bind(entry.md5.as_deref())
                    .bind(entry.note.as_deref())
                    .bind(entry.reason.as_deref());
            }
            q.execute(&mut *tx.tx).await?;
            sqlx::query("UPDATE bank_imports SET touched_at = $1 WHERE id = $2")
                .bind(to_ms(OffsetDateTime::now_utc()))
                .bind(import_id)
                .execute(&mut *tx.tx)
                .await?;
            tx.commit().await?;
            progress(duplicates + (n * IMPORT_CHUNK + chunk.len()));
            // SQLite hands its write lock to whoever asks first, and a writer waiting in another
            // process only polls (every 100 ms once it has waited a while, under busy_timeout):
            // without a pause this loop would take the lock back at once, chunk after chunk, and
            // starve the server's intake. A pause longer than that polling interval lets every
            // waiting writer in. PostgreSQL queues lock waiters in order, so it needs none.
            if self.backend == crate::Backend::Sqlite {
                tokio::time::sleep(SQLITE_PAUSE).await;
            }
        }
        Ok(())
    }

    /// The one short transaction that makes the whole import visible.
    #[allow(clippy::too_many_arguments)]
    async fn commit_import(
        &self,
        import_id: &str,
        bank_id: &str,
        bank_name: &str,
        added: usize,
        duplicates: usize,
        actor: &str,
        source: &str,
    ) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.write().await?;
        let flipped = sqlx::query(
            "UPDATE bank_imports SET state = 'committed', committed_at = $1, touched_at = $1 \
             WHERE id = $2 AND state = 'staging'",
        )
        .bind(to_ms(now))
        .bind(import_id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if flipped != 1 {
            return Err(StoreError::Conflict("the import was abandoned while it ran".into()));
        }
        if added > 0 {
            let seq = tx.next_bank_seq().await?;
            sqlx::query(
                "INSERT INTO bank_changes (seq, at_ms, kind, bank_id, entry_id, import_id) \
                 VALUES ($1, $2, 'import_committed', $3, NULL, $4)",
            )
            .bind(seq)
            .bind(to_ms(now))
            .bind(bank_id)
            .bind(import_id)
            .execute(&mut *tx.tx)
            .await?;
            tx.notify_bank_change(seq).await?;
        }
        tx.audit(
            now,
            AuditEvent {
                actor,
                action: "bank.imported",
                subject: format!("bank:{bank_name}"),
                detail: serde_json::json!({
                    "source": source, "added": added, "duplicates": duplicates, "import": import_id
                }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Marks an import abandoned (it can then never become visible) and deletes its rows in chunks.
    async fn abandon_import(&self, import_id: &str) -> Result<()> {
        {
            let mut tx = self.write().await?;
            sqlx::query("UPDATE bank_imports SET state = 'abandoned' WHERE id = $1 AND state = 'staging'")
                .bind(import_id)
                .execute(&mut *tx.tx)
                .await?;
            tx.commit().await?;
        }
        loop {
            let mut tx = self.write().await?;
            let deleted = sqlx::query(
                "DELETE FROM bank_entries WHERE id IN (SELECT id FROM bank_entries WHERE import_id = $1 LIMIT $2) \
                 AND import_id = $1",
            )
            .bind(import_id)
            .bind(DELETE_CHUNK)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            if deleted == 0 {
                return Ok(());
            }
        }
    }

    /// Abandons imports that stopped writing more than [`STALE_AFTER`] ago (their process died)
    /// and deletes the rows of every abandoned import.
    async fn clean_up_abandoned_imports(&self, now: OffsetDateTime) -> Result<()> {
        let stale = to_ms(now) - STALE_AFTER.as_millis() as i64;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM bank_imports WHERE (state = 'staging' AND touched_at < $1) OR state = 'abandoned'",
        )
        .bind(stale)
        .fetch_all(&self.pool)
        .await?;
        for id in ids {
            self.abandon_import(&id).await?;
        }
        Ok(())
    }

    /// The entries of a committed import, in `seq` order after index key `after_key`, at most
    /// `limit`, without those removed since: what an `import_committed` change adds to the index.
    pub async fn import_entries(&self, import_id: &str, after_key: u64, limit: i64) -> Result<Vec<IndexedEntry>> {
        let sql = format!(
            "SELECT e.id, e.bank_id, e.seq, e.pdq, e.pdq_quality, e.sha256, e.md5, CAST(NULL AS TEXT) AS vpdq FROM bank_entries e \
             WHERE e.import_id = $1 AND e.seq > $2 AND {} ORDER BY e.seq LIMIT $3",
            live("e.")
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(import_id)
            .bind(i64::try_from(after_key).unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(indexed_from_row)
            .collect()
    }
}
