//! Numbers, dates and escaping as the reader expects them: Dutch `1.234` and `3,5` for
//! `nl`, `1,234` and `3.5` for `en`; dates in the organisation's time zone.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::labels::labels;
use crate::config::Language;

/// A count with thousands separators.
pub fn int(language: Language, n: usize) -> String {
    let digits = n.to_string();
    let sep = match language {
        Language::Nl => '.',
        Language::En => ',',
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A decimal with `places` decimals and the language's decimal sign.
pub fn decimal(language: Language, x: f64, places: usize) -> String {
    let s = format!("{x:.places$}");
    match language {
        Language::Nl => s.replace('.', ","),
        Language::En => s,
    }
}

/// A share (0..=1) as a percentage with one decimal: `87,5%`.
pub fn percent(language: Language, share: f64) -> String {
    format!("{}%", decimal(language, share * 100.0, 1))
}

/// A change with its sign: `+3`, `−2` (a real minus sign), `0`.
pub fn signed(language: Language, diff: i64) -> String {
    let n = int(
        language,
        usize::try_from(diff.unsigned_abs()).unwrap_or(usize::MAX),
    );
    match diff {
        d if d > 0 => format!("+{n}"),
        d if d < 0 => format!("\u{2212}{n}"),
        _ => n,
    }
}

/// A date in words: `2 maart 2026`, `2 March 2026`.
pub fn date_long(language: Language, d: Date) -> String {
    let month = labels(language).months[month_index(d.month())];
    format!("{} {month} {}", d.day(), d.year())
}

/// A short date for tables: `2 mrt 2026`, `2 Mar 2026`.
pub fn date_short(language: Language, d: Date) -> String {
    let month = labels(language).months_short[month_index(d.month())];
    format!("{} {month} {}", d.day(), d.year())
}

/// The local date of an instant.
pub fn local_date(at: Timestamp, tz: &TimeZone) -> Date {
    tz.to_datetime(at).date()
}

/// `YYYY-MM-DD HH:MM` in local time, the form Excel recognises as a date and time.
pub fn csv_datetime(at: Timestamp, tz: &TimeZone) -> String {
    let dt = tz.to_datetime(at);
    let mut s = String::with_capacity(16);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02} {:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute()
    );
    s
}

/// A month name, 1-based month.
pub fn month_name(language: Language, month: i8) -> &'static str {
    labels(language).months[month_index(month)]
}

/// Short month name, 1-based month.
pub fn month_short(language: Language, month: i8) -> &'static str {
    labels(language).months_short[month_index(month)]
}

fn month_index(month: i8) -> usize {
    usize::try_from(month.clamp(1, 12) - 1).unwrap_or(0)
}

/// Text for HTML (element content and quoted attribute values).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Appends `text` escaped for HTML.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters have no business in a report (a NUL from a broken mail).
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(int(Language::Nl, 100_000), "100.000");
        assert_eq!(int(Language::En, 1_234_567), "1,234,567");
        assert_eq!(int(Language::Nl, 999), "999");
        assert_eq!(decimal(Language::Nl, 3.25, 1), "3,2");
        assert_eq!(decimal(Language::En, 3.5, 1), "3.5");
        assert_eq!(percent(Language::Nl, 0.875), "87,5%");
        assert_eq!(signed(Language::Nl, -1200), "\u{2212}1.200");
        assert_eq!(signed(Language::En, 3), "+3");
    }

    #[test]
    fn dates_are_local_and_in_words() {
        let tz = TimeZone::get("Europe/Amsterdam").unwrap();
        let t: Timestamp = "2026-03-01T23:30:00Z".parse().unwrap();
        assert_eq!(csv_datetime(t, &tz), "2026-03-02 00:30");
        let d = local_date(t, &tz);
        assert_eq!(date_long(Language::Nl, d), "2 maart 2026");
        assert_eq!(date_short(Language::En, d), "2 Mar 2026");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>\0"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;\u{FFFD}"
        );
    }
}
