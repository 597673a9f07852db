//! What a stored message means for the register, inside the processing transaction:
//! look up what the register knows ([`lookup`]), decide the route ([`route`]), carry it out
//! ([`handle::dispatch`]).

use jiff::Timestamp;
use sqlx::AnyConnection;

use super::ctx::Ctx;
use super::handle;
use super::lookup::lookup;
use super::outcome::Outcome;
use super::parse::InboundMail;
use super::route::{Found, RouteContext, route};
use crate::app::Bot;

/// Decides and writes what the message means. Runs inside the claimed transaction.
pub(super) async fn interpret(
    bot: &Bot,
    conn: &mut AnyConnection,
    id: i64,
    mail: Option<&InboundMail>,
    now: Timestamp,
) -> anyhow::Result<Outcome> {
    let settings = &bot.settings;
    let mail_domain = &settings.organisation.mail_domain;
    let found = match mail {
        Some(mail) => lookup(conn, mail, mail_domain).await?,
        None => Found::default(),
    };
    let context = RouteContext {
        own: &settings.address,
        people: &settings.people,
        auth: &settings.auth,
        mail_domain,
        found: &found,
    };
    let route = route(mail, &context);
    tracing::debug!(message = id, route = route.name(), "routed");
    let Some(mail) = mail else {
        return handle::unreadable(bot, conn, id, now).await;
    };
    let cx = Ctx { bot, id, mail, now };
    handle::dispatch(&cx, conn, route).await
}
