use super::*;
use crate::domain::{Channel, Classification, Deadlines, Origin, Outcome, Reference, Status};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn amsterdam() -> TimeZone {
    TimeZone::get("Europe/Amsterdam").unwrap()
}

#[test]
fn terms_parse_calendar_and_elapsed_units_and_refuse_zero() {
    assert!(Term::parse("2y").is_ok());
    assert!(Term::parse("18mo").is_ok());
    assert!(Term::parse("1s").is_ok());
    assert!(Term::parse("P2Y").is_ok());
    assert!(Term::parse("0d").is_err());
    assert!(Term::parse("-1d").is_err());
    assert!(Term::parse("soon").is_err());
}

#[test]
fn a_term_in_years_counts_in_the_organisations_calendar() {
    let term = Term::parse("1y").unwrap();
    let cutoff = term.cutoff(ts("2028-02-29T11:00:00Z"), &amsterdam());
    assert_eq!(cutoff, ts("2027-02-28T11:00:00Z"));
    let term = Term::parse("1s").unwrap();
    assert_eq!(
        term.cutoff(ts("2026-03-02T09:00:02Z"), &amsterdam()),
        ts("2026-03-02T09:00:01Z")
    );
}

#[test]
fn only_complaints_closed_before_the_cutoff_and_not_yet_anonymised_are_due() {
    let cutoff = ts("2026-01-01T00:00:00Z");
    let c = |id, closed: Option<&str>, anonymised| Candidate {
        id,
        closed_at: closed.map(ts),
        anonymised,
    };
    let all = [
        c(1, Some("2025-06-01T00:00:00Z"), false),
        c(2, Some("2026-01-01T00:00:00Z"), false),
        c(3, Some("2026-01-01T00:00:01Z"), false),
        c(4, None, false),
        c(5, Some("2024-01-01T00:00:00Z"), true),
    ];
    assert_eq!(due(&all, cutoff), vec![1, 2]);
}

fn needles() -> Needles {
    let person = Complainant {
        name: Some("Xandrijn Quellenbosch".into()),
        email: Some(EmailAddress::parse("xq@klant.test").unwrap()),
        phone: Some("06-98765432".into()),
        organisation: Some("Zwaluwschool".into()),
    };
    Needles::of(&person, None)
}

#[test]
fn scrubbing_removes_every_needle_in_any_ascii_case_and_every_address() {
    let text = "Mail XANDRIJN quellenbosch (xq@klant.test, 0698765432 / 06-98765432) of \
                jan@concreet.test over de Zwaluwschool. Ok.";
    let out = needles().scrub(text);
    for gone in ["ndrijn", "ellenbosch", "xq@", "98765432", "waluw", "jan@"] {
        assert!(!out.to_lowercase().contains(gone), "{gone} in {out}");
    }
    assert!(
        out.starts_with("Mail [geanonimiseerd]") && out.ends_with("Ok."),
        "{out}"
    );
}

#[test]
fn scrubbing_keeps_non_ascii_text_intact() {
    let out = needles().scrub("Één klacht van Xandrijn Quellenbosch über zaken ß");
    assert_eq!(out, "Één klacht van [geanonimiseerd] über zaken ß");
}

#[test]
fn short_needles_are_not_scrubbed() {
    let mut n = Needles::default();
    n.add("Jo");
    assert_eq!(n.scrub("Jo en Joost"), "Jo en Joost");
}

fn complaint() -> Complaint {
    let t = ts("2026-03-02T09:00:00Z");
    Complaint {
        reference: Reference::new(2026, 7).unwrap(),
        received_at: t,
        channel: Channel::Email,
        origin: Origin::External,
        customer_type: None,
        complainant: needles_person(),
        received_by: None,
        subject: "Pakket voor Xandrijn Quellenbosch".into(),
        description: "Ik woon aan de Merelstraat.".into(),
        category: Some("Levering".into()),
        department: Some("Examens".into()),
        assignee: Some(EmailAddress::parse("jan@concreet.test").unwrap()),
        concerned: Some(EmailAddress::parse("piet@concreet.test").unwrap()),
        classification: Classification::Incident,
        root_cause: Some("Adres verkeerd overgenomen".into()),
        advice: Some("Bel Xandrijn".into()),
        solution: Some("Nieuw pakket naar de Merelstraat".into()),
        verdict: None,
        status: Status::Closed,
        outcome: Some(Outcome::Accepted),
        deadlines: Deadlines {
            acknowledge_by: t,
            explain_by: t,
            solve_by: t,
            acknowledged_at: Some(t),
            explained_at: None,
            solved_at: Some(t),
        },
        closed_at: Some(t),
        rejections: 1,
        reopenings: 0,
    }
}

fn needles_person() -> Complainant {
    Complainant {
        name: Some("Xandrijn Quellenbosch".into()),
        email: Some(EmailAddress::parse("xq@klant.test").unwrap()),
        phone: Some("06-98765432".into()),
        organisation: Some("Zwaluwschool".into()),
    }
}

#[test]
fn an_anonymised_complaint_keeps_what_the_report_counts_and_nothing_personal() {
    let c = complaint();
    let n = Needles::of(&c.complainant, c.concerned.as_ref());
    let a = anonymise(&c, &n);
    assert_eq!(a.complainant, Complainant::default());
    assert_eq!(a.concerned, None);
    assert_eq!(a.description, PLACEHOLDER);
    assert_eq!(a.advice, None);
    assert_eq!(a.solution.as_deref(), Some(PLACEHOLDER));
    assert_eq!(a.subject, "Pakket voor [geanonimiseerd]");
    // What the report reads stays as it was.
    assert_eq!(a.root_cause, c.root_cause);
    assert_eq!(
        (
            a.category,
            a.department,
            a.classification,
            a.status,
            a.outcome
        ),
        (
            c.category.clone(),
            c.department.clone(),
            c.classification,
            c.status,
            c.outcome
        )
    );
    assert_eq!(
        (a.deadlines, a.closed_at, a.rejections),
        (c.deadlines, c.closed_at, 1)
    );
    assert_eq!(a.assignee, c.assignee);
}

#[test]
fn timeline_actors_keep_staff_and_the_bot_and_lose_the_person() {
    let n = needles();
    let staff = |a: &EmailAddress| a.domain() == "concreet.test";
    assert_eq!(actor("klachtenbot", staff, &n), "klachtenbot");
    assert_eq!(actor("jan@concreet.test", staff, &n), "jan@concreet.test");
    assert_eq!(actor("xq@klant.test", staff, &n), PLACEHOLDER);
    assert_eq!(actor("iemand@elders.test", staff, &n), PLACEHOLDER);
}
