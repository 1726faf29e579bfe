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
use serde_json::{Value, json};
use staydown_store::{Figure, Period, Store, Table, TransparencyReport};
use time::Date;
use time::format_description::well_known::Rfc3339;

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

/// Hours, rounded to the second.
fn hours(ms: f64) -> f64 {
    (ms / 1000.0).round() / 3600.0
}

fn figure_json(f: Figure) -> Value {
    match f {
        Figure::Count(n) => json!(n),
        Figure::Millis(ms) => ms.map_or(Value::Null, |ms| json!(hours(ms))),
    }
}

fn column_key(table: &Table, idx: usize) -> String {
    let key = table.columns[idx].key;
    if key.starts_with("median") { format!("{key}_hours") } else { key.to_owned() }
}

/// The report as JSON.
pub fn to_json(report: &TransparencyReport) -> Value {
    let mut sections = serde_json::Map::new();
    for table in &report.tables {
        let rows: Vec<Value> = table
            .rows
            .iter()
            .map(|row| {
                let mut obj = serde_json::Map::new();
                for (dim, key) in table.dims.iter().zip(&row.keys) {
                    obj.insert((*dim).to_owned(), json!(key));
                }
                for (i, f) in row.figures.iter().enumerate() {
                    obj.insert(column_key(table, i), figure_json(*f));
                }
                Value::Object(obj)
            })
            .collect();
        let columns: serde_json::Map<String, Value> =
            table.columns.iter().enumerate().map(|(i, c)| (column_key(table, i), json!(c.label))).collect();
        sections.insert(table.name.to_owned(), json!({"title": table.title, "columns": columns, "rows": rows}));
    }
    json!({
        "Reporting period": report.period.label(),
        "from": report.period.from.format(&Rfc3339).unwrap_or_default(),
        "until": report.period.until.format(&Rfc3339).unwrap_or_default(),
        "time_unit": "hours",
        "sections": sections,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// The report as CSV, one line per figure.
pub fn to_csv(report: &TransparencyReport) -> String {
    let mut out = String::from("Reporting period,Section,Scope,Category,Metric,Value,Unit\n");
    let label = report.period.label();
    for table in &report.tables {
        let category = table.dims.iter().position(|d| *d == "category");
        for row in &table.rows {
            let scope_parts: Vec<String> = table
                .dims
                .iter()
                .zip(&row.keys)
                .enumerate()
                .filter(|(i, _)| Some(*i) != category)
                .map(|(_, (dim, key))| format!("{dim}={key}"))
                .collect();
            let all_total = scope_parts.iter().all(|p| p.ends_with("=TOTAL"));
            let scope = if all_total { "TOTAL".to_owned() } else { scope_parts.join("; ") };
            let category = category.map_or("", |i| row.keys[i].as_str());
            for (column, figure) in table.columns.iter().zip(&row.figures) {
                let (value, unit) = match figure {
                    Figure::Count(n) => (n.to_string(), "count"),
                    Figure::Millis(ms) => (ms.map(|ms| format!("{:.4}", hours(ms))).unwrap_or_default(), "hours"),
                };
                let fields = [label.as_str(), table.name, &scope, category, column.label, &value, unit];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
        }
    }
    out
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
        Format::Json => format!("{:#}\n", to_json(&report)),
        Format::Csv => to_csv(&report),
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
