//! A party's mail about their complaint: added to it (step 8 of the procedure when it is
//! the complainant's verdict on a proposed solution; the officer's call when the complaint
//! is closed).

use sqlx::AnyConnection;

use crate::domain::{EmailAddress, EventKind, FlagKind, MessageKind, Status};
use crate::intake::ctx::Ctx;
use crate::intake::effects;
use crate::intake::outcome::Outcome;
use crate::intake::parse::Mailbox;
use crate::intake::strip;
use crate::intake::write::{self, Entry, Meaning};
use crate::outbound::queue::{self, Notice, Outgoing, notify_officers};
use crate::procedure::{self, Event};
use crate::store::complaints::{self, StoredComplaint};

/// [`Route::FollowUp`](crate::intake::route::Route::FollowUp).
pub(super) async fn follow_up(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    found: &StoredComplaint,
    author: &Mailbox,
) -> anyhow::Result<Outcome> {
    let c = &found.complaint;
    let text = strip::new_text(&cx.mail.text).text;
    let (updated, _) = procedure::apply(c, &Event::FollowUpReceived, cx.now)?;
    complaints::update(conn, found.id, &updated, cx.now).await?;
    let outcome = format!("follow-up {}", c.reference);
    let meaning = Meaning {
        kind: MessageKind::FollowUp,
        outcome: &outcome,
        complaint: Some(found.id),
        body: Some(&text),
    };
    write::message(conn, cx, &meaning).await?;
    write::attachments(conn, cx).await?;
    let entry = Entry {
        complaint: found.id,
        actor: author.address.as_ref(),
        kind: EventKind::MailIn,
        detail: &write::excerpt(&text),
        message: Some(cx.id),
    };
    write::event(conn, cx.now, &entry).await?;
    if c.status == Status::Closed {
        on_closed(cx, conn, found, author, &text).await?;
    }
    if c.status == Status::AwaitingVerdict && c.complainant.email.as_ref() == Some(&author.address)
    {
        verdict(cx, conn, found, &text).await?;
    }
    Ok(Outcome::FollowUp(c.reference))
}

/// The officer decides what a mail on a closed complaint means (reopen or not).
async fn on_closed(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    found: &StoredComplaint,
    author: &Mailbox,
    text: &str,
) -> anyhow::Result<()> {
    let reference = found.complaint.reference;
    let reason = format!("{} wrote on closed complaint {reference}", author.address);
    write::flag(conn, cx, Some(found.id), FlagKind::NeedsOfficer, &reason).await?;
    let notice = format!("{reason}.\n\nTheir words:\n\n{text}");
    let scope = Some((found.id, reference));
    notify_officers(
        cx.bot,
        conn,
        scope,
        Notice::ClosedComplaint,
        &notice,
        cx.now,
    )
    .await
}

/// Step 8: the complainant's answer to a proposed solution goes to the officer and the
/// assignee, with the commands that record the verdict.
async fn verdict(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    found: &StoredComplaint,
    text: &str,
) -> anyhow::Result<()> {
    let c = &found.complaint;
    let mut context = effects::context(cx.bot, c);
    context.insert("text", text);
    let to: Vec<EmailAddress> = cx
        .bot
        .settings
        .people
        .officers
        .iter()
        .chain(&c.assignee)
        .cloned()
        .collect();
    if to.is_empty() {
        return Ok(());
    }
    let out = Outgoing {
        complaint: Some((found.id, c.reference)),
        kind: "verdict_reply",
        context,
        to,
        in_reply_to: None,
        references: Vec::new(),
        auto_reply: false,
        null_sender: true,
    };
    queue::enqueue(cx.bot, conn, out, cx.now).await?;
    Ok(())
}
