//! The new text of a reply: quotes, attribution lines and signatures removed.
//!
//! Works on the plain text body only, line by line, for the clients our customers and staff
//! use (Outlook, Gmail, Apple Mail, Thunderbird, webmail) in Dutch, English, German and French.
//! Top-posted, bottom-posted and interleaved (`>`-quoted) replies all come out as what the
//! author wrote. The markers themselves live in [`markers`], shared with `forward`.

#[path = "strip/markers.rs"]
pub(crate) mod markers;

use markers::{
    ATTRIBUTION, ATTRIBUTION_OPENER, DATE_INSIDE, DEVICE_FOOTER, LOOSE_ATTRIBUTION, SUBJECT_PREFIX,
    UNDERSCORES, header_block_end, is_blank, is_quoted, is_separator, joined, matches, next_filled,
};

/// What [`new_text`] found in a body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stripped {
    /// What the author wrote in this mail, blank lines around it trimmed, line ends trimmed.
    pub text: String,
    /// A quote (a `>` block, an attribution line or a quoted-message header) was removed.
    pub quote_found: bool,
    /// A signature, phone footer or mailing-list footer was removed.
    pub signature_found: bool,
    /// The author wrote nothing outside an unmarked quote (Outlook puts a header block and no
    /// `>` above the original), so `text` is everything below that header: answers written
    /// into the quote cannot be told apart from it, and returning nothing would lose them.
    pub quote_kept: bool,
}

/// A quoted line of a longer length than this, followed by an unquoted line and then a quoted
/// one again, was wrapped by the replying client (Outlook 11 rewraps `>` lines at 76 columns),
/// so the unquoted piece still belongs to the quote. Short quoted lines are real questions
/// answered inline.
const WRAPPED_QUOTE_MIN: usize = 60;

/// Attribution lines longer than this are prose, not "On ... wrote:".
const ATTRIBUTION_MAX: usize = 300;

/// Where the quoted original starts and where its text (below any header block) starts.
#[derive(Debug, Clone, Copy)]
struct Cut {
    start: usize,
    body: usize,
}

/// Returns only what the author wrote new in this mail. See [`Stripped`].
pub fn new_text(body: &str) -> Stripped {
    let mut lines: Vec<&str> = body.lines().collect();
    let mut attribution = vec![false; lines.len()];
    let cut = find_cut(&mut lines, &mut attribution);
    let end = cut.map_or(lines.len(), |cut| cut.start);
    let (kept, removed) = unquoted(&lines[..end], &attribution);
    let (kept, signature_found) = without_signature(kept);
    let mut stripped = Stripped {
        text: joined(&kept),
        quote_found: cut.is_some() || removed,
        signature_found,
        quote_kept: false,
    };
    if let (true, Some(cut)) = (stripped.text.is_empty(), cut) {
        let below = &lines[cut.body.min(lines.len())..];
        let (kept, _) = unquoted(below, &vec![false; below.len()]);
        let (kept, signature_found) = without_signature(kept);
        stripped.text = joined(&kept);
        stripped.quote_kept = !stripped.text.is_empty();
        stripped.signature_found |= signature_found;
    }
    stripped
}

/// Finds the first unquoted line that starts a quote whose text is not `>`-marked
/// (a separator, a header block, an attribution line followed by plain text). Attribution
/// lines that head a `>` block are only marked, so the text around the block survives.
fn find_cut(lines: &mut [&str], attribution: &mut [bool]) -> Option<Cut> {
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if is_quoted(line) || line.is_empty() {
            i += 1;
            continue;
        }
        if is_separator(line) {
            let body = next_filled(lines, i + 1, 3)
                .and_then(|h| header_block_end(lines, h))
                .unwrap_or(i + 1);
            return Some(Cut { start: i, body });
        }
        if matches(&UNDERSCORES, line) {
            if let Some(end) = next_filled(lines, i + 1, 3).and_then(|h| header_block_end(lines, h)) {
                return Some(Cut { start: i, body: end });
            }
        }
        if let Some(end) = header_block_end(lines, i) {
            cut_flattened_date(lines, i);
            return Some(Cut { start: i, body: end });
        }
        let (strict, span) = attribution_span(lines, i);
        if span > 0 {
            let quote_follows = next_filled(lines, i + span, 3).is_some_and(|n| is_quoted(lines[n]));
            if quote_follows {
                attribution[i..i + span].fill(true);
            } else if strict && text_has_digit(lines, i, span) {
                return Some(Cut { start: i, body: i + span });
            }
            i += span;
            continue;
        }
        i += 1;
    }
    None
}

/// How many lines (0, 1 or 2: Gmail wraps a long one) an attribution line at `i` takes, and
/// whether it is one of the strict forms that may head an unmarked quote.
fn attribution_span(lines: &[&str], i: usize) -> (bool, usize) {
    let line = lines[i].trim();
    let next = lines.get(i + 1).map_or("", |next| next.trim());
    // Gmail wraps after "On <date>, <name> <address" or inside the address: only such a
    // first line may be joined with the next, or "Hello" would join the line below it.
    let wrapped = !line.ends_with(':')
        && !next.is_empty()
        && (matches(&ATTRIBUTION_OPENER, line) || line.matches('<').count() > line.matches('>').count());
    let candidates = [(line.to_owned(), 1), (format!("{line} {next}"), 2)];
    for (text, span) in candidates {
        if text.len() > ATTRIBUTION_MAX || (span == 2 && !wrapped) {
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
fn text_has_digit(lines: &[&str], i: usize, span: usize) -> bool {
    lines[i..i + span].iter().any(|line| line.chars().any(|c| c.is_ascii_digit()))
}

/// GMX's HTML quote flattens to "my text  Gesendet: <date>" on one line above "Von:": the
/// author's line ends where the date header begins.
fn cut_flattened_date(lines: &mut [&str], block: usize) {
    let Some(above) = block.checked_sub(1) else {
        return;
    };
    let line: &str = lines[above];
    if let Some(found) = DATE_INSIDE.as_ref().and_then(|re| re.find(line)) {
        lines[above] = &line[..found.start()];
    }
}

/// The lines that are not quoted, not attribution and not a quoted line's wrapped tail, and
/// whether any were removed. Blank lines left around a removed block collapse into one.
fn unquoted<'a>(lines: &[&'a str], attribution: &[bool]) -> (Vec<&'a str>, bool) {
    let (mut kept, mut removed_any, mut just_removed) = (Vec::new(), false, false);
    for (i, &line) in lines.iter().enumerate() {
        if attribution.get(i).copied().unwrap_or(false) || is_quoted(line) || is_wrapped_tail(lines, i) {
            removed_any = true;
            just_removed = true;
            continue;
        }
        if is_blank(line) {
            if just_removed && kept.last().is_none_or(|last: &&str| is_blank(last)) {
                continue;
            }
        } else {
            just_removed = false;
        }
        kept.push(line);
    }
    (kept, removed_any)
}

/// Whether an unquoted line is the wrapped end of a long quoted line: a quoted line of at
/// least [`WRAPPED_QUOTE_MIN`] characters right above it and a quoted line right below.
fn is_wrapped_tail(lines: &[&str], i: usize) -> bool {
    let unquoted_text = |j: usize| !is_quoted(lines[j]) && !is_blank(lines[j]);
    if !unquoted_text(i) {
        return false;
    }
    let above = (i.saturating_sub(2)..i).rev().find(|&j| !unquoted_text(j));
    let below = (i + 1..lines.len().min(i + 3)).find(|&j| !unquoted_text(j));
    match (above, below) {
        (Some(a), Some(b)) => {
            is_quoted(lines[a]) && is_quoted(lines[b]) && lines[a].chars().count() >= WRAPPED_QUOTE_MIN
        }
        _ => false,
    }
}

/// Cuts at the first signature delimiter ("-- "), phone footer or Mailman footer.
fn without_signature(lines: Vec<&str>) -> (Vec<&str>, bool) {
    let start = lines.iter().position(|line| {
        let line = line.trim();
        line == "--" || (line.len() < 100 && matches(&DEVICE_FOOTER, line)) || (line.len() >= 30 && matches(&UNDERSCORES, line))
    });
    match start {
        Some(start) => (lines[..start].to_vec(), true),
        None => (lines, false),
    }
}

/// The subject without its leading run of reply and forward prefixes ("RE: Fw: AW: x" -> "x").
/// A "[list-tag]" stops the run and is kept: callers search the reference anywhere.
pub fn strip_subject_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim();
    while let Some(found) = SUBJECT_PREFIX.as_ref().and_then(|re| re.find(rest)) {
        rest = &rest[found.end()..];
    }
    rest
}
