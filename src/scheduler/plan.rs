//! The pure reminder planner: from one complaint's state, which reminders should exist.
//!
//! No clock, no database: the time is a parameter, so every rule is unit-tested on a
//! hand-driven clock (`plan_tests.rs`). The shell (`send.rs`) stores what [`plan`] returns as
//! due items, drops stored items it no longer returns, and sends the ones that are due.

use std::ops::Range;

use jiff::Timestamp;
use jiff::civil::DateTime;
use serde::Serialize;

use crate::calendar::{DeadlineSpan, WorkingCalendar};
use crate::config::{ReminderPolicy, Settings};
use crate::domain::{Complaint, Status};

/// What the planner needs from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `[reminders]`.
    pub reminders: ReminderPolicy,
    /// `[deadlines] solve`: how a pause moves the solve deadline depends on its form.
    pub solve: DeadlineSpan,
}

impl Policy {
    /// The policy in force.
    pub fn from_settings(settings: &Settings) -> Policy {
        Policy {
            reminders: settings.reminders.clone(),
            solve: settings.deadlines.solve,
        }
    }
}

/// The complaint's waits on the complainant's verdict, as the scheduler recorded them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Start of the current wait (status `awaiting_verdict`).
    pub since: Option<Timestamp>,
    /// Finished waits that count against the current solve deadline.
    pub paused: Vec<Range<Timestamp>>,
}

/// Declares the reminder kinds with their stable names (database, outbox kind, template).
macro_rules! kinds {
    ($($(#[$meta:meta])* $variant:ident => $text:literal),+ $(,)?) => {
        /// What a reminder is about; the mail template is `reminder_<name>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ReminderKind { $($(#[$meta])* $variant),+ }

        impl ReminderKind {
            /// Every kind.
            pub const ALL: &'static [ReminderKind] = &[$(ReminderKind::$variant),+];

            /// The stable name stored in `reminders.kind`.
            pub fn as_str(self) -> &'static str {
                match self { $(ReminderKind::$variant => $text),+ }
            }

            /// The template and outbox kind of its mail.
            pub fn template(self) -> &'static str {
                match self { $(ReminderKind::$variant => concat!("reminder_", $text)),+ }
            }

            /// Parses a stored name.
            pub fn parse(s: &str) -> Option<ReminderKind> {
                match s { $($text => Some(ReminderKind::$variant),)+ _ => None }
            }
        }
    };
}

kinds! {
    /// No acknowledgement was sent (no e-mail address): the officer, before the deadline.
    AcknowledgeBefore => "acknowledge_before",
    /// The explanation was not sent yet: the officer, before the deadline.
    ExplainBefore => "explain_before",
    /// The explanation deadline passed: the officer (and management, by config).
    ExplainOverdue => "explain_overdue",
    /// The solve deadline comes near: the assignee (the officer when there is none).
    SolveBefore => "solve_before",
    /// The solve deadline passed: assignee and officer, repeated while it stays passed.
    SolveOverdue => "solve_overdue",
    /// A proposed solution waits too long for the verdict: the officer.
    VerdictPending => "verdict_pending",
    /// Nobody was assigned long after receipt: the officer.
    Unassigned => "unassigned",
}

/// Who a reminder goes to; resolved to addresses when it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The officers.
    Officers,
    /// The officers and management.
    OfficersAndManagement,
    /// The assignee, or the officers when nobody is assigned.
    Assignee,
    /// The assignee and the officers.
    AssigneeAndOfficers,
}

/// One reminder the planner wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// What about.
    pub kind: ReminderKind,
    /// When to send it.
    pub due_at: Timestamp,
    /// The deadline it is about (for overdue notices: the deadline that passed).
    pub deadline: Timestamp,
    /// To whom.
    pub audience: Audience,
    /// Not worth sending from this moment on (the deadline passed, or a newer notice
    /// replaced it): a reminder missed while the bot was stopped is not sent late then.
    pub valid_until: Timestamp,
    /// 0 for the first notice, n for the n-th repetition of an overdue notice.
    pub repeat: u32,
}

/// Which deadline of a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Acknowledgement to the complainant.
    Acknowledge,
    /// Explanation of the further procedure.
    Explain,
    /// A solution proposed.
    Solve,
    /// The officer follows up a verdict that does not come.
    Verdict,
}

impl DeadlineKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::Acknowledge => "acknowledge",
            DeadlineKind::Explain => "explain",
            DeadlineKind::Solve => "solve",
            DeadlineKind::Verdict => "verdict",
        }
    }
}

/// A deadline not met yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PendingDeadline {
    /// Which.
    pub kind: DeadlineKind,
    /// By when.
    pub due: Timestamp,
}

/// The solve deadline in force: the stored one, moved by every finished wait on the
/// complainant when `pause_while_waiting` is on.
pub fn solve_deadline(
    c: &Complaint,
    waiting: &Waiting,
    policy: &Policy,
    cal: &WorkingCalendar,
) -> Timestamp {
    if !policy.reminders.pause_while_waiting {
        return c.deadlines.solve_by;
    }
    waiting.paused.iter().fold(c.deadlines.solve_by, |due, p| {
        cal.extend_for_pause(due, &policy.solve, p.clone())
    })
}

/// When the officer should follow up a proposal that waits for the verdict.
pub fn verdict_follow_up(
    waiting: &Waiting,
    policy: &Policy,
    cal: &WorkingCalendar,
) -> Option<Timestamp> {
    let since = waiting.since?;
    Some(cal.deadline(since, &policy.reminders.verdict_wait))
}

/// The deadlines of an open complaint that are not met yet, earliest first; none when
/// closed. The solve deadline is not pending while a proposal waits for the verdict.
pub fn pending_deadlines(
    c: &Complaint,
    waiting: &Waiting,
    policy: &Policy,
    cal: &WorkingCalendar,
) -> Vec<PendingDeadline> {
    if !c.status.is_open() {
        return Vec::new();
    }
    let d = &c.deadlines;
    let mut out = Vec::new();
    let mut push = |kind, due| out.push(PendingDeadline { kind, due });
    if d.acknowledged_at.is_none() {
        push(DeadlineKind::Acknowledge, d.acknowledge_by);
    }
    if d.explained_at.is_none() {
        push(DeadlineKind::Explain, d.explain_by);
    }
    if c.status == Status::AwaitingVerdict {
        if let Some(at) = verdict_follow_up(waiting, policy, cal) {
            push(DeadlineKind::Verdict, at);
        }
    } else {
        push(DeadlineKind::Solve, solve_deadline(c, waiting, policy, cal));
    }
    out.sort_by_key(|p| (p.due, p.kind));
    out
}

/// The reminders `c` should have at `now`: every one whose moment has not been replaced
/// (`valid_until > now`), sent or not, past or future. The rules are in the module docs of
/// [`crate::scheduler`].
pub fn plan(
    c: &Complaint,
    waiting: &Waiting,
    now: Timestamp,
    policy: &Policy,
    cal: &WorkingCalendar,
) -> Vec<Due> {
    let r = &policy.reminders;
    if !r.enabled || !c.status.is_open() {
        return Vec::new();
    }
    let d = &c.deadlines;
    let mut wanted = Vec::new();
    let once = |kind, due_at, deadline, audience, valid_until| Due {
        kind,
        due_at,
        deadline,
        audience,
        valid_until,
        repeat: 0,
    };
    let stale = |at: Timestamp| after(cal, at, &r.overdue_repeat, 1);
    if d.acknowledged_at.is_none() {
        let at = before(cal, d.acknowledge_by, &r.acknowledge_before);
        wanted.push(once(
            ReminderKind::AcknowledgeBefore,
            at,
            d.acknowledge_by,
            Audience::Officers,
            d.acknowledge_by,
        ));
    }
    if d.explained_at.is_none() {
        let at = before(cal, d.explain_by, &r.explain_before);
        wanted.push(once(
            ReminderKind::ExplainBefore,
            at,
            d.explain_by,
            Audience::Officers,
            d.explain_by,
        ));
        let audience = if r.explain_overdue_to_management {
            Audience::OfficersAndManagement
        } else {
            Audience::Officers
        };
        wanted.push(once(
            ReminderKind::ExplainOverdue,
            d.explain_by,
            d.explain_by,
            audience,
            stale(d.explain_by),
        ));
    }
    if c.status == Status::AwaitingVerdict {
        if let Some(at) = verdict_follow_up(waiting, policy, cal) {
            wanted.push(once(
                ReminderKind::VerdictPending,
                at,
                at,
                Audience::Officers,
                stale(at),
            ));
        }
    } else {
        solve_reminders(c, waiting, now, policy, cal, &mut wanted);
    }
    if c.assignee.is_none() {
        let at = cal.deadline(c.received_at, &r.unassigned_after);
        wanted.push(once(
            ReminderKind::Unassigned,
            at,
            at,
            Audience::Officers,
            stale(at),
        ));
    }
    wanted.retain(|due| due.valid_until > now);
    wanted.sort_by_key(|due| (due.due_at, due.kind));
    wanted
}

/// Before the solve deadline to the assignee; when it passed, to assignee and officer, then
/// again every `overdue_repeat`: the latest repetition due and the next one.
fn solve_reminders(
    c: &Complaint,
    waiting: &Waiting,
    now: Timestamp,
    policy: &Policy,
    cal: &WorkingCalendar,
    wanted: &mut Vec<Due>,
) {
    let r = &policy.reminders;
    let deadline = solve_deadline(c, waiting, policy, cal);
    wanted.push(Due {
        kind: ReminderKind::SolveBefore,
        due_at: before(cal, deadline, &r.solve_before),
        deadline,
        audience: Audience::Assignee,
        valid_until: deadline,
        repeat: 0,
    });
    // Before the deadline only the first notice; after it the latest one due and the next.
    let repeats = match repetitions_until(cal, deadline, &r.overdue_repeat, now) {
        None => vec![0],
        Some(latest) => vec![latest, latest.saturating_add(1)],
    };
    for repeat in repeats {
        let due_at = after(cal, deadline, &r.overdue_repeat, repeat);
        wanted.push(Due {
            kind: ReminderKind::SolveOverdue,
            due_at,
            deadline,
            audience: Audience::AssigneeAndOfficers,
            valid_until: after(cal, deadline, &r.overdue_repeat, repeat.saturating_add(1)),
            repeat,
        });
    }
    wanted.dedup_by_key(|due| (due.kind, due.due_at));
}

/// `span` before `deadline`: elapsed time back, or the same clock time `n` working days
/// earlier (counting back over weekends and holidays). Never after the deadline.
pub fn before(cal: &WorkingCalendar, deadline: Timestamp, span: &DeadlineSpan) -> Timestamp {
    match *span {
        DeadlineSpan::Calendar(elapsed) => deadline
            .checked_sub(elapsed)
            .unwrap_or(Timestamp::MIN)
            .min(deadline),
        DeadlineSpan::WorkingDays(n) => {
            let local = cal.time_zone().to_datetime(deadline);
            let mut date = local.date();
            let mut left = n;
            while left > 0 {
                let Ok(previous) = date.yesterday() else {
                    return Timestamp::MIN;
                };
                date = previous;
                if cal.is_working_day(date) {
                    left -= 1;
                }
            }
            cal.time_zone()
                .to_ambiguous_timestamp(DateTime::from_parts(date, local.time()))
                .compatible()
                .unwrap_or(Timestamp::MIN)
                .min(deadline)
        }
    }
}

/// `times` spans after `from` (saturating at [`Timestamp::MAX`]).
pub fn after(cal: &WorkingCalendar, from: Timestamp, span: &DeadlineSpan, times: u32) -> Timestamp {
    match *span {
        DeadlineSpan::Calendar(elapsed) => elapsed
            .checked_mul(times)
            .and_then(|total| from.checked_add(total).ok())
            .unwrap_or(Timestamp::MAX),
        DeadlineSpan::WorkingDays(n) => cal.add_working_days(from, n.saturating_mul(times)),
    }
}

/// How many whole `span`s lie between `start` and `now`: the index of the latest repetition
/// at or before `now`; `None` before `start`.
fn repetitions_until(
    cal: &WorkingCalendar,
    start: Timestamp,
    span: &DeadlineSpan,
    now: Timestamp,
) -> Option<u32> {
    if now < start {
        return None;
    }
    // A first guess from elapsed time or working days, then exact steps either way.
    let guess = match *span {
        DeadlineSpan::Calendar(elapsed) if !elapsed.is_zero() => {
            let passed = now.duration_since(start).as_secs().max(0).unsigned_abs();
            passed / elapsed.as_secs().max(1)
        }
        DeadlineSpan::WorkingDays(n) if n > 0 => {
            cal.working_days_between(start, now).max(0).unsigned_abs() / u64::from(n)
        }
        _ => return Some(0),
    };
    let mut k = u32::try_from(guess).unwrap_or(u32::MAX);
    while k > 0 && after(cal, start, span, k) > now {
        k -= 1;
    }
    while k < u32::MAX && after(cal, start, span, k + 1) <= now {
        k += 1;
    }
    Some(k)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
