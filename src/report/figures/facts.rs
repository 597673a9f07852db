//! What the report derives from one complaint: its lead times and how it did on each
//! deadline. The figures count these, and the CSV writes them per row, so both always agree.

use jiff::Timestamp;

use crate::calendar::WorkingCalendar;
use crate::domain::Complaint;

/// A moment in the procedure that a lead time runs to (from `received_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Milestone {
    /// The acknowledgement was sent.
    Acknowledged,
    /// The explanation of the further procedure was sent.
    Explained,
    /// A solution was first proposed.
    Solved,
    /// The complaint was closed (the latest closing, when reopened).
    Closed,
}

impl Milestone {
    /// Every milestone, in procedure order.
    pub const ALL: [Milestone; 4] = [
        Milestone::Acknowledged,
        Milestone::Explained,
        Milestone::Solved,
        Milestone::Closed,
    ];

    /// The stable name (HTML keys, label lookup).
    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::Acknowledged => "acknowledge",
            Milestone::Explained => "explain",
            Milestone::Solved => "solved",
            Milestone::Closed => "closed",
        }
    }

    /// When `c` reached this milestone, if it did.
    pub fn reached_at(self, c: &Complaint) -> Option<Timestamp> {
        match self {
            Milestone::Acknowledged => c.deadlines.acknowledged_at,
            Milestone::Explained => c.deadlines.explained_at,
            Milestone::Solved => c.deadlines.solved_at,
            Milestone::Closed => c.closed_at,
        }
    }
}

/// One of the procedure's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeadlineKind {
    /// Acknowledgement within 1 week (`acknowledged_at <= acknowledge_by`).
    Acknowledge,
    /// Explanation within 2 weeks (`explained_at <= explain_by`).
    Explain,
    /// Solution proposed by `solve_by` (`solved_at <= solve_by`).
    Solve,
}

impl DeadlineKind {
    /// Every deadline, in procedure order.
    pub const ALL: [DeadlineKind; 3] = [
        DeadlineKind::Acknowledge,
        DeadlineKind::Explain,
        DeadlineKind::Solve,
    ];

    /// The stable name (HTML keys, label lookup).
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::Acknowledge => "acknowledge",
            DeadlineKind::Explain => "explain",
            DeadlineKind::Solve => "solve",
        }
    }

    /// The deadline and when it was met, if it was.
    fn of(self, c: &Complaint) -> (Timestamp, Option<Timestamp>) {
        let d = &c.deadlines;
        match self {
            DeadlineKind::Acknowledge => (d.acknowledge_by, d.acknowledged_at),
            DeadlineKind::Explain => (d.explain_by, d.explained_at),
            DeadlineKind::Solve => (d.solve_by, d.solved_at),
        }
    }
}

/// How a complaint did on one deadline, as of the moment the report is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeadlineState {
    /// Done on or before the deadline.
    Met,
    /// Done after the deadline, or not done and the deadline has passed (open, or closed
    /// after the deadline without it).
    Missed,
    /// Not done, still open, and the deadline has not passed yet.
    Pending,
    /// Not done because the complaint was closed before the deadline (solved at first
    /// contact, withdrawn, not a complaint): the deadline no longer applied.
    NotApplicable,
}

impl DeadlineState {
    /// Every state, in the order the report shows them.
    pub const ALL: [DeadlineState; 4] = [
        DeadlineState::Met,
        DeadlineState::Missed,
        DeadlineState::Pending,
        DeadlineState::NotApplicable,
    ];

    /// The stable name (CSV, tests).
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineState::Met => "met",
            DeadlineState::Missed => "missed",
            DeadlineState::Pending => "pending",
            DeadlineState::NotApplicable => "not_applicable",
        }
    }
}

/// The state of deadline `kind` for `c` at `as_of`.
pub fn deadline_state(c: &Complaint, kind: DeadlineKind, as_of: Timestamp) -> DeadlineState {
    let (by, done) = kind.of(c);
    // A reopened complaint is open again: its earlier closing does not count.
    let closed = (!c.status.is_open()).then(|| c.closed_at.unwrap_or(as_of));
    match (done, closed) {
        (Some(at), _) if at <= by => DeadlineState::Met,
        (Some(_), _) => DeadlineState::Missed,
        // Closed without it: moot if closed in time, missed if the deadline had passed.
        (None, Some(closed)) if closed <= by => DeadlineState::NotApplicable,
        (None, Some(_)) => DeadlineState::Missed,
        (None, None) if by < as_of => DeadlineState::Missed,
        (None, None) => DeadlineState::Pending,
    }
}

/// A lead time from receipt to a milestone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lead {
    /// Elapsed calendar days (24 hours each), fractional.
    pub calendar_days: f64,
    /// Whole working days ([`WorkingCalendar::working_days_between`]).
    pub working_days: i64,
}

/// The lead time of `c` to `milestone`, if reached. A milestone recorded before receipt
/// (a Date header in the future) counts as 0, not as a negative time.
pub fn lead(c: &Complaint, milestone: Milestone, calendar: &WorkingCalendar) -> Option<Lead> {
    let at = milestone.reached_at(c)?;
    let seconds = at.as_second() - c.received_at.as_second();
    // i64 seconds to f64 days: exact for any real lead time (well below 2^53 seconds).
    #[allow(clippy::cast_precision_loss)]
    let calendar_days = seconds.max(0) as f64 / 86_400.0;
    let working_days = calendar.working_days_between(c.received_at, at).max(0);
    Some(Lead {
        calendar_days,
        working_days,
    })
}

/// Everything the report derives from one complaint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts {
    /// Lead times, indexed like [`Milestone::ALL`].
    pub leads: [Option<Lead>; 4],
    /// Deadline states, indexed like [`DeadlineKind::ALL`].
    pub deadlines: [DeadlineState; 3],
}

/// The facts of `c` at `as_of`.
pub fn facts(c: &Complaint, calendar: &WorkingCalendar, as_of: Timestamp) -> Facts {
    Facts {
        leads: Milestone::ALL.map(|m| lead(c, m, calendar)),
        deadlines: DeadlineKind::ALL.map(|k| deadline_state(c, k, as_of)),
    }
}
