//! Running as a service people can trust (issue 12).
//!
//! - [`health`]: what the workers last saw of IMAP, SMTP, the database and the scheduler,
//!   and the pure verdict `/healthz` gives.
//! - [`metrics`]: Prometheus metrics through the `metrics` facade, counted at the workers'
//!   edges; the register's gauges read when scraped.
//! - [`http`]: the small HTTP server of `[http] listen` (`/healthz`, `/metrics`).
//! - [`alerts`]: one mail to people per IMAP/SMTP outage and one when it is over; one per
//!   burst of failed mails. [`outages`] keeps them across restarts.
//! - [`systemd`]: READY, STOPPING and the watchdog (`Type=notify`).

pub mod alerts;
pub mod health;
pub mod http;
pub mod metrics;
pub mod outages;
pub mod systemd;

pub use health::{Health, Part, Role};
