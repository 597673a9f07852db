//! The `klachtenbot` binary as an MTA pipe and an officer use it: exit codes (sysexits),
//! printed outcomes, JSON listings, `config check` and `--help`.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::{BIN, TestMail, sqlite_url, test_toml};
use klachtenbot::domain::Reference;
use serde_json::Value;

/// A temporary folder with a configuration on a SQLite file in it.
struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let toml = test_toml(&sqlite_url(dir.path()), "");
        Self::with_config(dir, &toml)
    }

    fn with_database_url(url: &str) -> Setup {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let toml = test_toml(url, "");
        Self::with_config(dir, &toml)
    }

    fn with_config(dir: tempfile::TempDir, toml: &str) -> Setup {
        let config = dir.path().join("klachtenbot.toml");
        std::fs::write(&config, toml).expect("write the configuration");
        Setup { dir, config }
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write a test file");
        path
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&self.config)
            .args(args)
            .current_dir(self.dir.path());
        cmd.env_remove("KLACHTENBOT_CONFIG").env("RUST_LOG", "warn");
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run klachtenbot"))
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start klachtenbot");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin)
            .expect("write stdin");
        Run::from(child.wait_with_output().expect("wait for klachtenbot"))
    }

    /// Ingests a complaint file and returns its reference.
    fn registered(&self, name: &str, mail: &TestMail) -> Reference {
        let path = self.file(name, &mail.bytes());
        let run = self.run(&["ingest", path.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{run}");
        assert!(run.stdout.contains("registered KL-"), "{run}");
        Reference::find(&run.stdout).unwrap_or_else(|| panic!("no reference in {run}"))
    }
}

/// What one run printed and returned.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self}"))
    }
}

fn complaint_mail() -> TestMail {
    TestMail::new(
        "Klaas Klant <klaas@klant.example>",
        "Examen niet ontvangen",
        "cli-1@klant.example",
    )
}

#[test]
fn ingest_registers_a_file_and_then_calls_it_a_duplicate() {
    let s = Setup::new();
    let path = s.file("klacht.eml", &complaint_mail().bytes());
    let first = s.run(&["ingest", path.to_str().unwrap()]);
    assert_eq!(first.code, 0, "{first}");
    let reference =
        Reference::find(&first.stdout).unwrap_or_else(|| panic!("no reference: {first}"));
    assert!(
        first.stdout.contains(&format!("registered {reference}")),
        "{first}"
    );
    assert_eq!(reference.number(), 1);

    let again = s.run(&["ingest", path.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{again}");
    assert!(again.stdout.contains("duplicate"), "{again}");
    assert!(!again.stdout.contains("registered"), "{again}");
}

#[test]
fn ingest_dash_reads_one_mail_from_standard_input() {
    let s = Setup::new();
    let run = s.run_with_stdin(&["ingest", "-"], &complaint_mail().bytes());
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("registered KL-"), "{run}");
    // Without arguments standard input is the default too (the MTA pipe).
    let mail = TestMail::new("anna@klant.example", "Tweede klacht", "cli-2@klant.example");
    let run = s.run_with_stdin(&["ingest"], &mail.bytes());
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("registered KL-"), "{run}");
}

#[test]
fn ingest_of_a_missing_file_exits_66() {
    let s = Setup::new();
    let missing = s.dir.path().join("bestaat-niet.eml");
    let run = s.run(&["ingest", missing.to_str().unwrap()]);
    assert_eq!(run.code, 66, "{run}");
    assert!(
        run.stderr.contains("bestaat-niet.eml"),
        "names the file: {run}"
    );
}

#[test]
fn ingest_of_an_empty_file_exits_65() {
    let s = Setup::new();
    for (name, bytes) in [("leeg.eml", &b""[..]), ("witruimte.eml", &b" \r\n\r\n"[..])] {
        let path = s.file(name, bytes);
        let run = s.run(&["ingest", path.to_str().unwrap()]);
        assert_eq!(run.code, 65, "{name}: {run}");
    }
}

#[test]
fn ingest_with_an_unreachable_database_exits_75_so_the_mta_retries() {
    // A PostgreSQL server whose socket is not there: fails at once, unlike a closed TCP port
    // (which the pool retries for its whole 15 s acquire timeout).
    let s = Setup::with_database_url(
        "postgres://kb@localhost/kb?host=/nonexistent-klachtenbot-socket-dir",
    );
    let path = s.file("klacht.eml", &complaint_mail().bytes());
    let run = s.run(&["ingest", path.to_str().unwrap()]);
    assert_eq!(run.code, 75, "{run}");
    assert!(run.stdout.is_empty(), "nothing claimed as done: {run}");
    let run = s.run_with_stdin(&["ingest", "-"], &complaint_mail().bytes());
    assert_eq!(run.code, 75, "{run}");
}

#[test]
fn list_json_shows_reference_status_complainant_and_explain_deadline() {
    let s = Setup::new();
    let reference = s.registered("klacht.eml", &complaint_mail());
    let run = s.run(&["list", "--json"]);
    assert_eq!(run.code, 0, "{run}");
    let list = run.json();
    let items = list.as_array().unwrap_or_else(|| panic!("an array: {run}"));
    assert_eq!(items.len(), 1, "{run}");
    let c = &items[0];
    assert_eq!(c["reference"], reference.to_string());
    assert_eq!(c["status"], "acknowledged");
    assert_eq!(c["complainant"]["email"], "klaas@klant.example");
    assert_eq!(c["subject"], "Examen niet ontvangen");
    let explain_by = c["deadlines"]["explain_by"]
        .as_str()
        .unwrap_or_else(|| panic!("explain_by: {run}"));
    let explain_by: jiff::Timestamp = explain_by.parse().expect("an RFC 3339 timestamp");
    let received: jiff::Timestamp = c["received_at"].as_str().unwrap().parse().unwrap();
    // Two weeks for the explanation (PROCEDURE.md step 5), in whatever unit the policy counts.
    let days = explain_by.duration_since(received).as_hours() / 24;
    assert!(
        (13..=15).contains(&days),
        "explain_by {explain_by} is {days} days after {received}"
    );
}

#[test]
fn show_json_has_the_complaint_its_timeline_messages_and_outbox() {
    let s = Setup::new();
    let reference = s.registered("klacht.eml", &complaint_mail());
    let run = s.run(&["show", &reference.to_string(), "--json"]);
    assert_eq!(run.code, 0, "{run}");
    let shown = run.json();
    assert_eq!(shown["complaint"]["reference"], reference.to_string());
    let kinds: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"registered") && kinds.contains(&"mail_out"),
        "timeline kinds {kinds:?}"
    );
    let messages = shown["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{run}");
    assert_eq!(messages[0]["from_address"], "klaas@klant.example");
    let outbox = shown["outbox"].as_array().unwrap();
    assert_eq!(outbox.len(), 1, "{run}");
    assert_eq!(outbox[0]["kind"], "acknowledgement");
    assert_eq!(outbox[0]["recipients"], "klaas@klant.example");
    assert_eq!(
        outbox[0]["subject"],
        format!("[{reference}] Ontvangstbevestiging: Examen niet ontvangen")
    );

    let unknown = s.run(&["show", "KL-1999-0042", "--json"]);
    assert_ne!(unknown.code, 0, "{unknown}");
    assert!(unknown.stderr.contains("KL-1999-0042"), "{unknown}");
}

#[test]
fn config_check_lists_every_broken_key_exits_78_and_never_prints_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("imap-wachtwoord"),
        "uit-bestand-GEHEIM-42\n",
    )
    .unwrap();
    let toml = r#"
[organisation]
timezone = "Mars/Olympus"
language = "fr"

[mailbox]
host = "imap.example.nl"
security = "plain"
user = "kb"
password = "inline-GEHEIM-17"

[smtp]
host = "smtp.example.nl"
user = "kb"
password_file = "imap-wachtwoord"
password_env = "KB_CLI_TEST_UNSET_VARIABLE"

[deadlines]
explain = "binnenkort"

[limits]
auto_replies_per_sender = "heel veel"

[people]
officers = ["geen adres"]

[database]
url = "mysql://kb:db-GEHEIM-99@db/kb"
"#;
    let s = Setup::with_config(dir, toml);
    let run = s.run(&["config", "check"]);
    assert_eq!(run.code, 78, "{run}");
    let printed = format!("{}{}", run.stdout, run.stderr);
    for key in [
        "organisation.timezone",
        "organisation.language",
        "mailbox.security",
        "mailbox.password",
        "smtp.password_env",
        "deadlines.explain",
        "limits.auto_replies_per_sender",
        "people.officers",
        "database.url",
    ] {
        let line = printed
            .lines()
            .find(|l| l.contains(key))
            .unwrap_or_else(|| panic!("{key} not reported:\n{run}"));
        assert!(
            line.len() > key.len() + 4,
            "{key} without a problem text: {line:?}"
        );
    }
    for secret in ["inline-GEHEIM-17", "uit-bestand-GEHEIM-42", "db-GEHEIM-99"] {
        assert!(!printed.contains(secret), "secret {secret} printed:\n{run}");
    }
}

#[test]
fn config_check_of_a_valid_file_exits_0() {
    let s = Setup::new();
    let run = s.run(&["config", "check"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("valid"), "{run}");
}

#[test]
fn config_check_warns_about_a_public_http_address_but_accepts_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let toml = test_toml(&sqlite_url(dir.path()), "")
        + "\n[http]\nlisten = \"0.0.0.0:9187\"\n\n[alerts]\nafter = \"5m\"\n";
    let s = Setup::with_config(dir, &toml);
    let run = s.run(&["config", "check"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("warning: http.listen: 0.0.0.0:9187"),
        "{run}"
    );

    let dir = tempfile::tempdir().unwrap();
    let toml = test_toml(&sqlite_url(dir.path()), "") + "\n[http]\nlisten = \"127.0.0.1:9187\"\n";
    let run = Setup::with_config(dir, &toml).run(&["config", "check"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(!run.stdout.contains("warning"), "{run}");

    let dir = tempfile::tempdir().unwrap();
    let toml = test_toml(&sqlite_url(dir.path()), "") + "\n[http]\nlisten = \"localhost\"\n";
    let run = Setup::with_config(dir, &toml).run(&["config", "check"]);
    assert_eq!(run.code, 78, "{run}");
    assert!(run.stderr.contains("http.listen"), "{run}");
}

#[test]
fn a_config_file_with_a_syntax_error_exits_78_without_echoing_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let s = Setup::with_config(dir, "[mailbox]\npassword = \"syntax-GEHEIM-5\nhost = 1\n");
    let run = s.run(&["config", "check"]);
    assert_eq!(run.code, 78, "{run}");
    assert!(
        !format!("{}{}", run.stdout, run.stderr).contains("syntax-GEHEIM-5"),
        "{run}"
    );
}

#[test]
fn help_of_every_subcommand_exits_0_and_names_its_options() {
    let s = Setup::new();
    let expected: &[(&[&str], &[&str])] = &[
        (&["run"], &["--config"]),
        (&["ingest"], &["[FILES]", "--config"]),
        (
            &["list"],
            &["--open", "--status", "--flagged", "--outbox", "--json"],
        ),
        (&["show"], &["<REFERENCE>", "--json"]),
        (&["status"], &["--json"]),
        (&["config"], &["check"]),
        (&["config", "check"], &["--config"]),
        (&["demo"], &["--config"]),
    ];
    for (command, options) in expected {
        let mut args = command.to_vec();
        args.push("--help");
        let run = s.run(&args);
        assert_eq!(run.code, 0, "{command:?} --help: {run}");
        for option in *options {
            assert!(
                run.stdout.contains(option),
                "{command:?} --help does not mention {option}:\n{run}"
            );
        }
    }
    // And every command the top-level help lists has a working --help of its own.
    let top = s.run(&["--help"]);
    assert_eq!(top.code, 0, "{top}");
    for name in listed_commands(&top.stdout) {
        let run = s.run(&[name.as_str(), "--help"]);
        assert_eq!(run.code, 0, "{name} --help: {run}");
        assert!(run.stdout.contains("Usage:"), "{name} --help: {run}");
    }
}

/// The command names under "Commands:" in clap's help.
fn listed_commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn list_unregistered_shows_the_mail_that_did_not_become_a_complaint_with_the_reason() {
    let s = Setup::new();
    let bounce = TestMail::new(
        "Mail Delivery System <MAILER-DAEMON@mx.klant.example>",
        "Onbestelbaar: Examen niet ontvangen",
        "cli-bounce@mx.klant.example",
    )
    .body("Uw bericht heeft sommige of alle geadresseerden niet bereikt.");
    let path = s.file("bounce.eml", &bounce.bytes());
    let run = s.run(&["ingest", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run}");
    s.registered("complaint.eml", &complaint_mail());

    let run = s.run(&["list", "--unregistered", "--since", "7d", "--json"]);
    assert_eq!(run.code, 0, "{run}");
    let rows = run.json();
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 1, "{run}");
    assert_eq!(rows[0]["from_address"], "mailer-daemon@mx.klant.example");
    assert_eq!(rows[0]["subject"], "Onbestelbaar: Examen niet ontvangen");
    assert_eq!(rows[0]["reason"], "suppressed: bounce");

    let text = s.run(&["list", "--unregistered"]);
    assert!(
        text.stdout.contains("Onbestelbaar: Examen niet ontvangen"),
        "{text}"
    );
    assert!(text.stdout.contains("suppressed: bounce"), "{text}");
    let bad = s.run(&["list", "--unregistered", "--since", "soon"]);
    assert_eq!(bad.code, 2, "{bad}");
}

#[test]
fn a_person_writing_from_a_noreply_address_is_registered_and_the_officer_told_no_ack_went_out() {
    let s = Setup::new();
    let mail = TestMail::new(
        "Gemeente Webformulier <noreply@gemeente.example>",
        "Klacht over de levering",
        "cli-noreply@gemeente.example",
    )
    .body("Het boek is nooit aangekomen. Ik wil mijn geld terug.");
    let path = s.file("noreply.eml", &mail.bytes());
    let run = s.run(&["ingest", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("registered KL-"), "{run}");
    let flags = s.run(&["list", "--flagged", "--json"]).json();
    let flags = flags.as_array().expect("an array");
    assert!(
        flags.iter().any(|f| f["reason"] == "no_reply_address"),
        "{flags:?}"
    );
    let outbox = s.run(&["list", "--outbox", "--json"]).json();
    let outbox = outbox.as_array().expect("an array");
    assert!(
        outbox.iter().all(|r| r["kind"] != "acknowledgement"),
        "{outbox:?}"
    );
    assert!(
        outbox.iter().any(|r| r["kind"] == "officer_notice"),
        "the officer was not told: {outbox:?}"
    );
}

#[test]
fn privacy_export_writes_a_private_zip_and_erase_asks_first() {
    use std::os::unix::fs::PermissionsExt as _;
    let setup = Setup::new();
    let reference = setup.registered("c.eml", &complaint_mail());
    let run = setup.run(&["privacy", "sweep", "--dry-run", "--json"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json()["term"], Value::Null, "no term configured: {run}");
    let run = setup.run(&[
        "privacy",
        "export",
        "--person",
        "klaas@klant.example",
        "--out",
        "x.zip",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("1 complaint(s)"), "{run}");
    let zip = setup.dir.path().join("x.zip");
    let mode = std::fs::metadata(&zip)
        .expect("the zip")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let run = setup.run_with_stdin(
        &["privacy", "erase", "--person", "klaas@klant.example"],
        b"n\n",
    );
    assert!(
        run.stdout.contains(&reference.to_string()) && run.stdout.contains("nothing erased"),
        "{run}"
    );
    let run = setup.run(&[
        "privacy",
        "erase",
        "--person",
        "klaas@klant.example",
        "--yes",
        "--include-open",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("erased 1; withdrawn first 1"), "{run}");
    let run = setup.run(&["show", &reference.to_string(), "--json"]);
    assert!(!run.stdout.contains("klaas@klant.example"), "{run}");
}
