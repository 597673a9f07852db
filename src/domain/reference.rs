//! The complaint reference, `KL-2026-0042`: the identity a complainant and the officer see.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

/// A complaint reference: the prefix `KL`, the year of registration and a sequence number
/// that counts up per year and is never reused.
///
/// Displayed with at least four digits (`KL-2026-0042`); a year with more than 9,999
/// complaints simply gets longer numbers (`KL-2026-10000`), which still parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    year: i16,
    number: u32,
}

/// Why a string is not a reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a complaint reference (expected KL-YYYY-NNNN)")]
pub struct InvalidReference(pub String);

// Word boundaries on both sides so that `XKL-2026-0001` or `KL-2026-00012345678` inside a
// longer token do not match; case-insensitive because people retype references by hand.
static REFERENCE_IN_TEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bKL-(\d{4})-(\d{4,7})\b").expect("static regex is valid"));

impl Reference {
    /// Builds a reference from its parts; the year must have four digits and the number be
    /// at least 1.
    pub fn new(year: i16, number: u32) -> Result<Self, InvalidReference> {
        if !(1000..=9999).contains(&year) || number == 0 || number > 9_999_999 {
            return Err(InvalidReference(format!("KL-{year}-{number:04}")));
        }
        Ok(Self { year, number })
    }

    /// Parses exactly one reference (surrounding whitespace and `[ ]` allowed).
    pub fn parse(s: &str) -> Result<Self, InvalidReference> {
        let trimmed = s.trim().trim_start_matches('[').trim_end_matches(']');
        let caps = REFERENCE_IN_TEXT
            .captures(trimmed)
            .filter(|c| c.get(0).is_some_and(|m| m.as_str().len() == trimmed.len()))
            .ok_or_else(|| InvalidReference(s.to_string()))?;
        Self::from_captures(&caps).ok_or_else(|| InvalidReference(s.to_string()))
    }

    /// Every reference that appears anywhere in `text` (a subject, a body), in order, without
    /// duplicates.
    pub fn find_all(text: &str) -> Vec<Reference> {
        let mut found = Vec::new();
        for caps in REFERENCE_IN_TEXT.captures_iter(text) {
            if let Some(r) = Self::from_captures(&caps)
                && !found.contains(&r)
            {
                found.push(r);
            }
        }
        found
    }

    /// The first reference in `text`, if any.
    pub fn find(text: &str) -> Option<Reference> {
        REFERENCE_IN_TEXT
            .captures_iter(text)
            .find_map(|c| Self::from_captures(&c))
    }

    fn from_captures(caps: &regex::Captures<'_>) -> Option<Reference> {
        let year = caps.get(1)?.as_str().parse().ok()?;
        let number = caps.get(2)?.as_str().parse().ok()?;
        Self::new(year, number).ok()
    }

    /// The year the complaint was registered in.
    pub fn year(&self) -> i16 {
        self.year
    }

    /// The sequence number within the year.
    pub fn number(&self) -> u32 {
        self.number
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KL-{}-{:04}", self.year, self.number)
    }
}

impl FromStr for Reference {
    type Err = InvalidReference;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_with_four_digits_at_least() {
        assert_eq!(
            Reference::new(2026, 42).unwrap().to_string(),
            "KL-2026-0042"
        );
        assert_eq!(
            Reference::new(2026, 12345).unwrap().to_string(),
            "KL-2026-12345"
        );
    }

    #[test]
    fn is_found_anywhere_in_a_subject_whatever_the_prefixes() {
        let r = Reference::find("Antw: RE[2]: [KL-2026-0042] Ontvangstbevestiging: boek kapot");
        assert_eq!(r, Reference::new(2026, 42).ok());
        assert_eq!(
            Reference::find("aw: kl-2026-0007 vraag"),
            Reference::new(2026, 7).ok()
        );
    }

    #[test]
    fn is_not_found_inside_longer_tokens() {
        assert_eq!(Reference::find("XKL-2026-0042"), None);
        assert_eq!(Reference::find("KL-2026-004"), None);
        assert_eq!(Reference::find("KL-26-0042"), None);
        assert_eq!(Reference::find("KL-2026-0000"), None);
    }

    #[test]
    fn find_all_keeps_order_and_drops_duplicates() {
        let all = Reference::find_all("KL-2026-0002 en KL-2025-0100, weer KL-2026-0002");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].to_string(), "KL-2026-0002");
        assert_eq!(all[1].to_string(), "KL-2025-0100");
    }

    #[test]
    fn parse_rejects_surrounding_text() {
        assert!(Reference::parse("KL-2026-0042").is_ok());
        assert!(Reference::parse(" [KL-2026-0042] ").is_ok());
        assert!(Reference::parse("KL-2026-0042 x").is_err());
        assert!(Reference::parse("").is_err());
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(year in 1000i16..=9999, number in 1u32..=9_999_999) {
            let r = Reference::new(year, number).unwrap();
            prop_assert_eq!(Reference::parse(&r.to_string()).unwrap(), r);
            let subject = format!("Re: Fwd: [{r}] iets");
            prop_assert_eq!(Reference::find(&subject), Some(r));
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = Reference::parse(&s);
            let _ = Reference::find_all(&s);
        }
    }
}
