//! Persistence for staydown on SQLite (embedded default) and PostgreSQL (production).
//!
//! One code path for both: sqlx's `Any` driver with `$n` placeholders, portable types (TEXT ids,
//! BIGINT millisecond timestamps, integer flags) and two migration folders with the same numbers
//! and names. The few dialect differences (row locks) are chosen by `Backend` inside this crate;
//! `sqlx` never appears outside it. Writes that touch the audit chain are serialised — by a mutex
//! on SQLite (one writer at a time is SQLite's model anyway) and by locking the chain head row on
//! PostgreSQL — so the chain has no forks and case grouping has no races.
//!
//! Durability: SQLite runs in WAL mode with `synchronous=FULL`, so a transaction is on disk when
//! `commit` returns; the server answers 2xx only after that.

mod accounts;
mod appeals;
mod audit;
mod bank_admin;
mod bank_import;
mod banks;
mod bench_data;
mod blobs;
mod case_content;
mod console;
mod dashboard;
mod decisions;
mod helpline;
mod idempotency;
mod intake;
mod intake_batch;
mod keys;
mod notices;
mod outbox;
mod pg_batch;
mod report;
mod review;
mod rollups;
mod rollups_distinct;
mod screening;
mod sessions;
mod stats;
mod tdb;
mod videos;
mod withdraw;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use time::OffsetDateTime;

pub use accounts::AccountRecord;
pub use appeals::{AppealRecord, AppealResolution, NewAppeal};
pub use audit::{AuditEvent, AuditReport};
pub use bank_admin::BankMatchRecord;
pub use bank_import::{IMPORT_CHUNK, STALE_AFTER};
pub use banks::{Bank, BankChange, BankChangeKind, BankEntry, BankListener, ImportReport, IndexedEntry};
pub use blobs::{BlobMeta, NewBlob};
pub use case_content::{ContentHashes, NewAttachment};
pub use console::NotifierContact;
pub use dashboard::DashboardFigures;
pub use decisions::{CaseContext, DecisionRecord, MisuseMeasure, NewDecision};
pub use helpline::{HelpCaseRecord, PlatformRecord, RequestAnswer, RequestRecord, UrlCheckRecord, YearFigures};
pub use idempotency::{IDEMPOTENCY_RETENTION, IdempotencyState};
pub use intake::IntakeStats;
pub use keys::{ApiKeyRecord, Role};
pub use notices::{CaseNotice, NoticeReceipt, NoticeStatus, QueueItem, StoredNotice};
pub use outbox::{OutboxItem, OutboxMessage, OutboxStats};
pub use report::{Column, Figure, NoticeRow, Period, Table, TableRow, TransparencyReport};
pub use review::{Art18Notification, OpenAppeal, QueueFilter, ReviewItem, Taken};
pub use screening::{ContentItem, NewScreening, ScreeningCase, ScreeningReceipt};
pub use sessions::{ApiKeyListing, NewStaffSession, PasswordChange, SessionEnd, StaffSessionRecord};
pub use stats::{BankMatches, QueueGauges, Stats};
pub use tdb::{ExportCursor, QueuedStatement, SubmissionState, SubmittedStatement};
pub use videos::{BankVideo, CaseVideo, NewVideoEntry};
pub use withdraw::Withdrawal;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Errors of the store. `sqlx::Error` is mapped here and never leaks further.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is not `sqlite://…` or `postgres://…`.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// A command that only reads was pointed at a database that does not exist (or holds no
    /// staydown schema); nothing was created.
    #[error("no staydown database at {0}: check --database (read-only commands never create one)")]
    NoDatabase(String),
    /// The requested row does not exist.
    #[error("not found")]
    NotFound,
    /// A notice from a notifier whose notices are suspended (DSA Art. 23) was not filed.
    #[error("the notifier's notices are suspended until {until}")]
    Suspended {
        /// End of the suspension.
        until: OffsetDateTime,
        /// The recorded reasons.
        reason: String,
    },
    /// A uniqueness or state rule was violated.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database is newer than this binary.
    #[error(
        "the database schema (migration {found}) is newer than this binary knows (up to {known}); upgrade staydown"
    )]
    SchemaTooNew {
        /// Highest migration applied in the database.
        found: i64,
        /// Highest migration this binary carries.
        known: i64,
    },
    /// Stored data could not be read back (a bug or manual tampering).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database could not be reached or failed.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[source] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_owned()),
            _ => StoreError::Unavailable(e),
        }
    }
}

/// Result alias.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store: a connection pool plus the write discipline described in the module docs.
#[derive(Debug)]
pub struct Store {
    pool: AnyPool,
    url: String,
    backend: Backend,
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    intake: tokio::sync::mpsc::Sender<intake::IntakeJob>,
    intake_counters: Arc<intake::Counters>,
}

/// Milliseconds since the Unix epoch, the storage form of every timestamp.
pub fn to_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Inverse of [`to_ms`].
pub fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl Store {
    /// Connects to `url`, creating the SQLite file (and its folder) if missing, and applies
    /// migrations. Refuses a database whose schema is newer than this binary.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 30000",
                        ] {
                            conn.execute(pragma).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let sqlite_writer = Arc::new(tokio::sync::Mutex::new(()));
        let intake_counters = Arc::new(intake::Counters::default());
        let intake = intake::spawn_writer(pool.clone(), backend, sqlite_writer.clone(), intake_counters.clone());
        let store = Store { pool, url, backend, sqlite_writer, intake, intake_counters };
        store.migrate().await?;
        Ok(store)
    }

    /// Connects like [`Store::connect`], but only to a database that already exists and holds the
    /// staydown schema: for commands that read (`audit verify`, `report`, `sor …`, `bank list`,
    /// `bank export`), which must not report "intact" or zeros from an empty database they made.
    ///
    /// # Errors
    /// [`StoreError::NoDatabase`] for a missing SQLite file or a database without staydown's
    /// migrations table; otherwise as [`Store::connect`].
    pub async fn connect_existing(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        if url.starts_with("sqlite:") {
            let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
            let path = rest.split('?').next().unwrap_or(rest);
            if path.is_empty() || !std::path::Path::new(path).is_file() {
                return Err(StoreError::NoDatabase(url.to_owned()));
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = AnyConnectOptions::from_str(url)?;
            let pool = AnyPoolOptions::new().max_connections(1).connect_with(options).await?;
            let has_schema: Option<i64> = sqlx::query_scalar(
                "SELECT 1::BIGINT FROM information_schema.tables WHERE table_name = '_sqlx_migrations'",
            )
            .fetch_optional(&pool)
            .await?;
            pool.close().await;
            if has_schema.is_none() {
                return Err(StoreError::NoDatabase(url.to_owned()));
            }
        }
        Self::connect(url).await
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_optional(&self.pool)
            .await
            .ok()
            .flatten();
        if let Some(found) = applied
            && found > known
        {
            return Err(StoreError::SchemaTooNew { found, known });
        }
        migrator.run(&self.pool).await.map_err(StoreError::Migration)
    }

    /// What the intake writer (group commit) did since this store was opened.
    pub fn intake_stats(&self) -> IntakeStats {
        self.intake_counters.snapshot()
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction under the store's write discipline.
    async fn write(&self) -> Result<WriteTx> {
        begin_write(&self.pool, self.backend, &self.sqlite_writer).await
    }
}

/// Starts a write transaction: on SQLite after taking the writer lock, on PostgreSQL by locking
/// the audit chain head, so audit entries form one chain and case grouping sees every prior write.
async fn begin_write(pool: &AnyPool, backend: Backend, sqlite_writer: &Arc<tokio::sync::Mutex<()>>) -> Result<WriteTx> {
    let mut tx = begin_write_unlocked(pool, backend, sqlite_writer).await?;
    tx.lock_head().await?;
    Ok(tx)
}

/// Starts a write transaction without locking the audit chain head on PostgreSQL (on SQLite the
/// same as [`begin_write`]): for the intake batch path, which writes rows that no other
/// transaction can see or conflict with before it locks the head (`WriteTx::lock_head`, before
/// any audit entry, rollup upsert or case-grouping check).
async fn begin_write_unlocked(
    pool: &AnyPool,
    backend: Backend,
    sqlite_writer: &Arc<tokio::sync::Mutex<()>>,
) -> Result<WriteTx> {
    let guard = match backend {
        Backend::Sqlite => Some(sqlite_writer.clone().lock_owned().await),
        Backend::Postgres => None,
    };
    // On SQLite, BEGIN IMMEDIATE takes the database's write lock up front, waiting under
    // `busy_timeout` while another process (a `staydown bank import` chunk) holds it; a deferred
    // BEGIN would read first and then fail at once with "database is locked" when it tries to write.
    let tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    };
    Ok(WriteTx {
        tx,
        backend,
        _guard: guard,
        head: None,
        pending_audit: Vec::new(),
        received: std::collections::BTreeMap::new(),
    })
}

/// A write transaction. The audit chain head is read once (locked on PostgreSQL at the start) and
/// written once at commit, however many entries the transaction appends (a group-committed batch
/// of notices appends two per notice); intake's rollup increments are likewise added up and written
/// once per key at commit.
struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    head: Option<audit::Head>,
    pending_audit: Vec<staydown_domain::audit::AuditEntry>,
    received: std::collections::BTreeMap<(&'static str, i64, String, &'static str), i64>,
}

impl WriteTx {
    /// On PostgreSQL, locks the audit chain head row until commit and reads it (a no-op when it is
    /// held already, and on SQLite, whose writer lock serialises writes).
    async fn lock_head(&mut self) -> Result<()> {
        if self.backend == Backend::Postgres && self.head.is_none() {
            let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
                .fetch_one(&mut *self.tx)
                .await?;
            self.head = Some(audit::Head {
                seq: sqlx::Row::try_get(&row, "seq")?,
                hash: sqlx::Row::try_get(&row, "hash")?,
                dirty: false,
            });
        }
        Ok(())
    }

    /// Discards everything the transaction wrote.
    async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    async fn commit(mut self) -> Result<()> {
        if self.backend == Backend::Postgres {
            // The audit entries, the head and the rollup increments in one round trip.
            self.pg_write(Vec::new(), None).await?;
        } else {
            self.flush_audit_head().await?;
            self.flush_rollup_increments().await?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}

/// Turns `sqlite://PATH` into a URL that creates the file, creating the folder too.
fn sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::UnsupportedUrl(format!(
            "{url} (an in-memory database would lose every notice on restart)"
        )));
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| StoreError::Unavailable(sqlx::Error::Io(e)))?;
    }
    let mode = if query.contains("mode=") { String::new() } else { "mode=rwc".to_owned() };
    let query = [query, &mode].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join("&");
    Ok(format!("sqlite://{path}?{query}"))
}

/// Placeholders `$start, $start+1, …` for `n` values.
fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Compares secrets' digests without an early exit.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
