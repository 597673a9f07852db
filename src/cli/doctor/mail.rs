//! The OAuth2, IMAP and SMTP lines. Each group stops at its first failure (no login
//! without a connection); nothing is sent: the SMTP check ends with RSET after MAIL FROM.

use std::time::Duration;

use lettre::transport::smtp::commands::{Mail, Rset};
use tokio::net::TcpStream;

use super::{Line, Report};
use crate::cli::exit;
use crate::config::{Endpoint, MailboxSettings, OAuth2Settings, Security, Settings, SmtpSettings};
use crate::mailbox::session::{self, LoginRefused};
use crate::mailbox::sync;
use crate::oauth2::TokenError;
use crate::outbound::smtp::{self, Failure};

/// How long the TCP probe may take: a firewall that drops packets shows as a timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The token, IMAP and SMTP groups.
pub(super) async fn check(settings: &Settings, report: &mut Report) {
    let mailbox_token = settings
        .mailbox
        .as_ref()
        .and_then(|m| m.endpoint.oauth2.as_ref());
    let smtp_token = settings
        .smtp
        .as_ref()
        .and_then(|s| s.endpoint.oauth2.as_ref());
    if let Some(o) = mailbox_token {
        token("OAuth2 token (mailbox)", o, report).await;
    }
    if let Some(o) = smtp_token.filter(|o| Some(*o) != mailbox_token) {
        token("OAuth2 token (smtp)", o, report).await;
    }
    match &settings.mailbox {
        Some(m) => imap(m, report).await,
        None => {
            report.add(Line::fail("IMAP", exit::CONFIG, "no [mailbox] configured"));
        }
    }
    match &settings.smtp {
        Some(s) => smtp_checks(s, report).await,
        None => {
            report.add(Line::fail("SMTP", exit::CONFIG, "no [smtp] configured"));
        }
    }
}

async fn token(check: &str, settings: &OAuth2Settings, report: &mut Report) {
    let fetched = match crate::oauth2::shared(settings) {
        Ok(source) => source.token().await.map(|_| ()),
        Err(e) => Err(e),
    };
    report.add(match fetched {
        Ok(()) => Line::pass(check, format!("issued by {}", settings.token_url)),
        Err(e) => Line::fail(check, token_code(&e), e.to_string()),
    });
}

fn token_code(e: &TokenError) -> u8 {
    match e {
        TokenError::Refused { .. } => exit::NOPERM,
        TokenError::Unreachable { .. } => exit::UNAVAILABLE,
        TokenError::Invalid(_) => exit::CONFIG,
    }
}

/// TCP only: tells "nobody listens" apart from TLS and login trouble.
async fn connect(check: &str, endpoint: &Endpoint, report: &mut Report) -> bool {
    let addr = (endpoint.host.as_str(), endpoint.port);
    let line = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(Ok(_)) => Line::pass(check, format!("{}:{}", endpoint.host, endpoint.port)),
        Ok(Err(e)) => Line::fail(
            check,
            exit::UNAVAILABLE,
            format!("{}:{}: {e}", endpoint.host, endpoint.port),
        ),
        Err(_) => Line::fail(
            check,
            exit::UNAVAILABLE,
            format!(
                "{}:{}: no answer within {CONNECT_TIMEOUT:?}",
                endpoint.host, endpoint.port
            ),
        ),
    };
    report.add(line)
}

fn tls_detail(endpoint: &Endpoint) -> &'static str {
    match endpoint.security {
        Security::Tls => "implicit TLS, certificate trusted",
        Security::StartTls => "STARTTLS, certificate trusted",
        Security::Plain => "not used (security = \"plain\", loopback only)",
    }
}

async fn imap(settings: &MailboxSettings, report: &mut Report) {
    let endpoint = &settings.endpoint;
    if !connect("IMAP connect", endpoint, report).await {
        return;
    }
    let client = match session::open(endpoint).await {
        Ok(c) => c,
        Err(e) => {
            report.add(Line::fail("IMAP TLS", exit::UNAVAILABLE, format!("{e:#}")));
            return;
        }
    };
    report.add(Line::pass("IMAP TLS", tls_detail(endpoint)));
    let mut session = match session::login(client, endpoint).await {
        Ok(s) => s,
        Err(e) => {
            let code = login_code(&e);
            report.add(Line::fail("IMAP login", code, format!("{e:#}")));
            return;
        }
    };
    let how = if endpoint.oauth2.is_some() {
        "OAuth2 token"
    } else {
        "password"
    };
    let user = endpoint.user.as_deref().unwrap_or_default();
    report.add(Line::pass("IMAP login", format!("{user} ({how})")));
    let inbox = session::timed("EXAMINE", session.examine(&settings.inbox)).await;
    let inbox_ok = report.add(match inbox {
        Ok(m) => Line::pass(
            "IMAP inbox",
            format!("{} holds {} message(s)", settings.inbox, m.exists),
        ),
        Err(e) => Line::fail(
            "IMAP inbox",
            exit::UNAVAILABLE,
            format!("{}: {e:#}", settings.inbox),
        ),
    });
    if !inbox_ok {
        return;
    }
    match sync::capabilities(&mut session).await {
        Ok(caps) => {
            report.add(if caps.idle {
                Line::pass("IMAP IDLE", "offered")
            } else {
                Line::warn(
                    "IMAP IDLE",
                    format!(
                        "not offered: the bot polls every {:?}",
                        settings.poll_interval
                    ),
                )
            });
            report.add(if caps.mv {
                Line::pass("IMAP MOVE", "offered")
            } else {
                Line::warn("IMAP MOVE", "not offered: the bot copies and expunges")
            });
        }
        Err(e) => {
            report.add(Line::fail(
                "IMAP capabilities",
                exit::UNAVAILABLE,
                format!("{e:#}"),
            ));
            return;
        }
    }
    let folders = format!(
        "{} and {}",
        settings.processed_folder, settings.quarantine_folder
    );
    report.add(match sync::ensure_folders(&mut session, settings).await {
        Ok(()) => Line::pass("IMAP folders", format!("{folders} exist")),
        Err(e) => Line::fail("IMAP folders", exit::NOPERM, format!("{folders}: {e:#}")),
    });
    let _ = session::timed("LOGOUT", session.logout()).await;
}

fn login_code(e: &anyhow::Error) -> u8 {
    if let Some(t) = e.downcast_ref::<TokenError>() {
        token_code(t)
    } else if e.downcast_ref::<LoginRefused>().is_some() {
        exit::NOPERM
    } else {
        exit::UNAVAILABLE
    }
}

async fn smtp_checks(settings: &SmtpSettings, report: &mut Report) {
    let endpoint = &settings.endpoint;
    if !connect("SMTP connect", endpoint, report).await {
        return;
    }
    let transport = match smtp::transport(endpoint) {
        Ok(t) => t,
        Err(e) => {
            report.add(Line::fail("SMTP TLS", exit::CONFIG, format!("{e:#}")));
            return;
        }
    };
    let mut conn = match transport.greeted().await {
        Ok(c) => c,
        Err(e) => {
            report.add(Line::fail(
                "SMTP TLS and EHLO",
                exit::UNAVAILABLE,
                failure(&e),
            ));
            return;
        }
    };
    let ehlo = conn.server_info().name().to_string();
    report.add(Line::pass(
        "SMTP TLS and EHLO",
        format!("{}; server {ehlo}", tls_detail(endpoint)),
    ));
    if let Some(user) = &endpoint.user {
        match transport.login(&mut conn).await {
            Ok(()) => report.add(Line::pass("SMTP login", user.clone())),
            Err(e) => {
                let code = match &e {
                    Failure::Permanent(_) => exit::NOPERM,
                    Failure::Temporary(_) => exit::UNAVAILABLE,
                };
                report.add(Line::fail("SMTP login", code, failure(&e)));
                return;
            }
        };
    } else {
        report.add(Line::pass("SMTP login", "none configured"));
    }
    let from = settings.from.to_string();
    let mail = match from.parse::<lettre::Address>() {
        Ok(a) => Mail::new(Some(a), vec![]),
        Err(e) => {
            report.add(Line::fail(
                "SMTP MAIL FROM",
                exit::CONFIG,
                format!("{from}: {e}"),
            ));
            return;
        }
    };
    let accepted = conn.command(mail).await;
    let ok = report.add(match accepted {
        Ok(r) => Line::pass(
            "SMTP MAIL FROM",
            format!("<{from}> accepted ({})", r.code()),
        ),
        Err(e) => Line::fail("SMTP MAIL FROM", exit::NOPERM, format!("<{from}>: {e}")),
    });
    if ok {
        report.add(match conn.command(Rset).await {
            Ok(_) => Line::pass("SMTP RSET", "transaction reset: nothing sent"),
            Err(e) => Line::fail("SMTP RSET", exit::UNAVAILABLE, e.to_string()),
        });
    }
    let _ = conn.quit().await;
}

fn failure(f: &Failure) -> String {
    match f {
        Failure::Temporary(m) | Failure::Permanent(m) => m.clone(),
    }
}
