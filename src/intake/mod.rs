//! The single door for mail: [`process`] takes the raw bytes of any received message
//! (IMAP, MTA pipe, file, test, quarantine replay), stores them, and decides what they are.
//!
//! - [`parse`]: the only `mail_parser` user; raw bytes -> owned [`parse::InboundMail`].
//! - [`classify`]: person or machine (RFC 3834 and friends), loops; [`bounce`]: bounces
//!   however the MTA wrote them.
//! - [`person`]: whose mail it is (a contact form's or relay's person, from Reply-To or
//!   labelled lines).
//! - [`quoted`]: our references in quoted text or attached copies of our mail.
//! - [`winmail`]: the attachments and body inside winmail.dat (TNEF).
//! - [`strip`]: the new text of a reply (quotes and signatures removed), subject prefixes.
//! - [`forward`]: who really wrote an inline-forwarded mail.
//! - `process` and `interpret`: the transactions and the decisions that need the register;
//!   `register`: a new complaint from a mail.
//! - `command`: command mails (authenticate, who may, all or nothing, answer the sender).
//! - `staff`: phone notes, letters and forwards sent in by staff.
//! - `effects`: the procedure's effects turned into outbox mail.

mod answer;
pub mod bounce;
pub mod classify;
mod command;
mod effects;
pub mod forward;
mod interpret;
mod outcome;
pub mod parse;
pub mod person;
pub mod phone;
mod process;
pub mod quoted;
mod record;
mod register;
mod staff;
pub mod strip;
pub mod winmail;

pub use outcome::Outcome;
pub use process::{IntakeError, Source, dedupe_key, process};
