//! Machine-written mail: never answered. On a complaint it goes on the timeline, and a
//! bounce is flagged: the complainant may not have our mail.

use sqlx::AnyConnection;

use crate::domain::{Automated, EventKind, FlagKind, MessageKind};
use crate::intake::ctx::Ctx;
use crate::intake::outcome::Outcome;
use crate::intake::write::{self, Entry, Meaning};
use crate::outbound::queue::{Notice, notify_officers};
use crate::store::complaints::StoredComplaint;

/// [`Route::Automated`](crate::intake::route::Route::Automated).
pub(super) async fn automated(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    kind: Automated,
    complaint: Option<&StoredComplaint>,
) -> anyhow::Result<Outcome> {
    let outcome = format!("suppressed: {kind}");
    let meaning = Meaning {
        kind: MessageKind::automated(kind),
        outcome: &outcome,
        complaint: complaint.map(|c| c.id),
        body: None,
    };
    write::message(conn, cx, &meaning).await?;
    if let Some(found) = complaint {
        let detail = format!(
            "automated mail ({kind}) received, not answered: {}",
            cx.mail.subject
        );
        let entry = Entry {
            complaint: found.id,
            actor: &write::sender(cx),
            kind: EventKind::MailIn,
            detail: &detail,
            message: Some(cx.id),
        };
        write::event(conn, cx.now, &entry).await?;
        if kind == Automated::Bounce {
            bounced(cx, conn, found).await?;
        }
    }
    Ok(Outcome::Suppressed {
        reason: kind.to_string(),
        reference: complaint.map(|c| c.complaint.reference),
    })
}

/// A bounce on a complaint means the complainant may not have our mail: flag it and tell
/// the officers.
async fn bounced(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    found: &StoredComplaint,
) -> anyhow::Result<()> {
    let reference = found.complaint.reference;
    let reason = format!("a mail of {reference} bounced: {}", cx.mail.subject);
    write::flag(conn, cx, Some(found.id), FlagKind::Bounce, &reason).await?;
    let scope = Some((found.id, reference));
    notify_officers(cx.bot, conn, scope, Notice::Bounced, &reason, cx.now).await
}
