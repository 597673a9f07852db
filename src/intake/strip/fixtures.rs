//! The reply-parsing fixtures of mail-parser-reply (`testdata/replies/`, MIT, see its
//! MANIFEST.tsv): reply chains from real clients in English, German, Dutch, Danish, Swedish,
//! Polish, Japanese and more. The fixtures come without expected texts, so each is checked
//! for what must never happen: the new text is empty while the body has text, or the new
//! text still holds a quote marker (a `>` line, an attribution, a quoted header block or a
//! separator). `cargo test --lib strip::fixtures -- --nocapture` prints the figures.

use regex::Regex;

use super::new_text;

/// Quote markers written independently of `markers` (a test that used the parser's own
/// patterns could not see what they miss): attributions, header lines and separators of
/// the clients in the fixtures, in their languages.
const INDEPENDENT_MARKERS: &str = r"(?ix)
    ^\s*>
  | (wrote|schrieb|schreef|skrev|kirjoitti|napisał|a\s+écrit|escribió|scrisse|написал)\s*:?\s*$
  | <[^>]*>\s*:?\s*$
  | ^\s*\*?(from|von|van|fra|från|de|od|lähettäjä|差出人)\*?\s*:.*@
  | ^\s*\*?(sent|gesendet|verzonden|sendt|skickat|envoyé|wysłano|lähetetty|送信日時)\*?\s*:
  | ^\s*-{2,}.*(original|oorspronkelijk|ursprüngliche|oprindelig|opprinnelig|ursprungligt|alkuperäinen|oryginalna|forwarded|videresendt).*-{2,}
";

/// Why a fixture's new text is wrong, if it is.
fn problem(body: &str) -> Option<String> {
    let text = new_text(body).text;
    if text.trim().is_empty() {
        return (!body.trim().is_empty()).then(|| "nothing kept".to_string());
    }
    let markers = Regex::new(INDEPENDENT_MARKERS).expect("the test's pattern compiles");
    text.lines()
        .find(|line| markers.is_match(line))
        .map(|line| format!("quote marker kept: {line:?}"))
}

#[test]
fn the_public_reply_fixtures_keep_new_text_and_no_quote_markers() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/replies");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("testdata/replies")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    assert!(names.len() >= 45, "{names:?}");
    let mut wrong = Vec::new();
    for name in &names {
        let body = std::fs::read(dir.join(name)).expect("read a fixture");
        if let Some(p) = problem(&String::from_utf8_lossy(&body)) {
            println!("WRONG {name}: {p}");
            wrong.push(name.clone());
        }
    }
    println!(
        "reply fixtures: {} files, {} right",
        names.len(),
        names.len() - wrong.len()
    );
    assert!(wrong.len() <= KNOWN_WRONG, "{wrong:?}");
}

/// Fixtures still judged wrong, so the count can only go down: multiline_on.txt starts with
/// an attribution and has no new text above it, so the text below it is kept (see
/// `Stripped::quote_kept`).
const KNOWN_WRONG: usize = 1;
