//! End to end on the mail sandbox: mail sent on a person's behalf reaches that person, mail
//! written by machines gets nothing, and an autoresponder quoting our acknowledgement joins
//! its complaint. Real Dovecot and Postfix; every wait has a deadline.

mod common;

use std::time::Duration;

use anyhow::Result;
use common::sandbox::{SpawnOptions, TestApp, complaint_mail, mail, new_message_id};
use common::{KLAAS, MARIE, SERVICE, base64};

const WITHIN: Duration = Duration::from_secs(20);
const ACK_PREFIX: &str = "Ontvangstbevestiging: ";

/// The website's sending address: a real mailbox here, so the test can see that nothing
/// is sent to it.
const WEBSITE: &str = "noreply@klant.test";

fn options() -> SpawnOptions {
    SpawnOptions {
        extra_users: vec![WEBSITE.to_string()],
        ..SpawnOptions::default()
    }
}

#[tokio::test]
async fn a_contact_form_mail_from_a_noreply_address_is_acknowledged_to_the_person_in_reply_to()
-> Result<()> {
    let mut app = TestApp::spawn(options()).await?;
    let id = new_message_id("form");
    let reply_to = format!("Reply-To: Marie de Klant <{MARIE}>");
    let raw = mail(
        &format!("Website <{WEBSITE}>"),
        "Contactformulier: klacht",
        &id,
        &[&reply_to],
        "Naam: Marie de Klant\nE-mail: marie@klant.test\nBericht:\nMijn boek kwam beschadigd aan.",
    );
    app.sandbox.deliver(WEBSITE, &[SERVICE], &raw).await?;

    let inbox = app
        .wait_for_parsed(MARIE, "INBOX", WITHIN, |m| !m.is_empty())
        .await?;
    assert_eq!(inbox.len(), 1);
    assert!(
        inbox[0].subject.contains(ACK_PREFIX),
        "{}",
        inbox[0].subject
    );
    assert!(inbox[0].subject.contains("Contactformulier: klacht"));
    app.wait_until_sender_idle(WITHIN).await?;
    assert!(
        app.parsed(WEBSITE, "INBOX")?.is_empty(),
        "the no-reply address got mail"
    );
    assert_eq!(app.complaint_count().await?, 1);
    app.stop().await
}

#[tokio::test]
async fn a_groupwise_bounce_and_a_dutch_onbestelbaar_bounce_get_nothing() -> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions::default()).await?;
    // GroupWise writes no DSN: a person-like sender, "Undeliverable:" and its own wording.
    let groupwise = mail(
        &format!("System Administrator <{KLAAS}>"),
        "Undeliverable: Boek kapot",
        &new_message_id("gw"),
        &[],
        "The message that you sent was undeliverable to the following:\n\tjan@klant.test (user not found)\n\nPossible alternatives:\n\tjan.jansen@klant.test",
    );
    // Exchange in Dutch, also without a DSN part.
    let dutch = mail(
        &format!("Microsoft Outlook <{MARIE}>"),
        "Onbestelbaar: Boek kapot",
        &new_message_id("nl"),
        &[],
        "Uw bericht heeft sommige of alle geadresseerden niet bereikt.\n\nOnderwerp: Boek kapot\nVerzonden: 2-3-2026 10:00\n\nHet volgende adres is onbekend: piet@klant.test",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &groupwise).await?;
    app.sandbox.deliver(MARIE, &[SERVICE], &dutch).await?;

    let kinds = app
        .until(
            "both mails processed",
            WITHIN,
            || app.message_kinds(),
            |k| k.len() == 2 && k.iter().all(|k| k != "pending"),
        )
        .await?;
    assert_eq!(kinds, ["automated:bounce", "automated:bounce"]);
    app.wait_until_sender_idle(WITHIN).await?;
    assert!(app.outbox().await?.is_empty(), "{:?}", app.outbox().await?);
    assert!(app.parsed(KLAAS, "INBOX")?.is_empty());
    assert!(app.parsed(MARIE, "INBOX")?.is_empty());
    assert_eq!(app.complaint_count().await?, 0);
    app.stop().await
}

#[tokio::test]
async fn an_autoresponder_quoting_our_acknowledgement_joins_that_complaint() -> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions::default()).await?;
    let raw = complaint_mail(
        KLAAS,
        "Boek kapot",
        &new_message_id("c"),
        "Het boek is kapot.",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;
    let inbox = app
        .wait_for_parsed(KLAAS, "INBOX", WITHIN, |m| m.len() == 1)
        .await?;
    let ack_text: String = inbox[0].text.lines().map(|l| format!("> {l}\n")).collect();
    // No In-Reply-To, no References, no reference in the subject, no Auto-Submitted: only
    // the quote of our mail ties it to the complaint.
    let autoreply = complaint_mail(
        KLAAS,
        "Afwezig",
        &new_message_id("ooo"),
        &format!("Ik ben afwezig tot maandag.\n\nOp 2 maart schreef klantenservice:\n{ack_text}"),
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &autoreply).await?;
    app.until(
        "the autoreply processed",
        WITHIN,
        || app.message_kinds(),
        |k| k.len() == 2 && k[1] != "pending",
    )
    .await?;
    assert_eq!(app.message_kinds().await?, ["new_complaint", "follow_up"]);
    assert_eq!(app.complaint_count().await?, 1);
    app.wait_until_sender_idle(WITHIN).await?;
    assert_eq!(
        app.parsed(KLAAS, "INBOX")?.len(),
        1,
        "a second acknowledgement was sent"
    );
    app.stop().await
}

#[tokio::test]
async fn a_winmail_dat_attachment_is_unpacked_and_listed_by_show() -> Result<()> {
    let mut app = TestApp::spawn(SpawnOptions::default()).await?;
    let tnef = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tnef/one-file.tnef"),
    )?;
    let encoded = base64(&tnef);
    let wrapped: String = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", String::from_utf8_lossy(c)))
        .collect();
    let date = jiff::fmt::rfc2822::to_string(&jiff::Zoned::now())?;
    let raw = format!(
        "From: {KLAAS}\r\nTo: {SERVICE}\r\nSubject: Foto van het kapotte boek\r\nMessage-ID: <{}>\r\nDate: {date}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nZie de bijlage.\r\n--b1\r\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\r\nContent-Disposition: attachment; filename=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{wrapped}--b1--\r\n",
        new_message_id("tnef")
    );
    app.sandbox
        .deliver(KLAAS, &[SERVICE], raw.as_bytes())
        .await?;
    let inbox = app
        .wait_for_parsed(KLAAS, "INBOX", WITHIN, |m| !m.is_empty())
        .await?;
    let reference = klachtenbot::domain::Reference::find(&inbox[0].subject)
        .ok_or_else(|| anyhow::anyhow!("no reference in {}", inbox[0].subject))?;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_klachtenbot"))
        .arg("--config")
        .arg(&app.config_path)
        .args(["show", &reference.to_string()])
        .env("RUST_LOG", "warn")
        .output()?;
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{shown}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        shown.contains("AUTHORS"),
        "the unpacked attachment is not listed:\n{shown}"
    );
    assert!(!shown.contains("winmail.dat"), "{shown}");
    app.stop().await
}
