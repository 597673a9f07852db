//! Start-up: build the temp dir and configs, bring both servers up, retry port races.
//!
//! Follows the steps of MAILSERVER.md §8.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::layout::{self, Layout, Programs, SandboxUser};
use super::ports::Ports;
use super::process::{ExitedDuringStartup, Server};
use super::{MailSandbox, SandboxConfig, StopMode, dovecot, postfix, tls};

/// Start attempts before giving up; only a server exiting during start-up (a port taken
/// between picking and binding it) is retried, with fresh ports.
const START_ATTEMPTS: u32 = 5;
/// Upper bound for a greeting; a healthy server answers in 0.02-0.11 s (MAILSERVER.md §3, §5).
const GREETING_WITHIN: Duration = Duration::from_secs(10);

/// Checks the machine, then starts a sandbox, retrying with new ports after a port race.
pub(super) async fn start(cfg: SandboxConfig) -> Result<MailSandbox> {
    let programs = layout::preflight(cfg.tls)?;
    let users = layout::parse_users(&cfg)?;
    let began = Instant::now();
    let mut attempt = 1;
    loop {
        match start_once(&cfg, &programs, users.clone()).await {
            Ok(sandbox) => {
                let dir = sandbox.dir().display();
                tracing::debug!(%dir, elapsed = ?began.elapsed(), "mail sandbox up");
                return Ok(sandbox);
            }
            Err(err) if attempt < START_ATTEMPTS && err.is::<PortRace>() => {
                tracing::debug!(attempt, "mail sandbox start failed, retrying: {err:#}");
                attempt += 1;
            }
            Err(err) => {
                return Err(err.context(format!(
                    "Failed to start the mail sandbox ({attempt} attempt(s))"
                )));
            }
        }
    }
}

async fn start_once(
    cfg: &SandboxConfig,
    programs: &Programs,
    users: Vec<SandboxUser>,
) -> Result<MailSandbox> {
    // Short path under /tmp: unix sockets in run/ are limited to 107 bytes (§7).
    let dir = tempfile::Builder::new().prefix("kb-").tempdir_in("/tmp")?;
    let root = dir.path().to_path_buf();
    layout::create_dirs(&root)?;
    let (ports, port_claims) = Ports::pick(cfg.tls)?;
    let layout = Layout {
        nonce: root
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        root,
        ports,
        users,
        password: cfg.password.clone(),
        tls: cfg.tls,
        oauth2_introspection: cfg.oauth2_introspection.clone(),
    };
    if let Some(openssl) = &programs.openssl {
        tls::make_certificate(openssl, &layout.path("tls")).await?;
    }
    dovecot::write_config(&layout)?;
    postfix::write_config(&layout)?;
    let mut sandbox = MailSandbox {
        dir: Some(dir),
        dovecot: dovecot::server(&layout, programs),
        postfix: postfix::server(&layout, programs),
        layout,
        programs: programs.clone(),
        _port_claims: port_claims,
    };
    // `postfix check` (the slowest step, ~0.3 s) does not need Dovecot: run them together.
    let (dovecot_up, checked) = tokio::join!(
        bring_up_dovecot(&mut sandbox.dovecot, &sandbox.layout),
        postfix::check(&sandbox.layout, &sandbox.programs),
    );
    let mut up = dovecot_up.and(checked);
    if up.is_ok() {
        up = bring_up_postfix(&mut sandbox.postfix, &sandbox.layout).await;
    }
    if let Err(err) = up {
        // The dir and its logs vanish with the failed sandbox: keep their tail.
        let logs = sandbox.log_tail(20);
        let race = is_port_race(&err, &logs);
        let err = err.context(format!("mail servers did not come up; logs:\n{logs}"));
        return Err(if race { err.context(PortRace) } else { err });
    }
    Ok(sandbox)
}

/// Spawns Dovecot and waits for its `* OK` greeting.
pub(super) async fn bring_up_dovecot(server: &mut Server, layout: &Layout) -> Result<()> {
    server.spawn()?;
    let greeted = server
        .wait_for_greeting(layout.ports.imap, "* OK", &layout.nonce, GREETING_WITHIN)
        .await;
    stop_on_error(server, greeted).await
}

/// Spawns Postfix's master and waits for the `220` greeting on the SMTP port and, in the TLS
/// variant, on the submission port (the master binds every listener before serving any).
pub(super) async fn bring_up_postfix(server: &mut Server, layout: &Layout) -> Result<()> {
    server.spawn()?;
    let mut greeted = server
        .wait_for_greeting(layout.ports.smtp, "220", &layout.nonce, GREETING_WITHIN)
        .await;
    if let (Ok(()), Some(port)) = (&greeted, layout.ports.submission) {
        greeted = server
            .wait_for_greeting(port, "220", &layout.nonce, GREETING_WITHIN)
            .await;
    }
    stop_on_error(server, greeted).await
}

/// Kills a half-started server so a failed (re)start leaves nothing running.
async fn stop_on_error(server: &mut Server, result: Result<()>) -> Result<()> {
    if result.is_err() {
        let _ = server.stop(StopMode::Kill, &[]).await;
    }
    result
}

/// Marks a start failure that a retry with new ports can fix.
#[derive(Debug)]
struct PortRace;

impl std::fmt::Display for PortRace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a port was taken between picking and binding it")
    }
}

/// A port race makes a server exit during start-up: Dovecot says "Address already in use"
/// on stderr, Postfix's master exits with 1 and logs nothing at all (MAILSERVER.md §2), so
/// any early Postfix exit counts. Other Dovecot exits (config errors) are not retried.
fn is_port_race(err: &anyhow::Error, logs: &str) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<ExitedDuringStartup>()
            .is_some_and(|exited| {
                exited.server == "postfix" || logs.contains("Address already in use")
            })
    })
}
