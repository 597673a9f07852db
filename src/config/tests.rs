use super::*;
use crate::config::{Secret, Settings, is_loopback};
use std::path::Path;

fn problems(toml: &str) -> Vec<String> {
    match Settings::from_toml(toml, Path::new("/nonexistent")) {
        Ok(_) => Vec::new(),
        Err(ps) => ps.into_iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn an_empty_file_gives_the_embedded_defaults() {
    let s = Settings::from_toml("", Path::new(".")).unwrap();
    assert_eq!(s.database_url, "sqlite://klachtenbot.db");
    assert_eq!(s.organisation.language, Language::Nl);
    assert_eq!(s.address.as_ref(), "klantenservice@klachtenbot.invalid");
    assert_eq!(s.limits.auto_replies_per_sender.count, 3);
    assert!(s.mailbox.is_none());
}

#[test]
fn every_problem_is_reported_at_once_with_its_key() {
    let found = problems(
        r#"
        [organisation]
        timezone = "Mars/Olympus"
        language = "fr"
        [mailbox]
        host = "imap.example.nl"
        security = "plain"
        user = "kb"
        password = "hunter2"
        [deadlines]
        explain = "soon"
        [limits]
        auto_replies_per_sender = "lots"
        [people]
        officers = ["not an address"]
        "#,
    );
    let joined = found.join("\n");
    for key in [
        "organisation.timezone",
        "organisation.language",
        "mailbox.security",
        "mailbox.password:",
        "deadlines.explain",
        "limits.auto_replies_per_sender",
        "people.officers",
    ] {
        assert!(joined.contains(key), "missing {key} in:\n{joined}");
    }
    assert!(
        !joined.contains("hunter2"),
        "a secret leaked into the report"
    );
}

#[test]
fn plain_is_allowed_on_loopback_only() {
    let ok = "[smtp]\nhost = \"127.0.0.1\"\nport = 2525\nsecurity = \"plain\"\n";
    assert!(problems(ok).is_empty());
    let bad = "[smtp]\nhost = \"smtp.example.nl\"\nsecurity = \"plain\"\n";
    assert_eq!(problems(bad).len(), 1);
    assert!(is_loopback("::1") && is_loopback("localhost") && is_loopback("127.0.0.2"));
    assert!(!is_loopback("10.0.0.1"));
}

#[test]
fn secrets_come_from_the_environment_and_never_print() {
    let found = problems(
        "[mailbox]\nhost=\"127.0.0.1\"\nsecurity=\"plain\"\nuser=\"kb\"\npassword_env=\"KB_TEST_UNSET_VAR_XYZ\"\n",
    );
    assert_eq!(found.len(), 1);
    assert!(found[0].contains("KB_TEST_UNSET_VAR_XYZ is not set"));
    assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
}

#[test]
fn durations_and_rates_parse() {
    assert_eq!(
        parse_deadline("10wd").unwrap(),
        DeadlineSpan::WorkingDays(10)
    );
    assert_eq!(
        parse_deadline("90s").unwrap(),
        DeadlineSpan::Calendar(std::time::Duration::from_secs(90))
    );
    assert_eq!(
        parse_deadline("2w").unwrap(),
        DeadlineSpan::Calendar(std::time::Duration::from_secs(14 * 86400))
    );
    assert!(parse_deadline("0s").is_err());
    assert!(parse_deadline("-3d").is_err());
    assert_eq!(parse_duration("3h").unwrap().as_secs(), 3 * 3600);
    assert_eq!(parse_duration("7d").unwrap().as_secs(), 7 * 86400);
    let r = RateLimit::parse("3 per 24h").unwrap();
    assert_eq!((r.count, r.window.as_secs()), (3, 86400));
}

#[test]
fn unknown_keys_are_refused() {
    let found = problems("[mailbox]\nhots = \"x\"\n");
    assert!(found[0].contains("unknown field"), "{found:?}");
}

#[test]
fn the_database_password_comes_from_a_file_and_never_from_the_url() {
    let found = problems("[database]\nurl = \"postgres://kb:geheim@db/kb\"\n");
    assert!(
        found.iter().any(|p| p.starts_with("database.url: secrets")),
        "{found:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db.pw"), "geheim\n").unwrap();
    let toml = "[database]\nurl = \"postgres://kb@db/kb?sslmode=verify-full\"\n\
                password_file = \"db.pw\"\n[instance]\nname = \"kb-a\"\n";
    let s = Settings::from_toml(toml, dir.path()).unwrap();
    assert_eq!(s.database_password, Some(Secret::new("geheim")));
    assert_eq!(s.instance_name.as_deref(), Some("kb-a"));
    assert!(
        !format!("{s:?}").contains("geheim"),
        "Debug shows the password"
    );
}
