//! The one writer of what a message meant: its row in `messages`, the complaints' timeline,
//! flags for the officer, kept attachments. Kinds are enums ([`MessageKind`],
//! [`EventKind`], [`FlagKind`]); the stored strings come from their `as_str`.

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::ctx::Ctx;
use super::outcome::Outcome;
use crate::app::Bot;
use crate::domain::{EventKind, FlagKind, MessageKind};
use crate::outbound::queue::{Notice, notify_officers};
use crate::store::complaints::StoredComplaint;
use crate::store::{events, flags, messages};

/// What the message's row says it was.
pub(super) struct Meaning<'a> {
    pub kind: MessageKind,
    /// What became of it, in a few words (`registered KL-2026-0042`, `flagged: ...`).
    pub outcome: &'a str,
    /// The complaint it registered or belongs to.
    pub complaint: Option<i64>,
    /// The customer's words (quotes and signature removed), when they count.
    pub body: Option<&'a str>,
}

/// Writes what the message was, with its sender and subject.
pub(super) async fn message(
    conn: &mut AnyConnection,
    cx: &Ctx<'_>,
    m: &Meaning<'_>,
) -> anyhow::Result<()> {
    let mail = cx.mail;
    let from = mail.from.as_ref().map(|f| f.address.to_string());
    let i = messages::Interpretation {
        kind: m.kind.as_str(),
        outcome: m.outcome,
        from_address: from.as_deref().or(mail.from_raw.as_deref()),
        subject: Some(&mail.subject),
        body_text: m.body,
        complaint_id: m.complaint,
    };
    messages::record(conn, cx.id, &i).await
}

/// Writes what a message no mail could be read from was: no sender, no subject.
pub(super) async fn unread_message(
    conn: &mut AnyConnection,
    id: i64,
    kind: MessageKind,
    outcome: &str,
) -> anyhow::Result<()> {
    let i = messages::Interpretation {
        kind: kind.as_str(),
        outcome,
        from_address: None,
        subject: None,
        body_text: None,
        complaint_id: None,
    };
    messages::record(conn, id, &i).await
}

/// One line for a complaint's timeline.
pub(super) struct Entry<'a> {
    pub complaint: i64,
    /// An address, or `klachtenbot` for the bot itself.
    pub actor: &'a str,
    pub kind: EventKind,
    pub detail: &'a str,
    /// The received message it concerns.
    pub message: Option<i64>,
}

/// Appends a line to a complaint's timeline.
pub(super) async fn event(
    conn: &mut AnyConnection,
    at: Timestamp,
    e: &Entry<'_>,
) -> anyhow::Result<()> {
    let row = events::NewEvent {
        complaint_id: e.complaint,
        at,
        actor: e.actor,
        kind: e.kind,
        detail: e.detail,
        message_pk: e.message,
        outbox_id: None,
    };
    events::append(conn, &row).await
}

/// Raises a flag for the officer about the message being handled.
pub(super) async fn flag(
    conn: &mut AnyConnection,
    cx: &Ctx<'_>,
    complaint: Option<i64>,
    kind: FlagKind,
    reason: &str,
) -> anyhow::Result<()> {
    raise(conn, Some(cx.id), complaint, kind, reason, cx.now).await
}

/// Raises a flag for the officer, about a message (if any) and a complaint (if any).
pub(super) async fn raise(
    conn: &mut AnyConnection,
    message: Option<i64>,
    complaint: Option<i64>,
    kind: FlagKind,
    reason: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    flags::raise(conn, message, complaint, kind, reason, now).await?;
    Ok(())
}

/// Keeps the mail's attachments with its row.
pub(super) async fn attachments(conn: &mut AnyConnection, cx: &Ctx<'_>) -> anyhow::Result<()> {
    for a in &cx.mail.attachments {
        messages::add_attachment(conn, cx.id, &a.filename, &a.content_type, &a.data).await?;
    }
    Ok(())
}

/// A message the officer must look at and nothing else happens to: its row says `flagged`,
/// a flag of `kind`, and the officers are told.
pub(super) async fn flagged(
    conn: &mut AnyConnection,
    cx: &Ctx<'_>,
    complaint: Option<&StoredComplaint>,
    (kind, flag_kind): (MessageKind, FlagKind),
    reason: &str,
) -> anyhow::Result<Outcome> {
    let cid = complaint.map(|c| c.id);
    let outcome = format!("flagged: {reason}");
    let meaning = Meaning {
        kind,
        outcome: &outcome,
        complaint: cid,
        body: None,
    };
    message(conn, cx, &meaning).await?;
    flag(conn, cx, cid, flag_kind, reason).await?;
    let scope = complaint.map(|c| (c.id, c.complaint.reference));
    notify(cx.bot, conn, scope, reason, cx.now).await
}

/// Tells the officers a message needs attention; the outcome says it was flagged.
pub(super) async fn notify(
    bot: &Bot,
    conn: &mut AnyConnection,
    scope: Option<(i64, crate::domain::Reference)>,
    reason: &str,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    notify_officers(bot, conn, scope, Notice::NeedsAttention, reason, now).await?;
    Ok(Outcome::Flagged {
        reason: reason.to_string(),
        reference: scope.map(|s| s.1),
    })
}

/// The first 300 characters of a text, for the timeline.
pub(super) fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        s.push('…');
    }
    s
}

/// Who sent a mail, as the timeline shows it: the From address, else the raw From.
pub(super) fn sender(cx: &Ctx<'_>) -> String {
    let mail = cx.mail;
    mail.from
        .as_ref()
        .map(|f| f.address.to_string())
        .or_else(|| mail.from_raw.clone())
        .unwrap_or_else(|| "(unknown)".into())
}
