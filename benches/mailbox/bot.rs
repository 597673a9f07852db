//! The bot under test: the release `klachtenbot run` binary as a child process, so its CPU
//! time and peak RSS are its own (read from `/proc/<pid>`), not the benchmark's.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use klachtenbot::sandbox::MailSandbox;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::BOT;

/// A running `klachtenbot run`.
pub struct BotProcess {
    child: Child,
    /// Its log (standard error), kept in the sandbox dir.
    pub log: PathBuf,
}

/// The configuration the bot runs with: the bench's sandbox, SQLite in the sandbox dir,
/// batches of 200, the default log level (info: one line per message and per mail sent;
/// `KB_BENCH_LOG=info,sqlx::query=debug` shows every statement too).
pub fn config(sandbox: &MailSandbox) -> anyhow::Result<PathBuf> {
    let dir = sandbox.dir();
    let level = std::env::var("KB_BENCH_LOG").unwrap_or_else(|_| "info".into());
    let pw = dir.join("pw");
    std::fs::write(&pw, sandbox.password())?;
    let toml = format!(
        "[organisation]\nmail_domain = \"concreet.test\"\n\
         [mailbox]\naddress = \"{BOT}\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\nuser = \"{}\"\npassword_file = \"{}\"\nbatch_size = 200\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\nretry_initial = \"1s\"\n\
         [database]\nurl = \"sqlite://{}\"\n[limits]\nauto_replies_per_sender = \"1000000 per 24h\"\n\
         [logging]\nformat = \"text\"\nlevel = \"{level}\"\n",
        sandbox.imap_port(),
        sandbox.login_for(BOT),
        pw.display(),
        sandbox.smtp_port(),
        dir.join("bench.db").display()
    );
    let path = dir.join("klachtenbot.toml");
    std::fs::write(&path, toml)?;
    Ok(path)
}

impl BotProcess {
    /// Starts `klachtenbot --config <config> run`.
    pub fn start(sandbox: &MailSandbox) -> anyhow::Result<BotProcess> {
        let config = config(sandbox)?;
        let log = sandbox.dir().join("klachtenbot.log");
        // KB_BENCH_BOT runs another build (an older commit's, to measure what a change bought).
        let program = std::env::var_os("KB_BENCH_BOT").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_klachtenbot")),
            PathBuf::from,
        );
        let child = Command::new(program)
            .arg("--config")
            .arg(&config)
            .arg("run")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("Failed to start klachtenbot")?;
        Ok(BotProcess { child, log })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails when the bot exited early (its log says why).
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            anyhow::bail!("klachtenbot exited with {status}:\n{}", tail.join("\n"));
        }
        Ok(())
    }

    /// SIGTERM, then waits up to 10 s for the exit (SIGKILL after that).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = Pid::from_raw(i32::try_from(self.child.id())?);
        kill(pid, Signal::SIGTERM).ok();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.child.kill().ok();
                self.child.wait()?;
                anyhow::bail!("klachtenbot did not stop within 10 s of SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }
}
