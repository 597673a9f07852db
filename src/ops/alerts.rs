//! Alerts to people: when IMAP or SMTP has failed for `[alerts] after`, the officers (and
//! `[alerts] to`) get one mail saying what fails since when, the server's words and what to
//! check; when it works again, one mail saying how long it lasted. The same, once, when more
//! than `[alerts] failed_per_hour` mails were given up within an hour.
//!
//! The outage is kept in `alert_outages` ([`super::outages`]), so a restart neither repeats
//! the alert nor forgets the recovery. Alerts go through the outbox like every mail: when
//! SMTP itself is down, the alert waits there and goes out as soon as SMTP answers again,
//! followed by the recovery mail with the outage's whole duration; meanwhile the log and
//! `/healthz` say so.

use std::time::Duration;

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use tokio_util::sync::CancellationToken;

use super::health::{Part, PartState, Role};
use super::outages::{self, Outage};
use crate::app::Bot;
use crate::outbound::queue::{Outgoing, enqueue};

/// The `alert_outages` key of the failed-mails alert.
const FAILED_MAILS: &str = "failed_mails";

/// What to do about one part now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing changes.
    Nothing,
    /// A new outage: remember it (no mail yet).
    Track(Outage),
    /// The outage lasted `[alerts] after`: store it as alerted and mail the alert.
    Alert(Outage),
    /// An alerted outage is over: mail the recovery and forget it.
    Recovered {
        /// Since when it failed.
        since: Timestamp,
        /// When it worked again.
        until: Timestamp,
    },
    /// A short outage is over without an alert: forget it.
    Forget,
}

/// Decides about one part from what the workers see (`seen`; `working` already accounts for
/// a standby instance) and what is stored. Pure.
pub fn decide(
    working: bool,
    seen: &PartState,
    stored: Option<&Outage>,
    now: Timestamp,
    after: Duration,
) -> Action {
    let after = SignedDuration::try_from(after).unwrap_or(SignedDuration::MAX);
    match (working, stored) {
        (true, None) => Action::Nothing,
        (true, Some(o)) if o.alerted_at.is_some() => Action::Recovered {
            since: o.since,
            until: if seen.since >= o.since {
                seen.since
            } else {
                now
            },
        },
        (true, Some(_)) => Action::Forget,
        (false, Some(o)) if o.alerted_at.is_some() => Action::Nothing,
        (false, stored) => {
            let since = stored.map_or(seen.since, |o| o.since);
            let error = seen
                .last_error
                .clone()
                .or_else(|| stored.and_then(|o| o.error.clone()));
            if now.duration_since(since) >= after {
                Action::Alert(Outage {
                    since,
                    error,
                    alerted_at: Some(now),
                })
            } else if stored.is_none() && error.is_some() {
                Action::Track(Outage {
                    since,
                    error,
                    alerted_at: None,
                })
            } else {
                Action::Nothing
            }
        }
    }
}

/// Looks at IMAP, SMTP and the failed mails until `cancel` fires, every tenth of `[alerts]
/// after` (between a quarter second and 15 s).
pub async fn run(bot: Bot, cancel: CancellationToken) {
    let every =
        (bot.settings.alerts.after / 10).clamp(Duration::from_millis(250), Duration::from_secs(15));
    while !cancel.is_cancelled() {
        if let Err(e) = check(&bot).await {
            tracing::warn!(error = %format!("{e:#}"), "alert check failed");
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// One look at IMAP, SMTP and the failed mails at `bot.clock.now()`: queues what is due
/// (tests call it with a hand-moved clock).
pub async fn check(bot: &Bot) -> anyhow::Result<()> {
    let mut result = Ok(());
    for part in [Part::Imap, Part::Smtp] {
        if let Err(e) = check_part(bot, part).await {
            result = Err(e.context(format!("alert check of {}", part.as_str())));
        }
    }
    check_failed_mails(bot)
        .await
        .context("failed-mails alert check")?;
    result
}

async fn check_part(bot: &Bot, part: Part) -> anyhow::Result<()> {
    let seen = bot.health.part(part);
    let working = seen.up || (part == Part::Imap && bot.role.get() == Role::Standby);
    let now = bot.clock.now();
    let mut conn = bot.store.pool().acquire().await?;
    let stored = outages::get(&mut conn, part.as_str()).await?;
    drop(conn);
    let action = decide(
        working,
        &seen,
        stored.as_ref(),
        now,
        bot.settings.alerts.after,
    );
    if action == Action::Nothing {
        return Ok(());
    }
    let mut tx = bot.store.begin().await?;
    match &action {
        Action::Nothing => {}
        Action::Track(o) => outages::put(&mut tx, part.as_str(), o).await?,
        Action::Forget => outages::remove(&mut tx, part.as_str()).await?,
        Action::Alert(o) => {
            outages::put(&mut tx, part.as_str(), o).await?;
            let mut context = context(bot, part.as_str(), o.since, now);
            context.insert("error", &o.error);
            mail(bot, &mut tx, "alert", context, now).await?;
            let smtp_down = !bot.health.part(Part::Smtp).up;
            tracing::error!(part = part.as_str(), since = %o.since, error = ?o.error, smtp_down,
                "outage alert queued{}", if smtp_down { "; SMTP is down, so it goes out when SMTP answers again" } else { "" });
        }
        Action::Recovered { since, until } => {
            outages::remove(&mut tx, part.as_str()).await?;
            let mut context = context(bot, part.as_str(), *since, now);
            context.insert("until", &crate::scheduler::local_time(bot, *until));
            context.insert("duration", &human(until.duration_since(*since)));
            mail(bot, &mut tx, "alert_recovered", context, now).await?;
            tracing::info!(part = part.as_str(), since = %since, "outage over; recovery mail queued");
        }
    }
    tx.commit().await?;
    bot.outbox_ready.notify_one();
    Ok(())
}

async fn check_failed_mails(bot: &Bot) -> anyhow::Result<()> {
    let now = bot.clock.now();
    let count = bot.health.failed_last_hour(now);
    let limit = bot.settings.alerts.failed_per_hour as usize;
    let mut conn = bot.store.pool().acquire().await?;
    let stored = outages::get(&mut conn, FAILED_MAILS).await?;
    drop(conn);
    let wanted = match &stored {
        None => count > limit,
        Some(_) => count == 0,
    };
    if !wanted {
        return Ok(());
    }
    let mut tx = bot.store.begin().await?;
    match stored {
        None if count > limit => {
            let outage = Outage {
                since: now,
                error: None,
                alerted_at: Some(now),
            };
            outages::put(&mut tx, FAILED_MAILS, &outage).await?;
            let mut context = context(bot, FAILED_MAILS, now, now);
            context.insert("count", &count);
            context.insert("limit", &limit);
            context.insert("error", &None::<String>);
            mail(bot, &mut tx, "alert", context, now).await?;
            tracing::error!(count, limit, "failed-mails alert queued");
        }
        // Quiet for an hour: a new burst may raise a new alert.
        Some(_) if count == 0 => outages::remove(&mut tx, FAILED_MAILS).await?,
        _ => return Ok(()),
    }
    tx.commit().await?;
    bot.outbox_ready.notify_one();
    Ok(())
}

fn context(bot: &Bot, part: &str, since: Timestamp, now: Timestamp) -> tera::Context {
    let mut context = tera::Context::new();
    context.insert("part", part);
    context.insert("since", &crate::scheduler::local_time(bot, since));
    context.insert("duration", &human(now.duration_since(since)));
    let endpoint = match part {
        "imap" => bot.settings.mailbox.as_ref().map(|m| &m.endpoint),
        "smtp" => bot.settings.smtp.as_ref().map(|s| &s.endpoint),
        _ => None,
    };
    if let Some(e) = endpoint {
        context.insert("server", &format!("{}:{}", e.host, e.port));
        context.insert("user", &e.user);
    }
    context
}

async fn mail(
    bot: &Bot,
    conn: &mut sqlx::AnyConnection,
    kind: &str,
    context: tera::Context,
    now: Timestamp,
) -> anyhow::Result<()> {
    let mut to = bot.settings.people.officers.clone();
    for a in &bot.settings.alerts.to {
        if !to.contains(a) {
            to.push(a.clone());
        }
    }
    if to.is_empty() {
        tracing::warn!(kind, "no officers and no [alerts] to: nobody to tell");
        return Ok(());
    }
    let mail = Outgoing {
        complaint: None,
        kind,
        context,
        to,
        in_reply_to: None,
        references: Vec::new(),
        auto_reply: false,
        // Like notices to staff: a bounce of an alert must not come back into the mailbox.
        null_sender: true,
    };
    enqueue(bot, conn, mail, now).await?;
    Ok(())
}

/// "2 h 05 min", "3 min 20 s", "12 s": a duration as people read it, in either language.
pub fn human(d: SignedDuration) -> String {
    let s = d.as_secs().max(0);
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {sec:02} s")
    } else {
        format!("{sec} s")
    }
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
