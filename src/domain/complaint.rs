//! The complaint record: everything the procedure needs to know about one complaint.

use jiff::Timestamp;
use serde::Serialize;

use super::{
    Channel, Classification, CustomerType, EmailAddress, Origin, Outcome, Reference, Status,
    Verdict,
};

/// The person who complains. Any part may be missing (a phone note without an address).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Complainant {
    /// Display name, as given.
    pub name: Option<String>,
    /// Where acknowledgements and solutions go; none for some phone and letter complaints.
    pub email: Option<EmailAddress>,
    /// Telephone number, as given.
    pub phone: Option<String>,
    /// The organisation (school, institution) they write for.
    pub organisation: Option<String>,
}

/// The procedure's deadlines and when each was met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    /// The acknowledgement must be sent by then (1 week).
    pub acknowledge_by: Timestamp,
    /// The explanation of the further procedure must be sent by then (2 weeks).
    pub explain_by: Timestamp,
    /// The complaint should be solved by then (configurable; `#termijn` moves it).
    pub solve_by: Timestamp,
    /// When the acknowledgement was sent.
    pub acknowledged_at: Option<Timestamp>,
    /// When the explanation was sent.
    pub explained_at: Option<Timestamp>,
    /// When a solution was first proposed.
    pub solved_at: Option<Timestamp>,
}

/// One complaint as the procedure sees it. Plain data: the state machine in
/// [`crate::procedure`] is the only thing that changes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Complaint {
    /// `KL-2026-0042`.
    pub reference: Reference,
    /// When the complaint was received (the date of the first mail, note or letter).
    pub received_at: Timestamp,
    /// Mail, phone, letter or in person.
    pub channel: Channel,
    /// From outside or from a colleague.
    pub origin: Origin,
    /// Private, institution or internal; unknown until someone says.
    pub customer_type: Option<CustomerType>,
    /// Who complains.
    pub complainant: Complainant,
    /// The staff member who received the complaint (forwarded it, took the call).
    pub received_by: Option<EmailAddress>,
    /// The subject as the complainant wrote it, without reply prefixes.
    pub subject: String,
    /// The complaint in the complainant's words (new text only, quotes stripped).
    pub description: String,
    /// A free category for the report.
    pub category: Option<String>,
    /// The department or service the complaint concerns.
    pub department: Option<String>,
    /// The staff member responsible for handling it.
    pub assignee: Option<EmailAddress>,
    /// The person whose conduct the complaint is about.
    pub concerned: Option<EmailAddress>,
    /// Incident, structural or not yet known.
    pub classification: Classification,
    /// The real cause, formulated with the assignee.
    pub root_cause: Option<String>,
    /// The officer's latest advice to the assignee.
    pub advice: Option<String>,
    /// The (latest) proposed or registered solution.
    pub solution: Option<String>,
    /// The complainant's verdict on the latest proposal.
    pub verdict: Option<Verdict>,
    /// Where the complaint is in the procedure.
    pub status: Status,
    /// How it ended, once closed.
    pub outcome: Option<Outcome>,
    /// The deadlines and when they were met.
    pub deadlines: Deadlines,
    /// When it was closed (the latest time, if reopened and closed again).
    pub closed_at: Option<Timestamp>,
    /// How many proposals the complainant rejected (for the report).
    pub rejections: u32,
    /// How many times it was reopened (for the report).
    pub reopenings: u32,
}
