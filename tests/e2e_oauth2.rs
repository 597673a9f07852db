//! OAuth2 end to end: the bot logs in to Dovecot (IMAP, OAUTHBEARER) and Postfix
//! (submission, XOAUTH2 through Dovecot SASL) with tokens from a real token endpoint started
//! by the test; Dovecot's oauth2 passdb checks every token with that endpoint's
//! introspection. No mock IMAP or SMTP server.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use common::sandbox::{OAuth2Login, SpawnOptions, TestApp, complaint_mail, new_message_id};
use common::token_server::TokenServer;
use common::{KLAAS, SERVICE};
use sqlx::Row;

const CLIENT_ID: &str = "klachtenbot-test";
const SECRET: &str = "s3cret-for-tests";
const ACK_WITHIN: Duration = Duration::from_secs(15);

async fn spawn(lifetime: Duration, secret: &str) -> Result<(TestApp, TokenServer)> {
    let server = TokenServer::start(CLIENT_ID, SECRET, "klantenservice", lifetime).await?;
    let app = TestApp::spawn(SpawnOptions {
        tls: true,
        oauth2: Some(OAuth2Login {
            introspection_url: server.introspection_url(),
            token_url: server.token_url(),
            client_id: CLIENT_ID.into(),
            client_secret: secret.into(),
        }),
        ..SpawnOptions::default()
    })
    .await?;
    Ok((app, server))
}

#[tokio::test]
async fn the_bot_logs_in_with_tokens_and_acknowledges_a_complaint() -> Result<()> {
    let (mut app, server) = spawn(Duration::from_secs(3600), SECRET).await?;
    let id = new_message_id("oauth2");
    let raw = complaint_mail(KLAAS, "Levering te laat", &id, "Het pakket kwam niet.");
    app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;
    let inbox = app
        .wait_for_parsed(KLAAS, "INBOX", ACK_WITHIN, |m| !m.is_empty())
        .await
        .with_context(|| app.diagnostics())?;
    ensure!(inbox[0].subject.contains("Ontvangstbevestiging"));
    let counts = server.counts();
    // One token for both logins: IMAP and SMTP share the cache.
    assert_eq!(counts.issued, 1, "{counts:?}");
    assert!(counts.accepted >= 2, "IMAP and SMTP logins: {counts:?}");
    let log = std::fs::read_to_string(app.sandbox.dir().join("dovecot.log"))?;
    assert!(
        log.contains("method=OAUTHBEARER") || log.contains("OAUTHBEARER"),
        "IMAP did not use OAUTHBEARER"
    );
    app.stop().await
}

#[tokio::test]
async fn a_wrong_client_secret_names_the_endpoints_answer_and_backs_off() -> Result<()> {
    let (mut app, server) = spawn(Duration::from_secs(3600), "wrong-secret").await?;
    let error = app
        .until(
            "the watcher's error",
            Duration::from_secs(10),
            || async {
                let row =
                    sqlx::query("SELECT last_error FROM worker_status WHERE worker = 'watcher'")
                        .fetch_optional(app.store.pool())
                        .await?;
                Ok(row
                    .and_then(|r| r.try_get::<Option<String>, _>("last_error").ok())
                    .flatten()
                    .unwrap_or_default())
            },
            |e| !e.is_empty(),
        )
        .await?;
    assert!(
        error.contains("invalid_client") && error.contains(&server.token_url()),
        "{error}"
    );
    assert!(
        !error.contains("wrong-secret"),
        "the secret was shown: {error}"
    );
    // Retried with backoff (2 s, 4 s, 8 s, ... with jitter): a few attempts, not a flood.
    app.until(
        "a second token request",
        Duration::from_secs(10),
        || async { Ok(server.counts().refused) },
        |r| *r >= 2,
    )
    .await?;
    let first_two = Instant::now();
    while first_two.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = server.counts().refused;
    assert!(
        refused <= 4,
        "{refused} token requests within seconds: no backoff"
    );
    app.stop().await
}

/// The figures of the one-minute run.
#[derive(Debug)]
struct Run {
    complaints: usize,
    tokens_issued: u64,
    kicks: u64,
    max_latency: Duration,
    delayed: usize,
}

/// Tokens live 20 s; the sandbox ends the IMAP session whenever a token Dovecot accepted
/// expires (as Microsoft 365 does). For over a minute a complaint arrives every 2 s; every
/// acknowledgement must arrive, none later than 5 s after its complaint.
#[tokio::test]
async fn with_tokens_of_20_seconds_mail_flows_for_a_minute_without_delay() -> Result<()> {
    const LIFETIME: Duration = Duration::from_secs(20);
    const RUN: Duration = Duration::from_secs(65);
    const EVERY: Duration = Duration::from_secs(2);
    const DELAYED: Duration = Duration::from_secs(5);
    let (mut app, mut server) = spawn(LIFETIME, SECRET).await?;
    let start = Instant::now();
    let mut sent: BTreeMap<String, Instant> = BTreeMap::new();
    let mut seen: BTreeMap<String, Duration> = BTreeMap::new();
    let mut expiries: BTreeSet<Instant> = BTreeSet::new();
    let mut kicks = 0u64;
    let mut next_send = start;
    let mut n = 0;
    while start.elapsed() < RUN || seen.len() < sent.len() {
        ensure!(
            start.elapsed() < RUN + ACK_WITHIN,
            "acknowledgements missing: {} of {}\n{}",
            sent.len() - seen.len(),
            sent.len(),
            app.diagnostics()
        );
        let now = Instant::now();
        if now >= next_send && start.elapsed() < RUN {
            n += 1;
            let id = new_message_id("minute");
            let raw = complaint_mail(KLAAS, &format!("Klacht {n}"), &id, "Nog steeds niets.");
            app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;
            sent.insert(format!("<{id}>"), Instant::now());
            next_send += EVERY;
        }
        expiries.extend(server.take_accepted_expiries());
        while let Some(&first) = expiries.first()
            && first <= now
        {
            expiries.pop_first();
            app.sandbox.kick(SERVICE).await?;
            kicks += 1;
        }
        for ack in app.parsed(KLAAS, "INBOX")? {
            for original in &ack.in_reply_to {
                let key = original.bracketed();
                if let (Some(at), false) = (sent.get(&key), seen.contains_key(&key)) {
                    seen.insert(key, at.elapsed());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let run = Run {
        complaints: sent.len(),
        tokens_issued: server.counts().issued,
        kicks,
        max_latency: seen.values().max().copied().unwrap_or_default(),
        delayed: seen.values().filter(|d| **d > DELAYED).count(),
    };
    eprintln!("one-minute OAuth2 run: {run:?}");
    // 65 s of 20-second tokens renewed at 15 s: at least four tokens.
    assert!(run.tokens_issued >= 4, "{run:?}");
    assert!(run.kicks >= 3, "{run:?}");
    assert_eq!(run.delayed, 0, "{run:?}");
    assert!(run.max_latency <= DELAYED, "{run:?}");
    assert_eq!(app.complaint_count().await?, run.complaints as i64);
    app.stop().await
}

/// Runs the binary without blocking the runtime: the token server answers on it.
async fn doctor(app: &TestApp) -> Result<(i32, String)> {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_klachtenbot"))
        .arg("--config")
        .arg(&app.config_path)
        .arg("doctor")
        .env_remove("KLACHTENBOT_CONFIG")
        .output()
        .await?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[tokio::test]
async fn doctor_checks_the_token_and_the_token_logins() -> Result<()> {
    let server =
        TokenServer::start(CLIENT_ID, SECRET, "klantenservice", Duration::from_secs(60)).await?;
    let login = |secret: &str| OAuth2Login {
        introspection_url: server.introspection_url(),
        token_url: server.token_url(),
        client_id: CLIENT_ID.into(),
        client_secret: secret.into(),
    };
    let app = TestApp::prepare(SpawnOptions {
        tls: true,
        oauth2: Some(login(SECRET)),
        ..SpawnOptions::default()
    })
    .await?;
    let (code, out) = doctor(&app).await?;
    assert_eq!(code, 0, "{out}");
    for check in [
        "OAuth2 token (mailbox): issued by",
        "IMAP login: klantenservice (OAuth2 token)",
        "SMTP login",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with('✔') && l.contains(check)),
            "{check}:\n{out}"
        );
    }
    let dir = app.config_path.parent().context("config dir")?;
    std::fs::write(dir.join("oauth_secret"), "wrong-secret")?;
    let (code, out) = doctor(&app).await?;
    assert_eq!(code, 77, "{out}");
    let token = out
        .lines()
        .find(|l| l.contains("OAuth2 token"))
        .unwrap_or_default();
    assert!(
        token.starts_with('✘') && token.contains("invalid_client"),
        "{out}"
    );
    Ok(())
}
