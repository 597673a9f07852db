//! The problem collector of validation and the duration parser: what `values` and `servers`
//! both need, so neither imports the other (validation flows raw -> values -> servers).

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Span;

use super::Problem;
use crate::domain::EmailAddress;

fn parse_span(s: &str) -> Result<Span, String> {
    let span: Span = s
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (e.g. \"90s\", \"3h\", \"7d\", \"2w\")"))?;
    if span.is_negative() || span.is_zero() {
        return Err(format!("'{s}' must be longer than zero"));
    }
    Ok(span)
}

/// Parses a plain elapsed duration such as "30s" or "5m" (days count as 24 hours here).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let span = parse_span(s.trim())?;
    let secs = span
        .total((
            jiff::Unit::Second,
            jiff::SpanRelativeTo::days_are_24_hours(),
        ))
        .map_err(|e| format!("'{s}': {e}"))?;
    Ok(Duration::from_secs_f64(secs))
}

/// Collects problems while validating.
pub(super) struct Check {
    base: PathBuf,
    problems: Vec<Problem>,
}

impl Check {
    pub(super) fn new(base: &Path) -> Self {
        Self {
            base: base.to_path_buf(),
            problems: Vec::new(),
        }
    }

    pub(super) fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    pub(super) fn problem(&mut self, key: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    /// Keeps `Ok` values; records `Err` as a problem under `key` and returns the fallback.
    pub(super) fn or<T>(&mut self, key: &str, r: Result<T, String>, fallback: T) -> T {
        r.unwrap_or_else(|m| {
            self.problem(key, m);
            fallback
        })
    }

    pub(super) fn address(&mut self, key: &str, s: &str) -> Option<EmailAddress> {
        EmailAddress::parse(s)
            .map_err(|e| self.problem(key, e.to_string()))
            .ok()
    }

    pub(super) fn path(&self, p: &str) -> PathBuf {
        self.base.join(p)
    }
}
