//! One test per step of PROCEDURE.md, plus the refusals.

use super::*;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn new_complaint(email: Option<&str>) -> NewComplaint {
    NewComplaint {
        received_at: at("2026-03-02T09:00:00Z"),
        channel: Channel::Email,
        origin: Origin::External,
        customer_type: None,
        complainant: Complainant {
            name: Some("Klaas Klant".into()),
            email: email.map(addr),
            phone: None,
            organisation: None,
        },
        received_by: None,
        subject: "Examen niet ontvangen".into(),
        description: "Mijn examen is niet aangekomen.".into(),
        solved_at_first_contact: false,
    }
}

fn deadlines() -> DeadlineTimes {
    DeadlineTimes {
        acknowledge_by: at("2026-03-09T09:00:00Z"),
        explain_by: at("2026-03-16T09:00:00Z"),
        solve_by: at("2026-04-13T09:00:00Z"),
    }
}

fn registered() -> Complaint {
    register(
        new_complaint(Some("klaas@klant.nl")),
        Reference::new(2026, 42).unwrap(),
        deadlines(),
    )
    .0
}

fn step(c: &Complaint, e: Event) -> (Complaint, Vec<Effect>) {
    apply(c, &e, at("2026-03-03T10:00:00Z")).unwrap()
}

#[test]
fn step1_a_mailed_complaint_is_registered_as_new_and_asks_for_an_acknowledgement() {
    let (c, effects) = register(
        new_complaint(Some("klaas@klant.nl")),
        Reference::new(2026, 42).unwrap(),
        deadlines(),
    );
    assert_eq!(c.status, Status::New);
    assert_eq!(c.outcome, None);
    assert_eq!(c.classification, Classification::Unknown);
    assert_eq!(c.deadlines.explain_by, at("2026-03-16T09:00:00Z"));
    assert_eq!(effects, vec![Effect::SendAcknowledgement]);
}

#[test]
fn step2_solved_at_first_contact_is_registered_and_closed_at_once_without_mail() {
    let mut n = new_complaint(None);
    n.channel = Channel::Phone;
    n.solved_at_first_contact = true;
    let (c, effects) = register(n, Reference::new(2026, 1).unwrap(), deadlines());
    assert_eq!(c.status, Status::Closed);
    assert_eq!(c.outcome, Some(Outcome::SolvedAtFirstContact));
    assert_eq!(c.closed_at, Some(c.received_at));
    assert!(effects.is_empty());
}

#[test]
fn step3_a_complaint_without_address_asks_the_officer_to_acknowledge_by_other_means() {
    let (_, effects) = register(
        new_complaint(None),
        Reference::new(2026, 2).unwrap(),
        deadlines(),
    );
    assert_eq!(effects, vec![Effect::AcknowledgeByOtherMeans]);
}

#[test]
fn step4_classifying_as_structural_notifies_management_once() {
    let (c, effects) = step(&registered(), Event::Classified(Classification::Structural));
    assert_eq!(c.classification, Classification::Structural);
    assert_eq!(effects, vec![Effect::NotifyManagementOfStructuralProblem]);
    let (_, again) = step(&c, Event::Classified(Classification::Structural));
    assert!(again.is_empty());
    let (c, effects) = step(&c, Event::Classified(Classification::Incident));
    assert_eq!(c.classification, Classification::Incident);
    assert!(effects.is_empty());
}

#[test]
fn step5_acknowledgement_is_recorded_once() {
    let (c, effects) = step(&registered(), Event::Acknowledged);
    assert_eq!(c.status, Status::Acknowledged);
    assert_eq!(
        c.deadlines.acknowledged_at,
        Some(at("2026-03-03T10:00:00Z"))
    );
    assert!(effects.is_empty());
    assert_eq!(
        apply(&c, &Event::Acknowledged, at("2026-03-04T00:00:00Z")).unwrap_err(),
        Refusal::AlreadyAcknowledged(c.reference)
    );
}

#[test]
fn step5_the_officers_explanation_is_recorded_and_mailed() {
    let (c, effects) = step(
        &registered(),
        Event::ExplanationSent(Some("Jan belt u.".into())),
    );
    assert!(c.deadlines.explained_at.is_some());
    assert_eq!(
        effects,
        vec![Effect::SendExplanation {
            text: Some("Jan belt u.".into())
        }]
    );
}

#[test]
fn step6_assignment_starts_handling_notifies_the_assignee_and_explains_once() {
    let (c, _) = step(&registered(), Event::Acknowledged);
    let (c, effects) = step(&c, Event::Assigned(addr("jan@concreet.nl")));
    assert_eq!(c.status, Status::InProgress);
    assert_eq!(c.assignee, Some(addr("jan@concreet.nl")));
    assert_eq!(
        effects,
        vec![
            Effect::NotifyAssignee,
            Effect::SendExplanation { text: None }
        ]
    );
    let (c, effects) = step(&c, Event::Assigned(addr("piet@concreet.nl")));
    assert_eq!(c.assignee, Some(addr("piet@concreet.nl")));
    assert_eq!(effects, vec![Effect::NotifyAssignee]);
}

#[test]
fn step6_assignment_after_an_explanation_does_not_explain_again() {
    let (c, _) = step(&registered(), Event::ExplanationSent(None));
    let (_, effects) = step(&c, Event::Assigned(addr("jan@concreet.nl")));
    assert_eq!(effects, vec![Effect::NotifyAssignee]);
}

#[test]
fn step6_department_and_concerned_person_are_recorded_and_informed_on_request() {
    let (c, _) = step(&registered(), Event::DepartmentSet("Examens".into()));
    let (c, quiet) = step(
        &c,
        Event::ConcernedSet {
            person: addr("p@concreet.nl"),
            inform: false,
        },
    );
    assert!(quiet.is_empty());
    let (c, told) = step(
        &c,
        Event::ConcernedSet {
            person: addr("p@concreet.nl"),
            inform: true,
        },
    );
    assert_eq!(c.department.as_deref(), Some("Examens"));
    assert_eq!(told, vec![Effect::InformConcerned]);
}

#[test]
fn step7_a_proposed_solution_waits_for_the_verdict() {
    let (c, _) = step(&registered(), Event::Assigned(addr("jan@concreet.nl")));
    let (c, effects) = step(&c, Event::SolutionProposed("Nieuw examen.".into()));
    assert_eq!(c.status, Status::AwaitingVerdict);
    assert_eq!(c.solution.as_deref(), Some("Nieuw examen."));
    assert!(c.deadlines.solved_at.is_some());
    assert_eq!(effects, vec![Effect::MailSolutionToComplainant]);
}

#[test]
fn step8_rejection_sends_it_back_for_a_new_proposal() {
    let (c, _) = step(&registered(), Event::SolutionProposed("A".into()));
    let (c, effects) = step(&c, Event::VerdictRejected);
    assert_eq!(c.status, Status::InProgress);
    assert_eq!(c.verdict, Some(Verdict::Rejected));
    assert_eq!(c.rejections, 1);
    assert_eq!(effects, vec![Effect::NotifyRejection]);
    let (c, _) = step(&c, Event::SolutionProposed("B".into()));
    assert_eq!(c.verdict, None);
    assert_eq!(c.status, Status::AwaitingVerdict);
}

#[test]
fn step8_and_9_acceptance_then_closing_copies_everyone() {
    let (c, _) = step(&registered(), Event::SolutionProposed("A".into()));
    let (c, effects) = step(&c, Event::VerdictAccepted);
    assert!(effects.is_empty());
    assert_eq!(c.verdict, Some(Verdict::Accepted));
    let (c, effects) = step(&c, Event::Closed { solution: None });
    assert_eq!(c.status, Status::Closed);
    assert_eq!(c.outcome, Some(Outcome::Accepted));
    assert!(c.closed_at.is_some());
    assert_eq!(effects, vec![Effect::SendClosingCopies]);
}

#[test]
fn step9_closing_without_a_verdict_says_so() {
    let (c, _) = step(
        &registered(),
        Event::Closed {
            solution: Some("Geregeld.".into()),
        },
    );
    assert_eq!(c.outcome, Some(Outcome::ClosedWithoutVerdict));
    assert_eq!(c.solution.as_deref(), Some("Geregeld."));
}

#[test]
fn a_verdict_without_a_pending_proposal_is_refused() {
    let c = registered();
    assert_eq!(
        apply(&c, &Event::VerdictAccepted, at("2026-03-03T00:00:00Z")).unwrap_err(),
        Refusal::NoProposalPending(c.reference, Status::New)
    );
}

#[test]
fn a_closed_complaint_refuses_changes_until_reopened() {
    let (c, _) = step(&registered(), Event::MarkedNotAComplaint);
    assert_eq!(c.outcome, Some(Outcome::NotAComplaint));
    let refused = apply(
        &c,
        &Event::Assigned(addr("jan@concreet.nl")),
        at("2026-03-04T00:00:00Z"),
    );
    assert_eq!(refused.unwrap_err(), Refusal::Closed(c.reference));
    let (c, _) = step(&c, Event::Noted);
    let (c, _) = step(&c, Event::Reopened);
    assert_eq!(c.status, Status::InProgress);
    assert_eq!(c.outcome, None);
    assert_eq!(c.reopenings, 1);
    assert!(
        step(&c, Event::Assigned(addr("jan@concreet.nl")))
            .0
            .assignee
            .is_some()
    );
}

#[test]
fn reopening_an_open_complaint_is_refused() {
    let c = registered();
    let err = apply(&c, &Event::Reopened, at("2026-03-04T00:00:00Z")).unwrap_err();
    assert_eq!(err, Refusal::NotClosed(c.reference));
}

#[test]
fn withdrawal_closes_with_its_own_outcome() {
    let (c, effects) = step(&registered(), Event::Withdrawn);
    assert_eq!(
        (c.status, c.outcome),
        (Status::Closed, Some(Outcome::Withdrawn))
    );
    assert!(effects.is_empty());
}

#[test]
fn text_commands_need_text() {
    let c = registered();
    let err = apply(
        &c,
        &Event::SolutionProposed("  \n".into()),
        at("2026-03-04T00:00:00Z"),
    );
    assert_eq!(err.unwrap_err(), Refusal::EmptyText("solution"));
    let err = apply(
        &c,
        &Event::RootCauseSet(String::new()),
        at("2026-03-04T00:00:00Z"),
    );
    assert_eq!(err.unwrap_err(), Refusal::EmptyText("root cause"));
}

#[test]
fn advice_is_mailed_only_when_there_is_an_assignee() {
    let (c, effects) = step(&registered(), Event::AdviceGiven("Bel de klant.".into()));
    assert!(effects.is_empty());
    let (c, _) = step(&c, Event::Assigned(addr("jan@concreet.nl")));
    let (c, effects) = step(&c, Event::AdviceGiven("Bel de klant.".into()));
    assert_eq!(c.advice.as_deref(), Some("Bel de klant."));
    assert_eq!(effects, vec![Effect::MailAdviceToAssignee]);
}

#[test]
fn the_solve_deadline_moves_but_not_before_receipt() {
    let c = registered();
    let (moved, _) = step(&c, Event::SolveDeadlineMoved(at("2026-05-01T00:00:00Z")));
    assert_eq!(moved.deadlines.solve_by, at("2026-05-01T00:00:00Z"));
    let err = apply(
        &c,
        &Event::SolveDeadlineMoved(at("2020-01-01T00:00:00Z")),
        at("2026-03-04T00:00:00Z"),
    );
    assert_eq!(
        err.unwrap_err(),
        Refusal::DeadlineBeforeReceipt(c.reference)
    );
}

#[test]
fn a_follow_up_changes_nothing() {
    let c = registered();
    let (after, effects) = step(&c, Event::FollowUpReceived);
    assert_eq!(after, c);
    assert!(effects.is_empty());
}
