//! Mailbox throughput and latency on the real mail sandbox. Prints its figures.
//!
//! `cargo bench --bench mailbox` (as root: Postfix needs it). `KB_BENCH_SIZES=1000,10000`
//! overrides the backlog sizes, `KB_BENCH_LATENCY=50` the number of single mails.
//!
//! For each backlog size: N generated complaints are written straight into klantenservice's
//! Maildir (as a filled mailbox looks to Dovecot), the bot starts, and the clock runs until
//! every complaint is stored and every acknowledgement accepted by Postfix. Then single mails
//! are delivered over SMTP while the bot idles, and the time from delivery until the
//! acknowledgement sits in the customer's INBOX is measured.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use klachtenbot::app::Bot;
use klachtenbot::config::Settings;
use klachtenbot::sandbox::{MailSandbox, SandboxConfig};
use sqlx::Row;
use tokio_util::sync::CancellationToken;

const BOT: &str = "klantenservice@concreet.test";
const CUSTOMERS: [&str; 2] = ["klaas@klant.test", "marie@klant.test"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo test --all-targets` also runs bench binaries; only `cargo bench` passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("mailbox benchmark: run with `cargo bench --bench mailbox`");
        return Ok(());
    }
    let sizes: Vec<usize> = std::env::var("KB_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let singles: usize = std::env::var("KB_BENCH_LATENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    for n in sizes {
        backlog(n).await?;
    }
    latency(singles).await?;
    println!(
        "peak RSS of the bench process (bot in-process): {} MiB",
        peak_rss_kib() / 1024
    );
    Ok(())
}

async fn sandbox() -> anyhow::Result<MailSandbox> {
    let users = std::iter::once(BOT)
        .chain(CUSTOMERS)
        .map(String::from)
        .collect();
    MailSandbox::start(SandboxConfig {
        tls: false,
        users,
        password: "bench".into(),
        ..SandboxConfig::default()
    })
    .await
}

fn settings(sandbox: &MailSandbox) -> anyhow::Result<Settings> {
    let dir = sandbox.dir();
    let pw = dir.join("pw");
    std::fs::write(&pw, sandbox.password())?;
    let toml = format!(
        "[organisation]\nmail_domain = \"concreet.test\"\n\
         [mailbox]\naddress = \"{BOT}\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\nuser = \"{}\"\npassword_file = \"{}\"\nbatch_size = 200\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\nretry_initial = \"1s\"\n\
         [database]\nurl = \"sqlite://{}\"\n[limits]\nauto_replies_per_sender = \"1000000 per 24h\"\n",
        sandbox.imap_port(),
        sandbox.login_for(BOT),
        pw.display(),
        sandbox.smtp_port(),
        dir.join("bench.db").display()
    );
    Settings::from_toml(&toml, dir).map_err(|p| anyhow::anyhow!("{p:?}"))
}

fn complaint(i: usize) -> Vec<u8> {
    let from = CUSTOMERS[i % 2];
    format!(
        "From: Klant {i} <{from}>\r\nTo: {BOT}\r\nSubject: Klacht nummer {i}\r\nMessage-ID: <bench-{i}@klant.test>\r\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Beste klantenservice,\r\n\r\nBestelling {i} is niet aangekomen.\r\n\r\nGroet,\r\nKlant {i}\r\n"
    )
    .into_bytes()
}

/// Writes messages straight into a Maildir's new/ folder, owned by the mail user Dovecot
/// runs as, which is what a filled mailbox looks like to Dovecot.
fn fill_maildir(sandbox: &MailSandbox, n: usize) -> anyhow::Result<()> {
    let maildir = sandbox
        .dir()
        .join("mail")
        .join(sandbox.login_for(BOT))
        .join("Maildir");
    let owner = std::fs::metadata(sandbox.dir().join("mail"))?;
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub))?;
    }
    for i in 0..n {
        std::fs::write(
            maildir
                .join("new")
                .join(format!("1700000000.bench{i}.host")),
            complaint(i),
        )?;
    }
    chown_tree(&maildir, &owner)
}

fn chown_tree(path: &Path, like: &std::fs::Metadata) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    std::os::unix::fs::chown(path, Some(like.uid()), Some(like.gid()))?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), like)?;
        }
    }
    Ok(())
}

async fn counts(bot: &Bot) -> anyhow::Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM complaints), (SELECT COUNT(*) FROM outbox WHERE status = 'sent')",
    )
    .fetch_one(bot.store.pool())
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

async fn backlog(n: usize) -> anyhow::Result<()> {
    let sandbox = sandbox().await?;
    fill_maildir(&sandbox, n)?;
    let bot = Bot::open(settings(&sandbox)?).await?;
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let daemon = tokio::spawn(klachtenbot::daemon::run_until_cancelled(
        bot.clone(),
        cancel.clone(),
    ));
    let deadline = started + Duration::from_secs(900);
    let mut stored_at = None;
    loop {
        let (stored, sent) = counts(&bot).await?;
        if stored_at.is_none() && stored as usize >= n {
            stored_at = Some(started.elapsed());
        }
        if stored as usize >= n && sent as usize >= n {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "backlog of {n} not done: {stored} stored, {sent} sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = started.elapsed();
    cancel.cancel();
    daemon.await??;
    let stored_at = stored_at.context("never stored")?;
    println!(
        "backlog {n:>6}: all stored in {:>7.2} s ({:>6.0} msg/s); all acknowledgements accepted by Postfix in {:>7.2} s ({:>6.0} msg/s)",
        stored_at.as_secs_f64(),
        n as f64 / stored_at.as_secs_f64(),
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64()
    );
    sandbox.shutdown().await
}

async fn latency(singles: usize) -> anyhow::Result<()> {
    let sandbox = sandbox().await?;
    let bot = Bot::open(settings(&sandbox)?).await?;
    let cancel = CancellationToken::new();
    let daemon = tokio::spawn(klachtenbot::daemon::run_until_cancelled(
        bot.clone(),
        cancel.clone(),
    ));
    let mut samples = Vec::with_capacity(singles);
    for i in 0..singles {
        let n = 100_000 + i;
        let customer = CUSTOMERS[n % 2];
        let before = sandbox.messages(customer, "INBOX")?.len();
        let t0 = Instant::now();
        sandbox.deliver(customer, &[BOT], &complaint(n)).await?;
        sandbox
            .wait_for(customer, "INBOX", Duration::from_secs(30), |m| {
                m.len() > before
            })
            .await?;
        samples.push(t0.elapsed());
    }
    cancel.cancel();
    daemon.await??;
    samples.sort();
    let pick =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    println!(
        "latency delivery -> acknowledgement in INBOX over {} single mails while idle: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        samples.len(),
        pick(0.50).as_secs_f64() * 1000.0,
        pick(0.99).as_secs_f64() * 1000.0,
        samples.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
    sandbox.shutdown().await
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
