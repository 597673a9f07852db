//! Prometheus metrics through the `metrics` facade: the workers count at their edges (the
//! outcome intake returns, the SMTP answer, the scheduler's report, the watcher's connects);
//! the gauges that describe the register are read from the database when `/metrics` is
//! scraped, so they are right for every instance on a shared database.
//!
//! One recorder per process (the facade is global); [`install`] is idempotent.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context;
use jiff::Timestamp;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::Bot;
use crate::intake::Outcome;
use crate::scheduler::{DeadlineKind, TickReport};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Every outcome of a received message, so each series exists (at 0) from the start.
pub const OUTCOMES: [&str; 7] = [
    "registered",
    "follow_up",
    "command",
    "suppressed",
    "duplicate",
    "flagged",
    "quarantined",
];

/// Buckets of the latency histograms: from a tenth of a second (intake) to a day (an
/// acknowledgement that waited for a broken SMTP server).
const BUCKETS: [f64; 14] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0, 86400.0,
];

/// Installs the process's recorder once; `None` when another recorder was installed first
/// (then `/metrics` answers 503 and the counters go nowhere).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match built {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    describe_counter!(
        "klachtenbot_messages_total",
        "Received messages by outcome."
    );
    describe_counter!(
        "klachtenbot_suppressed_total",
        "Messages stored without an answer, by reason."
    );
    describe_counter!(
        "klachtenbot_mails_sent_total",
        "Mails accepted by the SMTP server, by kind."
    );
    describe_counter!(
        "klachtenbot_outbox_failed_total",
        "Mails given up (5xx, or failing too long)."
    );
    describe_histogram!(
        "klachtenbot_ack_seconds",
        metrics::Unit::Seconds,
        "From a complaint's receipt to its acknowledgement accepted by SMTP."
    );
    describe_histogram!(
        "klachtenbot_intake_seconds",
        metrics::Unit::Seconds,
        "Time to store and interpret one received message."
    );
    describe_gauge!(
        "klachtenbot_imap_connected",
        "1 while logged in to the mailbox."
    );
    describe_counter!(
        "klachtenbot_imap_reconnects_total",
        "Mailbox connections lost and tried again."
    );
    describe_gauge!("klachtenbot_outbox_pending", "Mails waiting to be sent.");
    describe_gauge!("klachtenbot_open_complaints", "Complaints not closed.");
    describe_gauge!(
        "klachtenbot_overdue_complaints",
        "Open complaints past a deadline, by deadline."
    );
    describe_counter!(
        "klachtenbot_reminders_sent_total",
        "Reminders queued by the scheduler, by kind."
    );
    for outcome in OUTCOMES {
        counter!("klachtenbot_messages_total", "outcome" => outcome).absolute(0);
    }
    counter!("klachtenbot_outbox_failed_total").absolute(0);
    counter!("klachtenbot_imap_reconnects_total").absolute(0);
    gauge!("klachtenbot_imap_connected").set(0.0);
}

/// The metric label of an outcome.
pub fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Registered(_) => "registered",
        Outcome::FollowUp(_) => "follow_up",
        Outcome::Commanded { .. } => "command",
        Outcome::Suppressed { .. } => "suppressed",
        Outcome::Duplicate => "duplicate",
        Outcome::Flagged { .. } => "flagged",
    }
}

/// A suppression reason as a short label ("auto-replied", "loop"): the words before any
/// detail, so the label set stays small.
pub fn reason_label(reason: &str) -> String {
    let head = reason.split([':', '(']).next().unwrap_or(reason).trim();
    head.to_lowercase().replace(' ', "_")
}

/// Counts a message intake finished with, and how long it took.
pub fn message(outcome: &Outcome, took: Duration) {
    counter!("klachtenbot_messages_total", "outcome" => outcome_label(outcome)).increment(1);
    if let Outcome::Suppressed { reason, .. } = outcome {
        counter!("klachtenbot_suppressed_total", "reason" => reason_label(reason)).increment(1);
    }
    histogram!("klachtenbot_intake_seconds").record(took.as_secs_f64());
}

/// Counts messages moved to quarantine without reaching intake's end.
pub fn quarantined(n: usize) {
    counter!("klachtenbot_messages_total", "outcome" => "quarantined").increment(n as u64);
}

/// A mail the SMTP server accepted; `received_at` for an acknowledgement.
pub fn mail_sent(kind: &str, received_at: Option<Timestamp>, now: Timestamp) {
    counter!("klachtenbot_mails_sent_total", "kind" => kind.to_string()).increment(1);
    if let Some(at) = received_at {
        let secs = now.duration_since(at).as_secs_f64().max(0.0);
        histogram!("klachtenbot_ack_seconds").record(secs);
    }
}

/// Counts a mail the SMTP server accepted; for an acknowledgement also the time since its
/// complaint was received. Never fails the send: a lookup error only loses the histogram.
pub async fn sent(
    conn: &mut sqlx::AnyConnection,
    kind: &str,
    complaint_id: Option<i64>,
    now: Timestamp,
) {
    let mut received_at = None;
    if let (Some(id), "acknowledgement") = (complaint_id, kind) {
        let found: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT received_at FROM complaints WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await;
        received_at = found.ok().flatten().map(crate::store::from_secs);
    }
    mail_sent(kind, received_at, now);
}

/// Whether a final SMTP error is the server refusing us rather than one mail: a failed login
/// (530, 534, 535) or service not available (554 at connect). Such a failure makes SMTP count
/// as failing for `/healthz` and the alerts, as a network error does.
pub fn is_refusal(error: &str) -> bool {
    [
        "(530)",
        "(534)",
        "(535)",
        "authentication",
        "Authentication",
    ]
    .iter()
    .any(|needle| error.contains(needle))
}

/// A mail given up.
pub fn mail_failed() {
    counter!("klachtenbot_outbox_failed_total").increment(1);
}

/// The watcher logged in (true) or lost its connection (false).
pub fn imap_connected(connected: bool) {
    gauge!("klachtenbot_imap_connected").set(if connected { 1.0 } else { 0.0 });
    if !connected {
        counter!("klachtenbot_imap_reconnects_total").increment(1);
    }
}

/// Counts the reminders a scheduler round queued.
pub fn reminders(report: &TickReport) {
    for r in &report.reminders {
        counter!("klachtenbot_reminders_sent_total", "kind" => r.kind.as_str()).increment(1);
    }
}

/// Reads the register's gauges and renders every metric in Prometheus text format.
pub async fn render(bot: &Bot) -> anyhow::Result<String> {
    let handle = install().context("no metrics recorder in this process")?;
    refresh_gauges(bot).await?;
    handle.run_upkeep();
    Ok(handle.render())
}

async fn refresh_gauges(bot: &Bot) -> anyhow::Result<()> {
    let mut conn = bot.store.pool().acquire().await?;
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        .fetch_one(&mut *conn)
        .await
        .context("Failed to count pending outbox rows")?;
    drop(conn);
    gauge!("klachtenbot_outbox_pending").set(pending as f64);
    let open = crate::scheduler::open_deadlines(bot).await?;
    gauge!("klachtenbot_open_complaints").set(open.len() as f64);
    let now = bot.clock.now();
    for kind in [
        DeadlineKind::Acknowledge,
        DeadlineKind::Explain,
        DeadlineKind::Solve,
        DeadlineKind::Verdict,
    ] {
        let overdue = open
            .iter()
            .filter(|(_, pending)| pending.iter().any(|d| d.kind == kind && d.due < now))
            .count();
        gauge!("klachtenbot_overdue_complaints", "deadline" => kind.as_str()).set(overdue as f64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_reasons_become_short_labels() {
        assert_eq!(reason_label("loop (from our own address)"), "loop");
        assert_eq!(reason_label("auto-replied"), "auto-replied");
        assert_eq!(reason_label("Rate limit: 3 per 24h"), "rate_limit");
    }
}
