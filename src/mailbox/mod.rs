//! The IMAP watcher: connect, drain the inbox, IDLE (or poll) until something arrives, and
//! again; on any error drop the connection, back off with jitter and reconnect.
//!
//! - [`session`]: TCP/TLS/STARTTLS and login (password, or an OAuth2 token in `login`).
//! - [`sync`]: the cursor, bounded batches through the door, MOVE after commit, quarantine.

mod login;
pub mod session;
pub mod sync;

use std::time::{Duration, Instant};

use anyhow::Context;
use async_imap::extensions::idle::IdleResponse;
use tokio_util::sync::CancellationToken;

use crate::app::Bot;
use crate::net::jitter;
use crate::ops::{Part, metrics};
use crate::store::cursors;
use session::ImapSession;

/// Reconnect delays: from about 2 s up to 80 s, doubled after each failure, with jitter so
/// several instances do not hammer a recovering server in step.
const BACKOFF_MIN: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(80);
/// The ceiling when the register failed (disk full, read-only, database away): the mail
/// waits in the inbox, and a freed disk or a restarted database should be used within
/// seconds, not after the full IMAP backoff. A retry costs one login and one SELECT.
const STORAGE_BACKOFF_MAX: Duration = Duration::from_secs(10);

/// A session that lasted this long counts as having worked: its end is reconnected without
/// delay. Shorter ones (a server that accepts the login and hangs up) back off, so a
/// misbehaving server is not hammered in a tight loop.
const LIVED: Duration = Duration::from_secs(1);

/// Watches the mailbox until `cancel` fires. Never returns an error: every failure is
/// logged, recorded for `status`, and followed by a reconnect.
pub async fn watch(bot: Bot, cancel: CancellationToken) {
    let mut backoff = BACKOFF_MIN;
    while !cancel.is_cancelled() {
        let mut logged_in = None;
        match watch_once(&bot, &cancel, &mut logged_in).await {
            Ok(()) => return,
            Err(e) if logged_in.is_some_and(|at: Instant| at.elapsed() >= LIVED) => {
                // A session that worked and then ended (the server's idle limit, a token
                // that expired, a restart): reconnect at once, with a fresh token, and start
                // the backoff from the bottom.
                tracing::info!(error = %format!("{e:#}"), "mailbox session ended; reconnecting at once");
                backoff = BACKOFF_MIN;
            }
            Err(e) => {
                let message = format!("{e:#}");
                let storage = crate::store::fault::of_register(&e).filter(|f| f.is_temporary());
                let now = bot.clock.now();
                if let Some(fault) = &storage {
                    backoff = backoff.min(STORAGE_BACKOFF_MAX);
                    tracing::warn!(error = %message, %fault, retry_in = ?backoff, "register unavailable; the mail stays in the inbox");
                    bot.health.failed(Part::Database, &message, now);
                } else {
                    tracing::warn!(error = %message, retry_in = ?backoff, "mailbox watcher failed; reconnecting");
                    bot.health.failed(Part::Imap, &message, now);
                }
                bot.health.imap_alive(now);
                metrics::imap_connected(false);
                if let Ok(mut conn) = bot.store.pool().acquire().await {
                    let _ = cursors::worker_error(&mut conn, "watcher", &message, bot.clock.now())
                        .await;
                }
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(jitter(backoff)) => {}
                }
                let max = if storage.is_some() {
                    STORAGE_BACKOFF_MAX
                } else {
                    BACKOFF_MAX
                };
                backoff = (backoff * 2).min(max);
            }
        }
    }
}

/// One connection's life: returns Ok only when cancelled.
/// `logged_in` is set once the login succeeded.
async fn watch_once(
    bot: &Bot,
    cancel: &CancellationToken,
    logged_in: &mut Option<Instant>,
) -> anyhow::Result<()> {
    let settings = bot
        .settings
        .mailbox
        .as_ref()
        .context("no [mailbox] configured")?;
    let mut session = tokio::select! {
        () = cancel.cancelled() => return Ok(()),
        s = session::connect(&settings.endpoint) => s?,
    };
    *logged_in = Some(Instant::now());
    let caps = sync::capabilities(&mut session).await?;
    sync::ensure_folders(&mut session, settings).await?;
    tracing::info!(host = %settings.endpoint.host, idle = caps.idle, "connected to the mailbox");
    bot.health.ok(Part::Imap, bot.clock.now());
    metrics::imap_connected(true);
    loop {
        // Below the free-space floor no mail is taken: it stays in the inbox until space is back.
        crate::space::hold(bot, cancel).await;
        // The drain is not raced against the cancel token: the message in hand is finished,
        // then the loop notices the cancellation before the next wait.
        let drained = sync::drain(bot, &mut session, caps).await?;
        bot.health.imap_alive(bot.clock.now());
        if drained.processed + drained.quarantined > 0 {
            tracing::debug!(
                processed = drained.processed,
                quarantined = drained.quarantined,
                "inbox drained"
            );
        }
        let mut conn = bot.store.pool().acquire().await?;
        cursors::worker_ok(&mut conn, "watcher", bot.clock.now()).await?;
        drop(conn);
        if cancel.is_cancelled() {
            let _ = tokio::time::timeout(Duration::from_secs(2), session.logout()).await;
            return Ok(());
        }
        // New mail reported while our own commands ran (an EXISTS at the end of MOVE, say)
        // lands in the unsolicited channel, and the server will not report it again during
        // IDLE: drain once more instead of waiting for mail that already arrived.
        if drained.arrived || sync::arrived_meanwhile(&session) || drained.processed > 0 {
            continue;
        }
        session = if caps.idle {
            idle(session, settings.idle_timeout, cancel).await?
        } else {
            poll_wait(session, settings.poll_interval, cancel).await?
        };
    }
}

/// One IDLE cycle: consumes the session and hands it back (chatmail's pattern), so a failure
/// anywhere simply drops the connection.
async fn idle(
    session: ImapSession,
    timeout: Duration,
    cancel: &CancellationToken,
) -> anyhow::Result<ImapSession> {
    let mut handle = session.idle();
    session::timed("IDLE", handle.init()).await?;
    let (wait, stop) = handle.wait_with_timeout(timeout);
    let response = tokio::select! {
        r = wait => Some(r.context("IDLE failed")?),
        () = cancel.cancelled() => None,
    };
    // Dropping the stop handle ends the IDLE wait at once.
    drop(stop);
    if let Some(IdleResponse::NewData(_)) = response {
        tracing::debug!("IDLE: server reported a change");
    }
    // A dropped connection can look like an interrupt; a failing DONE means "reconnect".
    session::timed("DONE", handle.done()).await
}

async fn poll_wait(
    mut session: ImapSession,
    every: Duration,
    cancel: &CancellationToken,
) -> anyhow::Result<ImapSession> {
    tokio::select! {
        () = cancel.cancelled() => {}
        () = tokio::time::sleep(every) => {}
    }
    session::timed("NOOP", session.noop()).await?;
    Ok(session)
}
