//! Several instances on the real mail sandbox: how fast the built binary drains a backlog on
//! SQLite and on PostgreSQL, and how soon a standby takes over after the active instance is
//! killed with SIGKILL. Prints its figures.
//!
//! `cargo bench --bench instances` (as root: Postfix needs it; PostgreSQL at 127.0.0.1:5432,
//! as for the tests). `KB_BENCH_TAKEOVER_ONLY=1` skips the drain.
//!
//! Drain: 200 complaints put into the inbox before the bot starts; the clock runs from the
//! start of `klachtenbot run` (start-up included) until all are registered. Takeover: two
//! instances on one PostgreSQL register; ten times the active one is killed, the time until
//! another running instance says it is active is taken, and a fresh standby is started.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use anyhow::Context;
use common::instances::{ExtraBot, actives, backlog, live_instances, pid_of, prepare};
use common::postgres::PostgresDatabase;
use common::sandbox::{SpawnOptions, TestApp};

/// Complaints in the drained backlog.
const BACKLOG: usize = 200;
/// Kills of the active instance.
const KILLS: usize = 10;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    // `cargo test --all-targets` also runs bench binaries; only `cargo bench` passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("instances benchmark: run with `cargo bench --bench instances`");
        return Ok(());
    }
    if std::env::var("KB_BENCH_TAKEOVER_ONLY").is_err() {
        let db = postgres().await?;
        drain("sqlite", None).await?;
        drain("postgres", Some(db.url().to_owned())).await?;
    }
    takeover().await
}

/// A fresh PostgreSQL database; this benchmark has no figures without one.
async fn postgres() -> anyhow::Result<PostgresDatabase> {
    PostgresDatabase::create()
        .await
        .context("KLACHTENBOT_SKIP_POSTGRES=1, but this benchmark needs PostgreSQL")
}

/// Times the built binary draining a backlog from its start.
async fn drain(label: &str, database_url: Option<String>) -> anyhow::Result<()> {
    let mut app = TestApp::prepare(SpawnOptions {
        binary: true,
        database_url,
        ..SpawnOptions::default()
    })
    .await?;
    backlog(&app, BACKLOG, label).await?;
    let started = Instant::now();
    app.start()?;
    app.until(
        "the backlog registered",
        Duration::from_secs(120),
        || app.complaint_count(),
        |n| *n == BACKLOG as i64,
    )
    .await?;
    let took = started.elapsed();
    println!(
        "drain {label}: {BACKLOG} messages in {took:?} = {:.1} msg/s (incl. start-up)",
        BACKLOG as f64 / took.as_secs_f64()
    );
    app.stop().await
}

/// Kills the active instance `KILLS` times and prints how soon another one took over.
async fn takeover() -> anyhow::Result<()> {
    let db = postgres().await?;
    let app = prepare(&db).await?;
    let mut procs = vec![ExtraBot::start(&app, "a")?, ExtraBot::start(&app, "b")?];
    let mut times = Vec::new();
    for kill in 0..KILLS {
        let (took, next) = kill_the_active_one(&app, &mut procs).await?;
        times.push(took);
        println!("kill {kill}: takeover after {took:?} by {next:?}");
        let fresh = ExtraBot::start(&app, &format!("k{kill}"))?;
        let fresh_pid = fresh.0.id();
        procs.push(fresh);
        app.until(
            "the new standby",
            Duration::from_secs(15),
            || live_instances(&app),
            |l| l.iter().any(|(id, _)| pid_of(id) == Some(fresh_pid)),
        )
        .await?;
    }
    times.sort();
    println!(
        "takeover over {KILLS} kills: min {:?}, median {:?}, max {:?}",
        times[0],
        times[KILLS / 2],
        times[KILLS - 1]
    );
    Ok(())
}

/// Kills the running process that holds the watcher and waits until another running one
/// says it is active; returns the time that took and the active ids then.
async fn kill_the_active_one(
    app: &TestApp,
    procs: &mut Vec<ExtraBot>,
) -> anyhow::Result<(Duration, Vec<String>)> {
    // The one active instance among the running processes (not a killed one's row).
    let pids: Vec<u32> = procs.iter().map(|p| p.0.id()).collect();
    let ours = |id: &String| pid_of(id).is_some_and(|p| pids.contains(&p));
    let holder = app
        .until(
            "an active instance",
            Duration::from_secs(20),
            || actives(app),
            |a| a.iter().any(ours),
        )
        .await?
        .into_iter()
        .find(ours)
        .context("active")?;
    let pid = pid_of(&holder).context("pid in id")?;
    let at = procs
        .iter()
        .position(|p| p.0.id() == pid)
        .context("holder is ours")?;
    let mut dead = procs.remove(at);
    let _ = dead.0.kill();
    let killed = Instant::now();
    let _ = dead.0.wait();
    // Rows of killed instances still look live for 5 s: count only running processes.
    let running: Vec<u32> = procs.iter().map(|p| p.0.id()).collect();
    let next = app
        .until(
            "a takeover",
            Duration::from_secs(15),
            || actives(app),
            |a| {
                a.iter()
                    .any(|id| *id != holder && pid_of(id).is_some_and(|p| running.contains(&p)))
            },
        )
        .await?;
    Ok((killed.elapsed(), next))
}
