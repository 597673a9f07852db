//! Unit tests of the figures on hand-built records: every expected number is worked out in
//! the comments.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::calendar::{HolidayRules, WorkingCalendar};
use crate::domain::{Complainant, Deadlines};

fn ams() -> TimeZone {
    TimeZone::get("Europe/Amsterdam").unwrap()
}

fn calendar() -> WorkingCalendar {
    WorkingCalendar::new(ams(), HolidayRules::default())
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

/// A new e-mail complaint with the default deadlines (1, 2 and 6 weeks).
fn complaint(number: u32, received: &str) -> Complaint {
    let r = at(received);
    Complaint {
        reference: Reference::new(2026, number).unwrap(),
        received_at: r,
        channel: Channel::Email,
        origin: Origin::External,
        customer_type: None,
        complainant: Complainant::default(),
        received_by: None,
        subject: format!("Klacht {number}"),
        description: String::new(),
        category: None,
        department: None,
        assignee: None,
        concerned: None,
        classification: Classification::Unknown,
        root_cause: None,
        advice: None,
        solution: None,
        verdict: None,
        status: Status::New,
        outcome: None,
        deadlines: Deadlines {
            acknowledge_by: r + days(7),
            explain_by: r + days(14),
            solve_by: r + days(42),
            acknowledged_at: None,
            explained_at: None,
            solved_at: None,
        },
        closed_at: None,
        rejections: 0,
        reopenings: 0,
    }
}

fn closed(mut c: Complaint, outcome: Outcome, after_days: i64) -> Complaint {
    c.status = Status::Closed;
    c.outcome = Some(outcome);
    c.closed_at = Some(c.received_at + days(after_days));
    c
}

fn figures_at(records: &[Complaint], previous: Option<&[Complaint]>, as_of: &str) -> Figures {
    let period = Period::year(2026, ams()).unwrap();
    let calendar = calendar();
    let scope = Scope {
        period: &period,
        calendar: &calendar,
        as_of: at(as_of),
    };
    compute(records, &[], &[], previous, &scope)
}

fn figures(records: &[Complaint]) -> Figures {
    figures_at(records, None, "2026-06-01T12:00:00Z")
}

fn count(buckets: &[Bucket], key: &BucketKey) -> usize {
    buckets
        .iter()
        .find(|b| &b.key == key)
        .map_or(0, |b| b.count)
}

#[test]
fn complaints_count_in_the_local_month_they_were_received_and_only_in_the_period() {
    let records = [
        // 00:30 on 1 January in Amsterdam: January 2026, not 2025.
        complaint(1, "2025-12-31T23:30:00Z"),
        complaint(2, "2026-02-03T10:00:00Z"),
        complaint(3, "2026-02-28T22:59:59Z"),
        // 00:30 on 1 January 2027 in Amsterdam: outside the year.
        complaint(4, "2026-12-31T23:30:00Z"),
        complaint(5, "2026-12-31T22:00:00Z"),
    ];
    let f = figures(&records);
    assert_eq!(f.total, 4);
    assert_eq!(f.per_month.len(), 12);
    let per_month: Vec<usize> = f.per_month.iter().map(|m| m.count).collect();
    assert_eq!(per_month, [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn vocabularies_list_every_value_and_free_text_groups_by_its_normalised_form() {
    let mut records: Vec<Complaint> = (1..=6)
        .map(|n| complaint(n, "2026-03-02T09:00:00Z"))
        .collect();
    records[0].channel = Channel::Phone;
    records[1].channel = Channel::Phone;
    records[2].origin = Origin::Internal;
    records[2].customer_type = Some(CustomerType::Internal);
    records[3].customer_type = Some(CustomerType::Institution);
    for (c, cat) in records
        .iter_mut()
        .zip(["Levering", "levering ", "LEVERING", "Factuur"])
    {
        c.category = Some(cat.into());
    }
    let f = figures(&records);
    assert_eq!(f.by_channel.len(), 4, "every channel, also with 0");
    assert_eq!(count(&f.by_channel, &BucketKey::Code("email")), 4);
    assert_eq!(count(&f.by_channel, &BucketKey::Code("phone")), 2);
    assert_eq!(count(&f.by_channel, &BucketKey::Code("letter")), 0);
    assert_eq!(count(&f.by_origin, &BucketKey::Code("internal")), 1);
    assert_eq!(count(&f.by_customer_type, &BucketKey::NotSet), 4);
    assert_eq!(
        f.by_customer_type.last().map(|b| &b.key),
        Some(&BucketKey::NotSet)
    );
    // Three spellings of one category; the first seen wins the tie.
    assert_eq!(
        f.by_category,
        vec![
            Bucket {
                key: BucketKey::Text("Levering".into()),
                count: 3
            },
            Bucket {
                key: BucketKey::Text("Factuur".into()),
                count: 1
            },
            Bucket {
                key: BucketKey::NotSet,
                count: 2
            },
        ]
    );
    assert_eq!(count(&f.by_classification, &BucketKey::Code("unknown")), 6);
}

#[test]
fn outcomes_count_closed_complaints_and_rework_is_added_up() {
    let base = |n| complaint(n, "2026-03-02T09:00:00Z");
    let mut reopened = closed(base(4), Outcome::Accepted, 20);
    reopened.rejections = 2;
    reopened.reopenings = 1;
    let mut open_rejected = base(6);
    open_rejected.status = Status::InProgress;
    open_rejected.rejections = 1;
    let records = [
        closed(base(1), Outcome::Accepted, 10),
        closed(base(2), Outcome::SolvedAtFirstContact, 0),
        closed(base(3), Outcome::Withdrawn, 3),
        reopened,
        base(5),
        open_rejected,
    ];
    let f = figures(&records);
    let o = &f.outcomes;
    assert_eq!(count(&o.by_outcome, &BucketKey::Code("accepted")), 2);
    assert_eq!(
        count(&o.by_outcome, &BucketKey::Code("solved_at_first_contact")),
        1
    );
    assert_eq!(count(&o.by_outcome, &BucketKey::Code("withdrawn")), 1);
    assert_eq!(count(&o.by_outcome, &BucketKey::Code("not_a_complaint")), 0);
    assert_eq!(o.by_outcome.len(), 5, "every outcome listed, none missing");
    assert_eq!(o.open, 2);
    assert_eq!((o.rejected_proposals, o.complaints_with_rejections), (3, 2));
    assert_eq!((o.reopenings, o.complaints_reopened), (1, 1));
}

#[test]
fn lead_times_give_the_median_and_90th_percentile_in_calendar_and_working_days() {
    // Received Monday 2 March 2026, 10:00 in Amsterdam; acknowledged after 1 hour, 1 day,
    // 2 days and 10 days (Thursday 12 March: 8 working days).
    let records: Vec<Complaint> = [0, 1, 2, 10]
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let mut c = complaint(u32::try_from(i).unwrap() + 1, "2026-03-02T09:00:00Z");
            let after = if d == 0 {
                SignedDuration::from_hours(1)
            } else {
                days(d)
            };
            c.deadlines.acknowledged_at = Some(c.received_at + after);
            c
        })
        .collect();
    let f = figures(&records);
    let ack = f.lead_times[0];
    assert_eq!(ack.milestone, Milestone::Acknowledged);
    assert_eq!(ack.count, 4);
    let cal = ack.calendar_days.unwrap();
    // Sorted 1/24, 1, 2, 10: median (1 + 2) / 2; p90 at rank 2.7: 2 + 0.7 * 8.
    assert!((cal.median - 1.5).abs() < 1e-9, "{cal:?}");
    assert!((cal.p90 - 7.6).abs() < 1e-9, "{cal:?}");
    let work = ack.working_days.unwrap();
    // Working days 0, 1, 2, 8: median 1.5; p90 2 + 0.7 * 6.
    assert!((work.median - 1.5).abs() < 1e-9, "{work:?}");
    assert!((work.p90 - 6.2).abs() < 1e-9, "{work:?}");
    assert_eq!(f.lead_times[3].count, 0);
    assert_eq!(f.lead_times[3].calendar_days, None);
}

#[test]
fn each_deadline_is_met_missed_pending_or_no_longer_applicable() {
    let r = "2026-03-02T09:00:00Z";
    let mut met = complaint(1, r);
    met.deadlines.acknowledged_at = Some(met.deadlines.acknowledge_by);
    let mut late = complaint(2, r);
    late.deadlines.acknowledged_at = Some(late.deadlines.acknowledge_by + days(1));
    // Open and not acknowledged: at 5 March pending, at 1 June missed.
    let open = complaint(3, r);
    // Closed on day 0 without an acknowledgement (solved at first contact): not applicable.
    let first_contact = closed(complaint(4, r), Outcome::SolvedAtFirstContact, 0);
    // Closed on day 10 without one: the week had passed, missed.
    let closed_late = closed(complaint(5, r), Outcome::Withdrawn, 10);
    let records = [met, late, open, first_contact, closed_late];

    let early = figures_at(&records, None, "2026-03-05T12:00:00Z");
    let ack = early.deadlines[0];
    assert_eq!(ack.kind, DeadlineKind::Acknowledge);
    assert_eq!(ack.counts, [1, 2, 1, 1], "met, missed, pending, n/a");
    assert_eq!(ack.met_share(), Some(1.0 / 3.0));

    let later = figures_at(&records, None, "2026-06-01T12:00:00Z");
    assert_eq!(later.deadlines[0].counts, [1, 3, 0, 1]);
    // Nobody got an explanation: both closed ones were closed before its 2-week deadline
    // (n/a); the three open ones have missed it by June.
    assert_eq!(later.deadlines[1].counts, [0, 3, 0, 2]);
}

#[test]
fn a_reopened_complaint_is_open_again_for_its_deadlines() {
    let mut c = closed(complaint(1, "2026-03-02T09:00:00Z"), Outcome::Accepted, 1);
    c.status = Status::InProgress;
    c.reopenings = 1;
    let f = figures_at(&[c], None, "2026-06-01T12:00:00Z");
    // Not acknowledged, open, deadline passed: missed (not "closed in time").
    assert_eq!(f.deadlines[0].counts, [0, 1, 0, 0]);
    assert_eq!(f.outcomes.open, 1);
}

#[test]
fn root_causes_are_grouped_and_structural_complaints_listed() {
    let mut records: Vec<Complaint> = (1..=5)
        .map(|n| complaint(n, "2026-04-01T09:00:00Z"))
        .collect();
    records[0].root_cause = Some("Voorraad niet bijgewerkt".into());
    records[1].root_cause = Some("voorraad niet  bijgewerkt.".into());
    records[2].root_cause = Some("Adres fout overgenomen".into());
    records[3].root_cause = Some("   ".into());
    records[1].classification = Classification::Structural;
    records[2].classification = Classification::Incident;
    let f = figures(&records);
    assert_eq!(f.root_causes.len(), 2);
    assert_eq!(f.root_causes[0].cause, "Voorraad niet bijgewerkt");
    assert_eq!(
        f.root_causes[0].references,
        vec![records[0].reference, records[1].reference]
    );
    assert_eq!(f.without_root_cause, 2);
    assert_eq!(f.structural.len(), 1);
    assert_eq!(f.structural[0].reference, records[1].reference);
    assert_eq!(
        count(&f.by_classification, &BucketKey::Code("structural")),
        1
    );
    assert_eq!(count(&f.by_classification, &BucketKey::Code("incident")), 1);
}

#[test]
fn the_previous_period_is_compared_only_when_it_has_complaints() {
    let now = [complaint(1, "2026-05-01T09:00:00Z")];
    let before = [
        complaint(2, "2025-05-01T09:00:00Z"),
        complaint(3, "2025-07-01T09:00:00Z"),
        // In 2026: not part of the previous period.
        complaint(4, "2026-07-01T09:00:00Z"),
    ];
    let f = figures_at(&now, Some(&before), "2026-06-01T12:00:00Z");
    let prev = f.previous.as_deref().unwrap();
    assert_eq!(prev.total, 2);
    assert_eq!(prev.period, Period::year(2025, ams()).unwrap());
    assert!(prev.previous.is_none());
    let none = figures_at(&now, Some(&[]), "2026-06-01T12:00:00Z");
    assert!(none.previous.is_none());
}

#[test]
fn measures_are_counted_per_status() {
    let m = |status: &str| Measure {
        reference: None,
        text: "Voorraadcontrole wekelijks".into(),
        status: status.into(),
        decided_at: at("2026-05-01T09:00:00Z"),
        updated_at: at("2026-05-01T09:00:00Z"),
    };
    let period = Period::year(2026, ams()).unwrap();
    let calendar = calendar();
    let scope = Scope {
        period: &period,
        calendar: &calendar,
        as_of: at("2026-06-01T12:00:00Z"),
    };
    let measures = [m("decided"), m("done"), m("decided")];
    let f = compute(&[], &[], &measures, None, &scope);
    assert_eq!(f.total, 0);
    assert_eq!(
        f.measures_by_status,
        vec![
            Bucket {
                key: BucketKey::Text("decided".into()),
                count: 2
            },
            Bucket {
                key: BucketKey::Text("done".into()),
                count: 1
            },
        ]
    );
    assert_eq!(f.measures.len(), 3);
}
