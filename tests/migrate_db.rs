//! `klachtenbot migrate-db`: a SQLite register made by the test suite copied into an empty
//! PostgreSQL database; the report of the copy equals the original's, the next complaint
//! continues the numbering, and a target that holds data is refused.

mod common;

use std::process::{Command, Output};

use common::{BIN, TestBot, TestMail, test_toml};

fn klachtenbot(config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("KLACHTENBOT_CONFIG")
        .env_remove("PGPASSWORD")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run klachtenbot")
}

fn with_attachment(i: usize) -> TestMail {
    let body = "--grens\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nZie bijlage.\r\n\
                --grens\r\nContent-Type: application/pdf\r\n\
                Content-Disposition: attachment; filename=\"scan.pdf\"\r\n\
                Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK/wD+\r\n--grens--\r\n";
    TestMail::new(
        &format!("klant{i}@klant.example"),
        &format!("Klacht {i} met bijlage"),
        &format!("bijlage-{i}@klant.example"),
    )
    .header("Content-Type", "multipart/mixed; boundary=\"grens\"")
    .body(body)
}

#[tokio::test]
async fn a_sqlite_register_copied_to_postgres_gives_the_same_report_and_the_next_reference() {
    let source = TestBot::sqlite("").await;
    let Some(target) = TestBot::postgres("").await else {
        return;
    };
    for i in 0..12 {
        let mail = if i % 3 == 0 {
            with_attachment(i)
        } else {
            TestMail::new(
                &format!("klant{i}@klant.example"),
                &format!("Klacht {i}: levering te laat"),
                &format!("k{i}@klant.example"),
            )
        };
        source.register(&mail).await;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let src_config = dir.path().join("source.toml");
    std::fs::write(
        &src_config,
        test_toml(&source.bot.settings.database_url, ""),
    )
    .expect("write");
    let dst_config = dir.path().join("target.toml");
    std::fs::write(
        &dst_config,
        test_toml(&target.bot.settings.database_url, ""),
    )
    .expect("write");

    let to = &target.bot.settings.database_url;
    let copied = klachtenbot(&src_config, &["migrate-db", "--to", to]);
    let printed = String::from_utf8_lossy(&copied.stdout);
    assert!(
        copied.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(printed.contains("counts and checksums match"), "{printed}");
    assert!(printed.contains("attachments"), "{printed}");

    let report = |config| klachtenbot(config, &["report", "--year", "2026", "--format", "csv"]);
    let (before, after) = (report(&src_config), report(&dst_config));
    assert!(before.status.success() && after.status.success());
    assert!(!before.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&before.stdout),
        String::from_utf8_lossy(&after.stdout),
        "the reports differ"
    );
    assert_eq!(source.messages().await.len(), target.messages().await.len());
    let raw = |rows: Vec<common::MessageRow>| rows.into_iter().map(|m| m.raw).collect::<Vec<_>>();
    assert_eq!(raw(source.messages().await), raw(target.messages().await));
    assert_eq!(source.attachments().await, target.attachments().await);

    let next = TestMail::new(
        "nieuw@klant.example",
        "Nog een klacht",
        "nieuw@klant.example",
    );
    let expected = source.register(&next).await;
    assert_eq!(
        target.register(&next).await,
        expected,
        "the numbering continues"
    );

    let again = klachtenbot(&src_config, &["migrate-db", "--to", to]);
    assert!(!again.status.success(), "a target with data is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}
