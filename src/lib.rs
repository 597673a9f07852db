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
//! - [`calendar`]: Dutch working days and public holidays, deadlines, DST-correct.
//! - [`config`]: the TOML file validated into `Settings` (secrets never logged).
//! - [`auth`]: is a command's sender who it says (Authentication-Results, signed reply tokens).
//! - [`commands`]: the mail commands' table (Dutch words, English aliases) and subject parser.
//!
//! The shell:
//!
//! - [`app`]: `Bot`, the shared context (settings, store, templates, calendar, clock).
//! - [`intake`]: the single door for every received message (`intake::process`): parse,
//!   classify, strip quotes, commands, staff notes and forwards.
//! - [`store`]: the register on SQLite or PostgreSQL (sqlx), one file per table family.
//! - [`outbound`]: mail templates (tera), composing (lettre), the outbox and its SMTP sender.
//! - [`mailbox`]: the IMAP watcher (IDLE, cursor, bounded batches, MOVE after commit).
//! - [`report`]: the periodic report for management (pure figures, SVG charts, HTML, CSV).
//! - [`daemon`]: `klachtenbot run`, the workers under one cancellation token.
//! - [`cli`]: the command line; [`demo`]: the local demo; [`sandbox`]: real Dovecot and
//!   Postfix on loopback for tests, demo and benchmarks.
//! - [`scheduler`]: deadlines watched, reminders before and after them, daily and weekly digests.
//! - [`privacy`]: retention sweep, access export and erasure per person, the privacy audit,
//!   addresses redacted in logs (AVG/GDPR).
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
pub mod privacy;
pub mod procedure;
pub mod report;
pub mod sandbox;
pub mod scheduler;
pub mod store;
