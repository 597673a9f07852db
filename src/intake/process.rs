//! The door itself: store raw, claim, interpret, commit; never lose a message.
//!
//! Three steps, each committed on its own:
//! 1. the raw bytes are stored (or found: a duplicate, or an unfinished earlier attempt);
//! 2. in one transaction the message is claimed (`processed_at` set), interpreted, and
//!    every consequence (complaint, timeline, outbox rows) is written;
//! 3. if step 2 fails for a reason that retrying will not fix, a fresh transaction claims the
//!    message and flags it for the officer with the error, so the call still succeeds.
//!
//! A crash between 1 and 2 leaves an unclaimed row that the next delivery of the same
//! message picks up; a crash inside 2 rolls it back entirely.
//!
//! In a group of messages that share one transaction ([`process_on`], the IMAP watcher on
//! SQLite) step 1 is part of the group, and steps 2 and 3 are savepoints in it: each message
//! is still all-or-nothing, and a crash before the group commits rolls back the whole group,
//! whose messages are still in the inbox.

use std::fmt;

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Connection};

use super::interpret::interpret;
use super::outcome::Outcome;
use super::parse::{self, InboundMail};
use super::write;
use crate::app::Bot;
use crate::domain::{FlagKind, MessageKind};
use crate::outbound::queue::{Notice, notify_officers};
use crate::store::{self, messages};

/// Where a message came from, kept with it for the officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The MTA pipe (`klachtenbot ingest -`).
    Pipe,
    /// A file given to `klachtenbot ingest`.
    File(String),
    /// The IMAP watcher.
    Imap {
        /// Folder.
        folder: String,
        /// Its UIDVALIDITY.
        uidvalidity: u32,
        /// The message's UID.
        uid: u32,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Pipe => f.write_str("pipe"),
            Source::File(p) => write!(f, "file:{p}"),
            Source::Imap {
                folder,
                uidvalidity,
                uid,
            } => write!(f, "imap:{folder}:{uidvalidity}:{uid}"),
        }
    }
}

/// Why a message could not be taken now.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The database is locked, busy or unreachable: try again later (exit 75 for the MTA).
    #[error("temporary failure, try again later: {0:#}")]
    Transient(anyhow::Error),
    /// Could not even store the raw message, for a reason retrying will not fix.
    #[error("cannot store the message: {0:#}")]
    Permanent(anyhow::Error),
}

fn classify_error(e: anyhow::Error) -> IntakeError {
    if store::is_transient(&e) {
        IntakeError::Transient(e)
    } else {
        IntakeError::Permanent(e)
    }
}

/// What makes two deliveries "the same message": the Message-ID together with the sender,
/// date, subject and text (whitespace ignored, so LF and CRLF copies match), or the bytes
/// themselves when there is no Message-ID. Including the content keeps a broken mailer that
/// reuses one Message-ID for different mails from having its second mail dropped as a
/// duplicate, while the same mail delivered twice (other Received lines) still matches.
pub fn dedupe_key(raw: &[u8], mail: Option<&InboundMail>) -> String {
    match mail.and_then(|m| m.message_id.as_ref().map(|id| (m, id))) {
        Some((m, id)) => {
            let mut h = Sha256::new();
            h.update(m.from_raw.as_deref().unwrap_or("").as_bytes());
            h.update([0]);
            h.update(m.date.map(|d| d.as_second()).unwrap_or(0).to_le_bytes());
            h.update(m.subject.as_bytes());
            h.update([0]);
            for word in m.text.split_whitespace() {
                h.update(word.as_bytes());
            }
            let digest = hex::encode(h.finalize());
            format!("mid:{id}:{}", &digest[..16])
        }
        None => format!("sha256:{}", hex::encode(Sha256::digest(raw))),
    }
}

/// Takes one received message through the door. Succeeds for every message that could be
/// stored, including duplicates, unreadable and flagged ones.
pub async fn process(bot: &Bot, raw: &[u8], source: &Source) -> Result<Outcome, IntakeError> {
    let mut conn = bot
        .store
        .pool()
        .acquire()
        .await
        .map_err(|e| classify_error(e.into()))?;
    process_on(bot, &mut conn, raw, source).await
}

/// [`process`] on a connection the caller holds: one of its own, where the raw message
/// commits by itself and its interpretation is a transaction, or a transaction that a group
/// of messages shares (the IMAP watcher on SQLite, see `crate::mailbox::sync`), where the
/// raw message is part of the group and its interpretation a savepoint. Either way each
/// message is all-or-nothing; in a group nothing of it is kept until the group commits, and
/// a message leaves the inbox only after that.
pub async fn process_on(
    bot: &Bot,
    conn: &mut AnyConnection,
    raw: &[u8],
    source: &Source,
) -> Result<Outcome, IntakeError> {
    let now = bot.clock.now();
    let too_large = raw.len() as u64 > bot.settings.limits.max_message_bytes;
    let mail = if too_large { None } else { parse::parse(raw) };
    let key = dedupe_key(raw, mail.as_ref());
    let sha = hex::encode(Sha256::digest(raw));
    let source_text = source.to_string();
    let record = messages::RawMessage {
        dedupe_key: &key,
        message_id: mail
            .as_ref()
            .and_then(|m| m.message_id.as_ref())
            .map(AsRef::as_ref),
        sha256: &sha,
        raw,
        source: &source_text,
        received_at: now,
    };
    let id = match messages::store_raw(conn, &record)
        .await
        .map_err(classify_error)?
    {
        messages::Stored::Done(_) => return Ok(Outcome::Duplicate),
        messages::Stored::New(id) | messages::Stored::Unfinished(id) => id,
    };
    let result = if too_large {
        let limit = bot.settings.limits.max_message_bytes;
        let reason = format!(
            "too large ({} bytes, limit {limit}); stored unread",
            raw.len()
        );
        flag_message(bot, conn, id, Unhandled::TooLarge, &reason, now).await
    } else {
        interpret_in_transaction(bot, conn, id, mail.as_ref(), now).await
    };
    match result {
        Ok(outcome) => Ok(outcome),
        Err(e) if store::is_transient(&e) => Err(IntakeError::Transient(e)),
        Err(e) => {
            tracing::error!(message = id, error = %format!("{e:#}"), "processing failed; flagging the message");
            let reason = format!("processing failed: {e:#}");
            flag_message(bot, conn, id, Unhandled::Error, &reason, now)
                .await
                .map_err(classify_error)
        }
    }
}

async fn interpret_in_transaction(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: Option<&InboundMail>,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let mut tx = conn.begin().await?;
    if !messages::claim(&mut tx, id, now).await? {
        return not_claimed(&mut tx, id).await;
    }
    let outcome = interpret(bot, &mut tx, id, mail, now).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// A claim that changed no row is a duplicate only when the row reads back committed and
/// processed (another delivery took it first); a row that is not there was never committed,
/// a storage failure the caller retries.
async fn not_claimed(conn: &mut AnyConnection, id: i64) -> anyhow::Result<Outcome> {
    match messages::processed(conn, id).await? {
        Some(true) => Ok(Outcome::Duplicate),
        Some(false) | None => Err(store::fault::NotCommitted {
            table: "messages",
            id,
        }
        .into()),
    }
}

/// Why a stored message was not interpreted: the kinds its row and its flag are written
/// with.
#[derive(Debug, Clone, Copy)]
enum Unhandled {
    /// Larger than the configured limit; stored unread.
    TooLarge,
    /// Interpretation failed for a reason retrying will not fix.
    Error,
}

impl Unhandled {
    fn kinds(self) -> (MessageKind, FlagKind) {
        match self {
            Unhandled::TooLarge => (MessageKind::TooLarge, FlagKind::TooLarge),
            Unhandled::Error => (MessageKind::Error, FlagKind::Error),
        }
    }
}

/// Claims the message (if nobody has) and flags it; used for too-large mail and when
/// interpretation failed.
async fn flag_message(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    why: Unhandled,
    reason: &str,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let (message_kind, flag_kind) = why.kinds();
    let mut tx = conn.begin().await?;
    if !messages::claim(&mut tx, id, now).await? {
        return not_claimed(&mut tx, id).await;
    }
    write::unread_message(&mut tx, id, message_kind, &format!("flagged: {reason}")).await?;
    write::raise(&mut tx, Some(id), None, flag_kind, reason, now).await?;
    let text = format!(
        "Message {id} could not be handled automatically: {reason}.\nIt is kept; nothing was lost."
    );
    notify_officers(bot, &mut tx, None, Notice::NeedsAttention, &text, now).await?;
    tx.commit().await?;
    Ok(Outcome::Flagged {
        reason: reason.to_string(),
        reference: None,
    })
}
