//! Draining the inbox: every message from the persisted cursor on goes through the door,
//! and only after its transaction committed and a durability barrier made the batch's
//! commits survive a power cut is it moved out of the inbox and the cursor advanced (group
//! commit: one fsync per [`DURABLE_GROUP`] messages and one at the end of the batch, see
//! [`crate::store::durable`]); the sender is woken only after a barrier, so no
//! acknowledgement names a registration a power cut could undo. A lone message is a batch
//! of one: nothing waits for a batch or a group to fill.
//!
//! The cursor is (UIDVALIDITY, next UID) per folder (RFC 3501 §2.3.1.1). UIDs are fetched in
//! bounded sets, never `n:*` (which returns the newest message even when nothing is new,
//! RFC 3501 §6.4.8), so memory does not grow with the backlog.

use std::collections::BTreeSet;

use anyhow::Context;
use async_imap::types::UnsolicitedResponse;
use futures::TryStreamExt;

use super::session::{ImapSession, timed};
use crate::app::Bot;
use crate::config::MailboxSettings;
use crate::domain::FlagKind;
use crate::intake::{self, IntakeError, Outcome, Source};
use crate::outbound::queue::{Notice, notify_officers};
use crate::store::{Backend, cursors, flags};

/// Registrations committed and made durable together while a batch is taken through the
/// door (see [`Group`]): after this many the watcher commits, runs the durability barrier
/// and wakes the sender, so acknowledgements go out while the rest of the batch is read
/// rather than after it (at the end of a backlog the sender would otherwise still have a
/// whole batch to send). The messages leave the inbox with the batch's one UID MOVE. A
/// barrier costs one fsync (about 0.3 ms here); the group holds SQLite's write lock for
/// about as many milliseconds as it has messages.
const DURABLE_GROUP: usize = 25;

/// What one drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Messages taken through the door.
    pub processed: usize,
    /// Messages moved to quarantine.
    pub quarantined: usize,
    /// The server reported new mail while the drain ran.
    pub arrived: bool,
}

/// Empties the unsolicited-response channel; true when it held news of new mail.
///
/// Called after every batch, not only after the drain: each UID MOVE brings one EXPUNGE per
/// message moved, and over a backlog of 10,000 those piled up in the channel (megabytes).
pub fn arrived_meanwhile(session: &ImapSession) -> bool {
    let mut news = false;
    while let Ok(r) = session.unsolicited_responses.try_recv() {
        news |= matches!(
            r,
            UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
        );
    }
    news
}

/// Server capabilities that change how we move mail.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// RFC 6851 MOVE.
    pub mv: bool,
    /// RFC 4315 UIDPLUS (UID EXPUNGE).
    pub uidplus: bool,
    /// RFC 2177 IDLE.
    pub idle: bool,
}

/// Reads the capabilities.
pub async fn capabilities(session: &mut ImapSession) -> anyhow::Result<Caps> {
    let caps = timed("CAPABILITY", session.capabilities()).await?;
    Ok(Caps {
        mv: caps.has_str("MOVE"),
        uidplus: caps.has_str("UIDPLUS"),
        idle: caps.has_str("IDLE"),
    })
}

/// Creates the processed and quarantine folders when missing.
pub async fn ensure_folders(
    session: &mut ImapSession,
    settings: &MailboxSettings,
) -> anyhow::Result<()> {
    for folder in [&settings.processed_folder, &settings.quarantine_folder] {
        let existing: Vec<_> = timed("LIST", async {
            session
                .list(None, Some(folder))
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        if existing.is_empty() {
            timed("CREATE", session.create(folder)).await?;
            tracing::info!(%folder, "created IMAP folder");
        }
    }
    Ok(())
}

/// Processes everything in the inbox from the cursor on. Stops at the first transient
/// failure (the database is away): the message stays, the cursor does not move, and the
/// caller reconnects and tries again.
pub async fn drain(bot: &Bot, session: &mut ImapSession, caps: Caps) -> anyhow::Result<Drained> {
    let settings = bot
        .settings
        .mailbox
        .as_ref()
        .context("no [mailbox] configured")?;
    let folder = settings.inbox.as_str();
    let mailbox = timed("SELECT", session.select(folder)).await?;
    let uidvalidity = mailbox.uid_validity.unwrap_or(0);
    let mut conn = bot.store.pool().acquire().await?;
    let mut next_uid = match cursors::get(&mut conn, folder).await? {
        Some(c) if c.uidvalidity == uidvalidity => c.next_uid,
        Some(c) => {
            // The server renumbered the folder: read it again from the start; the Message-ID
            // dedupe in the door keeps this from registering anything twice.
            tracing::warn!(%folder, old = c.uidvalidity, new = uidvalidity, "UIDVALIDITY changed; re-reading the folder");
            1
        }
        None => 1,
    };
    drop(conn);
    let mut done = Drained::default();
    if mailbox.exists == 0 {
        return Ok(done);
    }
    let pending: BTreeSet<u32> = timed(
        "UID SEARCH",
        session.uid_search(format!("UID {next_uid}:*")),
    )
    .await?
    .into_iter()
    .filter(|uid| *uid >= next_uid)
    .collect();
    let pending: Vec<u32> = pending.into_iter().collect();
    for batch in pending.chunks(settings.batch_size as usize) {
        let step = drain_batch(bot, session, caps, folder, uidvalidity, batch).await?;
        done.processed += step.processed;
        done.quarantined += step.quarantined;
        done.arrived |= arrived_meanwhile(session);
        if let Some(last) = batch.last() {
            next_uid = next_uid.max(last.saturating_add(1));
            let mut conn = bot.store.pool().acquire().await?;
            cursors::set(
                &mut conn,
                folder,
                cursors::Cursor {
                    uidvalidity,
                    next_uid,
                },
                bot.clock.now(),
            )
            .await?;
        }
    }
    Ok(done)
}

fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

async fn drain_batch(
    bot: &Bot,
    session: &mut ImapSession,
    caps: Caps,
    folder: &str,
    uidvalidity: u32,
    batch: &[u32],
) -> anyhow::Result<Drained> {
    let settings = bot
        .settings
        .mailbox
        .as_ref()
        .context("no [mailbox] configured")?;
    let limit = bot.settings.limits.max_message_bytes;
    // Sizes first, so a huge message is never pulled into memory.
    let sizes: Vec<(u32, u32)> = timed("UID FETCH size", async {
        session
            .uid_fetch(uid_set(batch), "(UID RFC822.SIZE)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?
    .iter()
    .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0))))
    .collect();
    let (large, wanted): (Vec<_>, Vec<_>) = sizes
        .into_iter()
        .partition(|(_, size)| u64::from(*size) > limit);
    let mut done = Drained::default();
    let mut processed = Vec::new();
    let mut failed = Vec::new();
    if !wanted.is_empty() {
        let uids: Vec<u32> = wanted.iter().map(|(u, _)| *u).collect();
        // BODY.PEEK[] so the bot never sets \Seen on what it reads.
        let fetched = timed("UID FETCH body", async {
            session
                .uid_fetch(uid_set(&uids), "(UID BODY.PEEK[])")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        let mut messages: Vec<(u32, &[u8])> = fetched
            .iter()
            .filter_map(|f| Some((f.uid?, f.body()?)))
            .collect();
        messages.sort_by_key(|(uid, _)| *uid);
        let mut group = Group::new(bot);
        for (uid, raw) in messages {
            let source = Source::Imap {
                folder: folder.to_string(),
                uidvalidity,
                uid,
            };
            let started = std::time::Instant::now();
            match group.process(raw, &source).await {
                Ok(outcome) => {
                    crate::ops::metrics::message(&outcome, started.elapsed());
                    tracing::info!(uid, outcome = %crate::privacy::redact::text(outcome.to_string()), "message processed");
                    group.taken.push(uid);
                    if group.taken.len() == DURABLE_GROUP {
                        let committed = group.commit(&mut processed).await;
                        if let Err(e) = committed {
                            move_registered(
                                bot,
                                session,
                                caps,
                                &processed,
                                &settings.processed_folder,
                            )
                            .await?;
                            return Err(e.context("a group of messages could not be committed"));
                        }
                        bot.store.make_durable().await?;
                        bot.outbox_ready.notify_one();
                    }
                }
                Err(IntakeError::Transient(e)) => {
                    // Keep what is done, move it, then give up this round; the rest stays in
                    // the inbox. If even the group's commit fails, its messages stay too.
                    if let Err(c) = group.commit(&mut processed).await {
                        tracing::warn!(error = %format!("{c:#}"), "the open group of messages could not be committed; they stay in the inbox");
                    }
                    move_registered(bot, session, caps, &processed, &settings.processed_folder)
                        .await?;
                    return Err(e.context(format!("message uid {uid} must be retried")));
                }
                Err(IntakeError::Permanent(e)) => {
                    tracing::error!(uid, error = %format!("{e:#}"), "message cannot be stored; quarantining");
                    failed.push((uid, format!("{e:#}")));
                }
            }
        }
        if let Err(e) = group.commit(&mut processed).await {
            move_registered(bot, session, caps, &processed, &settings.processed_folder).await?;
            return Err(e.context("a group of messages could not be committed"));
        }
    }
    move_registered(bot, session, caps, &processed, &settings.processed_folder).await?;
    done.processed = processed.len();
    for (uid, size) in large {
        failed.push((
            uid,
            format!("too large ({size} bytes, limit {limit}); not downloaded"),
        ));
    }
    quarantine(bot, session, caps, &settings.quarantine_folder, &failed).await?;
    done.quarantined = failed.len();
    Ok(done)
}

/// Messages taken through the door together. On SQLite a group is one transaction: the
/// pages every registration touches (the tails of the same few indexes) are written to the
/// WAL once for the group instead of once per message, and sqlx's connection thread is
/// handed one commit instead of one per message. Each message is still all-or-nothing (its
/// interpretation is a savepoint, see [`intake::process_on`]), and none leaves the inbox
/// before the group committed and a barrier made it durable.
///
/// On PostgreSQL every message commits by itself, as it does through the pipe: there a group
/// would hold row locks (the year's reference counter) that another instance's intake waits
/// for, and a failed statement would abort the whole group.
struct Group<'b> {
    bot: &'b Bot,
    tx: Option<sqlx::Transaction<'static, sqlx::Any>>,
    /// Messages taken through the door since the group's last commit.
    taken: Vec<u32>,
}

impl<'b> Group<'b> {
    fn new(bot: &'b Bot) -> Group<'b> {
        Group {
            bot,
            tx: None,
            taken: Vec::new(),
        }
    }

    async fn process(&mut self, raw: &[u8], source: &Source) -> Result<Outcome, IntakeError> {
        if self.bot.store.backend() != Backend::Sqlite {
            return intake::process(self.bot, raw, source).await;
        }
        let tx = match &mut self.tx {
            Some(tx) => tx,
            None => {
                let tx = self.bot.store.begin().await.map_err(|e| {
                    IntakeError::Transient(anyhow::Error::new(e).context("Failed to begin a group"))
                })?;
                self.tx.insert(tx)
            }
        };
        intake::process_on(self.bot, tx, raw, source).await
    }

    /// Commits the group; its messages join `done`, the ones that may leave the inbox once a
    /// barrier made them durable.
    async fn commit(&mut self, done: &mut Vec<u32>) -> anyhow::Result<()> {
        if let Some(tx) = self.tx.take()
            && let Err(e) = tx.commit().await
        {
            self.taken.clear();
            return Err(anyhow::Error::new(e).context("Failed to commit a group of messages"));
        }
        done.append(&mut self.taken);
        Ok(())
    }
}

async fn quarantine(
    bot: &Bot,
    session: &mut ImapSession,
    caps: Caps,
    folder: &str,
    failed: &[(u32, String)],
) -> anyhow::Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    let uids: Vec<u32> = failed.iter().map(|(u, _)| *u).collect();
    move_uids(session, caps, &uids, folder).await?;
    crate::ops::metrics::quarantined(uids.len());
    // Told once: the message has left the inbox, so it never comes back to this point.
    let now = bot.clock.now();
    let mut tx = bot.store.begin().await?;
    for (uid, reason) in failed {
        tracing::warn!(uid, reason = %crate::privacy::redact::text(reason), "quarantined");
        let detail = format!("IMAP message (uid {uid}) moved to folder {folder}: {reason}");
        flags::raise(&mut tx, None, None, FlagKind::Quarantined, &detail, now).await?;
        notify_officers(bot, &mut tx, None, Notice::Quarantined, &detail, now).await?;
    }
    tx.commit().await?;
    bot.outbox_ready.notify_one();
    Ok(())
}

/// Moves registered messages out of the inbox, once their registrations are on disk; then
/// wakes the sender, so no acknowledgement names a registration a power cut could still undo.
async fn move_registered(
    bot: &Bot,
    session: &mut ImapSession,
    caps: Caps,
    uids: &[u32],
    to: &str,
) -> anyhow::Result<()> {
    if uids.is_empty() {
        return Ok(());
    }
    let durable = bot.store.make_durable().await?;
    tracing::debug!(
        messages = uids.len(),
        generation = durable.generation,
        "batch durable"
    );
    bot.outbox_ready.notify_one();
    move_uids(session, caps, uids, to).await
}

/// Moves messages (MOVE, or COPY + \Deleted + UID EXPUNGE where MOVE is missing). Never
/// deletes without the copy having succeeded first.
async fn move_uids(
    session: &mut ImapSession,
    caps: Caps,
    uids: &[u32],
    to: &str,
) -> anyhow::Result<()> {
    if uids.is_empty() {
        return Ok(());
    }
    let set = uid_set(uids);
    if caps.mv {
        return timed("UID MOVE", session.uid_mv(&set, to)).await;
    }
    timed("UID COPY", session.uid_copy(&set, to)).await?;
    timed("UID STORE", async {
        session
            .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    if caps.uidplus {
        timed("UID EXPUNGE", async {
            session
                .uid_expunge(&set)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
    } else {
        // Without UIDPLUS only a plain EXPUNGE exists; it also removes other \Deleted mail
        // in the inbox, which the bot never marks itself.
        timed("EXPUNGE", async {
            session.expunge().await?.try_collect::<Vec<_>>().await
        })
        .await?;
    }
    Ok(())
}
