//! Group commit for notice intake.
//!
//! A single writer task takes notices from a channel and commits everything that is waiting in one
//! transaction, so many concurrent notices share one fsync instead of queueing for one each. Every
//! caller is answered only after the transaction holding its notice committed: durability before
//! 2xx is unchanged (DSA Art. 16 intake must not lose an acknowledged notice). Notices in one batch
//! see each other, so two notices on the same content in one batch still join one case. If a batch
//! fails, its notices are retried one by one, so one bad notice cannot fail its neighbours.
//!
//! On PostgreSQL two batches are in flight at a time: while batch N commits (its WAL flush), batch
//! N+1 has already begun and waits on the audit chain head row that N holds, and gets it the
//! moment N's commit is durable — no round trip of the writer in between. The head lock still
//! serialises the batches (case grouping and the chain see every earlier batch), and each caller is
//! still answered only after its own batch committed. SQLite has one writer at a time anyway.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sqlx::AnyPool;
use staydown_domain::notice::NewNotice;
use tokio::sync::{mpsc, oneshot};

use crate::notices::{NoticeReceipt, StoredNotice};
use crate::{Backend, Result, StoreError, begin_write, begin_write_unlocked};

/// Most notices committed in one transaction.
const MAX_BATCH: usize = 256;
/// Notices waiting for the writer before callers are slowed down (back-pressure).
const QUEUE: usize = 4096;
/// Batches in flight at a time on PostgreSQL (see the module docs).
const PG_IN_FLIGHT: usize = 2;

/// What the intake writer did since the store was opened (for `staydown bench intake`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntakeStats {
    /// Transactions committed by the writer (batches, and notices retried one by one).
    pub batches: u64,
    /// Notices committed.
    pub notices: u64,
    /// Batches written by the multi-row fast path (`intake_batch.rs`).
    pub fast_batches: u64,
    /// Time from beginning the transaction to its commit returning, summed over batches, in µs.
    pub busy_micros: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    batches: AtomicU64,
    notices: AtomicU64,
    fast_batches: AtomicU64,
    busy_micros: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> IntakeStats {
        IntakeStats {
            batches: self.batches.load(Ordering::Relaxed),
            notices: self.notices.load(Ordering::Relaxed),
            fast_batches: self.fast_batches.load(Ordering::Relaxed),
            busy_micros: self.busy_micros.load(Ordering::Relaxed),
        }
    }
}

pub(crate) struct IntakeJob {
    notice: NewNotice,
    meta: StoredNotice,
    reply: oneshot::Sender<Result<NoticeReceipt>>,
}

impl std::fmt::Debug for IntakeJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeJob").field("id", &self.meta.id).finish_non_exhaustive()
    }
}

fn writer_gone() -> StoreError {
    StoreError::Unavailable(sqlx::Error::PoolClosed)
}

/// Hands a notice to the writer and waits until it is committed (or failed).
pub(crate) async fn submit(
    intake: &mpsc::Sender<IntakeJob>,
    notice: NewNotice,
    meta: StoredNotice,
) -> Result<NoticeReceipt> {
    let (reply, answer) = oneshot::channel();
    intake.send(IntakeJob { notice, meta, reply }).await.map_err(|_| writer_gone())?;
    answer.await.map_err(|_| writer_gone())?
}

/// Starts the writer task; it ends when the store (the last sender) is dropped.
pub(crate) fn spawn_writer(
    pool: AnyPool,
    backend: Backend,
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    counters: Arc<Counters>,
) -> mpsc::Sender<IntakeJob> {
    let (tx, mut rx) = mpsc::channel::<IntakeJob>(QUEUE);
    let in_flight = Arc::new(tokio::sync::Semaphore::new(match backend {
        Backend::Postgres => PG_IN_FLIGHT,
        Backend::Sqlite => 1,
    }));
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            // Wait for a slot before gathering, so that a batch takes everything that arrived
            // while the batches before it were committing.
            let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            let (pool, sqlite_writer, counters) = (pool.clone(), sqlite_writer.clone(), counters.clone());
            tokio::spawn(async move {
                write_batch(
                    &Writer { pool: &pool, backend, sqlite_writer: &sqlite_writer, counters: &counters },
                    batch,
                )
                .await;
                drop(permit);
            });
        }
    });
    tx
}

/// Commits `batch` and answers its callers; on failure retries its notices one by one.
async fn write_batch(w: &Writer<'_>, batch: Vec<IntakeJob>) {
    if batch.len() > 1 {
        match commit(w, &batch).await {
            Ok(receipts) => {
                for (job, receipt) in batch.into_iter().zip(receipts) {
                    job.reply.send(Ok(receipt)).ok();
                }
                return;
            }
            Err(StoreError::Suspended { .. }) => {}
            Err(e) => {
                tracing::warn!(error = %e, size = batch.len(), "intake batch failed; retrying one by one")
            }
        }
    }
    for job in batch {
        let result = commit(w, std::slice::from_ref(&job))
            .await
            .and_then(|mut receipts| receipts.pop().ok_or_else(|| StoreError::Corrupt("empty batch".into())));
        job.reply.send(result).ok();
    }
}

/// What a batch is written with.
struct Writer<'a> {
    pool: &'a AnyPool,
    backend: Backend,
    sqlite_writer: &'a Arc<tokio::sync::Mutex<()>>,
    counters: &'a Counters,
}

async fn commit(w: &Writer<'_>, batch: &[IntakeJob]) -> Result<Vec<NoticeReceipt>> {
    let started = Instant::now();
    // The batch path locks the chain head itself, after writing the rows (`intake_batch.rs`).
    let mut tx = begin_write_unlocked(w.pool, w.backend, w.sqlite_writer).await?;
    let jobs: Vec<_> = batch.iter().map(|j| (&j.notice, &j.meta)).collect();
    let (tx, receipts, fast) = match tx.insert_new_case_batch(&jobs).await? {
        Some(receipts) => (tx, receipts, true),
        None => {
            // A notice joins a case: what the batch path wrote goes, and the batch is written
            // notice by notice, holding the head from the start.
            tx.rollback().await?;
            let mut tx = begin_write(w.pool, w.backend, w.sqlite_writer).await?;
            let mut receipts = Vec::with_capacity(batch.len());
            for job in batch {
                // A suspended notifier's notice fails the batch, which is then retried notice by
                // notice (`write_batch`), so only that notice is refused.
                tx.refuse_suspended(job.meta.notifier_ref.as_deref(), job.meta.received_at).await?;
                receipts.push(tx.insert_notice(&job.notice, &job.meta).await?);
            }
            (tx, receipts, false)
        }
    };
    tx.commit().await?;
    let c = w.counters;
    c.batches.fetch_add(1, Ordering::Relaxed);
    c.notices.fetch_add(batch.len() as u64, Ordering::Relaxed);
    c.fast_batches.fetch_add(u64::from(fast), Ordering::Relaxed);
    c.busy_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    Ok(receipts)
}
