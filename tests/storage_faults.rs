//! Storage faults at the MTA pipe, on real file systems: the register on a small tmpfs filled
//! by another process, remounted read-only, or its folder made unwritable, while another
//! process (here the test, as the daemon would) holds the database open. Every storage
//! failure is a temporary failure: `ingest` exits 75 (the MTA retries) with nothing stored,
//! and once the fault clears the same mail registers exactly once.

mod common;

use std::fs::Permissions;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::faults::Tmpfs;
use common::{BIN, TestMail, test_toml};
use klachtenbot::store::Store;
use sqlx::Row;

const EX_TEMPFAIL: i32 = 75;

/// A configuration with the register in `db_dir`; `database` is more of `[database]`.
fn write_config(dir: &Path, db_dir: &Path, database: &str) -> std::path::PathBuf {
    let url = format!("sqlite://{}", db_dir.join("register.db").display());
    let config = dir.join("klachtenbot.toml");
    std::fs::write(&config, test_toml(&url, database)).expect("write the configuration");
    config
}

fn ingest(config: &Path, mail: &[u8]) -> Output {
    ingest_as(config, mail, None)
}

/// `klachtenbot ingest -` as the MTA runs it, optionally as another user (root ignores
/// file permissions, an MTA's delivery user does not).
fn ingest_as(config: &Path, mail: &[u8], user: Option<&str>) -> Output {
    let mut cmd = match user {
        Some(user) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={user}"),
                &format!("--regid={user}"),
                "--clear-groups",
                BIN,
            ]);
            c
        }
        None => Command::new(BIN),
    };
    let mut child = cmd
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
    // No floor: this test is about the hard failure, not about seeing it coming.
    let config = write_config(conf_dir.path(), fs.path(), "min_free = \"0\"");
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

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn ingest_below_min_free_exits_75_and_status_says_why() {
    let fs = Tmpfs::mount("8m");
    let conf_dir = tempfile::tempdir().expect("config folder");
    let config = write_config(conf_dir.path(), fs.path(), "min_free = \"5MB\"");
    let first = ingest(&config, &complaint(10));
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    // Another process takes 4 MB: less than 5 MB left.
    let status = Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", fs.path().join("filler").display()))
        .args(["bs=1M", "count=4", "status=none"])
        .status()
        .expect("run dd");
    assert!(status.success());
    let mail = complaint(11);
    let low = ingest(&config, &mail);
    assert_eq!(low.status.code(), Some(EX_TEMPFAIL), "{}", show(&low));
    assert!(
        String::from_utf8_lossy(&low.stderr).contains("min_free"),
        "{}",
        show(&low)
    );
    let status = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("status")
        .env_remove("KLACHTENBOT_CONFIG")
        .output()
        .expect("run status");
    assert!(
        stdout(&status).contains("NOT TAKING MAIL"),
        "{}",
        show(&status)
    );

    fs.unfill();
    let again = ingest(&config, &mail);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(stdout(&again).contains("registered"), "{}", show(&again));
}

#[tokio::test]
async fn ingest_on_a_read_only_file_system_exits_75_and_registers_once_when_writable() {
    let fs = Tmpfs::mount("8m");
    let conf_dir = tempfile::tempdir().expect("config folder");
    let config = write_config(conf_dir.path(), fs.path(), "min_free = \"0\"");
    let first = ingest(&config, &complaint(20));
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    // The kernel refuses a read-only remount while any file is open for writing (EBUSY), so
    // nobody holds the register here: what the next delivery meets is a read-only disk.
    fs.read_only(true);
    let mail = complaint(21);
    let ro = ingest(&config, &mail);
    assert_eq!(ro.status.code(), Some(EX_TEMPFAIL), "{}", show(&ro));
    assert!(!stdout(&ro).contains("duplicate"), "{}", show(&ro));
    fs.read_only(false);
    let again = ingest(&config, &mail);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(stdout(&again).contains("registered"), "{}", show(&again));
    let store = Store::connect(&format!(
        "sqlite://{}",
        fs.path().join("register.db").display()
    ))
    .await
    .expect("open the register");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM complaints").await, 2);
    store.close().await;
}

#[tokio::test]
async fn ingest_with_the_register_folder_unwritable_exits_75_and_registers_once_after() {
    let fs = Tmpfs::mount("8m");
    let db_dir = fs.path().join("register");
    std::fs::create_dir(&db_dir).expect("create the register folder");
    let conf_dir = tempfile::tempdir().expect("config folder");
    let config = write_config(conf_dir.path(), &db_dir, "min_free = \"0\"");
    std::fs::set_permissions(conf_dir.path(), Permissions::from_mode(0o755))
        .expect("let the delivery user read the configuration");
    // The MTA's delivery user owns the register, as in a real installation.
    let chown = |mode: &str| {
        let status = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(&db_dir)
            .status()
            .expect("chown");
        assert!(status.success());
        let status = Command::new("chmod")
            .arg(mode)
            .arg(&db_dir)
            .status()
            .expect("chmod");
        assert!(status.success());
    };
    chown("0755");
    let user = Some("65534");
    let first = ingest_as(&config, &complaint(30), user);
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    // Without write access to the folder SQLite cannot create its journal (-wal, -shm).
    chown("0555");
    let mail = complaint(31);
    let denied = ingest_as(&config, &mail, user);
    assert_eq!(denied.status.code(), Some(EX_TEMPFAIL), "{}", show(&denied));
    chown("0755");
    let again = ingest_as(&config, &mail, user);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(stdout(&again).contains("registered"), "{}", show(&again));
    let twice = ingest_as(&config, &mail, user);
    assert!(stdout(&twice).contains("duplicate"), "{}", show(&twice));
}
