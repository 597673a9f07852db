//! The single door for mail: [`process`] takes the raw bytes of any received message
//! (IMAP, MTA pipe, file, test, quarantine replay), stores them, and decides what they are.
//!
//! Decide, then act. Pure functions read the mail:
//! - [`parse`]: the only `mail_parser` user; raw bytes -> owned [`parse::InboundMail`].
//! - [`classify`]: person or machine (RFC 3834 and friends), loops; [`bounce`]: bounces
//!   however the MTA wrote them.
//! - [`person`]: whose mail it is (a contact form's or relay's person, from Reply-To or
//!   labelled lines).
//! - [`quoted`]: our references in quoted text or attached copies of our mail.
//! - [`winmail`]: the attachments and body inside winmail.dat (TNEF).
//! - [`strip`]: the new text of a reply (quotes and signatures removed), subject prefixes.
//! - [`forward`]: who really wrote an inline-forwarded mail; [`phone`]: a phone note's
//!   labelled lines.
//! - [`route`]: what the message is, as a [`route::Route`] value, from the mail and what the
//!   register knows about it.
//!
//! The shell acts on the decision:
//! - `process`: the transactions (store raw, claim, interpret, commit; flag on error).
//! - `interpret`: `lookup` (the register's complaints the mail names or quotes), then
//!   `route`, then `handle::dispatch`: one handler per route (`handle/*.rs`); handlers never
//!   call each other.
//! - What handlers share: `write` (the one writer of message rows, timeline events and
//!   flags, kinds as enums), `answer` (answers to the sender), `effects` (the procedure's
//!   effects as outbox mail), `register` (a new complaint's reference and deadlines), `ctx`
//!   (the message being handled).
//!
//! Imports run one way: `process` -> `interpret` -> `lookup`/`route`/`handle` -> the shared
//! helpers -> the pure modules; nothing imports back.

mod answer;
pub mod bounce;
pub mod classify;
mod ctx;
mod effects;
pub mod forward;
mod handle;
mod interpret;
mod lookup;
mod outcome;
pub mod parse;
pub mod person;
pub mod phone;
mod process;
pub mod quoted;
mod register;
pub mod route;
pub mod strip;
pub mod winmail;
mod write;

pub use outcome::Outcome;
pub use process::{IntakeError, Source, dedupe_key, process, process_on};
