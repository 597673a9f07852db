//! Registering a new complaint (step 1 of the procedure): the next reference, the
//! deadlines, the row. Shared by the handlers that register (a customer's mail, a staff
//! member's note or forward).

use jiff::Timestamp;
use sqlx::AnyConnection;

use crate::app::Bot;
use crate::domain::Complaint;
use crate::procedure::{self, DeadlineTimes, Effect, NewComplaint};
use crate::store::complaints;

/// Registers a new complaint (step 1): the next reference of the year in the organisation's
/// time zone, the deadlines, the row. Returns its row id, the record and the effects to carry
/// out (the acknowledgement).
pub(super) async fn register_new(
    bot: &Bot,
    conn: &mut AnyConnection,
    new: NewComplaint,
    now: Timestamp,
) -> anyhow::Result<(i64, Complaint, Vec<Effect>)> {
    let year = now
        .to_zoned(bot.settings.organisation.timezone.clone())
        .year();
    let reference = complaints::next_reference(conn, year).await?;
    let (complaint, effects) = procedure::register(new, reference, deadlines(bot, now));
    let cid = complaints::insert(conn, &complaint, now).await?;
    Ok((cid, complaint, effects))
}

/// The deadlines of a complaint received at `at`.
fn deadlines(bot: &Bot, at: Timestamp) -> DeadlineTimes {
    let d = &bot.settings.deadlines;
    DeadlineTimes {
        acknowledge_by: bot.calendar.deadline(at, &d.acknowledge),
        explain_by: bot.calendar.deadline(at, &d.explain),
        solve_by: bot.calendar.deadline(at, &d.solve),
    }
}
