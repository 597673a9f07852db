//! One handler per [`Route`]: each carries out what the route decided (rows, timeline,
//! flags, outbox mail) inside the message's transaction, and returns the [`Outcome`].
//! Handlers never call each other; what several need (the writer, the answers, the
//! procedure's effects, registering) lives beside them in `intake/`.

mod automated;
mod commands;
mod flagged;
mod follow_up;
mod forged;
mod looped;
mod new_complaint;
mod not_a_party;
mod staff;

use sqlx::AnyConnection;

use super::ctx::Ctx;
use super::outcome::Outcome;
use super::route::Route;

/// The handler of a message no mail could be read from (there is no [`Ctx`] without a
/// mail).
pub(super) use flagged::unreadable;

/// Carries out the route of the message in `cx`.
pub(super) async fn dispatch(
    cx: &Ctx<'_>,
    conn: &mut AnyConnection,
    route: Route,
) -> anyhow::Result<Outcome> {
    match route {
        Route::Unreadable => flagged::unreadable(cx.bot, conn, cx.id, cx.now).await,
        Route::Loop => looped::looped(cx, conn).await,
        Route::Automated { kind, complaint } => {
            automated::automated(cx, conn, kind, complaint.as_ref()).await
        }
        Route::NoSender { complaint } => flagged::no_sender(cx, conn, complaint.as_ref()).await,
        Route::Forged {
            sender,
            why,
            complaint,
        } => forged::forged(cx, conn, &sender, &why, complaint.as_ref()).await,
        Route::Note {
            sender,
            parsed,
            channel,
        } => staff::note(cx, conn, &sender, &parsed, channel).await,
        Route::Forward { sender, parsed } => staff::forward(cx, conn, &sender, &parsed).await,
        Route::Commands {
            sender,
            parsed,
            complaint,
        } => commands::commands(cx, conn, &sender, &parsed, complaint).await,
        Route::FollowUp { complaint, author } => {
            follow_up::follow_up(cx, conn, &complaint, &author).await
        }
        Route::NotAParty { complaint, author } => {
            not_a_party::not_a_party(cx, conn, &complaint, &author).await
        }
        Route::NewComplaint { speaker } => new_complaint::new_complaint(cx, conn, &speaker).await,
    }
}
