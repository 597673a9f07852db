//! Local mail sandbox for the integration tests and the demo: real Dovecot (IMAP + LMTP) and
//! a private Postfix (SMTP, delivering into Dovecot over LMTP) on free loopback ports, run
//! from generated configs in a short temp dir (`/tmp/kb-XXXXXX`).
//!
//! Needs root (Postfix's master only runs as root) and the Debian packages that
//! `scripts/ensure-mailservers.sh` installs. The checked facts behind every setting are in
//! shared/MAILSERVER.md; comments cite its sections. Sandboxes run side by side (parallel
//! tests): each has its own dir, ports (claimed machine-wide) and process groups.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use klachtenbot::sandbox::{MailSandbox, SandboxConfig};
//!
//! const SERVICE: &str = "klantenservice@concreet.test";
//! let sandbox = MailSandbox::start(SandboxConfig {
//!     users: vec![SERVICE.into(), "klant@klant.test".into()],
//!     ..SandboxConfig::default()
//! })
//! .await?;
//! let raw = b"Subject: Klacht\r\n\r\nHet pakket kwam niet.\r\n";
//! sandbox.deliver("klant@klant.test", &[SERVICE], raw).await?;
//! let inbox = sandbox.wait_for(SERVICE, "INBOX", Duration::from_secs(5), |m| m.len() == 1).await?;
//! assert_eq!(inbox.len(), 1);
//! # Ok(()) }
//! ```

mod dovecot;
mod layout;
mod maildir;
mod ports;
mod postfix;
mod process;
mod smtp;
mod start;
mod tls;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use layout::{Layout, Programs};
use process::Server;

/// Set this environment variable to keep the sandbox dir (configs, Maildirs, logs) after
/// the sandbox is dropped; its path is printed on stderr.
pub const KEEP_ENV: &str = "KLACHTENBOT_KEEP_SANDBOX";

/// Poll interval of [`MailSandbox::wait_for`]: Dovecot's own notify delay is 0.5 s, an
/// LMTP delivery 4-10 ms, so 20 ms adds little latency at little cost.
const POLL_EVERY: Duration = Duration::from_millis(20);

/// What to start.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Also start IMAPS, STARTTLS, SMTP submission (STARTTLS + AUTH) and SMTPS (+ AUTH) with
    /// a fresh self-signed certificate.
    pub tls: bool,
    /// Full addresses of the mailbox users, e.g. `klant@klant.test`. Several domains are
    /// fine; local parts must be unique (they are the IMAP logins).
    pub users: Vec<String>,
    /// The password of every user (IMAP login and SMTP AUTH).
    pub password: String,
    /// The OAuth2 variant (needs `tls`, for SMTP AUTH): IMAP and submission/SMTPS also take
    /// XOAUTH2 and OAUTHBEARER, and Dovecot's `oauth2` passdb asks this URL about each
    /// token (RFC 7662 introspection, `POST token=...`). The answer must be a JSON object
    /// with `"active": true` and `"username"` equal to the login.
    pub oauth2_introspection: Option<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            tls: false,
            users: Vec::new(),
            password: "secret".to_owned(),
            oauth2_introspection: None,
        }
    }
}

/// How to stop a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// SIGKILL to the process group: ports refuse at once, IMAP clients see EOF (a crash).
    Kill,
    /// SIGTERM to the process group: IMAP clients get `* BYE`. Usually milliseconds; Dovecot
    /// has been seen to need 1 s, once 6 s (MAILSERVER.md §3), and gets SIGKILL after 10 s.
    Term,
}

/// A running Dovecot + Postfix pair. Dropping it kills both process groups and removes the
/// temp dir (unless [`KEEP_ENV`] is set).
#[derive(Debug)]
pub struct MailSandbox {
    /// `None` only after `shutdown` or `Drop` took it.
    dir: Option<TempDir>,
    layout: Layout,
    programs: Programs,
    dovecot: Server,
    postfix: Server,
    /// Keeps other sandboxes off our ports for as long as we live.
    _port_claims: Vec<ports::PortClaim>,
}

impl MailSandbox {
    /// Starts Dovecot and Postfix and waits for their greetings (about 0.3 s, most of it
    /// `postfix check`); retries with new ports when a port race makes a server exit during
    /// start-up.
    ///
    /// Fails with a clear message when not root or when the servers are not installed.
    pub async fn start(cfg: SandboxConfig) -> Result<MailSandbox> {
        start::start(cfg).await
    }

    /// The sandbox dir: configs, `mail/<login>/Maildir`, logs.
    pub fn dir(&self) -> &Path {
        &self.layout.root
    }

    /// Plain IMAP (in the TLS variant this port also offers STARTTLS).
    pub fn imap_port(&self) -> u16 {
        self.layout.ports.imap
    }

    /// Implicit-TLS IMAP; TLS variant only.
    pub fn imaps_port(&self) -> Option<u16> {
        self.layout.ports.imaps
    }

    /// MX-like SMTP: accepts mail for the sandbox users from anyone; no AUTH, no TLS needed.
    pub fn smtp_port(&self) -> u16 {
        self.layout.ports.smtp
    }

    /// Submission (587-like), TLS variant only: STARTTLS required, then AUTH (Dovecot SASL).
    pub fn submission_port(&self) -> Option<u16> {
        self.layout.ports.submission
    }

    /// SMTPS (465-like), TLS variant only: implicit TLS, then AUTH.
    pub fn smtps_port(&self) -> Option<u16> {
        self.layout.ports.smtps
    }

    /// The self-signed server certificate (CA:FALSE, SAN `localhost` and `127.0.0.1`) that
    /// clients trust as their only root; TLS variant only.
    pub fn ca_cert_pem(&self) -> Option<PathBuf> {
        self.layout.tls.then(|| self.layout.path("tls/cert.pem"))
    }

    /// The password of every sandbox user.
    pub fn password(&self) -> &str {
        &self.layout.password
    }

    /// The IMAP (and SMTP AUTH) login for an address: its local part.
    pub fn login_for(&self, address: &str) -> String {
        let local = address.split_once('@').map_or(address, |(local, _)| local);
        local.to_ascii_lowercase()
    }

    /// Pid of Dovecot's master (also its process group id) while it runs.
    pub fn dovecot_pid(&self) -> Option<u32> {
        self.dovecot.pid()
    }

    /// Pid of Postfix's master (also its process group id) while it runs.
    pub fn postfix_pid(&self) -> Option<u32> {
        self.postfix.pid()
    }

    /// Sends `raw` over SMTP to [`smtp_port`](Self::smtp_port) with lettre, as an outside MTA
    /// would, in one transaction for all of `to`. An empty `envelope_from` sends with the
    /// null sender `<>`. Fails when Postfix is down or refuses a recipient (`550` for an
    /// address that is not a sandbox user).
    pub async fn deliver(&self, envelope_from: &str, to: &[&str], raw: &[u8]) -> Result<()> {
        smtp::deliver(self.smtp_port(), envelope_from, to, raw).await
    }

    /// Puts `raw` into a user's folder as is, with `doveadm save` (no Postfix, no password,
    /// about 11 ms each): fast backlog injection. Creates the folder when needed. Needs
    /// Dovecot running: doveadm looks the user up through Dovecot's auth service.
    pub async fn append(&self, address: &str, folder: &str, raw: &[u8]) -> Result<()> {
        let user = self.layout.user(address)?;
        maildir::folder_dir(&self.layout.maildir(user), folder)?; // same names as `messages`
        dovecot::save(&self.programs, &self.layout, &user.login, folder, raw).await
    }

    /// Creates a folder (e.g. `Processed`) for a user; a no-op when it exists.
    pub async fn create_folder(&self, address: &str, folder: &str) -> Result<()> {
        let user = self.layout.user(address)?;
        maildir::folder_dir(&self.layout.maildir(user), folder)?; // same names as `messages`
        dovecot::create_folder(&self.programs, &self.layout, &user.login, folder).await
    }

    /// The messages in a user's folder, read from the Maildir (`new/` and `cur/`), in
    /// delivery order (Dovecot's save time). `INBOX` is the Maildir root, `Processed` is
    /// `.Processed`; a folder that does not exist (yet) is empty. Messages are stored with
    /// CRLF line ends, as IMAP serves them.
    ///
    /// Postfix hands queued mail to Dovecot over parallel LMTP connections, so messages sent
    /// back to back may arrive in any order; await each one where order matters.
    pub fn messages(&self, address: &str, folder: &str) -> Result<Vec<Vec<u8>>> {
        let user = self.layout.user(address)?;
        let dir = maildir::folder_dir(&self.layout.maildir(user), folder)?;
        maildir::read_messages(&dir)
    }

    /// Polls [`messages`](Self::messages) every 20 ms until `pred` holds and returns them.
    /// On timeout the error says how many messages were there and shows the server logs.
    pub async fn wait_for(
        &self,
        address: &str,
        folder: &str,
        within: Duration,
        pred: impl Fn(&[Vec<u8>]) -> bool,
    ) -> Result<Vec<Vec<u8>>> {
        let deadline = Instant::now() + within;
        loop {
            let messages = self.messages(address, folder)?;
            if pred(&messages) {
                return Ok(messages);
            }
            if Instant::now() >= deadline {
                bail!(
                    "timed out after {within:?} waiting for {address} {folder}: {} message(s) \
                     there, Postfix queue holds {}\n{}",
                    messages.len(),
                    self.postfix_queue_len(),
                    self.log_tail(30)
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Stops Dovecot (IMAP and LMTP); Postfix keeps accepting and queues (deferred).
    pub async fn stop_dovecot(&mut self, mode: StopMode) -> Result<()> {
        let ports = dovecot::ports(&self.layout);
        self.dovecot.stop(mode, &ports).await
    }

    /// Starts Dovecot again with the same ports and config, then has a running Postfix
    /// deliver its queue at once (instead of after its 1-2 s backoff).
    pub async fn start_dovecot(&mut self) -> Result<()> {
        let started = start::bring_up_dovecot(&mut self.dovecot, &self.layout).await;
        started.with_context(|| self.log_tail(20))?;
        if self.postfix.pid().is_some() {
            self.flush_postfix_queue().await?;
        }
        Ok(())
    }

    /// Asks Postfix to deliver everything queued now, ignoring retry times (`postqueue -f`).
    pub async fn flush_postfix_queue(&self) -> Result<()> {
        postfix::flush(&self.layout, &self.programs).await
    }

    /// Stops Postfix; SMTP connections are refused until [`start_postfix`](Self::start_postfix).
    /// Queued mail stays in the spool. A [`StopMode::Kill`] after Dovecot saved a message but
    /// before Postfix removed it from its queue delivers that message again after the restart
    /// (at-least-once); call [`wait_for_empty_queue`](Self::wait_for_empty_queue) first to
    /// avoid that.
    pub async fn stop_postfix(&mut self, mode: StopMode) -> Result<()> {
        let ports = postfix::ports(&self.layout);
        self.postfix.stop(mode, &ports).await
    }

    /// Starts Postfix again with the same ports, config and queue.
    pub async fn start_postfix(&mut self) -> Result<()> {
        let started = start::bring_up_postfix(&mut self.postfix, &self.layout).await;
        started.with_context(|| self.log_tail(20))
    }

    /// Messages still queued in Postfix (files under active, deferred, incoming, maildrop).
    pub fn postfix_queue_len(&self) -> usize {
        postfix::queue_len(&self.layout)
    }

    /// Polls until Postfix's queue is empty (every message handed to Dovecot or bounced).
    /// The queue file goes only after Dovecot confirmed the LMTP delivery, so this can lag
    /// the message's arrival in the Maildir by a few milliseconds.
    pub async fn wait_for_empty_queue(&self, within: Duration) -> Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let queued = self.postfix_queue_len();
            if queued == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "Postfix queue still holds {queued} message(s) after {within:?}\n{}",
                    self.log_tail(30)
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// The last `lines` lines of the Dovecot and Postfix logs (and their stderr), for
    /// failing tests.
    pub fn log_tail(&self, lines: usize) -> String {
        let files = [dovecot::STDERR, dovecot::LOG, postfix::STDERR, postfix::LOG];
        layout::log_tail(&self.layout.root, &files, lines)
    }

    /// Ends every IMAP session of a user (`doveadm kick`), as a server does when the token
    /// a session logged in with expires (Microsoft 365's "AccessTokenExpired").
    pub async fn kick(&self, address: &str) -> Result<()> {
        let user = self.layout.user(address)?;
        dovecot::kick(&self.programs, &self.layout, &user.login).await
    }

    /// Polite stop (SIGTERM to Postfix, then Dovecot) and removal of the temp dir (kept when
    /// [`KEEP_ENV`] is set).
    pub async fn shutdown(mut self) -> Result<()> {
        let postfix = self.stop_postfix(StopMode::Term).await;
        let dovecot = self.stop_dovecot(StopMode::Term).await;
        let removed = match self.dir.take() {
            Some(dir) => release_dir(dir).context("Failed to remove the sandbox dir"),
            None => Ok(()),
        };
        postfix.and(dovecot).and(removed)
    }
}

impl Drop for MailSandbox {
    /// SIGKILL to both process groups, reap, wait (up to 2 s) until their ports refuse, and
    /// remove the temp dir unless [`KEEP_ENV`] is set.
    fn drop(&mut self) {
        self.postfix.kill_now(&postfix::ports(&self.layout));
        self.dovecot.kill_now(&dovecot::ports(&self.layout));
        if let Some(dir) = self.dir.take()
            && let Err(err) = release_dir(dir)
        {
            tracing::warn!("Failed to remove the mail sandbox dir: {err}");
        }
    }
}

/// Removes the dir, or keeps it and says where when [`KEEP_ENV`] is set.
fn release_dir(dir: TempDir) -> std::io::Result<()> {
    if std::env::var_os(KEEP_ENV).is_some() {
        eprintln!(
            "{KEEP_ENV} is set: mail sandbox kept at {}",
            dir.keep().display()
        );
        return Ok(());
    }
    dir.close()
}
