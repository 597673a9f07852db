//! Reading what the report needs from the register: the complaints received in the period
//! and in the previous one, the recommendations and the measures.
//!
//! The report's own projection of the `complaints` table rather than
//! [`crate::store::complaints::list`]: it selects one period by `received_at` (the whole
//! register can hold many years) and leaves out what the report never shows (description,
//! advice, solution, verdict, who received, handles or is concerned: empty in the records
//! loaded here). Without names, the complainant's columns are not even read, so no renderer
//! can leak them.

use std::borrow::Cow;

use anyhow::Context;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row as _};

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

// The columns the report uses, in the order of [`Row`]. The long texts and the staff
// addresses stay in the register.
const COLUMNS: &str = "id, reference, received_at, channel, origin, customer_type, subject, \
    category, department, classification, root_cause, status, outcome, acknowledge_by, \
    explain_by, solve_by, acknowledged_at, explained_at, solved_at, closed_at, rejections, \
    reopenings";
const NAME_COLUMNS: &str =
    "complainant_name, complainant_email, complainant_phone, complainant_organisation";
const NO_NAMES: &str = "NULL AS complainant_name, NULL AS complainant_email, \
    NULL AS complainant_phone, NULL AS complainant_organisation";

/// Complaints per block the database hands over at once.
const BLOCK: i64 = 5_000;

/// Complaints received in `[start, end)`, oldest first.
///
/// The database hands the rows over in blocks of [`BLOCK`], each one JSON array of arrays,
/// rather than row by row. sqlx decodes every value of a row into a value of its own and
/// (on SQLite) passes each row from its database thread to ours; with 21 values a row that
/// was about a microsecond a value, most of the time a report of a large register took. One
/// text per block costs the database little to write and serde_json little to read.
pub async fn complaints(
    conn: &mut AnyConnection,
    start: Timestamp,
    end: Timestamp,
    with_names: bool,
) -> anyhow::Result<Vec<Complaint>> {
    let (group, array, as_text) = match conn.backend_name() {
        "PostgreSQL" => ("json_agg", "json_build_array", "::text"),
        _ => ("json_group_array", "json_array", ""),
    };
    let names = if with_names { NAME_COLUMNS } else { NO_NAMES };
    // Keyset paging on (received_at, id): each block starts after the last one's newest.
    let sql = format!(
        "SELECT {group}({array}({COLUMNS}, {NAME_COLUMNS})){as_text} FROM \
         (SELECT {COLUMNS}, {names} FROM complaints WHERE received_at >= $1 AND received_at < $2 \
          AND (received_at > $3 OR (received_at = $3 AND id > $4)) \
          ORDER BY received_at, id LIMIT $5) AS block"
    );
    let mut out: Vec<Complaint> = Vec::new();
    let mut after = (i64::MIN, i64::MIN);
    loop {
        let text: Option<String> = sqlx::query_scalar(&sql)
            .bind(secs(start))
            .bind(secs(end))
            .bind(after.0)
            .bind(after.1)
            .bind(BLOCK)
            .fetch_one(&mut *conn)
            .await
            .context("Failed to read the complaints for the report")?;
        let mut rows: Vec<Row> = match &text {
            Some(text) => serde_json::from_str(text)
                .context("The register's complaints could not be read as a block")?,
            None => Vec::new(),
        };
        // The order within a block is the aggregate's, which SQL does not promise.
        rows.sort_unstable_by_key(|r| (r.received_at, r.id));
        let full = rows.len() as i64 == BLOCK;
        for row in rows {
            after = (row.received_at, row.id);
            out.push(
                complaint(row, with_names).context("A complaint in the register cannot be read")?,
            );
        }
        if !full {
            break;
        }
    }
    Ok(out)
}

/// One complaint as the database wrote it in a block: the columns of [`COLUMNS`] and the
/// names, by position. Texts are borrowed from the block unless they hold escapes.
#[derive(serde::Deserialize)]
struct Row<'a> {
    id: i64,
    #[serde(borrow)]
    reference: Cow<'a, str>,
    received_at: i64,
    #[serde(borrow)]
    channel: Cow<'a, str>,
    #[serde(borrow)]
    origin: Cow<'a, str>,
    #[serde(borrow)]
    customer_type: Option<Cow<'a, str>>,
    subject: String,
    category: Option<String>,
    department: Option<String>,
    #[serde(borrow)]
    classification: Cow<'a, str>,
    root_cause: Option<String>,
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(borrow)]
    outcome: Option<Cow<'a, str>>,
    acknowledge_by: i64,
    explain_by: i64,
    solve_by: i64,
    acknowledged_at: Option<i64>,
    explained_at: Option<i64>,
    solved_at: Option<i64>,
    closed_at: Option<i64>,
    rejections: i64,
    reopenings: i64,
    complainant_name: Option<String>,
    complainant_email: Option<String>,
    complainant_phone: Option<String>,
    complainant_organisation: Option<String>,
}

fn complaint(row: Row<'_>, with_names: bool) -> anyhow::Result<Complaint> {
    let count = |n: i64| u32::try_from(n).unwrap_or(0);
    let complainant = if with_names {
        Complainant {
            name: row.complainant_name,
            email: row
                .complainant_email
                .and_then(|s| EmailAddress::parse(&s).ok()),
            phone: row.complainant_phone,
            organisation: row.complainant_organisation,
        }
    } else {
        Complainant::default()
    };
    Ok(Complaint {
        reference: reference_of(&row.reference)?,
        received_at: from_secs(row.received_at),
        channel: Channel::parse(&row.channel)?,
        origin: Origin::parse(&row.origin)?,
        customer_type: row
            .customer_type
            .map(|s| CustomerType::parse(&s))
            .transpose()?,
        complainant,
        received_by: None,
        subject: row.subject,
        description: String::new(),
        category: row.category,
        department: row.department,
        assignee: None,
        concerned: None,
        classification: Classification::parse(&row.classification)?,
        root_cause: row.root_cause,
        advice: None,
        solution: None,
        verdict: None,
        status: Status::parse(&row.status)?,
        outcome: row.outcome.map(|s| Outcome::parse(&s)).transpose()?,
        deadlines: Deadlines {
            acknowledge_by: from_secs(row.acknowledge_by),
            explain_by: from_secs(row.explain_by),
            solve_by: from_secs(row.solve_by),
            acknowledged_at: from_opt_secs(row.acknowledged_at),
            explained_at: from_opt_secs(row.explained_at),
            solved_at: from_opt_secs(row.solved_at),
        },
        closed_at: from_opt_secs(row.closed_at),
        rejections: count(row.rejections),
        reopenings: count(row.reopenings),
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
