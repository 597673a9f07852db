//! Addresses as the log shows them. With `[logging] redact_addresses = true` (the default)
//! a log line says `to=k***@example.test`: enough to tell mails apart and see the domain,
//! not enough to identify the person in a log that is kept and copied far longer than the
//! register.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use regex::Regex;

static REDACT: AtomicBool = AtomicBool::new(true);

/// Sets redaction for this process (from `[logging] redact_addresses`, at start-up).
pub fn set_enabled(on: bool) {
    REDACT.store(on, Ordering::Relaxed);
}

/// `address` for a log line: redacted unless redaction is off.
pub fn addr(address: impl AsRef<str>) -> String {
    let a = address.as_ref();
    if REDACT.load(Ordering::Relaxed) {
        mask(a)
    } else {
        a.to_string()
    }
}

/// Every address of a comma-separated list, for a log line.
pub fn list(addresses: &str) -> String {
    addresses
        .split(',')
        .map(|a| addr(a.trim()))
        .collect::<Vec<_>>()
        .join(",")
}

/// A log text (an outcome, an SMTP error) with every address in it redacted.
pub fn text(s: impl AsRef<str>) -> String {
    let s = s.as_ref();
    if !REDACT.load(Ordering::Relaxed) {
        return s.to_string();
    }
    ADDRESS
        .replace_all(s, |c: &regex::Captures<'_>| mask(&c[0]))
        .into_owned()
}

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+").expect("valid regex")
});

/// `klaas@example.test` -> `k***@example.test`; text without `@` -> `***`.
pub fn mask(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first = local.chars().next().map(String::from).unwrap_or_default();
            format!("{first}***@{domain}")
        }
        None if address.is_empty() => String::new(),
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_keep_their_first_letter_and_domain_only() {
        assert_eq!(mask("klaas@example.test"), "k***@example.test");
        assert_eq!(mask("Ölaf@example.test"), "Ö***@example.test");
        assert_eq!(mask("@x.test"), "***@x.test");
        assert_eq!(mask("geen adres"), "***");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn every_address_in_a_log_text_is_redacted() {
        assert_eq!(
            text("550 5.1.1 <klaas@klant.test>: unknown; cc jan@x.nl"),
            "550 5.1.1 <k***@klant.test>: unknown; cc j***@x.nl"
        );
    }
}
