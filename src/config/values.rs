//! Value types of the configuration and the validation of a [`RawConfig`].

use jiff::SignedDuration;

use super::check::Check;
pub use super::check::parse_duration;
use super::raw::RawConfig;
use super::servers::{auth, mailbox, smtp};
use super::{DeadlinePolicy, Limits, Organisation, People, Settings};
use crate::calendar::DeadlineSpan;
use crate::domain::EmailAddress;

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143, submission 587).
    StartTls,
    /// No TLS at all: allowed only for loopback hosts.
    Plain,
}

/// The language of the mails the bot writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Dutch.
    Nl,
    /// English.
    En,
}

impl Language {
    /// The template folder name.
    pub fn code(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::En => "en",
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Parses a deadline length: "90s", "3h", "7d", "2w", "1w 2d" (elapsed time; a day is 24
/// hours) or "10wd" (working days).
pub fn parse_deadline(s: &str) -> Result<DeadlineSpan, String> {
    let t = s.trim();
    if let Some(n) = t.strip_suffix("wd") {
        return n
            .trim()
            .parse()
            .map(DeadlineSpan::WorkingDays)
            .map_err(|_| format!("'{s}' is not a number of working days (e.g. \"10wd\")"));
    }
    parse_duration(t).map(DeadlineSpan::Calendar)
}

/// "3 per 24h": at most `count` automatic replies per sender within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// How many.
    pub count: u32,
    /// Within how long.
    pub window: SignedDuration,
}

impl RateLimit {
    /// Parses "N per DURATION".
    pub fn parse(s: &str) -> Result<Self, String> {
        let err = || format!("'{s}' is not a rate (e.g. \"3 per 24h\")");
        let (n, d) = s.split_once(" per ").ok_or_else(err)?;
        let count = n.trim().parse().map_err(|_| err())?;
        let window = SignedDuration::try_from(parse_duration(d)?).map_err(|_| err())?;
        Ok(Self { count, window })
    }
}

pub(super) fn validate(raw: RawConfig, check: &mut Check) -> Option<Settings> {
    let org = raw.organisation.unwrap_or_default();
    let tz_name = org.timezone.unwrap_or_else(|| "Europe/Amsterdam".into());
    let timezone = check.or(
        "organisation.timezone",
        jiff::tz::TimeZone::get(&tz_name).map_err(|_| format!("unknown time zone '{tz_name}'")),
        jiff::tz::TimeZone::UTC,
    );
    let language = match org.language.as_deref().unwrap_or("nl") {
        "nl" => Language::Nl,
        "en" => Language::En,
        other => {
            check.problem(
                "organisation.language",
                format!("'{other}' is not \"nl\" or \"en\""),
            );
            Language::Nl
        }
    };
    let mail_domain = org
        .mail_domain
        .unwrap_or_else(|| "klachtenbot.invalid".into());
    if mail_domain.is_empty() || mail_domain.contains(['@', ' ', '<', '>']) {
        check.problem(
            "organisation.mail_domain",
            format!("'{mail_domain}' is not a domain"),
        );
    }
    let organisation = Organisation {
        name: org.name.unwrap_or_else(|| "Klantenservice".into()),
        timezone,
        language,
        mail_domain: mail_domain.to_lowercase(),
    };

    let address_text = raw
        .mailbox
        .as_ref()
        .and_then(|m| m.address.clone())
        .unwrap_or_else(|| format!("klantenservice@{}", organisation.mail_domain));
    let address = check.address("mailbox.address", &address_text);
    let mailbox = raw.mailbox.map(|m| mailbox(m, check));
    // When `from` is unusable a problem is recorded and validation fails as a whole.
    let smtp = raw
        .smtp
        .and_then(|s| smtp(s, address.as_ref(), mailbox.as_ref(), check));

    let people_raw = raw.people.unwrap_or_default();
    let officers = addresses(check, "people.officers", people_raw.officers);
    let management = addresses(check, "people.management", people_raw.management);
    let staff_domains = people_raw
        .staff_domains
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.trim().trim_start_matches('@').to_lowercase())
        .collect();

    let d = raw.deadlines.unwrap_or_default();
    let mut spec = |key: &str, v: Option<String>, default: &str| {
        let text = v.unwrap_or_else(|| default.into());
        check.or(key, parse_deadline(&text), DeadlineSpan::WorkingDays(1))
    };
    let deadlines = DeadlinePolicy {
        acknowledge: spec("deadlines.acknowledge", d.acknowledge, "7d"),
        explain: spec("deadlines.explain", d.explain, "14d"),
        solve: spec("deadlines.solve", d.solve, "42d"),
        holidays: d.holidays.unwrap_or_default(),
    };

    let l = raw.limits.unwrap_or_default();
    let rate = l
        .auto_replies_per_sender
        .unwrap_or_else(|| "3 per 24h".into());
    let fallback_rate = RateLimit {
        count: 3,
        window: SignedDuration::from_hours(24),
    };
    let limits = Limits {
        // 25 MiB: what the big providers accept; anything larger is not a complaint mail.
        max_message_bytes: l.max_message_bytes.unwrap_or(25 * 1024 * 1024),
        auto_replies_per_sender: check.or(
            "limits.auto_replies_per_sender",
            RateLimit::parse(&rate),
            fallback_rate,
        ),
    };

    let logging = raw.logging.unwrap_or_default();
    let log_format = match logging.format.as_deref().unwrap_or("text") {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            check.problem(
                "logging.format",
                format!("'{other}' is not \"text\" or \"json\""),
            );
            LogFormat::Text
        }
    };

    let database_min_free = check.or(
        "database.min_free",
        super::size::parse_size(
            raw.database
                .as_ref()
                .and_then(|d| d.min_free.as_deref())
                .unwrap_or("200MB"),
        ),
        200_000_000,
    );
    let database = super::database::validate(raw.database.unwrap_or_default(), check);
    let instance_name = super::database::instance_name(raw.instance, check);
    let templates_dir = raw.templates.and_then(|t| t.dir).map(|d| check.path(&d));
    let auth = auth(raw.auth.unwrap_or_default(), check);
    let reminders = reminders(raw.reminders.unwrap_or_default(), check);
    let digest = digest(raw.digest.unwrap_or_default(), check);
    let http = super::ops::http(raw.http.unwrap_or_default(), check);
    let alerts = super::ops::alerts(raw.alerts.unwrap_or_default(), check);
    let privacy = super::privacy::privacy(raw.privacy.unwrap_or_default(), check);

    Some(Settings {
        organisation,
        address: address?,
        mailbox,
        smtp,
        database_url: database.url,
        database_password: database.password,
        instance_name,
        database_min_free,
        people: People {
            officers,
            management,
            staff_domains,
        },
        deadlines,
        limits,
        log_format,
        log_level: logging.level.unwrap_or_else(|| "info".into()),
        templates_dir,
        auth,
        reminders,
        digest,
        http,
        alerts,
        privacy,
        redact_addresses: logging.redact_addresses.unwrap_or(true),
    })
}

fn reminders(r: super::raw::RawReminders, check: &mut Check) -> super::ReminderPolicy {
    // Zero would plan a reminder at its own deadline (never sent) or repeat without end.
    let mut span = |key: &str, v: Option<String>, default: &str| {
        let text = v.unwrap_or_else(|| default.into());
        let parsed = parse_deadline(&text).and_then(|span| match span {
            DeadlineSpan::WorkingDays(0) => Err(format!("'{text}' must be at least 1wd")),
            DeadlineSpan::Calendar(d) if d.is_zero() => {
                Err(format!("'{text}' must be longer than zero"))
            }
            other => Ok(other),
        });
        check.or(
            &format!("reminders.{key}"),
            parsed,
            DeadlineSpan::WorkingDays(1),
        )
    };
    super::ReminderPolicy {
        enabled: r.enabled.unwrap_or(true),
        acknowledge_before: span("acknowledge_before", r.acknowledge_before, "2wd"),
        explain_before: span("explain_before", r.explain_before, "3wd"),
        explain_overdue_to_management: r.explain_overdue_to_management.unwrap_or(false),
        solve_before: span("solve_before", r.solve_before, "5wd"),
        overdue_repeat: span("overdue_repeat", r.overdue_repeat, "5wd"),
        verdict_wait: span("verdict_wait", r.verdict_wait, "10wd"),
        unassigned_after: span("unassigned_after", r.unassigned_after, "2wd"),
        pause_while_waiting: r.pause_while_waiting.unwrap_or(false),
    }
}

fn digest(d: super::raw::RawDigest, check: &mut Check) -> super::DigestSettings {
    let time_text = d.time.unwrap_or_else(|| "08:00".into());
    let time = check.or(
        "digest.time",
        time_text
            .trim()
            .parse::<jiff::civil::Time>()
            .map_err(|_| format!("'{time_text}' is not a local time (e.g. \"08:00\")")),
        jiff::civil::Time::constant(8, 0, 0, 0),
    );
    let day_text = d.weekly_day.unwrap_or_else(|| "monday".into());
    let weekly_day = check.or(
        "digest.weekly_day",
        parse_weekday(&day_text),
        jiff::civil::Weekday::Monday,
    );
    super::DigestSettings {
        daily: d.daily.unwrap_or(true),
        time,
        skip_empty: d.skip_empty.unwrap_or(true),
        weekly_management: d.weekly_management.unwrap_or(false),
        weekly_day,
    }
}

/// A weekday in English or Dutch ("monday", "maandag"), case-insensitive.
fn parse_weekday(s: &str) -> Result<jiff::civil::Weekday, String> {
    use jiff::civil::Weekday::*;
    let day = match s.trim().to_ascii_lowercase().as_str() {
        "monday" | "maandag" => Monday,
        "tuesday" | "dinsdag" => Tuesday,
        "wednesday" | "woensdag" => Wednesday,
        "thursday" | "donderdag" => Thursday,
        "friday" | "vrijdag" => Friday,
        "saturday" | "zaterdag" => Saturday,
        "sunday" | "zondag" => Sunday,
        _ => return Err(format!("'{s}' is not a day of the week (e.g. \"monday\")")),
    };
    Ok(day)
}

fn addresses(check: &mut Check, key: &str, list: Option<Vec<String>>) -> Vec<EmailAddress> {
    list.unwrap_or_default()
        .iter()
        .filter_map(|a| check.address(key, a))
        .collect()
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
