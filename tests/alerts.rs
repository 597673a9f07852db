//! Outage alerts on a real register (SQLite on disk and PostgreSQL), with a hand-moved
//! clock: one alert per outage, kept across a restart, and one recovery mail with the whole
//! duration; one alert for a burst of failed mails.

mod common;

use std::sync::Arc;

use common::{Backend, TestBot};
use jiff::SignedDuration;
use klachtenbot::app::Bot;
use klachtenbot::clock::Clock;
use klachtenbot::instance::Role;
use klachtenbot::ops::{Part, alerts};
use sqlx::Row;

const EXTRA: &str =
    "[alerts]\nafter = \"10m\"\nto = [\"beheer@concreet.test\"]\nfailed_per_hour = 2\n";

/// (kind, recipients, subject, body) of every queued alert mail.
async fn alert_mails(bot: &Bot) -> Vec<(String, String, String, String)> {
    sqlx::query(
        "SELECT kind, recipients, subject, body FROM outbox WHERE kind LIKE 'alert%' ORDER BY id",
    )
    .fetch_all(bot.store.pool())
    .await
    .expect("read the outbox")
    .iter()
    .map(|r| {
        (
            r.get::<String, _>("kind"),
            r.get::<String, _>("recipients"),
            r.get::<String, _>("subject"),
            r.get::<String, _>("body"),
        )
    })
    .collect()
}

async fn one_alert_per_outage_across_a_restart(t: TestBot) {
    let minutes = |m| SignedDuration::from_mins(m);
    let error = "NO [AUTHENTICATIONFAILED] Authentication failed.";
    // Only the instance that holds the watcher lock watches the mailbox (a standby's IMAP is
    // not in use and never alerts).
    t.bot.role.set(Role::Active);
    t.bot.health.failed(Part::Imap, error, t.clock.now());
    alerts::check(&t.bot).await.unwrap();
    t.clock.advance(minutes(9));
    alerts::check(&t.bot).await.unwrap();
    assert!(
        alert_mails(&t.bot).await.is_empty(),
        "alert before [alerts] after"
    );

    t.clock.advance(minutes(2));
    alerts::check(&t.bot).await.unwrap();
    alerts::check(&t.bot).await.unwrap();
    let mails = alert_mails(&t.bot).await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let (kind, to, subject, body) = &mails[0];
    assert_eq!(kind, "alert");
    assert_eq!(to, "functionaris@concreet.test,beheer@concreet.test");
    assert!(
        subject.contains("de mailbox (IMAP) werkt niet sinds"),
        "{subject}"
    );
    assert!(body.contains(error), "{body}");
    assert!(body.contains("wachtwoord van de mailbox"), "{body}");

    // A restart: a new bot on the same register, whose watcher fails again from scratch.
    let settings = (*t.bot.settings).clone();
    let restarted = Bot::open_with_clock(settings, Arc::new(t.clock.clone()))
        .await
        .unwrap();
    restarted.role.set(Role::Active);
    restarted.health.failed(Part::Imap, error, t.clock.now());
    t.clock.advance(minutes(30));
    alerts::check(&restarted).await.unwrap();
    assert_eq!(
        alert_mails(&restarted).await.len(),
        1,
        "the restart repeated the alert"
    );

    restarted.health.ok(Part::Imap, t.clock.now());
    alerts::check(&restarted).await.unwrap();
    alerts::check(&restarted).await.unwrap();
    let mails = alert_mails(&restarted).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let (kind, _, subject, body) = &mails[1];
    assert_eq!(kind, "alert_recovered");
    // 9 + 2 + 30 minutes since the first failure, across the restart.
    assert!(subject.contains("storing van 41 min 00 s"), "{subject}");
    assert!(body.contains("duurde 41 min 00 s"), "{body}");
}

async fn a_burst_of_failed_mails_raises_one_alert(t: TestBot) {
    for _ in 0..2 {
        t.bot.health.mail_failed(t.clock.now());
    }
    alerts::check(&t.bot).await.unwrap();
    assert!(alert_mails(&t.bot).await.is_empty(), "2 is not more than 2");
    for _ in 0..3 {
        t.bot.health.mail_failed(t.clock.now());
        alerts::check(&t.bot).await.unwrap();
    }
    let mails = alert_mails(&t.bot).await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(
        mails[0]
            .2
            .contains("3 mails niet afgeleverd binnen een uur"),
        "{}",
        mails[0].2
    );
}

macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                if let Some(t) = TestBot::on(Backend::Sqlite, EXTRA).await {
                    super::$name(t).await;
                }
            }

            #[tokio::test]
            async fn on_postgres() {
                if let Some(t) = TestBot::on(Backend::Postgres, EXTRA).await {
                    super::$name(t).await;
                }
            }
        }
    };
}

on_both!(one_alert_per_outage_across_a_restart);
on_both!(a_burst_of_failed_mails_raises_one_alert);
