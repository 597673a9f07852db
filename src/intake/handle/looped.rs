//! Mail from our own address: a loop through a forward, or our own mail bounced back to
//! us. Kept, never answered.

use sqlx::AnyConnection;

use crate::domain::MessageKind;
use crate::intake::ctx::Ctx;
use crate::intake::outcome::Outcome;
use crate::intake::write::{self, Meaning};

/// [`Route::Loop`](crate::intake::route::Route::Loop).
pub(super) async fn looped(cx: &Ctx<'_>, conn: &mut AnyConnection) -> anyhow::Result<Outcome> {
    let reason = "loop (from our own address)";
    let outcome = format!("suppressed: {reason}");
    let meaning = Meaning {
        kind: MessageKind::Loop,
        outcome: &outcome,
        complaint: None,
        body: None,
    };
    write::message(conn, cx, &meaning).await?;
    Ok(Outcome::Suppressed {
        reason: reason.into(),
        reference: None,
    })
}
