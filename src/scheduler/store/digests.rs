//! The `digests` table: one row per digest period, claimed in the transaction that queues it.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::store::{from_opt_secs, secs};

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
    .await
    .context("claim_digest: INSERT INTO digests")?;
    Ok(done.rows_affected() == 1)
}

/// Whether a digest period is done (sent or skipped).
pub async fn digest_done(conn: &mut AnyConnection, period_key: &str) -> anyhow::Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) FROM digests WHERE period_key = $1")
        .bind(period_key)
        .fetch_one(&mut *conn)
        .await
        .context("digest_done: SELECT FROM digests")?;
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
        .await
        .context("set_digest_outbox: UPDATE digests")?;
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
        .await
        .context("last_digest_at: SELECT FROM digests")?;
    Ok(from_opt_secs(row.try_get(0)?))
}
