//! The outbox worker: sends due rows over SMTP, one stable Message-ID per row.
//!
//! Per round of due rows: count an attempt on each (one committed transaction), talk SMTP (no
//! transaction open; several conversations at once), then mark each row sent, retry later
//! (4xx, network, TLS: growing jittered delays persisted in the row) or failed (5xx, or still
//! failing after `give_up_after`). Rows accepted while the previous marks were being written
//! are marked together, in one transaction and one durability barrier. A crash after the
//! server accepted a mail but before its row was marked sent is the one window in which a
//! mail can go out twice; see the README.

use std::time::Duration;

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use lettre::address::Envelope;
use tokio_util::sync::CancellationToken;

use super::queue::{Notice, notify_officers};
use super::smtp::{self, Failure, Transport};
use crate::app::Bot;
use crate::config::SmtpSettings;
use crate::domain::FlagKind;
use crate::net::jitter;
use crate::ops::{Part, metrics};
use crate::store::{cursors, flags, outbox};

/// Rows handled per round.
const BATCH: i64 = 50;
/// SMTP conversations in flight at once. A few, so that the server's work on one message
/// (cleanup, queue manager, delivery) overlaps our next; more only made the mail servers
/// work harder per message on two cores (Dovecot + Postfix 10 % more CPU per mail with 8
/// than with the minimal client's one, about the same with 3; `cargo bench --bench mailbox`).
const PARALLEL: usize = super::smtp::PARALLEL;
/// Mails the server accepted that may wait for their "sent" mark at once. More than
/// PARALLEL, so that sending goes on while the register is busy for a moment (the watcher
/// commits a group of registrations in one transaction, some 25 ms in a backlog, during
/// which the marks wait); few, because these are the mails a crash can send twice.
const UNMARKED: usize = 16;
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
        let claimed = claim(bot, settings, due, now).await?;
        send_round(bot, transport, settings, &claimed).await?;
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

/// Counts an attempt on each due row, all in one statement (one commit for the round, not
/// one per mail); returns the rows this instance claimed, in id order.
async fn claim(
    bot: &Bot,
    settings: &SmtpSettings,
    mut due: Vec<outbox::Outgoing>,
    now: Timestamp,
) -> anyhow::Result<Vec<outbox::Outgoing>> {
    let lease_for =
        SignedDuration::try_from(settings.claim_lease).unwrap_or(SignedDuration::from_secs(300));
    let lease = now.saturating_add(lease_for).unwrap_or(now);
    let ids: Vec<i64> = due.iter().map(|row| row.id).collect();
    let mut conn = bot.store.pool().acquire().await?;
    let claimed = outbox::claim_attempts(&mut conn, &ids, now, lease, &bot.instance.id).await?;
    drop(conn);
    // The others another instance took.
    due.retain(|row| claimed.binary_search(&row.id).is_ok());
    due.sort_by_key(|row| row.id);
    Ok(due)
}

/// Sends the claimed rows, several conversations at once, and records each outcome as it
/// comes: what finished while the previous record was being written is recorded together
/// (group commit), so the register keeps up without holding a mail back.
async fn send_round(
    bot: &Bot,
    transport: &Transport,
    settings: &SmtpSettings,
    rows: &[outbox::Outgoing],
) -> anyhow::Result<()> {
    let received = acknowledged_complaints_received(bot, rows).await;
    // Before the channel: the permits in it borrow the semaphore.
    let unmarked = tokio::sync::Semaphore::new(UNMARKED);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    // Several conversations at once: the server's per-message work (cleanup, queue manager,
    // delivery) overlaps our next message instead of waiting for it. A conversation takes
    // a permit before it starts and the permit is returned when its outcome is recorded, so
    // at most UNMARKED accepted mails are ever unmarked (the resends a crash can cause, see
    // the README).
    let sending = async {
        futures::stream::iter(0..rows.len())
            .map(|i| {
                let done_tx = done_tx.clone();
                let unmarked = &unmarked;
                async move {
                    // Never closed: acquiring cannot fail.
                    let Ok(permit) = unmarked.acquire().await else {
                        return;
                    };
                    let result = attempt(transport, &rows[i]).await;
                    // The receiver lives until every sender is dropped: it cannot be gone.
                    let _ = done_tx.send((i, result, permit));
                }
            })
            .buffer_unordered(PARALLEL)
            .collect::<()>()
            .await;
        drop(done_tx);
    };
    let recording = async {
        let mut first_error = None;
        let mut finished = Vec::new();
        while done_rx.recv_many(&mut finished, UNMARKED).await > 0 {
            let (group, permits): (Vec<_>, Vec<_>) = finished
                .drain(..)
                .map(|(i, result, permit)| ((&rows[i], result), permit))
                .unzip();
            if let Err(e) = record(bot, settings, &group, &received).await {
                first_error.get_or_insert(e);
            }
            // Returned also when recording failed (the recorder reports that error for the
            // round).
            drop(permits);
        }
        first_error
    };
    let ((), first_error) = tokio::join!(sending, recording);
    // "Sent" must survive a power cut too, or the mail goes out again after it: one barrier
    // for the round (one WAL fsync on SQLite; nothing on PostgreSQL). Each group's marks
    // were committed as they came, so a crash of the bot alone loses none of them.
    if let Err(e) = bot.store.make_durable().await {
        tracing::warn!(mails = rows.len(), error = %format!("{e:#}"), "sent, but could not make that durable");
    }
    first_error.map_or(Ok(()), Err)
}

/// One SMTP conversation for a row.
async fn attempt(transport: &Transport, row: &outbox::Outgoing) -> Result<(), Failure> {
    match envelope(row) {
        Ok(envelope) => transport.send_raw(&envelope, &row.raw).await,
        Err(e) => Err(Failure::Permanent(format!("unusable envelope: {e}"))),
    }
}

/// Records what a group of conversations ended in: the accepted ones marked sent in one
/// statement (made durable with the round, see [`send_round`]), then retries and failures
/// one by one.
async fn record(
    bot: &Bot,
    settings: &SmtpSettings,
    finished: &[(&outbox::Outgoing, Result<(), Failure>)],
    received: &std::collections::BTreeMap<i64, Timestamp>,
) -> anyhow::Result<()> {
    let now = bot.clock.now();
    let sent: Vec<&outbox::Outgoing> = finished
        .iter()
        .filter(|(_, result)| result.is_ok())
        .map(|(row, _)| *row)
        .collect();
    if !sent.is_empty() {
        record_sent(bot, settings, &sent, now).await?;
        bot.health.ok(Part::Smtp, now);
        for row in &sent {
            let received_at = row.complaint_id.and_then(|id| received.get(&id).copied());
            metrics::mail_sent(
                &row.kind,
                received_at.filter(|_| row.kind == "acknowledgement"),
                now,
            );
            tracing::info!(id = row.id, kind = %row.kind, to = %crate::privacy::redact::list(&row.recipients), "mail sent");
        }
    }
    for (row, result) in finished {
        match result {
            Ok(()) => {}
            Err(Failure::Temporary(error)) if !expired(row, settings, now) => {
                let next = now
                    .saturating_add(retry_delay(settings, row.attempts + 1))
                    .unwrap_or(now);
                tracing::warn!(id = row.id, error = %crate::privacy::redact::text(error), retry_at = %next, "send failed temporarily");
                bot.health.failed(Part::Smtp, error, now);
                let mut conn = bot.store.pool().acquire().await?;
                outbox::mark_retry(&mut conn, row.id, next, error).await?;
            }
            Err(Failure::Temporary(error) | Failure::Permanent(error)) => {
                if metrics::is_refusal(error) {
                    bot.health.failed(Part::Smtp, error, now);
                }
                give_up(bot, row, error, now).await?;
            }
        }
    }
    Ok(())
}

/// When the complaints of the acknowledgements among `rows` were received, for the
/// acknowledgement-time histogram: one query for the round. A failed lookup only loses the
/// histogram's samples, never the send.
async fn acknowledged_complaints_received(
    bot: &Bot,
    rows: &[outbox::Outgoing],
) -> std::collections::BTreeMap<i64, Timestamp> {
    let ids: Vec<i64> = rows
        .iter()
        .filter(|row| row.kind == "acknowledgement")
        .filter_map(|row| row.complaint_id)
        .collect();
    if ids.is_empty() {
        return std::collections::BTreeMap::new();
    }
    let Ok(mut conn) = bot.store.pool().acquire().await else {
        return std::collections::BTreeMap::new();
    };
    crate::store::complaints::received_at_of(&mut conn, &ids)
        .await
        .unwrap_or_default()
}

/// The server has these mails: records them, waiting out a temporary storage failure (disk
/// full, database restarting) for up to the claim lease, after which a row could be claimed
/// and sent again; giving up at once would send them twice for sure.
async fn record_sent(
    bot: &Bot,
    settings: &SmtpSettings,
    rows: &[&outbox::Outgoing],
    now: Timestamp,
) -> anyhow::Result<()> {
    let give_up = tokio::time::Instant::now() + settings.claim_lease;
    let mut delay = Duration::from_millis(250);
    loop {
        let result = async {
            let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
            let mut conn = bot.store.pool().acquire().await?;
            outbox::mark_sent(&mut conn, &ids, now).await?;
            anyhow::Ok(())
        }
        .await;
        match result {
            Err(e) if crate::store::is_transient(&e) && tokio::time::Instant::now() < give_up => {
                tracing::warn!(mails = rows.len(), error = %format!("{e:#}"), "sent, but the register cannot record it yet; retrying");
                tokio::time::sleep(jitter(delay)).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Ok(()) => return Ok(()),
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
    flags::raise(
        &mut tx,
        None,
        row.complaint_id,
        FlagKind::SendFailed,
        &detail,
        now,
    )
    .await?;
    if row.kind != "officer_notice" {
        notify_officers(bot, &mut tx, None, Notice::NotDelivered, &detail, now).await?;
    }
    tx.commit().await?;
    Ok(())
}
