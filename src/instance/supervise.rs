//! The two tasks of an instance beside the sender and the scheduler: the heartbeat, and the
//! watcher that runs only while this instance holds the watcher lock.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::lock::{PING_TIMEOUT, WatchLock};
use super::{HEARTBEAT, Role, store};
use crate::app::Bot;
use crate::mailbox;

/// How long the watcher gets to finish the message in hand after the lock is lost or the
/// daemon stops (inside the daemon's own grace period).
const WATCHER_GRACE: Duration = Duration::from_secs(4);
/// Prune old instance rows about every ten minutes of heartbeats.
const PRUNE_EVERY: u64 = 600;

/// Registers this instance, retires the rows of its own earlier runs (a restart after
/// kill -9) and hands back their claims at once, before the sender makes new ones.
pub async fn start(bot: &Bot) -> anyhow::Result<()> {
    let backend = bot.store.backend();
    let mut conn = bot.store.pool().acquire().await?;
    store::register(&mut conn, backend, &bot.instance).await?;
    let retired = store::retire_predecessors(&mut conn, backend, &bot.instance).await?;
    let released = store::release_dead_claims(&mut conn, backend, bot.clock.now()).await?;
    tracing::info!(
        instance = %bot.instance.id,
        earlier_runs_retired = retired,
        claims_taken_back = released,
        "instance registered"
    );
    Ok(())
}

/// Marks this instance stopped and hands back whatever it still claims.
pub async fn stop(bot: &Bot) {
    let backend = bot.store.backend();
    let Ok(mut conn) = bot.store.pool().acquire().await else {
        return;
    };
    if let Err(e) = store::stop(&mut conn, backend, &bot.instance.id).await {
        tracing::warn!(error = %format!("{e:#}"), "could not mark this instance stopped");
        return;
    }
    let _ = store::release_dead_claims(&mut conn, backend, bot.clock.now()).await;
}

/// Writes the heartbeat every [`HEARTBEAT`] and hands back the claims of dead instances,
/// until `cancel` fires.
pub async fn heartbeat(bot: Bot, cancel: CancellationToken) {
    let mut beats: u64 = 0;
    let mut failing = false;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(HEARTBEAT) => {}
        }
        let prune = beats.is_multiple_of(PRUNE_EVERY);
        beats += 1;
        match tokio::time::timeout(PING_TIMEOUT, beat(&bot, prune)).await {
            Ok(Ok(())) => failing = false,
            Ok(Err(e)) if !failing => {
                tracing::warn!(error = %format!("{e:#}"), "heartbeat failed");
                failing = true;
            }
            Err(_) if !failing => {
                tracing::warn!("heartbeat timed out");
                failing = true;
            }
            _ => {}
        }
    }
}

/// One beat (also written right after the role changed).
async fn beat(bot: &Bot, prune: bool) -> anyhow::Result<()> {
    let backend = bot.store.backend();
    let mut conn = bot.store.pool().acquire().await?;
    store::heartbeat(&mut conn, backend, &bot.instance, bot.role.get()).await?;
    let released = store::release_dead_claims(&mut conn, backend, bot.clock.now()).await?;
    if released > 0 {
        tracing::info!(
            released,
            "took back the outbox claims of a stopped instance"
        );
        bot.outbox_ready.notify_one();
    }
    if prune {
        store::prune(&mut conn, backend).await?;
    }
    Ok(())
}

/// Watches the mailbox while this instance holds the watcher lock; as a standby, waits for
/// it without any IMAP connection. Returns when `cancel` fires.
pub async fn watch_while_active(bot: Bot, mut lock: WatchLock, cancel: CancellationToken) {
    loop {
        if !lock.acquire(&cancel).await {
            return;
        }
        set_role(&bot, Role::Active).await;
        tracing::info!(instance = %bot.instance.id, "holding the watcher lock: watching the mailbox");
        let watching = cancel.child_token();
        let mut watcher = tokio::spawn(mailbox::watch(bot.clone(), watching.clone()));
        let lost = lock.hold(&cancel).await;
        watching.cancel();
        if lost {
            tracing::warn!("lost the watcher lock (database unreachable?): stopped watching");
        }
        if tokio::time::timeout(WATCHER_GRACE, &mut watcher)
            .await
            .is_err()
        {
            watcher.abort();
        }
        lock.release().await;
        set_role(&bot, Role::Standby).await;
        if cancel.is_cancelled() {
            return;
        }
    }
}

async fn set_role(bot: &Bot, role: Role) {
    bot.role.set(role);
    let _ = tokio::time::timeout(PING_TIMEOUT, beat(bot, false)).await;
}
