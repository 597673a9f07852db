//! The watcher lock: whoever holds it watches the mailbox.
//!
//! PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) held on a connection of its
//! own, outside the pool, so the pool's recycling never drops it. The server releases it the
//! moment that session ends: at once when the holder dies on a live machine (kill -9: the
//! kernel closes the socket), after the TCP keepalives set on the session (about 5 s) when
//! the machine or the network is gone. The holder pings every second and gives the lock up
//! itself when a ping fails or takes longer than [`PING_TIMEOUT`].
//!
//! SQLite: an exclusive lock on `<file>-run.lock`; a second `run` on the same file refuses to
//! start (the kernel releases the lock when the holder dies, however it dies).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Row};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::store::connect_options;

/// The advisory lock's key: "klachtbt" in ASCII. Advisory locks are per database, so two
/// registers on one server do not share it.
const LOCK_KEY: i64 = 0x6b6c_6163_6874_6274;
/// How often a standby tries the lock and the holder pings its session.
const POLL: Duration = Duration::from_secs(1);
/// A ping or connect slower than this counts as a lost database: the holder stops watching.
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// Server-side keepalives on the lock session: idle 2 s, then 3 probes 1 s apart, and
/// unacknowledged data dropped after 5 s, so a vanished holder's lock is freed within ~5 s.
const KEEPALIVES: &[&str] = &[
    "SET tcp_keepalives_idle = 2",
    "SET tcp_keepalives_interval = 1",
    "SET tcp_keepalives_count = 3",
    "SET tcp_user_timeout = 5000",
];

/// The watcher lock of one instance.
pub enum WatchLock {
    /// PostgreSQL: the advisory lock's session, when connected.
    Postgres {
        /// Where to connect (password included, never printed).
        options: Box<PgConnectOptions>,
        /// The dedicated session.
        conn: Option<PgConnection>,
    },
    /// SQLite: the lock file, held for the life of the process (or nothing for `:memory:`).
    Sqlite(Option<File>),
}

impl WatchLock {
    /// Prepares the lock. On SQLite it takes the file lock at once and fails with a clear
    /// message when another `run` holds it.
    pub fn new(settings: &Settings) -> anyhow::Result<WatchLock> {
        let url = &settings.database_url;
        if url.starts_with("sqlite:") {
            return Ok(WatchLock::Sqlite(lock_sqlite_file(url)?));
        }
        let any = connect_options(url, settings.database_password.as_ref())?;
        let options = PgConnectOptions::try_from(&any)
            .context("Invalid PostgreSQL connect options")?
            .application_name("klachtenbot watcher lock")
            .disable_statement_logging();
        Ok(WatchLock::Postgres {
            options: Box::new(options),
            conn: None,
        })
    }

    /// Waits until this instance holds the lock; false when cancelled first.
    pub async fn acquire(&mut self, cancel: &CancellationToken) -> bool {
        let WatchLock::Postgres { options, conn } = self else {
            return !cancel.is_cancelled();
        };
        let mut warned = false;
        loop {
            match try_lock(options, conn).await {
                Ok(true) => return true,
                Ok(false) => {}
                Err(e) if !warned => {
                    tracing::warn!(error = %format!("{e:#}"), "cannot reach the database for the watcher lock; retrying");
                    warned = true;
                }
                Err(_) => {}
            }
            tokio::select! {
                () = cancel.cancelled() => return false,
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Gives the lock up (PostgreSQL: closes the session, which frees it for a standby at
    /// once). The SQLite file lock stays until the process ends.
    pub async fn release(&mut self) {
        if let WatchLock::Postgres { conn, .. } = self
            && let Some(c) = conn.take()
        {
            let _ = tokio::time::timeout(PING_TIMEOUT, c.close()).await;
        }
    }

    /// Holds the lock until `cancel` fires (the caller then calls [`WatchLock::release`]) or
    /// the lock is lost (the session failed or did not answer within [`PING_TIMEOUT`]); true
    /// when lost.
    pub async fn hold(&mut self, cancel: &CancellationToken) -> bool {
        let WatchLock::Postgres { conn, .. } = self else {
            cancel.cancelled().await;
            return false;
        };
        loop {
            tokio::select! {
                () = cancel.cancelled() => return false,
                () = tokio::time::sleep(POLL) => {}
            }
            let Some(c) = conn.as_mut() else { return true };
            let ping = tokio::time::timeout(PING_TIMEOUT, sqlx::query("SELECT 1").execute(c));
            if !matches!(ping.await, Ok(Ok(_))) {
                *conn = None;
                return true;
            }
        }
    }
}

async fn try_lock(
    options: &PgConnectOptions,
    conn: &mut Option<PgConnection>,
) -> anyhow::Result<bool> {
    if conn.is_none() {
        let connect = tokio::time::timeout(PING_TIMEOUT, options.connect()).await;
        let mut c = connect
            .context("connecting timed out")?
            .context("Failed to connect for the watcher lock")?;
        for set in KEEPALIVES {
            // Unix sockets and old servers refuse some of these; the ping still guards.
            let _ = sqlx::query(set).execute(&mut c).await;
        }
        *conn = Some(c);
    }
    let Some(c) = conn.as_mut() else {
        return Ok(false);
    };
    let attempt = sqlx::query("SELECT pg_try_advisory_lock($1)")
        .bind(LOCK_KEY)
        .fetch_one(&mut *c);
    match tokio::time::timeout(PING_TIMEOUT, attempt).await {
        Ok(Ok(row)) => Ok(row.try_get::<bool, _>(0)?),
        Ok(Err(e)) => {
            *conn = None;
            Err(e).context("Failed to try the watcher lock (pg_try_advisory_lock)")
        }
        Err(_) => {
            *conn = None;
            anyhow::bail!("trying the watcher lock timed out")
        }
    }
}

/// The database file of a SQLite URL (`None` for an in-memory database).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

fn lock_sqlite_file(url: &str) -> anyhow::Result<Option<File>> {
    let Some(db) = sqlite_file(url) else {
        return Ok(None);
    };
    let mut name = db.clone().into_os_string();
    name.push("-run.lock");
    let path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("Failed to open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => anyhow::bail!(
            "another `klachtenbot run` is already using {} (it holds {}). On SQLite only one \
             instance may run; for a standby instance use PostgreSQL (README, \"Several \
             instances\")",
            db.display(),
            path.display()
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("Failed to lock {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_file_is_found_in_sqlite_urls() {
        assert_eq!(
            sqlite_file("sqlite://a/b.db?mode=rwc"),
            Some("a/b.db".into())
        );
        assert_eq!(sqlite_file("sqlite:x.db"), Some("x.db".into()));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }

    #[test]
    fn a_second_run_on_one_sqlite_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("r.db").display());
        let first = lock_sqlite_file(&url).expect("first lock");
        assert!(first.is_some());
        let second = lock_sqlite_file(&url).expect_err("second must be refused");
        assert!(
            format!("{second:#}").contains("already using"),
            "{second:#}"
        );
        drop(first);
        assert!(lock_sqlite_file(&url).expect("after release").is_some());
    }
}
