//! The end-to-end test helper, like zero2prod's `spawn_app()`: a real Dovecot + Postfix
//! sandbox on loopback, test settings with a fresh SQLite database in a temp dir, and the
//! bot itself, either in this process (`daemon::run_until_cancelled`) or as the built binary
//! (`klachtenbot --config <file> run`) so it can be killed with SIGKILL.

#![allow(dead_code)] // Not every test file uses every helper.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use klachtenbot::app::Bot;
use klachtenbot::config::Settings;
use klachtenbot::daemon;
use klachtenbot::intake::parse::{InboundMail, parse};
use klachtenbot::sandbox::{MailSandbox, SandboxConfig};
use klachtenbot::store::Store;
use sqlx::Row;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The watched mailbox.
pub const SERVICE: &str = "klantenservice@concreet.test";
/// The complaints officer.
pub const OFFICER: &str = "functionaris@concreet.test";
/// Two customers.
pub const KLAAS: &str = "klaas@klant.test";
/// Management (in the configuration; a mailbox only when a test adds it to `extra_users`).
pub const MANAGEMENT: &str = "directie@concreet.test";
/// The other customer.
pub const MARIE: &str = "marie@klant.test";

/// How often database conditions are polled.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    /// IMAPS for the mailbox and submission (STARTTLS + AUTH) for SMTP.
    pub tls: bool,
    /// Mailbox users beyond the standard four.
    pub extra_users: Vec<String>,
    /// Run the built binary as a child process instead of the daemon in this process.
    pub binary: bool,
    /// TOML appended to the configuration (new tables only, e.g. `[auth]`).
    pub extra_toml: String,
    /// With `tls`: IMAP with STARTTLS and SMTPS (implicit TLS) instead of IMAPS and
    /// submission with STARTTLS, so both TLS paths of each protocol are tested.
    pub starttls_imap: bool,
    /// `limits.max_message_bytes`, when set.
    pub max_message_bytes: Option<u64>,
    /// The register's URL in place of the SQLite file (a PostgreSQL database).
    pub database_url: Option<String>,
}

enum Runner {
    Stopped,
    InProcess {
        cancel: CancellationToken,
        task: JoinHandle<Result<()>>,
    },
    Binary(Child),
}

/// A sandbox, a configuration and (once started) the running bot.
pub struct TestApp {
    /// The mail servers; public so tests can stop and start them.
    pub sandbox: MailSandbox,
    /// Our own handle on the bot's database, for assertions.
    pub store: Store,
    /// The validated test settings.
    pub settings: Settings,
    /// The written configuration file (for the binary).
    pub config_path: PathBuf,
    opts: SpawnOptions,
    runner: Runner,
    dir: TempDir,
}

impl TestApp {
    /// Starts the sandbox and the bot.
    pub async fn spawn(opts: SpawnOptions) -> Result<TestApp> {
        let mut app = Self::prepare(opts).await?;
        app.start()?;
        Ok(app)
    }

    /// Starts the sandbox, writes the settings and opens the database, without starting the
    /// bot (to put a backlog into the mailbox first).
    pub async fn prepare(opts: SpawnOptions) -> Result<TestApp> {
        init_tracing();
        let mut users: Vec<String> = [SERVICE, OFFICER, KLAAS, MARIE].map(String::from).to_vec();
        users.extend(opts.extra_users.iter().cloned());
        let sandbox = MailSandbox::start(SandboxConfig {
            tls: opts.tls,
            users,
            ..SandboxConfig::default()
        })
        .await
        .context(
            "Failed to start the mail sandbox (run as root; see scripts/ensure-mailservers.sh)",
        )?;
        let dir = tempfile::Builder::new().prefix("kb-e2e-").tempdir()?;
        std::fs::write(dir.path().join("password"), sandbox.password())?;
        let mut toml = config_toml(&sandbox, dir.path(), opts.tls)?;
        if opts.tls && opts.starttls_imap {
            let smtps = sandbox.smtps_port().context("TLS sandbox without SMTPS")?;
            toml = toml
                .replace(
                    &format!(
                        "port = {}\nsecurity = \"tls\"",
                        sandbox.imaps_port().unwrap_or(0)
                    ),
                    &format!("port = {}\nsecurity = \"starttls\"", sandbox.imap_port()),
                )
                .replace(
                    &format!(
                        "port = {}\nsecurity = \"starttls\"\nuser",
                        sandbox.submission_port().unwrap_or(0)
                    ),
                    &format!("port = {smtps}\nsecurity = \"tls\"\nuser"),
                );
        }
        if let Some(max) = opts.max_message_bytes {
            toml = toml.replace(
                "[limits]\n",
                &format!("[limits]\nmax_message_bytes = {max}\n"),
            );
        }
        if let Some(url) = &opts.database_url {
            let db = dir.path().join("klachtenbot.db");
            let sqlite = toml_str(&format!("sqlite://{}", db.display()));
            toml = toml.replace(
                &format!("url = {sqlite}"),
                &format!("url = {}", toml_str(url)),
            );
        }
        let toml = toml + "\n" + &opts.extra_toml;
        let config_path = dir.path().join("klachtenbot.toml");
        std::fs::write(&config_path, &toml)?;
        let settings = Settings::from_toml(&toml, dir.path())
            .map_err(|problems| anyhow::anyhow!("test settings are invalid: {problems:?}"))?;
        // Opening the store here applies the migrations before any bot process runs.
        let store = Store::connect(&settings.database_url).await?;
        Ok(TestApp {
            sandbox,
            store,
            settings,
            config_path,
            opts,
            runner: Runner::Stopped,
            dir,
        })
    }

    /// Starts the bot (in process or as the binary, as the options say).
    pub fn start(&mut self) -> Result<()> {
        if !matches!(self.runner, Runner::Stopped) {
            bail!("the bot is already running");
        }
        self.runner = if self.opts.binary {
            let log = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.bot_log_path())?;
            let child = Command::new(env!("CARGO_BIN_EXE_klachtenbot"))
                .arg("--config")
                .arg(&self.config_path)
                .arg("run")
                .env_remove("KLACHTENBOT_CONFIG")
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .context("Failed to start the klachtenbot binary")?;
            Runner::Binary(child)
        } else {
            let cancel = CancellationToken::new();
            let settings = self.settings.clone();
            let token = cancel.clone();
            let task = tokio::spawn(async move {
                let bot = Bot::open(settings).await?;
                daemon::run_until_cancelled(bot, token).await
            });
            Runner::InProcess { cancel, task }
        };
        Ok(())
    }

    /// Kills the binary with SIGKILL (no clean-up of any kind) and reaps it.
    pub fn kill_9(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.runner, Runner::Stopped) {
            Runner::Binary(mut child) => {
                child.kill()?; // SIGKILL on Unix
                child.wait()?;
                Ok(())
            }
            other => {
                self.runner = other;
                bail!("kill_9 needs the bot running as the binary")
            }
        }
    }

    /// Stops the bot politely: cancels the in-process daemon and awaits it, or SIGTERMs the
    /// binary and waits for it.
    pub async fn stop(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.runner, Runner::Stopped) {
            Runner::Stopped => Ok(()),
            Runner::InProcess { cancel, task } => {
                cancel.cancel();
                task.await.context("the daemon task panicked")?
            }
            Runner::Binary(mut child) => {
                let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id())?);
                nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)?;
                tokio::task::spawn_blocking(move || child.wait()).await??;
                Ok(())
            }
        }
    }

    /// Where the binary's output goes.
    pub fn bot_log_path(&self) -> PathBuf {
        self.dir.path().join("bot.log")
    }

    /// The last lines of the binary's log and the mail servers' logs, for failure messages.
    pub fn diagnostics(&self) -> String {
        let bot = std::fs::read_to_string(self.bot_log_path()).unwrap_or_default();
        let lines: Vec<&str> = bot.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!(
            "--- bot log ---\n{tail}\n--- mail servers ---\n{}",
            self.sandbox.log_tail(30)
        )
    }

    /// A mailbox folder's messages, parsed.
    pub fn parsed(&self, address: &str, folder: &str) -> Result<Vec<InboundMail>> {
        parse_all(&self.sandbox.messages(address, folder)?)
    }

    /// Waits until `pred` holds for a folder's messages and returns them parsed.
    pub async fn wait_for_parsed(
        &self,
        address: &str,
        folder: &str,
        within: Duration,
        pred: impl Fn(&[Vec<u8>]) -> bool,
    ) -> Result<Vec<InboundMail>> {
        let raw = self.sandbox.wait_for(address, folder, within, pred).await;
        parse_all(&raw.with_context(|| self.diagnostics())?)
    }

    /// The flags part (after `:2,`) of each Maildir file of a folder; `new/` files have
    /// none yet.
    pub fn maildir_flags(&self, address: &str, folder: &str) -> Result<Vec<String>> {
        let login = self.sandbox.login_for(address);
        let mut dir = self.sandbox.dir().join("mail").join(login).join("Maildir");
        if !folder.eq_ignore_ascii_case("INBOX") {
            dir = dir.join(format!(".{}", folder.replace('/', ".")));
        }
        let mut flags = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            for entry in entries {
                let name = entry?.file_name().to_string_lossy().into_owned();
                let info = name.split_once(":2,").map_or("", |(_, f)| f);
                flags.push(info.to_owned());
            }
        }
        Ok(flags)
    }

    /// Number of rows in the complaints table.
    pub async fn complaint_count(&self) -> Result<i64> {
        self.scalar("SELECT COUNT(*) FROM complaints").await
    }

    /// Number of rows in the messages table.
    pub async fn message_count(&self) -> Result<i64> {
        self.scalar("SELECT COUNT(*) FROM messages").await
    }

    /// The `kind` of every row of the messages table.
    pub async fn message_kinds(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT kind FROM messages ORDER BY id")
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// Every outbox row.
    pub async fn outbox(&self) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(
            "SELECT message_id, kind, status, attempts, recipients FROM outbox ORDER BY id",
        )
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxRow {
                    message_id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    status: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                    recipients: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Outbox rows still pending.
    pub async fn pending_outbox(&self) -> Result<usize> {
        Ok(self
            .outbox()
            .await?
            .iter()
            .filter(|r| r.status == "pending")
            .count())
    }

    async fn scalar(&self, sql: &str) -> Result<i64> {
        let row = sqlx::query(sql).fetch_one(self.store.pool()).await?;
        Ok(row.try_get(0)?)
    }

    /// Polls an async condition on the database every 50 ms until it holds; on timeout the
    /// error names the condition, its last value and the logs.
    pub async fn until<T, F, Fut>(
        &self,
        what: &str,
        within: Duration,
        probe: F,
        pred: impl Fn(&T) -> bool,
    ) -> Result<T>
    where
        T: std::fmt::Debug,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let deadline = Instant::now() + within;
        loop {
            // A locked database while the bot writes is a reason to ask again, not to fail.
            let value = probe().await;
            match value {
                Ok(v) if pred(&v) => return Ok(v),
                Ok(v) if Instant::now() >= deadline => {
                    bail!(
                        "timed out after {within:?} waiting for {what}; last value {v:?}\n{}",
                        self.diagnostics()
                    )
                }
                Err(e) if Instant::now() >= deadline => {
                    bail!(
                        "timed out after {within:?} waiting for {what}; last error {e:#}\n{}",
                        self.diagnostics()
                    )
                }
                _ => tokio::time::sleep(POLL_EVERY).await,
            }
        }
    }

    /// Waits until the outbox has no pending rows and Postfix has handed everything to
    /// Dovecot: after this, every mail the bot sent is in its mailbox.
    pub async fn wait_until_sender_idle(&self, within: Duration) -> Result<()> {
        self.until(
            "no pending outbox rows",
            within,
            || self.pending_outbox(),
            |n| *n == 0,
        )
        .await?;
        self.sandbox
            .wait_for_empty_queue(within)
            .await
            .with_context(|| self.diagnostics())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.runner, Runner::Stopped) {
            Runner::Stopped => {}
            Runner::InProcess { cancel, task } => {
                cancel.cancel();
                task.abort();
            }
            Runner::Binary(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// One outbox row, as the tests look at it.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Message-ID, without brackets.
    pub message_id: String,
    /// `acknowledgement`, `officer_notice`, ...
    pub kind: String,
    /// `pending`, `sent`, `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Envelope recipients.
    pub recipients: String,
}

/// Parses raw messages; a message mail-parser cannot read at all fails the test.
pub fn parse_all(raw: &[Vec<u8>]) -> Result<Vec<InboundMail>> {
    raw.iter()
        .enumerate()
        .map(|(i, m)| parse(m).with_context(|| format!("message {i} does not parse")))
        .collect()
}

/// Counts messages per Message-ID (without brackets); messages without one count under "".
pub fn by_message_id(mails: &[InboundMail]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for m in mails {
        let id = m
            .message_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// A fresh Message-ID (without brackets), unique across tests and runs.
pub fn new_message_id(tag: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{tag}.{n}.{}.{nanos}@klant.test", std::process::id())
}

/// A customer's plain-text mail to klantenservice@, with the given Message-ID (bare).
pub fn complaint_mail(from: &str, subject: &str, message_id: &str, body: &str) -> Vec<u8> {
    mail(from, subject, message_id, &[], body)
}

/// A mail with extra header lines (each without line ending).
pub fn mail(
    from: &str,
    subject: &str,
    message_id: &str,
    extra_headers: &[&str],
    body: &str,
) -> Vec<u8> {
    let date = jiff::fmt::rfc2822::to_string(&jiff::Zoned::now()).unwrap_or_default();
    let mut s = format!(
        "From: {from}\r\nTo: {SERVICE}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\nDate: {date}\r\n"
    );
    for h in extra_headers {
        s.push_str(h);
        s.push_str("\r\n");
    }
    s.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    s.push_str(&body.replace('\n', "\r\n"));
    s.push_str("\r\n");
    s.into_bytes()
}

/// The current year in the organisation's time zone (the year in references).
pub fn current_year() -> i16 {
    jiff::Zoned::now()
        .in_tz("Europe/Amsterdam")
        .map_or(jiff::Zoned::now().year(), |z| z.year())
}

fn config_toml(sandbox: &MailSandbox, dir: &Path, tls: bool) -> Result<String> {
    let login = sandbox.login_for(SERVICE);
    let db = dir.join("klachtenbot.db");
    let (mailbox, smtp) = if tls {
        let ca = sandbox
            .ca_cert_pem()
            .context("TLS sandbox without certificate")?;
        let imaps = sandbox.imaps_port().context("TLS sandbox without IMAPS")?;
        let submission = sandbox
            .submission_port()
            .context("TLS sandbox without submission")?;
        let ca = toml_str(&ca.display().to_string());
        (
            format!("port = {imaps}\nsecurity = \"tls\"\nca_file = {ca}\n"),
            format!(
                "port = {submission}\nsecurity = \"starttls\"\nuser = {}\npassword_file = \"password\"\nca_file = {ca}\n",
                toml_str(&login)
            ),
        )
    } else {
        (
            format!("port = {}\nsecurity = \"plain\"\n", sandbox.imap_port()),
            format!("port = {}\nsecurity = \"plain\"\n", sandbox.smtp_port()),
        )
    };
    // The host names must be what the certificate names (SAN 127.0.0.1).
    Ok(format!(
        r#"[organisation]
mail_domain = "concreet.test"

[mailbox]
address = "{SERVICE}"
host = "127.0.0.1"
user = {login}
password_file = "password"
idle_timeout = "30s"
{mailbox}
[smtp]
host = "127.0.0.1"
retry_initial = "1s"
retry_max = "2s"
claim_lease = "2s"
{smtp}
[people]
officers = ["{OFFICER}"]
management = ["{MANAGEMENT}"]
staff_domains = ["concreet.test"]

[database]
url = {db}

[limits]
auto_replies_per_sender = "1000 per 24h"

# Tests that run between 08:00 and 12:00 Amsterdam time would otherwise get a digest.
[digest]
daily = false
"#,
        login = toml_str(&login),
        db = toml_str(&format!("sqlite://{}", db.display())),
    ))
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("klachtenbot=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
