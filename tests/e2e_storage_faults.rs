//! `klachtenbot run` on the mail sandbox while the register fails for real: its tmpfs filled
//! by another process, below the `min_free` floor, and its PostgreSQL server stopped and
//! started again. What must hold: no mail leaves the inbox unregistered; once the fault
//! clears, every mail is registered and acknowledged exactly once, with nobody's help.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use common::faults::{Ext4Image, OwnPostgres, Tmpfs};
use common::sandbox::{SpawnOptions, TestApp, complaint_mail, new_message_id, parse_all};
use common::{KLAAS, OFFICER, SERVICE};

const ACK_PREFIX: &str = "Ontvangstbevestiging: ";
const WITHIN: Duration = Duration::from_secs(40);

/// Puts `n` complaints from Klaas into the service inbox.
async fn backlog(app: &TestApp, tag: &str, n: usize) -> Result<()> {
    for i in 0..n {
        let raw = complaint_mail(
            KLAAS,
            &format!("Klacht {tag} {i}"),
            &new_message_id(tag),
            "Mijn pakket is niet aangekomen.",
        );
        app.sandbox.append(SERVICE, "INBOX", &raw).await?;
    }
    Ok(())
}

/// Waits until the bot's log contains `needle`.
async fn log_says(app: &TestApp, needle: &str) -> Result<()> {
    log_says_one_of(app, &[needle]).await
}

/// Waits until the bot's log has a line with one of `needles`.
async fn log_says_one_of(app: &TestApp, needles: &[&str]) -> Result<()> {
    let deadline = Instant::now() + WITHIN;
    loop {
        let log = std::fs::read_to_string(app.bot_log_path()).unwrap_or_default();
        if let Some(line) = log.lines().find(|l| needles.iter().any(|n| l.contains(n))) {
            eprintln!("log: {line}");
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "the log never said one of {needles:?}\n{}",
                app.diagnostics()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Acknowledgements in Klaas's inbox, counted per acknowledged subject.
fn acks(app: &TestApp) -> Result<BTreeMap<String, usize>> {
    let mut counts = BTreeMap::new();
    for m in app.parsed(KLAAS, "INBOX")? {
        if m.subject.contains(ACK_PREFIX) {
            *counts.entry(m.subject.clone()).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// Inbox and Processed folder sizes of the service mailbox.
fn folders(app: &TestApp) -> Result<(usize, usize)> {
    Ok((
        app.sandbox.messages(SERVICE, "INBOX")?.len(),
        app.sandbox.messages(SERVICE, "Processed")?.len(),
    ))
}

/// After the fault cleared: all `n` registered, the inbox empty, `n` acknowledgements each
/// sent once. Returns how long registering took from `cleared`.
async fn all_done_once(app: &TestApp, n: usize, cleared: Instant) -> Result<Duration> {
    app.until(
        "every mail registered",
        WITHIN,
        || app.complaint_count(),
        |c| *c == n as i64,
    )
    .await?;
    let recovery = cleared.elapsed();
    app.sandbox
        .wait_for(SERVICE, "INBOX", WITHIN, <[_]>::is_empty)
        .await?;
    app.wait_until_sender_idle(WITHIN).await?;
    app.wait_for_parsed(KLAAS, "INBOX", WITHIN, |m| m.len() >= n)
        .await?;
    let acks = acks(app)?;
    ensure!(
        acks.len() == n,
        "{} acknowledged subjects: {acks:?}",
        acks.len()
    );
    ensure!(acks.values().all(|c| *c == 1), "sent twice: {acks:?}");
    ensure!(folders(app)? == (0, n), "folders {:?}", folders(app)?);
    ensure!(app.complaint_count().await? == n as i64);
    Ok(recovery)
}

#[tokio::test]
async fn a_full_register_disk_mid_backlog_loses_nothing_and_doubles_nothing() -> Result<()> {
    let fs = Tmpfs::mount("4m");
    let mut app = TestApp::prepare(SpawnOptions {
        binary: true,
        database_dir: Some(fs.path().to_path_buf()),
        database_toml: "min_free = \"0\"".into(),
        ..SpawnOptions::default()
    })
    .await?;
    backlog(&app, "voor", 3).await?;
    app.start()?;
    app.until(
        "3 registered",
        WITHIN,
        || app.complaint_count(),
        |c| *c == 3,
    )
    .await?;
    app.wait_until_sender_idle(WITHIN).await?;

    // Another process fills the disk under the running bot; more mail arrives.
    fs.fill();
    backlog(&app, "vol", 5).await?;
    log_says(&app, "register unavailable; the mail stays in the inbox").await?;
    ensure!(folders(&app)? == (5, 3), "folders {:?}", folders(&app)?);
    ensure!(app.complaint_count().await? == 3);

    fs.unfill();
    let recovery = all_done_once(&app, 8, Instant::now()).await?;
    eprintln!("full disk: all mail registered {recovery:?} after the filler was removed");
    app.stop().await
}

#[tokio::test]
async fn below_min_free_the_bot_waits_tells_the_officer_once_and_goes_on() -> Result<()> {
    let fs = Tmpfs::mount("8m");
    let mut app = TestApp::prepare(SpawnOptions {
        binary: true,
        database_dir: Some(fs.path().to_path_buf()),
        database_toml: "min_free = \"5MB\"".into(),
        extra_users: Vec::new(),
        ..SpawnOptions::default()
    })
    .await?;
    backlog(&app, "voor", 2).await?;
    app.start()?;
    app.until(
        "2 registered",
        WITHIN,
        || app.complaint_count(),
        |c| *c == 2,
    )
    .await?;

    let status = std::process::Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", fs.path().join("filler").display()))
        .args(["bs=1M", "count=4", "status=none"])
        .status()?;
    ensure!(status.success());
    backlog(&app, "krap", 3).await?;
    log_says(&app, "below min_free").await?;
    let notice = |m: &[Vec<u8>]| {
        parse_all(m).is_ok_and(|all| {
            all.iter()
                .filter(|m| m.subject.contains("Schijf van het register"))
                .count()
                == 1
        })
    };
    app.sandbox
        .wait_for(OFFICER, "INBOX", WITHIN, notice)
        .await?;
    ensure!(folders(&app)?.0 == 3, "folders {:?}", folders(&app)?);
    ensure!(app.complaint_count().await? == 2);

    fs.unfill();
    let recovery = all_done_once(&app, 5, Instant::now()).await?;
    eprintln!("min_free: all mail registered {recovery:?} after space was freed");
    let officer = app.sandbox.messages(OFFICER, "INBOX")?;
    ensure!(notice(&officer), "the officer must be told exactly once");
    app.stop().await
}

#[tokio::test]
async fn postgres_stopped_mid_backlog_and_started_again_loses_nothing() -> Result<()> {
    let pg = OwnPostgres::start();
    let mut app = TestApp::prepare(SpawnOptions {
        binary: true,
        database_url: Some(pg.url()),
        ..SpawnOptions::default()
    })
    .await?;
    const N: usize = 12;
    backlog(&app, "pg", N).await?;
    app.start()?;
    app.until(
        "some registered",
        WITHIN,
        || app.complaint_count(),
        |c| *c >= 2,
    )
    .await?;
    pg.stop();
    // Mail that arrives during the outage (the backlog above may already be drained).
    const DURING: usize = 3;
    backlog(&app, "pgdown", DURING).await?;
    // Either the watcher meets the outage with mail in hand, or the instance loses its
    // watcher lock first (the lock lives in PostgreSQL) and stops watching: both leave the
    // mail in the inbox.
    log_says_one_of(
        &app,
        &[
            "register unavailable; the mail stays in the inbox",
            "lost the watcher lock",
        ],
    )
    .await?;
    // A batch whose registrations committed just before the stop may still be moving: wait
    // until the folders hold still for a second, then, for the rest of the outage, nothing
    // may leave the inbox.
    let mut settled = (folders(&app)?, Instant::now());
    let settle_by = Instant::now() + WITHIN;
    while settled.1.elapsed() < Duration::from_secs(1) {
        ensure!(Instant::now() < settle_by, "the folders never held still");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = folders(&app)?;
        if now != settled.0 {
            settled = (now, Instant::now());
        }
    }
    let (inbox, processed) = settled.0;
    eprintln!("PostgreSQL stopped: {inbox} in the inbox, {processed} processed");
    let outage = Instant::now() + Duration::from_secs(8);
    while Instant::now() < outage {
        ensure!(
            folders(&app)? == (inbox, processed),
            "mail moved while the register was away"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The MTA pipe meanwhile: exit 75, so the MTA keeps the mail and retries.
    let piped = complaint_mail(KLAAS, "Via de pijp", &new_message_id("pipe"), "Klacht.");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_klachtenbot"))
        .arg("--config")
        .arg(&app.config_path)
        .args(["ingest", "-"])
        .env_remove("KLACHTENBOT_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    std::io::Write::write_all(&mut child.stdin.take().context("stdin")?, &piped)?;
    let out = child.wait_with_output()?;
    ensure!(
        out.status.code() == Some(75),
        "ingest with PostgreSQL down: {:?} {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    pg.start_again();
    let recovery = all_done_once(&app, N + DURING, Instant::now()).await?;
    eprintln!("PostgreSQL: all mail registered {recovery:?} after the server was started again");
    app.stop().await
}

/// With `synchronous = NORMAL` alone a commit is not yet on the disk when its mail is moved,
/// and the disk error here threw away the complaints registered in the last seconds (the
/// restarted bot handed out KL-…-0001 again). The durability barrier before the IMAP MOVE
/// (`store::durable`) makes a batch durable before it leaves the inbox or is acknowledged.
#[tokio::test]
async fn a_register_disk_turned_read_only_mid_run_loses_nothing() -> Result<()> {
    let disk = Ext4Image::mount(16);
    let mut app = TestApp::prepare(SpawnOptions {
        binary: true,
        database_dir: Some(disk.path()),
        database_toml: "min_free = \"0\"".into(),
        ..SpawnOptions::default()
    })
    .await?;
    backlog(&app, "voor", 2).await?;
    app.start()?;
    app.until(
        "2 registered",
        WITHIN,
        || app.complaint_count(),
        |c| *c == 2,
    )
    .await?;
    app.wait_until_sender_idle(WITHIN).await?;

    // A disk error: the kernel remounts the file system read-only under the running bot.
    disk.fail();
    backlog(&app, "ro", 3).await?;
    log_says(&app, "register unavailable; the mail stays in the inbox").await?;
    ensure!(folders(&app)? == (3, 2), "folders {:?}", folders(&app)?);

    // The operator stops the bot, checks the file system, mounts it again and starts it.
    app.stop().await?;
    app.store.close().await;
    disk.repair();
    app.store = klachtenbot::store::Store::connect(&app.settings.database_url).await?;
    let cleared = Instant::now();
    app.start()?;
    let recovery = all_done_once(&app, 5, cleared).await?;
    eprintln!("read-only disk: all mail registered {recovery:?} after the bot was started again");
    app.stop().await
}
