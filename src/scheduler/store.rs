//! The scheduler's tables (migration 0003): `reminders`, `complaint_pauses`, `digests`, and
//! the reads of `complaints` it needs (`updated_at`, which the record does not carry).
//!
//! Portable SQL for SQLite and PostgreSQL, like `crate::store`: `$n` placeholders, Unix
//! seconds, explicit columns.

use std::collections::BTreeMap;

use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::plan::{Due, Waiting};
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
    /// The open wait, if any.
    pub fn open_pause(&self) -> Option<&Pause> {
        self.pauses.iter().find(|p| p.ended_at.is_none())
    }

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
        .await?;
    let mut updated = BTreeMap::new();
    for r in &rows {
        updated.insert(r.try_get::<i64, _>(0)?, from_secs(r.try_get(1)?));
    }
    let rows = sqlx::query(
        "SELECT id, complaint_id, solve_by, started_at, ended_at FROM complaint_pauses \
         WHERE complaint_id IN (SELECT id FROM complaints WHERE status <> 'closed') ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut pauses: BTreeMap<i64, Vec<Pause>> = BTreeMap::new();
    for r in &rows {
        pauses
            .entry(r.try_get(1)?)
            .or_default()
            .push(pause_from(r)?);
    }
    Ok(found
        .into_iter()
        .map(|stored| Tracked {
            updated_at: updated
                .get(&stored.id)
                .copied()
                .unwrap_or(stored.complaint.received_at),
            pauses: pauses.remove(&stored.id).unwrap_or_default(),
            stored,
        })
        .collect())
}

/// One complaint with its `updated_at` and pauses (inside the send transaction).
pub async fn tracked(conn: &mut AnyConnection, id: i64) -> anyhow::Result<Option<Tracked>> {
    let Some(stored) = complaints::load_by_id(conn, id).await? else {
        return Ok(None);
    };
    let row = sqlx::query("SELECT updated_at FROM complaints WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query(
        "SELECT id, complaint_id, solve_by, started_at, ended_at FROM complaint_pauses \
         WHERE complaint_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
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
    .await?;
    Ok(())
}

/// Records the end of a wait.
pub async fn end_pause(conn: &mut AnyConnection, id: i64, at: Timestamp) -> anyhow::Result<()> {
    sqlx::query("UPDATE complaint_pauses SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
        .bind(secs(at))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ends the waits and drops the pending reminders of closed complaints.
pub async fn settle_closed(conn: &mut AnyConnection, now: Timestamp) -> anyhow::Result<u64> {
    let closed = "SELECT id FROM complaints WHERE status = 'closed'";
    sqlx::query(&format!(
        "UPDATE complaint_pauses SET ended_at = $1 WHERE ended_at IS NULL \
         AND complaint_id IN ({closed})"
    ))
    .bind(secs(now))
    .execute(&mut *conn)
    .await?;
    let dropped = sqlx::query(&format!(
        "UPDATE reminders SET dropped_at = $1 WHERE sent_at IS NULL AND dropped_at IS NULL \
         AND complaint_id IN ({closed})"
    ))
    .bind(secs(now))
    .execute(&mut *conn)
    .await?;
    Ok(dropped.rows_affected())
}

/// A stored reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// Row id.
    pub id: i64,
    /// The complaint.
    pub complaint_id: i64,
    /// Its kind as stored (unknown names are left alone).
    pub kind: String,
    /// When it is due, Unix seconds.
    pub due_at: i64,
    /// Sent (claimed) at.
    pub sent_at: Option<i64>,
    /// Dropped at.
    pub dropped_at: Option<i64>,
}

impl Reminder {
    /// Neither sent nor dropped.
    pub fn pending(&self) -> bool {
        self.sent_at.is_none() && self.dropped_at.is_none()
    }
}

const REMINDER_COLUMNS: &str = "id, complaint_id, kind, due_at, sent_at, dropped_at";

fn reminder_from(r: &sqlx::any::AnyRow) -> anyhow::Result<Reminder> {
    Ok(Reminder {
        id: r.try_get(0)?,
        complaint_id: r.try_get(1)?,
        kind: r.try_get(2)?,
        due_at: r.try_get(3)?,
        sent_at: r.try_get(4)?,
        dropped_at: r.try_get(5)?,
    })
}

/// Every reminder of the open complaints, by complaint.
pub async fn reminders_of_open(
    conn: &mut AnyConnection,
) -> anyhow::Result<BTreeMap<i64, Vec<Reminder>>> {
    let rows = sqlx::query(&format!(
        "SELECT {REMINDER_COLUMNS} FROM reminders \
         WHERE complaint_id IN (SELECT id FROM complaints WHERE status <> 'closed') ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut by = BTreeMap::<i64, Vec<Reminder>>::new();
    for r in &rows {
        let reminder = reminder_from(r)?;
        by.entry(reminder.complaint_id).or_default().push(reminder);
    }
    Ok(by)
}

/// Pending reminders due at `now`, oldest first.
pub async fn due_reminders(
    conn: &mut AnyConnection,
    now: Timestamp,
) -> anyhow::Result<Vec<Reminder>> {
    let rows = sqlx::query(&format!(
        "SELECT {REMINDER_COLUMNS} FROM reminders \
         WHERE sent_at IS NULL AND dropped_at IS NULL AND due_at <= $1 ORDER BY due_at, id"
    ))
    .bind(secs(now))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(reminder_from).collect()
}

/// When the next pending reminder is due.
pub async fn next_reminder_at(conn: &mut AnyConnection) -> anyhow::Result<Option<Timestamp>> {
    let row = sqlx::query(
        "SELECT MIN(due_at) FROM reminders WHERE sent_at IS NULL AND dropped_at IS NULL",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(from_opt_secs(row.try_get(0)?))
}

/// Every reminder of one complaint, oldest first (for tests and `show`).
pub async fn reminders_of(
    conn: &mut AnyConnection,
    complaint_id: i64,
) -> anyhow::Result<Vec<Reminder>> {
    let rows = sqlx::query(&format!(
        "SELECT {REMINDER_COLUMNS} FROM reminders WHERE complaint_id = $1 ORDER BY id"
    ))
    .bind(complaint_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(reminder_from).collect()
}

/// Adds a wanted reminder (nothing when it exists: several instances may plan at once).
pub async fn insert_reminder(
    conn: &mut AnyConnection,
    complaint_id: i64,
    due: &Due,
    now: Timestamp,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO reminders (complaint_id, kind, due_at, deadline, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (complaint_id, kind, due_at) DO NOTHING",
    )
    .bind(complaint_id)
    .bind(due.kind.as_str())
    .bind(secs(due.due_at))
    .bind(secs(due.deadline))
    .bind(secs(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Wants a dropped, unsent reminder again (a reopened complaint).
pub async fn revive_reminder(conn: &mut AnyConnection, id: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE reminders SET dropped_at = NULL WHERE id = $1 AND sent_at IS NULL")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Drops a pending reminder: the planner no longer wants it.
pub async fn drop_reminder(conn: &mut AnyConnection, id: i64, now: Timestamp) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE reminders SET dropped_at = $1 WHERE id = $2 AND sent_at IS NULL \
         AND dropped_at IS NULL",
    )
    .bind(secs(now))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Claims a pending reminder for sending; `false` when another instance (or an earlier run)
/// already sent or dropped it. Call inside the transaction that queues the mail.
pub async fn claim_reminder(
    conn: &mut AnyConnection,
    id: i64,
    now: Timestamp,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE reminders SET sent_at = $1 WHERE id = $2 AND sent_at IS NULL \
         AND dropped_at IS NULL",
    )
    .bind(secs(now))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Turns a claim into a drop (the reminder turned out not to be wanted, or has nobody to go
/// to), in the claiming transaction.
pub async fn unclaim_and_drop(
    conn: &mut AnyConnection,
    id: i64,
    now: Timestamp,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE reminders SET sent_at = NULL, dropped_at = $1 WHERE id = $2")
        .bind(secs(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Links a sent reminder to its outbox row.
pub async fn set_reminder_outbox(
    conn: &mut AnyConnection,
    id: i64,
    outbox_id: i64,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE reminders SET outbox_id = $1 WHERE id = $2")
        .bind(outbox_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Claims a digest period (`daily:2026-03-02`); `false` when it was already sent or skipped.
pub async fn claim_digest(
    conn: &mut AnyConnection,
    kind: &str,
    period_key: &str,
    now: Timestamp,
    items: usize,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO digests (kind, period_key, sent_at, items, outbox_id) \
         VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (period_key) DO NOTHING",
    )
    .bind(kind)
    .bind(period_key)
    .bind(secs(now))
    .bind(i64::try_from(items).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a digest period is done (sent or skipped).
pub async fn digest_done(conn: &mut AnyConnection, period_key: &str) -> anyhow::Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) FROM digests WHERE period_key = $1")
        .bind(period_key)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

/// Links a digest period to its outbox row.
pub async fn set_digest_outbox(
    conn: &mut AnyConnection,
    period_key: &str,
    outbox_id: i64,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE digests SET outbox_id = $1 WHERE period_key = $2")
        .bind(outbox_id)
        .bind(period_key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// When the last digest of `kind` was done.
pub async fn last_digest_at(
    conn: &mut AnyConnection,
    kind: &str,
) -> anyhow::Result<Option<Timestamp>> {
    let row = sqlx::query("SELECT MAX(sent_at) FROM digests WHERE kind = $1")
        .bind(kind)
        .fetch_one(&mut *conn)
        .await?;
    Ok(from_opt_secs(row.try_get(0)?))
}
