//! Reading commands from a subject: `Antw: [KL-2026-0042] #toewijzen jan@concreet.nl
//! #afdeling Examens`. A command is a `#` followed by a letter, at the start or after
//! whitespace; its argument runs up to the next command. Text before the first command (the
//! original subject, reply prefixes) is not part of any command.

use jiff::civil::Date;

use super::table::{Arg, Name, Spec, lookup};
use crate::calendar::DeadlineSpan;
use crate::config::parse_deadline;
use crate::domain::{CustomerType, EmailAddress};

/// The new solve deadline of `#termijn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineArg {
    /// A day (the deadline is the end of that day, local time).
    Date(Date),
    /// A length from now.
    Span(DeadlineSpan),
}

/// The parsed argument of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// No argument (or the body, taken later).
    None,
    /// An address.
    Address(EmailAddress),
    /// An address and whether to inform them.
    AddressAndChoice(EmailAddress, bool),
    /// Text.
    Text(String),
    /// A customer type.
    CustomerType(CustomerType),
    /// A deadline.
    Deadline(DeadlineArg),
    /// A year.
    Year(Option<i16>),
}

/// One command from a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Which.
    pub name: Name,
    /// The word as written (for replies).
    pub word: String,
    /// Its argument.
    pub value: Value,
    /// The text after the word as written (e.g. the subject after `#telefoon`).
    pub arg_text: String,
}

/// The result of reading a subject: the commands, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Commands in order.
    pub commands: Vec<Command>,
    /// Problems, one sentence each (English; shown to the sender).
    pub errors: Vec<String>,
}

impl Parsed {
    /// Whether the subject holds any `#command` at all (valid or not).
    pub fn any(&self) -> bool {
        !self.commands.is_empty() || !self.errors.is_empty()
    }

    /// Whether a command of this name is present.
    pub fn has(&self, name: Name) -> bool {
        self.commands.iter().any(|c| c.name == name)
    }
}

/// Splits a subject into `(word, argument)` pairs.
fn tokens(subject: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for piece in subject.split_whitespace() {
        let is_command = piece
            .strip_prefix('#')
            .is_some_and(|w| w.chars().next().is_some_and(char::is_alphabetic));
        if is_command {
            out.extend(current.take());
            let word = piece
                .trim_start_matches('#')
                .trim_end_matches([',', ';', ':'])
                .to_string();
            current = Some((word, String::new()));
        } else if let Some((_, arg)) = current.as_mut() {
            if !arg.is_empty() {
                arg.push(' ');
            }
            arg.push_str(piece);
        }
    }
    out.extend(current);
    out
}

/// Reads every command of a subject.
pub fn parse_subject(subject: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for (word, arg) in tokens(subject) {
        let Some(spec) = lookup(&word) else {
            parsed.errors.push(format!("unknown command #{word}"));
            continue;
        };
        match value(spec, arg.trim()) {
            Ok(value) => parsed.commands.push(Command {
                name: spec.name,
                word: word.to_lowercase(),
                value,
                arg_text: arg.trim().to_string(),
            }),
            Err(e) => parsed.errors.push(format!("#{word}: {e}")),
        }
    }
    parsed
}

fn value(spec: &Spec, arg: &str) -> Result<Value, String> {
    let address =
        |s: &str| EmailAddress::parse(s).map_err(|_| format!("'{s}' is not an e-mail address"));
    match spec.arg {
        Arg::None | Arg::Body => Ok(Value::None),
        Arg::Address => {
            let first = arg
                .split_whitespace()
                .next()
                .ok_or("an e-mail address is missing")?;
            Ok(Value::Address(address(first)?))
        }
        Arg::AddressAndChoice => {
            let mut words = arg.split_whitespace();
            let first = words.next().ok_or("an e-mail address is missing")?;
            let inform = words.any(|w| {
                matches!(
                    w.to_lowercase().as_str(),
                    "informeren" | "inform" | "informeer"
                )
            });
            Ok(Value::AddressAndChoice(address(first)?, inform))
        }
        Arg::Text => {
            if arg.is_empty() {
                Err("a name is missing".into())
            } else {
                Ok(Value::Text(arg.to_string()))
            }
        }
        Arg::CustomerType => customer_type(arg).map(Value::CustomerType),
        Arg::DateOrDuration => deadline(arg).map(Value::Deadline),
        Arg::Year => match arg.split_whitespace().next() {
            None => Ok(Value::Year(None)),
            Some(y) => y
                .parse::<i16>()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .map(|y| Value::Year(Some(y)))
                .ok_or_else(|| format!("'{y}' is not a year")),
        },
    }
}

/// Reads `particulier|instelling|intern` (or English).
pub fn customer_type(s: &str) -> Result<CustomerType, String> {
    match s
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_lowercase()
        .as_str()
    {
        "particulier" | "private" => Ok(CustomerType::Private),
        "instelling" | "institution" | "school" => Ok(CustomerType::Institution),
        "intern" | "internal" => Ok(CustomerType::Internal),
        "" => Err("particulier, instelling or intern is missing".into()),
        other => Err(format!(
            "'{other}' is not particulier, instelling or intern"
        )),
    }
}

fn deadline(s: &str) -> Result<DeadlineArg, String> {
    let t = s
        .split_whitespace()
        .next()
        .ok_or("a date or duration is missing")?;
    if let Ok(d) = t.parse::<Date>() {
        return Ok(DeadlineArg::Date(d));
    }
    // Dutch order: 24-12-2026.
    let parts: Vec<&str> = t.split(['-', '/']).collect();
    if let [d, m, y] = parts[..]
        && let (Ok(d), Ok(m), Ok(y)) = (d.parse::<i8>(), m.parse::<i8>(), y.parse::<i16>())
        && let Ok(date) = Date::new(y, m, d)
    {
        return Ok(DeadlineArg::Date(date));
    }
    parse_deadline(t)
        .map(DeadlineArg::Span)
        .map_err(|_| format!("'{t}' is not a date (2026-12-24) or a duration (14d, 10wd)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::table::{COMMANDS, help, markdown_table};

    #[test]
    fn several_commands_with_arguments_are_read_from_a_reply_subject() {
        let p = parse_subject(
            "Antw: [KL-2026-0042] Ontvangstbevestiging: boek #toewijzen jan@concreet.nl #afdeling Examens en Toetsen",
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.commands.len(), 2);
        assert_eq!(
            p.commands[0].value,
            Value::Address(EmailAddress::parse("jan@concreet.nl").unwrap())
        );
        assert_eq!(
            p.commands[1].value,
            Value::Text("Examens en Toetsen".into())
        );
    }

    #[test]
    fn words_are_case_insensitive_and_english_aliases_work() {
        let p = parse_subject("[KL-2026-0001] #ASSIGN Jan@X.nl #Structural #StAtUs");
        let names: Vec<Name> = p.commands.iter().map(|c| c.name).collect();
        assert_eq!(names, vec![Name::Assign, Name::Structural, Name::Status]);
    }

    #[test]
    fn unknown_commands_and_bad_arguments_are_reported() {
        let p = parse_subject(
            "[KL-2026-0001] #vliegen #toewijzen jan #klanttype koning #termijn gisteren",
        );
        assert_eq!(p.errors.len(), 4, "{:?}", p.errors);
        assert!(p.errors[0].contains("unknown command #vliegen"));
        assert!(p.errors[1].contains("not an e-mail address"));
    }

    #[test]
    fn a_hash_with_a_number_is_not_a_command() {
        let p = parse_subject("Bestelling #12345 niet ontvangen");
        assert!(!p.any());
    }

    #[test]
    fn concerned_person_with_the_choice_to_inform() {
        let p = parse_subject("#betrokkene piet@concreet.nl informeren");
        assert_eq!(
            p.commands[0].value,
            Value::AddressAndChoice(EmailAddress::parse("piet@concreet.nl").unwrap(), true)
        );
        let p = parse_subject("#concerns piet@concreet.nl");
        assert_eq!(
            p.commands[0].value,
            Value::AddressAndChoice(EmailAddress::parse("piet@concreet.nl").unwrap(), false)
        );
    }

    #[test]
    fn deadlines_are_dates_or_durations() {
        let d = |s: &str| {
            parse_subject(&format!("#termijn {s}")).commands[0]
                .value
                .clone()
        };
        assert_eq!(
            d("2026-12-24"),
            Value::Deadline(DeadlineArg::Date(Date::new(2026, 12, 24).unwrap()))
        );
        assert_eq!(
            d("24-12-2026"),
            Value::Deadline(DeadlineArg::Date(Date::new(2026, 12, 24).unwrap()))
        );
        assert_eq!(
            d("10wd"),
            Value::Deadline(DeadlineArg::Span(DeadlineSpan::WorkingDays(10)))
        );
    }

    #[test]
    fn the_table_has_unique_words_and_help_names_every_command() {
        let mut words: Vec<&str> = COMMANDS.iter().flat_map(|s| [s.nl, s.en]).collect();
        words.sort_unstable();
        let before = words.len();
        words.dedup();
        // Dutch and English words are the same for #incident, #status and #help only.
        assert_eq!(before - words.len(), 3);
        let nl = help(true);
        let en = help(false);
        for s in COMMANDS {
            assert!(nl.contains(&format!("#{}", s.nl)) && en.contains(&format!("#{}", s.en)));
            assert!(markdown_table().contains(&format!("`#{}`", s.nl)));
        }
    }

    #[test]
    fn the_readme_lists_the_command_table_as_generated() {
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&markdown_table()),
            "README.md's command table differs from the table in src/commands/table.rs; paste:\n{}",
            markdown_table()
        );
    }
}
