//! The `complaints` table and the per-year reference counter.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{from_opt_secs, from_secs, secs};
use crate::domain::{
    Channel, Classification, Complainant, Complaint, CustomerType, Deadlines, EmailAddress, Origin,
    Outcome, Reference, Status, Verdict,
};

/// A stored complaint: its row id and the record.
#[derive(Debug, Clone)]
pub struct StoredComplaint {
    /// Row id (internal; the reference is what people see).
    pub id: i64,
    /// The record.
    pub complaint: Complaint,
}

/// Allocates the next reference of `year`. Runs inside the caller's transaction, so a
/// rolled-back registration does not use up a number and a committed one is never reused.
pub async fn next_reference(conn: &mut AnyConnection, year: i16) -> anyhow::Result<Reference> {
    // One statement: the year's first number, or the next one (both SQLite and PostgreSQL
    // name the existing row by its table in DO UPDATE).
    let query = sqlx::query(
        "INSERT INTO reference_counters (year, last_number) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last_number = reference_counters.last_number + 1 \
         RETURNING last_number",
    )
    .bind(i64::from(year));
    let row = super::returning(query, conn)
        .await
        .context("next_reference: INSERT INTO reference_counters")?
        .ok_or(sqlx::Error::RowNotFound)?;
    let n: i64 = row.try_get(0)?;
    let number = u32::try_from(n).context("reference counter out of range")?;
    Ok(Reference::new(year, number)?)
}

const COLUMNS: &str = "id, reference, received_at, channel, origin, customer_type, \
    complainant_name, complainant_email, complainant_phone, complainant_organisation, \
    received_by, subject, description, category, department, assignee, concerned, \
    classification, root_cause, advice, solution, verdict, status, outcome, acknowledge_by, \
    explain_by, solve_by, acknowledged_at, explained_at, solved_at, closed_at, rejections, \
    reopenings";

/// Inserts a new complaint and returns its row id.
pub async fn insert(
    conn: &mut AnyConnection,
    c: &Complaint,
    now: Timestamp,
) -> anyhow::Result<i64> {
    let sql = "INSERT INTO complaints (reference, received_at, channel, origin, customer_type, \
        complainant_name, complainant_email, complainant_phone, complainant_organisation, \
        received_by, subject, description, category, department, assignee, concerned, \
        classification, root_cause, advice, solution, verdict, status, outcome, acknowledge_by, \
        explain_by, solve_by, acknowledged_at, explained_at, solved_at, closed_at, rejections, \
        reopenings, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
        $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, \
        $31, $32, $33) RETURNING id";
    let query = bind_all(
        sqlx::query(sql)
            .bind(c.reference.to_string())
            .bind(secs(c.received_at)),
        c,
        now,
    );
    let row = super::returning(query, conn)
        .await
        .context("INSERT INTO complaints")?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok(row.try_get(0)?)
}

/// Writes every field of the record back.
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    c: &Complaint,
    now: Timestamp,
) -> anyhow::Result<()> {
    let sql = "UPDATE complaints SET reference = $1, received_at = $2, channel = $3, origin = $4, \
        customer_type = $5, complainant_name = $6, complainant_email = $7, complainant_phone = $8, \
        complainant_organisation = $9, received_by = $10, subject = $11, description = $12, \
        category = $13, department = $14, assignee = $15, concerned = $16, classification = $17, \
        root_cause = $18, advice = $19, solution = $20, verdict = $21, status = $22, outcome = $23, \
        acknowledge_by = $24, explain_by = $25, solve_by = $26, acknowledged_at = $27, \
        explained_at = $28, solved_at = $29, closed_at = $30, rejections = $31, reopenings = $32, \
        updated_at = $33 WHERE id = $34";
    bind_all(
        sqlx::query(sql)
            .bind(c.reference.to_string())
            .bind(secs(c.received_at)),
        c,
        now,
    )
    .bind(id)
    .execute(&mut *conn)
    .await
    .context("Failed to update complaint")?;
    Ok(())
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds parameters $3..$33 (everything after reference and received_at).
fn bind_all<'q>(q: Query<'q>, c: &Complaint, now: Timestamp) -> Query<'q> {
    let text = |a: &Option<EmailAddress>| a.as_ref().map(ToString::to_string);
    let d = &c.deadlines;
    q.bind(c.channel.as_str())
        .bind(c.origin.as_str())
        .bind(c.customer_type.map(|t| t.as_str()))
        .bind(c.complainant.name.clone())
        .bind(text(&c.complainant.email))
        .bind(c.complainant.phone.clone())
        .bind(c.complainant.organisation.clone())
        .bind(text(&c.received_by))
        .bind(c.subject.clone())
        .bind(c.description.clone())
        .bind(c.category.clone())
        .bind(c.department.clone())
        .bind(text(&c.assignee))
        .bind(text(&c.concerned))
        .bind(c.classification.as_str())
        .bind(c.root_cause.clone())
        .bind(c.advice.clone())
        .bind(c.solution.clone())
        .bind(c.verdict.map(|v| v.as_str()))
        .bind(c.status.as_str())
        .bind(c.outcome.map(|o| o.as_str()))
        .bind(secs(d.acknowledge_by))
        .bind(secs(d.explain_by))
        .bind(secs(d.solve_by))
        .bind(d.acknowledged_at.map(secs))
        .bind(d.explained_at.map(secs))
        .bind(d.solved_at.map(secs))
        .bind(c.closed_at.map(secs))
        .bind(i64::from(c.rejections))
        .bind(i64::from(c.reopenings))
        .bind(secs(now))
}

/// Loads a complaint by reference.
pub async fn load(
    conn: &mut AnyConnection,
    reference: Reference,
) -> anyhow::Result<Option<StoredComplaint>> {
    let sql = format!("SELECT {COLUMNS} FROM complaints WHERE reference = $1");
    let row = sqlx::query(&sql)
        .bind(reference.to_string())
        .fetch_optional(&mut *conn)
        .await
        .context("load: SELECT FROM complaints")?;
    row.as_ref().map(from_row).transpose()
}

/// Loads a complaint by row id.
pub async fn load_by_id(
    conn: &mut AnyConnection,
    id: i64,
) -> anyhow::Result<Option<StoredComplaint>> {
    let sql = format!("SELECT {COLUMNS} FROM complaints WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .context("load_by_id: SELECT FROM complaints")?;
    row.as_ref().map(from_row).transpose()
}

/// The complaints with these row ids (those that exist), by id: one query per
/// [`crate::store::ID_CHUNK`] ids.
pub async fn load_many(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> anyhow::Result<Vec<StoredComplaint>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(super::ID_CHUNK) {
        let sql = format!(
            "SELECT {COLUMNS} FROM complaints WHERE id IN ({}) ORDER BY id",
            super::placeholders(1, chunk.len())
        );
        let rows = super::bind_ids(sqlx::query(&sql).persistent(false), chunk)
            .fetch_all(&mut *conn)
            .await
            .context("load_many: SELECT FROM complaints")?;
        for row in &rows {
            found.push(from_row(row)?);
        }
    }
    Ok(found)
}

/// When each of these complaints was received, by row id (those that exist).
pub async fn received_at_of(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> anyhow::Result<std::collections::BTreeMap<i64, Timestamp>> {
    let mut received = std::collections::BTreeMap::new();
    for chunk in ids.chunks(super::ID_CHUNK) {
        let sql = format!(
            "SELECT id, received_at FROM complaints WHERE id IN ({})",
            super::placeholders(1, chunk.len())
        );
        let rows: Vec<(i64, i64)> = chunk
            .iter()
            .fold(sqlx::query_as(&sql).persistent(false), |q, id| q.bind(*id))
            .fetch_all(&mut *conn)
            .await
            .context("received_at_of: SELECT FROM complaints")?;
        received.extend(rows.into_iter().map(|(id, at)| (id, from_secs(at))));
    }
    Ok(received)
}

/// Which complaints to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    /// Only open complaints.
    pub open_only: bool,
    /// Only complaints with this status.
    pub status: Option<Status>,
}

/// Lists complaints, oldest first.
pub async fn list(
    conn: &mut AnyConnection,
    filter: ListFilter,
) -> anyhow::Result<Vec<StoredComplaint>> {
    let mut sql = format!("SELECT {COLUMNS} FROM complaints");
    let mut q_status = None;
    if let Some(s) = filter.status {
        sql.push_str(" WHERE status = $1");
        q_status = Some(s.as_str());
    } else if filter.open_only {
        sql.push_str(" WHERE status <> 'closed'");
    }
    sql.push_str(" ORDER BY received_at, id");
    let mut q = sqlx::query(&sql);
    if let Some(s) = q_status {
        q = q.bind(s);
    }
    let rows = q
        .fetch_all(&mut *conn)
        .await
        .context("list: SELECT FROM complaints")?;
    rows.iter().map(from_row).collect()
}

/// How many complaints the register holds.
pub async fn count(conn: &mut AnyConnection) -> anyhow::Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) FROM complaints")
        .fetch_one(&mut *conn)
        .await
        .context("count: SELECT FROM complaints")?;
    Ok(row.try_get(0)?)
}

fn from_row(row: &AnyRow) -> anyhow::Result<StoredComplaint> {
    let text = |name: &str| -> anyhow::Result<Option<String>> { Ok(row.try_get(name)?) };
    let address = |name: &str| -> anyhow::Result<Option<EmailAddress>> {
        Ok(text(name)?.and_then(|s| EmailAddress::parse(&s).ok()))
    };
    let time = |name: &str| -> anyhow::Result<Timestamp> { Ok(from_secs(row.try_get(name)?)) };
    let opt_time =
        |name: &str| -> anyhow::Result<Option<Timestamp>> { Ok(from_opt_secs(row.try_get(name)?)) };
    let reference: String = row.try_get("reference")?;
    let complaint = Complaint {
        reference: Reference::parse(&reference)?,
        received_at: time("received_at")?,
        channel: Channel::parse(&row.try_get::<String, _>("channel")?)?,
        origin: Origin::parse(&row.try_get::<String, _>("origin")?)?,
        customer_type: text("customer_type")?
            .map(|s| CustomerType::parse(&s))
            .transpose()?,
        complainant: Complainant {
            name: text("complainant_name")?,
            email: address("complainant_email")?,
            phone: text("complainant_phone")?,
            organisation: text("complainant_organisation")?,
        },
        received_by: address("received_by")?,
        subject: row.try_get("subject")?,
        description: row.try_get("description")?,
        category: text("category")?,
        department: text("department")?,
        assignee: address("assignee")?,
        concerned: address("concerned")?,
        classification: Classification::parse(&row.try_get::<String, _>("classification")?)?,
        root_cause: text("root_cause")?,
        advice: text("advice")?,
        solution: text("solution")?,
        verdict: text("verdict")?.map(|s| Verdict::parse(&s)).transpose()?,
        status: Status::parse(&row.try_get::<String, _>("status")?)?,
        outcome: text("outcome")?.map(|s| Outcome::parse(&s)).transpose()?,
        deadlines: Deadlines {
            acknowledge_by: time("acknowledge_by")?,
            explain_by: time("explain_by")?,
            solve_by: time("solve_by")?,
            acknowledged_at: opt_time("acknowledged_at")?,
            explained_at: opt_time("explained_at")?,
            solved_at: opt_time("solved_at")?,
        },
        closed_at: opt_time("closed_at")?,
        rejections: u32::try_from(row.try_get::<i64, _>("rejections")?).unwrap_or(0),
        reopenings: u32::try_from(row.try_get::<i64, _>("reopenings")?).unwrap_or(0),
    };
    Ok(StoredComplaint {
        id: row.try_get("id")?,
        complaint,
    })
}
