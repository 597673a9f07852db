//! Reading what the report needs from the register: the complaints received in the period
//! and in the previous one, the recommendations and the measures.
//!
//! The report's own projection of the `complaints` table rather than
//! [`crate::store::complaints::list`]: it selects one period by `received_at` (the whole
//! register can hold many years) and leaves out what the report never shows (description,
//! advice, solution, verdict, who received, handles or is concerned: empty in the records
//! loaded here). Without names, the complainant's columns are not even read, so no renderer
//! can leak them.

use anyhow::Context;
use futures::TryStreamExt;
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Period;
use super::figures::{Measure, Recommendation};
use crate::domain::{
    Channel, Classification, Complainant, Complaint, CustomerType, Deadlines, EmailAddress, Origin,
    Outcome, Reference, Status,
};
use crate::store::{Store, from_opt_secs, from_secs, secs};

/// Everything the report reads from the register.
#[derive(Debug, Clone, Default)]
pub struct Register {
    /// Complaints received in the period, oldest first.
    pub complaints: Vec<Complaint>,
    /// Complaints received in the previous period of equal length, for the comparison.
    pub previous: Vec<Complaint>,
    /// Recommendations made in the period.
    pub recommendations: Vec<Recommendation>,
    /// Measures decided or updated in the period.
    pub measures: Vec<Measure>,
}

/// Reads the register for `period`. Complainant details only `with_names`.
pub async fn register(
    store: &Store,
    period: &Period,
    with_names: bool,
) -> anyhow::Result<Register> {
    // Two connections, each reading half of the period (by time), so that two database
    // workers and two decoders run at once: reading is most of the time a report of a large
    // register takes. Both are readers of their own, outside the pool: on SQLite the pool is
    // one connection, shared with the daemon's workers, and `#rapport` builds the report
    // while its own mail's transaction holds that connection.
    let (start, end) = (period.start(), period.end());
    let mid =
        Timestamp::from_second(start.as_second() + (end.as_second() - start.as_second()) / 2)?;
    let previous = period.previous();
    let first = tokio::spawn({
        let store = store.clone();
        async move {
            let mut conn = store.reader().await?;
            let first = complaints(&mut conn, start, mid, with_names).await?;
            let previous = match previous {
                Some(p) => complaints(&mut conn, p.start(), p.end(), with_names).await?,
                None => Vec::new(),
            };
            Ok::<_, anyhow::Error>((first, previous))
        }
    });
    let mut conn = store.reader().await?;
    let second = complaints(&mut conn, mid, end, with_names).await?;
    let recommendations = recommendations(&mut conn, period).await?;
    let measures = measures(&mut conn, period).await?;
    drop(conn);
    let (mut current, previous) = first.await.context("The reading task failed")??;
    current.extend(second);
    Ok(Register {
        complaints: current,
        previous,
        recommendations,
        measures,
    })
}

// Read by position in `from_row`: keep the order. Only what the report uses: every value
// read costs (about half a microsecond each with sqlx on SQLite), so the long texts and the
// staff addresses stay in the register.
const COLUMNS: &str = "reference, received_at, channel, origin, customer_type, subject, \
    category, department, classification, root_cause, status, outcome, acknowledge_by, \
    explain_by, solve_by, acknowledged_at, explained_at, solved_at, closed_at, rejections, \
    reopenings";
const NAME_COLUMNS: &str =
    "complainant_name, complainant_email, complainant_phone, complainant_organisation";

/// Complaints received in `[start, end)`, oldest first.
pub async fn complaints(
    conn: &mut AnyConnection,
    start: Timestamp,
    end: Timestamp,
    with_names: bool,
) -> anyhow::Result<Vec<Complaint>> {
    let names = if with_names {
        format!(", {NAME_COLUMNS}")
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT {COLUMNS}{names} FROM complaints WHERE received_at >= $1 AND received_at < $2 \
         ORDER BY received_at, id"
    );
    // Streamed: each row is decoded while the database produces the next.
    let mut rows = sqlx::query(&sql)
        .bind(secs(start))
        .bind(secs(end))
        .fetch(&mut *conn);
    let mut out = Vec::new();
    while let Some(row) = rows
        .try_next()
        .await
        .context("Failed to read the complaints for the report")?
    {
        let complaint =
            from_row(&row, with_names).context("A complaint in the register cannot be read")?;
        out.push(complaint);
    }
    Ok(out)
}

fn from_row(row: &AnyRow, with_names: bool) -> anyhow::Result<Complaint> {
    let text = |i: usize| -> anyhow::Result<Option<String>> { Ok(row.try_get(i)?) };
    let word = |i: usize| -> anyhow::Result<String> { Ok(row.try_get(i)?) };
    let time = |i: usize| -> anyhow::Result<Timestamp> { Ok(from_secs(row.try_get(i)?)) };
    let opt_time =
        |i: usize| -> anyhow::Result<Option<Timestamp>> { Ok(from_opt_secs(row.try_get(i)?)) };
    let count = |i: usize| -> anyhow::Result<u32> {
        Ok(u32::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
    };
    let complainant = if with_names {
        Complainant {
            name: text(21)?,
            email: text(22)?.and_then(|s| EmailAddress::parse(&s).ok()),
            phone: text(23)?,
            organisation: text(24)?,
        }
    } else {
        Complainant::default()
    };
    Ok(Complaint {
        reference: reference_of(&word(0)?)?,
        received_at: time(1)?,
        channel: Channel::parse(&word(2)?)?,
        origin: Origin::parse(&word(3)?)?,
        customer_type: text(4)?.map(|s| CustomerType::parse(&s)).transpose()?,
        complainant,
        received_by: None,
        subject: word(5)?,
        description: String::new(),
        category: text(6)?,
        department: text(7)?,
        assignee: None,
        concerned: None,
        classification: Classification::parse(&word(8)?)?,
        root_cause: text(9)?,
        advice: None,
        solution: None,
        verdict: None,
        status: Status::parse(&word(10)?)?,
        outcome: text(11)?.map(|s| Outcome::parse(&s)).transpose()?,
        deadlines: Deadlines {
            acknowledge_by: time(12)?,
            explain_by: time(13)?,
            solve_by: time(14)?,
            acknowledged_at: opt_time(15)?,
            explained_at: opt_time(16)?,
            solved_at: opt_time(17)?,
        },
        closed_at: opt_time(18)?,
        rejections: count(19)?,
        reopenings: count(20)?,
    })
}

/// A stored reference: `KL-YYYY-NNNN` split by hand (the register holds only references we
/// wrote, and the regex of [`Reference::parse`] costs more than the rest of the row), else
/// [`Reference::parse`] for its error.
fn reference_of(text: &str) -> anyhow::Result<Reference> {
    let quick = text
        .strip_prefix("KL-")
        .and_then(|rest| rest.split_once('-'))
        .filter(|(y, n)| y.len() == 4 && n.len() >= 4)
        .and_then(|(y, n)| Reference::new(y.parse().ok()?, n.parse().ok()?).ok());
    match quick {
        Some(r) => Ok(r),
        None => Ok(Reference::parse(text)?),
    }
}

/// Recommendations made in the period, oldest first.
pub async fn recommendations(
    conn: &mut AnyConnection,
    period: &Period,
) -> anyhow::Result<Vec<Recommendation>> {
    let rows = sqlx::query(
        "SELECT c.reference, r.text, r.made_at FROM recommendations r \
         LEFT JOIN complaints c ON c.id = r.complaint_id \
         WHERE r.made_at >= $1 AND r.made_at < $2 ORDER BY r.made_at, r.id",
    )
    .bind(secs(period.start()))
    .bind(secs(period.end()))
    .fetch_all(&mut *conn)
    .await
    .context("Failed to read the recommendations")?;
    rows.iter()
        .map(|row| {
            Ok(Recommendation {
                reference: reference(row.try_get(0)?),
                text: row.try_get(1)?,
                made_at: from_secs(row.try_get(2)?),
            })
        })
        .collect()
}

/// Measures decided in the period, or whose status changed in it (so a measure decided last
/// year and carried out this year shows in this year's report), oldest first.
pub async fn measures(conn: &mut AnyConnection, period: &Period) -> anyhow::Result<Vec<Measure>> {
    let rows = sqlx::query(
        "SELECT c.reference, m.text, m.status, m.decided_at, m.updated_at FROM measures m \
         LEFT JOIN complaints c ON c.id = m.complaint_id \
         WHERE (m.decided_at >= $1 AND m.decided_at < $2) \
            OR (m.updated_at >= $3 AND m.updated_at < $4) \
         ORDER BY m.decided_at, m.id",
    )
    .bind(secs(period.start()))
    .bind(secs(period.end()))
    .bind(secs(period.start()))
    .bind(secs(period.end()))
    .fetch_all(&mut *conn)
    .await
    .context("Failed to read the measures")?;
    rows.iter()
        .map(|row| {
            Ok(Measure {
                reference: reference(row.try_get(0)?),
                text: row.try_get(1)?,
                status: row.try_get(2)?,
                decided_at: from_secs(row.try_get(3)?),
                updated_at: from_secs(row.try_get(4)?),
            })
        })
        .collect()
}

fn reference(text: Option<String>) -> Option<Reference> {
    text.and_then(|s| reference_of(&s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_references_are_read_without_the_regex_and_odd_ones_still_fail() {
        assert_eq!(
            reference_of("KL-2026-0042").unwrap(),
            Reference::new(2026, 42).unwrap()
        );
        assert_eq!(
            reference_of("KL-2026-12345").unwrap(),
            Reference::new(2026, 12345).unwrap()
        );
        assert!(reference_of("KL-2026-42").is_err());
        assert!(reference_of("KL-2026-0000").is_err());
        assert!(reference_of("nonsense").is_err());
    }
}
