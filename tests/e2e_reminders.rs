//! Reminders end to end on the real mail sandbox (Dovecot + Postfix on loopback), with
//! deadlines configured in seconds: what arrives in the officer's and the assignee's
//! mailboxes, and that a restart between two reminders sends none twice. Every wait has a
//! deadline.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use common::sandbox::{SpawnOptions, TestApp, complaint_mail, new_message_id};
use common::{KLAAS, MARIE, OFFICER, SERVICE};
use jiff::Timestamp;
use klachtenbot::domain::{EmailAddress, Reference};
use klachtenbot::intake::parse::parse;
use klachtenbot::procedure::{self, Event};
use klachtenbot::scheduler;
use klachtenbot::store::complaints::{self, ListFilter};

/// The assignee, a staff member with a mailbox in the sandbox.
const ASSIGNEE: &str = "jan@concreet.test";
/// Acknowledgements arrive within this time.
const ACK_WITHIN: Duration = Duration::from_secs(15);
/// A reminder due in a few seconds arrives within this time.
const REMINDER_WITHIN: Duration = Duration::from_secs(40);

const EXPLAIN_BEFORE: &str = "Herinnering: nadere uitleg";
const EXPLAIN_OVERDUE: &str = "Termijn verstreken: nadere uitleg";
const SOLVE_BEFORE: &str = "Herinnering: oplossing";
const SOLVE_OVERDUE: &str = "Termijn verstreken: oplossing";

/// The sandbox and the bot with `extra` appended to the test configuration.
async fn spawn_with(extra: &str, binary: bool) -> Result<TestApp> {
    TestApp::spawn(SpawnOptions {
        extra_users: vec![ASSIGNEE.into()],
        binary,
        extra_toml: extra.into(),
        ..SpawnOptions::default()
    })
    .await
}

/// Subjects of the raw messages.
fn subjects(raw: &[Vec<u8>]) -> Vec<String> {
    raw.iter()
        .filter_map(|m| parse(m).map(|p| p.subject))
        .collect()
}

/// How many messages are about complaint `r` and have `what` in the subject.
fn count(raw: &[Vec<u8>], r: Reference, what: &str) -> usize {
    let tag = format!("[{r}]");
    subjects(raw)
        .iter()
        .filter(|s| s.starts_with(&tag) && s.contains(what))
        .count()
}

/// Registers a complaint from `from` through the real mailbox and waits for its
/// acknowledgement; returns its reference.
async fn complaint_from(app: &TestApp, from: &str, subject: &str) -> Result<Reference> {
    let raw = complaint_mail(
        from,
        subject,
        &new_message_id("reminder"),
        "Het pakket kwam niet.",
    );
    app.sandbox.deliver(from, &[SERVICE], &raw).await?;
    let inbox = app
        .wait_for_parsed(from, "INBOX", ACK_WITHIN, |m| !m.is_empty())
        .await?;
    let subject = &inbox[0].subject;
    let reference = subject
        .get(
            1..subject
                .find(']')
                .context("no reference in the acknowledgement")?,
        )
        .context("no reference")?;
    Ok(Reference::parse(reference)?)
}

/// Applies a procedure event as a command would, on the bot's database.
async fn apply(app: &TestApp, r: Reference, event: Event) -> Result<()> {
    let mut conn = app.store.pool().acquire().await?;
    let stored = complaints::load(&mut conn, r)
        .await?
        .with_context(|| format!("no complaint {r}"))?;
    let now = Timestamp::now();
    let (c, _) = procedure::apply(&stored.complaint, &event, now)?;
    complaints::update(&mut conn, stored.id, &c, now).await?;
    Ok(())
}

/// Waits until `folder` of `address` has a message about `r` with `what` in its subject.
async fn arrives(app: &TestApp, address: &str, r: Reference, what: &str) -> Result<()> {
    app.sandbox
        .wait_for(address, "INBOX", REMINDER_WITHIN, |raw| {
            count(raw, r, what) >= 1
        })
        .await
        .with_context(|| {
            format!(
                "no '{what}' for {r} reached {address}\n{}",
                app.diagnostics()
            )
        })?;
    Ok(())
}

/// Every message of a mailbox has its own Message-ID: nothing arrived twice.
fn no_duplicates(app: &TestApp, address: &str) -> Result<()> {
    let raw = app.sandbox.messages(address, "INBOX")?;
    let ids: BTreeSet<_> = raw
        .iter()
        .filter_map(|m| parse(m)?.message_id.map(|id| id.to_string()))
        .collect();
    ensure!(
        ids.len() == raw.len(),
        "{address} got {} mails with {} distinct Message-IDs: {:?}",
        raw.len(),
        ids.len(),
        subjects(&raw)
    );
    Ok(())
}

#[tokio::test]
async fn the_officer_gets_the_explanation_reminder_then_the_overdue_notice_each_once_across_a_restart()
-> Result<()> {
    let mut app = spawn_with(
        r#"
[deadlines]
explain = "12s"
solve = "1h"

[reminders]
explain_before = "6s"
solve_before = "10m"
unassigned_after = "1h"
overdue_repeat = "1h"
"#,
        false,
    )
    .await?;
    let klaas = complaint_from(&app, KLAAS, "Boek kapot").await?;
    let marie = complaint_from(&app, MARIE, "Factuur dubbel").await?;
    // Marie's explanation goes out at once: she must never be the subject of a reminder.
    apply(
        &app,
        marie,
        Event::ExplanationSent(Some("Wij zoeken het uit.".into())),
    )
    .await?;
    // The daemon runs in this process: no need to wait for its change poll.
    scheduler::wake();

    arrives(&app, OFFICER, klaas, EXPLAIN_BEFORE).await?;
    // Restart between the two reminders.
    app.stop().await?;
    app.start()?;
    arrives(&app, OFFICER, klaas, EXPLAIN_OVERDUE).await?;

    // Past Marie's explain deadline too, with everything sent and delivered.
    let explain_by = {
        let mut conn = app.store.pool().acquire().await?;
        let c = complaints::load(&mut conn, marie)
            .await?
            .context("Marie's complaint")?;
        c.complaint.deadlines.explain_by
    };
    app.until(
        "Marie's explain deadline passed by 3 s",
        REMINDER_WITHIN,
        || async { Ok(Timestamp::now()) },
        |now| now.duration_since(explain_by).as_secs() >= 3,
    )
    .await?;
    app.wait_until_sender_idle(ACK_WITHIN).await?;

    let officer = app.sandbox.messages(OFFICER, "INBOX")?;
    ensure!(
        count(&officer, klaas, EXPLAIN_BEFORE) == 1,
        "{:?}",
        subjects(&officer)
    );
    ensure!(
        count(&officer, klaas, EXPLAIN_OVERDUE) == 1,
        "{:?}",
        subjects(&officer)
    );
    ensure!(
        count(&officer, marie, "nadere uitleg") == 0,
        "{:?}",
        subjects(&officer)
    );
    no_duplicates(&app, OFFICER)?;
    let open = {
        let mut conn = app.store.pool().acquire().await?;
        complaints::list(&mut conn, ListFilter::default())
            .await?
            .len()
    };
    ensure!(open == 2, "{open} complaints");
    app.stop().await
}

#[tokio::test]
async fn the_assignee_gets_the_solve_reminder_then_assignee_and_officer_the_overdue_notice()
-> Result<()> {
    // The built binary: `klachtenbot run` itself runs the scheduler.
    let mut app = spawn_with(
        r#"
[deadlines]
explain = "1h"
solve = "20s"

[reminders]
explain_before = "10m"
solve_before = "10s"
unassigned_after = "1h"
overdue_repeat = "1h"
"#,
        true,
    )
    .await?;
    let r = complaint_from(&app, KLAAS, "Verkeerd examen").await?;
    apply(&app, r, Event::Assigned(EmailAddress::parse(ASSIGNEE)?)).await?;

    arrives(&app, ASSIGNEE, r, SOLVE_BEFORE).await?;
    app.stop().await?;
    app.start()?;
    arrives(&app, ASSIGNEE, r, SOLVE_OVERDUE).await?;
    arrives(&app, OFFICER, r, SOLVE_OVERDUE).await?;
    app.wait_until_sender_idle(ACK_WITHIN).await?;

    let assignee = app.sandbox.messages(ASSIGNEE, "INBOX")?;
    ensure!(
        count(&assignee, r, SOLVE_BEFORE) == 1,
        "{:?}",
        subjects(&assignee)
    );
    ensure!(
        count(&assignee, r, SOLVE_OVERDUE) == 1,
        "{:?}",
        subjects(&assignee)
    );
    let officer = app.sandbox.messages(OFFICER, "INBOX")?;
    ensure!(
        count(&officer, r, SOLVE_BEFORE) == 0,
        "{:?}",
        subjects(&officer)
    );
    ensure!(
        count(&officer, r, SOLVE_OVERDUE) == 1,
        "{:?}",
        subjects(&officer)
    );
    no_duplicates(&app, ASSIGNEE)?;
    no_duplicates(&app, OFFICER)?;
    app.stop().await
}
