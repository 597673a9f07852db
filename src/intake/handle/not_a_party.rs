//! A mail naming a complaint its author is no party to: kept beside the complaint, not
//! added to it; the officer decides.

use sqlx::AnyConnection;

use crate::domain::{EventKind, FlagKind, MessageKind};
use crate::intake::ctx::Ctx;
use crate::intake::outcome::Outcome;
use crate::intake::parse::Mailbox;
use crate::intake::strip;
use crate::intake::write::{self, Entry, Meaning};
use crate::outbound::queue::{Notice, notify_officers};
use crate::store::complaints::StoredComplaint;

/// [`Route::NotAParty`](crate::intake::route::Route::NotAParty).
pub(super) async fn not_a_party(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    found: &StoredComplaint,
    author: &Mailbox,
) -> anyhow::Result<Outcome> {
    let reference = found.complaint.reference;
    let text = strip::new_text(&cx.mail.text).text;
    let reason = format!(
        "{} is not a party to {reference}; the mail was not added to it",
        author.address
    );
    let outcome = format!("flagged: {reason}");
    let meaning = Meaning {
        kind: MessageKind::UnverifiedFollowUp,
        outcome: &outcome,
        complaint: Some(found.id),
        body: Some(&text),
    };
    write::message(conn, cx, &meaning).await?;
    let entry = Entry {
        complaint: found.id,
        actor: author.address.as_ref(),
        kind: EventKind::MailInUnverified,
        detail: &reason,
        message: Some(cx.id),
    };
    write::event(conn, cx.now, &entry).await?;
    write::flag(conn, cx, Some(found.id), FlagKind::NotAParty, &reason).await?;
    let scope = Some((found.id, reference));
    notify_officers(cx.bot, conn, scope, Notice::UnknownSender, &reason, cx.now).await?;
    Ok(Outcome::Flagged {
        reason,
        reference: Some(reference),
    })
}
