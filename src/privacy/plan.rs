//! The pure core of retention and erasure: which complaints are due, what an anonymised
//! complaint keeps, and how a text loses the person's name, address and phone number. No
//! database, no clock: everything is an argument, so every rule is a unit test.

use std::sync::LazyLock;

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use regex::Regex;

use crate::domain::{Complainant, Complaint, EmailAddress};

/// What replaces a removed text or address.
pub const PLACEHOLDER: &str = "[geanonimiseerd]";

/// Shorter needles are not scrubbed from texts: "Jo" would eat half of every sentence.
const MIN_NEEDLE: usize = 3;

/// A retention term as the organisation published it: calendar units ("2y", "18mo") count
/// in the organisation's calendar, elapsed units ("36h", "1s") as time.
#[derive(Debug, Clone, Copy)]
pub struct Term(Span);

impl Term {
    /// Parses "2y", "6mo", "90d", "1s" (jiff's friendly duration format) or ISO 8601
    /// ("P2Y"); zero and negative terms are refused.
    pub fn parse(s: &str) -> Result<Term, String> {
        let span: Span = s
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not a term (e.g. \"2y\", \"18mo\", \"90d\")"))?;
        if span.is_negative() || span.is_zero() {
            return Err(format!("'{s}' must be longer than zero"));
        }
        Ok(Term(span))
    }

    /// The span itself.
    pub fn span(&self) -> Span {
        self.0
    }

    /// The latest closing moment that is due at `now`: `now` minus the term, counted in
    /// the organisation's calendar (so "1y" from 29 February is 28 February).
    pub fn cutoff(&self, now: Timestamp, tz: &TimeZone) -> Timestamp {
        now.to_zoned(tz.clone())
            .checked_sub(self.0)
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

/// A complaint as the sweep sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Row id.
    pub id: i64,
    /// When it was closed; `None` while open.
    pub closed_at: Option<Timestamp>,
    /// Whether it was anonymised before.
    pub anonymised: bool,
}

/// The complaints to anonymise: closed at or before `cutoff` and not anonymised yet. Open
/// complaints are never due, however old.
pub fn due(candidates: &[Candidate], cutoff: Timestamp) -> Vec<i64> {
    candidates
        .iter()
        .filter(|c| !c.anonymised && c.closed_at.is_some_and(|t| t <= cutoff))
        .map(|c| c.id)
        .collect()
}

/// The strings that identify a person, to be scrubbed from the texts that stay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needles(Vec<String>);

impl Needles {
    /// The complainant's name, address, phone and organisation and the concerned person's
    /// address.
    pub fn of(c: &Complainant, concerned: Option<&EmailAddress>) -> Needles {
        let mut n = Needles::default();
        for s in [&c.name, &c.phone, &c.organisation].into_iter().flatten() {
            n.add(s);
        }
        for a in [c.email.as_ref(), concerned].into_iter().flatten() {
            n.add(a.as_ref());
        }
        n
    }

    /// Adds one string (and, for a phone number, its digits alone).
    pub fn add(&mut self, s: &str) {
        let s = s.trim();
        if s.chars().count() < MIN_NEEDLE {
            return;
        }
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let looks_like_phone = digits.len() >= 6 && !s.chars().any(char::is_alphabetic);
        for v in [s.to_string(), digits] {
            if (v == s || looks_like_phone) && !self.0.contains(&v) && !v.is_empty() {
                self.0.push(v);
            }
        }
        // Longest first, so "Klaas Vaak" goes before "Klaas" would leave "Vaak".
        self.0.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// The strings, longest first.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// `text` with every needle (ASCII case ignored) and every e-mail address replaced by
    /// [`PLACEHOLDER`].
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for needle in &self.0 {
            out = replace_ignoring_ascii_case(&out, needle, PLACEHOLDER);
        }
        ADDRESS.replace_all(&out, PLACEHOLDER).into_owned()
    }
}

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+").expect("valid regex")
});

fn replace_ignoring_ascii_case(text: &str, needle: &str, with: &str) -> String {
    // ASCII lower-casing keeps every byte position, so positions found in the lowered copy
    // are positions (and char boundaries) in the original.
    let hay = text.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in hay.match_indices(&needle) {
        out.push_str(&text[last..at]);
        out.push_str(with);
        last = at + needle.len();
    }
    out.push_str(&text[last..]);
    out
}

/// The complaint without its personal data: complainant and concerned person gone, the
/// texts people wrote (description, advice, solution) replaced, subject and root cause
/// scrubbed of the person's strings. Everything the annual report counts stays: dates,
/// deadlines, channel, origin, customer type, category, department, classification,
/// status, outcome, verdict, counts, and the staff roles (who received, who handled).
pub fn anonymise(c: &Complaint, needles: &Needles) -> Complaint {
    let mut out = c.clone();
    out.complainant = Complainant::default();
    out.concerned = None;
    out.description = PLACEHOLDER.to_string();
    out.advice = None;
    out.solution = c.solution.as_ref().map(|_| PLACEHOLDER.to_string());
    out.subject = needles.scrub(&c.subject);
    out.root_cause = c.root_cause.as_deref().map(|r| needles.scrub(r));
    out
}

/// The actor of a timeline event after anonymisation: the bot and staff stay (they act in
/// their role), anyone else, or the person themself, becomes [`PLACEHOLDER`].
pub fn actor(actor: &str, is_staff: impl Fn(&EmailAddress) -> bool, needles: &Needles) -> String {
    let person = needles.iter().any(|n| n.eq_ignore_ascii_case(actor));
    match EmailAddress::parse(actor) {
        Ok(a) if !person && is_staff(&a) => actor.to_string(),
        Ok(_) => PLACEHOLDER.to_string(),
        Err(_) if person => PLACEHOLDER.to_string(),
        Err(_) => actor.to_string(),
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
