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
pub mod flags;
pub mod measures;
pub mod messages;
pub mod outbox;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use jiff::Timestamp;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

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
    /// The durability barrier (see [`durable`]).
    durability: std::sync::Arc<durable::Durability>,
}

// SQLite allows one writer at a time; a concurrent `ingest` from the MTA pipe waits this long
// for the lock before the call fails as temporary (exit 75, the MTA retries).
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

impl Store {
    /// Connects, creating the SQLite file when missing, and applies pending migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
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
        let options = AnyConnectOptions::from_str(&url)
            .with_context(|| format!("Invalid database url {}", redact(&url)))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(Duration::from_secs(15))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        let busy = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
                        conn.execute(busy.as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("Failed to open database {}", redact(&url)))?;
        let durability = std::sync::Arc::new(durable::Durability::detect(&pool, backend).await?);
        let store = Store {
            pool,
            backend,
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

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether a database error will likely go away by itself (locked, busy, unreachable), so
/// the caller should retry later rather than give up.
pub fn is_transient(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|cause| match cause.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed) => true,
            Some(sqlx::Error::Database(db)) => {
                let code = db.code().unwrap_or_default();
                // SQLite: 5 BUSY, 6 LOCKED (and their extended codes); PostgreSQL: class 08
                // connection exceptions, 40001 serialization failure, 40P01 deadlock, 57P0x
                // shutdown.
                code == "5"
                    || code == "6"
                    || code.starts_with("08")
                    || code == "40001"
                    || code == "40P01"
                    || code.starts_with("57P")
                    || db.message().contains("database is locked")
            }
            _ => false,
        })
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

fn redact(url: &str) -> String {
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
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact("postgres://kb:geheim@db/kb"),
            "postgres://kb:***@db/kb"
        );
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
