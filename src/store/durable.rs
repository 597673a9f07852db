//! The durability barrier: group commit for the watcher.
//!
//! SQLite runs in WAL mode with `synchronous = NORMAL`: a commit appends its pages to the
//! `-wal` file but does not fsync it, so after a power cut the last commits can be gone. Every
//! intake transaction stays a transaction of its own (all-or-nothing, exactly once); before
//! a batch of messages leaves the inbox the watcher calls [`Store::make_durable`], which
//! fsyncs the WAL file once. One fsync then covers every commit of the batch: it is what
//! `synchronous = FULL` would do after each commit, done once per batch.
//!
//! Why one fsync of the WAL is enough: a commit is durable once its frames in the WAL are on
//! disk. Frames that are no longer in the WAL were copied into the database file by a
//! checkpoint, and SQLite syncs the WAL before a checkpoint and the database file after a
//! completed one, before the WAL is reused (<https://sqlite.org/pragma.html#pragma_synchronous>).
//! fsync acts on the file, whichever connection wrote it.
//!
//! PostgreSQL with `synchronous_commit = on` (its default) flushes every commit before
//! `COMMIT` returns; there the barrier does nothing. When the server or role runs with
//! `synchronous_commit = off`, the barrier commits one small transaction with
//! `synchronous_commit = on`, which flushes the WAL up to it and so every earlier commit.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use anyhow::Context;
use sqlx::{AnyPool, Row};
use tokio::sync::{Mutex, MutexGuard};

use super::{Backend, Store};

/// Proof that everything committed before it was on disk when it was made. Only
/// [`Store::make_durable`] creates one; moving mail out of the inbox asks for it.
#[derive(Debug)]
pub struct Durable {
    /// How many barriers this store had completed, this one included.
    pub generation: u64,
}

/// How to make commits durable on this database.
#[derive(Debug)]
enum Method {
    /// fsync this file (the SQLite database; its `-wal` file when there is one).
    SqliteFile(PathBuf),
    /// An in-memory SQLite database: nothing survives anyway.
    Nothing,
    /// PostgreSQL; `true` when this session's commits are asynchronous.
    Postgres { asynchronous: bool },
}

/// The barrier's state, shared by the clones of a [`Store`].
#[derive(Debug)]
pub(super) struct Durability {
    method: Method,
    /// Held while a barrier runs (concurrent callers queue up) and by [`DurabilityPause`].
    gate: Mutex<()>,
    /// Barriers begun (their fsync started), counted under the gate.
    begun: AtomicU64,
    /// The `begun` number of the last barrier that succeeded.
    last_ok: AtomicU64,
    completed: AtomicU64,
    waiting: AtomicUsize,
}

/// While held, every [`Store::make_durable`] waits, and so nothing leaves the inbox. Tests use
/// it to watch the watcher wait for the barrier.
#[derive(Debug)]
pub struct DurabilityPause<'a> {
    _guard: MutexGuard<'a, ()>,
}

impl Durability {
    /// Finds out how this database is made durable.
    pub(super) async fn detect(pool: &AnyPool, backend: Backend) -> anyhow::Result<Durability> {
        let method = match backend {
            Backend::Sqlite => {
                let row = sqlx::query("PRAGMA database_list")
                    .fetch_one(pool)
                    .await
                    .context("Failed to find the SQLite database file")?;
                let file: String = row.try_get(2)?;
                if file.is_empty() {
                    Method::Nothing
                } else {
                    Method::SqliteFile(PathBuf::from(file))
                }
            }
            Backend::Postgres => {
                let row = sqlx::query("SHOW synchronous_commit")
                    .fetch_one(pool)
                    .await
                    .context("Failed to read synchronous_commit")?;
                let setting: String = row.try_get(0)?;
                if setting == "off" {
                    tracing::warn!(
                        "PostgreSQL runs with synchronous_commit = off: each batch is flushed before it leaves the inbox"
                    );
                }
                Method::Postgres {
                    asynchronous: setting == "off",
                }
            }
        };
        Ok(Durability {
            method,
            gate: Mutex::new(()),
            begun: AtomicU64::new(0),
            last_ok: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            waiting: AtomicUsize::new(0),
        })
    }
}

impl Store {
    /// Makes every transaction committed so far survive a power cut (one fsync on SQLite).
    ///
    /// Callers that queue behind a running barrier share the next one: when a barrier that
    /// began after a caller arrived has succeeded by the time that caller gets the gate, its
    /// fsync covered the caller's commits too, and the caller returns without one of its
    /// own. The watcher and the sender thus make their batches durable together.
    pub async fn make_durable(&self) -> anyhow::Result<Durable> {
        let d = Arc::clone(&self.durability);
        d.waiting.fetch_add(1, Ordering::SeqCst);
        // Read before waiting: only a barrier begun after this point covers our commits.
        let arrived = d.begun.load(Ordering::SeqCst);
        let gate = d.gate.lock().await;
        d.waiting.fetch_sub(1, Ordering::SeqCst);
        if d.last_ok.load(Ordering::SeqCst) > arrived {
            drop(gate);
            let generation = d.completed.load(Ordering::SeqCst);
            return Ok(Durable { generation });
        }
        let number = d.begun.fetch_add(1, Ordering::SeqCst) + 1;
        match &d.method {
            Method::SqliteFile(db) => sync_sqlite(db.clone()).await?,
            Method::Nothing
            | Method::Postgres {
                asynchronous: false,
            } => {}
            Method::Postgres { asynchronous: true } => flush_postgres(&self.pool).await?,
        }
        d.last_ok.store(number, Ordering::SeqCst);
        let generation = d.completed.fetch_add(1, Ordering::SeqCst) + 1;
        drop(gate);
        Ok(Durable { generation })
    }

    /// Holds every barrier until the returned guard is dropped.
    pub async fn pause_durability(&self) -> DurabilityPause<'_> {
        DurabilityPause {
            _guard: self.durability.gate.lock().await,
        }
    }

    /// How many callers wait for a barrier right now.
    pub fn durability_waiters(&self) -> usize {
        self.durability.waiting.load(Ordering::SeqCst)
    }

    /// How many barriers have completed.
    pub fn durable_generation(&self) -> u64 {
        self.durability.completed.load(Ordering::SeqCst)
    }
}

/// fsyncs the WAL file, or the database file when there is no WAL (nothing uncheckpointed).
async fn sync_sqlite(db: PathBuf) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || {
        let mut wal = db.clone().into_os_string();
        wal.push("-wal");
        let file = match std::fs::File::open(&wal) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::File::open(&db)
                .with_context(|| format!("Failed to open {}", db.display()))?,
            Err(e) => return Err(e).context("Failed to open the SQLite WAL file"),
        };
        file.sync_data().context("Failed to fsync the SQLite WAL")
    })
    .await
    .context("the fsync task failed")?
}

/// A transaction that gets a transaction id (so its commit writes a WAL record) and commits
/// synchronously: PostgreSQL flushes its WAL up to it, earlier asynchronous commits included.
async fn flush_postgres(pool: &AnyPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = on")
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT txid_current()")
        .execute(&mut *tx)
        .await?;
    tx.commit()
        .await
        .context("Failed to flush PostgreSQL's WAL")
}
