//! The command line (clap): `run`, `ingest`, `list`, `show`, `status`, `config check`,
//! `demo`, `doctor`. Each command returns an exit code in the sysexits(3) convention so an MTA pipe
//! knows whether to retry.

pub mod doctor;
mod ingest;
mod inspect;
mod migrate_db;
pub mod privacy;
pub mod report;
mod unregistered;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{ConfigError, Problem, Settings};
use crate::domain::Status;

/// sysexits(3) codes.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The input data was incorrect (an empty or unreadable message file).
    pub const DATAERR: u8 = 65;
    /// An input file did not exist or was not readable.
    pub const NOINPUT: u8 = 66;
    /// A service is unavailable (database, IMAP or SMTP server, token endpoint).
    pub const UNAVAILABLE: u8 = 69;
    /// Internal software error.
    pub const SOFTWARE: u8 = 70;
    /// Temporary failure: the MTA should retry later.
    pub const TEMPFAIL: u8 = 75;
    /// Permission denied: a login or token refused.
    pub const NOPERM: u8 = 77;
    /// Configuration error.
    pub const CONFIG: u8 = 78;
}

/// klachtenbot: the e-mail intake bot of the complaints procedure.
#[derive(Debug, Parser)]
#[command(name = "klachtenbot", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (TOML). Without it, ./klachtenbot.toml is used when present,
    /// else the embedded defaults (SQLite in ./klachtenbot.db, no mailbox).
    #[arg(long, short, global = true, env = "KLACHTENBOT_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Watch the mailbox (IMAP IDLE) and send the outbox (SMTP) until SIGINT/SIGTERM.
    Run,
    /// Take messages through the door: files, or `-` for standard input (MTA pipe).
    ///
    /// Exit codes: 0 done (also for duplicates and flagged mail), 65/66 unusable input file,
    /// 75 temporary failure (database locked or unreachable) so the MTA retries.
    Ingest {
        /// `.eml` files, or `-` (the default) for one message on standard input.
        files: Vec<PathBuf>,
    },
    /// List complaints (oldest first), flagged mail, or the outbox.
    List {
        /// Only open complaints.
        #[arg(long, conflicts_with = "status")]
        open: bool,
        /// Only complaints with this status (new, acknowledged, in_progress, awaiting_verdict, closed).
        #[arg(long)]
        status: Option<Status>,
        /// Show the open flags (mail that needs the officer) instead.
        #[arg(long, conflicts_with_all = ["open", "status", "outbox"])]
        flagged: bool,
        /// Show the outbox instead (pending and failed mail first).
        #[arg(long, conflicts_with_all = ["open", "status"])]
        outbox: bool,
        /// Only open complaints with a deadline that has passed.
        #[arg(long, conflicts_with_all = ["flagged", "outbox"])]
        overdue: bool,
        /// Only open complaints with a deadline within this time, e.g. "7d" or "5wd".
        #[arg(long, value_name = "DURATION", conflicts_with_all = ["flagged", "outbox"])]
        due_within: Option<String>,
        /// Show the mail that did not become a complaint (automated, loops, flagged) instead.
        #[arg(long, conflicts_with_all = ["open", "status", "flagged", "outbox", "overdue", "due_within"])]
        unregistered: bool,
        /// With --unregistered: how far back, e.g. "24h", "7d" (the default) or "2w".
        #[arg(long, value_name = "DURATION", requires = "unregistered",
              value_parser = |s: &str| unregistered::parse_since(s).map(|_| s.to_string()))]
        since: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show one complaint: the record, its timeline, its messages and its pending mail.
    Show {
        /// The reference, e.g. KL-2026-0042.
        reference: crate::domain::Reference,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show the mailbox cursors, the outbox queue and the workers' last errors.
    Status {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Configuration commands.
    Config {
        /// What to do with the configuration.
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// The periodic report for management: totals, breakdowns, lead times, deadlines met,
    /// root causes, recommendations and measures, compared with the previous period.
    Report(report::ReportArgs),
    /// Copy the configured SQLite register into an empty PostgreSQL database.
    ///
    /// All or nothing: every table is copied in one transaction on the target, then counted
    /// and checksummed on both sides (the figures are printed); any difference, or any error,
    /// rolls the whole copy back, so a failed run leaves the target empty and can simply be
    /// run again. A target that holds data is refused. Stop `klachtenbot run` first.
    #[command(name = "migrate-db")]
    MigrateDb {
        /// The target, e.g. postgres://klachtenbot@db.example.nl/klachtenbot?sslmode=verify-full.
        /// Without a password: it comes from PGPASSWORD or --password-env.
        #[arg(long, value_name = "URL")]
        to: String,
        /// Read the target's password from this environment variable instead of PGPASSWORD.
        #[arg(long, value_name = "NAME")]
        password_env: Option<String>,
    },
    /// Privacy (AVG/GDPR): retention sweep, access export and erasure per person.
    Privacy {
        /// What to do.
        #[command(subcommand)]
        action: privacy::PrivacyAction,
    },
    /// Local demo: real Dovecot and Postfix in a temporary folder, the bot on SQLite,
    /// sample complaints delivered; runs until Ctrl-C.
    Demo,
    /// Checks configuration, database, OAuth2 token, IMAP and SMTP, one line each; exits
    /// with the sysexits code of the first failure. Sends nothing.
    Doctor {
        /// One JSON object for tools.
        #[arg(long)]
        json: bool,
    },
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Report every problem in the configuration (key and what is wrong); non-zero exit when
    /// there are any.
    Check,
}

/// Loads the settings named on the command line (or the defaults).
pub fn load_settings(explicit: Option<&PathBuf>) -> Result<Settings, ConfigError> {
    match explicit {
        Some(path) => Settings::load(path),
        None => {
            let default = PathBuf::from("klachtenbot.toml");
            if default.exists() {
                Settings::load(&default)
            } else {
                Settings::from_toml("", std::path::Path::new(".")).map_err(|problems| ConfigError {
                    path: "(embedded defaults)".into(),
                    problems,
                })
            }
        }
    }
}

/// Runs a command that needs settings; `run` and `demo` are wired in `main`.
pub async fn dispatch(command: &Command, settings: Settings) -> anyhow::Result<ExitCode> {
    let code = match command {
        Command::Ingest { files } => ingest::run(settings, files).await?,
        Command::List {
            open,
            status,
            flagged,
            outbox,
            overdue,
            due_within,
            unregistered,
            since,
            json,
        } => {
            let bot = crate::app::Bot::open(settings).await?;
            if *unregistered {
                let since = since.as_deref().unwrap_or(unregistered::DEFAULT_SINCE);
                let code = unregistered::list(&bot, since, *json).await?;
                return Ok(ExitCode::from(code));
            }
            let what = inspect::ListWhat {
                open: *open,
                status: *status,
                flagged: *flagged,
                outbox: *outbox,
                overdue: *overdue,
                due_within: due_within.clone(),
            };
            inspect::list(&bot, what, *json).await?
        }
        Command::Show { reference, json } => {
            let bot = crate::app::Bot::open(settings).await?;
            inspect::show(&bot, *reference, *json).await?
        }
        Command::Status { json } => {
            let bot = crate::app::Bot::open(settings).await?;
            inspect::status(&bot, *json).await?
        }
        Command::Report(args) => report::run(settings, args).await?,
        Command::MigrateDb { to, password_env } => {
            migrate_db::run(settings, to, password_env.as_deref()).await?
        }
        Command::Privacy { action } => privacy::run(settings, action).await?,
        Command::Config {
            action: ConfigAction::Check,
        } => {
            println!("configuration is valid");
            exit::OK
        }
        Command::Run | Command::Demo | Command::Doctor { .. } => exit::SOFTWARE,
    };
    Ok(ExitCode::from(code))
}

/// Prints configuration problems, one per line.
pub fn print_problems(path: &str, problems: &[Problem]) {
    eprintln!("{path}: {} problem(s)", problems.len());
    for p in problems {
        eprintln!("  {p}");
    }
}
