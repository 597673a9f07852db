//! The `reminders` table: due items, claimed when sent, dropped when no longer wanted.

use anyhow::Context;
use std::collections::BTreeMap;

use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::scheduler::plan::Due;
use crate::store::{from_opt_secs, secs};

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
    .await
    .context("due_reminders: SELECT FROM reminders")?;
    rows.iter().map(reminder_from).collect()
}

/// When the next pending reminder after `now` is due.
pub async fn next_reminder_at(
    conn: &mut AnyConnection,
    now: Timestamp,
) -> anyhow::Result<Option<Timestamp>> {
    let row = sqlx::query(
        "SELECT MIN(due_at) FROM reminders WHERE sent_at IS NULL AND dropped_at IS NULL \
         AND due_at > $1",
    )
    .bind(secs(now))
    .fetch_one(&mut *conn)
    .await
    .context("next_reminder_at: SELECT FROM reminders")?;
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
    .await
    .context("reminders_of: SELECT FROM reminders")?;
    rows.iter().map(reminder_from).collect()
}

/// The reminders of these complaints, by complaint: one query per
/// [`crate::store::ID_CHUNK`] complaints.
pub async fn reminders_of_many(
    conn: &mut AnyConnection,
    complaint_ids: &[i64],
) -> anyhow::Result<BTreeMap<i64, Vec<Reminder>>> {
    let mut by = BTreeMap::<i64, Vec<Reminder>>::new();
    for chunk in complaint_ids.chunks(crate::store::ID_CHUNK) {
        let sql = format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE complaint_id IN ({}) ORDER BY id",
            crate::store::placeholders(1, chunk.len())
        );
        let rows = crate::store::bind_ids(sqlx::query(&sql).persistent(false), chunk)
            .fetch_all(&mut *conn)
            .await
            .context("reminders_of_many: SELECT FROM reminders")?;
        for r in &rows {
            let reminder = reminder_from(r)?;
            by.entry(reminder.complaint_id).or_default().push(reminder);
        }
    }
    Ok(by)
}

/// Rows per multi-row `INSERT INTO reminders` (5 values each).
const INSERT_CHUNK: usize = 100;

/// Adds wanted reminders, [`INSERT_CHUNK`] rows per statement (a new complaint wants
/// several); nothing for one that exists (several instances may plan at once).
pub async fn insert_reminders(
    conn: &mut AnyConnection,
    wanted: &[(i64, &Due)],
    now: Timestamp,
) -> anyhow::Result<()> {
    for chunk in wanted.chunks(INSERT_CHUNK) {
        let rows = (0..chunk.len())
            .map(|i| format!("({})", crate::store::placeholders(i * 5 + 1, 5)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO reminders (complaint_id, kind, due_at, deadline, created_at) \
             VALUES {rows} ON CONFLICT (complaint_id, kind, due_at) DO NOTHING"
        );
        chunk
            .iter()
            .fold(
                sqlx::query(&sql).persistent(false),
                |q, (complaint_id, due)| {
                    q.bind(*complaint_id)
                        .bind(due.kind.as_str())
                        .bind(secs(due.due_at))
                        .bind(secs(due.deadline))
                        .bind(secs(now))
                },
            )
            .execute(&mut *conn)
            .await
            .context("insert_reminders: INSERT INTO reminders")?;
    }
    Ok(())
}

/// Wants a dropped, unsent reminder again (a reopened complaint).
pub async fn revive_reminder(conn: &mut AnyConnection, id: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE reminders SET dropped_at = NULL WHERE id = $1 AND sent_at IS NULL")
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("revive_reminder: UPDATE reminders")?;
    Ok(())
}

/// Drops a pending reminder: the planner no longer wants it.
pub async fn drop_reminder(
    conn: &mut AnyConnection,
    id: i64,
    now: Timestamp,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE reminders SET dropped_at = $1 WHERE id = $2 AND sent_at IS NULL \
         AND dropped_at IS NULL",
    )
    .bind(secs(now))
    .bind(id)
    .execute(&mut *conn)
    .await
    .context("drop_reminder: UPDATE reminders")?;
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
    .await
    .context("claim_reminder: UPDATE reminders")?;
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
        .await
        .context("unclaim_and_drop: UPDATE reminders")?;
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
        .await
        .context("set_reminder_outbox: UPDATE reminders")?;
    Ok(())
}
