//! The report's figures: complaints in, numbers out. Pure (no clock, no I/O): the moment the
//! report describes (`as_of`) and the calendar are arguments, so every figure is unit-tested
//! on hand-built records.
//!
//! The report counts the complaints *received* in the period, as they stand at `as_of`
//! (status, outcome, milestones reached since): a complaint received in December and solved
//! in January shows as solved in a report made in February.

mod count;
pub mod facts;
pub mod stats;
#[cfg(test)]
mod tests;

use jiff::Timestamp;

use super::Period;
use crate::calendar::WorkingCalendar;
use crate::domain::{
    Channel, Classification, Complainant, Complaint, CustomerType, Origin, Outcome, Reference,
    Status,
};
pub use facts::{DeadlineKind, DeadlineState, Facts, Lead, Milestone};

/// What a figure is counted for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BucketKey {
    /// A vocabulary value by its stable name (`email`, `structural`, `accepted`): the
    /// renderers translate it.
    Code(&'static str),
    /// Hand-typed text (category, department), in its most common spelling.
    Text(String),
    /// Not set on the complaint.
    NotSet,
}

/// One line of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// What is counted.
    pub key: BucketKey,
    /// How many complaints.
    pub count: usize,
}

/// Complaints received in one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthCount {
    /// Year.
    pub year: i16,
    /// Month, 1-12.
    pub month: i8,
    /// Complaints received (local time).
    pub count: usize,
}

/// Median and 90th percentile (see [`stats::quantile`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantiles {
    /// The middle value.
    pub median: f64,
    /// 90 % of the values are at most this.
    pub p90: f64,
}

/// Lead times from receipt to one milestone, over the complaints that reached it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeadTime {
    /// To what.
    pub milestone: Milestone,
    /// How many complaints reached it.
    pub count: usize,
    /// In calendar days; `None` when none reached it.
    pub calendar_days: Option<Quantiles>,
    /// In whole working days; `None` when none reached it.
    pub working_days: Option<Quantiles>,
}

/// How often one deadline was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineFigure {
    /// Which deadline.
    pub kind: DeadlineKind,
    /// Complaints per state, indexed like [`DeadlineState::ALL`].
    pub counts: [usize; 4],
}

impl DeadlineFigure {
    /// Complaints in `state`.
    pub fn count(&self, state: DeadlineState) -> usize {
        let i = DeadlineState::ALL.iter().position(|s| *s == state);
        i.map_or(0, |i| self.counts[i])
    }

    /// Met as a share (0..=1) of met plus missed; `None` when neither.
    pub fn met_share(&self) -> Option<f64> {
        let met = self.count(DeadlineState::Met);
        let decided = met + self.count(DeadlineState::Missed);
        #[allow(clippy::cast_precision_loss)] // counts are far below 2^53
        (decided > 0).then(|| met as f64 / decided as f64)
    }
}

/// How the complaints ended (so far).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcomes {
    /// Closed complaints per outcome, every outcome listed (`NotSet`: closed without one).
    pub by_outcome: Vec<Bucket>,
    /// Still open at `as_of`.
    pub open: usize,
    /// Proposals the complainants rejected, added up (`complaints.rejections`).
    pub rejected_proposals: u64,
    /// Complaints with at least one rejected proposal.
    pub complaints_with_rejections: usize,
    /// Reopenings, added up.
    pub reopenings: u64,
    /// Complaints reopened at least once.
    pub complaints_reopened: usize,
}

/// A complaint listed by name in the report (the structural ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Reference.
    pub reference: Reference,
    /// Received.
    pub received_at: Timestamp,
    /// Subject.
    pub subject: String,
    /// Category, as typed.
    pub category: Option<String>,
    /// Department, as typed.
    pub department: Option<String>,
    /// Status at `as_of`.
    pub status: Status,
    /// Outcome, when closed.
    pub outcome: Option<Outcome>,
    /// Root cause, as typed.
    pub root_cause: Option<String>,
    /// The complainant: empty unless the records were loaded with names.
    pub complainant: Complainant,
}

/// Complaints sharing one root cause (grouped by [`stats::normalise`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCauseGroup {
    /// The cause in its most common spelling.
    pub cause: String,
    /// The complaints, in order of receipt.
    pub references: Vec<Reference>,
}

/// A recommendation made (officer's task 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    /// The complaint it came from, if any.
    pub reference: Option<Reference>,
    /// The recommendation.
    pub text: String,
    /// When.
    pub made_at: Timestamp,
}

/// A measure management decided on (step 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    /// The complaint it came from, if any.
    pub reference: Option<Reference>,
    /// The measure.
    pub text: String,
    /// Its status as recorded (`decided`, ...).
    pub status: String,
    /// When it was decided.
    pub decided_at: Timestamp,
    /// When its status last changed.
    pub updated_at: Timestamp,
}

/// Every number of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The period described.
    pub period: Period,
    /// The moment the figures describe (statuses, pending deadlines).
    pub as_of: Timestamp,
    /// Complaints received in the period.
    pub total: usize,
    /// Per month of the period, every month listed.
    pub per_month: Vec<MonthCount>,
    /// Per channel, every channel listed.
    pub by_channel: Vec<Bucket>,
    /// Internal or external.
    pub by_origin: Vec<Bucket>,
    /// Per customer type (and not set).
    pub by_customer_type: Vec<Bucket>,
    /// Per category, largest first (and not set).
    pub by_category: Vec<Bucket>,
    /// Per department, largest first (and not set).
    pub by_department: Vec<Bucket>,
    /// Incident, structural, not yet classified.
    pub by_classification: Vec<Bucket>,
    /// The structural complaints, in order of receipt.
    pub structural: Vec<Listed>,
    /// Outcomes, rejections and reopenings.
    pub outcomes: Outcomes,
    /// Lead times, one per [`Milestone::ALL`].
    pub lead_times: Vec<LeadTime>,
    /// Deadlines, one per [`DeadlineKind::ALL`].
    pub deadlines: Vec<DeadlineFigure>,
    /// Root causes, largest group first.
    pub root_causes: Vec<RootCauseGroup>,
    /// Complaints without a root cause.
    pub without_root_cause: usize,
    /// Recommendations made in the period.
    pub recommendations: Vec<Recommendation>,
    /// Measures decided or changed in the period.
    pub measures: Vec<Measure>,
    /// Measures per status, largest first.
    pub measures_by_status: Vec<Bucket>,
    /// The same figures for the previous period of equal length, when it has complaints.
    pub previous: Option<Box<Figures>>,
}

/// What the figures are computed for: the period, the working-day calendar and the moment
/// they describe.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The period; records received outside it are ignored.
    pub period: &'a Period,
    /// For lead times in working days.
    pub calendar: &'a WorkingCalendar,
    /// "Now": deadlines not yet passed at this moment are pending.
    pub as_of: Timestamp,
}

/// The complaints of a period with what the report derives from each.
#[derive(Debug, Clone)]
pub struct Analysed<'a> {
    /// The records received in the period, in the order given.
    pub records: Vec<&'a Complaint>,
    /// Their facts, in the same order.
    pub facts: Vec<Facts>,
}

/// Below this many records the facts are derived on one thread: starting more costs more.
const PARALLEL_FROM: usize = 4096;

/// Keeps the records received in `scope.period` and derives their facts, on every core for
/// a large register (lead times in working days are the costly part of the whole report).
pub fn analyse<'a>(records: &'a [Complaint], scope: &Scope<'_>) -> Analysed<'a> {
    let records: Vec<&Complaint> = records
        .iter()
        .filter(|c| scope.period.contains(c.received_at))
        .collect();
    let one = |c: &&Complaint| facts::facts(c, scope.calendar, scope.as_of);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let facts = if records.len() < PARALLEL_FROM || threads < 2 {
        records.iter().map(one).collect()
    } else {
        let chunk = records.len().div_ceil(threads);
        std::thread::scope(|s| {
            let parts: Vec<_> = records
                .chunks(chunk)
                .map(|part| s.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    Analysed { records, facts }
}

/// Computes the figures of `records` received in `scope.period`, and of `previous` (records
/// of the previous period, when given) for the comparison.
pub fn compute(
    records: &[Complaint],
    recommendations: &[Recommendation],
    measures: &[Measure],
    previous: Option<&[Complaint]>,
    scope: &Scope<'_>,
) -> Figures {
    summarise(
        &analyse(records, scope),
        recommendations,
        measures,
        previous,
        scope,
    )
}

/// [`compute`] on records already [`analyse`]d (the CSV uses the same facts).
pub fn summarise(
    analysed: &Analysed<'_>,
    recommendations: &[Recommendation],
    measures: &[Measure],
    previous: Option<&[Complaint]>,
    scope: &Scope<'_>,
) -> Figures {
    let previous = previous.and_then(|prev| {
        let period = scope.period.previous()?;
        let scope = Scope {
            period: &period,
            ..*scope
        };
        let figures = compute(prev, &[], &[], None, &scope);
        (figures.total > 0).then(|| Box::new(figures))
    });
    let records = &analysed.records;
    let (root_causes, without_root_cause) = count::root_causes(records);
    Figures {
        period: scope.period.clone(),
        as_of: scope.as_of,
        total: records.len(),
        per_month: count::per_month(records, scope.period),
        by_channel: count::vocabulary(Channel::ALL, Channel::as_str, records, |c| Some(c.channel)),
        by_origin: count::vocabulary(Origin::ALL, Origin::as_str, records, |c| Some(c.origin)),
        by_customer_type: count::vocabulary(
            CustomerType::ALL,
            CustomerType::as_str,
            records,
            |c| c.customer_type,
        ),
        by_category: count::free_text(records, |c| c.category.as_deref()),
        by_department: count::free_text(records, |c| c.department.as_deref()),
        by_classification: count::vocabulary(
            Classification::ALL,
            Classification::as_str,
            records,
            |c| Some(c.classification),
        ),
        structural: records
            .iter()
            .filter(|c| c.classification == Classification::Structural)
            .map(|c| count::listed(c))
            .collect(),
        outcomes: count::outcomes(records),
        lead_times: count::lead_times(&analysed.facts),
        deadlines: count::deadlines(&analysed.facts),
        root_causes,
        without_root_cause,
        recommendations: recommendations.to_vec(),
        measures: measures.to_vec(),
        measures_by_status: count::measures_by_status(measures),
        previous,
    }
}
