//! Privacy for real: a person with a rare name, address and phone number complains by mail
//! (with an attachment), follows up, is called, gets a solution and the complaint is closed.
//! After an erasure or a retention sweep, no byte of them is left in the database file, its
//! WAL, or any file the bot wrote, in UTF-8 or as the raw mail carried it (quoted-printable,
//! base64, encoded-words); the report of that year is byte for byte the same.

mod common;

use std::path::Path;

use common::privacy_story::*;
use common::*;
use jiff::SignedDuration;
use klachtenbot::domain::Reference;
use klachtenbot::privacy;
use sqlx::Row;

#[tokio::test]
async fn an_erased_person_leaves_no_byte_in_the_database_or_its_wal_and_the_report_stays() {
    let t = TestBot::sqlite("").await;
    let (r, phone) = story(&t).await;
    let dir = t.sqlite_dir().expect("sqlite").to_path_buf();
    assert!(
        found_in(&dir).len() >= 6,
        "the story is on disk before: {:?}",
        found_in(&dir)
    );
    assert_private_files(&dir);
    assert_export_holds_the_story(&t, r).await;
    let before = report_2026(&t).await;
    let report = privacy::person::erase(&t.bot, &person(), false, "os:test")
        .await
        .expect("erase");
    assert_eq!(report.erased, vec![r.to_string(), phone.to_string()]);
    assert_eq!(found_in(&dir), Vec::<(String, String)>::new());
    assert_eq!(report_2026(&t).await, before);
    assert_anonymised(&t, r, "erasure").await;
}

#[tokio::test]
async fn a_retention_sweep_anonymises_closed_complaints_only_and_leaves_no_byte() {
    let t = TestBot::sqlite("[privacy]\nanonymise_after = \"1s\"\n").await;
    let (r, phone) = story(&t).await;
    let open = t
        .register(&TestMail::new(
            "ander@klant.test",
            "Nog open",
            "q1@klant.test",
        ))
        .await;
    t.clock.advance(SignedDuration::from_secs(2));
    let dir = t.sqlite_dir().expect("sqlite").to_path_buf();
    let before = report_2026(&t).await;
    let dry = privacy::sweep::sweep(&t.bot, true, "os:test")
        .await
        .expect("dry run");
    let listed: Vec<&str> = dry
        .complaints
        .iter()
        .map(|c| c.reference.as_str())
        .collect();
    assert_eq!(listed, [r.to_string(), phone.to_string()]);
    assert!(!found_in(&dir).is_empty(), "a dry run changes nothing");
    let done = privacy::sweep::sweep_if_due(&t.bot, t.bot.clock.now())
        .await
        .expect("sweep")
        .expect("the first sweep of the day runs");
    assert_eq!(done.complaints, dry.complaints);
    assert!(
        privacy::sweep::sweep_if_due(&t.bot, t.bot.clock.now())
            .await
            .expect("sweep")
            .is_none(),
        "once a day"
    );
    assert_eq!(found_in(&dir), Vec::<(String, String)>::new());
    assert_eq!(report_2026(&t).await, before);
    assert_anonymised(&t, r, "retention").await;
    let still = t.complaint(open).await.complaint;
    assert_eq!(
        still.complainant.email.map(|a| a.to_string()).as_deref(),
        Some("ander@klant.test")
    );
}

#[tokio::test]
async fn on_postgresql_an_erased_person_is_in_no_text_or_bytea_column() {
    let Some(t) = TestBot::postgres("").await else {
        return;
    };
    let (r, _phone) = story(&t).await;
    let before = report_2026(&t).await;
    assert!(!pg_found(&t).await.is_empty(), "the story is stored before");
    privacy::person::erase(&t.bot, &person(), false, "os:test")
        .await
        .expect("erase");
    assert_eq!(pg_found(&t).await, Vec::<String>::new());
    assert_eq!(report_2026(&t).await, before);
    assert_anonymised(&t, r, "erasure").await;
}

/// Every (table.column) of type text or bytea in which a form of the person occurs.
async fn pg_found(t: &TestBot) -> Vec<String> {
    let pool = t.bot.store.pool();
    let columns = sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND data_type IN ('text', 'bytea', 'character varying')",
    )
    .fetch_all(pool)
    .await
    .expect("list the columns");
    let mut hits = Vec::new();
    for c in columns {
        let (table, column, ty): (String, String, String) = (c.get(0), c.get(1), c.get(2));
        for form in forms() {
            let sql = if ty == "bytea" {
                format!("SELECT COUNT(*) FROM {table} WHERE position($1::bytea in {column}) > 0")
            } else {
                format!(
                    "SELECT COUNT(*) FROM {table} WHERE position(convert_from($1::bytea, 'UTF8') in {column}) > 0"
                )
            };
            let n: i64 = sqlx::query(&sql)
                .bind(form.clone())
                .fetch_one(pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .get(0);
            if n > 0 {
                hits.push(format!(
                    "{table}.{column}: {}",
                    String::from_utf8_lossy(&form)
                ));
            }
        }
    }
    hits
}

fn assert_private_files(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    for name in ["register.db", "register.db-wal"] {
        let mode = std::fs::metadata(dir.join(name))
            .expect(name)
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

/// The export holds the complaint, its timeline, every mail as received (with the
/// attachment) and as sent, a Dutch summary with the term, and data.json.
async fn assert_export_holds_the_story(t: &TestBot, r: Reference) {
    use std::io::Read as _;
    let export = privacy::export::export(&t.bot, &person(), "os:test")
        .await
        .expect("export");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(export.zip)).expect("a zip");
    let mut files = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("an entry");
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).expect("read an entry");
        files.insert(f.name().to_string(), bytes);
    }
    let names: Vec<&String> = files.keys().collect();
    let summary = String::from_utf8(files["samenvatting.txt"].clone()).unwrap();
    assert!(
        summary.contains(&r.to_string()) && summary.contains("als klager"),
        "{summary}"
    );
    assert!(summary.contains("HOE LANG"), "{summary}");
    let json: serde_json::Value = serde_json::from_slice(&files["data.json"]).unwrap();
    assert_eq!(json["complaints"][0]["reference"], r.to_string());
    assert_eq!(
        json["complaints"][0]["record"]["complainant"]["email"],
        MAIL
    );
    let timeline = json["complaints"][0]["timeline"].as_array().unwrap();
    assert!(
        timeline.iter().any(|e| e["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Gebeld met")),
        "the phone call is on the timeline: {timeline:?}"
    );
    let received: Vec<_> = names
        .iter()
        .filter(|n| n.starts_with("mails/in-"))
        .collect();
    assert!(
        received.len() >= 7,
        "complaint, follow-up, five commands: {names:?}"
    );
    assert!(
        files
            .values()
            .any(|b| b.as_slice() == complaint_mail().as_slice()),
        "the original .eml"
    );
    let attachment = names
        .iter()
        .find(|n| n.starts_with("attachments/"))
        .expect("{names:?}");
    assert!(attachment.ends_with("-bon.txt"));
    assert_eq!(files[*attachment], ATTACHMENT.as_bytes());
    assert!(
        names.iter().any(|n| n.starts_with("mails/out-")),
        "{names:?}"
    );
}

#[tokio::test]
async fn an_erasure_leaves_open_complaints_alone_unless_asked_and_then_withdraws_them() {
    let t = TestBot::sqlite("").await;
    let r = t
        .register(&TestMail::new(MAIL, "Nog bezig", "open1@klant.test"))
        .await;
    let first = privacy::person::erase(&t.bot, &person(), false, "os:test")
        .await
        .expect("erase");
    assert_eq!(
        (first.left_open, first.erased.len()),
        (vec![r.to_string()], 0)
    );
    assert!(t.complaint(r).await.complaint.complainant.email.is_some());
    let second = privacy::person::erase(&t.bot, &person(), true, "os:test")
        .await
        .expect("erase");
    assert_eq!(second.withdrawn, vec![r.to_string()]);
    assert_eq!(second.erased, vec![r.to_string()]);
    let c = t.complaint(r).await.complaint;
    assert_eq!(
        (c.status.as_str(), c.outcome.map(|o| o.as_str())),
        ("closed", Some("withdrawn"))
    );
    let kinds: Vec<String> = t.timeline(r).await.into_iter().map(|e| e.kind).collect();
    assert!(
        kinds.ends_with(&["withdrawn".to_string(), "anonymised".to_string()]),
        "{kinds:?}"
    );
    // Audited twice, the person only as a salted hash.
    let rows =
        sqlx::query("SELECT action, actor, person_hash, detail FROM privacy_audit ORDER BY id")
            .fetch_all(t.bot.store.pool())
            .await
            .expect("read the audit");
    assert_eq!(rows.len(), 2);
    let hashes: Vec<String> = rows.iter().map(|r| r.get(2)).collect();
    assert_eq!(hashes[0], hashes[1]);
    assert_eq!(hashes[0].len(), 64);
    for row in &rows {
        let text = format!(
            "{} {} {}",
            row.get::<String, _>(0),
            row.get::<String, _>(1),
            row.get::<String, _>(3)
        );
        assert!(!text.contains("xq.zwaluw"), "{text}");
    }
}

#[tokio::test]
async fn the_scheduler_runs_the_retention_sweep_once_a_day() {
    let t = TestBot::sqlite("[privacy]\nanonymise_after = \"1s\"\n").await;
    let (r, _phone) = story(&t).await;
    t.clock.advance(SignedDuration::from_secs(2));
    klachtenbot::scheduler::tick(&t.bot).await.expect("a round");
    assert_anonymised(&t, r, "retention").await;
    let sweeps: i64 = sqlx::query("SELECT COUNT(*) FROM privacy_sweeps")
        .fetch_one(t.bot.store.pool())
        .await
        .expect("count the sweeps")
        .get(0);
    klachtenbot::scheduler::tick(&t.bot).await.expect("a round");
    assert_eq!(sweeps, 1);
    let again: i64 = sqlx::query("SELECT COUNT(*) FROM privacy_sweeps")
        .fetch_one(t.bot.store.pool())
        .await
        .expect("count the sweeps")
        .get(0);
    assert_eq!(again, 1, "the same day is not swept twice");
}
