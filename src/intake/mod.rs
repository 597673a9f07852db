//! The single door for mail: [`process`] takes the raw bytes of any received message
//! (IMAP, MTA pipe, file, test, quarantine replay), stores them, and decides what they are.
//!
//! - [`parse`]: the only `mail_parser` user; raw bytes -> owned [`parse::InboundMail`].
//! - [`classify`]: person or machine (RFC 3834 and friends), loops.
//! - [`strip`]: the new text of a reply (quotes and signatures removed), subject prefixes.
//! - [`forward`]: who really wrote an inline-forwarded mail.
//! - `process` and `interpret`: the transactions and the decisions that need the register.

pub mod classify;
pub mod forward;
mod interpret;
pub mod parse;
mod process;
pub mod strip;

pub use process::{IntakeError, Outcome, Source, dedupe_key, process};
