//! The counting behind [`super::summarise`]: one function per part of the figures.

use super::stats::{self, TextGroups};
use super::{
    Bucket, BucketKey, DeadlineFigure, DeadlineKind, DeadlineState, Facts, Lead, LeadTime, Listed,
    Measure, Milestone, MonthCount, Outcomes, Quantiles, RootCauseGroup,
};
use crate::domain::{Complaint, Outcome};
use crate::report::Period;

pub(super) fn per_month(records: &[&Complaint], period: &Period) -> Vec<MonthCount> {
    let mut months: Vec<MonthCount> = period
        .months()
        .into_iter()
        .map(|(year, month)| MonthCount {
            year,
            month,
            count: 0,
        })
        .collect();
    for c in records {
        let (year, month) = period.month_of(c.received_at);
        if let Some(m) = months
            .iter_mut()
            .find(|m| m.year == year && m.month == month)
        {
            m.count += 1;
        }
    }
    months
}

/// Counts per vocabulary value, every value listed in declaration order, then `NotSet` when
/// any complaint lacks one.
pub(super) fn vocabulary<T: Copy + PartialEq>(
    all: &[T],
    name: fn(T) -> &'static str,
    records: &[&Complaint],
    value: impl Fn(&Complaint) -> Option<T>,
) -> Vec<Bucket> {
    let mut counts = vec![0usize; all.len()];
    let mut not_set = 0;
    for c in records {
        match value(c).and_then(|v| all.iter().position(|a| *a == v)) {
            Some(i) => counts[i] += 1,
            None => not_set += 1,
        }
    }
    let mut out: Vec<Bucket> = all
        .iter()
        .zip(counts)
        .map(|(v, count)| Bucket {
            key: BucketKey::Code(name(*v)),
            count,
        })
        .collect();
    if not_set > 0 {
        out.push(Bucket {
            key: BucketKey::NotSet,
            count: not_set,
        });
    }
    out
}

/// Counts per hand-typed value (grouped by [`stats::normalise`]), largest first, then
/// `NotSet` when any complaint lacks one.
pub(super) fn free_text(
    records: &[&Complaint],
    value: impl Fn(&Complaint) -> Option<&str>,
) -> Vec<Bucket> {
    let mut groups = TextGroups::new();
    let mut not_set = 0;
    for c in records {
        if !groups.add(value(c).unwrap_or(""), ()) {
            not_set += 1;
        }
    }
    let mut out: Vec<Bucket> = groups
        .into_sorted()
        .into_iter()
        .map(|(text, members)| Bucket {
            key: BucketKey::Text(text),
            count: members.len(),
        })
        .collect();
    if not_set > 0 {
        out.push(Bucket {
            key: BucketKey::NotSet,
            count: not_set,
        });
    }
    out
}

pub(super) fn listed(c: &Complaint) -> Listed {
    Listed {
        reference: c.reference,
        received_at: c.received_at,
        subject: c.subject.clone(),
        category: c.category.clone(),
        department: c.department.clone(),
        status: c.status,
        outcome: c.outcome,
        root_cause: c.root_cause.clone(),
        complainant: c.complainant.clone(),
    }
}

pub(super) fn outcomes(records: &[&Complaint]) -> Outcomes {
    let closed: Vec<&Complaint> = records
        .iter()
        .copied()
        .filter(|c| !c.status.is_open())
        .collect();
    Outcomes {
        by_outcome: vocabulary(Outcome::ALL, Outcome::as_str, &closed, |c| c.outcome),
        open: records.len() - closed.len(),
        rejected_proposals: records.iter().map(|c| u64::from(c.rejections)).sum(),
        complaints_with_rejections: records.iter().filter(|c| c.rejections > 0).count(),
        reopenings: records.iter().map(|c| u64::from(c.reopenings)).sum(),
        complaints_reopened: records.iter().filter(|c| c.reopenings > 0).count(),
    }
}

pub(super) fn lead_times(facts: &[Facts]) -> Vec<LeadTime> {
    let quantiles = |mut values: Vec<f64>| {
        Some(Quantiles {
            median: stats::quantile(&mut values, 0.5)?,
            p90: stats::quantile(&mut values, 0.9)?,
        })
    };
    Milestone::ALL
        .iter()
        .enumerate()
        .map(|(i, &milestone)| {
            let leads: Vec<Lead> = facts.iter().filter_map(|f| f.leads[i]).collect();
            #[allow(clippy::cast_precision_loss)] // working days are small
            let working = leads.iter().map(|l| l.working_days as f64).collect();
            LeadTime {
                milestone,
                count: leads.len(),
                calendar_days: quantiles(leads.iter().map(|l| l.calendar_days).collect()),
                working_days: quantiles(working),
            }
        })
        .collect()
}

pub(super) fn deadlines(facts: &[Facts]) -> Vec<DeadlineFigure> {
    DeadlineKind::ALL
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            let mut counts = [0usize; 4];
            for f in facts {
                if let Some(s) = DeadlineState::ALL.iter().position(|s| *s == f.deadlines[i]) {
                    counts[s] += 1;
                }
            }
            DeadlineFigure { kind, counts }
        })
        .collect()
}

pub(super) fn root_causes(records: &[&Complaint]) -> (Vec<RootCauseGroup>, usize) {
    let mut groups = TextGroups::new();
    let mut without = 0;
    for c in records {
        if !groups.add(c.root_cause.as_deref().unwrap_or(""), c.reference) {
            without += 1;
        }
    }
    let groups = groups
        .into_sorted()
        .into_iter()
        .map(|(cause, references)| RootCauseGroup { cause, references })
        .collect();
    (groups, without)
}

pub(super) fn measures_by_status(measures: &[Measure]) -> Vec<Bucket> {
    let mut groups = TextGroups::new();
    for m in measures {
        groups.add(&m.status, ());
    }
    groups
        .into_sorted()
        .into_iter()
        .map(|(status, members)| Bucket {
            key: BucketKey::Text(status),
            count: members.len(),
        })
        .collect()
}
