//! Mail commands: the table ([`table`]), reading them from a subject ([`parse`]), and what
//! they mean for a complaint ([`meaning`]: who may, which procedure event). Carrying them out
//! (database, mail) happens in the intake.

pub mod meaning;
pub mod parse;
pub mod table;

pub use meaning::{Role, When};
pub use parse::{Command, DeadlineArg, Parsed, Value, parse_subject};
pub use table::{Arg, COMMANDS, Name, Spec, Who, help, lookup, markdown_table};
