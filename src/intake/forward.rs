//! Who really wrote a forwarded mail, read from the forward header in its text body.
//!
//! Staff forward customers' mails; the complaint belongs to the original sender, not to the
//! forwarder. Mail clients write that sender into the body in their own way: Outlook's
//! "-----Oorspronkelijk bericht-----" or underscore line above "Van:/From:", Gmail's
//! "---------- Forwarded message ---------", Apple Mail's "Begin forwarded message:",
//! Thunderbird's "-------- Forwarded Message --------", Mutt's "----- Forwarded message from
//! X -----", GMX's bare "Gesendet:/Von:" block. Outlook writes the same header for a reply, so
//! the caller decides from the subject (FW:, Doorst:) whether a mail is a forward at all.

use super::strip::markers::{
    Field, MUTT_FORWARD, ORIGINAL, Pattern, UNDERSCORES, header_block_end, header_field, is_blank,
    is_quoted, is_separator, joined, matches, next_filled, pattern,
};

/// A forwarded message found inline in a body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarded {
    /// The original sender's display name, without quotes and without Mailman's " via list".
    pub from_name: Option<String>,
    /// The original sender's address. For Outlook's "Van: list [mailto:bounce] Namens Name"
    /// this is the list's bounce address: returned as written, the caller decides.
    pub from_address: Option<String>,
    /// The forwarded message's subject, as written in the forward header.
    pub subject: Option<String>,
    /// The forwarded message's date, as written (free text in the client's language).
    pub date: Option<String>,
    /// What the forwarder wrote above the forwarded message.
    pub note: String,
    /// The forwarded text below its header, with one level of "> " removed if it was quoted.
    pub body: String,
}

/// An e-mail address inside a From value.
static ADDRESS: Pattern =
    pattern!(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+");
/// Outlook's "sender on behalf of author": the person is the part after it.
static ON_BEHALF: Pattern = pattern!(r"(?i)\s(namens|on behalf of|im auftrag von|de la part de)\s");
/// Mailman's DMARC rewrite "Name via list-name" names the list, not the person.
static VIA_LIST: Pattern = pattern!(r"(?i)\s+via\s+\S+$");
/// Any RFC 5322 header line ("Message-ID: <x>"), for the ones [`header_field`] does not know.
static OTHER_HEADER: Pattern = pattern!(r"^[A-Za-z][A-Za-z0-9-]*:\s");
/// Where Mutt, KMail and Thunderbird end the forwarded text.
static END_FORWARD: Pattern =
    pattern!(r"(?i)^(-{3,}\s*end (of )?forwarded message\s*-{3,}|-{50,})$");

/// How the forwarded part was announced.
enum Marker<'a> {
    /// A forward separator of any client; its header block may lack a From.
    Forward,
    /// Mutt's separator, naming the sender itself.
    Mutt(&'a str),
    /// An Outlook separator or a bare header block: believed only with a From header.
    Outlook,
}

/// Finds the first inline forwarded (or Outlook-quoted) message in a text body.
pub fn inline_forward(body: &str) -> Option<Forwarded> {
    let lines: Vec<&str> = body.lines().collect();
    (0..lines.len()).find_map(|i| forwarded_at(&lines, i))
}

/// The forwarded message announced at line `i`, if one is.
fn forwarded_at(lines: &[&str], i: usize) -> Option<Forwarded> {
    let line = dequote(lines[i]).trim();
    let (marker, headers_from) = if is_separator(line) {
        let mutt = MUTT_FORWARD.as_ref().and_then(|re| re.captures(line));
        match mutt.and_then(|found| found.get(1)) {
            Some(from) => (Marker::Mutt(from.as_str()), i + 1),
            None if matches(&ORIGINAL, line) => (Marker::Outlook, i + 1),
            None => (Marker::Forward, i + 1),
        }
    } else if matches(&UNDERSCORES, line) {
        (Marker::Outlook, i + 1)
    } else if header_field(line).is_some() {
        (Marker::Outlook, i)
    } else {
        return None;
    };
    // Quoted forwards (Outlook's "> Van:") and Mutt's quoted header and body lose one level.
    let quoted =
        is_quoted(lines[i]) || next_filled(lines, i + 1, 3).is_some_and(|n| is_quoted(lines[n]));
    let rest: Vec<&str> = lines[headers_from..]
        .iter()
        .map(|line| if quoted { dequote(line) } else { line })
        .collect();
    let start = next_filled(&rest, 0, 3).unwrap_or(rest.len());
    let (headers, body_start) = parse_headers(&rest, start);
    let from = headers.iter().find(|(field, _)| *field == Field::From);
    let from = match (&marker, from) {
        (_, Some((_, value))) => Some(value.as_str()),
        (Marker::Mutt(from), None) => Some(*from),
        (Marker::Forward, None) => None,
        (Marker::Outlook, None) => return None,
    };
    if matches!(marker, Marker::Outlook) && header_block_end(&rest, start).is_none() {
        return None;
    }
    let (from_name, from_address) = from.map(parse_from).unwrap_or_default();
    let value = |wanted: Field| {
        headers
            .iter()
            .find(|(field, value)| *field == wanted && !value.is_empty())
            .map(|(_, value)| value.clone())
    };
    Some(Forwarded {
        from_name,
        from_address,
        subject: value(Field::Subject),
        date: value(Field::Date),
        note: joined(&lines[..i]),
        body: forwarded_body(&rest[body_start.min(rest.len())..]),
    })
}

/// The header lines from `start` on, values with their wrapped continuations joined, and the
/// index where the forwarded text begins.
fn parse_headers(lines: &[&str], start: usize) -> (Vec<(Field, String)>, usize) {
    let mut headers: Vec<(Field, String)> = Vec::new();
    // Whether wrapped lines belong to the last header kept, or to one we skip.
    let (mut continued, mut skipping) = (0, false);
    let mut i = start;
    while i < lines.len() && !is_blank(lines[i]) {
        if let Some((field, value)) = header_field(lines[i]) {
            headers.push((field, value.to_owned()));
            (continued, skipping) = (0, false);
        } else if matches(&OTHER_HEADER, lines[i]) {
            // A returned or attached mail's raw headers (Message-ID:, MIME-Version:) are
            // headers of their own, not the wrapped end of the Subject above them.
            (continued, skipping) = (0, true);
        } else if skipping {
            // The folded lines of a skipped header.
        } else {
            continued += 1;
            // A header has at most two wrapped lines; more means the text began without a
            // blank line, and a line under no header at all is text already.
            let Some((_, value)) = headers.last_mut().filter(|_| continued <= 2) else {
                break;
            };
            // Outlook hard-wraps inside "[mailto:...]": an open bracket rejoins without a space.
            if value.matches(['[', '<']).count() <= value.matches([']', '>']).count() {
                value.push(' ');
            }
            value.push_str(lines[i].trim());
        }
        i += 1;
    }
    (headers, i)
}

/// Name and address from "Name <addr>", "\"Name\" <addr>", "Name [mailto:addr]", "addr",
/// "Name", or Outlook's "List [mailto:addr] Namens Name".
fn parse_from(value: &str) -> (Option<String>, Option<String>) {
    let value = value.replace(['*', '\t'], " ");
    let (sender, person) = match ON_BEHALF.as_ref().and_then(|re| re.find(&value)) {
        Some(found) => (&value[..found.start()], Some(&value[found.end()..])),
        None => (value.as_str(), None),
    };
    let address = person.and_then(address_in).or_else(|| address_in(sender));
    let name = person
        .unwrap_or(sender)
        .split(['<', '['])
        .next()
        .unwrap_or_default();
    let name = name.trim().trim_matches(['"', '\'', ' ']);
    let name = match VIA_LIST.as_ref().and_then(|re| re.find(name)) {
        Some(found) => &name[..found.start()],
        None => name,
    };
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    // "bob@example.com" alone is an address, not a name.
    let is_address = address_in(&name).is_some_and(|found| found == name);
    let name = (!name.is_empty() && !is_address).then_some(name);
    (name, address)
}

/// The first e-mail address in `text` ("mailto:" prefixes ignored).
fn address_in(text: &str) -> Option<String> {
    let text = text.replace("mailto:", " ");
    ADDRESS
        .as_ref()?
        .find(&text)
        .map(|found| found.as_str().to_owned())
}

/// The forwarded text: up to Mutt's or KMail's end line, blank lines around it dropped.
fn forwarded_body(lines: &[&str]) -> String {
    let end = lines
        .iter()
        .position(|line| matches(&END_FORWARD, line.trim()))
        .unwrap_or(lines.len());
    joined(&lines[..end])
}

/// One level of `>` quoting removed ("> x" -> "x", ">> x" -> "> x").
fn dequote(line: &str) -> &str {
    match line.trim_start().strip_prefix('>') {
        Some(rest) => rest.strip_prefix(' ').unwrap_or(rest),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sender(body: &str) -> (Option<String>, Option<String>, Option<String>) {
        let forwarded = inline_forward(body).unwrap_or_default();
        (
            forwarded.from_name,
            forwarded.from_address,
            forwarded.subject,
        )
    }

    fn some(
        name: &str,
        address: &str,
        subject: &str,
    ) -> (Option<String>, Option<String>, Option<String>) {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        (some(name), some(address), some(subject))
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in [&ADDRESS, &ON_BEHALF, &VIA_LIST, &END_FORWARD, &OTHER_HEADER] {
            assert!(pattern.is_some());
        }
    }

    #[test]
    fn dutch_outlook_forward_with_mailto_and_namens_names_the_author() {
        let body = "Kijk hier even naar.\n\n> -----Oorspronkelijk bericht-----\n> Van: Lijst \n> [mailto:lijst-bounces+belle=example.nl@lists.example.d\nebian.net] Namens Mathieu Parent\n> Verzonden: zaterdag 17 april 2021 18:53\n> Aan: Fred\n> Onderwerp: Re: vfs_zfsacl\n> \n> Tekst";
        let forwarded = inline_forward(body).unwrap_or_default();
        assert_eq!(forwarded.from_name.as_deref(), Some("Mathieu Parent"));
        assert_eq!(
            forwarded.from_address.as_deref(),
            Some("lijst-bounces+belle=example.nl@lists.example.debian.net")
        );
        assert_eq!(forwarded.subject.as_deref(), Some("Re: vfs_zfsacl"));
        assert_eq!(
            forwarded.date.as_deref(),
            Some("zaterdag 17 april 2021 18:53")
        );
        assert_eq!(forwarded.note, "Kijk hier even naar.");
        assert_eq!(forwarded.body, "Tekst");
    }

    #[test]
    fn english_outlook_forward_on_behalf_of_names_the_author() {
        let body = "FYI\n-----Original Message-----\nFrom: List [mailto:list@example.org] On Behalf Of Ann Lee\nSent: Monday\nTo: Bob\nSubject: Late parcel\n\nWhere is it?";
        assert_eq!(
            sender(body),
            some("Ann Lee", "list@example.org", "Late parcel")
        );
    }

    #[test]
    fn outlook_web_underscore_block_names_the_author() {
        let body = "Chris,\nThanks.\n\n________________________________\nFrom: Chris Rogers <c@example.com>\nSent: 31 January 2025 21:58\nTo: Dan\nSubject: Re: X440\n\nAnother try";
        assert_eq!(
            sender(body),
            some("Chris Rogers", "c@example.com", "Re: X440")
        );
    }

    #[test]
    fn gmail_forwards_in_english_and_dutch_name_the_author() {
        for separator in [
            "---------- Forwarded message ---------",
            "---------- Doorgestuurd bericht ---------",
        ] {
            let body = format!(
                "{separator}\nFrom: Bruno <bruno@example.com>\nDate: Fri, Jun 11, 2021\nSubject: Is it possible to mount\na share\nTo: <list@example.org>\n\n\nBody"
            );
            let forwarded = inline_forward(&body).unwrap_or_default();
            assert_eq!(
                forwarded.from_address.as_deref(),
                Some("bruno@example.com"),
                "{separator}"
            );
            assert_eq!(
                forwarded.subject.as_deref(),
                Some("Is it possible to mount a share")
            );
            assert_eq!(
                (forwarded.note.as_str(), forwarded.body.as_str()),
                ("", "Body")
            );
        }
    }

    #[test]
    fn apple_mail_and_claws_forwards_in_english_and_dutch_name_the_author() {
        for separator in ["Begin forwarded message:", "Begin doorgestuurd bericht:"] {
            let body = format!(
                "Note\n\n{separator}\n\nDate: Tue, 8 Dec 2020\nFrom: Jan Fajerski <jan@example.com>\nTo: dev\nSubject: CfP\n\nText"
            );
            assert_eq!(
                sender(&body),
                some("Jan Fajerski", "jan@example.com", "CfP"),
                "{separator}"
            );
        }
    }

    #[test]
    fn thunderbird_forwards_in_english_and_dutch_are_found() {
        for separator in [
            "-------- Forwarded Message --------",
            "-------- Doorgestuurd bericht --------",
        ] {
            let body = format!(
                "foo\n\n{separator}\nSubject: \tFoo\nDate: \tFri, 21 May 2021\nFrom: \t\"Ann\" <ann@example.org>\n\nbar"
            );
            assert_eq!(
                sender(&body),
                some("Ann", "ann@example.org", "Foo"),
                "{separator}"
            );
        }
    }

    #[test]
    fn forward_without_from_line_has_no_sender() {
        let body = "foo\n\n-------- Forwarded Message --------\nSubject: \tFoo\nDate: \tFri, 21 May 2021\n\nbar";
        let forwarded = inline_forward(body).unwrap_or_default();
        assert_eq!((forwarded.from_name, forwarded.from_address), (None, None));
        assert_eq!(forwarded.body, "bar");
    }

    #[test]
    fn mutt_forward_names_the_author_and_loses_its_quote_marks() {
        let body = "Hi!\n\n----- Forwarded message from Jan F <jan@example.name> -----\n\n> From: Jan F <jan@example.name>\n> Subject: CfP\n> Date: Thu\n>\n> Text\n> > nested\n\n----- End forwarded message -----\n";
        let forwarded = inline_forward(body).unwrap_or_default();
        assert_eq!(forwarded.from_address.as_deref(), Some("jan@example.name"));
        assert_eq!(forwarded.body, "Text\n> nested");
        let without_headers =
            "----- Forwarded message from Jan F <jan@example.name> -----\n\nText\n";
        assert_eq!(
            sender(without_headers),
            some("Jan F", "jan@example.name", "")
        );
    }

    #[test]
    fn raw_headers_below_a_known_one_are_not_its_continuation() {
        let body = "---------- Forwarded message ---------\nFrom: Alice <alice@example.org>\nSubject: test\nMessage-ID: <x@example.org>\nDate: Tue, 9 Jun 2020\nUser-Agent: Mozilla/5.0\n (X11)\n\nbody";
        let forwarded = inline_forward(body).unwrap_or_default();
        assert_eq!(forwarded.subject.as_deref(), Some("test"));
        assert_eq!(forwarded.date.as_deref(), Some("Tue, 9 Jun 2020"));
        assert_eq!(forwarded.body, "body");
    }

    #[test]
    fn every_from_line_form_gives_name_and_address() {
        for (value, name, address) in [
            ("Name <a@example.com>", "Name", "a@example.com"),
            ("a@example.com", "", "a@example.com"),
            (
                "\"Name, Sr.\" <a@example.com>",
                "Name, Sr.",
                "a@example.com",
            ),
            ("Name [mailto:a@example.com]", "Name", "a@example.com"),
            ("Name Only", "Name Only", ""),
            (
                "Rowland Penny via samba <samba@example.org>",
                "Rowland Penny",
                "samba@example.org",
            ),
            (
                "*Bob* <bob@example.com<mailto:bob@example.com>>",
                "Bob",
                "bob@example.com",
            ),
        ] {
            let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
            assert_eq!(parse_from(value), (some(name), some(address)), "{value}");
        }
    }

    #[test]
    fn mail_without_a_forward_header_is_not_a_forward() {
        assert_eq!(
            inline_forward("Beste,\n\nDe doos was kapot.\nVan: mij\n"),
            None
        );
        assert_eq!(inline_forward("----------------\nFrom: nobody\n"), None);
    }

    proptest! {
        #[test]
        fn any_text_is_read_without_panicking(body in "(?s).{0,400}") {
            let _ = inline_forward(&body);
        }
    }
}
