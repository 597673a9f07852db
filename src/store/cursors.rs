//! IMAP folder cursors (UIDVALIDITY and next UID) and worker health for `status`.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::{from_opt_secs, secs};

/// Where the watcher is in one folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Cursor {
    /// The folder's UIDVALIDITY when the cursor was written.
    pub uidvalidity: u32,
    /// The next UID to fetch.
    pub next_uid: u32,
}

/// The cursor of a folder, if any.
pub async fn get(conn: &mut AnyConnection, folder: &str) -> anyhow::Result<Option<Cursor>> {
    let row = sqlx::query("SELECT uidvalidity, next_uid FROM mailbox_cursors WHERE folder = $1")
        .bind(folder)
        .fetch_optional(&mut *conn)
        .await
        .context("get: SELECT FROM mailbox_cursors")?;
    row.map(|r| {
        Ok(Cursor {
            uidvalidity: u32::try_from(r.try_get::<i64, _>(0)?)?,
            next_uid: u32::try_from(r.try_get::<i64, _>(1)?)?,
        })
    })
    .transpose()
}

/// Writes the cursor of a folder.
pub async fn set(
    conn: &mut AnyConnection,
    folder: &str,
    c: Cursor,
    now: Timestamp,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO mailbox_cursors (folder, uidvalidity, next_uid, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (folder) DO UPDATE SET uidvalidity = $2, next_uid = $3, updated_at = $4",
    )
    .bind(folder)
    .bind(i64::from(c.uidvalidity))
    .bind(i64::from(c.next_uid))
    .bind(secs(now))
    .execute(&mut *conn)
    .await
    .context("set: INSERT INTO mailbox_cursors")?;
    Ok(())
}

/// Every folder cursor, for `status`.
pub async fn all(conn: &mut AnyConnection) -> anyhow::Result<Vec<(String, Cursor)>> {
    let rows =
        sqlx::query("SELECT folder, uidvalidity, next_uid FROM mailbox_cursors ORDER BY folder")
            .fetch_all(&mut *conn)
            .await
            .context("all: SELECT FROM mailbox_cursors")?;
    rows.iter()
        .map(|r| {
            let c = Cursor {
                uidvalidity: u32::try_from(r.try_get::<i64, _>(1)?)?,
                next_uid: u32::try_from(r.try_get::<i64, _>(2)?)?,
            };
            Ok((r.try_get(0)?, c))
        })
        .collect()
}

/// Records a worker's success (clears nothing: the last error stays visible with its time).
pub async fn worker_ok(
    conn: &mut AnyConnection,
    worker: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO worker_status (worker, last_ok_at) VALUES ($1, $2) \
         ON CONFLICT (worker) DO UPDATE SET last_ok_at = $2",
    )
    .bind(worker)
    .bind(secs(now))
    .execute(&mut *conn)
    .await
    .context("worker_ok: INSERT INTO worker_status")?;
    Ok(())
}

/// Records a worker's error.
pub async fn worker_error(
    conn: &mut AnyConnection,
    worker: &str,
    error: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO worker_status (worker, last_error, last_error_at) VALUES ($1, $2, $3) \
         ON CONFLICT (worker) DO UPDATE SET last_error = $2, last_error_at = $3",
    )
    .bind(worker)
    .bind(error)
    .bind(secs(now))
    .execute(&mut *conn)
    .await
    .context("worker_error: INSERT INTO worker_status")?;
    Ok(())
}

/// One worker's health.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkerStatus {
    /// `watcher`, `sender`.
    pub worker: String,
    /// Last success.
    pub last_ok_at: Option<Timestamp>,
    /// Last error message.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<Timestamp>,
}

/// Every worker's health.
pub async fn workers(conn: &mut AnyConnection) -> anyhow::Result<Vec<WorkerStatus>> {
    let rows = sqlx::query(
        "SELECT worker, last_ok_at, last_error, last_error_at FROM worker_status ORDER BY worker",
    )
    .fetch_all(&mut *conn)
    .await
    .context("workers: SELECT FROM worker_status")?;
    rows.iter()
        .map(|r| {
            Ok(WorkerStatus {
                worker: r.try_get(0)?,
                last_ok_at: from_opt_secs(r.try_get(1)?),
                last_error: r.try_get(2)?,
                last_error_at: from_opt_secs(r.try_get(3)?),
            })
        })
        .collect()
}
