//! The transparency report in the official templates of Implementing Regulation (EU) 2024/2835
//! (Annex I; DSA Art. 15(1), 24(1)): the Commission's eleven CSV sheets, same columns in the same
//! order and the same rows, with the reporting period and every figure staydown holds filled in.
//!
//! The sheets are embedded from `fixtures/ir-2024-2835/` (copies of the Commission's files, source
//! named there) and written back row for row; only the `Reporting period` column and value cells
//! are changed. Filled: orders (sheet 3, scope `TOTAL`, per category), notices (sheet 4, per
//! category), own-initiative measures on the basis of the law / the terms (sheets 5 and 6), internal
//! complaints and suspensions for manifestly unfounded notices (sheet 7), measures and notices
//! processed by solely automated means (sheet 8, totals) and the period's dates (sheet 1). Rows of
//! the template's sub-categories (`KEYWORD_…`), member-state scopes (`AT, […], SE`) and figures
//! staydown does not record (out-of-court disputes, accuracy, human resources, recipients,
//! qualitative text) are left empty for the provider. Durations are hours.

use std::path::Path;

use anyhow::Context;
use staydown_store::{Figure, Table, TransparencyReport};

macro_rules! sheet {
    ($part:literal) => {
        (
            concat!("4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_", $part, ".csv"),
            include_str!(concat!(
                "../../../../fixtures/ir-2024-2835/4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_",
                $part,
                ".csv"
            )),
        )
    };
}

/// The official sheets: file name and contents.
pub const SHEETS: [(&str, &str); 11] = [
    sheet!("1_summary"),
    sheet!("2_categories_names"),
    sheet!("3_member_states_orders"),
    sheet!("4_notices"),
    sheet!("5_own_initiative_illegal"),
    sheet!("6_own_initiative_TC"),
    sheet!("7_appeals_and_recidivism"),
    sheet!("8_automated_means"),
    sheet!("9_human_resources"),
    sheet!("10_AMAR"),
    sheet!("11_qualitative"),
];

/// Parses a sheet into its header and rows.
pub fn parse(text: &str) -> anyhow::Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header = reader.headers()?.iter().map(str::to_owned).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(record?.iter().map(str::to_owned).collect());
    }
    Ok((header, rows))
}

fn number(f: Option<Figure>) -> String {
    match f {
        Some(Figure::Count(n)) => n.to_string(),
        Some(Figure::Millis(Some(ms))) => format!("{:.4}", ms / 3_600_000.0),
        _ => String::new(),
    }
}

fn figure(table: Option<&Table>, keys: &[&str], column: &str) -> Option<Figure> {
    table?.figure(keys, column)
}

/// The value of one cell of a sheet's row, or `None` to leave the template's cell as it is.
fn fill(report: &TransparencyReport, part: &str, header: &[String], row: &[String], col: usize) -> Option<String> {
    let name = header[col].as_str();
    if name == "Reporting period" {
        return Some(report.period.label());
    }
    let category = header.iter().position(|h| h.starts_with("Category of ")).map(|i| row[i].as_str());
    let is_category = |c: &str| c == "TOTAL" || c.starts_with("STATEMENT_CATEGORY_");
    match part {
        "1_summary" if name == "Value" => {
            let last = (report.period.until - time::Duration::nanoseconds(1)).date();
            match row[2].as_str() {
                "Starting date of reporting period" => Some(report.period.from.date().to_string()),
                "Ending date of reporting period" => Some(last.to_string()),
                _ => Some(String::new()),
            }
        }
        "3_member_states_orders" => {
            let c = category.filter(|c| is_category(c))?;
            if row[5] != "TOTAL" || col < 6 {
                return None;
            }
            let t = report.table("orders");
            let key = ["TOTAL", "TOTAL", c];
            Some(match col {
                6 => number(figure(t, &key, "orders_received")),
                7 => number(figure(t, &key, "items")),
                8 => number(figure(t, &key, "median_time_to_confirm_receipt")),
                9 => number(figure(t, &key, "median_time_to_give_effect")),
                _ => return None,
            })
        }
        "4_notices" => {
            let c = category.filter(|c| is_category(c))?;
            let t = report.table("notices");
            let column = match col {
                5 => "notices_received",
                6 => "notices_received_tf",
                7 => "items",
                8 => "items_tf",
                9 => "median_time_to_action",
                10 => "median_time_to_action_tf",
                11 => "actions_law",
                12 => "actions_law_tf",
                13 => "actions_terms",
                14 => "actions_terms_tf",
                _ => return None,
            };
            Some(number(figure(t, &[c], column)))
        }
        "5_own_initiative_illegal" | "6_own_initiative_TC" => {
            let c = category.filter(|c| is_category(c))?;
            let basis = if part.starts_with('5') { "law" } else { "terms" };
            let t = report.table("own_initiative")?;
            // Measures, after automated detection, then the restriction types in the report's order.
            let column = match col {
                5 => "measures",
                6 => "after_automated_detection",
                7..=20 => t.columns.get(col - 7 + 4)?.key,
                _ => return None,
            };
            Some(number(t.figure(&[basis, c], column)))
        }
        "7_appeals_and_recidivism" if name == "Value" => {
            let complaints = report.table("complaints");
            let key = ["TOTAL"];
            match (row[4].as_str(), row[5].as_str()) {
                ("Number of complaints submitted to the internal-complaints mechanism", scope) => {
                    let column = match scope {
                        "Total number" => "total",
                        "Decisions upheld" => "upheld",
                        "Decisions partially reversed" => "partially_reversed",
                        "Decisions reversed" => "reversed",
                        "Median time" => "median_time",
                        _ => return None,
                    };
                    Some(number(figure(complaints, &key, column)))
                }
                (indicator, "Total number") if indicator.contains("manifestly unfounded notices") => {
                    Some(number(figure(report.table("suspensions"), &[], "suspensions_manifestly_unfounded_notices")))
                }
                _ => None,
            }
        }
        "8_automated_means" if name == "Value" => match (row[4].trim(), row[5].trim()) {
            ("Number of notices solely processed by automated means", "NAM Total") => {
                Some(number(figure(report.table("notices"), &["TOTAL"], "processed_solely_automated")))
            }
            ("Number of measures solely taken by automated means", "Own-initiative") => {
                Some(number(figure(report.table("own_initiative"), &["TOTAL", "TOTAL"], "solely_automated_decision")))
            }
            _ => None,
        },
        _ => None,
    }
}

/// One official sheet filled from `report`, as CSV text.
pub fn render(report: &TransparencyReport, file: &str, template: &str) -> anyhow::Result<String> {
    let part =
        file.trim_start_matches("4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_").trim_end_matches(".csv");
    let (header, rows) = parse(template).with_context(|| format!("reading the template {file}"))?;
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    out.write_record(&header)?;
    for row in &rows {
        let filled: Vec<String> = (0..row.len())
            .map(|col| fill(report, part, &header, row, col).unwrap_or_else(|| row[col].clone()))
            .collect();
        out.write_record(&filled)?;
    }
    String::from_utf8(out.into_inner()?).context("CSV is UTF-8")
}

/// Writes every sheet into `dir` (created if needed) under its official file name.
pub fn write_all(report: &TransparencyReport, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (file, template) in SHEETS {
        let path = dir.join(file);
        std::fs::write(&path, render(report, file, template)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
