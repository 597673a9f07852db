//! Mailbox throughput and latency on the real mail sandbox, the bot against a minimal
//! client. Prints its figures.
//!
//! `cargo bench --bench mailbox` (as root: Postfix needs it). `KB_BENCH_SIZES=1000,10000`
//! sets the backlog sizes, `KB_BENCH_ROUNDS=3` how often each size is measured,
//! `KB_BENCH_LATENCY=50` the number of single mails, `KB_BENCH_BOT=path` another build of
//! the bot (an older commit's, to measure what a change bought), `KB_BENCH_LOG` the bot's
//! log filter and `KB_BENCH_KEEP_LOG=path` where its log of the last backlog is kept.
//!
//! For each backlog size, twice on a fresh sandbox: N generated complaints are written
//! straight into klantenservice's Maildir (as a filled mailbox looks to Dovecot), then either
//! the minimal client (`mailbox/minimal.rs`) or the release `klachtenbot run` binary starts,
//! and the clock runs until every acknowledgement sits in the customers' inboxes. CPU is read
//! from `/proc`: the bot's process, the minimal client's thread, and the process trees of
//! Dovecot's and Postfix's masters (reaped workers included). Then single mails are
//! delivered over SMTP while the bot idles, and the time from delivery until the
//! acknowledgement sits in the customer's INBOX is measured.

#[path = "mailbox/bot.rs"]
mod bot;
#[path = "mailbox/minimal.rs"]
mod minimal;
#[path = "mailbox/procstat.rs"]
mod procstat;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use klachtenbot::sandbox::{MailSandbox, SandboxConfig};

use bot::BotProcess;

const BOT: &str = "klantenservice@concreet.test";
const CUSTOMERS: [&str; 2] = ["klaas@klant.test", "marie@klant.test"];
/// How often the benchmark looks at the Maildirs.
const POLL: Duration = Duration::from_millis(10);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo test --all-targets` also runs bench binaries; only `cargo bench` passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("mailbox benchmark: run with `cargo bench --bench mailbox`");
        return Ok(());
    }
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let sizes: Vec<usize> = env("KB_BENCH_SIZES", "1000,10000")
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rounds: usize = env("KB_BENCH_ROUNDS", "1").parse().unwrap_or(1);
    let singles: usize = env("KB_BENCH_LATENCY", "50").parse().unwrap_or(50);
    for n in sizes {
        for _ in 0..rounds {
            let minimal = measure(n, Client::Minimal).await?;
            minimal.print(n, "minimal client");
            let bot = measure(n, Client::Bot).await?;
            bot.print(n, "klachtenbot   ");
            println!(
                "backlog {n:>6}: ratio klachtenbot / minimal client = {:.2}",
                minimal.elapsed.as_secs_f64() / bot.elapsed.as_secs_f64()
            );
        }
    }
    if singles > 0 {
        latency(singles).await?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Client {
    Minimal,
    Bot,
}

/// One backlog run.
struct Measured {
    /// Start until every acknowledgement is in the customers' inboxes.
    elapsed: Duration,
    /// Start until every complaint left the inbox (is in Processed).
    moved: Duration,
    /// CPU of the client: the bot's process, or the minimal client's thread.
    client_cpu: Duration,
    /// CPU of Dovecot's and Postfix's process trees over the run.
    server_cpu: Duration,
    /// The bot's peak RSS (`VmHWM`), KiB.
    peak_rss_kib: Option<u64>,
}

impl Measured {
    fn print(&self, n: usize, who: &str) {
        let per_mail = |d: Duration| d.as_secs_f64() * 1000.0 / n as f64;
        let rss = self
            .peak_rss_kib
            .map(|k| format!("; peak RSS {:.1} MiB", k as f64 / 1024.0))
            .unwrap_or_default();
        println!(
            "backlog {n:>6}: {who} {:>7.2} s ({:>4.0} msg/s; inbox empty after {:.2} s); CPU per mail: client {:.2} ms, Dovecot + Postfix {:.2} ms{rss}",
            self.elapsed.as_secs_f64(),
            n as f64 / self.elapsed.as_secs_f64(),
            self.moved.as_secs_f64(),
            per_mail(self.client_cpu),
            per_mail(self.server_cpu),
        );
    }
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

fn complaint(i: usize) -> Vec<u8> {
    let from = CUSTOMERS[i % 2];
    format!(
        "From: Klant {i} <{from}>\r\nTo: {BOT}\r\nSubject: Klacht nummer {i}\r\nMessage-ID: <bench-{i}@klant.test>\r\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Beste klantenservice,\r\n\r\nBestelling {i} is niet aangekomen.\r\n\r\nGroet,\r\nKlant {i}\r\n"
    )
    .into_bytes()
}

fn maildir(sandbox: &MailSandbox, address: &str) -> PathBuf {
    sandbox
        .dir()
        .join("mail")
        .join(sandbox.login_for(address))
        .join("Maildir")
}

/// Messages in a Maildir folder dir (`new/` and `cur/`), without reading them.
fn count(folder: &Path) -> usize {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(folder.join(sub)).ok())
        .map(Iterator::count)
        .sum()
}

fn acknowledgements(sandbox: &MailSandbox) -> usize {
    CUSTOMERS.iter().map(|c| count(&maildir(sandbox, c))).sum()
}

/// Writes messages straight into a Maildir's new/ folder, owned by the mail user Dovecot
/// runs as, which is what a filled mailbox looks like to Dovecot.
fn fill_maildir(sandbox: &MailSandbox, n: usize) -> anyhow::Result<()> {
    let maildir = maildir(sandbox, BOT);
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

/// The client of one run while it works.
enum Running {
    Minimal(
        Option<std::thread::JoinHandle<anyhow::Result<(Duration, usize)>>>,
        Option<Duration>,
    ),
    Bot(BotProcess),
}

impl Running {
    fn start(client: Client, sandbox: &MailSandbox) -> anyhow::Result<Running> {
        Ok(match client {
            Client::Minimal => Running::Minimal(
                Some(minimal::run(minimal::Target {
                    imap_port: sandbox.imap_port(),
                    smtp_port: sandbox.smtp_port(),
                    login: sandbox.login_for(BOT),
                    password: sandbox.password().to_string(),
                    address: BOT.to_string(),
                })),
                None,
            ),
            Client::Bot => Running::Bot(BotProcess::start(sandbox)?),
        })
    }

    /// Fails when the client died; collects the minimal client's CPU once it is done.
    fn check(&mut self, n: usize) -> anyhow::Result<()> {
        match self {
            Running::Bot(bot) => bot.ensure_running(),
            Running::Minimal(handle, cpu) => {
                if handle.as_ref().is_some_and(|h| h.is_finished()) {
                    let h = handle.take().context("no thread")?;
                    let (used, sent) = h
                        .join()
                        .map_err(|_| anyhow::anyhow!("minimal client panicked"))??;
                    anyhow::ensure!(sent == n, "minimal client sent {sent} of {n}");
                    *cpu = Some(used);
                }
                Ok(())
            }
        }
    }
}

async fn measure(n: usize, client: Client) -> anyhow::Result<Measured> {
    let sandbox = sandbox().await?;
    fill_maildir(&sandbox, n)?;
    let processed = maildir(&sandbox, BOT).join(".Processed");
    let servers: Vec<u32> = [sandbox.dovecot_pid(), sandbox.postfix_pid()]
        .into_iter()
        .flatten()
        .collect();
    let servers_before = procstat::tree_cpu(&servers);
    let started = Instant::now();
    let mut running = Running::start(client, &sandbox)?;
    let deadline = started + Duration::from_secs(900);
    let mut moved = None;
    loop {
        if moved.is_none() && count(&processed) >= n {
            moved = Some(started.elapsed());
        }
        let acks = acknowledgements(&sandbox);
        if acks >= n && moved.is_some() {
            break;
        }
        running.check(n)?;
        anyhow::ensure!(
            Instant::now() < deadline,
            "backlog of {n} not done: {acks} acknowledgements"
        );
        tokio::time::sleep(POLL).await;
    }
    let elapsed = started.elapsed();
    let server_cpu = procstat::tree_cpu(&servers).saturating_sub(servers_before);
    let (client_cpu, peak_rss_kib) = match running {
        Running::Bot(bot) => {
            let cpu = procstat::process_cpu(bot.pid());
            let rss = procstat::peak_rss_kib(bot.pid());
            let log = bot.log.clone();
            bot.stop().await?;
            // KB_BENCH_KEEP_LOG=/tmp/bot.log keeps the bot's log of its last backlog.
            if let Ok(keep) = std::env::var("KB_BENCH_KEEP_LOG") {
                std::fs::copy(&log, keep)?;
            }
            (cpu, rss)
        }
        mut minimal => {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                minimal.check(n)?;
                if let Running::Minimal(None, Some(cpu)) = minimal {
                    break (cpu, None);
                }
                anyhow::ensure!(Instant::now() < deadline, "minimal client did not finish");
                tokio::time::sleep(POLL).await;
            }
        }
    };
    sandbox.shutdown().await?;
    Ok(Measured {
        elapsed,
        moved: moved.context("never moved")?,
        client_cpu,
        server_cpu,
        peak_rss_kib,
    })
}

async fn latency(singles: usize) -> anyhow::Result<()> {
    let sandbox = sandbox().await?;
    let mut bot = BotProcess::start(&sandbox)?;
    let mut samples = Vec::with_capacity(singles);
    // One mail first, unmeasured: the bot starts up and settles into IDLE.
    for i in 0..=singles {
        let n = 100_000 + i;
        let customer = CUSTOMERS[n % 2];
        let inbox = maildir(&sandbox, customer);
        let before = count(&inbox);
        let t0 = Instant::now();
        sandbox.deliver(customer, &[BOT], &complaint(n)).await?;
        while count(&inbox) <= before {
            bot.ensure_running()?;
            anyhow::ensure!(
                t0.elapsed() < Duration::from_secs(30),
                "no acknowledgement within 30 s"
            );
            tokio::time::sleep(POLL / 2).await;
        }
        if i > 0 {
            samples.push(t0.elapsed());
        }
    }
    bot.stop().await?;
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
