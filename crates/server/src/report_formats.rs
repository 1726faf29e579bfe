//! The transparency report (DSA Art. 15, 24(1)) as files: JSON (sections with titles, columns and
//! rows; durations in hours) and CSV (one line per figure). Used by `staydown report` and by the
//! console's transparency page (`/staff/transparency`), so both give the same bytes.

use serde_json::{Value, json};
use staydown_store::{Figure, Table, TransparencyReport};
use time::format_description::well_known::Rfc3339;

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
