//! The markers that mail clients write around quoted and forwarded messages, as patterns and
//! small line tests; shared by `strip` (what is new in a reply) and `forward` (who wrote a
//! forwarded mail).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

/// A regex compiled on first use. One that fails to compile matches nothing rather than
/// panicking while a mail is processed; the `every_pattern_compiles` test catches that.
pub(crate) type Pattern = LazyLock<Option<Regex>>;

/// Compiles a [`Pattern`] from a literal on first use.
macro_rules! pattern {
    ($source:expr) => {
        ::std::sync::LazyLock::new(|| ::regex::Regex::new($source).ok())
    };
}
pub(crate) use pattern;

/// Whether `pattern` matches `text`.
pub(crate) fn matches(pattern: &Pattern, text: &str) -> bool {
    pattern.as_ref().is_some_and(|re| re.is_match(text))
}

/// "-----Original Message-----" and its translations (Outlook, Zimbra, Yahoo, AOL).
pub(crate) static ORIGINAL: Pattern = pattern!(
    r"(?i)^-{2,}\s*(original message|oorspronkelijk bericht|ursprüngliche nachricht|originalnachricht|message d'origine|mensaje original|messaggio originale|oprindelig meddelelse|opprinnelig melding|ursprungligt meddelande|alkuperäinen viesti|wiadomość oryginalna|oryginalna wiadomość)\s*-{2,}$"
);
/// Forward separators of Gmail, Thunderbird and KMail, and their translations.
pub(crate) static FORWARD: Pattern = pattern!(
    r"(?i)^-{2,}\s*(forwarded message|doorgestuurd bericht|weitergeleitete nachricht|message transf[ée]r[ée]|videresendt meddelelse|videresendt melding|vidarebefordrat meddelande)\s*-{2,}$"
);
/// Apple Mail's and Claws' forward line.
pub(crate) static BEGIN_FORWARD: Pattern = pattern!(
    r"(?i)^(begin forwarded message|begin doorgestuurd bericht|anfang der weitergeleiteten nachricht|début du message réexpédié)\s*:$"
);
/// Mutt's forward line, which names the original sender itself.
pub(crate) static MUTT_FORWARD: Pattern =
    pattern!(r"(?i)^-{3,}\s*forwarded message from\s+(.+?)\s*-{3,}$");
/// A line of underscores: Outlook's separator above a header block (32 of them), or the start
/// of a Mailman footer (47) when no header block follows.
pub(crate) static UNDERSCORES: Pattern = pattern!(r"^_{20,}$");
/// A header line of a quoted or forwarded message, as Outlook, GMX and Gmail write it in
/// Dutch, English, German and French (Gmail's HTML turns "*From:*" into bold stars).
pub(crate) static HEADER: Pattern = pattern!(
    r"(?i)^\*?(from|van|von|de|fra|från|od|sent|verzonden|gesendet|envoyé|sendt|skickat|wysłano|date|datum|dato|data|to|aan|an|à|a|til|till|do|cc|kopie|kopi|dw|subject|onderwerp|betreff|objet|emne|ämne|temat)\*?\s*:\*?"
);
/// A date header flattened onto the end of the author's last line (GMX's HTML-only quote).
pub(crate) static DATE_INSIDE: Pattern =
    pattern!(r"(?i)\s(gesendet|sent|verzonden|date|datum|envoyé)\s*:");
/// Attribution lines that need no `>` block after them to be believed.
pub(crate) static ATTRIBUTION: Pattern = pattern!(
    r"(?i)^(on\s.+\swrote|op\s.+\s(schreef|geschreven)\b.*|am\s.+\sschrieb\b.*|.+\sschrieb am\s.+|le\s.+\sa\s+écrit|den\s.+\sskrev\b.*|\d.+\sskrev\b.*|\d.+\snapisał\b.*|w dniu\s.+\snapisał\b.*)\s*:$"
);
/// How a strict attribution line starts, so a wrapped one can be joined with its next line.
pub(crate) static ATTRIBUTION_OPENER: Pattern = pattern!(r"(?i)^(on|op|am|le|den|w dniu)\s");
/// Looser attribution lines, believed only right above a `>` block: "Marc wrote:",
/// "02.04.2012 14:20 пользователь ... написал:".
pub(crate) static LOOSE_ATTRIBUTION: Pattern = pattern!(
    r"(?i)((wrote|schreef|schrieb|écrit|escribió|scrisse|написал|napisał|skrev|kirjoitti)\s*|\d{1,4}[-./]\d{1,2}[-./]\d{1,4}.*|\d{1,2}:\d{2}.*):$"
);
/// Phone and app footers that end what the author wrote.
pub(crate) static DEVICE_FOOTER: Pattern = pattern!(
    r"(?i)^((sent from (my|mail for|yahoo mail( for| on)?|outlook( for)?)|(verzonden|verstuurd) (vanaf|vanuit|met) (mijn|mail voor)|gesendet von (meinem|mail für)|envoyé (de|depuis) mon|skickat från min|sendt fra min|wysłane z (mojego|mojej))(\s+[\w.®™()+-]+){0,4}\.?|von meinem (\s*[\w.®™()+-]+){1,4} gesendet\.?|sent with sparrow(\s+\(\S+\))?|(get|download) outlook for \w+\s*(<\S+>)?|outlook voor \w+ downloaden)$"
);

/// Which header a quoted-message header line is, whatever its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Field {
    /// From, Van, Von, De.
    From,
    /// Sent, Date, Verzonden, Datum, Gesendet, Envoyé.
    Date,
    /// To, Aan, An, À, A.
    To,
    /// Cc, Kopie.
    Cc,
    /// Subject, Onderwerp, Betreff, Objet.
    Subject,
}

/// The field and value of a header line such as "Van: Jan" or "*Subject:* x".
pub(crate) fn header_field(line: &str) -> Option<(Field, &str)> {
    let line = line.trim_start();
    let found = HEADER.as_ref()?.captures(line)?;
    let field = match found.get(1)?.as_str().to_lowercase().as_str() {
        "from" | "van" | "von" | "de" | "fra" | "från" | "od" => Field::From,
        "sent" | "verzonden" | "gesendet" | "envoyé" | "sendt" | "skickat" | "wysłano" | "date"
        | "datum" | "dato" | "data" => Field::Date,
        "to" | "aan" | "an" | "à" | "a" | "til" | "till" | "do" => Field::To,
        "cc" | "kopie" | "kopi" | "dw" => Field::Cc,
        _ => Field::Subject,
    };
    Some((field, line[found.get(0)?.end()..].trim()))
}

/// The end (exclusive) of the header block starting at `start`, if one does: a From line and
/// at least two other header kinds before the next blank line. Up to two continuation lines
/// per header are allowed, because Outlook wraps "Van: list [mailto:...] Namens Name".
pub(crate) fn header_block_end(lines: &[&str], start: usize) -> Option<usize> {
    let (first, _) = header_field(lines.get(start)?)?;
    let mut fields = BTreeSet::from([first]);
    let (mut end, mut continued) = (start + 1, 0);
    for line in lines.iter().skip(start + 1).take(12) {
        if is_blank(line) {
            break;
        }
        if let Some((field, _)) = header_field(line) {
            fields.insert(field);
            continued = 0;
        } else {
            continued += 1;
            if continued > 2 {
                break;
            }
        }
        end += 1;
    }
    (fields.contains(&Field::From) && fields.len() >= 3).then_some(end)
}

/// Whether a line is `>`-quoted.
pub(crate) fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// Whether a line holds nothing visible (no-break spaces from HTML count as blank).
pub(crate) fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Whether a line opens a quoted or forwarded message (the line itself, not a header block).
pub(crate) fn is_separator(line: &str) -> bool {
    let line = line.trim();
    [&ORIGINAL, &FORWARD, &BEGIN_FORWARD, &MUTT_FORWARD]
        .into_iter()
        .any(|pattern| matches(pattern, line))
}

/// The index of the first non-blank line at or after `from`, looking at most `limit` lines on.
pub(crate) fn next_filled(lines: &[&str], from: usize, limit: usize) -> Option<usize> {
    (from..lines.len().min(from + limit)).find(|&i| !is_blank(lines[i]))
}

/// The lines with their ends trimmed and blank lines around them dropped.
pub(crate) fn joined(lines: &[&str]) -> String {
    let first = lines.iter().position(|line| !is_blank(line));
    let last = lines.iter().rposition(|line| !is_blank(line));
    match (first, last) {
        (Some(first), Some(last)) => lines[first..=last]
            .iter()
            .map(|line| line.trim_end())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Attribution lines longer than this are prose, not "On ... wrote:".
const ATTRIBUTION_MAX: usize = 300;

/// How many lines (0 to 3: Gmail and Apple Mail wrap a long one) an attribution line at `i` takes, and
/// whether it is one of the strict forms that may head an unmarked quote.
pub(crate) fn attribution_span(lines: &[&str], i: usize) -> (bool, usize) {
    let line = lines[i].trim();
    let next = |k: usize| lines.get(i + k).map_or("", |next| next.trim());
    // Gmail wraps after "On <date>, <name> <address" or inside the address, Apple Mail
    // puts "<address>" and "wrote:" on lines of their own: only such a first line may be
    // joined with the next one or two, or "Hello" would join the line below it.
    // The first line of a wrapped one already holds the date or the opened address:
    // "Am heutigen Tage" above an attribution is the author's text.
    let wrapped = !line.ends_with(':')
        && !next(1).is_empty()
        && ((matches(&ATTRIBUTION_OPENER, line) && line.chars().any(|c| c.is_ascii_digit()))
            || line.matches('<').count() > line.matches('>').count());
    let two = format!("{line} {}", next(1));
    let three_allowed = wrapped && !two.ends_with(':') && !next(2).is_empty();
    let candidates = [
        (line.to_owned(), 1),
        (two.clone(), 2),
        (format!("{two} {}", next(2)), 3),
    ];
    for (text, span) in candidates {
        if text.len() > ATTRIBUTION_MAX || (span == 2 && !wrapped) || (span == 3 && !three_allowed)
        {
            continue;
        }
        if matches(&ATTRIBUTION, &text) {
            return (true, span);
        }
        if matches(&LOOSE_ATTRIBUTION, &text) {
            return (false, span);
        }
    }
    (false, 0)
}

/// Whether an attribution has a digit (a date or time): "On Monday I wrote:" in prose has
/// none, and must not cut the rest of the mail away.
pub(crate) fn text_has_digit(lines: &[&str], i: usize, span: usize) -> bool {
    lines[i..i + span]
        .iter()
        .any(|line| line.chars().any(|c| c.is_ascii_digit()))
}

/// A subject prefix: reply and forward markers in the languages mail clients write them,
/// with Outlook's "RE (2):" and "Re[2]:" counters.
pub(crate) static SUBJECT_PREFIX: Pattern = pattern!(
    r"(?i)^(antwoord|antw|doorgestuurd|doorst|fwd|fw|re|aw|wg|sv|vs|tr|rv|réf|ref|r)\s*(\[\d+\]|\(\d+\))?\s*[:：]\s*"
);

/// The subject without its leading run of reply and forward prefixes ("RE: Fw: AW: x" -> "x").
/// A "[list-tag]" stops the run and is kept: callers search the reference anywhere.
pub fn strip_subject_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim();
    while let Some(found) = SUBJECT_PREFIX.as_ref().and_then(|re| re.find(rest)) {
        rest = &rest[found.end()..];
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        let all: [&Pattern; 12] = [
            &ORIGINAL,
            &FORWARD,
            &BEGIN_FORWARD,
            &MUTT_FORWARD,
            &UNDERSCORES,
            &HEADER,
            &DATE_INSIDE,
            &ATTRIBUTION,
            &ATTRIBUTION_OPENER,
            &LOOSE_ATTRIBUTION,
            &DEVICE_FOOTER,
            &SUBJECT_PREFIX,
        ];
        for (i, pattern) in all.into_iter().enumerate() {
            assert!(pattern.is_some(), "pattern {i} does not compile");
        }
    }

    #[test]
    fn header_lines_are_read_in_four_languages_and_in_bold() {
        for (line, field, value) in [
            (
                "Van: Jan <jan@example.nl>",
                Field::From,
                "Jan <jan@example.nl>",
            ),
            ("From: x", Field::From, "x"),
            ("*From:* Bob", Field::From, "Bob"),
            ("Von:\u{a0}bob", Field::From, "bob"),
            ("Verzonden: maandag", Field::Date, "maandag"),
            ("Gesendet: Dienstag", Field::Date, "Dienstag"),
            ("Envoyé : lundi", Field::Date, "lundi"),
            ("Aan: Piet", Field::To, "Piet"),
            ("CC: Debian", Field::Cc, "Debian"),
            ("Onderwerp: KL-2026-0042", Field::Subject, "KL-2026-0042"),
            ("Subject: \tFoo", Field::Subject, "Foo"),
            ("Betreff: x", Field::Subject, "x"),
            ("Objet : y", Field::Subject, "y"),
        ] {
            assert_eq!(header_field(line), Some((field, value)), "{line}");
        }
        assert_eq!(header_field("Fromage: brie"), None);
    }

    #[test]
    fn header_block_needs_a_from_and_two_other_kinds() {
        let lines = ["Van: Jan", "Verzonden: maandag", "Aan: Piet", "", "tekst"];
        assert_eq!(header_block_end(&lines, 0), Some(3));
        assert_eq!(
            header_block_end(&["Van: Jan", "Aan: Piet", "", "x"], 0),
            None
        );
        assert_eq!(
            header_block_end(&["Subject: a", "Date: b", "To: c"], 0),
            None
        );
    }

    #[test]
    fn separators_of_every_client_are_recognised() {
        for line in [
            "-----Oorspronkelijk bericht-----",
            "-----Original Message-----",
            "----- Original Message -----",
            "-----Ursprüngliche Nachricht-----",
            "---------- Forwarded message ---------",
            "---------- Doorgestuurd bericht ---------",
            "-------- Forwarded Message --------",
            "-------- Doorgestuurd bericht --------",
            "----------  Forwarded Message  ----------",
            "Begin forwarded message:",
            "Begin doorgestuurd bericht:",
            "----- Forwarded message from Jan <jan@example.org> -----",
        ] {
            assert!(is_separator(line), "{line}");
        }
        assert!(!is_separator("-------------------------"));
    }

    #[test]
    fn subject_prefixes_of_any_language_and_count_are_removed() {
        for (subject, bare) in [
            ("RE: Fw: AW: Levering", "Levering"),
            ("Antw: Doorst: WG: SV: VS: TR: RV: R: Réf: x", "x"),
            ("Antwoord: Doorgestuurd: Fwd: re: aW: y", "y"),
            ("Re[2]: RE (2): Re : z", "z"),
            (
                "Re: [klachten] Re: KL-2026-0042",
                "[klachten] Re: KL-2026-0042",
            ),
            ("Reservering 12", "Reservering 12"),
            ("Fwd:", ""),
        ] {
            assert_eq!(strip_subject_prefixes(subject), bare, "{subject}");
        }
    }
}
