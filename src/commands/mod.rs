//! Mail commands: the table ([`table`]) and reading them from a subject ([`parse`]). Applying
//! them happens in the intake, through the procedure's state machine.

pub mod parse;
pub mod table;

pub use parse::{Command, DeadlineArg, Parsed, Value, parse_subject};
pub use table::{Arg, COMMANDS, Name, Spec, Who, help, lookup, markdown_table};
