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
//!   `Structureel`, `Gehaald`), so counting the rows gives the report's numbers; an empty cell
//!   is "not set".
//! - **No formulas**: text from the register that starts with `=`, `+`, `-`, `@`, a tab or
//!   a carriage return gets a leading `'`, so Excel shows a complainant's subject instead of
//!   running it (CSV injection).
//! - Complainants' name, e-mail, phone and organisation only with names.

use super::Options;
use super::figures::{DeadlineKind, Milestone, Scope, facts};
use super::format::{csv_datetime, decimal};
use super::labels::{code, labels};
use crate::config::Language;
use crate::domain::Complaint;

/// The UTF-8 byte-order mark the file starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The CSV of `records` received in `scope.period` (others are skipped, as in the figures).
pub fn write(records: &[Complaint], scope: &Scope<'_>, options: &Options) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + records.len() * 320);
    out.extend_from_slice(BOM);
    let mut w = ::csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(::csv::Terminator::CRLF)
        .quote_style(::csv::QuoteStyle::Necessary)
        .from_writer(out);
    w.write_record(header(options))?;
    let mut row: Vec<String> = Vec::with_capacity(40);
    for c in records
        .iter()
        .filter(|c| scope.period.contains(c.received_at))
    {
        row.clear();
        fill_row(&mut row, c, scope, options);
        w.write_record(&row)?;
    }
    Ok(w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))?)
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

fn fill_row(row: &mut Vec<String>, c: &Complaint, scope: &Scope<'_>, options: &Options) {
    let lang = options.language;
    let tz = scope.period.time_zone();
    let word = |name: &str| label(lang, name);
    let f = facts::facts(c, scope.calendar, scope.as_of);
    let (year, month) = scope.period.month_of(c.received_at);
    row.push(c.reference.to_string());
    row.push(csv_datetime(c.received_at, tz));
    row.push(format!("{year:04}-{month:02}"));
    row.push(word(c.channel.as_str()));
    row.push(word(c.origin.as_str()));
    row.push(c.customer_type.map(|t| word(t.as_str())).unwrap_or_default());
    row.push(text(c.category.as_deref()));
    row.push(text(c.department.as_deref()));
    row.push(word(c.classification.as_str()));
    row.push(word(c.status.as_str()));
    row.push(c.outcome.map(|o| word(o.as_str())).unwrap_or_default());
    row.push(text(Some(&c.subject)));
    row.push(text(c.root_cause.as_deref()));
    row.push(c.rejections.to_string());
    row.push(c.reopenings.to_string());
    for m in Milestone::ALL {
        row.push(m.reached_at(c).map(|t| csv_datetime(t, tz)).unwrap_or_default());
    }
    for lead in f.leads {
        row.push(lead.map(|l| decimal(Language::Nl, l.calendar_days, 2)).unwrap_or_default());
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

    #[test]
    fn text_that_excel_would_run_as_a_formula_is_defused() {
        assert_eq!(text(Some("=HYPERLINK(\"x\")")), "'=HYPERLINK(\"x\")");
        assert_eq!(text(Some("-1 boek")), "'-1 boek");
        assert_eq!(text(Some("regel 1\r\nregel 2")), "regel 1  regel 2");
        assert_eq!(text(None), "");
    }
}
