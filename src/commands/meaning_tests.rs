//! Who may give which command, which event it makes, and the all-or-nothing plan.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::*;
use crate::calendar::{HolidayRules, WorkingCalendar};
use crate::commands::parse_subject;
use crate::domain::{Channel, Complainant, Origin, Status};
use crate::procedure::{DeadlineTimes, NewComplaint};

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn people() -> People {
    People {
        officers: vec![addr("officer@concreet.nl")],
        management: vec![addr("directie@concreet.nl")],
        staff_domains: vec!["concreet.nl".into()],
    }
}

fn complaint(assignee: Option<&str>) -> Complaint {
    let new = NewComplaint {
        received_at: at("2026-03-02T09:00:00Z"),
        channel: Channel::Email,
        origin: Origin::External,
        customer_type: None,
        complainant: Complainant {
            name: None,
            email: Some(addr("klaas@klant.nl")),
            phone: None,
            organisation: None,
        },
        received_by: None,
        subject: "Examen".into(),
        description: "Niet ontvangen.".into(),
        solved_at_first_contact: false,
    };
    let deadlines = DeadlineTimes {
        acknowledge_by: at("2026-03-09T09:00:00Z"),
        explain_by: at("2026-03-16T09:00:00Z"),
        solve_by: at("2026-04-13T09:00:00Z"),
    };
    let (mut c, _) = procedure::register(new, Reference::new(2026, 42).unwrap(), deadlines);
    c.assignee = assignee.map(addr);
    c
}

fn with_when<T>(f: impl FnOnce(When<'_>) -> T) -> T {
    let tz = TimeZone::get("Europe/Amsterdam").unwrap();
    let calendar = WorkingCalendar::new(tz.clone(), HolidayRules::default());
    f(When {
        now: at("2026-03-03T10:00:00Z"),
        calendar: &calendar,
        timezone: &tz,
    })
}

#[test]
fn the_officer_may_give_every_command_and_a_customer_none() {
    let officer = Role::of(&people(), &addr("officer@concreet.nl"), None);
    let customer = Role::of(&people(), &addr("klaas@klant.nl"), None);
    for who in [
        Who::Officer,
        Who::Assignee,
        Who::Staff,
        Who::Management,
        Who::Anyone,
    ] {
        assert!(officer.allows(who));
        assert!(!customer.allows(who));
    }
    assert!(officer.may_command());
    assert!(!customer.may_command());
}

#[test]
fn an_assignee_outside_the_staff_domains_may_command_their_own_complaint_only() {
    let c = complaint(Some("extern@bureau.nl"));
    let on_theirs = Role::of(&people(), &addr("extern@bureau.nl"), Some(&c));
    let elsewhere = Role::of(&people(), &addr("extern@bureau.nl"), None);
    assert!(on_theirs.may_command() && on_theirs.allows(Who::Assignee));
    assert!(!on_theirs.allows(Who::Officer) && !on_theirs.allows(Who::Staff));
    assert!(!elsewhere.may_command());
}

#[test]
fn management_may_give_management_commands_but_not_assign() {
    let role = Role::of(&people(), &addr("directie@concreet.nl"), None);
    assert!(role.allows(Who::Management) && role.allows(Who::Staff));
    assert!(!role.allows(Who::Officer));
}

#[test]
fn refusals_name_who_may_and_the_missing_reference() {
    let staff = Role::of(&people(), &addr("jan@concreet.nl"), None);
    let parsed = parse_subject("#toewijzen piet@concreet.nl");
    let problems = refusals(&parsed, staff, &addr("jan@concreet.nl"), false, None);
    assert_eq!(
        problems,
        [
            "#toewijzen: not allowed for jan@concreet.nl (only the complaints officer may)",
            "#toewijzen: no complaint reference (KL-YYYY-NNNN) in the subject",
        ]
    );
    let officer = Role::of(&people(), &addr("officer@concreet.nl"), None);
    let parsed = parse_subject("#opgelost");
    let problems = refusals(&parsed, officer, &addr("officer@concreet.nl"), true, None);
    assert_eq!(
        problems,
        ["#opgelost: only with #telefoon, #brief or a forwarded mail"]
    );
}

#[test]
fn commands_that_take_the_body_need_one() {
    let parsed = parse_subject("#oorzaak");
    with_when(|when| {
        assert_eq!(
            event_for(&parsed.commands[0], "  ", when),
            Err("write the text in the body of the mail".into())
        );
        assert_eq!(
            event_for(&parsed.commands[0], "De printer", when),
            Ok(Some(Event::RootCauseSet("De printer".into())))
        );
    });
}

#[test]
fn a_deadline_date_ends_at_the_end_of_that_local_day() {
    let parsed = parse_subject("#termijn 2026-12-24");
    let event = with_when(|when| event_for(&parsed.commands[0], "", when));
    assert_eq!(
        event,
        Ok(Some(Event::SolveDeadlineMoved(at("2026-12-24T22:59:59Z"))))
    );
}

#[test]
fn help_status_and_reports_change_no_state() {
    for subject in ["#help", "#status", "#rapport 2025"] {
        let parsed = parse_subject(subject);
        let event = with_when(|when| event_for(&parsed.commands[0], "", when));
        assert_eq!(event, Ok(None), "{subject}");
    }
}

#[test]
fn measures_read_their_status_in_dutch_and_english() {
    assert_eq!(measure_arg(""), Ok(MeasureArg::New("decided")));
    assert_eq!(
        measure_arg("in uitvoering"),
        Ok(MeasureArg::New("in_progress"))
    );
    assert_eq!(measure_arg("12 done"), Ok(MeasureArg::Update(12, "done")));
    assert!(measure_arg("12 misschien").is_err());
}

#[test]
fn a_plan_is_all_or_nothing() {
    let c = complaint(None);
    let good = parse_subject("#toewijzen jan@concreet.nl #afdeling Examens");
    let planned = with_when(|when| plan(&c, &good.commands, "", when)).unwrap();
    assert_eq!(planned.complaint.assignee, Some(addr("jan@concreet.nl")));
    assert_eq!(planned.lines, ["#toewijzen done", "#afdeling done"]);
    assert!(!planned.effects.is_empty());
    let bad = parse_subject("#toewijzen jan@concreet.nl #oorzaak");
    let refused = with_when(|when| plan(&c, &bad.commands, "", when)).unwrap_err();
    assert_eq!(
        refused,
        ["#oorzaak: write the text in the body of the mail"]
    );
    assert_eq!(c.status, Status::New);
}

#[test]
fn the_timeline_shows_the_dutch_word_and_the_body() {
    let parsed = parse_subject("#cause");
    assert_eq!(
        detail(&parsed.commands[0], " De printer \n"),
        "#oorzaak: De printer"
    );
    let parsed = parse_subject("#assign jan@concreet.nl");
    assert_eq!(
        detail(&parsed.commands[0], "x"),
        "#toewijzen jan@concreet.nl"
    );
}
