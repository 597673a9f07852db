//! The outbox worker: sends due rows over SMTP, one stable Message-ID per row.
//!
//! Per row: count the attempt (committed), talk SMTP (no transaction open), then mark the row
//! sent, retry later (4xx, network, TLS: growing jittered delays persisted in the row) or
//! failed (5xx, or still failing after `give_up_after`). A crash after the server accepted a
//! mail but before the row was marked sent is the one window in which a mail can go out
//! twice; see the README.

use std::time::Duration;

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use lettre::address::Envelope;
use tokio_util::sync::CancellationToken;

use super::queue::{Notice, notify_officers};
use super::smtp::{self, Failure, Transport};
use crate::app::Bot;
use crate::config::SmtpSettings;
use crate::net::jitter;
use crate::ops::{Part, metrics};
use crate::store::{cursors, flags, outbox};

/// Rows handled per round.
const BATCH: i64 = 50;
/// SMTP conversations in flight at once (lettre's pool keeps up to 10 connections).
const PARALLEL: usize = 8;
/// Longest sleep between rounds: mail queued by another process (the MTA pipe) is picked up
/// within this time even when nobody wakes us.
const MAX_IDLE: Duration = Duration::from_secs(5);

/// Runs the sender until `cancel` fires. Errors are logged and retried, never fatal.
pub async fn run(bot: Bot, cancel: CancellationToken) {
    let Some(settings) = bot.settings.smtp.clone() else {
        tracing::warn!("no [smtp] configured: the outbox is not sent");
        return;
    };
    let transport = match smtp::transport(&settings.endpoint) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "cannot set up SMTP; the outbox is not sent");
            return;
        }
    };
    while !cancel.is_cancelled() {
        let wait = match send_due(&bot, &transport, &settings, &cancel).await {
            Ok(wait) => wait,
            Err(e) => {
                let message = format!("{e:#}");
                tracing::warn!(error = %message, "outbox round failed");
                if let Ok(mut conn) = bot.store.pool().acquire().await {
                    let _ =
                        cursors::worker_error(&mut conn, "sender", &message, bot.clock.now()).await;
                }
                MAX_IDLE
            }
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            () = bot.outbox_ready.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Sends every due row; returns how long to wait before the next round.
pub async fn send_due(
    bot: &Bot,
    transport: &Transport,
    settings: &SmtpSettings,
    cancel: &CancellationToken,
) -> anyhow::Result<Duration> {
    loop {
        let now = bot.clock.now();
        let mut conn = bot.store.pool().acquire().await?;
        let due = outbox::due(&mut conn, now, BATCH).await?;
        drop(conn);
        if due.is_empty() {
            break;
        }
        if cancel.is_cancelled() {
            return Ok(Duration::ZERO);
        }
        // Several conversations at once: lettre cannot switch Nagle off, so one connection
        // waits out the peer's delayed ACK (~40 ms) after every DATA; parallel pooled
        // connections hide that latency.
        let results: Vec<anyhow::Result<()>> = futures::stream::iter(due)
            .map(|row| async move { send_one(bot, transport, settings, &row).await })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    }
    let mut conn = bot.store.pool().acquire().await?;
    cursors::worker_ok(&mut conn, "sender", bot.clock.now()).await?;
    let next = outbox::next_due_at(&mut conn).await?;
    let now = bot.clock.now();
    Ok(match next {
        Some(at) if at > now => Duration::try_from(at.duration_since(now))
            .unwrap_or(MAX_IDLE)
            .min(MAX_IDLE),
        Some(_) => Duration::ZERO,
        None => MAX_IDLE,
    })
}

async fn send_one(
    bot: &Bot,
    transport: &Transport,
    settings: &SmtpSettings,
    row: &outbox::Outgoing,
) -> anyhow::Result<()> {
    let mut conn = bot.store.pool().acquire().await?;
    let now = bot.clock.now();
    let lease_for =
        SignedDuration::try_from(settings.claim_lease).unwrap_or(SignedDuration::from_secs(300));
    let lease = now.saturating_add(lease_for).unwrap_or(now);
    if !outbox::claim_attempt(&mut conn, row.id, now, lease, &bot.instance.id).await? {
        // Another instance took it.
        return Ok(());
    }
    drop(conn);
    let result = match envelope(row) {
        Ok(envelope) => transport.send_raw(&envelope, &row.raw).await,
        Err(e) => Err(Failure::Permanent(format!("unusable envelope: {e}"))),
    };
    let now = bot.clock.now();
    let mut conn = bot.store.pool().acquire().await?;
    match result {
        Ok(_) => {
            // Recorded on a connection of its own, retried while the register is away: a
            // mail the server accepted must not go out twice.
            drop(conn);
            record_sent(bot, settings, row.id, now).await?;
            bot.health.ok(Part::Smtp, now);
            if let Ok(mut conn) = bot.store.pool().acquire().await {
                metrics::sent(&mut conn, &row.kind, row.complaint_id, now).await;
            }
            tracing::info!(id = row.id, kind = %row.kind, to = %crate::privacy::redact::list(&row.recipients), "mail sent");
        }
        Err(Failure::Temporary(error)) if !expired(row, settings, now) => {
            let next = now
                .saturating_add(retry_delay(settings, row.attempts + 1))
                .unwrap_or(now);
            tracing::warn!(id = row.id, error = %crate::privacy::redact::text(&error), retry_at = %next, "send failed temporarily");
            bot.health.failed(Part::Smtp, &error, now);
            outbox::mark_retry(&mut conn, row.id, next, &error).await?;
        }
        Err(Failure::Temporary(error) | Failure::Permanent(error)) => {
            drop(conn);
            if metrics::is_refusal(&error) {
                bot.health.failed(Part::Smtp, &error, now);
            }
            give_up(bot, row, &error, now).await?;
        }
    }
    Ok(())
}

/// The server has the mail: records it, waiting out a temporary storage failure (disk full,
/// database restarting) for up to the claim lease, after which the row could be claimed and
/// sent again; giving up at once would send it twice for sure.
async fn record_sent(
    bot: &Bot,
    settings: &SmtpSettings,
    id: i64,
    now: Timestamp,
) -> anyhow::Result<()> {
    let give_up = tokio::time::Instant::now() + settings.claim_lease;
    let mut delay = Duration::from_millis(250);
    loop {
        let result = async {
            let mut conn = bot.store.pool().acquire().await?;
            outbox::mark_sent(&mut conn, id, now).await
        }
        .await;
        match result {
            Err(e) if crate::store::is_transient(&e) && tokio::time::Instant::now() < give_up => {
                tracing::warn!(id, error = %format!("{e:#}"), "sent, but the register cannot record it yet; retrying");
                tokio::time::sleep(jitter(delay)).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Ok(()) => {
                // "Sent" must survive a power cut too, or the mail goes out again after it
                // (one WAL fsync on SQLite; nothing on PostgreSQL).
                if let Err(e) = bot.store.make_durable().await {
                    tracing::warn!(id, error = %format!("{e:#}"), "sent, but could not make that durable");
                }
                return Ok(());
            }
            other => return other,
        }
    }
}

fn envelope(row: &outbox::Outgoing) -> anyhow::Result<Envelope> {
    let from = if row.envelope_from.is_empty() {
        None
    } else {
        Some(row.envelope_from.parse()?)
    };
    let to = row
        .recipients
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Envelope::new(from, to)?)
}

fn expired(row: &outbox::Outgoing, settings: &SmtpSettings, now: Timestamp) -> bool {
    let limit = SignedDuration::try_from(settings.give_up_after).unwrap_or(SignedDuration::MAX);
    now.duration_since(row.created_at) > limit
}

/// The delay before attempt `attempt + 1`: initial × 2^(attempt-1), capped, ±25 % jitter.
pub fn retry_delay(settings: &SmtpSettings, attempt: i64) -> SignedDuration {
    let exp = u32::try_from(attempt.clamp(1, 30) - 1).unwrap_or(0);
    let base = settings
        .retry_initial
        .saturating_mul(2u32.saturating_pow(exp))
        .min(settings.retry_max);
    SignedDuration::try_from(jitter(base)).unwrap_or(SignedDuration::from_secs(60))
}

/// Marks the row failed and tells the officer, except about a failed notice to the officer
/// itself: that only raises a flag, so a broken officer address cannot start a loop.
async fn give_up(
    bot: &Bot,
    row: &outbox::Outgoing,
    error: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    tracing::error!(id = row.id, kind = %row.kind, to = %crate::privacy::redact::list(&row.recipients), error = %crate::privacy::redact::text(error), "send failed permanently");
    metrics::mail_failed();
    bot.health.mail_failed(now);
    let mut tx = bot.store.begin().await?;
    outbox::mark_failed(&mut tx, row.id, error).await?;
    let detail = format!(
        "mail #{} ({}) to {} could not be delivered: {error}",
        row.id, row.kind, row.recipients
    );
    flags::raise(&mut tx, None, row.complaint_id, "send_failed", &detail, now).await?;
    if row.kind != "officer_notice" {
        notify_officers(bot, &mut tx, None, Notice::NotDelivered, &detail, now).await?;
    }
    tx.commit().await?;
    Ok(())
}
