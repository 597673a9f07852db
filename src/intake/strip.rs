//! The new text of a reply: quotes, attribution lines and signatures removed.
//!
//! Works on the plain text body only, line by line, for the clients our customers and staff
//! use (Outlook, Gmail, Apple Mail, Thunderbird, webmail) in Dutch, English, German and French.
//! Top-posted, bottom-posted and interleaved (`>`-quoted) replies all come out as what the
//! author wrote. The markers themselves live in `markers`, shared with `forward`.

// An explicit path resolves the same whether this file is loaded as `intake/strip.rs` or
// through a `#[path]` attribute (which would look for `intake/markers.rs`).
#[path = "strip/markers.rs"]
pub(crate) mod markers;

pub use markers::strip_subject_prefixes;

use markers::{
    DATE_INSIDE, DEVICE_FOOTER, UNDERSCORES, attribution_span, header_block_end, is_blank,
    is_quoted, is_separator, joined, matches, next_filled, text_has_digit,
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

/// A quoted line at least this long, followed by an unquoted line and then a quoted
/// one again, was wrapped by the replying client (Outlook 11 rewraps `>` lines at 76 columns),
/// so the unquoted piece still belongs to the quote. Short quoted lines are real questions
/// answered inline.
const WRAPPED_QUOTE_MIN: usize = 60;

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
        // Separators usually sit right above a header block; its end is where the quoted
        // text begins.
        let block_below = || next_filled(lines, i + 1, 3).and_then(|h| header_block_end(lines, h));
        if is_separator(line) {
            let body = block_below().unwrap_or(i + 1);
            return Some(Cut { start: i, body });
        }
        if matches(&UNDERSCORES, line)
            && let Some(body) = block_below()
        {
            return Some(Cut { start: i, body });
        }
        if let Some(body) = header_block_end(lines, i) {
            cut_flattened_date(lines, i);
            return Some(Cut { start: i, body });
        }
        let (strict, span) = attribution_span(lines, i);
        if span > 0 {
            let quote_follows =
                next_filled(lines, i + span, 3).is_some_and(|n| is_quoted(lines[n]));
            if quote_follows {
                attribution[i..i + span].fill(true);
            } else if strict && text_has_digit(lines, i, span) {
                let body = i + span;
                return Some(Cut { start: i, body });
            }
            i += span;
            continue;
        }
        i += 1;
    }
    None
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
        if attribution.get(i).copied().unwrap_or(false)
            || is_quoted(line)
            || is_wrapped_tail(lines, i)
        {
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
            is_quoted(lines[a])
                && is_quoted(lines[b])
                && lines[a].chars().count() >= WRAPPED_QUOTE_MIN
        }
        _ => false,
    }
}

/// Cuts at the first signature delimiter ("-- "), phone footer or Mailman footer.
fn without_signature(lines: Vec<&str>) -> (Vec<&str>, bool) {
    let start = lines.iter().position(|line| {
        let line = line.trim();
        line == "--"
            || (line.len() < 100 && matches(&DEVICE_FOOTER, line))
            || (line.len() >= 30 && matches(&UNDERSCORES, line))
    });
    match start {
        Some(start) => (lines[..start].to_vec(), true),
        None => (lines, false),
    }
}

#[cfg(test)]
#[path = "strip/fixtures.rs"]
mod fixtures;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn text(body: &str) -> String {
        new_text(body).text
    }

    #[test]
    fn dutch_outlook_separator_and_header_block_end_the_new_text() {
        let body = "Graag een reactie.\n\n-----Oorspronkelijk bericht-----\nVan: Klantenservice [mailto:klantenservice@example.nl]\nVerzonden: maandag 2 maart 2026 10:00\nAan: Jan\nOnderwerp: KL-2026-0042\n\nOude tekst";
        let stripped = new_text(body);
        assert_eq!(stripped.text, "Graag een reactie.");
        assert!(stripped.quote_found && !stripped.quote_kept);
    }

    #[test]
    fn english_original_message_separators_end_the_new_text() {
        for separator in ["-----Original Message-----", "----- Original Message -----"] {
            let body = format!(
                "Thanks\n\n{separator}\nFrom: a@example.com\nSent: today\nTo: b\nSubject: x\n\nold"
            );
            assert_eq!(text(&body), "Thanks", "{separator}");
        }
    }

    #[test]
    fn outlook_header_block_without_separator_ends_the_new_text() {
        let body = "Hello\n\nFrom: Bob [mailto:bob@example.com]\nSent: March-09-12 4:22 PM\nTo: Dan\nSubject: Loop\n\nold";
        assert_eq!(text(body), "Hello");
        let dutch = "Hallo\nVan: Bob\nVerzonden: maandag\nAan: Dan\nOnderwerp: x\nold";
        assert_eq!(text(dutch), "Hallo");
    }

    #[test]
    fn outlook_header_block_after_underscores_ends_the_new_text() {
        let body = "Dank je.\n________________________________\nVan: Piet <piet@example.nl>\nVerzonden: 3 maart\nAan: Jan\nOnderwerp: x\n\nold";
        assert_eq!(text(body), "Dank je.");
    }

    #[test]
    fn wrapped_dutch_header_with_namens_is_quoted_too() {
        let body = "Nieuw\n\n> -----Oorspronkelijk bericht-----\n> Van: lijst \n> [mailto:lijst-bounces@example.org] Namens \n> Piet via lijst\n> Verzonden: woensdag\n> Onderwerp: x\n>\n> oud";
        assert_eq!(text(body), "Nieuw");
    }

    #[test]
    fn attribution_lines_in_four_languages_end_the_new_text() {
        for line in [
            "Op 06-02-2025 om 16:56 schreef Piet via lijst:",
            "On Mon, Apr 2, 2012 at 6:26 PM, Megan <m@example.com> wrote:",
            "Am 02.04.2012 um 14:20 schrieb Hans <h@example.de>:",
            "Hocuri schrieb am 17.03.2021 14:25 (GMT +01:00):",
            "Le 5 août 2020 à 10:46, holger <h@example.fr> a écrit\u{a0}:",
        ] {
            assert_eq!(
                text(&format!("Nieuw\n\n{line}\n> oud\n")),
                "Nieuw",
                "{line}"
            );
            assert_eq!(
                text(&format!("Nieuw\n{line}\noud, unquoted\n")),
                "Nieuw",
                "{line}"
            );
        }
    }

    #[test]
    fn gmail_attribution_wrapped_over_two_lines_is_removed() {
        let dutch = "Groet,\nTim\n\nOp di 19 nov 2024 om 17:28 schreef Marcus D. Leech <m@example.com\n>:\n\n> oud\n";
        assert_eq!(text(dutch), "Groet,\nTim");
        let english =
            "Hi\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan One <megan@example.com>\nwrote:\n\n> old";
        assert_eq!(text(english), "Hi");
    }

    #[test]
    fn quoted_apple_mail_attribution_is_removed_with_its_quote() {
        let body = "Hello\n> On 22 Aug 2015, at 19:21, Adam <a@example.com> wrote:\n>\n> Hi there!";
        assert_eq!(text(body), "Hello");
    }

    #[test]
    fn loose_attribution_counts_only_right_above_a_quote() {
        assert_eq!(text("Marc wrote:\n> old\n\nNew text"), "New text");
        assert_eq!(
            text("Zie hieronder wat ik schreef:\nDe doos was kapot."),
            "Zie hieronder wat ik schreef:\nDe doos was kapot."
        );
    }

    #[test]
    fn prose_that_starts_like_an_attribution_is_kept() {
        let body = "On Monday I wrote:\nthe parcel is late.";
        assert_eq!(text(body), body);
    }

    #[test]
    fn bottom_posted_reply_keeps_the_text_after_the_quote() {
        let body = "Op 06-02-2025 om 16:56 schreef Piet:\n> Werkt de wiki?\n>\nNee, nog steeds stuk.\n\n- Kees.\n";
        assert_eq!(text(body), "Nee, nog steeds stuk.\n\n- Kees.");
    }

    #[test]
    fn interleaved_reply_keeps_every_answer() {
        let body = "On 1 May 2026, Piet <p@example.nl> wrote:\n> Wanneer is het besteld?\nOp 3 mei.\n\n> Welk nummer?\n\nKL-2026-0042\n";
        assert_eq!(text(body), "Op 3 mei.\n\nKL-2026-0042");
    }

    #[test]
    fn wrapped_tail_of_a_long_quoted_line_stays_in_the_quote() {
        let long = format!("> {}", "x".repeat(70));
        let body = format!("{long}\nwrapped\n> more quote\n\nMy answer");
        assert_eq!(text(&body), "My answer");
        assert_eq!(
            text("> Besteld?\nJa.\n> Wanneer?\nGisteren."),
            "Ja.\nGisteren."
        );
    }

    #[test]
    fn signature_after_the_delimiter_is_removed() {
        let stripped = new_text("Hello\n\n-- \nJan Jansen\nTel. 010-1234567");
        assert_eq!(stripped.text, "Hello");
        assert!(stripped.signature_found);
    }

    #[test]
    fn phone_and_app_footers_are_removed() {
        for footer in [
            "Verzonden vanaf mijn iPhone",
            "Verstuurd vanaf mijn Samsung Galaxy",
            "Sent from my iPad",
            "Sent from my Android device",
            "Sent with Sparrow (http://www.sparrowmailapp.com/?sig)",
            "Get Outlook for iOS",
            "Outlook voor iOS downloaden",
        ] {
            let stripped = new_text(&format!("De levering is te laat.\n\n{footer}\n"));
            assert_eq!(stripped.text, "De levering is te laat.", "{footer}");
            assert!(stripped.signature_found, "{footer}");
        }
    }

    #[test]
    fn a_sentence_that_only_starts_like_a_phone_footer_is_kept() {
        let body = "Sent from my desk, which is easier than my phone.\nThe book arrived torn.";
        assert_eq!(text(body), body);
        let dutch = "Verzonden vanaf mijn werk, want thuis lukt het niet: de doos was kapot.";
        assert_eq!(text(dutch), dutch);
    }

    #[test]
    fn attributions_wrapped_over_three_lines_are_removed() {
        let apple =
            "Hi\n\nOn Dec 16, 2011, at 12:47 PM, John Doe\n<reply@example.com>\nwrote:\n\n> old";
        assert_eq!(text(apple), "Hi");
        let german = "Hallo\n\nAm So., 1. Jan. 2023 um 17:22 Uhr schrieb John Doe <\njohn@example.com>:\n\n> alt";
        assert_eq!(text(german), "Hallo");
    }

    #[test]
    fn nordic_and_polish_quote_headers_end_the_new_text() {
        let danish = "Tak\n\n-----Oprindelig meddelelse-----\nFra: Hanne <h@example.dk>\nSendt: 24. november 2025 10:00\nTil: Peter\nEmne: Pakke\n\ngammel";
        assert_eq!(text(danish), "Tak");
        let swedish = "Tack\n\nFrån: Anna <a@example.se>\nSkickat: den 3 mars 2026 10:00\nTill: Per\nÄmne: Paket\n\ngammal";
        assert_eq!(text(swedish), "Tack");
        let attribution = "Ja\n\nDen 24. nov. 2025 kl. 10.00 skrev Peter <p@example.dk>:\n> gammel";
        assert_eq!(text(attribution), "Ja");
        let polish = "Dzięki\n\nOd: Jan <jan@example.pl>\nWysłano: środa, 1 marca 2023 12:00\nDo: Anna\nTemat: Test\n\nstare";
        assert_eq!(text(polish), "Dzięki");
    }

    #[test]
    fn mailing_list_footer_is_removed() {
        let body =
            "Answer\n\n_______________________________________________\nUSRP-users mailing list\n";
        assert_eq!(text(body), "Answer");
    }

    #[test]
    fn nothing_above_an_unmarked_quote_keeps_the_text_below_its_header() {
        let body = "\n\nFrom: Marcus <m@example.com>\nSent: Sunday\nTo: Bert\nSubject: Re: x\n\nHis question?\n\nMy answer.";
        let stripped = new_text(body);
        assert_eq!(stripped.text, "His question?\n\nMy answer.");
        assert!(stripped.quote_kept && stripped.quote_found);
    }

    #[test]
    fn flattened_html_quote_header_is_cut_from_the_last_line() {
        let body = "YIPPEE\u{a0} Multi-line \u{a0} Gesendet:\u{a0} Dienstag\n Von:\u{a0} bob@example.de\n An:\u{a0} alice\n Betreff:\u{a0} x";
        assert_eq!(text(body), "YIPPEE\u{a0} Multi-line");
    }

    #[test]
    fn body_without_quote_keeps_its_inner_blank_lines_and_loses_outer_ones() {
        let stripped = new_text("\r\n\r\nBeste,\r\n\r\n\r\nDe doos was kapot.  \r\n\r\n");
        assert_eq!(stripped.text, "Beste,\n\n\nDe doos was kapot.");
        assert!(!stripped.quote_found && !stripped.signature_found);
    }

    /// Lines that mail clients write, to build bodies from.
    const LINES: [&str; 12] = [
        "",
        "Beste,",
        "De doos was kapot.",
        "> vraag",
        ">> oud",
        "-- ",
        "-----Oorspronkelijk bericht-----",
        "Van: Jan <jan@example.nl>",
        "Verzonden: maandag 2 maart 2026",
        "Onderwerp: KL-2026-0042",
        "Op 2 mrt. 2026 om 10:00 schreef Jan <jan@example.nl",
        ">:",
    ];

    proptest! {
        #[test]
        fn every_line_of_the_new_text_comes_from_the_body(
            picks in proptest::collection::vec(0..LINES.len(), 0..30),
            noise in "(?s).{0,200}",
        ) {
            let body = picks.iter().map(|&i| LINES[i]).collect::<Vec<_>>().join("\n") + &noise;
            let body_lines: Vec<&str> = body.lines().map(str::trim_end).collect();
            for line in new_text(&body).text.lines() {
                prop_assert!(body_lines.iter().any(|b| b.starts_with(line)), "{line:?}");
            }
        }

        #[test]
        fn unquoted_text_between_quotes_is_never_lost(
            picks in proptest::collection::vec(0..5_usize, 0..30),
        ) {
            let body = picks.iter().map(|&i| LINES[i]).collect::<Vec<_>>().join("\n");
            let written = picks.iter().any(|&i| i == 1 || i == 2);
            prop_assert_eq!(new_text(&body).text.is_empty(), !written, "{:?}", body);
        }
    }
}
