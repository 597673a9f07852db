//! The `instances` table (migration 0005) and the outbox claims owned by instances.
//!
//! Heartbeats use the database's clock, not the instance's, so two hosts whose clocks
//! disagree still agree on who is stale.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::{Identity, Role, STALE_AFTER_SECS};
use crate::store::{Backend, from_opt_secs, from_secs, secs};

/// The database's current time in Unix seconds, as SQL.
fn db_now(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CAST(strftime('%s', 'now') AS INTEGER)",
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)",
    }
}

/// Writes this instance's row (a new row per process: the id holds pid and start time).
pub async fn register(
    conn: &mut AnyConnection,
    backend: Backend,
    me: &Identity,
) -> anyhow::Result<()> {
    let now = db_now(backend);
    sqlx::query(&format!(
        "INSERT INTO instances (id, host, pid, name, started_at, last_seen, role, stopped_at) \
         VALUES ($1, $2, $3, $4, $5, {now}, 'standby', NULL)"
    ))
    .bind(&me.id)
    .bind(&me.host)
    .bind(i64::from(me.pid))
    .bind(me.name.as_deref())
    .bind(secs(me.started_at))
    .execute(&mut *conn)
    .await
    .context("Failed to register this instance (INSERT INTO instances)")?;
    Ok(())
}

/// Beats: `last_seen` to now and the current role. A row pruned meanwhile is written anew.
pub async fn heartbeat(
    conn: &mut AnyConnection,
    backend: Backend,
    me: &Identity,
    role: Role,
) -> anyhow::Result<()> {
    let done = sqlx::query(&format!(
        "UPDATE instances SET last_seen = {}, role = $1, stopped_at = NULL WHERE id = $2",
        db_now(backend)
    ))
    .bind(role.as_str())
    .bind(&me.id)
    .execute(&mut *conn)
    .await
    .context("Failed to write the heartbeat (UPDATE instances)")?;
    if done.rows_affected() == 0 {
        register(conn, backend, me).await?;
    }
    Ok(())
}

/// Marks as stopped the earlier runs of this same instance: the rows with the same
/// configured name, or, without a name, on the same host with a process that no longer
/// exists. Their claims are then handed back at once by [`release_dead_claims`].
pub async fn retire_predecessors(
    conn: &mut AnyConnection,
    backend: Backend,
    me: &Identity,
) -> anyhow::Result<u64> {
    let rows = sqlx::query(
        "SELECT id, pid, name FROM instances WHERE stopped_at IS NULL AND id <> $1 \
         AND host = $2",
    )
    .bind(&me.id)
    .bind(&me.host)
    .fetch_all(&mut *conn)
    .await
    .context("Failed to read earlier instances (SELECT FROM instances)")?;
    let mut retired = 0;
    for row in &rows {
        let (id, pid, name): (String, i64, Option<String>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let same = match (&me.name, &name) {
            (Some(mine), Some(theirs)) => mine == theirs,
            (None, None) => !process_alive(pid, me.pid),
            _ => false,
        };
        if same {
            retired += stop(conn, backend, &id).await?;
        }
    }
    let named = sqlx::query(&format!(
        "UPDATE instances SET stopped_at = {} WHERE stopped_at IS NULL AND id <> $1 \
         AND name IS NOT NULL AND name = $2 AND host <> $3",
        db_now(backend)
    ))
    .bind(&me.id)
    .bind(me.name.as_deref())
    .bind(&me.host)
    .execute(&mut *conn)
    .await
    .context("Failed to retire earlier runs of this instance (UPDATE instances)")?;
    Ok(retired + named.rows_affected())
}

/// Whether process `pid` on this host still runs (our own pid belonged to a dead run before
/// us: pid 1 in a restarted container).
fn process_alive(pid: i64, mine: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 || i64::from(pid) == i64::from(mine) {
        return false;
    }
    // Signal 0 checks existence; EPERM means it exists but belongs to someone else.
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e == nix::errno::Errno::EPERM,
    }
}

/// Marks one instance stopped and hands back its claims; returns 1 when it was running.
pub async fn stop(conn: &mut AnyConnection, backend: Backend, id: &str) -> anyhow::Result<u64> {
    let done = sqlx::query(&format!(
        "UPDATE instances SET stopped_at = {}, role = 'standby' \
         WHERE id = $1 AND stopped_at IS NULL",
        db_now(backend)
    ))
    .bind(id)
    .execute(&mut *conn)
    .await
    .context("Failed to mark an instance stopped (UPDATE instances)")?;
    Ok(done.rows_affected())
}

/// Hands back the outbox claims of instances that stopped or whose heartbeat is stale:
/// the rows become due at `now`. Claims by claimants without a row (a one-off command)
/// are left to the claim lease. Returns how many rows were handed back.
pub async fn release_dead_claims(
    conn: &mut AnyConnection,
    backend: Backend,
    now: Timestamp,
) -> anyhow::Result<u64> {
    let done = sqlx::query(&format!(
        "UPDATE outbox SET claimed_by = NULL, next_attempt_at = $1 \
         WHERE status = 'pending' AND claimed_by IS NOT NULL AND claimed_by IN \
         (SELECT id FROM instances WHERE stopped_at IS NOT NULL OR last_seen < {} - $2)",
        db_now(backend)
    ))
    .bind(secs(now))
    .bind(STALE_AFTER_SECS)
    .execute(&mut *conn)
    .await
    .context("Failed to hand back claims of dead instances (UPDATE outbox)")?;
    Ok(done.rows_affected())
}

/// Forgets instances stopped or silent for more than a day.
pub async fn prune(conn: &mut AnyConnection, backend: Backend) -> anyhow::Result<u64> {
    let now = db_now(backend);
    let done = sqlx::query(&format!(
        "DELETE FROM instances WHERE last_seen < {now} - 86400 \
         OR (stopped_at IS NOT NULL AND stopped_at < {now} - 86400)"
    ))
    .execute(&mut *conn)
    .await
    .context("Failed to prune old instances (DELETE FROM instances)")?;
    Ok(done.rows_affected())
}

/// One instance as `status` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InstanceRow {
    /// Unique id (`<name or host>/<pid>/<start ms>`).
    pub id: String,
    /// Host name.
    pub host: String,
    /// Process id on that host.
    pub pid: i64,
    /// Configured name.
    pub name: Option<String>,
    /// `active` or `standby`, as of its last heartbeat.
    pub role: String,
    /// Its start.
    pub started_at: Timestamp,
    /// Its last heartbeat.
    pub last_seen: Timestamp,
    /// When it stopped (cleanly, or taken for dead after a restart).
    pub stopped_at: Option<Timestamp>,
    /// Not stopped and beating within the last few seconds.
    pub alive: bool,
}

/// The instances not known to have stopped, newest first.
pub async fn list(conn: &mut AnyConnection, backend: Backend) -> anyhow::Result<Vec<InstanceRow>> {
    let rows = sqlx::query(&format!(
        "SELECT id, host, pid, name, role, started_at, last_seen, stopped_at, {} AS now \
         FROM instances WHERE stopped_at IS NULL ORDER BY started_at DESC, id",
        db_now(backend)
    ))
    .fetch_all(&mut *conn)
    .await
    .context("Failed to list instances (SELECT FROM instances)")?;
    rows.iter()
        .map(|r| {
            let last_seen: i64 = r.try_get("last_seen")?;
            let now: i64 = r.try_get("now")?;
            let stopped_at = from_opt_secs(r.try_get("stopped_at")?);
            Ok(InstanceRow {
                id: r.try_get("id")?,
                host: r.try_get("host")?,
                pid: r.try_get("pid")?,
                name: r.try_get("name")?,
                role: r.try_get("role")?,
                started_at: from_secs(r.try_get("started_at")?),
                last_seen: from_secs(last_seen),
                alive: stopped_at.is_none() && last_seen >= now - STALE_AFTER_SECS,
                stopped_at,
            })
        })
        .collect()
}
