//! Bank imports in bounded chunks: a large import never holds the write lock for long, so intake
//! keeps answering while it runs, and the import is still all or nothing for every reader.
//!
//! Issue 15 ("intake never goes down during a bank import"), design.md §9; docs/banks.md. The
//! entries are written in hash order, in chunks sized to hold the write lock about
//! [`IMPORT_CHUNK_TIME`] each, each chunk its own write transaction on a connection of its own
//! (`Store::import_writer`), tagged with the import's id (`bank_entries.import_id`) and invisible
//! while the import is `staging` (every reader of live entries uses `banks::live`). One last short transaction marks the import
//! `committed` and logs a single `import_committed` change (with the PostgreSQL notification and
//! the audit entry), which makes every entry visible at once; screening nodes expand that change
//! into the import's entries with [`Store::import_entries`]. An import that fails is marked
//! `abandoned` and its rows deleted in chunks; one whose process died (no chunk for
//! [`STALE_AFTER`]) is abandoned and cleaned up by the next import.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};
use staydown_domain::bank::NewEntry;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::banks::{ImportReport, IndexedEntry, indexed_from_row, live};
use crate::{Backend, Result, Store, StoreError, begin_write, to_ms};

/// Entries in the first chunk, and the most entries one INSERT statement writes (12 parameters a
/// row: 6,000 per statement, under SQLite's 32,766 and PostgreSQL's 65,535).
pub const IMPORT_CHUNK: usize = 500;

/// How long one chunk should hold the write lock: later chunks are sized from how long the last
/// one took, so an intake write waits at most about this long behind an import, whatever the
/// machine's speed and load.
pub const IMPORT_CHUNK_TIME: Duration = Duration::from_millis(40);

/// Bounds on a chunk's size, whatever the timing says.
const MIN_CHUNK: usize = 100;
const MAX_CHUNK: usize = 50_000;

/// The pauses between chunks on SQLite; see [`sqlite_pause`].
const SQLITE_SHORT_PAUSE: Duration = Duration::from_millis(30);
const SQLITE_LONG_PAUSE: Duration = Duration::from_millis(110);
/// Every this many chunks the pause is the long one.
const SQLITE_LONG_PAUSE_EVERY: u32 = 4;

/// An import that has written no chunk for this long is taken to be dead.
pub const STALE_AFTER: Duration = Duration::from_secs(15 * 60);

/// Rows deleted per transaction when an abandoned import is cleaned up.
const DELETE_CHUNK: i64 = 5000;

impl Store {
    /// Imports entries into a bank, all or nothing for every reader, without ever holding the write
    /// lock for more than one chunk of about [`IMPORT_CHUNK_TIME`] (see the module docs). Entries whose
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
        let sql = format!("SELECT pdq, sha256, md5 FROM bank_entries WHERE bank_id = $1 AND {}", live(""));
        let mut held_rows = Vec::new();
        for row in sqlx::query(AssertSqlSafe(sql)).bind(&bank_id).fetch_all(&self.pool).await? {
            held_rows.push(EntryKey(row.try_get("pdq")?, row.try_get("sha256")?, row.try_get("md5")?));
        }
        // Of entries repeating a hash set within the file, the first one is kept.
        let mut seen: HashSet<(Option<&str>, Option<&str>, Option<&str>)> =
            held_rows.iter().map(EntryKey::as_refs).collect();
        let mut fresh: Vec<&NewEntry> = entries.iter().filter(|e| seen.insert(key(e))).collect();
        let duplicates = entries.len() - fresh.len();
        drop(seen);
        // Written in hash order, each B-tree of `bank_entries` grows at one place per chunk instead
        // of at a random page per entry, so a chunk dirties (and writes to the log) a few pages per
        // index instead of one per entry: on SQLite, 300,000 random PDQ hashes took 722 chunks of
        // 40 ms in file order and 140 in hash order. `seq` (the entries' order in exports and in
        // the index) follows the hash order. The hash sets are distinct by now: no tie to break.
        fresh.sort_unstable_by(|a, b| key(a).cmp(&key(b)));

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
        let written = match self.import_writer().await {
            Ok(writer) => {
                let written = self
                    .write_import_chunks(&writer, &import_id, &bank_id, &fresh, actor, now, duplicates, progress)
                    .await;
                writer.close().await;
                written
            }
            Err(e) => Err(e),
        };
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
        writer: &AnyPool,
        import_id: &str,
        bank_id: &str,
        fresh: &[&NewEntry],
        actor: &str,
        now: OffsetDateTime,
        duplicates: usize,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<()> {
        let added_at = to_ms(now);
        let full_statement = insert_sql(self.backend, IMPORT_CHUNK);
        let mut chunk_rows = IMPORT_CHUNK;
        let mut done = 0;
        let mut chunks = 0_u32;
        while done < fresh.len() {
            let chunk = &fresh[done..fresh.len().min(done + chunk_rows)];
            let mut tx = begin_write(writer, self.backend, &self.sqlite_writer).await?;
            let started = Instant::now();
            let state: Option<String> = sqlx::query_scalar("SELECT state FROM bank_imports WHERE id = $1")
                .bind(import_id)
                .fetch_optional(&mut *tx.tx)
                .await?;
            if state.as_deref() != Some("staging") {
                return Err(StoreError::Conflict("the import was abandoned while it ran".into()));
            }
            let mut seq = tx.next_bank_seq().await?;
            for rows in chunk.chunks(IMPORT_CHUNK) {
                let partial;
                let sql = if rows.len() == IMPORT_CHUNK {
                    full_statement.as_str()
                } else {
                    partial = insert_sql(self.backend, rows.len());
                    partial.as_str()
                };
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for entry in rows {
                    q = q
                        .bind(uuid::Uuid::now_v7().to_string())
                        .bind(bank_id)
                        .bind(seq)
                        .bind(entry.pdq.as_deref())
                        .bind(entry.quality.map(i64::from))
                        .bind(entry.sha256.as_deref())
                        .bind(entry.md5.as_deref())
                        .bind(entry.note.as_deref())
                        .bind(entry.reason.as_deref())
                        .bind(actor)
                        .bind(added_at)
                        .bind(import_id);
                    seq += 1;
                }
                q.execute(&mut *tx.tx).await?;
            }
            sqlx::query("UPDATE bank_imports SET touched_at = $1 WHERE id = $2")
                .bind(to_ms(OffsetDateTime::now_utc()))
                .bind(import_id)
                .execute(&mut *tx.tx)
                .await?;
            tx.commit().await?;
            let held = started.elapsed();
            tracing::debug!(import = %import_id, rows = chunk.len(), held_ms = held.as_millis() as u64, "import chunk written");
            done += chunk.len();
            progress(duplicates + done);
            chunk_rows = next_chunk_rows(chunk.len(), held);
            if self.backend == Backend::Sqlite && done < fresh.len() {
                chunks += 1;
                tokio::time::sleep(sqlite_pause(held, chunks)).await;
            }
        }
        Ok(())
    }

    /// The one connection an import writes its chunks on. Its commits do not wait for the disk
    /// (SQLite `synchronous = NORMAL` in WAL mode, PostgreSQL `synchronous_commit = off`): staged
    /// rows need no durability of their own, because the publishing transaction ([`commit_import`],
    /// on the store's ordinary connections) is durable and both logs are sequential, so its flush
    /// also makes every earlier chunk durable before any of it becomes visible. A crash before that
    /// loses at most some staged rows of an import nobody can see yet; the next import removes
    /// the rest. Without this, each chunk's fsync is most of the time it holds the write lock.
    ///
    /// [`commit_import`]: Store::commit_import
    async fn import_writer(&self) -> Result<AnyPool> {
        let backend = self.backend;
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    let pragmas: &[&str] = match backend {
                        Backend::Sqlite => &[
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 30000",
                        ],
                        Backend::Postgres => &["SET synchronous_commit = off"],
                    };
                    for pragma in pragmas {
                        conn.execute(*pragma).await?;
                    }
                    Ok(())
                })
            })
            .connect(&self.url)
            .await?;
        Ok(pool)
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

/// A hash set read back from the database.
struct EntryKey(Option<String>, Option<String>, Option<String>);

impl EntryKey {
    fn as_refs(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        (self.0.as_deref(), self.1.as_deref(), self.2.as_deref())
    }
}

/// The hash set (pdq, sha256, md5) that makes an entry a duplicate.
fn key(e: &NewEntry) -> (Option<&str>, Option<&str>, Option<&str>) {
    (e.pdq.as_deref(), e.sha256.as_deref(), e.md5.as_deref())
}

/// The pause after a chunk on SQLite. SQLite hands its write lock to whoever asks first, and a
/// writer waiting in another process (the server's intake, under `busy_timeout`) only polls: after
/// 1, 3, 8, 18, 33, 53, 78 and 103 ms of waiting (gaps of at most 25 ms), then less and less often,
/// every 100 ms once it has waited about a third of a second. Without pauses this loop would take
/// the lock back at once, chunk after chunk, and starve intake. A writer that began to wait during
/// the chunk just written polls within 25 ms of its end if the chunk took under ~75 ms, so a short
/// pause lets it in; a longer chunk, and every few chunks in any case, gets a pause longer than the
/// slowest polling interval, which lets in any writer however long it has waited (one that missed
/// a short pause on a busy machine). PostgreSQL queues lock waiters in order and needs no pause.
fn sqlite_pause(held: Duration, chunks: u32) -> Duration {
    if held > Duration::from_millis(75) || chunks.is_multiple_of(SQLITE_LONG_PAUSE_EVERY) {
        SQLITE_LONG_PAUSE
    } else {
        SQLITE_SHORT_PAUSE
    }
}

/// The size of the next chunk: the last one's rate times [`IMPORT_CHUNK_TIME`], at most double
/// the last one (one fast chunk on a busy machine must not make the next one long), within bounds.
fn next_chunk_rows(last_rows: usize, held: Duration) -> usize {
    let rate = last_rows as f64 / held.as_secs_f64().max(1e-4);
    ((rate * IMPORT_CHUNK_TIME.as_secs_f64()) as usize).min(last_rows * 2).clamp(MIN_CHUNK, MAX_CHUNK)
}

/// One multi-row INSERT of `rows` staged entries. SQLite gets anonymous `?` placeholders: with
/// numbered ones (`$n`) SQLite and sqlx look every parameter up by name in a list, which costs
/// time quadratic in the parameters of a statement (it made a 2,000-row chunk take seconds).
fn insert_sql(backend: Backend, rows: usize) -> String {
    const COLUMNS: usize = 12;
    let mut sql = String::from(
        "INSERT INTO bank_entries (id, bank_id, seq, pdq, pdq_quality, sha256, md5, note, reason, added_by, \
         added_at, import_id) VALUES ",
    );
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..COLUMNS {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * COLUMNS + column + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_statements_use_anonymous_placeholders_and_postgres_numbered_ones() {
        let sqlite = insert_sql(Backend::Sqlite, 3);
        assert_eq!(sqlite.matches('?').count(), 36);
        assert!(!sqlite.contains('$'));
        let postgres = insert_sql(Backend::Postgres, 3);
        assert!(postgres.contains("$36)") && !postgres.contains("$37") && !postgres.contains('?'));
    }

    #[test]
    fn chunks_follow_the_time_they_held_the_lock_within_bounds() {
        // 1,000 rows in 80 ms: half as many fit in 40 ms.
        assert_eq!(next_chunk_rows(1000, Duration::from_millis(80)), 500);
        // Fast chunks grow, but at most double.
        assert_eq!(next_chunk_rows(1000, Duration::from_millis(1)), 2000);
        // A stall never makes a chunk smaller than the minimum, nor speed larger than the maximum.
        assert_eq!(next_chunk_rows(100, Duration::from_secs(10)), MIN_CHUNK);
        assert_eq!(next_chunk_rows(MAX_CHUNK, Duration::ZERO), MAX_CHUNK);
    }

    #[test]
    fn a_long_chunk_and_every_fourth_chunk_get_the_long_pause() {
        assert_eq!(sqlite_pause(Duration::from_millis(40), 1), SQLITE_SHORT_PAUSE);
        assert_eq!(sqlite_pause(Duration::from_millis(40), 4), SQLITE_LONG_PAUSE);
        assert_eq!(sqlite_pause(Duration::from_millis(90), 5), SQLITE_LONG_PAUSE);
        // The long pause outlasts SQLite's slowest busy-handler polling interval (100 ms).
        assert!(SQLITE_LONG_PAUSE > Duration::from_millis(100));
    }
}
