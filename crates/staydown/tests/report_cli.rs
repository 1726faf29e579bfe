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
