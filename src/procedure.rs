//! The complaints procedure (PROCEDURE.md) as a pure state machine.
//!
//! `register` starts a complaint; `apply` takes a complaint and one [`Event`] and returns the
//! new complaint and the [`Effect`]s the shell must carry out (mails to write to the outbox,
//! notices). Nothing here touches a clock, a database or a network: the time is a parameter
//! and effects are values, so every rule is tested in microseconds.

use jiff::Timestamp;

use crate::domain::{
    Channel, Classification, Complainant, Complaint, CustomerType, Deadlines, EmailAddress, Origin,
    Outcome, Reference, Status, Verdict,
};

/// What the intake knows about a complaint when it is first registered (step 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComplaint {
    /// When it was received.
    pub received_at: Timestamp,
    /// How it reached us.
    pub channel: Channel,
    /// From outside or from a colleague.
    pub origin: Origin,
    /// Private, institution or internal, when known.
    pub customer_type: Option<CustomerType>,
    /// Who complains.
    pub complainant: Complainant,
    /// The staff member who received it (forward, phone note, letter).
    pub received_by: Option<EmailAddress>,
    /// Subject without reply prefixes.
    pub subject: String,
    /// The complaint's text (quotes stripped).
    pub description: String,
    /// Solved by the staff member at first contact (step 2): registered and closed at once.
    pub solved_at_first_contact: bool,
}

/// The three procedure deadlines, computed by the shell from the configured policy and the
/// working-day calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineTimes {
    /// Acknowledge by (1 week after receipt).
    pub acknowledge_by: Timestamp,
    /// Explain by (2 weeks after receipt).
    pub explain_by: Timestamp,
    /// Solve by (configurable).
    pub solve_by: Timestamp,
}

/// Something that happened to a complaint: a mail from the complainant, a command from the
/// officer, an acknowledgement written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The acknowledgement was written to the outbox (step 5).
    Acknowledged,
    /// The complainant (or a party) wrote again.
    FollowUpReceived,
    /// `#toewijzen`: the assignee is set (step 6).
    Assigned(EmailAddress),
    /// `#afdeling`.
    DepartmentSet(String),
    /// `#categorie`.
    CategorySet(String),
    /// `#betrokkene`: the person the complaint is about; `inform` mails them.
    ConcernedSet {
        /// The concerned person.
        person: EmailAddress,
        /// Whether the officer asked to inform them now.
        inform: bool,
    },
    /// `#klanttype`.
    CustomerTypeSet(CustomerType),
    /// `#incident` / `#structureel` (step 4).
    Classified(Classification),
    /// `#oorzaak`: the real root cause (officer's task 2).
    RootCauseSet(String),
    /// `#advies`: advice to the assignee (officer's task 4).
    AdviceGiven(String),
    /// `#uitleg`: the explanation of the further procedure was sent (step 5).
    ExplanationSent(Option<String>),
    /// `#oplossing`: a solution is proposed to the complainant (step 7).
    SolutionProposed(String),
    /// `#akkoord`: the complainant accepted (step 8).
    VerdictAccepted,
    /// `#nietakkoord`: the complainant rejected; back to handling (step 8).
    VerdictRejected,
    /// `#afsluiten`: the solution is registered and everyone gets a copy (step 9).
    Closed {
        /// The registered solution, if different from the last proposal.
        solution: Option<String>,
    },
    /// `#geenklacht`: not a complaint after all.
    MarkedNotAComplaint,
    /// The complainant withdrew the complaint.
    Withdrawn,
    /// `#heropenen`.
    Reopened,
    /// `#termijn`: the solve deadline moves.
    SolveDeadlineMoved(Timestamp),
    /// `#notitie`: a note on the timeline; changes nothing.
    Noted,
}

/// What the shell must do because of an event. Values, not calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Mail the acknowledgement to the complainant.
    SendAcknowledgement,
    /// There is no address: tell the officer the acknowledgement must go by post or phone.
    AcknowledgeByOtherMeans,
    /// Mail the explanation of the further procedure to the complainant.
    SendExplanation {
        /// Extra text from the officer.
        text: Option<String>,
    },
    /// Mail the complaint to its new assignee.
    NotifyAssignee,
    /// Mail the officer's advice to the assignee.
    MailAdviceToAssignee,
    /// Mail the proposed solution to the complainant.
    MailSolutionToComplainant,
    /// Tell management about a structural problem (step 4).
    NotifyManagementOfStructuralProblem,
    /// Inform the concerned person (step 6).
    InformConcerned,
    /// Tell the assignee and officer that the complainant rejected the proposal.
    NotifyRejection,
    /// Mail a copy of the registered solution to everyone involved (step 9).
    SendClosingCopies,
}

/// Why an event cannot be applied in the complaint's current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Most changes need an open complaint.
    #[error("{0} is closed; reopen it first (#heropenen)")]
    Closed(Reference),
    /// Only a closed complaint can be reopened.
    #[error("{0} is not closed, so it cannot be reopened")]
    NotClosed(Reference),
    /// A verdict only makes sense while a proposal waits for one.
    #[error("{0} has no proposed solution waiting for a verdict (status {1})")]
    NoProposalPending(Reference, Status),
    /// The acknowledgement was already sent.
    #[error("{0} was already acknowledged")]
    AlreadyAcknowledged(Reference),
    /// A text command without text.
    #[error("the {0} needs text in the body of the mail")]
    EmptyText(&'static str),
    /// The new deadline is before the complaint was received.
    #[error("the new deadline is before {0} was received")]
    DeadlineBeforeReceipt(Reference),
}

/// Registers a new complaint (step 1), or registers and closes it when it was solved at first
/// contact (step 2).
pub fn register(
    new: NewComplaint,
    reference: Reference,
    deadlines: DeadlineTimes,
) -> (Complaint, Vec<Effect>) {
    let mut complaint = Complaint {
        reference,
        received_at: new.received_at,
        channel: new.channel,
        origin: new.origin,
        customer_type: new.customer_type,
        complainant: new.complainant,
        received_by: new.received_by,
        subject: new.subject,
        description: new.description,
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
            acknowledge_by: deadlines.acknowledge_by,
            explain_by: deadlines.explain_by,
            solve_by: deadlines.solve_by,
            acknowledged_at: None,
            explained_at: None,
            solved_at: None,
        },
        closed_at: None,
        rejections: 0,
        reopenings: 0,
    };
    if new.solved_at_first_contact {
        complaint.status = Status::Closed;
        complaint.outcome = Some(Outcome::SolvedAtFirstContact);
        complaint.closed_at = Some(new.received_at);
        complaint.deadlines.solved_at = Some(new.received_at);
        return (complaint, Vec::new());
    }
    let effect = if complaint.complainant.email.is_some() {
        Effect::SendAcknowledgement
    } else {
        Effect::AcknowledgeByOtherMeans
    };
    (complaint, vec![effect])
}

/// Applies one event at time `now`. On refusal the complaint is unchanged.
pub fn apply(
    complaint: &Complaint,
    event: &Event,
    now: Timestamp,
) -> Result<(Complaint, Vec<Effect>), Refusal> {
    let mut c = complaint.clone();
    let reference = c.reference;
    let open = c.status.is_open();
    let require_open = || {
        if open {
            Ok(())
        } else {
            Err(Refusal::Closed(reference))
        }
    };
    let mut effects = Vec::new();
    match event {
        Event::Acknowledged => {
            if c.deadlines.acknowledged_at.is_some() {
                return Err(Refusal::AlreadyAcknowledged(reference));
            }
            c.deadlines.acknowledged_at = Some(now);
            if c.status == Status::New {
                c.status = Status::Acknowledged;
            }
        }
        Event::FollowUpReceived | Event::Noted => {}
        Event::Assigned(person) => {
            require_open()?;
            let first = c.assignee.is_none();
            c.assignee = Some(person.clone());
            if matches!(c.status, Status::New | Status::Acknowledged) {
                c.status = Status::InProgress;
            }
            effects.push(Effect::NotifyAssignee);
            // Step 5: the explanation goes out automatically on (first) assignment unless the
            // officer already sent one.
            if first && c.deadlines.explained_at.is_none() && c.complainant.email.is_some() {
                c.deadlines.explained_at = Some(now);
                effects.push(Effect::SendExplanation { text: None });
            }
        }
        Event::DepartmentSet(d) => {
            require_open()?;
            c.department = Some(d.clone());
        }
        Event::CategorySet(cat) => {
            require_open()?;
            c.category = Some(cat.clone());
        }
        Event::ConcernedSet { person, inform } => {
            require_open()?;
            c.concerned = Some(person.clone());
            if *inform {
                effects.push(Effect::InformConcerned);
            }
        }
        Event::CustomerTypeSet(t) => c.customer_type = Some(*t),
        Event::Classified(class) => {
            let was = c.classification;
            c.classification = *class;
            if *class == Classification::Structural && was != Classification::Structural {
                effects.push(Effect::NotifyManagementOfStructuralProblem);
            }
        }
        Event::RootCauseSet(text) => c.root_cause = Some(non_empty(text, "root cause")?),
        Event::AdviceGiven(text) => {
            require_open()?;
            c.advice = Some(non_empty(text, "advice")?);
            if c.assignee.is_some() {
                effects.push(Effect::MailAdviceToAssignee);
            }
        }
        Event::ExplanationSent(text) => {
            require_open()?;
            c.deadlines.explained_at.get_or_insert(now);
            effects.push(Effect::SendExplanation { text: text.clone() });
        }
        Event::SolutionProposed(text) => {
            require_open()?;
            c.solution = Some(non_empty(text, "solution")?);
            c.verdict = None;
            c.status = Status::AwaitingVerdict;
            c.deadlines.solved_at.get_or_insert(now);
            effects.push(Effect::MailSolutionToComplainant);
        }
        Event::VerdictAccepted | Event::VerdictRejected => {
            if c.status != Status::AwaitingVerdict {
                return Err(Refusal::NoProposalPending(reference, c.status));
            }
            if *event == Event::VerdictAccepted {
                c.verdict = Some(Verdict::Accepted);
            } else {
                c.verdict = Some(Verdict::Rejected);
                c.rejections += 1;
                c.status = Status::InProgress;
                effects.push(Effect::NotifyRejection);
            }
        }
        Event::Closed { solution } => {
            require_open()?;
            if let Some(text) = solution {
                c.solution = Some(non_empty(text, "solution")?);
            }
            c.outcome = Some(if c.verdict == Some(Verdict::Accepted) {
                Outcome::Accepted
            } else {
                Outcome::ClosedWithoutVerdict
            });
            c.deadlines.solved_at.get_or_insert(now);
            close(&mut c, now);
            effects.push(Effect::SendClosingCopies);
        }
        Event::MarkedNotAComplaint | Event::Withdrawn => {
            require_open()?;
            c.outcome = Some(if *event == Event::Withdrawn {
                Outcome::Withdrawn
            } else {
                Outcome::NotAComplaint
            });
            close(&mut c, now);
        }
        Event::Reopened => {
            if open {
                return Err(Refusal::NotClosed(reference));
            }
            c.status = Status::InProgress;
            c.outcome = None;
            c.verdict = None;
            c.reopenings += 1;
        }
        Event::SolveDeadlineMoved(at) => {
            require_open()?;
            if *at < c.received_at {
                return Err(Refusal::DeadlineBeforeReceipt(reference));
            }
            c.deadlines.solve_by = *at;
        }
    }
    Ok((c, effects))
}

fn close(c: &mut Complaint, now: Timestamp) {
    c.status = Status::Closed;
    c.closed_at = Some(now);
}

fn non_empty(text: &str, what: &'static str) -> Result<String, Refusal> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Err(Refusal::EmptyText(what))
    } else {
        Ok(trimmed.to_string())
    }
}

#[cfg(test)]
#[path = "procedure_tests.rs"]
mod tests;
