//! Storage faults at the MTA pipe, on real file systems: the register on a small tmpfs filled
//! by another process, remounted read-only, or its folder made unwritable, while another
//! process (here the test, as the daemon would) holds the database open. Every storage
//! failure is a temporary failure: `ingest` exits 75 (the MTA retries) with nothing stored,
//! and once the fault clears the same mail registers exactly once.

mod common;
mod faults;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{TestMail, test_toml};
use faults::Tmpfs;
use klachtenbot::store::Store;
use sqlx::Row;

const BIN: &str = env!("CARGO_BIN_EXE_klachtenbot");
const EX_TEMPFAIL: i32 = 75;

fn write_config(dir: &Path, db_dir: &Path) -> std::path::PathBuf {
    let url = format!("sqlite://{}", db_dir.join("register.db").display());
    let config = dir.join("klachtenbot.toml");
    std::fs::write(&config, test_toml(&url, "")).expect("write the configuration");
    config
}

fn ingest(config: &Path, mail: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(["ingest", "-"])
        .env_remove("KLACHTENBOT_CONFIG")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start klachtenbot");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(mail)
        .expect("write stdin");
    child.wait_with_output().expect("wait for klachtenbot")
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn count(store: &Store, sql: &str) -> i64 {
    let row = sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .expect("count rows");
    row.try_get(0).expect("a count")
}

fn complaint(n: usize) -> Vec<u8> {
    // A body of a few KB, so the insert needs fresh pages.
    let body = format!(
        "Beste klantenservice,\n\nMijn pakket {n} is niet aangekomen.\n\n{}\nKlaas\n",
        "Dit is een lange klacht over een pakket dat niet kwam. ".repeat(80)
    );
    TestMail::new(
        "klaas@klant.test",
        &format!("Pakket {n} niet ontvangen"),
        &format!("full-{n}-{}@klant.test", std::process::id()),
    )
    .body(&body)
    .bytes()
}

#[tokio::test]
async fn ingest_on_a_full_disk_exits_75_and_registers_once_after_space_is_back() {
    let fs = Tmpfs::mount("4m");
    let conf_dir = tempfile::tempdir().expect("config folder");
    let config = write_config(conf_dir.path(), fs.path());
    let first = ingest(&config, &complaint(0));
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    // The daemon holds the register open while the disk fills.
    let store = Store::connect(&format!(
        "sqlite://{}",
        fs.path().join("register.db").display()
    ))
    .await
    .expect("open the register");
    let before = count(&store, "SELECT COUNT(*) FROM messages").await;
    fs.fill();

    let mail = complaint(1);
    let full = ingest(&config, &mail);
    assert_eq!(full.status.code(), Some(EX_TEMPFAIL), "{}", show(&full));
    assert!(
        !String::from_utf8_lossy(&full.stdout).contains("duplicate"),
        "{}",
        show(&full)
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM messages").await, before);

    fs.unfill();
    let again = ingest(&config, &mail);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("registered"),
        "{}",
        show(&again)
    );
    let twice = ingest(&config, &mail);
    assert!(
        String::from_utf8_lossy(&twice.stdout).contains("duplicate"),
        "{}",
        show(&twice)
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM complaints").await, 2);
    store.close().await;
}
