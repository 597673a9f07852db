//! Outgoing mail: texts from templates ([`render`]), complete messages ([`compose`]).

pub mod compose;
pub mod queue;
pub mod render;
pub mod sender;
pub mod smtp;
