//! `klachtenbot doctor`: the first command an administrator runs. Checks, in order, the
//! configuration, the database, the OAuth2 token, the IMAP mailbox and the SMTP server, one
//! line each (✔ passed, ! works with a limitation, ✘ failed, with the server's own words),
//! and exits with the sysexits code of the first failure. Sends no mail.

mod database;
mod mail;

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::exit;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Passed.
    Pass,
    /// Works, with a limitation worth knowing (no IDLE: the bot polls).
    Warn,
    /// Failed; the code is the exit code it gives.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// What was checked ("IMAP login").
    pub check: String,
    /// The outcome.
    pub verdict: Verdict,
    /// What was found, or the server's own words on failure.
    pub detail: String,
    /// The sysexits code of a failure (78 configuration, 69 unavailable, 77 refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u8>,
}

impl Line {
    fn pass(check: &str, detail: impl Into<String>) -> Line {
        Line {
            check: check.into(),
            verdict: Verdict::Pass,
            detail: detail.into(),
            exit_code: None,
        }
    }

    fn warn(check: &str, detail: impl Into<String>) -> Line {
        Line {
            verdict: Verdict::Warn,
            ..Line::pass(check, detail)
        }
    }

    fn fail(check: &str, code: u8, detail: impl Into<String>) -> Line {
        Line {
            verdict: Verdict::Fail,
            exit_code: Some(code),
            ..Line::pass(check, detail)
        }
    }

    fn failed(&self) -> bool {
        self.verdict == Verdict::Fail
    }
}

/// The report so far; a failed step ends its group (no login without a connection).
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The lines in order.
    pub checks: Vec<Line>,
}

impl Report {
    /// Adds a line; true when it passed (the group may go on).
    fn add(&mut self, line: Line) -> bool {
        let ok = !line.failed();
        self.checks.push(line);
        ok
    }

    /// The exit code of the first failure, or 0.
    pub fn exit_code(&self) -> u8 {
        self.checks
            .iter()
            .find_map(|l| l.exit_code)
            .unwrap_or(exit::OK)
    }

    fn print(&self, json: bool) {
        if json {
            let value = serde_json::json!({
                "ok": self.exit_code() == exit::OK,
                "exit_code": self.exit_code(),
                "checks": self.checks,
            });
            println!("{value:#}");
            return;
        }
        for l in &self.checks {
            let mark = match l.verdict {
                Verdict::Pass => "✔",
                Verdict::Warn => "!",
                Verdict::Fail => "✘",
            };
            println!("{mark} {}: {}", l.check, l.detail);
        }
    }
}

/// Runs every check and prints the report; the exit code is the first failure's.
pub async fn run(config: Option<&PathBuf>, json: bool) -> ExitCode {
    let report = check_all(config).await;
    report.print(json);
    ExitCode::from(report.exit_code())
}

/// The checks, in order; also what the tests look at.
pub async fn check_all(config: Option<&PathBuf>) -> Report {
    let mut report = Report::default();
    let settings = match super::load_settings(config) {
        Ok(s) => s,
        Err(e) => {
            let problems: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
            let detail = format!("{}: {}", e.path, problems.join("; "));
            report.add(Line::fail("configuration", exit::CONFIG, detail));
            return report;
        }
    };
    let source = config.map_or_else(|| "klachtenbot.toml".into(), |p| p.display().to_string());
    report.add(Line::pass("configuration", format!("{source} is valid")));
    database::check(&settings, &mut report).await;
    mail::check(&settings, &mut report).await;
    report
}
