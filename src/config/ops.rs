//! `[http]` and `[alerts]`: what an administrator needs to run the bot as a service (see
//! [`crate::ops`]).

use std::net::SocketAddr;
use std::time::Duration;

use super::check::{Check, parse_duration};
use super::raw::{RawAlerts, RawHttp};
use super::{Settings, is_loopback};
use crate::domain::EmailAddress;

/// How long IMAP may go without a working connection before `/healthz` calls it down, when
/// `[alerts] after` is not set: long enough for a reconnect or two, short enough for a
/// monitoring system to notice within minutes.
const HEALTH_GRACE: Duration = Duration::from_secs(120);

/// The HTTP endpoint for `/healthz` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpSettings {
    /// Where to listen; none means no HTTP server at all.
    pub listen: Option<SocketAddr>,
}

/// When people are told that mail stopped flowing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// An IMAP or SMTP outage is reported once it lasted this long.
    pub after: Duration,
    /// Whether `after` was written in the file: then it is also the health grace period.
    after_explicit: bool,
    /// Extra recipients beside the officers (an administrator, a ticket system).
    pub to: Vec<EmailAddress>,
    /// More mails given up (5xx) than this within an hour raise one alert.
    pub failed_per_hour: u32,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            after: Duration::from_secs(600),
            after_explicit: false,
            to: Vec::new(),
            failed_per_hour: 5,
        }
    }
}

impl AlertSettings {
    /// How long IMAP may lack a working connection before `/healthz` says it is down:
    /// `[alerts] after` when set, two minutes otherwise.
    pub fn health_grace(&self) -> Duration {
        if self.after_explicit {
            self.after
        } else {
            HEALTH_GRACE
        }
    }
}

pub(super) fn http(raw: RawHttp, check: &mut Check) -> HttpSettings {
    let listen = raw
        .listen
        .and_then(|text| match text.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                check.problem(
                    "http.listen",
                    format!("'{text}' is not an address with a port, like \"127.0.0.1:9187\""),
                );
                None
            }
        });
    HttpSettings { listen }
}

pub(super) fn alerts(raw: RawAlerts, check: &mut Check) -> AlertSettings {
    let defaults = AlertSettings::default();
    let after = match raw.after.as_deref() {
        Some(text) => check.or("alerts.after", parse_duration(text), defaults.after),
        None => defaults.after,
    };
    if after.is_zero() {
        check.problem("alerts.after", "must be longer than zero");
    }
    let to = raw
        .to
        .unwrap_or_default()
        .iter()
        .filter_map(|a| check.address("alerts.to", a))
        .collect();
    AlertSettings {
        after,
        after_explicit: raw.after.is_some(),
        to,
        failed_per_hour: raw.failed_per_hour.unwrap_or(defaults.failed_per_hour),
    }
}

impl Settings {
    /// Things that work but deserve a second look; `config check` prints them.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(addr) = self.http.listen
            && !is_loopback(&addr.ip().to_string())
        {
            out.push(format!(
                "http.listen: {addr} is reachable from other machines; /healthz and /metrics \
                 need no public access (use 127.0.0.1 and a reverse proxy or scraper on this host)"
            ));
        }
        out
    }
}
