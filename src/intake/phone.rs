//! Phone notes and letters from staff: labelled lines (`Naam: ...`, `E-mail: ...`) and the
//! complaint in the staff member's words. Parsing never fails: what is missing or unreadable
//! is listed, in Dutch, for the reply to the staff member, and the complaint is registered
//! with what is there.

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::{CustomerType, EmailAddress};

/// What a staff member's phone note or letter says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneNote {
    /// The caller's or writer's name.
    pub name: Option<String>,
    /// Their address, when given and valid.
    pub email: Option<EmailAddress>,
    /// Their telephone number, as written, when it looks like one.
    pub phone: Option<String>,
    /// The school or institution they speak for.
    pub organisation: Option<String>,
    /// Private, institution or internal, when given and recognised.
    pub customer_type: Option<CustomerType>,
    /// The complaint in the staff member's words: every line that is not a labelled line,
    /// trimmed.
    pub text: String,
    /// Which of name, e-mail and phone are absent or unreadable, by their Dutch field names
    /// ([`NAME`], [`EMAIL`], [`PHONE`]), for the reply to the staff member.
    pub missing: Vec<&'static str>,
    /// What could not be read, in Dutch, e.g. `E-mail 'jan@' is geen geldig adres`.
    pub problems: Vec<String>,
}

/// The Dutch field name for the name, as listed in [`PhoneNote::missing`].
pub const NAME: &str = "Naam";
/// The Dutch field name for the e-mail address.
pub const EMAIL: &str = "E-mail";
/// The Dutch field name for the telephone number.
pub const PHONE: &str = "Telefoon";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Email,
    Phone,
    Organisation,
    Customer,
}

/// Every accepted label (lower case, single spaces, no trailing dot), Dutch and English.
const LABELS: &[(&str, Field)] = &[
    ("naam", Field::Name),
    ("name", Field::Name),
    ("e-mail", Field::Email),
    ("email", Field::Email),
    ("mail", Field::Email),
    ("e-mailadres", Field::Email),
    ("emailadres", Field::Email),
    ("e-mail address", Field::Email),
    ("email address", Field::Email),
    ("telefoon", Field::Phone),
    ("tel", Field::Phone),
    ("telefoonnummer", Field::Phone),
    ("telefoonnr", Field::Phone),
    ("phone", Field::Phone),
    ("phone number", Field::Phone),
    ("telephone", Field::Phone),
    ("organisatie", Field::Organisation),
    ("school", Field::Organisation),
    ("instelling", Field::Organisation),
    ("organisation", Field::Organisation),
    ("organization", Field::Organisation),
    ("klant", Field::Customer),
    ("klanttype", Field::Customer),
    ("customer", Field::Customer),
    ("customer type", Field::Customer),
];

/// The words for each customer type; the first word of the value decides.
const CUSTOMER_TYPES: &[(&str, CustomerType)] = &[
    ("particulier", CustomerType::Private),
    ("private", CustomerType::Private),
    ("instelling", CustomerType::Institution),
    ("school", CustomerType::Institution),
    ("institution", CustomerType::Institution),
    ("intern", CustomerType::Internal),
    ("internal", CustomerType::Internal),
];

// `Label: value`, optionally as a list item (`- ` or `* `). Labels are letters, spaces, dots
// and hyphens only, so "Om 14:30 belde ..." is text, not a label.
static LABELLED_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:[-*]\s+)?(\p{L}[\p{L} .-]{0,30}?)\s*:(.*)$").expect("static regex is valid")
});

/// Reads a phone note or letter body. Never fails; see [`PhoneNote::missing`] and
/// [`PhoneNote::problems`] for what was not there or not readable.
pub fn parse_note(body: &str) -> PhoneNote {
    let mut note = PhoneNote::default();
    let mut text: Vec<&str> = Vec::new();
    for line in body.lines() {
        match labelled(line) {
            Some((field, label, value)) => {
                if !note.apply(field, label, value) {
                    text.push(line);
                }
            }
            None => text.push(line),
        }
    }
    note.text = text.join("\n").trim().to_string();
    for (absent, field) in [
        (note.name.is_none(), NAME),
        (note.email.is_none(), EMAIL),
        (note.phone.is_none(), PHONE),
    ] {
        if absent {
            note.missing.push(field);
        }
    }
    note
}

/// The field, the label as written and the trimmed value of a labelled line.
fn labelled(line: &str) -> Option<(Field, &str, &str)> {
    let caps = LABELLED_LINE.captures(line)?;
    let label = caps.get(1)?.as_str().trim();
    let value = caps.get(2)?.as_str().trim();
    let key = label
        .trim_end_matches('.')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    LABELS
        .iter()
        .find(|(l, _)| *l == key)
        .map(|(_, f)| (*f, label, value))
}

impl PhoneNote {
    /// Records one labelled value; the first usable value of a field wins. Returns whether
    /// the line was understood (false keeps it in the text, so nothing the staff member wrote
    /// is lost).
    fn apply(&mut self, field: Field, label: &str, value: &str) -> bool {
        if value.is_empty() {
            return true;
        }
        match field {
            Field::Name => set_once(&mut self.name, value.to_string()),
            Field::Organisation => set_once(&mut self.organisation, value.to_string()),
            Field::Email => match email_in(value) {
                Some(a) => set_once(&mut self.email, a),
                None => self
                    .problems
                    .push(format!("{label} '{value}' is geen geldig adres")),
            },
            Field::Phone => {
                if looks_like_phone(value) {
                    set_once(&mut self.phone, value.to_string());
                } else {
                    self.problems
                        .push(format!("{label} '{value}' is geen geldig telefoonnummer"));
                }
            }
            Field::Customer => match customer_type(value) {
                Some(t) => set_once(&mut self.customer_type, t),
                None => {
                    self.problems.push(format!(
                        "{label} '{value}' is geen bekend klanttype \
                         (particulier, instelling of intern)"
                    ));
                    return false;
                }
            },
        }
        true
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// The address in a value as people and mail clients write it: bare, `Name <a@b>`, or
/// Outlook's plain-text `a@b<mailto:a@b>`.
fn email_in(value: &str) -> Option<EmailAddress> {
    if let Ok(a) = EmailAddress::parse(value) {
        return Some(a);
    }
    let bracketed = value
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(inner, _)| inner);
    let before = value.split_once('<').map(|(b, _)| b);
    bracketed
        .into_iter()
        .chain(before)
        .chain(value.split_whitespace().filter(|w| w.contains('@')))
        .find_map(|c| EmailAddress::parse(c).ok())
}

/// Digits with the usual separators, 6 to 15 digits (E.164 allows at most 15; the shortest
/// Dutch service numbers have 6).
fn looks_like_phone(value: &str) -> bool {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '/' | '.'));
    allowed && (6..=15).contains(&digits)
}

fn customer_type(value: &str) -> Option<CustomerType> {
    let first = value
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())?
        .to_lowercase();
    CUSTOMER_TYPES
        .iter()
        .find(|(w, _)| *w == first)
        .map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_note_fills_every_field_and_keeps_the_story() {
        let note = parse_note(
            "Naam: Klaas de Vries\r\nE-mail: Klaas@Devries.nl\r\nTelefoon: 06-12345678\r\n\
             Organisatie: ROC Midden\r\nKlant: instelling\r\n\r\n\
             Meneer belde omdat het examenpakket te laat kwam.\r\nHij is erg boos.\r\n",
        );
        assert_eq!(note.name.as_deref(), Some("Klaas de Vries"));
        assert_eq!(
            note.email.as_ref().map(AsRef::as_ref),
            Some("klaas@devries.nl")
        );
        assert_eq!(note.phone.as_deref(), Some("06-12345678"));
        assert_eq!(note.organisation.as_deref(), Some("ROC Midden"));
        assert_eq!(note.customer_type, Some(CustomerType::Institution));
        assert_eq!(
            note.text,
            "Meneer belde omdat het examenpakket te laat kwam.\nHij is erg boos."
        );
        assert!(note.missing.is_empty());
        assert!(note.problems.is_empty());
    }

    #[test]
    fn a_note_without_email_lists_it_as_missing() {
        let note = parse_note(
            "- Naam: Ans\n- Tel.: +31 (0)30 123 45 67\n- E-mail:\n\nKlacht over de factuur.",
        );
        assert_eq!(note.email, None);
        assert_eq!(note.phone.as_deref(), Some("+31 (0)30 123 45 67"));
        assert_eq!(note.missing, [EMAIL]);
        assert!(note.problems.is_empty());
        assert_eq!(note.text, "Klacht over de factuur.");
    }

    #[test]
    fn a_bad_email_and_phone_are_reported_and_missing() {
        let note = parse_note(
            "Naam: Jan\nE-mail: jan@\nTelefoon: weet ik niet\nKlant: ontevreden\n\nBoek kapot.",
        );
        assert_eq!(note.missing, [EMAIL, PHONE]);
        assert_eq!(
            note.problems,
            [
                "E-mail 'jan@' is geen geldig adres",
                "Telefoon 'weet ik niet' is geen geldig telefoonnummer",
                "Klant 'ontevreden' is geen bekend klanttype (particulier, instelling of intern)",
            ]
        );
        assert_eq!(note.text, "Klant: ontevreden\n\nBoek kapot.");
    }

    #[test]
    fn english_labels_and_mail_client_address_forms_are_understood() {
        let note = parse_note(
            "* NAME: Mary Smith\n* Email: Mary Smith <mary@school.org>\n* Phone: 0201234567\n\
             * Organisation: Example School\n* Customer type: Private customer\n\nLate delivery.",
        );
        assert_eq!(note.name.as_deref(), Some("Mary Smith"));
        assert_eq!(
            note.email.as_ref().map(AsRef::as_ref),
            Some("mary@school.org")
        );
        assert_eq!(note.customer_type, Some(CustomerType::Private));
        assert_eq!(note.text, "Late delivery.");
        let outlook = parse_note("Mail: piet@x.nl<mailto:piet@x.nl>");
        assert_eq!(outlook.email.as_ref().map(AsRef::as_ref), Some("piet@x.nl"));
    }

    #[test]
    fn labels_in_the_middle_of_the_text_are_taken_out_and_unknown_labels_stay() {
        let note = parse_note(
            "Mevrouw belde om 14:30 over het examen.\nNaam: Fatima El Amrani\n\
             Datum: 3 maart\nZe wil haar geld terug.\nemailadres: fatima@example.nl\nKlanttype: particulier",
        );
        assert_eq!(note.name.as_deref(), Some("Fatima El Amrani"));
        assert_eq!(
            note.email.as_ref().map(AsRef::as_ref),
            Some("fatima@example.nl")
        );
        assert_eq!(note.customer_type, Some(CustomerType::Private));
        assert_eq!(
            note.text,
            "Mevrouw belde om 14:30 over het examen.\nDatum: 3 maart\nZe wil haar geld terug."
        );
        assert_eq!(note.missing, [PHONE]);
    }

    #[test]
    fn an_empty_body_misses_everything_and_does_not_fail() {
        for body in ["", "  \n\n \r\n"] {
            let note = parse_note(body);
            assert_eq!(note.text, "");
            assert_eq!(note.missing, [NAME, EMAIL, PHONE]);
            assert!(note.problems.is_empty());
        }
    }

    #[test]
    fn the_first_value_of_a_repeated_label_wins_and_internal_is_recognised() {
        let note = parse_note("Naam: A\nName: B\nKlant: intern\nSchool: Het Lyceum");
        assert_eq!(note.name.as_deref(), Some("A"));
        assert_eq!(note.customer_type, Some(CustomerType::Internal));
        assert_eq!(note.organisation.as_deref(), Some("Het Lyceum"));
    }
}
