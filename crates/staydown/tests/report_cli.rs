//! `staydown report` end to end (issue 7, DSA Art. 15 and 24(1)): JSON sections and CSV lines
//! carry the store's figures for the asked period, in the template's naming; bad dates are refused.

use std::process::{Command, Output};

use staydown_store::{Figure, Period, Store};
use time::macros::{date, datetime};

fn staydown(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_staydown")).args(args).output().expect("run staydown")
}

#[test]
fn report_writes_the_period_figures_as_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("staydown.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let march = Period::days(date!(2025 - 03 - 01), date!(2025 - 03 - 31));
    let expected = rt.block_on(async {
        let store = Store::connect(&db).await.unwrap();
        // 200 cases, one every 6 hours from 1 March: 31 days × 4 of them are received in March.
        store
            .bench_seed_decided_cases(200, datetime!(2025-03-01 0:00 UTC), time::Duration::hours(6 * 200))
            .await
            .unwrap();
        let report = store.transparency_report(march).await.unwrap();
        store.close().await;
        report
    });
    let notices = expected.table("notices").unwrap();
    let received = notices.figure(&["TOTAL"], "notices_received").and_then(Figure::count).unwrap();
    let median_h = notices.figure(&["TOTAL"], "median_time_to_action").and_then(Figure::millis).unwrap() / 3_600_000.0;
    assert!(received > 0);

    let out =
        staydown(&["report", "--database", &db, "--from", "2025-03-01", "--to", "2025-03-31", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["Reporting period"], "2025-03-01/2025-03-31");
    let total = &json["sections"]["notices"]["rows"][0];
    assert_eq!(total["category"], "TOTAL");
    assert_eq!(total["notices_received"], received);
    let got = total["median_time_to_action_hours"].as_f64().unwrap();
    assert!((got - median_h).abs() < 1.0 / 3600.0, "{got} vs {median_h}");
    for section in ["orders", "notices", "notices_by_source", "own_initiative", "complaints", "suspensions"] {
        assert!(json["sections"][section]["rows"].as_array().is_some_and(|r| !r.is_empty()), "{section}");
    }

    let file = dir.path().join("report.csv");
    let out = staydown(&[
        "report",
        "--database",
        &db,
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-31",
        "--format",
        "csv",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = std::fs::read_to_string(&file).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("Reporting period,Section,Scope,Category,Metric,Value,Unit"));
    let line = format!("2025-03-01/2025-03-31,notices,TOTAL,TOTAL,Number of notices received,{received},count");
    assert!(csv.lines().any(|l| l == line), "{line}\n{csv}");
    // Per category, TOTAL first, then the STATEMENT_CATEGORY_* rows.
    let categories: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(",notices,TOTAL,") && l.contains(",Number of notices received,"))
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(categories[0], "TOTAL");
    assert!(categories[1..].iter().all(|c| c.starts_with("STATEMENT_CATEGORY_")), "{categories:?}");

    let out = staydown(&["report", "--database", &db, "--from", "March", "--to", "2025-03-31"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from"));
    let out = staydown(&["report", "--database", &db, "--from", "2025-03-31", "--to", "2025-03-01"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--to"));
}

/// The columns that identify a row of an official sheet (everything but `Service`, `Reporting
/// period` and the value columns).
fn key_columns(header: &[String]) -> Vec<usize> {
    (0..header.len())
        .filter(|&i| {
            let h = header[i].as_str();
            ["Applicability", "Section", "Indicator", "Scope"].contains(&h)
                || h.starts_with("Category")
                || h.starts_with("Description of the sub-category")
        })
        .collect()
}

fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

#[test]
fn eu_templates_have_the_official_headers_and_row_keys_and_carry_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("staydown.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let march = Period::days(date!(2025 - 03 - 01), date!(2025 - 03 - 31));
    let expected = rt.block_on(async {
        let store = Store::connect(&db).await.unwrap();
        store
            .bench_seed_decided_cases(300, datetime!(2025-03-01 0:00 UTC), time::Duration::hours(6 * 300))
            .await
            .unwrap();
        let report = store.transparency_report(march).await.unwrap();
        store.close().await;
        report
    });
    let out_dir = dir.path().join("eu");
    let out = staydown(&[
        "report",
        "--database",
        &db,
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-31",
        "--format",
        "eu-templates",
        "--output",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let official = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ir-2024-2835");
    let mut sheets = 0;
    for entry in std::fs::read_dir(&official).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        sheets += 1;
        let name = path.file_name().unwrap();
        let (want_header, want_rows) = read_csv(&std::fs::read_to_string(&path).unwrap());
        let (header, rows) = read_csv(&std::fs::read_to_string(out_dir.join(name)).unwrap());
        assert_eq!(header, want_header, "{name:?}: header");
        assert_eq!(rows.len(), want_rows.len(), "{name:?}: rows");
        let keys = key_columns(&header);
        assert!(!keys.is_empty(), "{name:?}");
        for (i, (got, want)) in rows.iter().zip(&want_rows).enumerate() {
            for &k in &keys {
                assert_eq!(got[k], want[k], "{name:?} row {} column {}", i + 2, header[k]);
            }
            if let Some(p) = header.iter().position(|h| h == "Reporting period") {
                assert_eq!(got[p], "2025-03-01/2025-03-31", "{name:?} row {}", i + 2);
            }
        }
    }
    assert_eq!(sheets, 11, "the eleven sheets of Annex I");

    // The figures land in their cells: sheet 4 (notices), per category, and sheet 7 (complaints).
    let notices = expected.table("notices").unwrap();
    let (header, rows) = read_csv(
        &std::fs::read_to_string(
            out_dir.join("4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_4_notices.csv"),
        )
        .unwrap(),
    );
    let col = |name: &str| header.iter().position(|h| h.trim() == name).unwrap();
    let received = col("Number of notices received");
    let law = col("Number of actions taken on the basis of the law");
    let median = col("Median time to take action");
    for row in &notices.rows {
        let key = row.keys[0].as_str();
        let line = rows.iter().find(|r| r[3] == key).unwrap_or_else(|| panic!("{key} has no row in sheet 4"));
        let count = |c: &str| notices.figure(&[key], c).and_then(Figure::count).unwrap().to_string();
        assert_eq!(line[received], count("notices_received"), "{key}");
        assert_eq!(line[law], count("actions_law"), "{key}");
        let hours = notices.figure(&[key], "median_time_to_action").and_then(Figure::millis).unwrap() / 3_600_000.0;
        assert_eq!(line[median], format!("{hours:.4}"), "{key}");
    }
    assert!(notices.rows.len() > 1, "the seed has several categories");
    let (_, rows) = read_csv(
        &std::fs::read_to_string(
            out_dir.join("4_EN_Annex_I__Templates_for_Transparency_Reports_CSV_Part_7_appeals_and_recidivism.csv"),
        )
        .unwrap(),
    );
    let complaints = expected.table("complaints").unwrap();
    let total = complaints.figure(&["TOTAL"], "total").and_then(Figure::count).unwrap();
    assert!(total > 0);
    assert_eq!(rows[0][6], total.to_string());

    let out = staydown(&[
        "report",
        "--database",
        &db,
        "--from",
        "2025-03-01",
        "--to",
        "2025-03-31",
        "--format",
        "eu-templates",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output"));
}

#[test]
fn bench_report_resumes_a_stopped_generation_and_its_rollups_equal_the_sql_and_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let year = Period::days(date!(2025 - 01 - 01), date!(2025 - 12 - 31));
    // A run stopped after its first chunk of 300 of 2,000 cases.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = Store::connect(&db).await.unwrap();
        store.bench_seed_decided_chunk(1, 300, 2000, year.from, year.until - year.from).await.unwrap();
        store.close().await;
    });
    let out =
        staydown(&["bench", "report", "--decisions", "2000", "--chunk", "700", "--rebuild-rollups", "--database", &db]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "resuming after case 300",
        "cases       301..=1000",
        "cases      1701..=2000",
        "the report from the rebuilt rollups equals the one from the rollups the chunks kept",
        "rollups and row-scanning SQL agree on every figure",
        "SQL and the in-memory computation agree on every figure",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in\n{stdout}");
    }
}
