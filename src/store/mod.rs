//! The register on SQL: SQLite (embedded default) or PostgreSQL, through sqlx's `Any` driver
//! with SQL both accept (`$n` placeholders, BIGINT Unix seconds, INTEGER 0/1 booleans).
//!
//! One file per table family. Functions take a `&mut AnyConnection` so the caller decides
//! the transaction: intake writes the raw mail, the complaint, its timeline and its outbox
//! rows in one.

pub mod complaints;
pub mod cursors;
pub mod durable;
pub mod events;
pub mod fault;
pub mod flags;
pub mod measures;
pub mod messages;
pub mod outbox;
pub mod unregistered;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use jiff::Timestamp;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::config::Secret;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file (WAL).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A handle on the register.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// How to open a connection outside the pool ([`Store::reader`]); holds the password.
    /// None for an in-memory SQLite database, which another connection would not see.
    options: Option<ReaderOptions>,
    /// The durability barrier (see [`durable`]).
    durability: std::sync::Arc<durable::Durability>,
}

// SQLite allows one writer at a time; a concurrent `ingest` from the MTA pipe waits this long
// for the lock before the call fails as temporary (exit 75, the MTA retries).
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// One pooled connection on SQLite. A connection keeps its page cache across its own
/// commits, but throws all of it away when it finds that another connection wrote (WAL mode
/// compares the WAL header at the start of every read). sqlx hands idle connections out in
/// turn, so with several every transaction started cold and read its pages again: in a
/// profile of a backlog that re-reading was most of the bot's CPU. SQLite writes one
/// transaction at a time anyway; the few long reads (the report) open a reader of their
/// own ([`Store::reader`]).
const SQLITE_CONNECTIONS: u32 = 1;
/// PostgreSQL serves connections in parallel: enough for the watcher, the sender's
/// conversations and the scheduler at once.
const POSTGRES_CONNECTIONS: u32 = 8;

impl Store {
    /// Connects, creating the SQLite file when missing, and applies pending migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        Self::connect_with(url, None).await
    }

    /// Like [`Store::connect`], with the password kept apart from the URL (`[database]
    /// password_env` / `password_file`), so the URL can be logged as it is.
    pub async fn connect_with(url: &str, password: Option<&Secret>) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        if backend == Backend::Sqlite {
            crate::privacy::files::create_private_sqlite(&url)?;
        }
        let options = connect_options(&url, password)?;
        probe(&options, backend)
            .await
            .with_context(|| format!("Failed to open database {}", redact(&url)))?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => SQLITE_CONNECTIONS,
                Backend::Postgres => POSTGRES_CONNECTIONS,
            })
            .acquire_timeout(Duration::from_secs(15))
            // sqlx pings a pooled connection before handing it out, to find one whose server
            // hung up. A SQLite connection has no server to lose, and on its worker thread
            // the ping is a round trip of its own (a thread wake-up each way) on every
            // acquire: several per mail in a backlog.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // Deleted and overwritten content is zeroed, not left in free
                        // pages: an erasure must leave no byte of the person in the file
                        // (see crate::privacy::erase::make_gone for the WAL).
                        conn.execute("PRAGMA secure_delete = ON").await?;
                        // 1 MiB of page cache (SQLite's default is 2 MiB): with one pooled
                        // connection the cache is never thrown away, and the hot pages of
                        // the intake (the tails of a few indexes) fit many times over.
                        conn.execute("PRAGMA cache_size = -1024").await?;
                        // Statement journals and savepoints (each message of a watcher's
                        // group is one) keep the pages they may have to restore in memory,
                        // not in a temporary file: a message's savepoint touches some thirty
                        // pages, more than SQLite keeps in memory before it spills, and
                        // writing them out was most of the bot's disk writes in a backlog.
                        // It also keeps complaint data out of temporary files.
                        conn.execute("PRAGMA temp_store = MEMORY").await?;
                        let busy = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
                        conn.execute(busy.as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await
            .with_context(|| format!("Failed to open database {}", redact(&url)))?;
        let durability = std::sync::Arc::new(durable::Durability::detect(&pool, backend).await?);
        let store = Store {
            pool,
            backend,
            options: (!(url.contains(":memory:") || url.contains("mode=memory")))
                .then(|| ReaderOptions(std::sync::Arc::new(options))),
            durability,
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .context("Failed to migrate the database")?;
        Ok(())
    }

    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.pool.begin().await
    }

    /// A connection of its own, outside the pool, for a long read beside the pool's work
    /// (the report reads half of a year on it while the pool reads the other half). Reading
    /// changes nothing, so it costs the pool's connection none of its page cache. An
    /// in-memory database has no other connection: there it is the pool's.
    pub async fn reader(&self) -> anyhow::Result<Reader> {
        use sqlx::ConnectOptions;
        let Some(ReaderOptions(options)) = &self.options else {
            return Ok(Reader::Pooled(self.pool.acquire().await?));
        };
        let mut conn = options
            .connect()
            .await
            .context("Failed to open a reading connection to the register")?;
        if self.backend == Backend::Sqlite {
            let busy = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
            conn.execute(busy.as_str()).await?;
            conn.execute("PRAGMA temp_store = MEMORY").await?;
        }
        Ok(Reader::Own(conn))
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Connect options kept for [`Store::reader`]; its `Debug` shows nothing, since the options
/// hold the database password.
#[derive(Clone)]
struct ReaderOptions(std::sync::Arc<AnyConnectOptions>);

impl std::fmt::Debug for ReaderOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReaderOptions(..)")
    }
}

/// A connection for reading, from [`Store::reader`].
#[derive(Debug)]
pub enum Reader {
    /// Opened for the caller, closed when dropped.
    Own(sqlx::AnyConnection),
    /// The pool's (an in-memory database).
    Pooled(sqlx::pool::PoolConnection<sqlx::Any>),
}

impl std::ops::Deref for Reader {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        match self {
            Reader::Own(c) => c,
            Reader::Pooled(c) => c,
        }
    }
}

impl std::ops::DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        match self {
            Reader::Own(c) => c,
            Reader::Pooled(c) => c,
        }
    }
}

/// Opens one plain connection first (with WAL on SQLite, which needs to create its files): a
/// register that cannot be opened at all (CANTOPEN in a read-only or unwritable folder, a
/// server refusing us) then fails at once with its own error, instead of as "pool timed out"
/// after the pool retried for its whole acquire timeout (15 s the MTA pipe would wait).
async fn probe(options: &AnyConnectOptions, backend: Backend) -> Result<(), sqlx::Error> {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = options.connect().await?;
    if backend == Backend::Sqlite {
        conn.execute("PRAGMA journal_mode = WAL").await?;
    }
    conn.close().await
}

/// Whether an error is a temporary storage failure (disk full, I/O, read-only, locked,
/// unreachable, ...: see [`fault`]), so the caller should wait and retry rather than give up.
pub fn is_transient(err: &anyhow::Error) -> bool {
    fault::of(err).is_some_and(|f| f.is_temporary())
}

/// Runs an `INSERT`/`UPDATE ... RETURNING` to its end and gives its first row.
///
/// sqlx's `fetch_one`/`fetch_optional` on SQLite stop stepping the statement after the first
/// row and ignore what the reset reports; outside a transaction that reset is the commit, so
/// a commit that fails (SQLITE_FULL on a full disk) went unseen while the returned id pointed
/// at a row that was never stored. `fetch_all` steps to SQLITE_DONE and returns the error.
pub async fn returning<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    conn: &mut sqlx::AnyConnection,
) -> Result<Option<sqlx::any::AnyRow>, sqlx::Error> {
    Ok(query.fetch_all(conn).await?.into_iter().next())
}

/// Row ids per `IN (...)` list: far below the bind limits of SQLite (32,766) and
/// PostgreSQL (65,535), and one statement for the few hundred rows a busy minute changes.
pub const ID_CHUNK: usize = 500;

/// `$first, $first+1, ...`: `n` numbered placeholders for an `IN (...)` list or a row.
///
/// A statement built with it is run with `persistent(false)`: sqlx keeps up to 100 prepared
/// statements per connection, and every list length would be one more, each holding a
/// large compiled program (the bot's memory grew by megabytes with them).
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `query` with `ids` bound after whatever it has bound already: the values of an `IN (...)`
/// list written by [`placeholders`].
pub fn bind_ids<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ids: &'q [i64],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    ids.iter().fold(query, |q, id| q.bind(*id))
}

/// Unix seconds for the database.
pub fn secs(t: Timestamp) -> i64 {
    t.as_second()
}

/// A timestamp from Unix seconds (out-of-range values clamp to the epoch, never panic).
pub fn from_secs(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// An optional timestamp from optional Unix seconds.
pub fn from_opt_secs(s: Option<i64>) -> Option<Timestamp> {
    s.map(from_secs)
}

/// The connect options of `url` with `password` set in them (it never passes through a
/// string that could be logged).
pub fn connect_options(url: &str, password: Option<&Secret>) -> anyhow::Result<AnyConnectOptions> {
    let mut options = AnyConnectOptions::from_str(url)
        .with_context(|| format!("Invalid database url {}", redact(url)))?;
    if let Some(password) = password {
        options
            .database_url
            .set_password(Some(password.expose()))
            .map_err(|()| anyhow::anyhow!("database url {} takes no password", redact(url)))?;
    }
    Ok(options)
}

/// Whether `url` carries a password (which belongs in `password_env` / `password_file`).
pub fn url_has_password(url: &str) -> bool {
    AnyConnectOptions::from_str(url).is_ok_and(|o| o.database_url.password().is_some())
}

/// `url` with its password, if any, replaced by `***`: safe to log.
pub fn redact(url: &str) -> String {
    // postgres://user:password@host/db -> postgres://user:***@host/db
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_from_the_first() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(4, 1), "$4");
        assert_eq!(placeholders(1, 0), "");
    }

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact("postgres://kb:geheim@db/kb"),
            "postgres://kb:***@db/kb"
        );
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}

#[cfg(test)]
#[path = "rename_tests.rs"]
mod rename_tests;
