//! The scheduler: deadlines watched, reminders sent before and after them, digests on
//! working days. Part of `klachtenbot run` ([`run`]); tests drive it with [`tick`] on a
//! hand-moved clock.
//!
//! - [`plan`]: the pure planner, complaint state in, wanted reminders out.
//! - `store`: the `reminders`, `complaint_pauses` and `digests` tables (migration 0003).
//! - `send`: reminders stored, dropped and sent (claim and queue in one transaction).
//! - [`digest`]: the daily digest to the officers, the weekly summary to management.
//!
//! # The rules
//!
//! Reminders are due items in the database, created from the complaint's state by
//! [`plan::plan`] on every [`tick`]: what the planner wants and is not stored is added; what
//! is stored, unsent and no longer wanted is dropped (the thing was done, the deadline
//! moved, the complaint closed). A reminder is sent once: it is claimed
//! (`UPDATE ... WHERE sent_at IS NULL`, checking the rows affected, so a second instance
//! cannot send it too) and its mail written to the outbox in one transaction, so a restart
//! never sends it twice. Spans are `[reminders]` settings ("3wd" working days or elapsed
//! time like "20s"); working days keep the clock time.
//!
//! | kind | when | to | while |
//! | --- | --- | --- | --- |
//! | `acknowledge_before` | `acknowledge_before` before the acknowledge deadline | officers | no acknowledgement sent (no address, or rate-limited) |
//! | `explain_before` | `explain_before` before the explain deadline | officers | no explanation sent, deadline not passed |
//! | `explain_overdue` | at the explain deadline | officers (+ management by config) | no explanation sent |
//! | `solve_before` | `solve_before` before the solve deadline | assignee (officers when none) | no proposal waiting, deadline not passed |
//! | `solve_overdue` | at the solve deadline, then every `overdue_repeat` | assignee and officers | no proposal waiting |
//! | `verdict_pending` | `verdict_wait` after a proposal started waiting | officers | still waiting |
//! | `unassigned` | `unassigned_after` after receipt | officers | nobody assigned |
//!
//! A reminder missed while the bot was stopped is sent late only while it still says
//! something true: a "before" reminder until its deadline, an overdue notice until the next
//! `overdue_repeat` would have replaced it. Only open complaints get reminders.
//!
//! **Pauses.** While a complaint's status is `awaiting_verdict` it waits on the complainant.
//! The scheduler records each wait in `complaint_pauses` (start and end taken from the row's
//! `updated_at`, the moment of the status change, when it sees the change: within seconds,
//! see "Waking"). The wait starts the `verdict_pending` clock; with
//! `pause_while_waiting = true` the solve deadline in force is the stored one moved by every
//! finished wait ([`crate::calendar::WorkingCalendar::extend_for_pause`]: elapsed time for
//! a calendar deadline, whole working days for a working-day one). A deadline moved by
//! `#termijn` is taken as given: earlier waits no longer move it. The stored `solve_by`
//! itself is never rewritten.
//!
//! **Digests** are described in [`digest`].
//!
//! **Waking.** [`run`] sleeps until the next due reminder or digest, at most 30 s, and
//! wakes early when [`wake`] is called or the register changed (a cheap marker query every
//! 2 s, so work from another process, such as the MTA pipe, is seen too).

pub mod digest;
pub mod plan;
mod send;
pub mod store;

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::app::Bot;
use crate::domain::{EmailAddress, Reference};
use crate::store::cursors;
pub use plan::{Audience, DeadlineKind, Due, PendingDeadline, Policy, ReminderKind, Waiting};

/// Longest sleep between rounds, whatever else happens: a safety net for changes the
/// change marker cannot see.
pub const MAX_SLEEP: Duration = Duration::from_secs(30);

/// How often a sleeping scheduler reads the register's change marker (one small query):
/// short enough that a new complaint's first reminder, even one due in seconds (tests), is
/// planned in time; long enough to cost nothing.
pub const CHANGE_POLL: Duration = Duration::from_secs(2);

/// Shortest sleep between rounds, so a misbehaving clock cannot make the loop spin.
const MIN_SLEEP: Duration = Duration::from_millis(100);

/// Wakes the scheduler of this process (one `Notify` for the process: a bot is one per
/// process outside tests, where an extra round is harmless).
static WAKE: Notify = Notify::const_new();

/// Asks the scheduler to look again now, e.g. after a command changed a complaint. A wake
/// while it is busy is kept for its next sleep.
pub fn wake() {
    WAKE.notify_one();
}

/// A reminder queued by a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentReminder {
    /// The complaint.
    pub reference: Reference,
    /// What about.
    pub kind: ReminderKind,
    /// The moment it was due.
    pub due_at: Timestamp,
    /// To whom.
    pub recipients: Vec<EmailAddress>,
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Reminders queued.
    pub reminders: Vec<SentReminder>,
    /// Digest periods queued (`daily:2026-03-02`, `weekly:2026-W10`).
    pub digests: Vec<String>,
    /// When something is due next.
    pub next_due: Option<Timestamp>,
}

/// One round at `bot.clock.now()`: refresh the reminders from every open complaint, queue
/// the due reminders and digests, and say when the next is due.
pub async fn tick(bot: &Bot) -> anyhow::Result<TickReport> {
    round(bot, send::Scope::All).await
}

/// The round [`run`] makes when woken by a change in the register: like [`tick`], but it
/// plans only the open complaints changed at or after `since` and those with a reminder due
/// now, so a busy large register stays cheap.
pub async fn tick_changed_since(bot: &Bot, since: Timestamp) -> anyhow::Result<TickReport> {
    round(bot, send::Scope::ChangedSince(since)).await
}

async fn round(bot: &Bot, scope: send::Scope) -> anyhow::Result<TickReport> {
    let now = bot.clock.now();
    send::refresh(bot, now, scope).await?;
    let reminders = send::send_due(bot, now).await;
    let digests = digest::run_due(bot, now).await;
    // Erasures confirmed by mail; retention once a day (claimed per day in the register).
    if let Err(e) = crate::privacy::sweep::scheduled(bot, now).await {
        tracing::warn!(error = %format!("{e:#}"), "privacy sweep failed");
    }
    let mut conn = bot.store.pool().acquire().await?;
    let next_reminder = store::next_reminder_at(&mut conn, now).await?;
    let next_due = [next_reminder, digest::next_at(bot, now)]
        .into_iter()
        .flatten()
        .min();
    Ok(TickReport {
        reminders: reminders?,
        digests: digests?,
        next_due,
    })
}

/// Runs rounds until `cancel` fires, sleeping until the next due item (at most
/// [`MAX_SLEEP`]), a [`wake`], or a change in the register (looked for every
/// [`CHANGE_POLL`], so a complaint registered by the MTA pipe is planned within seconds).
/// Errors are logged and recorded for `klachtenbot status`, then retried; never fatal.
pub async fn run(bot: Bot, cancel: CancellationToken) {
    // A round woken by a change looks only at what changed since the previous round began
    // (a second of margin: `updated_at` has whole seconds); every other round at everything.
    let mut scope = send::Scope::All;
    while !cancel.is_cancelled() {
        let started = bot.clock.now();
        // Read before the round: a change made during it is seen at the next look.
        let seen = marker(&bot).await;
        let wait = match round(&bot, scope).await {
            Ok(report) => {
                crate::ops::metrics::reminders(&report);
                bot.health.ok(crate::ops::Part::Scheduler, bot.clock.now());
                if let Ok(mut conn) = bot.store.pool().acquire().await {
                    let _ = cursors::worker_ok(&mut conn, "scheduler", bot.clock.now()).await;
                }
                report.next_due.map_or(MAX_SLEEP, |at| until(&bot, at))
            }
            Err(e) => {
                let message = format!("{e:#}");
                tracing::warn!(error = %message, "scheduler round failed");
                bot.health
                    .failed(crate::ops::Part::Scheduler, &message, bot.clock.now());
                if let Ok(mut conn) = bot.store.pool().acquire().await {
                    let _ =
                        cursors::worker_error(&mut conn, "scheduler", &message, bot.clock.now())
                            .await;
                }
                MAX_SLEEP
            }
        };
        scope = send::Scope::All;
        let end = tokio::time::Instant::now() + wait;
        loop {
            let step = end
                .saturating_duration_since(tokio::time::Instant::now())
                .min(CHANGE_POLL);
            if step.is_zero() {
                break;
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = WAKE.notified() => break,
                () = tokio::time::sleep(step) => {}
            }
            if seen.is_some() && marker(&bot).await != seen {
                let since = started
                    .checked_sub(jiff::SignedDuration::from_secs(1))
                    .unwrap_or(started);
                scope = send::Scope::ChangedSince(since);
                break;
            }
        }
    }
}

/// The register's change marker, or `None` when it cannot be read (then only the due
/// times and [`MAX_SLEEP`] wake the loop).
async fn marker(bot: &Bot) -> Option<(i64, i64, i64)> {
    let mut conn = bot.store.pool().acquire().await.ok()?;
    store::change_marker(&mut conn).await.ok()
}

/// How long to sleep until `at`, within [`MIN_SLEEP`]..=[`MAX_SLEEP`].
fn until(bot: &Bot, at: Timestamp) -> Duration {
    let left = at.duration_since(bot.clock.now());
    Duration::try_from(left)
        .unwrap_or(Duration::ZERO)
        .clamp(MIN_SLEEP, MAX_SLEEP)
}

/// A moment as the mails and digests show it: "maandag 2 maart 2026 10:00" in the
/// organisation's time zone and language.
pub fn local_time(bot: &Bot, t: Timestamp) -> String {
    let clock = t
        .to_zoned(bot.settings.organisation.timezone.clone())
        .strftime("%H:%M")
        .to_string();
    format!("{} {clock}", bot.renderer.date(t))
}

/// Every open complaint with its deadlines not met yet (the solve deadline as moved by
/// pauses), oldest first: for `klachtenbot list --overdue` and `--due-within`.
pub async fn open_deadlines(
    bot: &Bot,
) -> anyhow::Result<
    Vec<(
        crate::store::complaints::StoredComplaint,
        Vec<PendingDeadline>,
    )>,
> {
    let policy = Policy::from_settings(&bot.settings);
    let mut conn = bot.store.pool().acquire().await?;
    let open = store::open_complaints(&mut conn).await?;
    Ok(open
        .into_iter()
        .map(|t| {
            let pending =
                plan::pending_deadlines(&t.stored.complaint, &t.waiting(), &policy, &bot.calendar);
            (t.stored, pending)
        })
        .collect())
}
