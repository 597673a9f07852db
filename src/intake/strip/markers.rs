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
        LazyLock::new(|| Regex::new($source).ok())
    };
}
pub(crate) use pattern;

/// Whether `pattern` matches `text`.
pub(crate) fn matches(pattern: &Pattern, text: &str) -> bool {
    pattern.as_ref().is_some_and(|re| re.is_match(text))
}

/// "-----Original Message-----" and its translations (Outlook, Zimbra, Yahoo, AOL).
pub(crate) static ORIGINAL: Pattern = pattern!(
    r"(?i)^-{2,}\s*(original message|oorspronkelijk bericht|ursprüngliche nachricht|originalnachricht|message d'origine|mensaje original|messaggio originale)\s*-{2,}$"
);
/// Forward separators of Gmail, Thunderbird and KMail, and their translations.
pub(crate) static FORWARD: Pattern = pattern!(
    r"(?i)^-{2,}\s*(forwarded message|doorgestuurd bericht|weitergeleitete nachricht|message transf[ée]r[ée])\s*-{2,}$"
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
    r"(?i)^\*?(from|van|von|de|sent|verzonden|gesendet|envoyé|date|datum|to|aan|an|à|a|cc|kopie|subject|onderwerp|betreff|objet)\*?\s*:\*?"
);
/// A date header flattened onto the end of the author's last line (GMX's HTML-only quote).
pub(crate) static DATE_INSIDE: Pattern = pattern!(r"(?i)\s(gesendet|sent|verzonden|date|datum|envoyé)\s*:");
/// Attribution lines that need no `>` block after them to be believed.
pub(crate) static ATTRIBUTION: Pattern = pattern!(
    r"(?i)^(on\s.+\swrote|op\s.+\s(schreef|geschreven)\b.*|am\s.+\sschrieb\b.*|.+\sschrieb am\s.+|le\s.+\sa\s+écrit)\s*:$"
);
/// How a strict attribution line starts, so a wrapped one can be joined with its next line.
pub(crate) static ATTRIBUTION_OPENER: Pattern = pattern!(r"(?i)^(on|op|am|le)\s");
/// Looser attribution lines, believed only right above a `>` block: "Marc wrote:",
/// "02.04.2012 14:20 пользователь ... написал:".
pub(crate) static LOOSE_ATTRIBUTION: Pattern = pattern!(
    r"(?i)((wrote|schreef|schrieb|écrit|escribió|scrisse|написал|napisał|skrev|kirjoitti)\s*|\d{1,4}[-./]\d{1,2}[-./]\d{1,4}.*|\d{1,2}:\d{2}.*):$"
);
/// Phone and app footers that end what the author wrote.
pub(crate) static DEVICE_FOOTER: Pattern = pattern!(
    r"(?i)^(sent from (my|mail for|yahoo mail|outlook)\b|(verzonden|verstuurd) (vanaf|vanuit) (mijn|mail voor)\s|gesendet von meinem\s|von meinem .{1,40} gesendet|envoyé de mon\s|sent with sparrow|get outlook for\s|download outlook for\s|outlook voor .{1,20} downloaden)"
);

/// Which header a quoted-message header line is, whatever its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Field {
    From,
    Date,
    To,
    Cc,
    Subject,
}

/// The field and value of a header line such as "Van: Jan" or "*Subject:* x".
pub(crate) fn header_field(line: &str) -> Option<(Field, &str)> {
    let line = line.trim_start();
    let found = HEADER.as_ref()?.captures(line)?;
    let field = match found.get(1)?.as_str().to_lowercase().as_str() {
        "from" | "van" | "von" | "de" => Field::From,
        "sent" | "verzonden" | "gesendet" | "envoyé" | "date" | "datum" => Field::Date,
        "to" | "aan" | "an" | "à" | "a" => Field::To,
        "cc" | "kopie" => Field::Cc,
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

/// A subject prefix: reply and forward markers in the languages mail clients write them,
/// with Outlook's "RE (2):" and "Re[2]:" counters.
pub(crate) static SUBJECT_PREFIX: Pattern = pattern!(
    r"(?i)^(antwoord|antw|doorgestuurd|doorst|fwd|fw|re|aw|wg|sv|vs|tr|rv|réf|ref|r)\s*(\[\d+\]|\(\d+\))?\s*[:：]\s*"
);

