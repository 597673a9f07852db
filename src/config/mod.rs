//! Configuration: one TOML file ([`raw`]) validated into [`Settings`].
//!
//! Secrets come from environment variables or files named in the TOML, never from the TOML
//! itself, and [`Secret`] never prints them. Validation collects every problem (key and what
//! is wrong) so `klachtenbot config check` can report them all at once.

mod check;
mod database;
mod oauth2;
mod ops;
mod privacy;
mod raw;
mod servers;
mod size;
mod values;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;

use crate::calendar::{DeadlineSpan, HolidayRules, WorkingCalendar};
use crate::domain::EmailAddress;
use check::Check;
pub use oauth2::{OAuth2Grant, OAuth2Provider, OAuth2Settings};
pub use ops::{AlertSettings, HttpSettings};
use raw::RawConfig;
pub use servers::is_loopback;
pub use values::{Language, LogFormat, RateLimit, Security, parse_deadline, parse_duration};

/// A password or other secret. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself, for the one call that needs it (LOGIN, AUTH).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The organisation the bot works for.
#[derive(Debug, Clone)]
pub struct Organisation {
    /// Shown in mails ("Concreet Onderwijsproducten").
    pub name: String,
    /// Local time for dates in mails, working days and digests.
    pub timezone: TimeZone,
    /// Language of the mails.
    pub language: Language,
    /// The domain of our Message-IDs.
    pub mail_domain: String,
}

/// A server the bot logs in to.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Host name or IP.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Implicit TLS, STARTTLS or plain (loopback only).
    pub security: Security,
    /// Login name; none means no authentication (SMTP on loopback).
    pub user: Option<String>,
    /// Password, from the environment or a file.
    pub password: Secret,
    /// Extra CA certificate (PEM) to trust, e.g. a test certificate.
    pub ca_file: Option<PathBuf>,
    /// Log in with an OAuth2 access token (XOAUTH2/OAUTHBEARER) from this source instead of
    /// the password (`auth = "oauth2"`).
    pub oauth2: Option<OAuth2Settings>,
}

/// The watched mailbox.
#[derive(Debug, Clone)]
pub struct MailboxSettings {
    /// The IMAP server.
    pub endpoint: Endpoint,
    /// The folder new mail arrives in.
    pub inbox: String,
    /// Where processed mail is moved.
    pub processed_folder: String,
    /// Where mail that cannot be processed is moved.
    pub quarantine_folder: String,
    /// Polling interval where the server has no IDLE.
    pub poll_interval: Duration,
    /// How long one IDLE lasts before it is re-issued.
    pub idle_timeout: Duration,
    /// How many UIDs are fetched per batch.
    pub batch_size: u32,
}

/// The outgoing mail server.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// The SMTP server.
    pub endpoint: Endpoint,
    /// The envelope and header sender of our mail.
    pub from: EmailAddress,
    /// First retry delay after a temporary failure; doubled per attempt.
    pub retry_initial: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// After this long since queueing, a mail that still fails temporarily is given up.
    pub give_up_after: Duration,
    /// How long a row claimed for an attempt is hidden from other instances (and, after a
    /// crash, from the restarted bot).
    pub claim_lease: Duration,
}

/// Who is who.
#[derive(Debug, Clone, Default)]
pub struct People {
    /// Complaints officers: may use every command.
    pub officers: Vec<EmailAddress>,
    /// Management: receives structural-problem notices and reports.
    pub management: Vec<EmailAddress>,
    /// Mail domains of staff members (lower case).
    pub staff_domains: Vec<String>,
}

impl People {
    /// Whether `a` is a configured officer.
    pub fn is_officer(&self, a: &EmailAddress) -> bool {
        self.officers.contains(a)
    }
    /// Whether `a` belongs to a staff domain (officers included).
    pub fn is_staff(&self, a: &EmailAddress) -> bool {
        self.is_officer(a) || self.staff_domains.iter().any(|d| d == a.domain())
    }
}

/// The procedure's deadlines.
#[derive(Debug, Clone)]
pub struct DeadlinePolicy {
    /// Acknowledge within (1 week).
    pub acknowledge: DeadlineSpan,
    /// Explain within (2 weeks).
    pub explain: DeadlineSpan,
    /// Solve within.
    pub solve: DeadlineSpan,
    /// Which public holidays are not working days.
    pub holidays: HolidayRules,
}

/// Protective limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Larger messages are quarantined unread.
    pub max_message_bytes: u64,
    /// Automatic replies to one sender within a window.
    pub auto_replies_per_sender: RateLimit,
}

/// How commands from officers and staff are checked (a sender address is easy to forge).
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// The authserv-id our own receiving server writes in `Authentication-Results`
    /// (RFC 8601); results from any other id are ignored.
    pub authserv_id: Option<String>,
    /// Commands need a DKIM or DMARC pass for the sender's domain (or a signed token of one
    /// of our mails in the reply); when off, the configured address alone counts.
    pub require_authentication: bool,
    /// Key of the HMAC token in our Message-IDs; none disables tokens.
    pub token_secret: Option<Secret>,
}

/// When the scheduler reminds whom of what (`[reminders]`); see [`crate::scheduler`].
///
/// Every span is a deadline form: elapsed time ("20s", "3d") or working days ("3wd").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPolicy {
    /// Whether reminders are planned and sent at all.
    pub enabled: bool,
    /// The officer is reminded of an acknowledgement not sent (no e-mail address) this long
    /// before the acknowledge deadline.
    pub acknowledge_before: DeadlineSpan,
    /// The officer is reminded of an explanation not sent this long before its deadline.
    pub explain_before: DeadlineSpan,
    /// The notice on the day the explanation deadline passes also goes to management.
    pub explain_overdue_to_management: bool,
    /// The assignee is reminded this long before the solve deadline.
    pub solve_before: DeadlineSpan,
    /// While the solve deadline stays passed, the overdue notice repeats at this interval;
    /// also how long any overdue notice stays worth sending late (after a stop).
    pub overdue_repeat: DeadlineSpan,
    /// How long a proposed solution may wait for the complainant's verdict before the
    /// officer is asked to follow up.
    pub verdict_wait: DeadlineSpan,
    /// A complaint without an assignee this long after it was received is brought to the
    /// officer.
    pub unassigned_after: DeadlineSpan,
    /// The solve clock stops while the complaint waits on the complainant's verdict: the
    /// solve deadline moves by the time waited when handling resumes.
    pub pause_while_waiting: bool,
}

/// The daily overview to the officers and the weekly one to management (`[digest]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSettings {
    /// Whether the officers get the daily digest (working days only).
    pub daily: bool,
    /// Local time of the digests, in the organisation's time zone.
    pub time: jiff::civil::Time,
    /// No digest when there is nothing to say.
    pub skip_empty: bool,
    /// Whether management gets a weekly summary.
    pub weekly_management: bool,
    /// The day of the weekly summary (the first working day from it, within its week).
    pub weekly_day: jiff::civil::Weekday,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The organisation.
    pub organisation: Organisation,
    /// Our own address (klantenservice@), also used for loop detection.
    pub address: EmailAddress,
    /// The IMAP mailbox; required for `run`.
    pub mailbox: Option<MailboxSettings>,
    /// The SMTP server; required for `run`.
    pub smtp: Option<SmtpSettings>,
    /// `sqlite://file.db` or `postgres://...`, never with a password in it.
    pub database_url: String,
    /// `[database] min_free` in bytes (SQLite only; 0 = no floor): below it no mail is
    /// taken (see [`crate::space`]).
    pub database_min_free: u64,
    /// The database password (`[database] password_env` / `password_file`).
    pub database_password: Option<Secret>,
    /// `[instance] name`: this instance's name in place of the host name (unique per
    /// instance), so a restarted instance recognises its own earlier claims.
    pub instance_name: Option<String>,
    /// Officers, management, staff.
    pub people: People,
    /// Deadlines.
    pub deadlines: DeadlinePolicy,
    /// Limits.
    pub limits: Limits,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax).
    pub log_level: String,
    /// Directory overriding the built-in mail templates.
    pub templates_dir: Option<PathBuf>,
    /// Command authentication.
    pub auth: AuthSettings,
    /// Reminders before and after deadlines.
    pub reminders: ReminderPolicy,
    /// Digests.
    pub digest: DigestSettings,
    /// The health and metrics endpoint (`[http]`).
    pub http: HttpSettings,
    /// Alerts to people when mail stops flowing (`[alerts]`).
    pub alerts: AlertSettings,
    /// Retention (`[privacy]`).
    pub privacy: crate::privacy::PrivacySettings,
    /// Log lines show addresses as `k***@example.test` (`[logging] redact_addresses`).
    pub redact_addresses: bool,
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The TOML key, e.g. `mailbox.port`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The configuration could not be used; every problem is listed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration in {path}:\n{}", list(.problems))]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// Everything wrong with it.
    pub problems: Vec<Problem>,
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Settings {
    /// The working-day calendar of the organisation.
    pub fn calendar(&self) -> WorkingCalendar {
        WorkingCalendar::new(self.organisation.timezone.clone(), self.deadlines.holidays)
    }

    /// Reads and validates a configuration file. A missing file is a problem like any other.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let fail = |message: String| ConfigError {
            path: path.display().to_string(),
            problems: vec![Problem {
                key: "(file)".into(),
                message,
            }],
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        Self::from_toml(&text, path.parent().unwrap_or(Path::new("."))).map_err(|problems| {
            ConfigError {
                path: path.display().to_string(),
                problems,
            }
        })
    }

    /// Validates TOML text; relative file names (secrets, templates) are taken relative to
    /// `base`.
    pub fn from_toml(text: &str, base: &Path) -> Result<Settings, Vec<Problem>> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            vec![Problem {
                key: "(syntax)".into(),
                message: e.message().to_string(),
            }]
        })?;
        let mut check = Check::new(base);
        let settings = values::validate(raw, &mut check);
        match (settings, check.into_problems()) {
            (Some(s), problems) if problems.is_empty() => Ok(s),
            (_, problems) => Err(problems),
        }
    }
}
