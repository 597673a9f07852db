//! Durable before the mail leaves the inbox: the watcher moves a registered message out of
//! the inbox only after the durability barrier (one fsync of SQLite's WAL per batch) has
//! returned. Real Dovecot and Postfix, SQLite on disk, PostgreSQL for the barrier itself.

mod common;

use std::time::Duration;

use anyhow::{Result, ensure};
use common::sandbox::{SpawnOptions, TestApp, complaint_mail, new_message_id};
use common::{KLAAS, SERVICE};
use klachtenbot::app::Bot;
use klachtenbot::daemon;
use tokio_util::sync::CancellationToken;

const WITHIN: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_registered_message_stays_in_the_inbox_until_the_barrier_made_it_durable() -> Result<()> {
    let app = TestApp::prepare(SpawnOptions::default()).await?;
    let bot = Bot::open(app.settings.clone()).await?;
    // Hold the barrier: the watcher may register, but must not move.
    let pause = bot.store.pause_durability().await;
    let cancel = CancellationToken::new();
    let running = tokio::spawn(daemon::run_until_cancelled(bot.clone(), cancel.clone()));
    let raw = complaint_mail(
        KLAAS,
        "Levering",
        &new_message_id("durable"),
        "Niets ontvangen.",
    );
    app.sandbox.deliver(KLAAS, &[SERVICE], &raw).await?;

    app.until(
        "the watcher to wait at the barrier",
        WITHIN,
        || async { Ok(bot.store.durability_waiters()) },
        |waiting| *waiting == 1,
    )
    .await?;
    // Registered and committed (our own connection sees it), yet still in the inbox.
    assert_eq!(app.complaint_count().await?, 1);
    assert_eq!(app.sandbox.messages(SERVICE, "INBOX")?.len(), 1);
    assert!(app.sandbox.messages(SERVICE, "Processed")?.is_empty());
    assert_eq!(bot.store.durable_generation(), 0);

    drop(pause);
    app.sandbox
        .wait_for(SERVICE, "Processed", WITHIN, |m| m.len() == 1)
        .await?;
    app.sandbox
        .wait_for(SERVICE, "INBOX", WITHIN, <[_]>::is_empty)
        .await?;
    ensure!(
        bot.store.durable_generation() >= 1,
        "moved without a barrier"
    );
    app.sandbox
        .wait_for(KLAAS, "INBOX", WITHIN, |m| m.len() == 1)
        .await?;
    cancel.cancel();
    running.await??;
    Ok(())
}

#[tokio::test]
async fn the_barrier_runs_on_sqlite_and_postgresql() -> Result<()> {
    for backend in [common::Backend::Sqlite, common::Backend::Postgres] {
        let Some(t) = common::TestBot::on(backend, "").await else {
            continue;
        };
        let first = t.bot.store.make_durable().await?;
        let second = t.bot.store.make_durable().await?;
        assert_eq!((first.generation, second.generation), (1, 2), "{backend:?}");
    }
    Ok(())
}

#[tokio::test]
async fn callers_that_queue_behind_a_barrier_share_the_next_one() -> Result<()> {
    let Some(t) = common::TestBot::on(common::Backend::Sqlite, "").await else {
        return Ok(());
    };
    let store = t.bot.store.clone();
    let pause = store.pause_durability().await;
    let callers: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.make_durable().await })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + WITHIN;
    while store.durability_waiters() < 3 {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the callers never queued"
        );
        tokio::task::yield_now().await;
    }
    drop(pause);
    for caller in callers {
        assert_eq!(caller.await??.generation, 1);
    }
    // One fsync covered all three; a caller arriving after it gets one of its own.
    assert_eq!(store.durable_generation(), 1);
    assert_eq!(store.make_durable().await?.generation, 2);
    Ok(())
}
