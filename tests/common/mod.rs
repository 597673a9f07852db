//! Shared helpers for the golden, register and CLI tests: the real bot on a fresh database
//! (SQLite in a temporary folder, or a PostgreSQL database made for one test), test mails,
//! and reads of what the register stored.
//!
//! Each test binary compiles this file on its own and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use klachtenbot::app::Bot;
use klachtenbot::clock::ManualClock;
use klachtenbot::config::Settings;
use klachtenbot::domain::Reference;
use klachtenbot::intake::{self, Outcome, Source};
use klachtenbot::store::complaints::{self, StoredComplaint};
use klachtenbot::store::{events, flags, outbox};
use sqlx::{Connection, Row};

/// Our mail domain in every test configuration.
pub const MAIL_DOMAIN: &str = "concreet.test";
/// The bot's own address (the default `klantenservice@<mail_domain>`).
pub const OUR_ADDRESS: &str = "klantenservice@concreet.test";
/// The configured complaints officer.
pub const OFFICER: &str = "functionaris@concreet.test";
/// Where the test clock starts: Monday 2 March 2026, 10:00 in Amsterdam.
pub const START: &str = "2026-03-02T09:00:00Z";

/// The PostgreSQL server the PostgreSQL variants use (override with
/// `KLACHTENBOT_TEST_POSTGRES_URL`); each test makes its own database on it.
pub const DEFAULT_POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The test configuration: organisation on `concreet.test`, one officer, staff on
/// `concreet.test`, the given database, and any extra TOML (e.g. a `[limits]` table).
pub fn test_toml(database_url: &str, extra: &str) -> String {
    format!(
        r#"[organisation]
name = "Concreet Onderwijsproducten"
mail_domain = "{MAIL_DOMAIN}"
timezone = "Europe/Amsterdam"
language = "nl"

[people]
officers = ["{OFFICER}"]
staff_domains = ["{MAIL_DOMAIN}"]

[database]
url = "{database_url}"

{extra}
"#
    )
}

/// The SQLite url of a database file in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("register.db").display())
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

/// The bot on a fresh database, with a clock that moves only when the test says so.
pub struct TestBot {
    /// The real bot.
    pub bot: Bot,
    /// Its clock.
    pub clock: ManualClock,
    /// Which database.
    pub backend: Backend,
    // Dropped after `bot`: removes the folder or drops the PostgreSQL database.
    _database: Database,
}

enum Database {
    Sqlite(tempfile::TempDir),
    Postgres(PostgresDatabase),
}

impl TestBot {
    /// The bot on a SQLite file in a new temporary folder.
    pub async fn sqlite(extra_toml: &str) -> TestBot {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let toml = test_toml(&sqlite_url(dir.path()), extra_toml);
        let (bot, clock) = open(&toml, dir.path()).await;
        TestBot {
            bot,
            clock,
            backend: Backend::Sqlite,
            _database: Database::Sqlite(dir),
        }
    }

    /// The bot on a new PostgreSQL database, dropped again when the `TestBot` is. `None`
    /// (the test passes without running) only when `KLACHTENBOT_SKIP_POSTGRES=1`; otherwise
    /// an unreachable server fails the test with a message that says what to do.
    pub async fn postgres(extra_toml: &str) -> Option<TestBot> {
        let db = PostgresDatabase::create().await?;
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let toml = test_toml(&db.url, extra_toml);
        let (bot, clock) = open(&toml, dir.path()).await;
        Some(TestBot {
            bot,
            clock,
            backend: Backend::Postgres,
            _database: Database::Postgres(db),
        })
    }

    /// The bot on the given backend (see [`TestBot::postgres`] for `None`).
    pub async fn on(backend: Backend, extra_toml: &str) -> Option<TestBot> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite(extra_toml).await),
            Backend::Postgres => Self::postgres(extra_toml).await,
        }
    }

    /// Takes raw bytes through the door; the call itself must succeed.
    pub async fn process(&self, raw: &[u8]) -> Outcome {
        intake::process(&self.bot, raw, &Source::File("test.eml".into()))
            .await
            .unwrap_or_else(|e| panic!("intake::process failed on {} bytes: {e}", raw.len()))
    }

    /// Processes a message that must register a new complaint; returns its reference.
    pub async fn register(&self, mail: &TestMail) -> Reference {
        match self.process(&mail.bytes()).await {
            Outcome::Registered(r) => r,
            other => panic!("expected a new complaint, got {other}"),
        }
    }

    /// The stored complaint.
    pub async fn complaint(&self, reference: Reference) -> StoredComplaint {
        let mut conn = self.conn().await;
        complaints::load(&mut conn, reference)
            .await
            .expect("load the complaint")
            .unwrap_or_else(|| panic!("{reference} is not in the register"))
    }

    /// How many complaints the register holds.
    pub async fn complaint_count(&self) -> i64 {
        complaints::count(&mut *self.conn().await)
            .await
            .expect("count complaints")
    }

    /// Every outbox row, oldest first.
    pub async fn outbox(&self) -> Vec<outbox::Outgoing> {
        outbox::list(&mut *self.conn().await, None, None)
            .await
            .expect("list the outbox")
    }

    /// The acknowledgements in the outbox, oldest first.
    pub async fn acknowledgements(&self) -> Vec<outbox::Outgoing> {
        self.outbox()
            .await
            .into_iter()
            .filter(|o| o.kind == "acknowledgement")
            .collect()
    }

    /// The timeline of a complaint.
    pub async fn timeline(&self, reference: Reference) -> Vec<events::Event> {
        let id = self.complaint(reference).await.id;
        events::timeline(&mut *self.conn().await, id)
            .await
            .expect("read the timeline")
    }

    /// Every open flag.
    pub async fn flags(&self) -> Vec<flags::Flag> {
        flags::open(&mut *self.conn().await, None)
            .await
            .expect("list the flags")
    }

    /// Every row of the `messages` table, oldest first.
    pub async fn messages(&self) -> Vec<MessageRow> {
        let rows = sqlx::query(
            "SELECT id, message_id, sha256, raw, kind, outcome, complaint_id, processed_at \
             FROM messages ORDER BY id",
        )
        .fetch_all(&mut *self.conn().await)
        .await
        .expect("read the messages table");
        rows.iter()
            .map(|r| MessageRow {
                id: r.get(0),
                message_id: r.get(1),
                sha256: r.get(2),
                raw: r.get(3),
                kind: r.get(4),
                outcome: r.get(5),
                complaint_id: r.get(6),
                processed_at: r.get(7),
            })
            .collect()
    }

    /// Every kept attachment: (message row id, file name, content type, bytes).
    pub async fn attachments(&self) -> Vec<(i64, String, String, Vec<u8>)> {
        let rows = sqlx::query(
            "SELECT message_pk, filename, content_type, data FROM attachments ORDER BY id",
        )
        .fetch_all(&mut *self.conn().await)
        .await
        .expect("read the attachments table");
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect()
    }

    /// The folder of the SQLite database file (and, with it, every file the bot wrote);
    /// `None` on PostgreSQL.
    pub fn sqlite_dir(&self) -> Option<&Path> {
        match &self._database {
            Database::Sqlite(dir) => Some(dir.path()),
            Database::Postgres(_) => None,
        }
    }

    async fn conn(&self) -> sqlx::pool::PoolConnection<sqlx::Any> {
        self.bot
            .store
            .pool()
            .acquire()
            .await
            .expect("a database connection")
    }
}

async fn open(toml: &str, base: &Path) -> (Bot, ManualClock) {
    let settings = Settings::from_toml(toml, base)
        .unwrap_or_else(|p| panic!("test configuration invalid: {p:?}"));
    let clock = ManualClock::new(START.parse().expect("valid start time"));
    let bot = Bot::open_with_clock(settings, Arc::new(clock.clone()))
        .await
        .expect("open the bot");
    (bot, clock)
}

/// One row of the `messages` table.
#[derive(Debug, Clone)]
pub struct MessageRow {
    /// Row id.
    pub id: i64,
    /// Message-ID header, without brackets.
    pub message_id: Option<String>,
    /// Hex SHA-256 of the raw bytes.
    pub sha256: String,
    /// The exact bytes.
    pub raw: Vec<u8>,
    /// What the intake made of it.
    pub kind: String,
    /// The one-line outcome.
    pub outcome: Option<String>,
    /// The complaint it belongs to.
    pub complaint_id: Option<i64>,
    /// When it was processed (Unix seconds).
    pub processed_at: Option<i64>,
}

/// Hex SHA-256 of bytes, as the `messages.sha256` column holds it.
pub fn sha256_hex(raw: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(raw))
}

/// A PostgreSQL database made for one test and dropped afterwards (best effort, also when
/// the test panics).
struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    async fn create() -> Option<PostgresDatabase> {
        let admin_url = std::env::var("KLACHTENBOT_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_ADMIN_URL.into());
        let skip = std::env::var("KLACHTENBOT_SKIP_POSTGRES").is_ok_and(|v| v == "1");
        let mut admin = match connect_admin(&admin_url).await {
            Ok(c) => c,
            Err(e) if skip => {
                eprintln!("KLACHTENBOT_SKIP_POSTGRES=1: skipping the PostgreSQL variant ({e})");
                return None;
            }
            Err(e) => panic!(
                "PostgreSQL is not reachable at {admin_url}: {e}\n\
                 Start it (trust auth, database `test`), point KLACHTENBOT_TEST_POSTGRES_URL at \
                 another server, or set KLACHTENBOT_SKIP_POSTGRES=1 to skip the PostgreSQL variants."
            ),
        };
        let name = format!(
            "kb_test_{}_{:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name} on {admin_url}: {e}"));
        let _ = admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{admin_url} has no database part"),
        };
        Some(PostgresDatabase {
            admin_url,
            name,
            url,
        })
    }
}

async fn connect_admin(url: &str) -> Result<sqlx::PgConnection, String> {
    match tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 5 s".into()),
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime (or while it unwinds), so the database is
        // dropped from a thread with its own runtime. FORCE ends the bot's pool connections.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = connect_admin(&admin_url).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let result = sqlx::query(&sql).execute(&mut admin).await;
                let _ = admin.close().await;
                result.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!(
                "could not drop test database {} (best effort; drop it by hand)",
                self.name
            );
        }
    }
}

/// A test mail, written as a mail client would (CRLF line ends).
#[derive(Debug, Clone)]
pub struct TestMail {
    headers: Vec<(String, String)>,
    body: String,
}

impl TestMail {
    /// A plain-text mail to klantenservice@ with a From, Subject, Message-ID and Date.
    pub fn new(from: &str, subject: &str, message_id: &str) -> TestMail {
        TestMail {
            headers: vec![
                ("From".into(), from.into()),
                ("To".into(), OUR_ADDRESS.into()),
                ("Subject".into(), subject.into()),
                ("Message-ID".into(), format!("<{message_id}>")),
                ("Date".into(), "Mon, 2 Mar 2026 09:55:00 +0100".into()),
                ("MIME-Version".into(), "1.0".into()),
                ("Content-Type".into(), "text/plain; charset=utf-8".into()),
            ],
            body: "Beste klantenservice,\r\n\r\nMijn examenpakket is niet aangekomen.\r\n\r\nKlaas\r\n".into(),
        }
    }

    /// Sets a header (replacing one of the same name).
    pub fn header(mut self, name: &str, value: &str) -> TestMail {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Removes a header.
    pub fn without(mut self, name: &str) -> TestMail {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Sets the body (LF line ends become CRLF).
    pub fn body(mut self, body: &str) -> TestMail {
        self.body = body.replace("\r\n", "\n").replace('\n', "\r\n");
        self
    }

    /// The message bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&self.body);
        out.into_bytes()
    }
}

/// A Dutch date as a person writes it ("maandag 16 maart 2026"), in Amsterdam time: what the
/// complainant must read in the acknowledgement.
pub fn dutch_date(t: Timestamp) -> String {
    const DAYS: [&str; 7] = [
        "maandag",
        "dinsdag",
        "woensdag",
        "donderdag",
        "vrijdag",
        "zaterdag",
        "zondag",
    ];
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    let z = t.to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").expect("tzdb has Amsterdam"));
    let day = DAYS[usize::try_from(z.weekday().to_monday_zero_offset()).expect("0..7")];
    let month = MONTHS[usize::try_from(z.month() - 1).expect("1..=12")];
    format!("{day} {} {month} {}", z.day(), z.year())
}

/// Every `.eml` file under `dir`, recursively, sorted by path.
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "eml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The crate's root folder.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
