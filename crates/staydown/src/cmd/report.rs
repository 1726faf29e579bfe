//! `staydown report --from YYYY-MM-DD --to YYYY-MM-DD --format csv|json`: the transparency report
//! of a period (DSA Art. 15(1), Art. 24(1); the quantitative template of Implementing Regulation
//! (EU) 2024/2835).
//!
//! Every figure comes from `staydown_store::Store::transparency_report`, computed from the rollups
//! kept with every decision (the figures' definitions are in the store's `report.rs` docs); this
//! module only lays them out. `--format eu-templates` writes the Commission's official sheets
//! (`eu_templates.rs`); `--rebuild-rollups` recomputes the rollups from the rows first. JSON nests one
//! object per section with its rows; CSV has one row per figure, with the template's
//! `Reporting period` (`YYYY-MM-DD/YYYY-MM-DD`) and its category rows (`TOTAL`, then each
//! `STATEMENT_CATEGORY_*`). Durations are hours, as providers publish them.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use staydown_server::report_formats;
use staydown_store::{Period, Store};
use time::Date;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// First day of the period (UTC), YYYY-MM-DD.
    #[arg(long)]
    pub from: String,
    /// Last day of the period (UTC, inclusive), YYYY-MM-DD.
    #[arg(long)]
    pub to: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Database URL.
    #[arg(long, env = "STAYDOWN_DATABASE", default_value = "sqlite://data/staydown.db")]
    pub database: String,
    /// Write to this file instead of standard output (`eu-templates`: this folder, required).
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
    /// First recompute every rollup from the rows (after a restore, an upgrade, or a manual fix
    /// of the rows), in one transaction.
    #[arg(long)]
    pub rebuild_rollups: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One object per section, rows inside.
    Json,
    /// One line per figure.
    Csv,
    /// The eleven official CSV sheets of Implementing Regulation (EU) 2024/2835, into `--output`.
    EuTemplates,
}

fn day(flag: &str, value: &str) -> anyhow::Result<Date> {
    Date::parse(value, time::macros::format_description!("[year]-[month]-[day]"))
        .with_context(|| format!("{flag} `{value}`: expected a date, YYYY-MM-DD"))
}

/// Parses `--from`/`--to` into the report's period.
pub fn period(from: &str, to: &str) -> anyhow::Result<Period> {
    let (first, last) = (day("--from", from)?, day("--to", to)?);
    if last < first {
        bail!("--to {to} is before --from {from}");
    }
    Ok(Period::days(first, last))
}

pub async fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let period = period(&args.from, &args.to)?;
    if matches!(args.format, Format::EuTemplates) && args.output.is_none() {
        bail!("--format eu-templates writes eleven files: name their folder with --output");
    }
    let store = Store::connect_existing(&args.database).await.with_context(|| format!("opening {}", args.database))?;
    if args.rebuild_rollups {
        let rows = store.rebuild_rollups().await.context("rebuilding the rollups")?;
        eprintln!("rollups rebuilt from the rows: {rows} rollup rows");
    }
    let report = store.transparency_report(period).await.context("computing the report")?;
    store.close().await;
    let text = match args.format {
        Format::Json => format!("{:#}\n", report_formats::to_json(&report)),
        Format::Csv => report_formats::to_csv(&report),
        Format::EuTemplates => {
            let dir = args.output.as_deref().unwrap_or(std::path::Path::new("."));
            super::eu_templates::write_all(&report, dir)?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes()).context("writing the report")?,
    }
    Ok(ExitCode::SUCCESS)
}
