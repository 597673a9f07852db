//! Recommendations (`#aanbeveling`) and measures (`#maatregel`), for the annual report.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use super::{from_secs, secs};

/// Records a recommendation, optionally about one complaint.
pub async fn add_recommendation(
    conn: &mut AnyConnection,
    complaint_id: Option<i64>,
    text: &str,
    by: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO recommendations (complaint_id, text, made_by, made_at) VALUES ($1, $2, $3, $4)")
        .bind(complaint_id)
        .bind(text.trim())
        .bind(by)
        .bind(secs(now))
        .execute(&mut *conn)
        .await
    .context("add_recommendation: INSERT INTO recommendations")?;
    Ok(())
}

/// Records a measure management decided on; returns its number.
pub async fn add_measure(
    conn: &mut AnyConnection,
    complaint_id: Option<i64>,
    text: &str,
    status: &str,
    by: &str,
    now: Timestamp,
) -> anyhow::Result<i64> {
    let query = sqlx::query(
        "INSERT INTO measures (complaint_id, text, status, decided_by, decided_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(complaint_id)
    .bind(text.trim())
    .bind(status)
    .bind(by)
    .bind(secs(now));
    let row = super::returning(query, conn)
        .await
        .context("INSERT INTO measures")?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok(row.try_get(0)?)
}

/// Changes a measure's status; false when there is no such measure.
pub async fn set_measure_status(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    now: Timestamp,
) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE measures SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status)
        .bind(secs(now))
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("set_measure_status: UPDATE measures")?;
    Ok(done.rows_affected() == 1)
}

/// A recommendation or measure as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recorded {
    /// Row id.
    pub id: i64,
    /// The complaint's reference, if about one.
    pub reference: Option<String>,
    /// The text.
    pub text: String,
    /// Who.
    pub by: String,
    /// When.
    pub at: Timestamp,
    /// For measures: `decided`, `in_progress`, `done`; for recommendations: empty.
    pub status: String,
}

/// Recommendations made within [from, to).
pub async fn recommendations(
    conn: &mut AnyConnection,
    from: Timestamp,
    to: Timestamp,
) -> anyhow::Result<Vec<Recorded>> {
    let rows = sqlx::query(
        "SELECT r.id, c.reference, r.text, r.made_by, r.made_at FROM recommendations r \
         LEFT JOIN complaints c ON c.id = r.complaint_id WHERE r.made_at >= $1 AND r.made_at < $2 ORDER BY r.id",
    )
    .bind(secs(from))
    .bind(secs(to))
    .fetch_all(&mut *conn)
    .await
    .context("recommendations: SELECT FROM recommendations")?;
    rows.iter()
        .map(|r| {
            Ok(Recorded {
                id: r.try_get(0)?,
                reference: r.try_get(1)?,
                text: r.try_get(2)?,
                by: r.try_get(3)?,
                at: from_secs(r.try_get(4)?),
                status: String::new(),
            })
        })
        .collect()
}

/// Measures decided within [from, to), or still open whenever decided.
pub async fn measures(
    conn: &mut AnyConnection,
    from: Timestamp,
    to: Timestamp,
) -> anyhow::Result<Vec<Recorded>> {
    let rows = sqlx::query(
        "SELECT m.id, c.reference, m.text, m.decided_by, m.decided_at, m.status FROM measures m \
         LEFT JOIN complaints c ON c.id = m.complaint_id \
         WHERE (m.decided_at >= $1 AND m.decided_at < $2) OR (m.decided_at < $2 AND m.status <> 'done') ORDER BY m.id",
    )
    .bind(secs(from))
    .bind(secs(to))
    .fetch_all(&mut *conn)
    .await
    .context("measures: SELECT FROM measures")?;
    rows.iter()
        .map(|r| {
            Ok(Recorded {
                id: r.try_get(0)?,
                reference: r.try_get(1)?,
                text: r.try_get(2)?,
                by: r.try_get(3)?,
                at: from_secs(r.try_get(4)?),
                status: r.try_get(5)?,
            })
        })
        .collect()
}
