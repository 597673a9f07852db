//! `klachtenbot doctor` against the real sandbox (TLS variant: IMAPS, submission with
//! STARTTLS and AUTH): all green, Dovecot stopped, a wrong password, a certificate the bot
//! does not trust. The binary is run as an administrator would.

mod common;

use std::path::Path;
use std::process::Command;

use anyhow::Result;
use common::sandbox::{SpawnOptions, TestApp};
use klachtenbot::sandbox::StopMode;

struct Outcome {
    code: i32,
    stdout: String,
}

fn doctor(config: &Path, json: bool) -> Result<Outcome> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_klachtenbot"));
    cmd.arg("--config").arg(config).arg("doctor");
    if json {
        cmd.arg("--json");
    }
    let out = cmd.env_remove("KLACHTENBOT_CONFIG").output()?;
    Ok(Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    })
}

fn line<'a>(out: &'a Outcome, check: &str) -> &'a str {
    out.stdout
        .lines()
        .find(|l| {
            l.split_once(' ')
                .is_some_and(|(_, rest)| rest.starts_with(&format!("{check}:")))
        })
        .unwrap_or_else(|| panic!("no line for {check} in:\n{}", out.stdout))
}

async fn prepared() -> Result<TestApp> {
    TestApp::prepare(SpawnOptions {
        tls: true,
        ..SpawnOptions::default()
    })
    .await
}

#[tokio::test]
async fn all_checks_pass_against_a_working_setup_and_nothing_is_sent() -> Result<()> {
    let app = prepared().await?;
    let out = doctor(&app.config_path, false)?;
    assert_eq!(out.code, 0, "{}", out.stdout);
    for check in [
        "configuration",
        "database",
        "database migrations",
        "IMAP connect",
        "IMAP TLS",
        "IMAP login",
        "IMAP inbox",
        "IMAP IDLE",
        "IMAP MOVE",
        "IMAP folders",
        "SMTP connect",
        "SMTP TLS and EHLO",
        "SMTP login",
        "SMTP MAIL FROM",
        "SMTP RSET",
    ] {
        assert!(
            line(&out, check).starts_with('✔'),
            "{check}:\n{}",
            out.stdout
        );
    }
    assert_eq!(app.sandbox.postfix_queue_len(), 0, "doctor sent mail");
    let json = doctor(&app.config_path, true)?;
    let value: serde_json::Value = serde_json::from_str(&json.stdout)?;
    assert_eq!(value["ok"], true);
    assert_eq!(value["checks"][0]["check"], "configuration");
    Ok(())
}

#[tokio::test]
async fn a_stopped_dovecot_fails_the_imap_connect_with_69() -> Result<()> {
    let mut app = prepared().await?;
    app.sandbox.stop_dovecot(StopMode::Kill).await?;
    let out = doctor(&app.config_path, false)?;
    assert_eq!(out.code, 69, "{}", out.stdout);
    let imap = line(&out, "IMAP connect");
    assert!(
        imap.starts_with('✘') && imap.contains("Connection refused"),
        "{imap}"
    );
    assert!(
        !out.stdout.contains("IMAP login"),
        "went on after a failed connect"
    );
    // SMTP is checked all the same (Postfix still runs; AUTH needs Dovecot, so it fails).
    assert!(out.stdout.contains("SMTP connect"));
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_fails_the_login_with_77_and_the_servers_words() -> Result<()> {
    let app = prepared().await?;
    let dir = app.config_path.parent().expect("config in a dir");
    std::fs::write(dir.join("password"), "not-the-password")?;
    let out = doctor(&app.config_path, false)?;
    assert_eq!(out.code, 77, "{}", out.stdout);
    let login = line(&out, "IMAP login");
    assert!(
        login.starts_with('✘') && login.contains("Authentication failed"),
        "{login}"
    );
    assert!(
        !login.contains("not-the-password"),
        "the password was shown"
    );
    let smtp = line(&out, "SMTP login");
    assert!(smtp.starts_with('✘') && smtp.contains("535"), "{smtp}");
    Ok(())
}

#[tokio::test]
async fn an_untrusted_self_signed_certificate_fails_tls_with_69() -> Result<()> {
    let app = prepared().await?;
    let toml = std::fs::read_to_string(&app.config_path)?;
    let without_ca: String = toml
        .lines()
        .filter(|l| !l.starts_with("ca_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&app.config_path, without_ca)?;
    let out = doctor(&app.config_path, false)?;
    assert_eq!(out.code, 69, "{}", out.stdout);
    let tls = line(&out, "IMAP TLS");
    assert!(tls.starts_with('✘') && tls.contains("certificate"), "{tls}");
    assert!(line(&out, "IMAP connect").starts_with('✔'));
    Ok(())
}

#[tokio::test]
async fn a_broken_configuration_is_the_first_line_with_78() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("klachtenbot.toml");
    std::fs::write(
        &path,
        "[mailbox]\nhost = \"imap.example.nl\"\nsecurity = \"plain\"\n",
    )?;
    let out = doctor(&path, false)?;
    assert_eq!(out.code, 78, "{}", out.stdout);
    let first = out.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("✘ configuration") && first.contains("mailbox.security"),
        "{first}"
    );
    Ok(())
}
