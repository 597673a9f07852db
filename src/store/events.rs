//! The `complaint_events` table: the audit trail of every complaint.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::{from_secs, secs};

/// One line of a complaint's timeline, to be written.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// The complaint.
    pub complaint_id: i64,
    /// When.
    pub at: Timestamp,
    /// Who: an address, or `klachtenbot` for the bot itself.
    pub actor: &'a str,
    /// What kind.
    pub kind: crate::domain::EventKind,
    /// Human-readable detail.
    pub detail: &'a str,
    /// The received message it concerns.
    pub message_pk: Option<i64>,
    /// The outgoing mail it concerns.
    pub outbox_id: Option<i64>,
}

/// Appends an event.
pub async fn append(conn: &mut AnyConnection, e: &NewEvent<'_>) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO complaint_events (complaint_id, at, actor, kind, detail, message_pk, outbox_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.complaint_id)
    .bind(secs(e.at))
    .bind(e.actor)
    .bind(e.kind.as_str())
    .bind(e.detail)
    .bind(e.message_pk)
    .bind(e.outbox_id)
    .execute(&mut *conn)
    .await
    .context("append: INSERT INTO complaint_events")?;
    Ok(())
}

/// A stored timeline event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What kind.
    pub kind: String,
    /// Detail.
    pub detail: String,
    /// Related received message.
    pub message_id: Option<i64>,
    /// Related outgoing mail.
    pub outbox_id: Option<i64>,
}

/// The timeline of one complaint, oldest first.
pub async fn timeline(conn: &mut AnyConnection, complaint_id: i64) -> anyhow::Result<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT at, actor, kind, detail, message_pk, outbox_id FROM complaint_events \
         WHERE complaint_id = $1 ORDER BY id",
    )
    .bind(complaint_id)
    .fetch_all(&mut *conn)
    .await
    .context("timeline: SELECT FROM complaint_events")?;
    rows.iter()
        .map(|r| {
            Ok(Event {
                at: from_secs(r.try_get(0)?),
                actor: r.try_get(1)?,
                kind: r.try_get(2)?,
                detail: r.try_get(3)?,
                message_id: r.try_get(4)?,
                outbox_id: r.try_get(5)?,
            })
        })
        .collect()
}
