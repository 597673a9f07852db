//! The report as one self-contained HTML file: inline CSS, inline SVG charts, no scripts and
//! no external resources, so it can be mailed, archived and opened offline. Readable on
//! screen; printed on A4 each section starts on a new page.
//!
//! Every text from the register (categories, subjects, root causes, measures) is escaped.
//! Count cells carry the raw number in `data-n`, and breakdown rows their dimension and key
//! (`data-dim`, `data-key`), so tests can read the figures back without parsing prose.

mod closing;
mod handling;
mod sections;

use std::fmt::Write as _;

use super::Options;
use super::figures::{Bucket, BucketKey, Figures};
use super::format::{self, escape};
use super::labels::{Labels, code, fill, labels};
use crate::config::Language;

/// Renders the report page.
pub fn render(figures: &Figures, options: &Options) -> anyhow::Result<String> {
    let l = labels(options.language);
    let mut page = Page {
        out: String::with_capacity(256 * 1024),
        lang: options.language,
        l,
        with_names: options.with_names,
    };
    page.head(figures, options);
    sections::key_figures(&mut page, figures);
    sections::per_month(&mut page, figures)?;
    sections::sources(&mut page, figures)?;
    sections::subjects(&mut page, figures)?;
    sections::classification(&mut page, figures)?;
    handling::outcomes(&mut page, figures)?;
    handling::lead_times(&mut page, figures);
    handling::deadlines(&mut page, figures)?;
    handling::root_causes(&mut page, figures)?;
    closing::recommendations_and_measures(&mut page, figures);
    closing::comparison(&mut page, figures);
    page.out.push_str("</body>\n</html>\n");
    Ok(page.out)
}

/// The page being written.
pub(super) struct Page {
    pub out: String,
    pub lang: Language,
    pub l: &'static Labels,
    pub with_names: bool,
}

/// The report's title: "Jaarrapportage klachten 2026", or the dates of another period.
pub fn title(figures: &Figures, language: Language) -> String {
    let l = labels(language);
    let p = &figures.period;
    match p.calendar_year() {
        Some(year) => fill(l.title_year, &[("year", &year.to_string())]),
        None => fill(
            l.title_period,
            &[
                ("from", &format::date_long(language, p.from())),
                ("to", &format::date_long(language, p.to())),
            ],
        ),
    }
}

impl Page {
    fn head(&mut self, figures: &Figures, options: &Options) {
        let title = escape(&title(figures, self.lang));
        let tz = figures.period.time_zone();
        let made = fill(
            self.l.made,
            &[
                ("organisation", &options.organisation),
                (
                    "date",
                    &format::date_long(self.lang, format::local_date(figures.as_of, tz)),
                ),
            ],
        );
        let scope = fill(
            self.l.scope_note,
            &[
                ("from", &format::date_long(self.lang, figures.period.from())),
                ("to", &format::date_long(self.lang, figures.period.to())),
                (
                    "as_of",
                    &format::date_long(self.lang, format::local_date(figures.as_of, tz)),
                ),
            ],
        );
        let privacy = if self.with_names {
            self.l.with_names
        } else {
            self.l.without_names
        };
        let _ = write!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
             <header>\n<h1>{title}</h1>\n<p class=\"meta\">{made}</p>\n<p>{scope}</p>\n\
             <p class=\"privacy{names}\">{privacy}</p>\n</header>\n",
            lang = self.lang.code(),
            made = escape(&made),
            scope = escape(&scope),
            names = if self.with_names { " names" } else { "" },
            privacy = escape(privacy),
        );
    }

    /// Opens a section with its heading (`id` for links and tests).
    pub fn section(&mut self, id: &str, heading: &str) {
        let _ = write!(
            self.out,
            "<section id=\"{id}\">\n<h2>{}</h2>\n",
            escape(heading)
        );
    }

    /// Closes a section.
    pub fn end_section(&mut self) {
        self.out.push_str("</section>\n");
    }

    /// A paragraph of explanation (escaped).
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.out, "<p class=\"note\">{}</p>", escape(text));
    }

    /// A chart (already SVG), described by `caption` for screen readers (the heading above
    /// it says what it is).
    pub fn chart(&mut self, svg: &str, caption: &str) {
        let _ = write!(
            self.out,
            "<figure role=\"img\" aria-label=\"{}\">\n{svg}</figure>\n",
            escape(caption)
        );
    }

    /// A count cell: formatted for reading, raw in `data-n`.
    pub fn num_cell(&mut self, n: usize) {
        let _ = write!(
            self.out,
            "<td class=\"num\" data-n=\"{n}\">{}</td>",
            format::int(self.lang, n)
        );
    }

    /// The label of a breakdown line, not escaped.
    pub fn bucket_label(&self, key: &BucketKey) -> String {
        match key {
            BucketKey::Code(name) => code(self.lang, name).unwrap_or(name).to_string(),
            BucketKey::Text(text) => text.clone(),
            BucketKey::NotSet => self.l.not_set.to_string(),
        }
    }

    /// A breakdown of complaints as a table: label, count, share of `total`, and a total
    /// line.
    pub fn breakdown(&mut self, dim: &str, heading: &str, buckets: &[Bucket], total: usize) {
        self.breakdown_of(dim, heading, buckets, total, self.l.complaints);
    }

    /// A breakdown of `what` (the total line's label).
    pub fn breakdown_of(
        &mut self,
        dim: &str,
        heading: &str,
        buckets: &[Bucket],
        total: usize,
        what: &str,
    ) {
        let l = self.l;
        let _ = write!(
            self.out,
            "<table class=\"breakdown\" data-dim=\"{dim}\">\n<thead><tr><th>{}</th>\
             <th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead>\n<tbody>\n",
            escape(heading),
            l.count,
            l.share
        );
        for b in buckets {
            let key = match &b.key {
                BucketKey::Code(c) => (*c).to_string(),
                BucketKey::Text(t) => t.clone(),
                BucketKey::NotSet => String::new(),
            };
            let _ = write!(
                self.out,
                "<tr data-dim=\"{dim}\" data-key=\"{}\"><td>{}</td>",
                escape(&key),
                escape(&self.bucket_label(&b.key))
            );
            self.num_cell(b.count);
            let share = self.share(b.count, total);
            let _ = writeln!(self.out, "<td class=\"num\">{share}</td></tr>");
        }
        let sum: usize = buckets.iter().map(|b| b.count).sum();
        let _ = write!(self.out, "</tbody>\n<tfoot><tr><td>{}</td>", escape(what));
        self.num_cell(sum);
        let share = self.share(sum, total);
        let _ = writeln!(
            self.out,
            "<td class=\"num\">{share}</td></tr></tfoot>\n</table>"
        );
    }

    /// `n` as a percentage of `total` ("–" when there is nothing to divide by).
    pub fn share(&self, n: usize, total: usize) -> String {
        if total == 0 {
            return "\u{2013}".into();
        }
        #[allow(clippy::cast_precision_loss)] // counts are far below 2^53
        let share = n as f64 / total as f64;
        format::percent(self.lang, share)
    }
}

const CSS: &str = r#"
:root { --blue: #2f6f9f; --ink: #1f2a33; --muted: #5b6770; --line: #d9dee3; --soft: #f1f4f7; }
* { box-sizing: border-box; }
html { background: #fff; }
body { font-family: "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", sans-serif;
  color: var(--ink); margin: 0 auto; max-width: 920px; padding: 28px 24px 48px;
  line-height: 1.45; font-size: 15px; }
header { border-bottom: 4px solid var(--blue); padding-bottom: 10px; margin-bottom: 8px; }
h1 { font-size: 30px; margin: 0 0 6px; color: var(--blue); }
h2 { font-size: 21px; border-bottom: 2px solid var(--blue); padding-bottom: 4px;
  margin: 36px 0 12px; }
h3 { font-size: 16px; margin: 22px 0 6px; }
p { margin: 6px 0; }
.meta, .note { color: var(--muted); font-size: 13px; }
.privacy { font-size: 13px; color: var(--muted); }
.privacy.names { color: #8a1c10; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 10px 0; }
.card { border: 1px solid var(--line); border-left: 5px solid var(--blue); border-radius: 4px;
  padding: 10px 14px; background: var(--soft); }
.card .value { font-size: 28px; font-weight: 600; color: var(--blue); line-height: 1.2; }
.card .label { font-size: 13px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 18px; font-size: 13.5px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { font-weight: 600; border-top: 2px solid var(--ink); border-bottom: none; }
td.refs { font-size: 12px; color: var(--muted); }
td.ref { white-space: nowrap; }
figure { margin: 10px 0 6px; break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
@page { size: A4; margin: 15mm 14mm 17mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  /* Each section on a new page; the deadlines share the lead times' page. */
  section + section:not(#deadlines) { break-before: page; }
  section > h2 { margin-top: 0; }
  tr, figure, .card, h3 { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  thead { display: table-header-group; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
@media (max-width: 640px) { .cards, .two { grid-template-columns: 1fr; } }
"#;
