//! End to end, like zero2prod's `spawn_app()`: a real Dovecot + Postfix sandbox on
//! loopback, test settings with a fresh SQLite database in a temp dir, and the bot itself,
//! either in this process (`daemon::run_until_cancelled`) or as the built binary
//! (`klachtenbot --config <file> run`) so it can be killed with SIGKILL. Mails for it, dated
//! now. What the tests read and wait for is in `sandbox/observe.rs`.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use klachtenbot::app::Bot;
use klachtenbot::config::Settings;
use klachtenbot::daemon;
use klachtenbot::intake::parse::{InboundMail, parse};
use klachtenbot::sandbox::{MailSandbox, SandboxConfig};
use klachtenbot::store::Store;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{BIN, KLAAS, MAIL_DOMAIN, MANAGEMENT, MARIE, OFFICER, SERVICE, TestMail};

mod observe;

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
    /// The folder of the SQLite register (a small file system for the fault tests), instead
    /// of the test's temporary folder.
    pub database_dir: Option<PathBuf>,
    /// More lines for `[database]` (e.g. `min_free = "0"`).
    pub database_toml: String,
    /// Another register altogether (a PostgreSQL server of the test's own).
    pub database_url: Option<String>,
    /// Log in to IMAP and SMTP with OAuth2 tokens from this endpoint (needs `tls`).
    pub oauth2: Option<OAuth2Login>,
}

/// The OAuth2 side of a test: the token server's URLs and the client's credentials.
#[derive(Debug, Clone, Default)]
pub struct OAuth2Login {
    /// Where Dovecot asks about tokens.
    pub introspection_url: String,
    /// Where the bot gets its tokens.
    pub token_url: String,
    /// The bot's client id.
    pub client_id: String,
    /// The bot's client secret (written to a file the configuration names).
    pub client_secret: String,
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
            oauth2_introspection: opts.oauth2.as_ref().map(|o| o.introspection_url.clone()),
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
        if let Some(db_dir) = &opts.database_dir {
            let db = |d: &Path| format!("sqlite://{}", d.join("klachtenbot.db").display());
            toml = toml.replace(&db(dir.path()), &db(db_dir));
        }
        if let Some(url) = &opts.database_url {
            let db = format!("sqlite://{}", dir.path().join("klachtenbot.db").display());
            toml = toml.replace(&toml_str(&db), &toml_str(url));
        }
        if !opts.database_toml.is_empty() {
            toml = toml.replace(
                "[database]\n",
                &format!("[database]\n{}\n", opts.database_toml),
            );
        }
        if let Some(o) = &opts.oauth2 {
            std::fs::write(dir.path().join("oauth_secret"), &o.client_secret)?;
            toml = toml.replace("password_file = \"password\"\n", "auth = \"oauth2\"\n");
            toml.push_str(&format!(
                "\n[mailbox.oauth2]\nprovider = \"generic\"\nclient_id = {}\n\
                 client_secret_file = \"oauth_secret\"\ntoken_url = {}\n",
                toml_str(&o.client_id),
                toml_str(&o.token_url)
            ));
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
            let child = Command::new(BIN)
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

/// A customer's plain-text mail to klantenservice@, with the given Message-ID (bare), dated
/// now (the bot runs on the real clock here).
pub fn complaint_mail(from: &str, subject: &str, message_id: &str, body: &str) -> Vec<u8> {
    mail(from, subject, message_id, &[], body)
}

/// A mail dated now with extra header lines (each `Name: value`, without line ending).
pub fn mail(
    from: &str,
    subject: &str,
    message_id: &str,
    extra_headers: &[&str],
    body: &str,
) -> Vec<u8> {
    let date = jiff::fmt::rfc2822::to_string(&jiff::Zoned::now()).unwrap_or_default();
    let mut mail = TestMail::new(from, subject, message_id)
        .header("Date", &date)
        .body(&format!("{body}\n"));
    for line in extra_headers {
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not a header line: {line}"));
        mail = mail.header(name, value.trim_start());
    }
    mail.bytes()
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
mail_domain = "{MAIL_DOMAIN}"

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
staff_domains = ["{MAIL_DOMAIN}"]

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
