//! Several instances on one register: heartbeats, outbox claims owned by instances and taken
//! back when their instance dies or restarts (on SQLite on disk and on PostgreSQL), and the
//! watcher lock (PostgreSQL: one holder, freed when its session ends).

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestBot, TestMail};
use jiff::{SignedDuration, Timestamp};
use klachtenbot::clock::Clock;
use klachtenbot::instance::lock::WatchLock;
use klachtenbot::instance::{Identity, store};
use klachtenbot::store::outbox;
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                if let Some(t) = TestBot::on(Backend::Sqlite, "").await {
                    super::$name(t).await;
                }
            }

            #[tokio::test]
            async fn on_postgres() {
                if let Some(t) = TestBot::on(Backend::Postgres, "").await {
                    super::$name(t).await;
                }
            }
        }
    )*};
}

on_both_backends!(
    the_claims_of_an_instance_whose_heartbeat_stopped_are_taken_back,
    the_claims_of_a_live_instance_and_of_unknown_claimants_stay,
    a_restarted_instance_takes_back_its_own_claims_at_once,
    status_lists_live_instances_with_their_role,
);

/// An identity as another process would have it.
fn other(name: Option<&str>, pid: u32) -> Identity {
    let mut me = Identity::of_this_process(name);
    me.pid = pid;
    me.id = format!(
        "{}/{pid}/{}",
        name.unwrap_or(&me.host),
        rand::random::<u32>()
    );
    me
}

/// Registers one complaint and claims its acknowledgement for `by`; returns the row id.
async fn claimed_acknowledgement(t: &TestBot, by: &str) -> i64 {
    let mail = TestMail::new("klaas@klant.example", "Examen kwijt", "x1@klant.example");
    t.register(&mail).await;
    let row = t.acknowledgements().await.remove(0);
    let now = t.clock.now();
    let mut conn = t.bot.store.pool().acquire().await.expect("conn");
    let lease = now + SignedDuration::from_mins(5);
    assert!(
        outbox::claim_attempt(&mut conn, row.id, now, lease, by)
            .await
            .expect("claim")
    );
    row.id
}

async fn due_now(t: &TestBot) -> usize {
    let mut conn = t.bot.store.pool().acquire().await.expect("conn");
    outbox::due(&mut conn, t.clock.now(), 10)
        .await
        .expect("due")
        .len()
}

async fn the_claims_of_an_instance_whose_heartbeat_stopped_are_taken_back(t: TestBot) {
    let backend = t.bot.store.backend();
    let dead = other(None, 999_999);
    let mut conn = t.bot.store.pool().acquire().await.expect("conn");
    store::register(&mut conn, backend, &dead)
        .await
        .expect("register");
    drop(conn);
    claimed_acknowledgement(&t, &dead.id).await;
    assert_eq!(due_now(&t).await, 0, "claimed, so not due");
    let mut conn = t.bot.store.pool().acquire().await.expect("conn");
    // Its last heartbeat ten seconds ago.
    sqlx::query("UPDATE instances SET last_seen = last_seen - 10 WHERE id = $1")
        .bind(&dead.id)
        .execute(&mut *conn)
        .await
        .expect("age the heartbeat");
    let released = store::release_dead_claims(&mut conn, backend, t.clock.now())
        .await
        .expect("release");
    drop(conn);
    assert_eq!(released, 1);
    assert_eq!(
        due_now(&t).await,
        1,
        "due again at once, not after the lease"
    );
}

async fn the_claims_of_a_live_instance_and_of_unknown_claimants_stay(t: TestBot) {
    let backend = t.bot.store.backend();
    let alive = other(None, 999_998);
    let mut conn = t.bot.store.pool().acquire().await.expect("conn");
    store::register(&mut conn, backend, &alive)
        .await
        .expect("register");
    drop(conn);
    claimed_acknowledgement(&t, &alive.id).await;
    let second = TestMail::new("piet@klant.example", "Factuur fout", "x2@klant.example");
    t.register(&second).await;
    let row = t.acknowledgements().await.remove(1);
    let mut conn = t.bot.store.pool().acquire().await.expect("conn");
    let now = t.clock.now();
    let lease = now + SignedDuration::from_mins(5);
    assert!(
        outbox::claim_attempt(&mut conn, row.id, now, lease, "a one-off command")
            .await
            .expect("claim")
    );
    let released = store::release_dead_claims(&mut conn, backend, now)
        .await
        .expect("release");
    drop(conn);
    assert_eq!(
        released, 0,
        "a live claimant and an unknown one keep their claims"
    );
    assert_eq!(due_now(&t).await, 0);
}

async fn a_restarted_instance_takes_back_its_own_claims_at_once(t: TestBot) {
    let backend = t.bot.store.backend();
    let before = other(Some("kb-a"), 999_997);
    let mut conn = t.bot.store.pool().acquire().await.expect("conn");
    store::register(&mut conn, backend, &before)
        .await
        .expect("register");
    drop(conn);
    claimed_acknowledgement(&t, &before.id).await;
    // The same instance starts again (its heartbeat is fresh: it died a moment ago).
    let after = other(Some("kb-a"), 999_996);
    let mut conn = t.bot.store.pool().acquire().await.expect("conn");
    store::register(&mut conn, backend, &after)
        .await
        .expect("register");
    let retired = store::retire_predecessors(&mut conn, backend, &after)
        .await
        .expect("retire");
    assert_eq!(retired, 1);
    let released = store::release_dead_claims(&mut conn, backend, t.clock.now())
        .await
        .expect("release");
    drop(conn);
    assert_eq!(released, 1);
    assert_eq!(due_now(&t).await, 1);
}

async fn status_lists_live_instances_with_their_role(t: TestBot) {
    use klachtenbot::instance::Role;
    let backend = t.bot.store.backend();
    let me = &t.bot.instance;
    let mut conn = t.bot.store.pool().acquire().await.expect("conn");
    store::register(&mut conn, backend, me)
        .await
        .expect("register");
    store::heartbeat(&mut conn, backend, me, Role::Active)
        .await
        .expect("beat");
    let listed = store::list(&mut conn, backend).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, me.id);
    assert_eq!(listed[0].role, "active");
    assert_eq!(i64::from(std::process::id()), listed[0].pid);
    assert!(listed[0].alive);
    assert!(listed[0].last_seen >= Timestamp::now() - SignedDuration::from_secs(5));
    store::stop(&mut conn, backend, &me.id).await.expect("stop");
    assert!(
        store::list(&mut conn, backend)
            .await
            .expect("list")
            .is_empty()
    );
}

/// Two instances on one PostgreSQL database: one holds the watcher lock, the other waits;
/// when the holder's session ends (its process died) the other has the lock within seconds.
#[tokio::test]
async fn one_instance_holds_the_watcher_lock_and_another_takes_it_when_the_session_ends() {
    let Some(t) = TestBot::postgres("").await else {
        return;
    };
    let cancel = CancellationToken::new();
    let mut first = WatchLock::new(&t.bot.settings).expect("lock");
    let mut second = WatchLock::new(&t.bot.settings).expect("lock");
    assert!(first.acquire(&cancel).await);
    let waiting = CancellationToken::new();
    let stop_waiting = waiting.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop_waiting.cancel();
    });
    assert!(!second.acquire(&waiting).await, "two holders at once");

    // The holder's session is killed, as when its process dies.
    let mut admin = sqlx::PgConnection::connect(&t.bot.settings.database_url)
        .await
        .expect("admin connection");
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'klachtenbot watcher lock' AND datname = current_database()",
    )
    .execute(&mut admin)
    .await
    .expect("terminate the holder's session");
    let started = Instant::now();
    assert!(second.acquire(&cancel).await);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        first.hold(&cancel).await,
        "the first notices it lost the lock"
    );
    second.release().await;
}

/// `klachtenbot status --json` as a tool reads it: an `instances` array and the watcher.
#[tokio::test]
async fn status_json_lists_the_instances_and_the_watcher() {
    use klachtenbot::instance::Role;
    let t = TestBot::sqlite("").await;
    let backend = t.bot.store.backend();
    let me = &t.bot.instance;
    let mut conn = t.bot.store.pool().acquire().await.expect("conn");
    store::register(&mut conn, backend, me)
        .await
        .expect("register");
    store::heartbeat(&mut conn, backend, me, Role::Active)
        .await
        .expect("beat");
    drop(conn);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("klachtenbot.toml");
    let toml = common::test_toml(&t.bot.settings.database_url, "");
    std::fs::write(&config, toml).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_klachtenbot"))
        .arg("--config")
        .arg(&config)
        .args(["status", "--json"])
        .env_remove("KLACHTENBOT_CONFIG")
        .output()
        .expect("run status");
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let first = &json["instances"][0];
    assert_eq!(first["id"], me.id.as_str());
    assert_eq!(first["host"], me.host.as_str());
    assert_eq!(first["pid"], i64::from(me.pid));
    assert_eq!(first["role"], "active");
    assert!(first["last_seen"].is_string());
    assert_eq!(json["watcher"], me.id.as_str());
}
