//! The periodic (annual) report for management: PROCEDURE.md step 10 and the officer's
//! tasks 5 and 6.
//!
//! [`build`] reads the register ([`load`]), computes the [`Figures`] (pure, [`figures`]) and
//! renders them three ways: one self-contained HTML file with SVG charts ([`html`],
//! [`charts`]), a CSV with one row per complaint for Excel ([`csv`]) and Markdown ([`md`]).
//! The HTML and Markdown show only figures; the CSV has the rows they are counted from, with
//! the same labels, so a pivot table in Excel gives the same numbers.
//!
//! Personal data: without `with_names` the complainant's name, address, phone and
//! organisation are not even read from the register.

pub mod charts;
pub mod csv;
pub mod figures;
mod format;
pub mod html;
mod labels;
pub mod load;
pub mod md;
mod period;

use std::sync::Arc;

use anyhow::Context;
use jiff::Timestamp;

use crate::app::Bot;
use crate::calendar::WorkingCalendar;
use crate::config::{Language, Settings};
pub use figures::Figures;
use figures::Scope;
pub use load::Register;
pub use period::{Period, PeriodError};

/// The report in every format.
#[derive(Debug, Clone)]
pub struct Report {
    /// One self-contained HTML file (inline CSS and SVG), for screen and A4 print.
    pub html: String,
    /// One row per complaint: UTF-8 with BOM, `;`, CRLF (see [`csv`]).
    pub csv: Vec<u8>,
    /// The figures as Markdown tables, for a mail body or a wiki.
    pub markdown: String,
    /// The numbers themselves.
    pub figures: Figures,
}

/// How the report is written: for whom and with what.
#[derive(Debug, Clone)]
pub struct Options {
    /// The organisation's language (labels, number format).
    pub language: Language,
    /// The organisation's name, in the heading.
    pub organisation: String,
    /// Whether complainants' names and addresses are shown (the records must have been
    /// loaded with them too).
    pub with_names: bool,
}

impl Options {
    /// The options of the organisation in `settings`.
    pub fn from_settings(settings: &Settings, with_names: bool) -> Options {
        Options {
            language: settings.organisation.language,
            organisation: settings.organisation.name.clone(),
            with_names,
        }
    }
}

/// Builds the report of `period` from the register, as it stands now (the bot's clock).
/// Names and addresses of complainants only `with_names`.
pub async fn build(bot: &Bot, period: Period, with_names: bool) -> anyhow::Result<Report> {
    let register = load::register(&bot.store, &period, with_names).await?;
    let options = Options::from_settings(&bot.settings, with_names);
    let calendar = Arc::clone(&bot.calendar);
    let as_of = bot.clock.now();
    // Up to a second of CPU for a large register: off the async workers, so the daemon's
    // watcher and sender keep running while a report is made for `#rapport`.
    tokio::task::spawn_blocking(move || render(&register, &period, &calendar, as_of, &options))
        .await
        .context("The report task failed")?
}

/// Renders the report of `register` (pure: everything it needs is an argument).
pub fn render(
    register: &Register,
    period: &Period,
    calendar: &WorkingCalendar,
    as_of: Timestamp,
    options: &Options,
) -> anyhow::Result<Report> {
    let scope = Scope {
        period,
        calendar,
        as_of,
    };
    let analysed = figures::analyse(&register.complaints, &scope);
    // The CSV (a row per complaint) on a second thread while the figures are summed up and
    // rendered: on two cores that hides most of it.
    let (figures, html, csv, markdown) = std::thread::scope(|s| {
        let csv = s.spawn(|| csv::write(&analysed, &scope, options));
        let figures = figures::summarise(
            &analysed,
            &register.recommendations,
            &register.measures,
            Some(&register.previous),
            &scope,
        );
        let html = html::render(&figures, options);
        let markdown = md::render(&figures, options);
        let csv = csv.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (figures, html, csv, markdown)
    });
    let (html, csv) = (html?, csv?);
    Ok(Report {
        html,
        csv,
        markdown,
        figures,
    })
}
