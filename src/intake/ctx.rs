//! The message being handled, as every handler and helper of the intake sees it.

use jiff::Timestamp;

use super::parse::InboundMail;
use crate::app::Bot;

/// One received message inside its processing transaction (the connection is passed
/// beside it, so that this stays a shared borrow).
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub bot: &'a Bot,
    /// The message's row id.
    pub id: i64,
    pub mail: &'a InboundMail,
    /// The time the whole message is handled at: every row it writes carries it.
    pub now: Timestamp,
}
