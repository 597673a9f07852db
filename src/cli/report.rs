//! `klachtenbot report`: the periodic report for management.

use std::path::PathBuf;

use crate::config::Settings;

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

/// Runs `klachtenbot report`.
pub async fn run(_settings: Settings, _args: &ReportArgs) -> anyhow::Result<u8> {
    anyhow::bail!("the report is not available yet")
}
