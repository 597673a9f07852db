//! Whose mail is this? Contact forms, web shops and relays send from `noreply@`,
//! `formulier@` or `website@` addresses on a person's behalf; that person is the complainant,
//! found in `Reply-To` or in the labelled lines of the body (`Naam:`, `E-mail:`). Pure
//! functions over [`InboundMail`], tested without I/O.
//!
//! A no-reply sender never makes a mail "automated" (only machine evidence does, see
//! `classify`): it only means we cannot answer the From address.

use super::classify::is_noreply;
use super::parse::{InboundMail, Mailbox};
use crate::domain::EmailAddress;

/// The person a mail speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Speaker {
    /// The From mailbox wrote it themselves.
    Direct(Mailbox),
    /// A form or relay sent it for a person.
    OnBehalf {
        /// The person, with what we found of them.
        person: Person,
        /// The relay's address (the From).
        relay: EmailAddress,
        /// Where the person was found: `reply-to` or `body`.
        found_in: &'static str,
    },
    /// From an address nobody reads, naming nobody to answer.
    Unanswerable(Mailbox),
}

/// A complainant found in a relayed mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// Name, when given.
    pub name: Option<String>,
    /// Address to answer, when given.
    pub email: Option<EmailAddress>,
    /// Phone number, when given.
    pub phone: Option<String>,
}

impl Speaker {
    /// The address whose mail this is for the register: the person's, else the sender's.
    pub fn mailbox(&self) -> Mailbox {
        match self {
            Speaker::Direct(m) | Speaker::Unanswerable(m) => m.clone(),
            Speaker::OnBehalf { person, relay, .. } => Mailbox {
                name: person.name.clone(),
                address: person.email.clone().unwrap_or_else(|| relay.clone()),
            },
        }
    }
}

// Local parts of the addresses web forms and shops send from. Matched like the no-reply
// parts: the whole local part, or followed by a separator ("formulier.klachten").
const FORM_LOCAL_PARTS: &[&str] = &[
    "formulier",
    "formulieren",
    "contactformulier",
    "form",
    "forms",
    "webform",
    "webforms",
    "contactform",
    "contact-form",
    "website",
    "webshop",
    "web",
    "site",
    "www",
    "www-data",
    "wordpress",
    "notifications",
    "notification",
];

/// Whether the address is one that sends for others (a form, a shop, a relay) or one
/// nobody reads.
pub fn is_relay(a: &EmailAddress) -> bool {
    let local = a.local_part();
    is_noreply(a)
        || FORM_LOCAL_PARTS.iter().any(|p| {
            local == *p
                || local
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with(['.', '-', '_', '+']))
        })
}

/// Decides whose mail this is. `own` are our addresses (a Reply-To of ours names nobody).
pub fn speaker(mail: &InboundMail, from: &Mailbox, own: &[&EmailAddress]) -> Speaker {
    if !is_relay(&from.address) {
        return Speaker::Direct(from.clone());
    }
    let usable = |a: &EmailAddress| *a != from.address && !is_noreply(a) && !own.contains(&a);
    let fields = labelled_fields(&mail.text);
    if let Some(reply_to) = mail.reply_to.as_ref().filter(|r| usable(&r.address)) {
        let person = Person {
            name: reply_to.name.clone().or(fields.name),
            email: Some(reply_to.address.clone()),
            phone: fields.phone,
        };
        return on_behalf(person, from, "reply-to");
    }
    let person = Person {
        email: fields.email.filter(|e| usable(e)),
        ..fields
    };
    if person.email.is_some() || person.name.is_some() {
        return on_behalf(person, from, "body");
    }
    if is_noreply(&from.address) {
        Speaker::Unanswerable(from.clone())
    } else {
        // A form address with no person in it is still an address someone may read.
        Speaker::Direct(from.clone())
    }
}

fn on_behalf(person: Person, from: &Mailbox, found_in: &'static str) -> Speaker {
    Speaker::OnBehalf {
        person,
        relay: from.address.clone(),
        found_in,
    }
}

/// Labels forms put before the fields we need, lower case, without the colon (Dutch,
/// English, German, French).
const EMAIL_LABELS: &[&str] = &[
    "e-mail",
    "email",
    "e-mailadres",
    "emailadres",
    "e-mail adres",
    "uw e-mailadres",
    "je e-mailadres",
    "e-mail address",
    "email address",
    "your email",
    "your e-mail",
    "e-mail-adresse",
    "mail",
    "courriel",
    "adresse e-mail",
];
const NAME_LABELS: &[&str] = &[
    "naam",
    "uw naam",
    "je naam",
    "volledige naam",
    "name",
    "your name",
    "full name",
    "nom",
    "afzender",
];
const PHONE_LABELS: &[&str] = &[
    "telefoon",
    "telefoonnummer",
    "tel",
    "tel.",
    "phone",
    "phone number",
    "telefon",
    "téléphone",
];

/// Reads `Label: value` lines, `Label<TAB>value` (HTML tables turned into text) and a label
/// alone on its line with the value on the next filled line. The first of each wins.
pub fn labelled_fields(text: &str) -> Person {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut found = Person::default();
    for (i, line) in lines.iter().enumerate() {
        let Some((label, value)) = split_label(line, &lines[i + 1..]) else {
            continue;
        };
        let label = label.as_str();
        if found.email.is_none() && EMAIL_LABELS.contains(&label) {
            found.email = first_address(value);
        } else if found.name.is_none() && NAME_LABELS.contains(&label) {
            found.name = Some(value.to_string()).filter(|v| plausible_name(v));
        } else if found.phone.is_none() && PHONE_LABELS.contains(&label) {
            found.phone = Some(value.to_string()).filter(|v| v.chars().any(|c| c.is_ascii_digit()));
        }
    }
    found
}

fn split_label<'a>(line: &'a str, below: &[&'a str]) -> Option<(String, &'a str)> {
    let line = line.trim_start_matches(['*', '-', '|', '•']).trim();
    let cut = line.find([':', '\t']);
    let (label, value) = match cut {
        Some(at) => (&line[..at], line[at + 1..].trim()),
        None => (line, ""),
    };
    let label = label.trim().trim_end_matches('*').trim().to_lowercase();
    if label.is_empty() || label.len() > 30 {
        return None;
    }
    let value = if value.is_empty() {
        below.iter().find(|l| !l.is_empty()).copied()?
    } else {
        value
    };
    Some((label, value.trim_matches(['|', ' ']).trim()))
}

fn first_address(value: &str) -> Option<EmailAddress> {
    value
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .find_map(|w| EmailAddress::parse(w.trim_matches(['(', ')', '[', ']'])).ok())
}

/// A name is short words, not an address, not a sentence.
fn plausible_name(v: &str) -> bool {
    !v.is_empty()
        && v.chars().count() <= 80
        && !v.contains('@')
        && v.split_whitespace().count() <= 6
}

#[cfg(test)]
#[path = "person_tests.rs"]
mod tests;
