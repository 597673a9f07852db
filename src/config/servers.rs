//! Validation of the server sections: `[mailbox]`, `[smtp]` (an endpoint each) and `[auth]`.

use std::net::IpAddr;
use std::time::Duration;

use super::check::{Check, parse_duration};
use super::oauth2::oauth2;
use super::raw::{RawMailbox, RawOAuth2, RawSmtp};
use super::{
    Endpoint, MailboxSettings, OAuth2Grant, OAuth2Settings, Secret, Security, SmtpSettings,
};
use crate::domain::EmailAddress;

pub(super) fn auth(a: super::raw::RawAuth, check: &mut Check) -> super::AuthSettings {
    let require = a.require_authentication.unwrap_or(false);
    if require && a.authserv_id.is_none() {
        check.problem(
            "auth.authserv_id",
            "require_authentication needs the authserv-id of our receiving server",
        );
    }
    let token_secret = match (a.token_secret_env, a.token_secret_file) {
        (Some(_), Some(_)) => {
            check.problem(
                "auth.token_secret_env",
                "give token_secret_env or token_secret_file, not both",
            );
            None
        }
        (Some(var), None) => match std::env::var(&var) {
            Ok(v) if v.len() >= 16 => Some(Secret::new(v)),
            Ok(_) => {
                check.problem(
                    "auth.token_secret_env",
                    format!("{var} must hold at least 16 characters"),
                );
                None
            }
            Err(_) => {
                check.problem(
                    "auth.token_secret_env",
                    format!("environment variable {var} is not set"),
                );
                None
            }
        },
        (None, Some(file)) => match std::fs::read_to_string(check.path(&file)) {
            Ok(v) if v.trim().len() >= 16 => Some(Secret::new(v.trim())),
            Ok(_) => {
                check.problem(
                    "auth.token_secret_file",
                    format!("{file} must hold at least 16 characters"),
                );
                None
            }
            Err(e) => {
                check.problem("auth.token_secret_file", format!("cannot read {file}: {e}"));
                None
            }
        },
        (None, None) => None,
    };
    super::AuthSettings {
        authserv_id: a.authserv_id.map(|s| s.trim().to_ascii_lowercase()),
        require_authentication: require,
        token_secret,
    }
}

pub(super) fn mailbox(m: RawMailbox, check: &mut Check) -> MailboxSettings {
    let endpoint = endpoint(
        check,
        "mailbox",
        EndpointParts {
            host: m.host,
            port: m.port,
            security: m.security,
            user: m.user,
            password_env: m.password_env,
            password_file: m.password_file,
            password_inline: m.password.is_some(),
            ca_file: m.ca_file,
            auth: m.auth,
            oauth2: m.oauth2,
        },
        (993, 143),
    );
    let mut duration = |key: &str, v: Option<String>, default: &str| {
        let text = v.unwrap_or_else(|| default.into());
        check.or(key, parse_duration(&text), Duration::from_secs(60))
    };
    // 5 minutes of IDLE: well inside the 29 minutes RFC 2177 allows and short enough that a
    // NAT box silently dropping the connection is noticed quickly.
    let idle_timeout = duration("mailbox.idle_timeout", m.idle_timeout, "5m");
    let poll_interval = duration("mailbox.poll_interval", m.poll_interval, "60s");
    let batch_size = m.batch_size.unwrap_or(100);
    if batch_size == 0 {
        check.problem("mailbox.batch_size", "must be at least 1");
    }
    MailboxSettings {
        endpoint,
        inbox: m.inbox.unwrap_or_else(|| "INBOX".into()),
        processed_folder: m.processed_folder.unwrap_or_else(|| "Processed".into()),
        quarantine_folder: m.quarantine_folder.unwrap_or_else(|| "Quarantine".into()),
        poll_interval,
        idle_timeout,
        batch_size: batch_size.max(1),
    }
}

pub(super) fn smtp(
    s: RawSmtp,
    our: Option<&EmailAddress>,
    mailbox: Option<&MailboxSettings>,
    check: &mut Check,
) -> Option<SmtpSettings> {
    let fallback = mailbox.and_then(|m| m.endpoint.oauth2.clone());
    let wants_oauth2 = s.auth.as_deref() == Some("oauth2");
    let parts = EndpointParts {
        host: s.host,
        port: s.port,
        security: s.security,
        user: s.user,
        password_env: s.password_env,
        password_file: s.password_file,
        password_inline: s.password.is_some(),
        ca_file: s.ca_file,
        auth: s.auth,
        oauth2: s.oauth2,
    };
    let mut endpoint = endpoint(check, "smtp", parts, (465, 587));
    if wants_oauth2 && endpoint.oauth2.is_none() {
        match fallback {
            Some(o) => endpoint.oauth2 = Some(for_user(o, endpoint.user.as_deref())),
            None => check.problem(
                "smtp.oauth2",
                "auth = \"oauth2\" needs [smtp.oauth2] or [mailbox.oauth2]",
            ),
        }
    }
    let from = match s.from {
        Some(f) => check.address("smtp.from", &f),
        None => our.cloned(),
    };
    let mut duration = |key: &str, v: Option<String>, default: &str| {
        let text = v.unwrap_or_else(|| default.into());
        check.or(key, parse_duration(&text), Duration::from_secs(60))
    };
    // 30 s doubling to 2 h, for 3 days: the classic MTA schedule (RFC 5321 §4.5.4.1 suggests
    // giving up after 4-5 days; a complaints desk should hear sooner).
    let retry_initial = duration("smtp.retry_initial", s.retry_initial, "30s");
    let retry_max = duration("smtp.retry_max", s.retry_max, "2h");
    let give_up_after = duration("smtp.give_up_after", s.give_up_after, "3d");
    // Longer than any SMTP conversation (its timeout is 60 s), short enough that a crash
    // delays the rows in flight by minutes, not hours.
    let claim_lease = duration("smtp.claim_lease", s.claim_lease, "5m");
    Some(SmtpSettings {
        endpoint,
        from: from?,
        retry_initial,
        retry_max,
        give_up_after,
        claim_lease,
    })
}

struct EndpointParts {
    host: Option<String>,
    port: Option<u16>,
    security: Option<String>,
    user: Option<String>,
    password_env: Option<String>,
    password_file: Option<String>,
    password_inline: bool,
    ca_file: Option<String>,
    auth: Option<String>,
    oauth2: Option<RawOAuth2>,
}

/// The mailbox's token source for the SMTP login: a service account then acts as the SMTP
/// user.
fn for_user(mut o: OAuth2Settings, user: Option<&str>) -> OAuth2Settings {
    if let (OAuth2Grant::ServiceAccount { subject, .. }, Some(user)) = (&mut o.grant, user) {
        *subject = user.to_string();
    }
    o
}

/// `auth` and `[<section>.oauth2]`: the token source when auth = "oauth2".
fn login_oauth2(check: &mut Check, section: &str, p: &mut EndpointParts) -> Option<OAuth2Settings> {
    let key = |k: &str| format!("{section}.{k}");
    let wants = match p.auth.as_deref().unwrap_or("password") {
        "password" => false,
        "oauth2" => true,
        other => {
            check.problem(
                &key("auth"),
                format!("'{other}' is not \"password\" or \"oauth2\""),
            );
            false
        }
    };
    let raw = p.oauth2.take();
    if !wants {
        // [smtp] may borrow the mailbox's table, so only the SMTP table is contradictory here.
        if raw.is_some() && section == "smtp" {
            check.problem(&key("oauth2"), "given, but auth is not \"oauth2\"");
        }
        return None;
    }
    if p.password_env.is_some() || p.password_file.is_some() {
        check.problem(
            &key("password_env"),
            "not used with auth = \"oauth2\": remove it",
        );
    }
    if p.user.is_none() {
        check.problem(
            &key("user"),
            "auth = \"oauth2\" needs the mailbox's address as user",
        );
    }
    let raw = raw?;
    oauth2(raw, section, p.user.as_deref(), check)
}

fn endpoint(check: &mut Check, section: &str, mut p: EndpointParts, ports: (u16, u16)) -> Endpoint {
    let oauth2 = login_oauth2(check, section, &mut p);
    let key = |k: &str| format!("{section}.{k}");
    let host = p.host.unwrap_or_default();
    if host.is_empty() {
        check.problem(&key("host"), "missing");
    }
    let security = match p.security.as_deref().unwrap_or("tls") {
        "tls" => Security::Tls,
        "starttls" => Security::StartTls,
        "plain" => Security::Plain,
        other => {
            check.problem(
                &key("security"),
                format!("'{other}' is not tls, starttls or plain"),
            );
            Security::Tls
        }
    };
    if security == Security::Plain && !is_loopback(&host) {
        check.problem(
            &key("security"),
            format!(
                "\"plain\" sends the password unencrypted; only allowed for loopback, not '{host}'"
            ),
        );
    }
    let port = p.port.unwrap_or(match security {
        Security::Tls => ports.0,
        _ => ports.1,
    });
    if p.password_inline {
        check.problem(
            &key("password"),
            "secrets do not belong in the file: use password_env or password_file",
        );
    }
    let password = match (p.password_env, p.password_file) {
        (Some(_), Some(_)) => {
            check.problem(
                &key("password_env"),
                "give password_env or password_file, not both",
            );
            Secret::default()
        }
        (Some(var), None) => match std::env::var(&var) {
            Ok(v) => Secret::new(v),
            Err(_) => {
                check.problem(
                    &key("password_env"),
                    format!("environment variable {var} is not set"),
                );
                Secret::default()
            }
        },
        (None, Some(file)) => match std::fs::read_to_string(check.path(&file)) {
            Ok(v) => Secret::new(v.trim_end_matches(['\r', '\n'])),
            Err(e) => {
                check.problem(&key("password_file"), format!("cannot read {file}: {e}"));
                Secret::default()
            }
        },
        (None, None) => {
            if p.user.is_some() && p.auth.as_deref() != Some("oauth2") {
                check.problem(
                    &key("password_env"),
                    "a user is set but no password_env or password_file",
                );
            }
            Secret::default()
        }
    };
    let ca_file = p.ca_file.map(|f| check.path(&f));
    if let Some(f) = &ca_file
        && !f.is_file()
    {
        check.problem(&key("ca_file"), format!("{} does not exist", f.display()));
    }
    Endpoint {
        host,
        port,
        security,
        user: p.user,
        password,
        ca_file,
        oauth2,
    }
}

/// Whether a host name is a loopback address (where plain text cannot be sniffed).
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
