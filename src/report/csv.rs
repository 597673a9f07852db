//! The CSV: one row per complaint received in the period, made to open cleanly in Dutch
//! Excel by double-click.
//!
//! - **UTF-8 with a byte-order mark** (`EF BB BF`): Excel reads a CSV as UTF-8 only when it
//!   starts with one; without it "Café" shows as "CafÃ©".
//! - **`;` as separator**: Dutch Windows uses the comma as decimal sign, so its list
//!   separator, which Excel uses for CSV, is the semicolon.
//! - **CRLF line ends**, as RFC 4180 says; quotes only around fields that need them (a `;`,
//!   a quote or a line break), quotes inside doubled.
//! - **Dates as `YYYY-MM-DD HH:MM`** in the organisation's time zone: Excel recognises them as
//!   date and time whatever the regional settings.
//! - **Decimals with a comma** (`3,25` days), as Dutch Excel expects numbers; whole numbers
//!   plain.
//! - **Labels in the organisation's language**, the same as the HTML report (`E-mail`,
//!   `Structureel`, `Gehaald`), and hand-typed category, department and root cause in the
//!   spelling the report groups them under ("levering " and "Levering" are one category), so
//!   counting the rows (a pivot table) gives the report's numbers; an empty cell is "not set".
//! - **No formulas**: text from the register that starts with `=`, `+`, `-`, `@`, a tab or
//!   a carriage return gets a leading `'`, so Excel shows a complainant's subject instead of
//!   running it (CSV injection).
//! - Complainants' name, e-mail, phone and organisation only with names.

use super::Options;
use std::collections::HashMap;

use super::figures::stats::TextGroups;
use super::figures::{Analysed, DeadlineKind, Facts, Milestone, Scope};
use super::format::{csv_datetime, decimal};
use super::labels::{code, labels};
use crate::config::Language;
use crate::domain::Complaint;

/// The UTF-8 byte-order mark the file starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Below this many rows the CSV is written on one thread.
const PARALLEL_FROM: usize = 4096;

/// The CSV of the analysed records: the rows the figures were counted from. A large
/// register is written in slices on every core, joined in order.
pub fn write(
    analysed: &Analysed<'_>,
    scope: &Scope<'_>,
    options: &Options,
) -> anyhow::Result<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    write_on(analysed, scope, options, threads)
}

/// [`write`] on at most `threads` threads.
fn write_on(
    analysed: &Analysed<'_>,
    scope: &Scope<'_>,
    options: &Options,
    threads: usize,
) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + analysed.records.len() * 300);
    out.extend_from_slice(BOM);
    let mut head = writer(Vec::new());
    head.write_record(header(options))?;
    out.extend(into_bytes(head)?);
    let shown = Shown::of(&analysed.records);
    let rows = |records: &[&Complaint], facts: &[Facts]| -> anyhow::Result<Vec<u8>> {
        let mut w = writer(Vec::with_capacity(records.len() * 300));
        let mut row: Vec<String> = Vec::with_capacity(40);
        for (c, f) in records.iter().zip(facts) {
            row.clear();
            fill_row(&mut row, c, f, &shown, scope, options);
            w.write_record(&row)?;
        }
        into_bytes(w)
    };
    let n = analysed.records.len();
    if n < PARALLEL_FROM || threads < 2 {
        out.extend(rows(&analysed.records, &analysed.facts)?);
        return Ok(out);
    }
    let chunk = n.div_ceil(threads);
    let parts: Vec<anyhow::Result<Vec<u8>>> = std::thread::scope(|s| {
        let handles: Vec<_> = analysed
            .records
            .chunks(chunk)
            .zip(analysed.facts.chunks(chunk))
            .map(|(records, facts)| s.spawn(move || rows(records, facts)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

fn writer(into: Vec<u8>) -> ::csv::Writer<Vec<u8>> {
    ::csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(::csv::Terminator::CRLF)
        .quote_style(::csv::QuoteStyle::Necessary)
        .from_writer(into)
}

fn into_bytes(w: ::csv::Writer<Vec<u8>>) -> anyhow::Result<Vec<u8>> {
    w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))
}

fn header(options: &Options) -> Vec<&'static str> {
    let l = labels(options.language);
    let c = &l.csv;
    let mut h = vec![
        c.reference,
        c.received,
        c.month,
        l.channel,
        l.origin,
        l.customer_type,
        l.category,
        l.department,
        l.classification,
        l.status,
        l.outcome,
        c.subject,
        l.root_cause,
        c.rejections,
        c.reopenings,
    ];
    h.extend(c.at);
    h.extend(c.days_to);
    h.extend(c.working_days_to);
    h.extend(c.deadline);
    if options.with_names {
        h.extend([c.name, c.email, c.phone, c.organisation]);
    }
    h
}

/// Hand-typed text as the report groups it: raw text -> the spelling shown.
struct Shown {
    category: HashMap<String, String>,
    department: HashMap<String, String>,
    root_cause: HashMap<String, String>,
}

impl Shown {
    fn of(records: &[&Complaint]) -> Shown {
        let map = |value: fn(&Complaint) -> Option<&str>| {
            let mut groups = TextGroups::new();
            for c in records {
                groups.add(value(c).unwrap_or(""), ());
            }
            groups.shown_as()
        };
        Shown {
            category: map(|c| c.category.as_deref()),
            department: map(|c| c.department.as_deref()),
            root_cause: map(|c| c.root_cause.as_deref()),
        }
    }
}

/// The spelling `value` is shown in (nothing for empty text).
fn shown<'a>(map: &'a HashMap<String, String>, value: Option<&str>) -> Option<&'a str> {
    value.and_then(|v| map.get(v)).map(String::as_str)
}

fn fill_row(
    row: &mut Vec<String>,
    c: &Complaint,
    f: &Facts,
    groups: &Shown,
    scope: &Scope<'_>,
    options: &Options,
) {
    let lang = options.language;
    let tz = scope.period.time_zone();
    let word = |name: &str| label(lang, name);
    let (year, month) = scope.period.month_of(c.received_at);
    row.push(c.reference.to_string());
    row.push(csv_datetime(c.received_at, tz));
    row.push(format!("{year:04}-{month:02}"));
    row.push(word(c.channel.as_str()));
    row.push(word(c.origin.as_str()));
    row.push(
        c.customer_type
            .map(|t| word(t.as_str()))
            .unwrap_or_default(),
    );
    row.push(text(shown(&groups.category, c.category.as_deref())));
    row.push(text(shown(&groups.department, c.department.as_deref())));
    row.push(word(c.classification.as_str()));
    row.push(word(c.status.as_str()));
    row.push(c.outcome.map(|o| word(o.as_str())).unwrap_or_default());
    row.push(text(Some(&c.subject)));
    row.push(text(shown(&groups.root_cause, c.root_cause.as_deref())));
    row.push(c.rejections.to_string());
    row.push(c.reopenings.to_string());
    for m in Milestone::ALL {
        row.push(
            m.reached_at(c)
                .map(|t| csv_datetime(t, tz))
                .unwrap_or_default(),
        );
    }
    for lead in f.leads {
        row.push(
            lead.map(|l| decimal(Language::Nl, l.calendar_days, 2))
                .unwrap_or_default(),
        );
    }
    for lead in f.leads {
        row.push(lead.map(|l| l.working_days.to_string()).unwrap_or_default());
    }
    for (i, _) in DeadlineKind::ALL.iter().enumerate() {
        row.push(word(f.deadlines[i].as_str()));
    }
    if options.with_names {
        let p = &c.complainant;
        row.push(text(p.name.as_deref()));
        row.push(text(p.email.as_ref().map(AsRef::as_ref)));
        row.push(text(p.phone.as_deref()));
        row.push(text(p.organisation.as_deref()));
    }
}

fn label(language: Language, name: &str) -> String {
    code(language, name).unwrap_or(name).to_string()
}

/// Register text for a cell: one line, never read as a formula.
fn text(value: Option<&str>) -> String {
    let Some(v) = value else {
        return String::new();
    };
    let one_line: String = v
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{one_line}")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{HolidayRules, WorkingCalendar};
    use crate::config::Language;
    use crate::domain::{
        Channel, Classification, Complainant, Deadlines, Origin, Reference, Status,
    };
    use crate::report::Period;
    use crate::report::figures::analyse;
    use jiff::tz::TimeZone;
    use jiff::{SignedDuration, Timestamp};

    fn complaint(n: u32, received: Timestamp) -> Complaint {
        let day = SignedDuration::from_hours(24);
        Complaint {
            reference: Reference::new(2026, n).unwrap(),
            received_at: received,
            channel: Channel::Email,
            origin: Origin::External,
            customer_type: None,
            complainant: Complainant::default(),
            received_by: None,
            subject: format!("Klacht; nummer \"{n}\""),
            description: String::new(),
            category: Some(["Levering", "levering", "Factuur"][n as usize % 3].into()),
            department: None,
            assignee: None,
            concerned: None,
            classification: Classification::Incident,
            root_cause: None,
            advice: None,
            solution: None,
            verdict: None,
            status: Status::Acknowledged,
            outcome: None,
            deadlines: Deadlines {
                acknowledge_by: received + day * 7,
                explain_by: received + day * 14,
                solve_by: received + day * 42,
                acknowledged_at: Some(received + SignedDuration::from_mins(5)),
                explained_at: None,
                solved_at: None,
            },
            closed_at: None,
            rejections: 0,
            reopenings: 0,
        }
    }

    #[test]
    fn slices_written_on_several_threads_join_into_the_same_file() {
        let tz = TimeZone::get("Europe/Amsterdam").unwrap();
        let period = Period::year(2026, tz.clone()).unwrap();
        let calendar = WorkingCalendar::new(tz, HolidayRules::default());
        let start: Timestamp = "2026-01-01T08:00:00Z".parse().unwrap();
        let records: Vec<Complaint> = (1..=5000)
            .map(|n| complaint(n, start + SignedDuration::from_mins(97 * i64::from(n))))
            .collect();
        let scope = Scope {
            period: &period,
            calendar: &calendar,
            as_of: "2027-01-05T08:00:00Z".parse().unwrap(),
        };
        let options = Options {
            language: Language::Nl,
            organisation: "Concreet".into(),
            with_names: false,
        };
        let analysed = analyse(&records, &scope);
        let one = write_on(&analysed, &scope, &options, 1).unwrap();
        let three = write_on(&analysed, &scope, &options, 3).unwrap();
        assert!(one == three, "the same bytes whatever the threads");
        let text = std::str::from_utf8(&one[3..]).unwrap();
        assert_eq!(text.matches("\r\n").count(), 5001);
        assert!(text.contains(";\"Klacht; nummer \"\"4999\"\"\";"));
        // 1,667 "levering" and 1,666 "Levering": one group, in its most common spelling.
        assert_eq!(text.matches(";levering;").count(), 3333, "grouped spelling");
        assert_eq!(text.matches(";Levering;").count(), 0);
    }

    #[test]
    fn text_that_excel_would_run_as_a_formula_is_defused() {
        assert_eq!(text(Some("=HYPERLINK(\"x\")")), "'=HYPERLINK(\"x\")");
        assert_eq!(text(Some("-1 boek")), "'-1 boek");
        assert_eq!(text(Some("regel 1\r\nregel 2")), "regel 1  regel 2");
        assert_eq!(text(None), "");
    }
}
