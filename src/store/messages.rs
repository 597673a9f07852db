//! The `messages` table (every received mail, raw) and its attachments.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::{from_secs, secs};

/// A received mail before interpretation.
#[derive(Debug, Clone)]
pub struct RawMessage<'a> {
    /// What makes two deliveries "the same message" (see `intake::dedupe_key`).
    pub dedupe_key: &'a str,
    /// The Message-ID header, without brackets.
    pub message_id: Option<&'a str>,
    /// Hex SHA-256 of the bytes.
    pub sha256: &'a str,
    /// The exact bytes.
    pub raw: &'a [u8],
    /// Where it came from: `pipe`, `file:...`, `imap:INBOX:uidvalidity:uid`.
    pub source: &'a str,
    /// When we received it.
    pub received_at: Timestamp,
}

/// The result of storing a raw message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Newly stored.
    New(i64),
    /// Stored before but never finished (a crash in between): process it now.
    Unfinished(i64),
    /// Stored and processed before: a duplicate.
    Done(i64),
}

/// Stores the raw bytes unless the same message is already there.
pub async fn store_raw(conn: &mut AnyConnection, m: &RawMessage<'_>) -> anyhow::Result<Stored> {
    let query = sqlx::query(
        "INSERT INTO messages (dedupe_key, message_id, sha256, size, raw, source, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(m.dedupe_key)
    .bind(m.message_id)
    .bind(m.sha256)
    .bind(i64::try_from(m.raw.len()).unwrap_or(i64::MAX))
    .bind(m.raw)
    .bind(m.source)
    .bind(secs(m.received_at));
    // To its end: the autocommit of this insert can fail (disk full) after the id came back.
    let inserted = super::returning(query, conn)
        .await
        .context("INSERT INTO messages")?;
    if let Some(row) = inserted {
        return Ok(Stored::New(row.try_get(0)?));
    }
    let row = sqlx::query("SELECT id, processed_at FROM messages WHERE dedupe_key = $1")
        .bind(m.dedupe_key)
        .fetch_one(&mut *conn)
        .await
        .context("store_raw: SELECT FROM messages")?;
    let id: i64 = row.try_get(0)?;
    let processed: Option<i64> = row.try_get(1)?;
    Ok(if processed.is_some() {
        Stored::Done(id)
    } else {
        Stored::Unfinished(id)
    })
}

/// Claims a stored message for processing: true for exactly one caller, even when two
/// processes race on the same message. Runs first in the processing transaction.
pub async fn claim(conn: &mut AnyConnection, id: i64, now: Timestamp) -> anyhow::Result<bool> {
    let done =
        sqlx::query("UPDATE messages SET processed_at = $1 WHERE id = $2 AND processed_at IS NULL")
            .bind(secs(now))
            .bind(id)
            .execute(&mut *conn)
            .await
            .context("claim: UPDATE messages")?;
    Ok(done.rows_affected() == 1)
}

/// Whether a message row is committed and claimed: `Some(true)` processed, `Some(false)`
/// stored but unclaimed, `None` no such row. A failed claim is called a duplicate only after
/// this reads back a committed, processed row; a missing row means its insert never reached
/// the disk, which is a storage failure and never a verdict about the mail.
pub async fn processed(conn: &mut AnyConnection, id: i64) -> anyhow::Result<Option<bool>> {
    let row = sqlx::query("SELECT processed_at FROM messages WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .context("SELECT processed_at FROM messages")?;
    Ok(match row {
        Some(row) => Some(row.try_get::<Option<i64>, _>(0)?.is_some()),
        None => None,
    })
}

/// What the intake made of a message.
#[derive(Debug, Clone)]
pub struct Interpretation<'a> {
    /// Coarse kind: `new_complaint`, `follow_up`, `automated`, `loop`, `unreadable`, ...
    pub kind: &'a str,
    /// The one-line outcome, as logged.
    pub outcome: &'a str,
    /// Sender address as parsed.
    pub from_address: Option<&'a str>,
    /// Decoded subject.
    pub subject: Option<&'a str>,
    /// The new text (quotes and signature stripped).
    pub body_text: Option<&'a str>,
    /// The complaint it belongs to.
    pub complaint_id: Option<i64>,
}

/// Records the interpretation of a message.
pub async fn record(
    conn: &mut AnyConnection,
    id: i64,
    i: &Interpretation<'_>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE messages SET kind = $1, outcome = $2, from_address = $3, subject = $4, \
         body_text = $5, complaint_id = $6 WHERE id = $7",
    )
    .bind(i.kind)
    .bind(i.outcome)
    .bind(i.from_address)
    .bind(i.subject)
    .bind(i.body_text)
    .bind(i.complaint_id)
    .bind(id)
    .execute(&mut *conn)
    .await
    .context("record: UPDATE messages")?;
    Ok(())
}

/// The complaint that any of these Message-IDs (ours or theirs) belongs to.
pub async fn complaint_of_message_ids(
    conn: &mut AnyConnection,
    ids: &[String],
) -> anyhow::Result<Option<i64>> {
    for id in ids {
        let row = sqlx::query(
            "SELECT complaint_id FROM outbox WHERE message_id = $1 AND complaint_id IS NOT NULL \
             UNION ALL \
             SELECT complaint_id FROM messages WHERE message_id = $1 AND complaint_id IS NOT NULL",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await
        .context("complaint_of_message_ids: SELECT FROM outbox")?;
        if let Some(row) = row {
            return Ok(Some(row.try_get(0)?));
        }
    }
    Ok(None)
}

/// Keeps one attachment of a message.
pub async fn add_attachment(
    conn: &mut AnyConnection,
    message_pk: i64,
    filename: &str,
    content_type: &str,
    data: &[u8],
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO attachments (message_pk, filename, content_type, size, data) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(message_pk)
    .bind(filename)
    .bind(content_type)
    .bind(i64::try_from(data.len()).unwrap_or(i64::MAX))
    .bind(data)
    .execute(&mut *conn)
    .await
    .context("add_attachment: INSERT INTO attachments")?;
    Ok(())
}

/// A received message as listed on a complaint.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MessageSummary {
    /// Row id.
    pub id: i64,
    /// When received.
    pub received_at: jiff::Timestamp,
    /// Sender.
    pub from_address: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Kind.
    pub kind: String,
    /// New text.
    pub body_text: Option<String>,
    /// Size in bytes.
    pub size: i64,
    /// Names of the attachments kept.
    pub attachments: Vec<String>,
}

/// The messages of one complaint, oldest first.
pub async fn for_complaint(
    conn: &mut AnyConnection,
    complaint_id: i64,
) -> anyhow::Result<Vec<MessageSummary>> {
    let rows = sqlx::query(
        "SELECT id, received_at, from_address, subject, kind, body_text, size FROM messages \
         WHERE complaint_id = $1 ORDER BY id",
    )
    .bind(complaint_id)
    .fetch_all(&mut *conn)
    .await
    .context("for_complaint: SELECT FROM messages")?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let names =
            sqlx::query("SELECT filename FROM attachments WHERE message_pk = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *conn)
                .await
                .context("for_complaint: SELECT FROM attachments")?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<Vec<_>, _>>()?;
        out.push(MessageSummary {
            id,
            received_at: from_secs(row.try_get(1)?),
            from_address: row.try_get(2)?,
            subject: row.try_get(3)?,
            kind: row.try_get(4)?,
            body_text: row.try_get(5)?,
            size: row.try_get(6)?,
            attachments: names,
        });
    }
    Ok(out)
}

/// How many messages are stored.
pub async fn count(conn: &mut AnyConnection) -> anyhow::Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM messages")
        .fetch_one(&mut *conn)
        .await
        .context("count: SELECT FROM messages")?
        .try_get(0)?)
}
