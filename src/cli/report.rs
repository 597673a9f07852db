//! `klachtenbot report`: the periodic report for management.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use jiff::civil::Date;

use super::exit;
use crate::app::Bot;
use crate::config::Settings;
use crate::report::Period;

/// sysexits(3) EX_USAGE: the period asked for is not a valid one.
const USAGE: u8 = 64;

/// Output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML file with SVG charts.
    Html,
    /// One row per complaint, for Excel.
    Csv,
    /// Markdown.
    Md,
}

/// Arguments of `klachtenbot report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// The calendar year (in the organisation's time zone).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub year: Option<i16>,
    /// First day of the period (YYYY-MM-DD), inclusive.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last day of the period (YYYY-MM-DD), inclusive.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "html")]
    pub format: ReportFormat,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Include complainants' names and addresses (personal data; off by default).
    #[arg(long)]
    pub with_names: bool,
}

/// Runs `klachtenbot report`: builds the report of the period and writes the chosen format
/// to `--out` or standard output. Without `--year` or `--from/--to`, the current calendar
/// year so far.
pub async fn run(settings: Settings, args: &ReportArgs) -> anyhow::Result<u8> {
    let bot = Bot::open(settings).await?;
    let period = match period(&bot, args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("klachtenbot report: {e:#}");
            bot.store.close().await;
            return Ok(USAGE);
        }
    };
    let report = crate::report::build(&bot, period.clone(), args.with_names).await?;
    let bytes: &[u8] = match args.format {
        ReportFormat::Html => report.html.as_bytes(),
        ReportFormat::Csv => &report.csv,
        ReportFormat::Md => report.markdown.as_bytes(),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, bytes)
                .with_context(|| format!("Failed to write {}", path.display()))?;
            eprintln!(
                "report {period}: {} complaints, written to {}",
                report.figures.total,
                path.display()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .context("Failed to write the report to standard output")?;
        }
    }
    bot.store.close().await;
    Ok(exit::OK)
}

/// The period the arguments ask for, in the organisation's time zone.
fn period(bot: &Bot, args: &ReportArgs) -> anyhow::Result<Period> {
    let tz = bot.settings.organisation.timezone.clone();
    let date = |s: &str| -> anyhow::Result<Date> {
        s.trim()
            .parse()
            .with_context(|| format!("'{s}' is not a date (expected YYYY-MM-DD)"))
    };
    let period = match (args.year, args.from.as_deref(), args.to.as_deref()) {
        (Some(year), _, _) => Period::year(year, tz)?,
        (None, Some(from), Some(to)) => Period::between(date(from)?, date(to)?, tz)?,
        _ => Period::year(bot.clock.now().to_zoned(tz.clone()).year(), tz)?,
    };
    Ok(period)
}
