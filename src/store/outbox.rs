//! The `outbox` table: mail we write, sent later by the outbox worker.
//!
//! A row is rendered in full when queued; the worker counts an attempt before it makes it,
//! and marks the row sent, retried or failed afterwards, each in its own short statement so
//! no transaction is ever held open during an SMTP conversation.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{from_opt_secs, from_secs, secs};

/// A mail to queue.
#[derive(Debug, Clone)]
pub struct NewOutgoing<'a> {
    /// The complaint it belongs to.
    pub complaint_id: Option<i64>,
    /// `acknowledgement`, `explanation`, `officer_notice`, ...
    pub kind: &'a str,
    /// Our Message-ID, without brackets.
    pub message_id: &'a str,
    /// SMTP envelope sender.
    pub envelope_from: &'a str,
    /// Envelope recipients, comma separated.
    pub recipients: &'a str,
    /// Subject, for listings.
    pub subject: &'a str,
    /// Plain-text body, for listings.
    pub body: &'a str,
    /// The complete RFC 5322 message.
    pub raw: &'a [u8],
    /// Counts towards the per-sender auto-reply limit.
    pub auto_reply: bool,
}

/// Queues a mail; returns its row id.
pub async fn enqueue(
    conn: &mut AnyConnection,
    m: &NewOutgoing<'_>,
    now: Timestamp,
) -> anyhow::Result<i64> {
    let query = sqlx::query(
        "INSERT INTO outbox (complaint_id, kind, message_id, envelope_from, recipients, subject, \
         body, raw, auto_reply, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10) RETURNING id",
    )
    .bind(m.complaint_id)
    .bind(m.kind)
    .bind(m.message_id)
    .bind(m.envelope_from)
    .bind(m.recipients)
    .bind(m.subject)
    .bind(m.body)
    .bind(m.raw)
    .bind(i64::from(m.auto_reply))
    .bind(secs(now));
    let row = super::returning(query, conn)
        .await
        .context("INSERT INTO outbox")?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok(row.try_get(0)?)
}

/// How many automatic replies went to `recipient` since `since` (for the rate limit).
pub async fn auto_replies_since(
    conn: &mut AnyConnection,
    recipient: &str,
    since: Timestamp,
) -> anyhow::Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM outbox WHERE auto_reply = 1 AND recipients = $1 AND created_at >= $2",
    )
    .bind(recipient)
    .bind(secs(since))
    .fetch_one(&mut *conn)
    .await
    .context("auto_replies_since: SELECT FROM outbox")?;
    Ok(row.try_get(0)?)
}

/// A queued mail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outgoing {
    /// Row id.
    pub id: i64,
    /// Complaint row id.
    pub complaint_id: Option<i64>,
    /// Kind.
    pub kind: String,
    /// Message-ID.
    pub message_id: String,
    /// Envelope sender.
    pub envelope_from: String,
    /// Envelope recipients, comma separated.
    pub recipients: String,
    /// Subject.
    pub subject: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt.
    pub next_attempt_at: Timestamp,
    /// Last error.
    pub last_error: Option<String>,
    /// Queued at.
    pub created_at: Timestamp,
    /// Sent at.
    pub sent_at: Option<Timestamp>,
    /// The message (not in JSON listings).
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// The body text (not in JSON listings; see `show`).
    #[serde(skip)]
    pub body: String,
}

const COLUMNS: &str = "id, complaint_id, kind, message_id, envelope_from, recipients, subject, \
    status, attempts, next_attempt_at, last_error, created_at, sent_at, raw, body";

fn from_row(r: &AnyRow) -> anyhow::Result<Outgoing> {
    Ok(Outgoing {
        id: r.try_get(0)?,
        complaint_id: r.try_get(1)?,
        kind: r.try_get(2)?,
        message_id: r.try_get(3)?,
        envelope_from: r.try_get(4)?,
        recipients: r.try_get(5)?,
        subject: r.try_get(6)?,
        status: r.try_get(7)?,
        attempts: r.try_get(8)?,
        next_attempt_at: from_secs(r.try_get(9)?),
        last_error: r.try_get(10)?,
        created_at: from_secs(r.try_get(11)?),
        sent_at: from_opt_secs(r.try_get(12)?),
        raw: r.try_get(13)?,
        body: r.try_get(14)?,
    })
}

/// Pending mail whose next attempt is due, oldest first.
pub async fn due(
    conn: &mut AnyConnection,
    now: Timestamp,
    limit: i64,
) -> anyhow::Result<Vec<Outgoing>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at, id LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(secs(now))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
        .context("due: SELECT FROM outbox")?;
    rows.iter().map(from_row).collect()
}

/// When the next pending mail is due, if any.
pub async fn next_due_at(conn: &mut AnyConnection) -> anyhow::Result<Option<Timestamp>> {
    let row = sqlx::query("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")
        .fetch_one(&mut *conn)
        .await
        .context("next_due_at: SELECT FROM outbox")?;
    Ok(from_opt_secs(row.try_get(0)?))
}

/// Claims a due row for one attempt and counts the attempt, before the SMTP conversation
/// starts (see [`claim_attempts`]); true for exactly one caller.
pub async fn claim_attempt(
    conn: &mut AnyConnection,
    id: i64,
    now: Timestamp,
    lease_until: Timestamp,
    by: &str,
) -> anyhow::Result<bool> {
    Ok(!claim_attempts(conn, &[id], now, lease_until, by)
        .await?
        .is_empty())
}

/// Claims the due rows among `ids` for one attempt each and counts the attempt, before the
/// SMTP conversations start; returns the ids claimed, each for exactly one caller. The claim
/// pushes `next_attempt_at` to `lease_until`, so another instance on the same database does
/// not pick the row up meanwhile. If the claimer dies, the row becomes due again when the
/// lease ends.
///
/// `by` is the claiming instance's id: when its heartbeat stops, another instance hands the
/// claim back within seconds (`instance::store::release_dead_claims`); the lease is only the
/// last resort, for a claimant without a heartbeat row.
///
/// One statement per [`super::ID_CHUNK`] rows. On PostgreSQL the rows are locked in id order
/// and rows another instance is claiming at this moment are skipped (it has them), so two
/// instances never wait on each other; SQLite writes one transaction at a time anyway.
pub async fn claim_attempts(
    conn: &mut AnyConnection,
    ids: &[i64],
    now: Timestamp,
    lease_until: Timestamp,
    by: &str,
) -> anyhow::Result<Vec<i64>> {
    let postgres = conn.backend_name() == "PostgreSQL";
    let mut claimed = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(super::ID_CHUNK) {
        let list = super::placeholders(4, chunk.len());
        let rows = if postgres {
            format!(
                "SELECT id FROM outbox WHERE id IN ({list}) AND status = 'pending' \
                 AND next_attempt_at <= $2 ORDER BY id FOR UPDATE SKIP LOCKED"
            )
        } else {
            list
        };
        let sql = format!(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, claimed_by = $3 \
             WHERE id IN ({rows}) AND status = 'pending' AND next_attempt_at <= $2 RETURNING id"
        );
        let query = sqlx::query_scalar(&sql)
            .persistent(false)
            .bind(secs(lease_until))
            .bind(secs(now))
            .bind(by);
        let ids: Vec<i64> = chunk
            .iter()
            .fold(query, |q, id| q.bind(*id))
            .fetch_all(&mut *conn)
            .await
            .context("claim_attempts: UPDATE outbox")?;
        claimed.extend(ids);
    }
    claimed.sort_unstable();
    Ok(claimed)
}

/// Marks mails as accepted by the SMTP server: one statement per [`super::ID_CHUNK`] rows.
pub async fn mark_sent(
    conn: &mut AnyConnection,
    ids: &[i64],
    now: Timestamp,
) -> anyhow::Result<()> {
    for chunk in ids.chunks(super::ID_CHUNK) {
        let sql = format!(
            "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL, \
             claimed_by = NULL WHERE id IN ({})",
            super::placeholders(2, chunk.len())
        );
        let query = sqlx::query(&sql).persistent(false).bind(secs(now));
        super::bind_ids(query, chunk)
            .execute(&mut *conn)
            .await
            .context("mark_sent: UPDATE outbox")?;
    }
    Ok(())
}

/// Schedules another attempt after a temporary failure.
pub async fn mark_retry(
    conn: &mut AnyConnection,
    id: i64,
    next: Timestamp,
    error: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1, last_error = $2, claimed_by = NULL WHERE id = $3",
    )
    .bind(secs(next))
    .bind(error)
    .bind(id)
    .execute(&mut *conn)
    .await
    .context("mark_retry: UPDATE outbox")?;
    Ok(())
}

/// Gives up on a mail after a permanent failure.
pub async fn mark_failed(conn: &mut AnyConnection, id: i64, error: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = 'failed', last_error = $1, claimed_by = NULL WHERE id = $2",
    )
    .bind(error)
    .bind(id)
    .execute(&mut *conn)
    .await
    .context("mark_failed: UPDATE outbox")?;
    Ok(())
}

/// Queued mail of one complaint (or every row when `complaint_id` is None), oldest first.
pub async fn list(
    conn: &mut AnyConnection,
    complaint_id: Option<i64>,
    status: Option<&str>,
) -> anyhow::Result<Vec<Outgoing>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE ($1 IS NULL OR complaint_id = $1) \
         AND ($2 IS NULL OR status = $2) ORDER BY id"
    );
    let rows = sqlx::query(&sql)
        .bind(complaint_id)
        .bind(status)
        .fetch_all(&mut *conn)
        .await
        .context("list: SELECT FROM outbox")?;
    rows.iter().map(from_row).collect()
}

/// Counts per status: (pending, sent, failed).
pub async fn counts(conn: &mut AnyConnection) -> anyhow::Result<(i64, i64, i64)> {
    let row = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM outbox",
    )
    .fetch_one(&mut *conn)
    .await
    .context("counts: SELECT FROM outbox")?;
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}
