//! klachtenbot: the e-mail intake bot for a formal complaints procedure.
//!
//! # Layout
//!
//! The procedure is a functional core (plain types and functions) inside an imperative shell
//! (database, mailbox, sender). One module per concern:
//!
//! - [`domain`]: `Reference`, `EmailAddress`, `MessageId`, the `Complaint` record and its
//!   vocabularies (status, outcome, channel, ...).
//! - [`procedure`]: the complaints procedure as a pure state machine: event in, new complaint
//!   and effects out.
//! - [`clock`]: the `Clock` seam (system clock, hand-moved test clock).
//! - [`auth`]: is a command's sender who it says (Authentication-Results, signed reply tokens).
//! - [`commands`]: the mail commands' table (Dutch words, English aliases) and subject parser.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod auth;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod domain;
pub mod intake;
pub mod mailbox;
pub mod outbound;
pub mod procedure;
pub mod sandbox;
pub mod store;
