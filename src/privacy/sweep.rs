//! The retention sweep: every complaint closed longer ago than `[privacy] anonymise_after`
//! is anonymised. Run by the scheduler once a day ([`sweep_if_due`]) and by
//! `klachtenbot privacy sweep`.

use anyhow::Context;
use jiff::Timestamp;
use sqlx::Row;

use super::audit::{self, Entry};
use super::erase::{self, Rule};
use super::plan::{self, Candidate, Needles};
use crate::app::Bot;
use crate::store::{from_opt_secs, secs};

/// One complaint the sweep anonymised (or would).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    /// The reference.
    pub reference: String,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
}

/// What a sweep did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SweepReport {
    /// Nothing was changed.
    pub dry_run: bool,
    /// The term in force; none when no term is configured (then nothing is due).
    pub term: Option<String>,
    /// Complaints closed at or before this moment are due.
    pub cutoff: Option<Timestamp>,
    /// The complaints.
    pub complaints: Vec<Swept>,
    /// A remark about making the bytes gone (a blocked checkpoint).
    pub note: Option<String>,
}

/// Anonymises (or, `dry_run`, lists) every complaint due under the configured term, each in
/// its own transaction, then makes the old bytes gone and audits the run.
pub async fn sweep(bot: &Bot, dry_run: bool, actor: &str) -> anyhow::Result<SweepReport> {
    let Some(term) = bot.settings.privacy.anonymise_after else {
        return Ok(SweepReport {
            dry_run,
            ..SweepReport::default()
        });
    };
    let now = bot.clock.now();
    let cutoff = term.cutoff(now, &bot.settings.organisation.timezone);
    let (due, swept) = due(bot, cutoff).await?;
    let mut report = SweepReport {
        dry_run,
        term: Some(term.to_string()),
        cutoff: Some(cutoff),
        complaints: swept,
        note: None,
    };
    if dry_run || due.is_empty() {
        return Ok(report);
    }
    let rule = Rule {
        kind: "retention",
        actor: actor.to_string(),
        why: format!("closed longer than {term} ago"),
    };
    for id in &due {
        let mut tx = bot.store.begin().await?;
        erase::anonymise(
            &mut tx,
            &bot.settings.people,
            *id,
            &Needles::default(),
            &rule,
            now,
        )
        .await?;
        tx.commit()
            .await
            .context("Failed to commit an anonymisation")?;
    }
    report.note = erase::make_gone(&bot.store).await?;
    let detail = format!("term {term}");
    let entry = Entry {
        action: "sweep",
        actor,
        person: None,
        complaints: due.len(),
        detail: &detail,
    };
    audit::record(&mut *bot.store.pool().acquire().await?, &entry, now).await?;
    tracing::info!(complaints = due.len(), term = %term, "privacy sweep anonymised complaints");
    Ok(report)
}

/// The complaints due at `cutoff` ([`plan::due`] decides; the query only narrows it down):
/// their row ids and what the report lists.
async fn due(bot: &Bot, cutoff: Timestamp) -> anyhow::Result<(Vec<i64>, Vec<Swept>)> {
    let rows = sqlx::query(
        "SELECT id, reference, closed_at, anonymised_at FROM complaints \
         WHERE status = 'closed' AND anonymised_at IS NULL AND closed_at <= $1 ORDER BY id",
    )
    .bind(secs(cutoff))
    .fetch_all(bot.store.pool())
    .await
    .context("Failed to list the complaints due for anonymisation")?;
    let mut candidates = Vec::with_capacity(rows.len());
    for r in &rows {
        candidates.push(Candidate {
            id: r.try_get(0)?,
            closed_at: from_opt_secs(r.try_get(2)?),
            anonymised: r.try_get::<Option<i64>, _>(3)?.is_some(),
        });
    }
    let due = plan::due(&candidates, cutoff);
    let mut swept = Vec::new();
    for (r, c) in rows.iter().zip(&candidates) {
        if due.contains(&c.id) {
            swept.push(Swept {
                reference: r.try_get(1)?,
                closed_at: c.closed_at,
            });
        }
    }
    Ok((due, swept))
}

/// The scheduler's once-a-day sweep: claims today (organisation's time zone) in
/// `privacy_sweeps`, so a second instance or a restart does not sweep again, then sweeps.
/// `None` when no term is configured or today was claimed before.
pub async fn sweep_if_due(bot: &Bot, now: Timestamp) -> anyhow::Result<Option<SweepReport>> {
    if bot.settings.privacy.anonymise_after.is_none() {
        return Ok(None);
    }
    let day = now
        .to_zoned(bot.settings.organisation.timezone.clone())
        .date()
        .to_string();
    let claimed = sqlx::query(
        "INSERT INTO privacy_sweeps (day, started_at) VALUES ($1, $2) \
         ON CONFLICT (day) DO NOTHING RETURNING day",
    )
    .bind(&day)
    .bind(secs(now))
    .fetch_optional(bot.store.pool())
    .await
    .context("Failed to claim the daily privacy sweep")?;
    if claimed.is_none() {
        return Ok(None);
    }
    let report = sweep(bot, false, "klachtenbot").await?;
    sqlx::query("UPDATE privacy_sweeps SET complaints = $1 WHERE day = $2")
        .bind(i64::try_from(report.complaints.len()).unwrap_or(i64::MAX))
        .bind(&day)
        .execute(bot.store.pool())
        .await?;
    Ok(Some(report))
}

/// The scheduler's privacy work in one round: erasures confirmed by mail, then the daily
/// retention sweep. Errors are the caller's to log; the next round retries.
pub async fn scheduled(bot: &Bot, now: Timestamp) -> anyhow::Result<()> {
    let pending = sqlx::query(
        "SELECT id, address, requested_by FROM privacy_erasures WHERE done_at IS NULL ORDER BY id",
    )
    .fetch_all(bot.store.pool())
    .await
    .context("Failed to read the confirmed erasures")?;
    for row in pending {
        let id: i64 = row.try_get(0)?;
        let address: String = row.try_get(1)?;
        let by: String = row.try_get(2)?;
        let person = super::Person {
            address: crate::domain::EmailAddress::parse(&address).ok(),
            ..super::Person::default()
        };
        if person.address.is_some() {
            super::person::erase(bot, &person, false, &by).await?;
        }
        sqlx::query("UPDATE privacy_erasures SET address = '', done_at = $1 WHERE id = $2")
            .bind(secs(now))
            .bind(id)
            .execute(bot.store.pool())
            .await?;
        erase::make_gone(&bot.store).await?;
    }
    sweep_if_due(bot, now).await?;
    Ok(())
}
