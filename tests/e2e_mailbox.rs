//! End to end against real mail servers: Dovecot (IMAP, LMTP) and Postfix (SMTP) in a
//! sandbox on loopback, the bot in process or as the built binary. Assertions look at what
//! arrives in the real mailboxes and what the register holds; every wait has a deadline.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use common::sandbox::{
    SpawnOptions, TestApp, by_message_id, complaint_mail, current_year, mail, new_message_id,
};
use common::{KLAAS, MARIE, OFFICER, SERVICE};
use klachtenbot::domain::{MessageId, Reference};
use klachtenbot::sandbox::StopMode;

const ACK_WITHIN: Duration = Duration::from_secs(15);
const ACK_PREFIX: &str = "Ontvangstbevestiging: ";

fn is_ack(m: &klachtenbot::intake::parse::InboundMail) -> bool {
    m.subject.contains(ACK_PREFIX)
}

#[tokio::test]
async fn a_customers_mail_gets_an_acknowledgement_with_the_reference() -> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions::default()).await?;
    let id = new_message_id("complaint");
    let raw = complaint_mail(KLAAS, "Boek kapot", &id, "Mijn examenboek viel uit elkaar.");
    app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;

    let inbox = app
        .wait_for_parsed(KLAAS, "INBOX", ACK_WITHIN, |m| !m.is_empty())
        .await?;
    assert_eq!(inbox.len(), 1);
    let ack = &inbox[0];
    let year = current_year();
    assert_eq!(
        ack.subject,
        format!("[KL-{year}-0001] Ontvangstbevestiging: Boek kapot")
    );
    assert_eq!(ack.in_reply_to, vec![MessageId::parse(&id)?]);
    assert_eq!(
        ack.automation.auto_submitted.as_deref(),
        Some("auto-replied")
    );

    let processed = app
        .wait_for_parsed(SERVICE, "Processed", ACK_WITHIN, |m| m.len() == 1)
        .await?;
    assert_eq!(processed[0].message_id, Some(MessageId::parse(&id)?));
    app.sandbox
        .wait_for(SERVICE, "INBOX", ACK_WITHIN, <[_]>::is_empty)
        .await?;
    let flags = app.maildir_flags(SERVICE, "Processed")?;
    assert_eq!(flags.len(), 1);
    assert!(
        !flags[0].contains('S'),
        "the original was marked \\Seen: flags {flags:?}"
    );
    app.stop().await
}

#[tokio::test]
async fn a_reply_to_the_acknowledgement_joins_the_same_complaint_without_a_second_acknowledgement()
-> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions::default()).await?;
    let id = new_message_id("complaint");
    let raw = complaint_mail(KLAAS, "Factuur klopt niet", &id, "Ik betaalde twee keer.");
    app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;
    let inbox = app
        .wait_for_parsed(KLAAS, "INBOX", ACK_WITHIN, |m| m.len() == 1)
        .await?;
    let ack = &inbox[0];
    let ack_id = ack
        .message_id
        .clone()
        .context("the acknowledgement has no Message-ID")?;

    let reply_id = new_message_id("reply");
    let in_reply_to = format!("In-Reply-To: {}", ack_id.bracketed());
    let references = format!("References: <{id}> {}", ack_id.bracketed());
    let reply = mail(
        KLAAS,
        &format!("Re: {}", ack.subject),
        &reply_id,
        &[&in_reply_to, &references],
        "Hierbij nog de factuur.\n\n> eerder bericht",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &reply).await?;
    app.wait_for_parsed(SERVICE, "Processed", ACK_WITHIN, |m| m.len() == 2)
        .await?;

    assert_eq!(app.complaint_count().await?, 1);
    let kinds = app.message_kinds().await?;
    assert!(
        kinds.iter().any(|k| k == "follow_up"),
        "no follow_up row in messages: {kinds:?}"
    );
    app.wait_until_sender_idle(ACK_WITHIN).await?;
    assert_eq!(
        app.sandbox.messages(KLAAS, "INBOX")?.len(),
        1,
        "a second mail reached the customer"
    );
    app.stop().await
}

#[tokio::test]
async fn a_backlog_already_in_the_inbox_is_drained_completely() -> Result<()> {
    const N: usize = 40;
    let mut app = TestApp::prepare(SpawnOptions::default()).await?;
    for i in 0..N {
        let from = if i % 2 == 0 { KLAAS } else { MARIE };
        let raw = complaint_mail(
            from,
            &format!("Klacht {i}"),
            &new_message_id("backlog"),
            "Klacht.",
        );
        app.sandbox.append(SERVICE, "INBOX", &raw).await?;
    }
    app.start()?;

    let within = Duration::from_secs(25);
    let klaas = app
        .wait_for_parsed(KLAAS, "INBOX", within, |m| m.len() >= N / 2)
        .await?;
    let marie = app
        .wait_for_parsed(MARIE, "INBOX", within, |m| m.len() >= N / 2)
        .await?;
    assert!(klaas.iter().chain(&marie).all(is_ack));
    assert_eq!(klaas.len() + marie.len(), N);
    assert_eq!(app.complaint_count().await?, N as i64);
    app.sandbox
        .wait_for(SERVICE, "INBOX", within, <[_]>::is_empty)
        .await?;
    assert_eq!(app.sandbox.messages(SERVICE, "Processed")?.len(), N);
    app.stop().await
}

/// The watcher takes a batch through the door in groups, one transaction each, every message
/// a savepoint of its own: when the register refuses one message's complaint (a real
/// constraint failure, from a trigger), that message alone is rolled back and flagged, the
/// others of its group are registered with references that skip nothing, and all three leave
/// the inbox.
#[tokio::test]
async fn a_message_that_fails_inside_a_group_is_flagged_alone_and_the_rest_registered() -> Result<()>
{
    let mut app = TestApp::prepare(SpawnOptions::default()).await?;
    sqlx::query(
        "CREATE TRIGGER test_refuses_one BEFORE INSERT ON complaints \
         WHEN NEW.subject = 'Geweigerd' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(app.store.pool())
    .await?;
    for (from, subject) in [
        (KLAAS, "Klacht een"),
        (MARIE, "Geweigerd"),
        (KLAAS, "Klacht drie"),
    ] {
        let raw = complaint_mail(from, subject, &new_message_id("group"), "Klacht.");
        app.sandbox.append(SERVICE, "INBOX", &raw).await?;
    }
    app.start()?;

    let within = Duration::from_secs(25);
    app.sandbox
        .wait_for(SERVICE, "INBOX", within, <[_]>::is_empty)
        .await?;
    assert_eq!(app.sandbox.messages(SERVICE, "Processed")?.len(), 3);
    let acks = app
        .wait_for_parsed(KLAAS, "INBOX", within, |m| m.len() >= 2)
        .await?;
    let year = current_year();
    let mut subjects: Vec<&str> = acks.iter().map(|m| m.subject.as_str()).collect();
    subjects.sort_unstable();
    assert!(
        subjects[0].contains(&format!("KL-{year}-0001"))
            && subjects[1].contains(&format!("KL-{year}-0002")),
        "the two registered complaints are numbered without a gap: {subjects:?}"
    );
    assert_eq!(app.complaint_count().await?, 2);
    assert_eq!(
        app.message_kinds().await?,
        ["new_complaint", "error", "new_complaint"],
        "the refused message is kept and marked, between the two registered ones"
    );
    let flagged: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM flags WHERE reason = 'error' AND detail LIKE '%refused by the test%'",
    )
    .fetch_one(app.store.pool())
    .await?;
    assert_eq!(
        flagged, 1,
        "the officer is shown why the message was not registered"
    );
    assert!(
        app.outbox()
            .await?
            .iter()
            .all(|row| !row.recipients.contains(MARIE)),
        "no acknowledgement for the refused message"
    );
    app.stop().await
}

#[tokio::test]
async fn dovecot_restarted_mid_run_loses_nothing() -> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions::default()).await?;
    for i in 0..3 {
        let raw = complaint_mail(
            KLAAS,
            &format!("Voor de crash {i}"),
            &new_message_id("before"),
            "x",
        );
        app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;
    }
    app.wait_for_parsed(KLAAS, "INBOX", ACK_WITHIN, |m| m.len() == 3)
        .await?;

    app.sandbox.stop_dovecot(StopMode::Kill).await?;
    for i in 0..3 {
        let raw = complaint_mail(
            KLAAS,
            &format!("Tijdens de crash {i}"),
            &new_message_id("during"),
            "x",
        );
        app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;
    }
    assert!(
        app.sandbox.postfix_queue_len() >= 1,
        "Postfix should hold the mail while Dovecot is down"
    );
    app.sandbox.start_dovecot().await?;

    // Killing Dovecot can interrupt an LMTP delivery after Dovecot saved the mail but before
    // Postfix heard 250, so Postfix may deliver that one again: count distinct Message-IDs.
    let distinct = |raw: &[Vec<u8>]| {
        raw.iter()
            .filter_map(|r| klachtenbot::intake::parse::parse(r)?.message_id)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let within = Duration::from_secs(25);
    let inbox = app
        .wait_for_parsed(KLAAS, "INBOX", within, |m| distinct(m) >= 6)
        .await?;
    assert_eq!(distinct(&app.sandbox.messages(KLAAS, "INBOX")?), 6);
    assert!(inbox.iter().all(is_ack));
    assert_eq!(app.complaint_count().await?, 6);
    app.stop().await
}

#[tokio::test]
async fn postfix_stopped_then_started_every_acknowledgement_is_delivered() -> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions::default()).await?;
    app.sandbox.stop_postfix(StopMode::Kill).await?;
    for i in 0..3 {
        let raw = complaint_mail(
            KLAAS,
            &format!("Zonder Postfix {i}"),
            &new_message_id("nopostfix"),
            "x",
        );
        app.sandbox.append(SERVICE, "INBOX", &raw).await?;
    }
    app.until(
        "3 complaints",
        ACK_WITHIN,
        || app.complaint_count(),
        |n| *n == 3,
    )
    .await?;
    let rows = app
        .until(
            "3 acknowledgements tried and still pending",
            ACK_WITHIN,
            || app.outbox(),
            |rows| {
                let acks: Vec<_> = rows
                    .iter()
                    .filter(|r| r.kind == "acknowledgement")
                    .collect();
                acks.len() == 3
                    && acks
                        .iter()
                        .all(|r| r.attempts >= 1 && r.status == "pending")
            },
        )
        .await?;
    assert!(app.sandbox.messages(KLAAS, "INBOX")?.is_empty());
    app.sandbox.start_postfix().await?;

    let inbox = app
        .wait_for_parsed(KLAAS, "INBOX", ACK_WITHIN, |m| m.len() >= 3)
        .await?;
    assert_eq!(inbox.len(), 3);
    let sent: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.kind == "acknowledgement")
        .map(|r| r.message_id.clone())
        .collect();
    let arrived: BTreeSet<String> = inbox
        .iter()
        .filter_map(|m| m.message_id.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(arrived, sent);
    app.until(
        "all outbox rows sent",
        ACK_WITHIN,
        || app.outbox(),
        |rows| rows.iter().all(|r| r.status == "sent"),
    )
    .await?;
    app.stop().await
}

#[tokio::test]
async fn an_out_of_office_and_a_bounce_get_no_answer() -> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions::default()).await?;
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/corpus");
    for file in [
        "autoreplies/sisimai-rfc3834-02-exchange-automatic-reply.eml",
        "bounces/sisimai-lhost-postfix-01.eml",
    ] {
        let raw =
            std::fs::read(format!("{corpus}/{file}")).with_context(|| format!("reading {file}"))?;
        app.sandbox.append(SERVICE, "INBOX", &raw).await?;
    }
    let ooo = mail(
        KLAAS,
        "Afwezig: uw bericht",
        &new_message_id("ooo"),
        &["Auto-Submitted: auto-replied"],
        "Ik ben tot maandag afwezig.",
    );
    app.sandbox.deliver("", &[SERVICE], &ooo).await?;

    app.wait_for_parsed(SERVICE, "Processed", ACK_WITHIN, |m| m.len() == 3)
        .await?;
    app.wait_until_sender_idle(ACK_WITHIN).await?;
    let outbox = app.outbox().await?;
    assert!(
        outbox.iter().all(|r| r.kind != "acknowledgement"),
        "automated mail was acknowledged: {outbox:?}"
    );
    assert!(app.sandbox.messages(KLAAS, "INBOX")?.is_empty());
    assert!(app.sandbox.messages(SERVICE, "INBOX")?.is_empty());
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_backlog_then_restart_registers_each_message_once() -> Result<()> {
    // Large enough that three kills land before the end: the watcher registers some 1,000
    // messages a second, in groups of 25 (a kill mostly lands inside a group's transaction).
    const N: i64 = 400;
    const KILLS: usize = 3;
    let started = Instant::now();
    let mut app = TestApp::prepare(SpawnOptions {
        binary: true,
        ..SpawnOptions::default()
    })
    .await?;
    for i in 0..N {
        let from = if i % 2 == 0 { KLAAS } else { MARIE };
        let raw = complaint_mail(
            from,
            &format!("Klacht nummer {i}"),
            &new_message_id("kill9"),
            "Klacht.",
        );
        app.sandbox.append(SERVICE, "INBOX", &raw).await?;
    }
    app.start()?;

    let mut last = 0;
    let mut kills = 0;
    while kills < KILLS {
        let now = app
            .until(
                "the backlog to advance",
                Duration::from_secs(20),
                || app.complaint_count(),
                |n| *n >= last + 30 || *n == N,
            )
            .await?;
        if now == N {
            break;
        }
        app.kill_9()?;
        kills += 1;
        last = app.complaint_count().await?;
        eprintln!(
            "kill -9 #{kills} at {last} complaints ({:?})",
            started.elapsed()
        );
        app.start()?;
    }
    ensure!(
        kills == KILLS,
        "the backlog was done after only {kills} kill(s); make it larger"
    );

    app.until(
        "all complaints",
        Duration::from_secs(30),
        || app.complaint_count(),
        |n| *n == N,
    )
    .await?;
    app.wait_until_sender_idle(Duration::from_secs(30)).await?;
    app.sandbox
        .wait_for(SERVICE, "INBOX", Duration::from_secs(10), <[_]>::is_empty)
        .await?;
    assert_eq!(app.complaint_count().await?, N);
    assert_eq!(app.message_count().await?, N);

    let mut acks = app.parsed(KLAAS, "INBOX")?;
    acks.extend(app.parsed(MARIE, "INBOX")?);
    assert!(acks.iter().all(is_ack));
    let per_id = by_message_id(&acks);
    assert_eq!(
        per_id.len(),
        N as usize,
        "distinct acknowledgement Message-IDs"
    );
    let mut ids_per_reference: BTreeMap<Reference, BTreeSet<String>> = BTreeMap::new();
    for ack in &acks {
        let reference =
            Reference::find(&ack.subject).context("acknowledgement without reference")?;
        let id = ack
            .message_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        ids_per_reference.entry(reference).or_default().insert(id);
    }
    assert_eq!(
        ids_per_reference.len(),
        N as usize,
        "distinct references acknowledged"
    );
    assert!(ids_per_reference.values().all(|ids| ids.len() == 1));

    let outbox: BTreeMap<String, i64> = app
        .outbox()
        .await?
        .into_iter()
        .map(|r| (r.message_id, r.attempts))
        .collect();
    let duplicated: Vec<(&String, &usize)> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    let duplicates: usize = duplicated.iter().map(|(_, n)| **n - 1).sum();
    eprintln!(
        "physical duplicate acknowledgements after {KILLS} kills: {duplicates} ({:?})",
        started.elapsed()
    );
    for (id, _) in &duplicated {
        let attempts = outbox.get(*id).copied().unwrap_or(0);
        assert!(
            attempts >= 2,
            "{id} arrived twice but its outbox row made {attempts} attempt(s)"
        );
    }
    app.stop().await
}

#[tokio::test]
async fn the_tls_paths_work_imaps_and_smtp_starttls_with_auth() -> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions {
        tls: true,
        ..SpawnOptions::default()
    })
    .await?;
    let id = new_message_id("tls");
    let raw = complaint_mail(KLAAS, "Via TLS", &id, "Versleuteld graag.");
    app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;

    let inbox = app
        .wait_for_parsed(KLAAS, "INBOX", ACK_WITHIN, |m| !m.is_empty())
        .await?;
    assert_eq!(inbox.len(), 1);
    assert!(
        inbox[0].subject.ends_with("Ontvangstbevestiging: Via TLS"),
        "{}",
        inbox[0].subject
    );
    assert_eq!(inbox[0].in_reply_to, vec![MessageId::parse(&id)?]);
    app.wait_for_parsed(SERVICE, "Processed", ACK_WITHIN, |m| m.len() == 1)
        .await?;
    assert_eq!(app.complaint_count().await?, 1);
    app.stop().await
}

#[tokio::test]
async fn the_other_tls_paths_work_imap_starttls_and_smtps_with_auth() -> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions {
        tls: true,
        starttls_imap: true,
        ..SpawnOptions::default()
    })
    .await?;
    assert!(
        app.settings
            .mailbox
            .as_ref()
            .is_some_and(|m| m.endpoint.security == klachtenbot::config::Security::StartTls)
    );
    assert!(
        app.settings
            .smtp
            .as_ref()
            .is_some_and(|s| s.endpoint.security == klachtenbot::config::Security::Tls)
    );
    let raw = complaint_mail(
        KLAAS,
        "Via STARTTLS",
        &new_message_id("starttls"),
        "Ook versleuteld.",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;
    let inbox = app
        .wait_for_parsed(KLAAS, "INBOX", ACK_WITHIN, |m| !m.is_empty())
        .await?;
    assert!(
        inbox[0]
            .subject
            .contains("Ontvangstbevestiging: Via STARTTLS")
    );
    app.stop().await
}

#[tokio::test]
async fn a_message_too_large_is_quarantined_unread_and_the_officer_is_told_once() -> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions {
        max_message_bytes: Some(20_000),
        ..SpawnOptions::default()
    })
    .await?;
    let big_id = new_message_id("big");
    let big = complaint_mail(KLAAS, "Heel groot", &big_id, &"x".repeat(40_000));
    let small = complaint_mail(
        KLAAS,
        "Gewoon",
        &new_message_id("small"),
        "Een gewone klacht.",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &big).await?;
    app.sandbox.deliver(KLAAS, &[SERVICE], &small).await?;
    // Fetching goes on: the small one is acknowledged.
    app.wait_for_parsed(KLAAS, "INBOX", ACK_WITHIN, |m| !m.is_empty())
        .await?;
    let quarantined = app
        .sandbox
        .wait_for(SERVICE, "Quarantine", ACK_WITHIN, |m| m.len() == 1)
        .await?;
    // The mail itself, untouched by us (Postfix and Dovecot added their trace headers).
    let kept = String::from_utf8_lossy(&quarantined[0]);
    assert!(
        kept.contains(&big_id) && kept.len() > big.len(),
        "the quarantined mail is the big one"
    );
    let notices = app
        .wait_for_parsed(OFFICER, "INBOX", ACK_WITHIN, |m| !m.is_empty())
        .await?;
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].subject.contains("quarantaine"),
        "{}",
        notices[0].subject
    );
    assert!(notices[0].text.contains("too large"));
    assert_eq!(app.complaint_count().await?, 1);
    app.stop().await
}
