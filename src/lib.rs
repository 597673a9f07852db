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
//! - [`commands`]: the mail commands' table (Dutch words, English aliases), subject parser, and
//!   their meaning (who may, which procedure event).
//!
//! The shell:
//!
//! - [`app`]: `Bot`, the shared context (settings, store, templates, calendar, clock).
//! - [`intake`]: the single door for every received message (`intake::process`): parse,
//!   classify, strip quotes; a pure `route` decides what the message is, one handler per
//!   route carries it out.
//! - [`store`]: the register on SQLite or PostgreSQL (sqlx), one file per table family.
//! - [`outbound`]: mail templates (tera), composing (lettre), the outbox and its SMTP sender.
//! - [`mailbox`]: the IMAP watcher (IDLE, cursor, bounded batches, MOVE after commit).
//! - [`net`]: what watcher and sender share: the TLS client configuration, delay jitter.
//! - [`oauth2`]: access tokens for XOAUTH2/OAUTHBEARER logins (Microsoft 365, Google,
//!   generic), cached and refreshed.
//! - [`report`]: the periodic report for management (pure figures, SVG charts, HTML, CSV).
//! - [`daemon`]: `klachtenbot run`, the workers under one cancellation token.
//! - [`instance`]: several instances on one register: identity, heartbeat, the watcher lock
//!   (one active, the rest standby), outbox claims handed back when their instance dies.
//! - [`cli`]: the command line; [`demo`]: the local demo; [`sandbox`]: real Dovecot and
//!   Postfix on loopback for tests, demo and benchmarks.
//! - [`ops`]: running as a service: `/healthz` and `/metrics` over HTTP, alerts to people
//!   when mail stops flowing, systemd readiness and watchdog.
//! - [`scheduler`]: deadlines watched, reminders before and after them, daily and weekly digests.
//! - [`space`]: the free-space floor of a SQLite register (`[database] min_free`).
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
pub mod instance;
pub mod intake;
pub mod mailbox;
pub mod net;
pub mod oauth2;
pub mod ops;
pub mod outbound;
pub mod privacy;
pub mod procedure;
pub mod report;
pub mod sandbox;
pub mod scheduler;
pub mod space;
pub mod store;
