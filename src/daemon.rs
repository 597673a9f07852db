//! `klachtenbot run`: the watcher, the sender and the scheduler as tasks under one
//! cancellation token.
//!
//! SIGINT/SIGTERM cancel the token; each task finishes the message in hand and returns. After
//! a grace period the tasks are aborted, so the process always stops within a few seconds.

use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::app::Bot;
use crate::config::Settings;
use crate::instance::lock::WatchLock;
use crate::instance::supervise;
use crate::{outbound, scheduler};

/// How long the tasks get to finish after a stop signal.
const GRACE: Duration = Duration::from_secs(5);

/// Runs the daemon until SIGINT/SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    if settings.mailbox.is_none() || settings.smtp.is_none() {
        anyhow::bail!(
            "`run` needs [mailbox] and [smtp] in the configuration (see klachtenbot.example.toml)"
        );
    }
    let bot = Bot::open(settings).await?;
    let cancel = CancellationToken::new();
    let signals = tokio::spawn(stop_on_signal(cancel.clone()));
    let result = run_until_cancelled(bot, cancel).await;
    signals.abort();
    result
}

/// Runs watcher, sender, scheduler (and the HTTP server, alerts and systemd notifications)
/// until `cancel` fires (tests and the demo cancel it themselves).
pub async fn run_until_cancelled(bot: Bot, cancel: CancellationToken) -> anyhow::Result<()> {
    // The URL carries no password (that sits in `database_password`, a `Secret`); redact
    // anyway, for a URL given some other way.
    let database = crate::store::redact(&bot.settings.database_url);
    tracing::info!(%database, instance = %bot.instance.id, "klachtenbot running");
    crate::ops::metrics::install();
    let lock = WatchLock::new(&bot.settings)?;
    let listener = match bot.settings.http.listen {
        Some(addr) => Some(crate::ops::http::bind(addr).await?),
        None => None,
    };
    supervise::start(&bot).await?;
    let mut tasks = JoinSet::new();
    if let Some(listener) = listener {
        tasks.spawn(crate::ops::http::serve(
            bot.clone(),
            listener,
            cancel.clone(),
        ));
    }
    tasks.spawn(crate::ops::alerts::run(bot.clone(), cancel.clone()));
    tasks.spawn(crate::ops::systemd::run(bot.clone(), cancel.clone()));
    tasks.spawn(supervise::heartbeat(bot.clone(), cancel.clone()));
    tasks.spawn(supervise::watch_while_active(
        bot.clone(),
        lock,
        cancel.clone(),
    ));
    tasks.spawn(outbound::sender::run(bot.clone(), cancel.clone()));
    tasks.spawn(scheduler::run(bot.clone(), cancel.clone()));
    cancel.cancelled().await;
    crate::ops::systemd::stopping();
    tracing::info!("stopping: finishing the message in hand");
    let finished =
        tokio::time::timeout(GRACE, async { while tasks.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        tracing::warn!("tasks did not stop within {GRACE:?}; aborting them");
        tasks.shutdown().await;
    }
    supervise::stop(&bot).await;
    bot.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn stop_on_signal(cancel: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("Failed to listen for SIGTERM")?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
    cancel.cancel();
    Ok(())
}
