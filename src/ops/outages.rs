//! The `alert_outages` table (migration 0006): what the alerts know about an outage, kept
//! across restarts.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::store::{from_opt_secs, from_secs, secs};

/// A failing part as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    /// Since when it fails.
    pub since: Timestamp,
    /// The last error seen (the server's words).
    pub error: Option<String>,
    /// When the alert was queued; none while the outage is younger than `[alerts] after`.
    pub alerted_at: Option<Timestamp>,
}

/// The stored outage of `part`, if any.
pub async fn get(conn: &mut AnyConnection, part: &str) -> anyhow::Result<Option<Outage>> {
    let row =
        sqlx::query("SELECT since, last_error, alerted_at FROM alert_outages WHERE part = $1")
            .bind(part)
            .fetch_optional(&mut *conn)
            .await
            .context("Failed to read alert_outages")?;
    row.map(|r| {
        Ok(Outage {
            since: from_secs(r.try_get("since")?),
            error: r.try_get("last_error")?,
            alerted_at: from_opt_secs(r.try_get("alerted_at")?),
        })
    })
    .transpose()
}

/// Writes the outage of `part` (insert or replace).
pub async fn put(conn: &mut AnyConnection, part: &str, o: &Outage) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO alert_outages (part, since, last_error, alerted_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (part) DO UPDATE SET since = $2, last_error = $3, alerted_at = $4",
    )
    .bind(part)
    .bind(secs(o.since))
    .bind(o.error.as_deref())
    .bind(o.alerted_at.map(secs))
    .execute(&mut *conn)
    .await
    .context("Failed to write alert_outages")?;
    Ok(())
}

/// Forgets the outage of `part`.
pub async fn remove(conn: &mut AnyConnection, part: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM alert_outages WHERE part = $1")
        .bind(part)
        .execute(&mut *conn)
        .await
        .context("Failed to delete from alert_outages")?;
    Ok(())
}
