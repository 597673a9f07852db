//! systemd's notify protocol (`Type=notify`): READY once the register is open and the first
//! IMAP login succeeded (or the instance is a standby), STOPPING on shutdown, and WATCHDOG
//! pings only while the IMAP loop makes progress, so a hung loop gets the service restarted.
//! Outside systemd (`NOTIFY_SOCKET` unset) every call does nothing.

use std::time::Duration;

use jiff::SignedDuration;
use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

use super::health::{Part, Role};
use crate::app::Bot;

/// How often readiness is looked at before it is reported.
const READY_POLL: Duration = Duration::from_millis(200);

/// Slack on top of the IMAP loop's longest legitimate wait (IDLE or poll, then the longest
/// reconnect back-off and a connect): beyond it the loop counts as hung.
const HANG_SLACK: Duration = Duration::from_secs(120);

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "systemd notification not sent");
    }
}

/// Reports STOPPING (the daemon's shutdown has begun).
pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

/// Waits for readiness and reports it, then sends watchdog pings while the IMAP loop is
/// alive. Returns when `cancel` fires.
pub async fn run(bot: Bot, cancel: CancellationToken) {
    loop {
        let ready = bot.health.part(Part::Imap).up || bot.role.get() == Role::Standby;
        if ready {
            notify(&[NotifyState::Ready, NotifyState::Status("running")]);
            tracing::info!("ready");
            break;
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(READY_POLL) => {}
        }
    }
    let Some(timeout) = sd_notify::watchdog_enabled() else {
        cancel.cancelled().await;
        return;
    };
    let allowed = hang_allowance(&bot);
    let every = timeout / 2;
    loop {
        let idle = bot.clock.now().duration_since(bot.health.imap_alive_at());
        let standby = bot.role.get() == Role::Standby;
        if standby || idle <= allowed {
            notify(&[NotifyState::Watchdog]);
        } else {
            tracing::error!(stalled_for = %idle, "the IMAP loop makes no progress; no watchdog ping");
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// The longest the IMAP loop may legitimately stay silent.
fn hang_allowance(bot: &Bot) -> SignedDuration {
    let wait = bot
        .settings
        .mailbox
        .as_ref()
        .map_or(Duration::ZERO, |m| m.idle_timeout.max(m.poll_interval));
    SignedDuration::try_from(wait + HANG_SLACK).unwrap_or(SignedDuration::MAX)
}
