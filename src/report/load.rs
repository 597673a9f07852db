//! Reading what the report needs from the register: the complaints received in the period
//! and in the previous one, the recommendations and the measures.
//!
//! The report's own projection of the `complaints` table rather than
//! [`crate::store::complaints::list`]: it selects one period by `received_at` (the whole
//! register can hold many years) and leaves out the long texts the report never shows
//! (description, advice, solution: empty in the records loaded here). Without names, the
//! complainant's columns are not even read, so no renderer can leak them.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Period;
use super::figures::{Measure, Recommendation};
use crate::domain::{
    Channel, Classification, Complainant, Complaint, CustomerType, Deadlines, EmailAddress, Origin,
    Outcome, Reference, Status, Verdict,
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
    let mut conn = store
        .pool()
        .acquire()
        .await
        .context("Failed to open the register")?;
    let complaints = complaints(&mut conn, period.start(), period.end(), with_names).await?;
    let previous = match period.previous() {
        Some(p) => complaints(&mut conn, p.start(), p.end(), with_names).await?,
        None => Vec::new(),
    };
    Ok(Register {
        complaints,
        previous,
        recommendations: recommendations(&mut conn, period).await?,
        measures: measures(&mut conn, period).await?,
    })
}

// Read by position in `from_row`: keep the order.
const COLUMNS: &str = "reference, received_at, channel, origin, customer_type, received_by, \
    subject, category, department, assignee, concerned, classification, root_cause, verdict, \
    status, outcome, acknowledge_by, explain_by, solve_by, acknowledged_at, explained_at, \
    solved_at, closed_at, rejections, reopenings";
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
    let rows = sqlx::query(&sql)
        .bind(secs(start))
        .bind(secs(end))
        .fetch_all(&mut *conn)
        .await
        .context("Failed to read the complaints for the report")?;
    rows.iter()
        .map(|row| from_row(row, with_names))
        .collect::<anyhow::Result<_>>()
        .context("A complaint in the register cannot be read")
}

fn from_row(row: &AnyRow, with_names: bool) -> anyhow::Result<Complaint> {
    let text = |i: usize| -> anyhow::Result<Option<String>> { Ok(row.try_get(i)?) };
    let word = |i: usize| -> anyhow::Result<String> { Ok(row.try_get(i)?) };
    let address = |i: usize| -> anyhow::Result<Option<EmailAddress>> {
        Ok(text(i)?.and_then(|s| EmailAddress::parse(&s).ok()))
    };
    let time = |i: usize| -> anyhow::Result<Timestamp> { Ok(from_secs(row.try_get(i)?)) };
    let opt_time = |i: usize| -> anyhow::Result<Option<Timestamp>> {
        Ok(from_opt_secs(row.try_get(i)?))
    };
    let count = |i: usize| -> anyhow::Result<u32> {
        Ok(u32::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
    };
    let reference = Reference::parse(&word(0)?)?;
    let complainant = if with_names {
        Complainant {
            name: text(25)?,
            email: address(26)?,
            phone: text(27)?,
            organisation: text(28)?,
        }
    } else {
        Complainant::default()
    };
    Ok(Complaint {
        reference,
        received_at: time(1)?,
        channel: Channel::parse(&word(2)?)?,
        origin: Origin::parse(&word(3)?)?,
        customer_type: text(4)?.map(|s| CustomerType::parse(&s)).transpose()?,
        complainant,
        received_by: address(5)?,
        subject: word(6)?,
        description: String::new(),
        category: text(7)?,
        department: text(8)?,
        assignee: address(9)?,
        concerned: address(10)?,
        classification: Classification::parse(&word(11)?)?,
        root_cause: text(12)?,
        advice: None,
        solution: None,
        verdict: text(13)?.map(|s| Verdict::parse(&s)).transpose()?,
        status: Status::parse(&word(14)?)?,
        outcome: text(15)?.map(|s| Outcome::parse(&s)).transpose()?,
        deadlines: Deadlines {
            acknowledge_by: time(16)?,
            explain_by: time(17)?,
            solve_by: time(18)?,
            acknowledged_at: opt_time(19)?,
            explained_at: opt_time(20)?,
            solved_at: opt_time(21)?,
        },
        closed_at: opt_time(22)?,
        rejections: count(23)?,
        reopenings: count(24)?,
    })
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
    text.and_then(|s| Reference::parse(&s).ok())
}
