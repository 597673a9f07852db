//! Every reminder rule on a hand-driven clock: a complaint, a moment, the reminders wanted.

use std::time::Duration;

use jiff::Zoned;

use super::*;
use crate::calendar::{DEFAULT_TIME_ZONE, HolidayRules};
use crate::domain::{Channel, Complainant, EmailAddress, Origin, Reference};
use crate::procedure::{self, DeadlineTimes, Event, NewComplaint};

fn cal() -> WorkingCalendar {
    WorkingCalendar::for_zone(DEFAULT_TIME_ZONE, HolidayRules::default()).expect("bundled zone")
}

/// A local Amsterdam time, e.g. "2026-03-02T10:00".
fn local(civil: &str) -> Timestamp {
    format!("{civil}[Europe/Amsterdam]")
        .parse::<Zoned>()
        .expect("valid local time")
        .timestamp()
}

fn wd(n: u32) -> DeadlineSpan {
    DeadlineSpan::WorkingDays(n)
}

fn elapsed(secs: u64) -> DeadlineSpan {
    DeadlineSpan::Calendar(Duration::from_secs(secs))
}

/// The defaults of `[reminders]`, with the solve deadline counted in working days.
fn policy() -> Policy {
    Policy {
        reminders: ReminderPolicy {
            enabled: true,
            acknowledge_before: wd(2),
            explain_before: wd(3),
            explain_overdue_to_management: false,
            solve_before: wd(5),
            overdue_repeat: wd(5),
            verdict_wait: wd(10),
            unassigned_after: wd(2),
            pause_while_waiting: false,
        },
        solve: wd(30),
    }
}

fn address(a: &str) -> EmailAddress {
    EmailAddress::parse(a).expect("valid address")
}

/// A complaint received Monday 2 March 2026 10:00 with deadlines 1 week, 2 weeks and 30
/// working days (14 April: Easter Monday 6 April is not a working day).
fn complaint(email: Option<&str>) -> Complaint {
    let received = local("2026-03-02T10:00");
    let new = NewComplaint {
        received_at: received,
        channel: if email.is_some() {
            Channel::Email
        } else {
            Channel::Phone
        },
        origin: Origin::External,
        customer_type: None,
        complainant: Complainant {
            name: Some("Klaas".into()),
            email: email.map(address),
            phone: None,
            organisation: None,
        },
        received_by: None,
        subject: "Examen niet ontvangen".into(),
        description: "Het pakket kwam niet.".into(),
        solved_at_first_contact: false,
    };
    let deadlines = DeadlineTimes {
        acknowledge_by: local("2026-03-09T10:00"),
        explain_by: local("2026-03-16T10:00"),
        solve_by: cal().add_working_days(received, 30),
    };
    let reference = Reference::new(2026, 1).expect("valid reference");
    procedure::register(new, reference, deadlines).0
}

fn apply(c: &Complaint, event: Event, at: &str) -> Complaint {
    procedure::apply(c, &event, local(at))
        .expect("event applies")
        .0
}

/// An acknowledged, assigned and explained complaint: only the solve rules remain.
fn in_progress() -> Complaint {
    let c = apply(
        &complaint(Some("klaas@klant.example")),
        Event::Acknowledged,
        "2026-03-02T10:00",
    );
    apply(
        &c,
        Event::Assigned(address("jan@concreet.test")),
        "2026-03-03T09:00",
    )
}

fn wanted(c: &Complaint, waiting: &Waiting, at: &str) -> Vec<(ReminderKind, String, u32)> {
    plan(c, waiting, local(at), &policy(), &cal())
        .into_iter()
        .map(|d| (d.kind, show(d.due_at), d.repeat))
        .collect()
}

fn show(t: Timestamp) -> String {
    t.to_zoned(cal().time_zone().clone())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

fn kinds(c: &Complaint, at: &str) -> Vec<ReminderKind> {
    plan(c, &Waiting::default(), local(at), &policy(), &cal())
        .into_iter()
        .map(|d| d.kind)
        .collect()
}

#[test]
fn the_solve_deadline_of_the_fixture_skips_easter_monday() {
    assert_eq!(show(complaint(None).deadlines.solve_by), "2026-04-14T10:00");
}

#[test]
fn no_acknowledgement_reminds_the_officer_two_working_days_before_the_deadline() {
    let c = complaint(None);
    let due = plan(
        &c,
        &Waiting::default(),
        local("2026-03-02T10:00"),
        &policy(),
        &cal(),
    );
    let ack = due
        .iter()
        .find(|d| d.kind == ReminderKind::AcknowledgeBefore)
        .expect("an acknowledgement reminder");
    assert_eq!(show(ack.due_at), "2026-03-05T10:00");
    assert_eq!(ack.deadline, c.deadlines.acknowledge_by);
    assert_eq!(ack.audience, Audience::Officers);
}

#[test]
fn an_acknowledged_complaint_gets_no_acknowledgement_reminder() {
    let c = apply(
        &complaint(Some("klaas@klant.example")),
        Event::Acknowledged,
        "2026-03-02T10:00",
    );
    assert!(!kinds(&c, "2026-03-02T10:00").contains(&ReminderKind::AcknowledgeBefore));
}

#[test]
fn the_explanation_is_reminded_three_working_days_before_and_on_the_day_it_passes() {
    let c = apply(
        &complaint(Some("klaas@klant.example")),
        Event::Acknowledged,
        "2026-03-02T10:00",
    );
    let at_start = wanted(&c, &Waiting::default(), "2026-03-02T10:00");
    assert!(at_start.contains(&(ReminderKind::ExplainBefore, "2026-03-11T10:00".into(), 0)));
    assert!(at_start.contains(&(ReminderKind::ExplainOverdue, "2026-03-16T10:00".into(), 0)));
    let due = plan(
        &c,
        &Waiting::default(),
        local("2026-03-16T10:00"),
        &policy(),
        &cal(),
    );
    let overdue = due
        .iter()
        .find(|d| d.kind == ReminderKind::ExplainOverdue)
        .expect("the overdue notice");
    assert_eq!(overdue.audience, Audience::Officers);
}

#[test]
fn the_explanation_overdue_notice_goes_to_management_by_config() {
    let mut p = policy();
    p.reminders.explain_overdue_to_management = true;
    let c = complaint(Some("klaas@klant.example"));
    let due = plan(
        &c,
        &Waiting::default(),
        local("2026-03-16T10:00"),
        &p,
        &cal(),
    );
    let overdue = due
        .iter()
        .find(|d| d.kind == ReminderKind::ExplainOverdue)
        .expect("the overdue notice");
    assert_eq!(overdue.audience, Audience::OfficersAndManagement);
}

#[test]
fn a_sent_explanation_drops_both_explanation_reminders() {
    let c = apply(
        &complaint(Some("klaas@klant.example")),
        Event::ExplanationSent(None),
        "2026-03-04T09:00",
    );
    let found = kinds(&c, "2026-03-04T09:00");
    assert!(!found.contains(&ReminderKind::ExplainBefore));
    assert!(!found.contains(&ReminderKind::ExplainOverdue));
}

#[test]
fn a_reminder_before_a_deadline_is_no_longer_wanted_once_the_deadline_passed() {
    let c = complaint(Some("klaas@klant.example"));
    let found = kinds(&c, "2026-03-16T10:00");
    assert!(!found.contains(&ReminderKind::ExplainBefore));
    assert!(found.contains(&ReminderKind::ExplainOverdue));
}

#[test]
fn an_overdue_notice_missed_for_longer_than_the_repeat_interval_is_not_sent_late() {
    let c = complaint(Some("klaas@klant.example"));
    // Five working days after 16 March 10:00 is 23 March 10:00.
    assert!(kinds(&c, "2026-03-23T09:59").contains(&ReminderKind::ExplainOverdue));
    assert!(!kinds(&c, "2026-03-23T10:00").contains(&ReminderKind::ExplainOverdue));
}

#[test]
fn the_assignee_is_reminded_five_working_days_before_the_solve_deadline() {
    let c = in_progress();
    let due = plan(
        &c,
        &Waiting::default(),
        local("2026-03-03T09:00"),
        &policy(),
        &cal(),
    );
    let before = due
        .iter()
        .find(|d| d.kind == ReminderKind::SolveBefore)
        .expect("a solve reminder");
    // Five working days back from Tuesday 14 April: 13, 10, 9, 8 and 7 April.
    assert_eq!(show(before.due_at), "2026-04-07T10:00");
    assert_eq!(before.audience, Audience::Assignee);
    // Before the deadline only the first overdue notice is planned.
    let overdue: Vec<_> = due
        .iter()
        .filter(|d| d.kind == ReminderKind::SolveOverdue)
        .collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(show(overdue[0].due_at), "2026-04-14T10:00");
    assert_eq!(overdue[0].audience, Audience::AssigneeAndOfficers);
}

#[test]
fn the_solve_overdue_notice_repeats_every_five_working_days_while_it_stays_overdue() {
    let c = in_progress();
    let w = Waiting::default();
    let solve = |at: &str| -> Vec<(String, u32)> {
        wanted(&c, &w, at)
            .into_iter()
            .filter(|(k, _, _)| *k == ReminderKind::SolveOverdue)
            .map(|(_, at, n)| (at, n))
            .collect()
    };
    assert_eq!(
        solve("2026-04-14T10:00"),
        [
            ("2026-04-14T10:00".into(), 0),
            ("2026-04-21T10:00".into(), 1)
        ]
    );
    assert_eq!(
        solve("2026-04-21T09:59"),
        [
            ("2026-04-14T10:00".into(), 0),
            ("2026-04-21T10:00".into(), 1)
        ]
    );
    // King's Day, Monday 27 April, is skipped: 22, 23, 24, 28, 29 April.
    assert_eq!(
        solve("2026-04-21T10:00"),
        [
            ("2026-04-21T10:00".into(), 1),
            ("2026-04-29T10:00".into(), 2)
        ]
    );
    assert!(!kinds(&c, "2026-04-14T10:00").contains(&ReminderKind::SolveBefore));
}

#[test]
fn repetitions_in_elapsed_time_count_from_the_deadline() {
    let mut p = policy();
    p.reminders.overdue_repeat = elapsed(30);
    let c = in_progress();
    let at = c
        .deadlines
        .solve_by
        .checked_add(jiff::SignedDuration::from_secs(95))
        .unwrap();
    let due: Vec<_> = plan(&c, &Waiting::default(), at, &p, &cal())
        .into_iter()
        .filter(|d| d.kind == ReminderKind::SolveOverdue)
        .map(|d| {
            (
                d.due_at.duration_since(c.deadlines.solve_by).as_secs(),
                d.repeat,
            )
        })
        .collect();
    assert_eq!(due, [(90, 3), (120, 4)]);
}

#[test]
fn a_moved_solve_deadline_moves_its_reminders() {
    let c = in_progress();
    let moved = apply(
        &c,
        Event::SolveDeadlineMoved(local("2026-05-12T17:00")),
        "2026-04-01T09:00",
    );
    let found = wanted(&moved, &Waiting::default(), "2026-04-01T09:00");
    assert!(found.contains(&(ReminderKind::SolveBefore, "2026-05-05T17:00".into(), 0)));
    assert!(found.contains(&(ReminderKind::SolveOverdue, "2026-05-12T17:00".into(), 0)));
}

#[test]
fn a_proposal_waiting_for_the_verdict_stops_solve_reminders_and_asks_the_officer_to_follow_up() {
    let c = apply(
        &in_progress(),
        Event::SolutionProposed("Nieuw pakket".into()),
        "2026-03-20T11:00",
    );
    let waiting = Waiting {
        since: Some(local("2026-03-20T11:00")),
        paused: Vec::new(),
    };
    let found = wanted(&c, &waiting, "2026-03-20T11:00");
    assert_eq!(
        found,
        [(ReminderKind::VerdictPending, "2026-04-03T11:00".into(), 0)]
    );
    let due = plan(&c, &waiting, local("2026-03-20T11:00"), &policy(), &cal());
    assert_eq!(due[0].audience, Audience::Officers);
}

#[test]
fn the_solve_clock_pauses_while_waiting_on_the_complainant_when_configured() {
    let c = in_progress();
    // Waited Friday 20 March 11:00 to Wednesday 25 March 11:00: three working days.
    let waiting = Waiting {
        since: None,
        paused: vec![local("2026-03-20T11:00")..local("2026-03-25T11:00")],
    };
    assert_eq!(
        solve_deadline(&c, &waiting, &policy(), &cal()),
        c.deadlines.solve_by,
        "no pause unless configured"
    );
    let mut p = policy();
    p.reminders.pause_while_waiting = true;
    let moved = solve_deadline(&c, &waiting, &p, &cal());
    assert_eq!(show(moved), "2026-04-17T10:00");
    let due = plan(&c, &waiting, local("2026-04-14T10:00"), &p, &cal());
    assert!(
        due.iter()
            .all(|d| d.kind != ReminderKind::SolveOverdue || d.due_at == moved)
    );
}

#[test]
fn a_calendar_solve_deadline_pauses_by_the_exact_time_waited() {
    let mut p = policy();
    p.reminders.pause_while_waiting = true;
    p.solve = elapsed(60);
    let c = in_progress();
    let start = local("2026-03-20T11:00:00");
    let waiting = Waiting {
        since: None,
        paused: vec![start..local("2026-03-20T11:00:25")],
    };
    let moved = solve_deadline(&c, &waiting, &p, &cal());
    assert_eq!(moved.duration_since(c.deadlines.solve_by).as_secs(), 25);
}

#[test]
fn an_unassigned_complaint_is_brought_to_the_officer_after_two_working_days() {
    let c = apply(
        &complaint(Some("klaas@klant.example")),
        Event::Acknowledged,
        "2026-03-02T10:00",
    );
    let found = wanted(&c, &Waiting::default(), "2026-03-02T10:00");
    assert!(found.contains(&(ReminderKind::Unassigned, "2026-03-04T10:00".into(), 0)));
    assert!(!kinds(&in_progress(), "2026-03-03T09:00").contains(&ReminderKind::Unassigned));
}

#[test]
fn a_closed_complaint_or_switched_off_reminders_want_nothing() {
    let closed = apply(&in_progress(), Event::Withdrawn, "2026-03-05T09:00");
    assert!(kinds(&closed, "2026-03-05T09:00").is_empty());
    let mut p = policy();
    p.reminders.enabled = false;
    let c = complaint(None);
    assert!(
        plan(
            &c,
            &Waiting::default(),
            local("2026-03-02T10:00"),
            &p,
            &cal()
        )
        .is_empty()
    );
}

#[test]
fn working_days_before_a_deadline_skip_weekends_and_holidays_and_keep_the_clock_time() {
    let cal = cal();
    // Tuesday 28 April 2026 14:00, three working days back: 24 (Fri), 23, 22 April; King's
    // Day and the weekend are skipped.
    assert_eq!(
        show(before(&cal, local("2026-04-28T14:00"), &wd(3))),
        "2026-04-22T14:00"
    );
    // Across the spring DST change the clock time stays 09:00.
    let monday = local("2026-03-30T09:00");
    let friday = before(&cal, monday, &wd(1));
    assert_eq!(show(friday), "2026-03-27T09:00");
    assert_eq!(monday.duration_since(friday).as_hours(), 71);
    // Elapsed time is exact.
    assert_eq!(
        monday
            .duration_since(before(&cal, monday, &elapsed(10)))
            .as_secs(),
        10
    );
}

#[test]
fn pending_deadlines_list_what_is_not_done_earliest_first() {
    let c = complaint(None);
    let w = Waiting::default();
    let kinds: Vec<_> = pending_deadlines(&c, &w, &policy(), &cal())
        .into_iter()
        .map(|p| p.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            DeadlineKind::Acknowledge,
            DeadlineKind::Explain,
            DeadlineKind::Solve
        ]
    );
    let waiting = Waiting {
        since: Some(local("2026-03-20T11:00")),
        paused: Vec::new(),
    };
    let proposed = apply(
        &in_progress(),
        Event::SolutionProposed("x".into()),
        "2026-03-20T11:00",
    );
    let explained = apply(&proposed, Event::ExplanationSent(None), "2026-03-20T11:00");
    let kinds: Vec<_> = pending_deadlines(&explained, &waiting, &policy(), &cal())
        .into_iter()
        .map(|p| p.kind)
        .collect();
    assert_eq!(kinds, [DeadlineKind::Verdict]);
}
