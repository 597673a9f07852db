//! The mail that did not become a complaint (or part of one): automated mail, loops,
//! unreadable and flagged mail, refused commands. The officer sees these in the daily digest
//! and with `klachtenbot list --unregistered`, and registers a misjudged one by forwarding it.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::domain::MessageKind;
use crate::store::{from_secs, secs};

/// One mail that was not registered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unregistered {
    /// Message row id.
    pub id: i64,
    /// When received.
    pub received_at: Timestamp,
    /// Sender, as stored.
    pub from_address: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// The message kind (`automated:bounce`, `loop`, `unreadable`, ...).
    pub kind: String,
    /// What became of it, with the reason.
    pub reason: String,
}

/// The processed messages received in `(since, until]` that were not registered, oldest
/// first. Staff notes (`phone_note`, `letter_note`, ...) registered or added to a complaint.
pub async fn since(
    conn: &mut AnyConnection,
    since: Timestamp,
    until: Timestamp,
) -> anyhow::Result<Vec<Unregistered>> {
    let rows = sqlx::query(
        "SELECT id, received_at, from_address, subject, kind, outcome FROM messages \
         WHERE processed_at IS NOT NULL AND received_at > $1 AND received_at <= $2 \
         AND kind NOT LIKE '%\\_note' ESCAPE '\\' ORDER BY received_at, id",
    )
    .bind(secs(since))
    .bind(secs(until))
    .fetch_all(&mut *conn)
    .await
    .context("listing unregistered messages (SELECT ... FROM messages)")?;
    let mut out = Vec::new();
    for row in rows {
        let kind: String = row.try_get(4)?;
        // Kinds this version does not know (an older one's) count as not registered.
        if MessageKind::parse(&kind).is_ok_and(MessageKind::registered) {
            continue;
        }
        let outcome: Option<String> = row.try_get(5)?;
        out.push(Unregistered {
            id: row.try_get(0)?,
            received_at: from_secs(row.try_get(1)?),
            from_address: row.try_get(2)?,
            subject: row.try_get(3)?,
            reason: outcome.unwrap_or_else(|| kind.clone()),
            kind,
        });
    }
    Ok(out)
}
