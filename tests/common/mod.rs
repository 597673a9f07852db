//! The one test helper, like zero2prod's `spawn_app()`: every integration test (and
//! `benches/instances.rs`) starts here.
//!
//! - this file: the addresses of the test organisation, the in-process bot on a fresh
//!   database with a clock that moves only when the test says so ([`TestBot`], SQLite in a
//!   temporary folder or a PostgreSQL database of its own), test mails ([`TestMail`]) and
//!   reads of what the register stored;
//! - [`sandbox`]: end to end, real Dovecot + Postfix on loopback and the bot running against
//!   them, in this process or as the built binary ([`sandbox::TestApp`]);
//! - [`instances`]: several `klachtenbot run` processes on one PostgreSQL register;
//! - [`postgres`]: a PostgreSQL database made for one test;
//! - [`token_server`]: a real OAuth2 token and introspection endpoint;
//! - [`faults`]: real storage faults (a full or read-only tmpfs, a failing ext4 image, a
//!   PostgreSQL server of the test's own);
//! - [`privacy_story`]: the privacy tests' person and the story of their complaints.
//!
//! Each test binary compiles the whole module on its own and uses only part of it, hence the
//! `dead_code` allowance for the module and all its submodules.
#![allow(dead_code)]

pub mod faults;
pub mod instances;
pub mod postgres;
pub mod privacy_story;
pub mod sandbox;
pub mod token_server;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use klachtenbot::app::Bot;
use klachtenbot::clock::ManualClock;
use klachtenbot::config::Settings;
use klachtenbot::domain::Reference;
use klachtenbot::intake::{self, Outcome, Source};
use klachtenbot::store::complaints::{self, StoredComplaint};
use klachtenbot::store::{events, flags, outbox};
use sqlx::Row;

use self::postgres::PostgresDatabase;

/// Our mail domain in every test configuration.
pub const MAIL_DOMAIN: &str = "concreet.test";
/// klantenservice@: the bot's own address (the default `klantenservice@<mail_domain>`) and,
/// end to end, the mailbox it watches.
pub const SERVICE: &str = "klantenservice@concreet.test";
/// The configured complaints officer.
pub const OFFICER: &str = "functionaris@concreet.test";
/// Management (in the sandbox's configuration; a mailbox only when a test adds it to
/// `extra_users`; the scheduler tests configure it themselves).
pub const MANAGEMENT: &str = "directie@concreet.test";
/// A customer with a mailbox in the sandbox.
pub const KLAAS: &str = "klaas@klant.test";
/// The other customer with a mailbox in the sandbox.
pub const MARIE: &str = "marie@klant.test";
/// Where the test clock starts: Monday 2 March 2026, 10:00 in Amsterdam.
pub const START: &str = "2026-03-02T09:00:00Z";
/// The built `klachtenbot` binary (Cargo builds it for integration tests and benchmarks).
pub const BIN: &str = env!("CARGO_BIN_EXE_klachtenbot");

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
        let toml = test_toml(db.url(), extra_toml);
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

/// Standard base64 (RFC 4648 §4), enough to attach a file to a test mail.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
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
                ("To".into(), SERVICE.into()),
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
