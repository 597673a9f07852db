//! Access and erasure per person: the complaints where an address (and, when given, a
//! phone number or name) is the complainant or the concerned person, and their erasure.

use anyhow::Context;
use sqlx::{AnyConnection, Row};

use super::audit::{self, Entry};
use super::erase::{self, Rule};
use super::plan::Needles;
use crate::app::Bot;
use crate::domain::EmailAddress;
use crate::procedure::{self, Event};
use crate::store::complaints;
use crate::store::events::{self, NewEvent};

/// Who an access or erasure request is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// Their address.
    pub address: Option<EmailAddress>,
    /// Their phone number, as any of the register's spellings (digits are compared).
    pub phone: Option<String>,
    /// Their name (compared ignoring case).
    pub name: Option<String>,
}

impl Person {
    /// The strings to scrub from what stays.
    pub fn needles(&self) -> Needles {
        let mut n = Needles::default();
        for s in [
            self.address.as_ref().map(|a| a.as_ref()),
            self.phone.as_deref(),
            self.name.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            n.add(s);
        }
        n
    }
}

/// A complaint the person appears in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Found {
    /// Row id.
    #[serde(skip)]
    pub id: i64,
    /// The reference.
    pub reference: String,
    /// `complainant` or `concerned`.
    pub role: &'static str,
    /// Its status.
    pub status: String,
    /// Whether it was anonymised before.
    pub anonymised: bool,
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Every complaint where the person is complainant or concerned person, oldest first.
pub async fn complaints_of(conn: &mut AnyConnection, p: &Person) -> anyhow::Result<Vec<Found>> {
    let rows = sqlx::query(
        "SELECT id, reference, status, complainant_email, complainant_phone, complainant_name, \
         concerned, anonymised_at FROM complaints ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .context("Failed to search the register")?;
    let address = p.address.as_ref().map(|a| a.as_ref().to_lowercase());
    let phone = p.phone.as_deref().map(digits).filter(|d| d.len() >= 6);
    let name = p.name.as_deref().map(|n| n.trim().to_lowercase());
    let mut out = Vec::new();
    for r in rows {
        let text =
            |i: usize| -> Option<String> { r.try_get::<Option<String>, _>(i).ok().flatten() };
        let is = |v: Option<String>, want: &Option<String>| {
            v.zip(want.as_ref())
                .is_some_and(|(v, w)| v.trim().to_lowercase() == *w)
        };
        let complainant = is(text(3), &address)
            || text(4)
                .map(|v| digits(&v))
                .zip(phone.as_ref())
                .is_some_and(|(v, w)| v == *w)
            || is(text(5), &name);
        let role = if complainant {
            "complainant"
        } else if is(text(6), &address) {
            "concerned"
        } else {
            continue;
        };
        out.push(Found {
            id: r.try_get(0)?,
            reference: r.try_get(1)?,
            role,
            status: r.try_get(2)?,
            anonymised: r.try_get::<Option<i64>, _>(7)?.is_some(),
        });
    }
    Ok(out)
}

/// What an erasure did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EraseReport {
    /// Complaints anonymised now.
    pub erased: Vec<String>,
    /// Open complaints left alone (no `--include-open`).
    pub left_open: Vec<String>,
    /// Open complaints closed as withdrawn first.
    pub withdrawn: Vec<String>,
    /// A remark about making the bytes gone.
    pub note: Option<String>,
}

/// Erases the person: their closed complaints anonymised (open ones too, closed as
/// withdrawn first, with `include_open`), unlinked mail to or from them emptied, the old
/// bytes made gone, and the request audited.
pub async fn erase(
    bot: &Bot,
    p: &Person,
    include_open: bool,
    actor: &str,
) -> anyhow::Result<EraseReport> {
    let now = bot.clock.now();
    let found = complaints_of(&mut *bot.store.pool().acquire().await?, p).await?;
    let needles = p.needles();
    let rule = Rule {
        kind: "erasure",
        actor: actor.to_string(),
        why: "erasure request".into(),
    };
    let mut report = EraseReport::default();
    for f in found.iter().filter(|f| !f.anonymised) {
        let open = f.status != "closed";
        if open && !include_open {
            report.left_open.push(f.reference.clone());
            continue;
        }
        let mut tx = bot.store.begin().await?;
        if open {
            withdraw(&mut tx, f.id, actor, now).await?;
            report.withdrawn.push(f.reference.clone());
        }
        erase::anonymise(&mut tx, &bot.settings.people, f.id, &needles, &rule, now).await?;
        tx.commit().await.context("Failed to commit an erasure")?;
        report.erased.push(f.reference.clone());
    }
    if report.left_open.is_empty() {
        // Mail of no complaint (or only of erased ones) that mentions them.
        let mut tx = bot.store.begin().await?;
        erase::scrub_unlinked(&mut tx, &needles, &bot.settings.people).await?;
        tx.commit().await?;
    }
    report.note = erase::make_gone(&bot.store).await?;
    let detail = format!(
        "erased {}, left open {}, withdrawn {}",
        report.erased.len(),
        report.left_open.len(),
        report.withdrawn.len()
    );
    let entry = Entry {
        action: "erase",
        actor,
        person: p.address.as_ref().map(|a| a.as_ref()),
        complaints: report.erased.len(),
        detail: &detail,
    };
    audit::record(&mut *bot.store.pool().acquire().await?, &entry, now).await?;
    Ok(report)
}

/// Closes an open complaint as withdrawn (the procedure's own step), on the timeline.
async fn withdraw(
    conn: &mut AnyConnection,
    id: i64,
    actor: &str,
    now: jiff::Timestamp,
) -> anyhow::Result<()> {
    let stored = complaints::load_by_id(conn, id)
        .await?
        .with_context(|| format!("Complaint {id} is not in the register"))?;
    let (closed, _effects) = procedure::apply(&stored.complaint, &Event::Withdrawn, now)
        .map_err(|r| anyhow::anyhow!("{r}"))?;
    complaints::update(conn, id, &closed, now).await?;
    events::append(
        conn,
        &NewEvent {
            complaint_id: id,
            at: now,
            actor,
            kind: crate::domain::EventKind::Withdrawn,
            detail: "closed as withdrawn before erasure",
            message_pk: None,
            outbox_id: None,
        },
    )
    .await?;
    Ok(())
}
