//! What the end-to-end tests look at: the sandbox's mailboxes (parsed, or by their Maildir
//! flags) and the bot's register, and waits for a condition on them with a deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use klachtenbot::intake::parse::InboundMail;
use sqlx::Row;

use super::{TestApp, parse_all};

/// How often database conditions are polled.
const POLL_EVERY: Duration = Duration::from_millis(50);

impl TestApp {
    /// A mailbox folder's messages, parsed.
    pub fn parsed(&self, address: &str, folder: &str) -> Result<Vec<InboundMail>> {
        parse_all(&self.sandbox.messages(address, folder)?)
    }

    /// Waits until `pred` holds for a folder's messages and returns them parsed.
    pub async fn wait_for_parsed(
        &self,
        address: &str,
        folder: &str,
        within: Duration,
        pred: impl Fn(&[Vec<u8>]) -> bool,
    ) -> Result<Vec<InboundMail>> {
        let raw = self.sandbox.wait_for(address, folder, within, pred).await;
        parse_all(&raw.with_context(|| self.diagnostics())?)
    }

    /// The flags part (after `:2,`) of each Maildir file of a folder; `new/` files have
    /// none yet.
    pub fn maildir_flags(&self, address: &str, folder: &str) -> Result<Vec<String>> {
        let login = self.sandbox.login_for(address);
        let mut dir = self.sandbox.dir().join("mail").join(login).join("Maildir");
        if !folder.eq_ignore_ascii_case("INBOX") {
            dir = dir.join(format!(".{}", folder.replace('/', ".")));
        }
        let mut flags = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            for entry in entries {
                let name = entry?.file_name().to_string_lossy().into_owned();
                let info = name.split_once(":2,").map_or("", |(_, f)| f);
                flags.push(info.to_owned());
            }
        }
        Ok(flags)
    }

    /// Number of rows in the complaints table.
    pub async fn complaint_count(&self) -> Result<i64> {
        self.scalar("SELECT COUNT(*) FROM complaints").await
    }

    /// Number of rows in the messages table.
    pub async fn message_count(&self) -> Result<i64> {
        self.scalar("SELECT COUNT(*) FROM messages").await
    }

    /// The `kind` of every row of the messages table.
    pub async fn message_kinds(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT kind FROM messages ORDER BY id")
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// Every outbox row.
    pub async fn outbox(&self) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(
            "SELECT message_id, kind, status, attempts, recipients FROM outbox ORDER BY id",
        )
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxRow {
                    message_id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    status: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                    recipients: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Outbox rows still pending.
    pub async fn pending_outbox(&self) -> Result<usize> {
        Ok(self
            .outbox()
            .await?
            .iter()
            .filter(|r| r.status == "pending")
            .count())
    }

    async fn scalar(&self, sql: &str) -> Result<i64> {
        let row = sqlx::query(sql).fetch_one(self.store.pool()).await?;
        Ok(row.try_get(0)?)
    }

    /// Polls an async condition on the database every 50 ms until it holds; on timeout the
    /// error names the condition, its last value and the logs.
    pub async fn until<T, F, Fut>(
        &self,
        what: &str,
        within: Duration,
        probe: F,
        pred: impl Fn(&T) -> bool,
    ) -> Result<T>
    where
        T: std::fmt::Debug,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let deadline = Instant::now() + within;
        loop {
            // A locked database while the bot writes is a reason to ask again, not to fail.
            let value = probe().await;
            match value {
                Ok(v) if pred(&v) => return Ok(v),
                Ok(v) if Instant::now() >= deadline => {
                    bail!(
                        "timed out after {within:?} waiting for {what}; last value {v:?}\n{}",
                        self.diagnostics()
                    )
                }
                Err(e) if Instant::now() >= deadline => {
                    bail!(
                        "timed out after {within:?} waiting for {what}; last error {e:#}\n{}",
                        self.diagnostics()
                    )
                }
                _ => tokio::time::sleep(POLL_EVERY).await,
            }
        }
    }

    /// Waits until the outbox has no pending rows and Postfix has handed everything to
    /// Dovecot: after this, every mail the bot sent is in its mailbox.
    pub async fn wait_until_sender_idle(&self, within: Duration) -> Result<()> {
        self.until(
            "no pending outbox rows",
            within,
            || self.pending_outbox(),
            |n| *n == 0,
        )
        .await?;
        self.sandbox
            .wait_for_empty_queue(within)
            .await
            .with_context(|| self.diagnostics())
    }
}

/// One outbox row, as the tests look at it.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Message-ID, without brackets.
    pub message_id: String,
    /// `acknowledgement`, `officer_notice`, ...
    pub kind: String,
    /// `pending`, `sent`, `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Envelope recipients.
    pub recipients: String,
}
