//! Commands from an officer's or staff address without the proof the settings require:
//! kept and shown to the officer; the (possibly spoofed) sender gets nothing.

use sqlx::AnyConnection;

use crate::domain::{EventKind, FlagKind, MessageKind};
use crate::intake::ctx::Ctx;
use crate::intake::outcome::Outcome;
use crate::intake::parse::Mailbox;
use crate::intake::write::{self, Entry, Meaning};
use crate::outbound::queue::{Notice, notify_officers};
use crate::store::complaints::StoredComplaint;

/// [`Route::Forged`](crate::intake::route::Route::Forged).
pub(super) async fn forged(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    sender: &Mailbox,
    why: &str,
    complaint: Option<&StoredComplaint>,
) -> anyhow::Result<Outcome> {
    let subject = &cx.mail.subject;
    let reason = format!(
        "refused: commands from {} not executed: {why}",
        sender.address
    );
    if let Some(c) = complaint {
        let entry = Entry {
            complaint: c.id,
            actor: sender.address.as_ref(),
            kind: EventKind::CommandRefused,
            detail: &format!("{subject}: {reason}"),
            message: Some(cx.id),
        };
        write::event(conn, cx.now, &entry).await?;
    }
    let scope = complaint.map(|c| (c.id, c.complaint.reference));
    let text = format!("{reason}\n\nSubject: {subject}");
    notify_officers(cx.bot, conn, scope, Notice::CommandRefused, &text, cx.now).await?;
    let cid = complaint.map(|c| c.id);
    let meaning = Meaning {
        kind: MessageKind::CommandRefused,
        outcome: &format!("flagged: {reason}"),
        complaint: cid,
        body: None,
    };
    write::message(conn, cx, &meaning).await?;
    write::flag(conn, cx, cid, FlagKind::CommandRefused, &reason).await?;
    Ok(Outcome::Flagged {
        reason,
        reference: scope.map(|s| s.1),
    })
}
