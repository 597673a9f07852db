//! The `flags` table: what the officer must look at, and why.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::{from_secs, secs};

/// Raises a flag for the officer.
pub async fn raise(
    conn: &mut AnyConnection,
    message_pk: Option<i64>,
    complaint_id: Option<i64>,
    reason: crate::domain::FlagKind,
    detail: &str,
    now: Timestamp,
) -> anyhow::Result<i64> {
    let query = sqlx::query(
        "INSERT INTO flags (message_pk, complaint_id, reason, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(message_pk)
    .bind(complaint_id)
    .bind(reason.as_str())
    .bind(detail)
    .bind(secs(now));
    let row = super::returning(query, conn)
        .await
        .context("INSERT INTO flags")?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok(row.try_get(0)?)
}

/// An open flag.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Flag {
    /// Row id.
    pub id: i64,
    /// The message concerned.
    pub message_id: Option<i64>,
    /// The complaint concerned (its reference).
    pub reference: Option<String>,
    /// Short reason code.
    pub reason: String,
    /// Explanation for the officer.
    pub detail: String,
    /// When raised.
    pub created_at: Timestamp,
}

/// Open flags, oldest first; optionally of one complaint only.
pub async fn open(
    conn: &mut AnyConnection,
    complaint_id: Option<i64>,
) -> anyhow::Result<Vec<Flag>> {
    let rows = sqlx::query(
        "SELECT f.id, f.message_pk, c.reference, f.reason, f.detail, f.created_at FROM flags f \
         LEFT JOIN complaints c ON c.id = f.complaint_id \
         WHERE f.resolved_at IS NULL AND ($1 IS NULL OR f.complaint_id = $1) ORDER BY f.id",
    )
    .bind(complaint_id)
    .fetch_all(&mut *conn)
    .await
    .context("open: SELECT FROM flags")?;
    rows.iter()
        .map(|r| {
            Ok(Flag {
                id: r.try_get(0)?,
                message_id: r.try_get(1)?,
                reference: r.try_get(2)?,
                reason: r.try_get(3)?,
                detail: r.try_get(4)?,
                created_at: from_secs(r.try_get(5)?),
            })
        })
        .collect()
}
