//! The scheduler's tables (migration 0003) and the reads of `complaints` it needs
//! (`updated_at`, which the record does not carry): here the open complaints with their
//! waits on the complainant (`complaint_pauses`); `reminders.rs` and `digests.rs` apart.
//!
//! Portable SQL for SQLite and PostgreSQL, like `crate::store`: `$n` placeholders, Unix
//! seconds, explicit columns.

mod digests;
mod reminders;

pub use digests::{claim_digest, digest_done, last_digest_at, set_digest_outbox};
pub use reminders::{
    Reminder, claim_reminder, drop_reminder, due_reminders, insert_reminders, next_reminder_at,
    reminders_of, reminders_of_many, revive_reminder, set_reminder_outbox, unclaim_and_drop,
};

use anyhow::Context;
use std::collections::BTreeMap;

use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::plan::Waiting;
use crate::domain::{Complaint, Status};
use crate::store::complaints::{self, ListFilter, StoredComplaint};
use crate::store::{from_opt_secs, from_secs, secs};

/// An open complaint with what the planner needs besides the record.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// The complaint.
    pub stored: StoredComplaint,
    /// When its row last changed (the status change that started or ended a wait, usually).
    pub updated_at: Timestamp,
    /// Its recorded waits on the complainant, oldest first.
    pub pauses: Vec<Pause>,
}

impl Tracked {
    /// The waits as the planner sees them.
    pub fn waiting(&self) -> Waiting {
        waiting(&self.stored.complaint, self.updated_at, &self.pauses)
    }
}

/// One wait on the complainant's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    /// Row id.
    pub id: i64,
    /// The solve deadline it applies to.
    pub solve_by: Timestamp,
    /// Start.
    pub started_at: Timestamp,
    /// End; none while it lasts.
    pub ended_at: Option<Timestamp>,
}

/// The planner's view of the waits: the current one (or, when the scheduler has not seen
/// it yet, the last change of the row), and the finished ones of the current solve deadline.
pub fn waiting(c: &Complaint, updated_at: Timestamp, pauses: &[Pause]) -> Waiting {
    let since = (c.status == Status::AwaitingVerdict).then(|| {
        pauses
            .iter()
            .find(|p| p.ended_at.is_none())
            .map_or(updated_at, |p| p.started_at)
    });
    let paused = pauses
        .iter()
        .filter(|p| secs(p.solve_by) == secs(c.deadlines.solve_by))
        .filter_map(|p| p.ended_at.map(|end| p.started_at..end))
        .collect();
    Waiting { since, paused }
}

/// Every open complaint with its `updated_at` and pauses, oldest first.
pub async fn open_complaints(conn: &mut AnyConnection) -> anyhow::Result<Vec<Tracked>> {
    let filter = ListFilter {
        open_only: true,
        status: None,
    };
    let found = complaints::list(conn, filter).await?;
    let rows = sqlx::query("SELECT id, updated_at FROM complaints WHERE status <> 'closed'")
        .fetch_all(&mut *conn)
        .await
        .context("open_complaints: SELECT FROM complaints")?;
    let mut updated = BTreeMap::new();
    add_updated(&mut updated, &rows)?;
    let rows = sqlx::query(
        "SELECT id, complaint_id, solve_by, started_at, ended_at FROM complaint_pauses \
         WHERE complaint_id IN (SELECT id FROM complaints WHERE status <> 'closed') ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .context("open_complaints: SELECT FROM complaint_pauses")?;
    let mut pauses = BTreeMap::new();
    add_pauses(&mut pauses, &rows)?;
    Ok(with_updates_and_pauses(found, &updated, pauses))
}

/// `updated_at` by complaint id, from rows of `SELECT id, updated_at`.
fn add_updated(
    updated: &mut BTreeMap<i64, Timestamp>,
    rows: &[sqlx::any::AnyRow],
) -> anyhow::Result<()> {
    for r in rows {
        updated.insert(r.try_get::<i64, _>(0)?, from_secs(r.try_get(1)?));
    }
    Ok(())
}

/// Pauses by complaint id, from rows of `SELECT id, complaint_id, solve_by, started_at,
/// ended_at FROM complaint_pauses`.
fn add_pauses(
    pauses: &mut BTreeMap<i64, Vec<Pause>>,
    rows: &[sqlx::any::AnyRow],
) -> anyhow::Result<()> {
    for r in rows {
        pauses
            .entry(r.try_get(1)?)
            .or_default()
            .push(pause_from(r)?);
    }
    Ok(())
}

/// The complaints with their `updated_at` (else their receipt) and pauses.
fn with_updates_and_pauses(
    found: Vec<StoredComplaint>,
    updated: &BTreeMap<i64, Timestamp>,
    mut pauses: BTreeMap<i64, Vec<Pause>>,
) -> Vec<Tracked> {
    found
        .into_iter()
        .map(|stored| Tracked {
            updated_at: updated
                .get(&stored.id)
                .copied()
                .unwrap_or(stored.complaint.received_at),
            pauses: pauses.remove(&stored.id).unwrap_or_default(),
            stored,
        })
        .collect()
}

/// A cheap fingerprint of the register's complaints: the last timeline event, the latest
/// change and the count. When it moves, something may need planning.
pub async fn change_marker(conn: &mut AnyConnection) -> anyhow::Result<(i64, i64, i64)> {
    let row = sqlx::query(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM complaint_events), \
         (SELECT COALESCE(MAX(updated_at), 0) FROM complaints), \
         (SELECT COUNT(*) FROM complaints)",
    )
    .fetch_one(&mut *conn)
    .await
    .context("change_marker: SELECT FROM complaint_events")?;
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

/// Every open complaint, by id.
pub async fn open_complaint_ids(conn: &mut AnyConnection) -> anyhow::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM complaints WHERE status <> 'closed' ORDER BY id")
        .fetch_all(&mut *conn)
        .await
        .context("open_complaint_ids: SELECT FROM complaints")
}

/// The open complaints changed at or after `since`, or with a pending reminder due at
/// `now`, by id.
pub async fn changed_open_complaints(
    conn: &mut AnyConnection,
    since: Timestamp,
    now: Timestamp,
) -> anyhow::Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT id FROM complaints WHERE status <> 'closed' AND (updated_at >= $1 \
         OR id IN (SELECT complaint_id FROM reminders WHERE sent_at IS NULL \
         AND dropped_at IS NULL AND due_at <= $2)) ORDER BY id",
    )
    .bind(secs(since))
    .bind(secs(now))
    .fetch_all(&mut *conn)
    .await
    .context("changed_open_complaints: SELECT FROM complaints")?;
    rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
}

/// The complaints with these ids (those that exist) with their `updated_at` and pauses, by
/// id: three queries per [`crate::store::ID_CHUNK`] ids rather than three per complaint,
/// which during a backlog was a third of the statements per mail.
pub async fn tracked_many(conn: &mut AnyConnection, ids: &[i64]) -> anyhow::Result<Vec<Tracked>> {
    let found = complaints::load_many(conn, ids).await?;
    let mut updated = BTreeMap::new();
    let mut pauses = BTreeMap::new();
    for chunk in ids.chunks(crate::store::ID_CHUNK) {
        let list = crate::store::placeholders(1, chunk.len());
        let sql = format!("SELECT id, updated_at FROM complaints WHERE id IN ({list})");
        let rows = crate::store::bind_ids(sqlx::query(&sql).persistent(false), chunk)
            .fetch_all(&mut *conn)
            .await
            .context("tracked_many: SELECT FROM complaints")?;
        add_updated(&mut updated, &rows)?;
        let sql = format!(
            "SELECT id, complaint_id, solve_by, started_at, ended_at FROM complaint_pauses \
             WHERE complaint_id IN ({list}) ORDER BY id"
        );
        let rows = crate::store::bind_ids(sqlx::query(&sql).persistent(false), chunk)
            .fetch_all(&mut *conn)
            .await
            .context("tracked_many: SELECT FROM complaint_pauses")?;
        add_pauses(&mut pauses, &rows)?;
    }
    Ok(with_updates_and_pauses(found, &updated, pauses))
}

/// One complaint with its `updated_at` and pauses (inside the send transaction).
pub async fn tracked(conn: &mut AnyConnection, id: i64) -> anyhow::Result<Option<Tracked>> {
    let Some(stored) = complaints::load_by_id(conn, id).await? else {
        return Ok(None);
    };
    let row = sqlx::query("SELECT updated_at FROM complaints WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .context("tracked: SELECT FROM complaints")?;
    let rows = sqlx::query(
        "SELECT id, complaint_id, solve_by, started_at, ended_at FROM complaint_pauses \
         WHERE complaint_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .context("tracked: SELECT FROM complaint_pauses")?;
    Ok(Some(Tracked {
        stored,
        updated_at: from_secs(row.try_get(0)?),
        pauses: rows.iter().map(pause_from).collect::<anyhow::Result<_>>()?,
    }))
}

fn pause_from(r: &sqlx::any::AnyRow) -> anyhow::Result<Pause> {
    Ok(Pause {
        id: r.try_get(0)?,
        solve_by: from_secs(r.try_get(2)?),
        started_at: from_secs(r.try_get(3)?),
        ended_at: from_opt_secs(r.try_get(4)?),
    })
}

/// Records the start of a wait.
pub async fn start_pause(
    conn: &mut AnyConnection,
    complaint_id: i64,
    solve_by: Timestamp,
    at: Timestamp,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO complaint_pauses (complaint_id, solve_by, started_at, ended_at) \
         VALUES ($1, $2, $3, NULL)",
    )
    .bind(complaint_id)
    .bind(secs(solve_by))
    .bind(secs(at))
    .execute(&mut *conn)
    .await
    .context("start_pause: INSERT INTO complaint_pauses")?;
    Ok(())
}

/// Records the end of a wait.
pub async fn end_pause(conn: &mut AnyConnection, id: i64, at: Timestamp) -> anyhow::Result<()> {
    sqlx::query("UPDATE complaint_pauses SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
        .bind(secs(at))
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("end_pause: UPDATE complaint_pauses")?;
    Ok(())
}

/// Ends the waits and drops the pending reminders of closed complaints. Looks first, so
/// the usual round, with nothing to settle, writes nothing (SQLite has one writer).
pub async fn settle_closed(conn: &mut AnyConnection, now: Timestamp) -> anyhow::Result<u64> {
    let closed = "SELECT id FROM complaints WHERE status = 'closed'";
    let row = sqlx::query(&format!(
        "SELECT (SELECT COUNT(*) FROM complaint_pauses WHERE ended_at IS NULL \
         AND complaint_id IN ({closed})), \
         (SELECT COUNT(*) FROM reminders WHERE sent_at IS NULL AND dropped_at IS NULL \
         AND complaint_id IN ({closed}))"
    ))
    .fetch_one(&mut *conn)
    .await
    .context("settle_closed: SELECT FROM complaint_pauses, reminders")?;
    let (pauses, pending): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    if pauses > 0 {
        sqlx::query(&format!(
            "UPDATE complaint_pauses SET ended_at = $1 WHERE ended_at IS NULL \
             AND complaint_id IN ({closed})"
        ))
        .bind(secs(now))
        .execute(&mut *conn)
        .await
        .context("settle_closed: UPDATE complaint_pauses")?;
    }
    if pending == 0 {
        return Ok(0);
    }
    let dropped = sqlx::query(&format!(
        "UPDATE reminders SET dropped_at = $1 WHERE sent_at IS NULL AND dropped_at IS NULL \
         AND complaint_id IN ({closed})"
    ))
    .bind(secs(now))
    .execute(&mut *conn)
    .await
    .context("settle_closed: UPDATE reminders")?;
    Ok(dropped.rows_affected())
}
