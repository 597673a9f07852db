//! Writing down what a message meant: the message row, the complaint's timeline, flags for
//! the officer, kept attachments.

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::outcome::Outcome;
use super::parse::InboundMail;
use crate::app::Bot;
use crate::outbound::queue::{Notice, notify_officers};
use crate::store::complaints::StoredComplaint;
use crate::store::{events, flags, messages};

pub(super) async fn keep_attachments(
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
) -> anyhow::Result<()> {
    for a in &mail.attachments {
        messages::add_attachment(conn, id, &a.filename, &a.content_type, &a.data).await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn flag(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: Option<&InboundMail>,
    complaint: Option<&StoredComplaint>,
    kind: &str,
    reason: &str,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let cid = complaint.map(|c| c.id);
    let outcome = format!("flagged: {reason}");
    match mail {
        Some(m) => record(conn, id, m, kind, &outcome, cid, None).await?,
        None => {
            let i = messages::Interpretation {
                kind,
                outcome: &outcome,
                from_address: None,
                subject: None,
                body_text: None,
                complaint_id: cid,
            };
            messages::record(conn, id, &i).await?;
        }
    }
    flags::raise(conn, Some(id), cid, kind, reason, now).await?;
    let scope = complaint.map(|c| (c.id, c.complaint.reference));
    notify_officers(bot, conn, scope, Notice::NeedsAttention, reason, now).await?;
    Ok(Outcome::Flagged {
        reason: reason.to_string(),
        reference: scope.map(|s| s.1),
    })
}

pub(super) async fn record(
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    kind: &str,
    outcome: &str,
    complaint_id: Option<i64>,
    body_text: Option<&str>,
) -> anyhow::Result<()> {
    let from = mail.from.as_ref().map(|f| f.address.to_string());
    let i = messages::Interpretation {
        kind,
        outcome,
        from_address: from.as_deref().or(mail.from_raw.as_deref()),
        subject: Some(&mail.subject),
        body_text,
        complaint_id,
    };
    messages::record(conn, id, &i).await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn timeline(
    conn: &mut AnyConnection,
    complaint_id: i64,
    at: Timestamp,
    actor: &str,
    kind: &str,
    detail: &str,
    message_pk: Option<i64>,
) -> anyhow::Result<()> {
    events::append(
        conn,
        &events::NewEvent {
            complaint_id,
            at,
            actor,
            kind,
            detail,
            message_pk,
            outbox_id: None,
        },
    )
    .await
}

/// Records the message and raises a flag, without a notice (the caller sends its own).
pub(super) async fn flag_only(
    conn: &mut AnyConnection,
    id: i64,
    mail: &InboundMail,
    complaint: Option<&StoredComplaint>,
    kind: &str,
    reason: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    let cid = complaint.map(|c| c.id);
    record(
        conn,
        id,
        mail,
        kind,
        &format!("flagged: {reason}"),
        cid,
        None,
    )
    .await?;
    flags::raise(conn, Some(id), cid, kind, reason, now).await?;
    Ok(())
}

/// The first 300 characters of a text, for the timeline.
pub(super) fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        s.push('…');
    }
    s
}
