//! A server process in its own process group: spawn, wait for its greeting, stop.
//!
//! Both Dovecot (`-F`) and Postfix (`master -d`) run in the foreground as our children, each
//! as the leader of a new process group, so `killpg` reaches every worker they forked and we
//! reap the master ourselves (MAILSERVER.md §3 and §5, "Start and stop").

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::StopMode;

/// How long a polite SIGTERM may take before the group gets SIGKILL. Dovecot's master is
/// usually gone after ~1 s, once it took 6 s (MAILSERVER.md §3, stop-method table).
const TERM_GRACE: Duration = Duration::from_secs(10);

/// How long to wait for a stopped server's ports to refuse connections. Killed processes
/// close their sockets within ~10 ms; this only bounds a pathological case.
const PORT_RELEASE: Duration = Duration::from_secs(5);

/// A server that exited while we waited for its greeting. Usually a port race (Dovecot exits
/// with 89 on "Address already in use", Postfix's master with 1 after ~1 s, MAILSERVER.md
/// §2), so `MailSandbox::start` retries with new ports when it sees this error.
#[derive(Debug)]
pub(crate) struct ExitedDuringStartup {
    pub server: &'static str,
    pub status: ExitStatus,
}

impl fmt::Display for ExitedDuringStartup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} exited during start-up ({})",
            self.server, self.status
        )?;
        if self.server == "postfix" {
            // Postfix writes fatal errors to stderr only when it is a tty (MAILSERVER.md §5).
            f.write_str("; Postfix logs nothing then, the usual cause is a port in use")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExitedDuringStartup {}

/// One server: how to (re)start it and, while it runs, its child and process group.
#[derive(Debug)]
pub(crate) struct Server {
    name: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
    /// stdout and stderr go here (appended), so start-up errors survive for `log_tail`.
    output: PathBuf,
    child: Option<Child>,
    pgid: Option<Pid>,
}

impl Server {
    /// A server that is not running yet.
    pub fn new(name: &'static str, program: PathBuf, args: Vec<OsString>, output: PathBuf) -> Self {
        Server {
            name,
            program,
            args,
            output,
            child: None,
            pgid: None,
        }
    }

    /// Spawns the program as the leader of a new process group with stdin from /dev/null.
    /// Postfix's master needs to be a group leader: on SIGTERM it signals its own group.
    pub fn spawn(&mut self) -> Result<()> {
        if self.child.is_some() {
            bail!("{} is already running", self.name);
        }
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&self.output)
            .with_context(|| format!("Failed to open {}", self.output.display()))?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("Failed to spawn {}", self.program.display()))?;
        let pid = child.id().context("spawned child has no pid")?;
        self.pgid = Some(Pid::from_raw(i32::try_from(pid)?));
        self.child = Some(child);
        Ok(())
    }

    /// The master's pid while it runs (it is also the process group id).
    pub fn pid(&self) -> Option<u32> {
        self.pgid.and_then(|p| u32::try_from(p.as_raw()).ok())
    }

    /// `Some(status)` when the master has exited (and is reaped now), `None` while it runs.
    fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Stops the whole process group; a no-op when not running.
    pub async fn stop(&mut self, mode: StopMode, ports: &[u16]) -> Result<()> {
        let (Some(mut child), Some(pgid)) = (self.child.take(), self.pgid.take()) else {
            return Ok(());
        };
        match mode {
            StopMode::Kill => signal_group(pgid, Signal::SIGKILL),
            StopMode::Term => {
                signal_group(pgid, Signal::SIGTERM);
                if tokio::time::timeout(TERM_GRACE, child.wait())
                    .await
                    .is_err()
                {
                    tracing::warn!(server = self.name, "no exit after SIGTERM; sending SIGKILL");
                }
                // Workers may outlive the master and keep its inherited listening sockets,
                // which would make a restart fail with "Address already in use".
                signal_group(pgid, Signal::SIGKILL);
            }
        }
        child
            .wait()
            .await
            .with_context(|| format!("Failed to reap {}", self.name))?;
        wait_until_refused(ports).await;
        Ok(())
    }

    /// SIGKILL to the group, a short synchronous reap, and a bounded wait until `ports`
    /// refuse connections (workers that inherited the listeners may need a moment to die
    /// on a busy machine); for `Drop`, which cannot await.
    pub fn kill_now(&mut self, ports: &[u16]) {
        let (Some(mut child), Some(pgid)) = (self.child.take(), self.pgid.take()) else {
            return;
        };
        signal_group(pgid, Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(2);
        // SIGKILL takes effect within milliseconds; if the reap still misses, tokio's orphan
        // queue reaps the child once it is dropped.
        while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(2));
        }
        for &port in ports {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            while Instant::now() < deadline
                && std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
            {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }

    /// Polls `127.0.0.1:port` until the server there greets with a line that starts with
    /// `prefix` and contains `nonce`. Fails early with [`ExitedDuringStartup`] if our process
    /// exits. Polling connect with a deadline, never a bare sleep (MAILSERVER.md §8).
    pub async fn wait_for_greeting(
        &mut self,
        port: u16,
        prefix: &str,
        nonce: &str,
        within: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.exit_status() {
                return Err(ExitedDuringStartup {
                    server: self.name,
                    status,
                }
                .into());
            }
            if let Some(line) = read_greeting(port).await
                && line.starts_with(prefix)
                && line.contains(nonce)
            {
                return Ok(());
            }
            // Anything else (refused, silence, someone else's greeting) means "not yet": our
            // server either comes up or exits, and the exit check above sees that.
            if Instant::now() >= deadline {
                bail!(
                    "{} gave no greeting on port {port} within {within:?}",
                    self.name
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// `killpg`, ignoring "no such process" (the group is already gone).
fn signal_group(pgid: Pid, signal: Signal) {
    if let Err(err) = killpg(pgid, signal)
        && err != nix::errno::Errno::ESRCH
    {
        tracing::warn!(%pgid, ?signal, %err, "killpg failed");
    }
}

/// Connects, reads the first line, says goodbye. `None` when there is no greeting (yet).
async fn read_greeting(port: u16) -> Option<String> {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let mut buf = Vec::with_capacity(128);
        let mut chunk = [0u8; 256];
        while !buf.contains(&b'\n') {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let line = String::from_utf8_lossy(&buf).into_owned();
        // A polite end keeps "lost connection" noise out of the logs; best effort.
        let bye: &[u8] = if line.starts_with('*') {
            b"z LOGOUT\r\n"
        } else {
            b"QUIT\r\n"
        };
        let _ = stream.write_all(bye).await;
        Some(line)
    };
    tokio::time::timeout(Duration::from_secs(1), attempt)
        .await
        .ok()
        .flatten()
}

/// Waits (bounded) until nothing accepts connections on these ports any more, so a restart
/// can bind them again.
async fn wait_until_refused(ports: &[u16]) {
    let deadline = Instant::now() + PORT_RELEASE;
    for &port in ports {
        while Instant::now() < deadline {
            let probe = TcpStream::connect(("127.0.0.1", port));
            match tokio::time::timeout(Duration::from_millis(200), probe).await {
                Ok(Err(_)) => break,
                _ => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }
}
