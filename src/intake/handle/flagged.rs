//! Mail the officer must look at and nothing else happens to: unreadable bytes, a mail
//! without a usable sender.

use jiff::Timestamp;
use sqlx::AnyConnection;

use crate::app::Bot;
use crate::domain::{FlagKind, MessageKind};
use crate::intake::ctx::Ctx;
use crate::intake::outcome::Outcome;
use crate::intake::write;
use crate::store::complaints::StoredComplaint;

/// [`Route::Unreadable`](crate::intake::route::Route::Unreadable): no mail in the bytes.
pub(in crate::intake) async fn unreadable(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let reason = "no e-mail message could be read from the bytes";
    let outcome = format!("flagged: {reason}");
    write::unread_message(conn, id, MessageKind::Unreadable, &outcome).await?;
    write::raise(conn, Some(id), None, FlagKind::Unreadable, reason, now).await?;
    write::notify(bot, conn, None, reason, now).await
}

/// [`Route::NoSender`](crate::intake::route::Route::NoSender): a person's mail without a
/// usable From address.
pub(super) async fn no_sender(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    complaint: Option<&StoredComplaint>,
) -> anyhow::Result<Outcome> {
    let shown = cx.mail.from_raw.as_deref().unwrap_or("(none)");
    let reason = format!("no usable sender address (From: {shown})");
    let kinds = (MessageKind::NoSender, FlagKind::NoSender);
    write::flagged(conn, cx, complaint, kinds, &reason).await
}
