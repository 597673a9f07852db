//! Domain types: strings with rules get a type that parses them once (`Reference`,
//! `EmailAddress`, `MessageId`), and the complaint record itself.

mod complaint;
mod email;
mod enums;
mod kinds;
mod message_id;
mod reference;

pub use complaint::{Complainant, Complaint, Deadlines};
pub use email::{EmailAddress, InvalidEmailAddress};
pub use enums::{
    Channel, Classification, CustomerType, Origin, Outcome, Status, UnknownName, Verdict,
};
pub use kinds::{Automated, EventKind, FlagKind, MessageKind};
pub use message_id::{InvalidMessageId, MessageId};
pub use reference::{InvalidReference, Reference};
