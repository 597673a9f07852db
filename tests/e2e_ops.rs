//! Running as a service, end to end on the mail sandbox: `/healthz`, `/metrics` and the
//! outage alerts, over real HTTP against the daemon, with Dovecot stopped and started.
//!
//! One test in this binary: the metrics recorder is global to the process, so the counts it
//! checks are exactly the messages this test sent.
//!
//! The sandbox without TLS takes the bot's mail on loopback without SASL, so Postfix does not
//! ask Dovecot about logins: with Dovecot stopped, SMTP keeps working for the bot (Postfix
//! queues the mail until Dovecot's LMTP is back), and the outage is IMAP's alone.

mod common;

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use common::sandbox::{SpawnOptions, TestApp, complaint_mail, mail, new_message_id};
use common::{KLAAS, MARIE, OFFICER, SERVICE};
use klachtenbot::sandbox::StopMode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `[alerts] after` in this test.
const AFTER_SECS: u64 = 3;
const WITHIN: Duration = Duration::from_secs(30);

/// GET over a fresh connection: the status code and the body.
async fn get(port: u16, path: &str) -> Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("no end of the HTTP header")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .context("no status code")?
        .parse()?;
    Ok((status, body.to_string()))
}

/// Polls `GET path` until `pred` holds for (status, body).
async fn get_until(
    port: u16,
    path: &str,
    within: Duration,
    pred: impl Fn(u16, &str) -> bool,
) -> Result<(u16, String)> {
    let deadline = Instant::now() + within;
    loop {
        let last = get(port, path).await;
        if let Ok((status, body)) = &last
            && pred(*status, body)
        {
            return Ok((*status, body.clone()));
        }
        if Instant::now() >= deadline {
            bail!("GET {path}: condition not met within {within:?}; last answer {last:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of one series in Prometheus text (`name{labels} value`), 0 when absent.
fn series(metrics: &str, name_and_labels: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn subjects(app: &TestApp, address: &str) -> Result<Vec<String>> {
    Ok(app
        .parsed(address, "INBOX")?
        .into_iter()
        .map(|m| m.subject)
        .collect())
}

#[tokio::test]
async fn health_metrics_and_one_alert_per_imap_outage() -> Result<()> {
    let port = free_port()?;
    let mut app = TestApp::spawn(SpawnOptions {
        extra_toml: format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\n\n[alerts]\nafter = \"{AFTER_SECS}s\"\n"
        ),
        ..SpawnOptions::default()
    })
    .await?;

    // Healthy once the watcher has logged in.
    let (_, body) = get_until(port, "/healthz", WITHIN, |s, b| {
        s == 200 && b.contains("\"ok\"")
    })
    .await?;
    let health: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(health["parts"]["imap"]["state"], "up");
    assert_eq!(health["parts"]["smtp"]["state"], "up");

    // Two complaints, an automatic reply, and the first complaint once more.
    let first = complaint_mail(
        KLAAS,
        "Boek kapot",
        &new_message_id("c"),
        "Het boek is kapot.",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &first).await?;
    let second = complaint_mail(MARIE, "Factuur", &new_message_id("c"), "Twee keer betaald.");
    app.sandbox.deliver(MARIE, &[SERVICE], &second).await?;
    let auto = mail(
        MARIE,
        "Afwezig",
        &new_message_id("ooo"),
        &["Auto-Submitted: auto-replied"],
        "Ik ben op vakantie.",
    );
    app.sandbox.deliver(MARIE, &[SERVICE], &auto).await?;
    app.sandbox.deliver(KLAAS, &[SERVICE], &first).await?;
    app.sandbox
        .wait_for(SERVICE, "Processed", WITHIN, |m| m.len() == 4)
        .await?;
    app.wait_until_sender_idle(WITHIN).await?;

    let (status, metrics) = get_until(port, "/metrics", WITHIN, |_, m| {
        series(m, "klachtenbot_messages_total{outcome=\"duplicate\"}") >= 1.0
            && series(m, "klachtenbot_mails_sent_total{kind=\"acknowledgement\"}") >= 2.0
    })
    .await?;
    assert_eq!(status, 200);
    let count = |s: &str| series(&metrics, s);
    assert_eq!(
        count("klachtenbot_messages_total{outcome=\"registered\"}"),
        2.0
    );
    assert_eq!(
        count("klachtenbot_messages_total{outcome=\"suppressed\"}"),
        1.0
    );
    assert_eq!(
        count("klachtenbot_messages_total{outcome=\"duplicate\"}"),
        1.0
    );
    for other in ["follow_up", "command", "flagged", "quarantined"] {
        assert_eq!(
            count(&format!(
                "klachtenbot_messages_total{{outcome=\"{other}\"}}"
            )),
            0.0
        );
    }
    assert_eq!(count("klachtenbot_ack_seconds_count"), 2.0);
    assert_eq!(count("klachtenbot_intake_seconds_count"), 4.0);
    assert_eq!(count("klachtenbot_open_complaints"), 2.0);
    assert_eq!(count("klachtenbot_outbox_pending"), 0.0);
    assert_eq!(count("klachtenbot_imap_connected"), 1.0);

    // IMAP goes away; SMTP does not (see the module comment).
    app.sandbox.stop_dovecot(StopMode::Kill).await?;
    let stopped = Instant::now();
    let (_, body) = get_until(port, "/healthz", WITHIN, |s, _| s == 503).await?;
    let health: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(health["status"], "down");
    assert_eq!(health["parts"]["imap"]["state"], "down");
    assert_eq!(health["parts"]["smtp"]["state"], "up");
    assert!(
        health["reason"].as_str().unwrap_or("").contains("imap"),
        "{body}"
    );
    ensure!(
        stopped.elapsed() < Duration::from_secs(AFTER_SECS + 10),
        "503 came only after {:?}",
        stopped.elapsed()
    );

    // One alert, accepted by Postfix while Dovecot is still down.
    let alerts = || async {
        let rows = app.outbox().await?;
        Ok(rows
            .iter()
            .filter(|r| r.kind == "alert" && r.status == "sent")
            .count())
    };
    app.until("the alert sent", WITHIN, alerts, |n| *n == 1)
        .await?;
    // The watcher keeps retrying meanwhile; two more failed attempts, and still one alert.
    let reconnects = series(
        &get(port, "/metrics").await?.1,
        "klachtenbot_imap_reconnects_total",
    );
    get_until(port, "/metrics", Duration::from_secs(60), |_, m| {
        series(m, "klachtenbot_imap_reconnects_total") >= reconnects + 2.0
    })
    .await?;
    assert_eq!(alerts().await?, 1);

    // Back: one recovery mail, and the officer has exactly one of each.
    app.sandbox.start_dovecot().await?;
    get_until(port, "/healthz", Duration::from_secs(120), |s, b| {
        s == 200 && b.contains("\"ok\"")
    })
    .await?;
    app.until(
        "the recovery mail sent",
        WITHIN,
        || async {
            Ok(app
                .outbox()
                .await?
                .iter()
                .filter(|r| r.kind == "alert_recovered" && r.status == "sent")
                .count())
        },
        |n| *n == 1,
    )
    .await?;
    app.wait_until_sender_idle(WITHIN).await?;
    app.sandbox
        .wait_for(OFFICER, "INBOX", WITHIN, |m| m.len() >= 2)
        .await?;
    let inbox = subjects(&app, OFFICER)?;
    let alert_mails: Vec<_> = inbox.iter().filter(|s| s.contains("STORING")).collect();
    let recovered: Vec<_> = inbox.iter().filter(|s| s.contains("OPGELOST")).collect();
    assert_eq!(alert_mails.len(), 1, "{inbox:#?}");
    assert_eq!(recovered.len(), 1, "{inbox:#?}");
    assert!(alert_mails[0].contains("mailbox (IMAP)"), "{inbox:#?}");
    let officer = app.parsed(OFFICER, "INBOX")?;
    let alert_text = officer
        .iter()
        .find(|m| m.subject.contains("STORING"))
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(alert_text.contains("Wat de server zegt"), "{alert_text}");
    assert!(alert_text.contains("wachtwoord"), "{alert_text}");

    // Nothing new came in: the counts by outcome are unchanged.
    let (_, after) = get(port, "/metrics").await?;
    for outcome in ["registered", "suppressed", "duplicate"] {
        let s = format!("klachtenbot_messages_total{{outcome=\"{outcome}\"}}");
        assert_eq!(series(&after, &s), series(&metrics, &s), "{s}");
    }
    println!("--- /metrics after the end-to-end test ---\n{after}");
    app.stop().await
}
